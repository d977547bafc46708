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
# executor_pid TASK_ID: the (host) pid of the executor running TASK_ID, from
# the agents' /state (a task's own $$ is no use: it may be in a pid namespace).
executor_pid() {
  local port
  for port in "${agent_ports[@]}"; do
    curl -fsS "http://127.0.0.1:$port/state" | jq -er --arg id "$1" \
      '.frameworks[].executors[] | select(any(.tasks[]; .task_id.value == $id)) | .pid' && return 0
  done
  return 1
}
# kill_task TASK_ID: SIGKILL the task's processes (the executor's children),
# as if the task crashed; its executor reports it failed.
kill_task() {
  local executor
  executor=$(executor_pid "$1") || fail "no executor runs $1"
  pkill -KILL -P "$executor" || fail "task $1 (executor $executor) has no process to kill"
}
# no_executors: no agent runs an executor any more.
no_executors() {
  local port
  for port in "${agent_ports[@]}"; do
    curl -fsS "http://127.0.0.1:$port/state" | jq -e '[.frameworks[].executors[]] | length == 0' >/dev/null || return 1
  done
}
