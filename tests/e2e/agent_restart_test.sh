#!/usr/bin/env bash
# Agent restarts never lose a task (issue 7): a real master and a real agent
# with cgroups isolation run 10 sleep tasks; the agent is killed with
# SIGKILL and started again, 10 times in a row. After each restart the
# executors are the same processes (same pids, still in their cgroups), the
# agent's /state is the same as before the kills, and the scheduler has
# seen TASK_RUNNING exactly once per task and nothing else. Then the
# framework is torn down: no process and no cgroup of the tasks remains.
#
# AGORA_E2E_CGROUP2=1 (e2e.AgentRestartCgroup2) runs the same against a
# cgroup2 mount that sits next to the v1 controllers (a hybrid host's
# /sys/fs/cgroup/unified), through --cgroups_hierarchy, with whichever of
# cpu, memory and pids that mount offers (often none: the v2 backend then
# places, adopts, kills and removes without limits).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
: "${AGORA_TEST_SCHEDULER_BIN:?}"

tasks=10
restarts=10
agent_flags=(--resources="cpus:4;mem:8192" --executor_reregistration_timeout=20secs)
cgroup2=
if [[ -n "${AGORA_E2E_CGROUP2:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || skip "needs root to create cgroups"
  [[ ! -f /sys/fs/cgroup/cgroup.controllers ]] || skip "/sys/fs/cgroup is a cgroup2 mount: e2e.AgentRestart runs on it"
  cgroup2=$(awk '/ - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
  [[ -n "$cgroup2" ]] || skip "no cgroup2 file system mounted (/proc/self/mountinfo)"
  isolation=namespaces/pid
  for pair in cpu:cgroups/cpu memory:cgroups/mem pids:cgroups/pids; do
    if grep -qw "${pair%%:*}" "$cgroup2/cgroup.controllers"; then isolation+=",${pair#*:}"; fi
  done
  echo "cgroup2 at $cgroup2 (controllers: $(cat "$cgroup2/cgroup.controllers")), --isolation=$isolation"
  agent_flags+=(--cgroups_hierarchy="$cgroup2" --isolation="$isolation")
else
  require_cgroups cpu memory pids
fi

# A restart is not a partition: an ASAN agent that waits for a CPU on a loaded
# machine can take seconds to come back, and the 3 s the other tests allow
# would make the master report its tasks TASK_LOST meanwhile.
agent_ping_timeout=5secs
start_master
start_agent a1 "${agent_flags[@]}"
wait_until 60 count_agents 1 || fail "the agent did not register"
agent_url="http://127.0.0.1:$agent_port"
if [[ -z "$cgroup2" ]]; then
  curl -fsS "$agent_url/flags" | jq -e '.flags.isolation | test("cgroups/mem")' >/dev/null ||
    fail "the agent does not run with cgroups isolation: $(curl -fsS "$agent_url/flags" | jq -c .flags.isolation)"
fi

mkfifo "$tmp/commands"
"$AGORA_TEST_SCHEDULER_BIN" --master="$master_addr" --num_tasks=$tasks --resources="cpus:0.1;mem:96" \
  --command="sleep 1000" <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
scheduler_pid=$!
pids+=("$scheduler_pid")
exec 3>"$tmp/commands"  # Keeps the scheduler's stdin open.

running_updates() { jq -r 'select(.event == "update" and .state == "TASK_RUNNING" and (.reconciliation | not)) | .task_id' "$tmp/events.jsonl"; }
all_running() { [[ $(running_updates | sort -u | wc -l) -eq $tasks ]]; }
wait_until 120 all_running || fail "the tasks did not all reach TASK_RUNNING"
metric() { curl -fsS "$agent_url/metrics/snapshot" | jq -e ".[\"$1\"]"; }
settled() {
  [[ $(metric slave/status_updates_pending) == 0 && $(metric slave/executors_running) == "$tasks" &&
     $(metric slave/registered) == 1 ]]
}
wait_until 60 settled || fail "the agent did not settle: $(curl -fsS "$agent_url/metrics/snapshot")"

# What must not change: executors (ids, containers, pids) and tasks (ids,
# states) as the agent reports them.
agent_view() {
  curl -fsS "$agent_url/state" | jq -S '[.frameworks[] | {id, executors: [.executors[] |
    {id, container, pid, tasks: [.tasks[] | {task_id, state}]}] | sort_by(.id)}] | sort_by(.id)'
}
agent_view >"$tmp/before.json"
jq -e "[.[].executors[].pid] | length == $tasks" "$tmp/before.json" >/dev/null || fail "expected $tasks executors"
executor_pids=$(jq -r '.[].executors[].pid' "$tmp/before.json")
containers_before=$(containers)
[[ $(wc -l <<<"$containers_before") -eq $tasks ]] || fail "expected $tasks containers, found: $containers_before"
for pid in $executor_pids; do
  container_pids | grep -qx "$pid" || fail "executor $pid is not in the agent's cgroups"
  if [[ -n "$cgroup2" ]]; then
    grep -qE "^0::/$AGORA_CGROUPS_ROOT/[^/]+/leaf\$" "/proc/$pid/cgroup" ||
      fail "executor $pid is not in a v2 container's leaf: $(cat "/proc/$pid/cgroup")"
  fi
