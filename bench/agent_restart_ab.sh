#!/usr/bin/env bash
# Two builds' agent restarts side by side (docs/benchmarks.md): whole runs of
# agent_restart_bench.sh, alternating between the builds so that both see
# the same machine, then the medians of every round per build.
#
#   bench/agent_restart_ab.sh BUILD_A BUILD_B [RUNS=4] [ROUNDS=6] [N=200]
#
# OUTAGE passes through. Each run's table is kept in $AB_DIR (default: a
# temporary directory, printed).
set -euo pipefail
a=${1:?usage: agent_restart_ab.sh BUILD_A BUILD_B [RUNS] [ROUNDS] [N]}
b=${2:?usage: agent_restart_ab.sh BUILD_A BUILD_B [RUNS] [ROUNDS] [N]}
runs=${3:-4}
rounds=${4:-6}
count=${5:-200}
bench=$(dirname "${BASH_SOURCE[0]}")/agent_restart_bench.sh
out=${AB_DIR:-$(mktemp -d /tmp/agora-restart-ab.XXXXXX)}
mkdir -p "$out"
echo "runs in $out" >&2
for run in $(seq 1 "$runs"); do
  for side in A B; do
    build=$a
    [[ $side == B ]] && build=$b
    bash "$bench" "$build" "$count" "$rounds" >"$out/$side.$run.out" 2>&1 || {
      tail -n 20 "$out/$side.$run.out" >&2
      exit 1
    }
  done
done

# Rounds are the table lines that start with a number.
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
printf '%-5s %-40s %7s %10s %9s %14s %6s %9s %15s\n' side build rounds listening adopted reregistered both under_100 containers_cpu
for side in A B; do
  build=$a
  [[ $side == B ]] && build=$b
  rows=$(cat "$out/$side".*.out | awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ {print $2, $3, $4, $5, ($3 > $4 ? $3 : $4)}')
  column() { awk -v c="$1" '{print $c}' <<<"$rows" | median; }
  under=$(awk '$5 < 100' <<<"$rows" | wc -l)
  printf '%-5s %-40s %7s %10s %9s %14s %6s %9s %15s\n' "$side" "$build" "$(wc -l <<<"$rows")" "$(column 1)" \
    "$(column 2)" "$(column 3)" "$(column 5)" "$under" "$(column 4)"
done
