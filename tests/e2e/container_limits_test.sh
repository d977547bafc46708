#!/usr/bin/env bash
# Container limits through a real agent (issue 7), with cgroups isolation:
#   - the limits written match the task's resources, /monitor/statistics
#     reports them;
#   - a task that kills only some of its processes' sessions still leaves
#     nothing behind when killed: no process, no cgroup;
#   - a task past its memory limit fails with
#     REASON_CONTAINER_LIMITATION_MEMORY and its resources are offered again;
#   - a fork bomb stops at pids.max, the agent stays healthy, and killing it
#     leaves nothing behind.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
require_cgroups cpu memory pids
: "${AGORA_TEST_SCHEDULER_BIN:?}"

pids_max=64
start_master
start_agent a1 --resources="cpus:2;mem:1024" --cgroups_pids_max=$pids_max
wait_until 60 count_agents 1 || fail "the agent did not register"
agent_url="http://127.0.0.1:$agent_port"

# run_scheduler NAME COMMAND [N] [RESOURCES]: a framework of N tasks (default
# cpus:0.1;mem:32 each); its events go to $tmp/NAME.jsonl, its commands
# through send NAME.
declare -A scheduler_fd=()
run_scheduler() {
  local name=$1 command=$2 count=${3:-1} resources=${4:-cpus:0.1;mem:32}
  mkfifo "$tmp/$name.fifo"
  "$AGORA_TEST_SCHEDULER_BIN" --master="$master_addr" --name="$name" --num_tasks="$count" \
    --resources="$resources" --command="$command" <"$tmp/$name.fifo" >"$tmp/$name.jsonl" 2>"$tmp/$name.log" &
  pids+=("$!")
  local fd
  exec {fd}>"$tmp/$name.fifo"
  scheduler_fd[$name]=$fd
}
send() { echo "$2" >&"${scheduler_fd[$1]}"; }
# seen NAME FILTER: some event of framework NAME matches (an empty file does not).
seen() { jq -s -e "any(.[]; $2)" "$tmp/$1.jsonl" >/dev/null; }
has_update() { seen "$1" ".event == \"update\" and .task_id == \"$2\" and .state == \"$3\""; }
executor_of() {  # executor pid and container of framework NAME's task-0
  curl -fsS "$agent_url/state" | jq -r --arg name "$1" \
    '.frameworks[] | select(.name == $name) | .executors[] | "\(.pid) \(.container)"'
}
nothing_left() {  # PID CONTAINER
  ! kill -0 "$1" 2>/dev/null && ! containers | grep -qx "$2"
}

# --- Limits, statistics, kill cleanup ---------------------------------------
run_scheduler sleeper "sleep 1000 & setsid sleep 1000 & sleep 1000"
wait_until 60 has_update sleeper task-0 TASK_RUNNING || fail "the sleeper did not start"
read -r pid container < <(executor_of sleeper)
[[ -n "$container" ]] || fail "no executor for the sleeper"
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  dir=/sys/fs/cgroup/$AGORA_CGROUPS_ROOT/$container
  [[ $(cat "$dir/memory.max") == $((64 << 20)) ]] || fail "memory.max is $(cat "$dir/memory.max")"
  [[ $(cat "$dir/cpu.weight") == 20 ]] || fail "cpu.weight is $(cat "$dir/cpu.weight")"
  [[ $(cat "$dir/pids.max") == "$pids_max" ]] || fail "pids.max is $(cat "$dir/pids.max")"
else
  # Task and command executor: cpus 0.1 + 0.1, mem 32 + 32 MB.
  limit=$(cat "/sys/fs/cgroup/memory/$AGORA_CGROUPS_ROOT/$container/memory.limit_in_bytes")
  [[ $limit == $((64 << 20)) ]] || fail "memory.limit_in_bytes is $limit"
  shares=$(cat "/sys/fs/cgroup/cpu/$AGORA_CGROUPS_ROOT/$container/cpu.shares")
  [[ $shares == 204 ]] || fail "cpu.shares is $shares"
  max=$(cat "/sys/fs/cgroup/pids/$AGORA_CGROUPS_ROOT/$container/pids.max")
  [[ $max == "$pids_max" ]] || fail "pids.max is $max"
