#!/usr/bin/env bash
# A scheduler that dies without tearing down (kill -9) is noticed at once:
# the master's ZeroMQ ROUTER reports the closed connection, the framework
# is disconnected, and with failover_timeout 0 (agora run's) it is removed
# and its task killed, so its resources go back to the cluster. With Mesos
# over HTTP the same happens when the scheduler's connection closes; before
# this the framework stayed "active" forever.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
agora="${AGORA_CLI_BIN:?}"

start_master
start_agent agent1 --resources="cpus:1;mem:256"
wait_until 60 count_agents 1 || fail "agent did not register"

"$agora" --master="$master_addr" run --name=orphan --resources='cpus:0.5;mem:32' -- sleep 600 \
  >"$tmp/run.log" 2>&1 &
run_pid=$!
pids+=("$run_pid")
wait_until 60 grep -q '^TASK_RUNNING' "$tmp/run.log" || fail "the task did not start"
framework=$(curl -fsS "$master_url/state" | jq -r '.frameworks[0].id')
[[ -n "$framework" && "$framework" != null ]] || fail "no framework in /state"

kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null || true
removed() { curl -fsS "$master_url/state" | jq -e --arg id "$framework" '(.frameworks | length) == 0 and any(.completed_frameworks[]; .id == $id)'; }
wait_until 30 removed || fail "the framework of the killed scheduler was not removed: $(curl -fsS "$master_url/state" | jq -c '.frameworks')"
killed() { curl -fsS "$master_url/state" | jq -e '.completed_frameworks[0].completed_tasks[0].state == "TASK_KILLED"'; }
wait_until 30 killed || fail "its task was not killed"
# The agent's task is gone too: a new run gets the whole cpu back.
"$agora" --master="$master_addr" run --name=after --resources='cpus:1;mem:32' -- true >"$tmp/after.log" 2>&1 ||
  fail "a task needing the freed cpu did not run: $(cat "$tmp/after.log")"
echo "a killed scheduler's framework was removed and its task killed"
