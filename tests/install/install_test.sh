#!/usr/bin/env bash
# Installs the SDK into a temporary prefix and builds ./project, an outside
# framework that uses find_package(Agora) and Agora::sdk, then runs it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d /tmp/agora-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake=${AGORA_CMAKE:-cmake}

"$cmake" --install "${AGORA_BUILD_DIR:?}" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in include/agora/scheduler_driver.hpp include/agora/common/status.hpp include/agora/v1/agora.pb.h \
         lib/libagora_sdk.a lib/cmake/Agora/AgoraConfig.cmake; do
  [[ -e $tmp/prefix/$f ]] || { echo "FAIL: $f not installed"; cat "$tmp/install.log"; exit 1; }
done

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
"$cmake" -S "$here/project" -B "$tmp/build" -G "${AGORA_GENERATOR:-Ninja}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="${AGORA_CXX:-c++}" "${launcher[@]}" -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/configure.log" 2>&1 ||
  { echo "FAIL: configure"; cat "$tmp/configure.log"; exit 1; }
"$cmake" --build "$tmp/build" -j2 >"$tmp/build.log" 2>&1 || { echo "FAIL: build"; cat "$tmp/build.log"; exit 1; }
out=$("$tmp/build/hello-framework")
echo "$out"
grep -q '^task hello-1 on agent-1$' <<<"$out" || { echo "FAIL: unexpected output"; exit 1; }
grep -q '^driver: ' <<<"$out" || { echo "FAIL: no driver status"; exit 1; }
echo "find_package(Agora) and Agora::sdk work from an outside project"