fi
statistics_ready() {
  curl -fsS "$agent_url/monitor/statistics" | jq -e --arg c "$container" \
    ".[] | select(.container_id == \$c) | .statistics | select(.mem_limit_bytes == $((64 << 20)) and
     .pids_limit == $pids_max and .pids_current >= 4 and .cpus_limit > 0.19 and .timestamp > 0 and
     .cpus_user_time_secs >= 0 and .mem_total_bytes > 0)"
}
wait_until 30 statistics_ready || fail "/monitor/statistics: $(curl -fsS "$agent_url/monitor/statistics")"
send sleeper "kill task-0"
wait_until 60 has_update sleeper task-0 TASK_KILLED || fail "the sleeper was not killed"
wait_until 60 nothing_left "$pid" "$container" || fail "the sleeper left processes or cgroups: $(container_pids)"

# --- Out of memory --------------------------------------------------------------
run_scheduler hog "head -c 400m /dev/zero | tail"
oom_failed() {
  seen hog '.event == "update" and .task_id == "task-0" and .state == "TASK_FAILED" and
    .reason == "REASON_CONTAINER_LIMITATION_MEMORY" and (.message | test("Memory limit exceeded.*limit 64.0 MB"))'
}
wait_until 120 oom_failed || fail "no memory limitation: $(grep update "$tmp/hog.jsonl" || true)"
# Offered again: an offer of all the agent's memory after the failure
# (the sleeper is gone too).
offered_again() {
  sed -n '/REASON_CONTAINER_LIMITATION_MEMORY/,$p' "$tmp/hog.jsonl" | jq -s -e 'any(.[]; .event == "offer" and .mem == 1024)'
}
wait_until 60 offered_again || fail "the hog's resources were not offered again"
no_containers() { [[ -z "$(containers)" ]]; }
wait_until 60 no_containers || fail "the hog's cgroups remain: $(containers)"
curl -fsS "$agent_url/health" >/dev/null || fail "the agent is unhealthy after the OOM"

# --- Fork bomb ------------------------------------------------------------------
# Memory to spare, so that the pids limit is what stops it.
run_scheduler bomb '(bomb() { bomb | bomb & }; bomb); exec sleep 1000' 1 "cpus:0.1;mem:256"
wait_until 60 has_update bomb task-0 TASK_RUNNING || fail "the bomb did not start"
read -r pid container < <(executor_of bomb)
# The kernel refused a fork because of pids.max (its "max" event count,
# v1 or v2), or the agent's sample caught the container at the limit.
pids_refused() {
  local events
  for events in /sys/fs/cgroup/pids/"$AGORA_CGROUPS_ROOT/$container"/pids.events \
                /sys/fs/cgroup/"$AGORA_CGROUPS_ROOT/$container"/pids.events; do
    [[ -f "$events" ]] && awk '$1 == "max" && $2 > 0 { found = 1 } END { exit !found }' "$events" && return 0
  done
  return 1
}
at_limit() {
  pids_refused ||
    curl -fsS "$agent_url/monitor/statistics" | jq -e --arg c "$container" \
      ".[] | select(.container_id == \$c and .statistics.pids_current >= $pids_max)"
}
wait_until 60 at_limit || fail "the bomb did not reach pids.max: $(curl -fsS "$agent_url/monitor/statistics")"
curl -fsS "$agent_url/health" >/dev/null || fail "the agent is unhealthy under the fork bomb"
total_pids=$(container_pids | wc -l)
((total_pids <= pids_max)) || fail "$total_pids processes in the containers, pids.max is $pids_max"
send bomb "kill task-0"
ended() { seen bomb '.event == "update" and .task_id == "task-0" and (.state == "TASK_KILLED" or .state == "TASK_FAILED")'; }
wait_until 60 ended || fail "the bomb was not killed"
wait_until 60 nothing_left "$pid" "$container" || fail "the bomb left processes or cgroups: $(container_pids | wc -l) pids"
curl -fsS "$agent_url/health" >/dev/null || fail "the agent is unhealthy after the fork bomb"
echo "PASS: limits, statistics, kill cleanup, OOM, fork bomb"