done

# The executor socket's keeper holds it while the agent is away: executors
# wait in its queue instead of being refused (socket_keeper.hpp).
keeper=$(keeper_pids)
[[ $(wc -w <<<"$keeper") -eq 1 ]] || fail "expected one socket keeper, found: $keeper"
for round in $(seq 1 $restarts); do
  kill -9 "$agent_pid"
  wait "$agent_pid" 2>/dev/null || true
  for pid in $executor_pids; do kill -0 "$pid" || fail "round $round: executor $pid died with the agent"; done
  start_agent a1 "${agent_flags[@]}"
  wait_until 60 settled || fail "round $round: the agent did not recover: $(curl -fsS "$agent_url/metrics/snapshot")"
  agent_view >"$tmp/after.json"
  diff -u "$tmp/before.json" "$tmp/after.json" >&2 || fail "round $round: /state changed"
  [[ "$(containers)" == "$containers_before" ]] || fail "round $round: the containers changed"
  taken=$(grep -c "taken over from its keeper (keeper pid $keeper)" "$tmp/a1.log" || true)
  [[ $taken -eq $round ]] || fail "round $round: the agent took the executor socket from its keeper $taken times"
done

# Without its keeper (an operator stopped it): the next agent binds a new
# socket and starts a new keeper; the executors come back by retrying.
kill -TERM "$keeper"
keeper_gone() { [[ $(cat "/proc/$keeper/comm" 2>/dev/null) != agora-keeper ]]; }
wait_until 10 keeper_gone || fail "the socket keeper $keeper did not stop on SIGTERM"
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null || true
start_agent a1 "${agent_flags[@]}"
wait_until 60 settled || fail "without a keeper: the agent did not recover: $(curl -fsS "$agent_url/metrics/snapshot")"
agent_view >"$tmp/after.json"
diff -u "$tmp/before.json" "$tmp/after.json" >&2 || fail "without a keeper: /state changed"
new_keeper=$(keeper_pids | grep -vx "$keeper" || true)
[[ $(wc -w <<<"$new_keeper") -eq 1 && $(cat "/proc/$new_keeper/comm") == agora-keeper ]] ||
  fail "without a keeper: the agent did not start a new one (keepers: $(keeper_pids | tr '\n' ' '))"

# Seen by the scheduler: RUNNING once per task, nothing terminal.
[[ $(running_updates | wc -l) -eq $tasks ]] || fail "TASK_RUNNING reported $(running_updates | wc -l) times for $tasks tasks"
others=$(jq -r 'select(.event == "update" and (.reconciliation | not) and .state != "TASK_RUNNING" and .state != "TASK_STARTING") | .state' "$tmp/events.jsonl")
[[ -z "$others" ]] || fail "unexpected updates: $others"
master_running=$(curl -fsS "$master_url/state" | jq '[.frameworks[].tasks[] | select(.state == "TASK_RUNNING")] | length')
[[ $master_running -eq $tasks ]] || fail "the master sees $master_running running tasks"

# Teardown: every task is killed, nothing of them remains.
echo teardown >&3
no_executors() { [[ $(metric slave/executors_running) == 0 && $(metric slave/executors_terminating) == 0 ]]; }
wait_until 60 no_executors || fail "the executors did not end"
gone() {
  for pid in $executor_pids; do ! kill -0 "$pid" 2>/dev/null || return 1; done
  [[ -z "$(containers)" ]]
}
wait_until 60 gone || fail "processes or cgroups left: pids $(container_pids | tr '\n' ' ') cgroups $(containers | tr '\n' ' ')"
echo "PASS: $restarts agent restarts with $tasks tasks (and one without the socket keeper): same pids, RUNNING once each, nothing left after teardown"
