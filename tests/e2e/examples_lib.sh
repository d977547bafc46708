# Helpers for the example frameworks' e2e tests (source after lib.sh).
#   example NAME [FLAGS...]   runs agora-example-NAME against $master_addr
example_bin() { echo "${AGORA_BIN_DIR:?}/framework-sdk/examples/agora-example-$1"; }
example() {
  local name=$1
  shift
  "$(example_bin "$name")" --master="$master_addr" "$@"
}
# start_example NAME LOG [FLAGS...]: in the background, the binary itself
# (not a subshell), so that $example_pid can be signalled.
start_example() {
  local name=$1 log=$2
  shift 2
  "$(example_bin "$name")" --master="$master_addr" "$@" >"$log" 2>&1 &
  example_pid=$!
  pids+=("$example_pid")
}
# start_cluster N: a master and N agents (cpus:2;mem:512 each) on 127.0.0.1.
start_cluster() {
  start_master
  local i
  for i in $(seq 1 "$1"); do
    start_agent "agent$i" --hostname=127.0.0.1 \
      --resources="cpus:2;mem:512;ports:[$((31000 + i * 100))-$((31099 + i * 100))]" "${@:2}"
  done
  wait_until 60 count_agents "$1" || fail "agents did not register"
}
