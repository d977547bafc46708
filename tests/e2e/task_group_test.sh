#!/usr/bin/env bash
# Task groups (LAUNCH_GROUP) on the default executor against real daemons:
# two tasks of one group run in one executor container, each in its own
# sandbox under the executor's (tasks/<id>/stdout), the agent reports the
# executor as DEFAULT, `agora logs` of each task prints that task's own
# stdout, and killing one task kills the whole group, after which the
# executor exits.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
: "${AGORA_TEST_SCHEDULER_BIN:?}" "${AGORA_CLI_BIN:?}"

start_master
start_agent a1 --resources="cpus:2;mem:1024"
wait_until 60 count_agents 1 || fail "the agent did not register"
agent_url="http://127.0.0.1:$agent_port"

mkfifo "$tmp/commands"
"$AGORA_TEST_SCHEDULER_BIN" --master="$master_addr" --num_tasks=2 --group --resources="cpus:0.1;mem:96" \
  --command='echo "member $AGORA_SANDBOX"; exec sleep 600' <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
scheduler_pid=$!
pids+=("$scheduler_pid")
exec 3>"$tmp/commands"  # Keeps the scheduler's stdin open.

# (jq -s: jq 1.6 -e exits 0 on empty input.)
state_of() { jq -s -r --arg id "$1" '[.[] | select(.event == "update" and .task_id == $id) | .state] | last // ""' "$tmp/events.jsonl"; }
both() { [[ $(state_of task-0) == "$1" && $(state_of task-1) == "$1" ]]; }
wait_until 60 both TASK_RUNNING || fail "the group did not run: $(cat "$tmp/events.jsonl")"

executors() { curl -fsS "$agent_url/state" | jq -c '[.frameworks[].executors[]]'; }
[[ $(executors | jq 'length') == 1 ]] || fail "the group is not one executor: $(executors)"
[[ $(executors | jq -r '.[0].type') == DEFAULT ]] || fail "the executor is not DEFAULT: $(executors)"
[[ $(executors | jq '.[0].tasks | length') == 2 ]] || fail "the executor does not run both tasks: $(executors)"
directory=$(executors | jq -r '.[0].directory')
for task in task-0 task-1; do
  has_output() { grep -q "member $directory/tasks/$1" "$directory/tasks/$1/stdout"; }
  wait_until 30 has_output "$task" || fail "$task's stdout is not in its own sandbox: $(ls -R "$directory")"
  # The agent's task sandbox is tasks/<id>/, so the CLI (and the web UI's
  # viewer, which reads the same /files/read) shows the task's own output.
  logs=$("$AGORA_CLI_BIN" --master="$master_addr" logs "$task") || fail "agora logs $task failed: $logs"
  [[ "$logs" == "member $directory/tasks/$task" ]] || fail "agora logs $task printed: $logs"
done

echo "kill task-1" >&3
wait_until 60 both TASK_KILLED || fail "killing one task did not kill the group: $(jq -c 'select(.event == "update")' "$tmp/events.jsonl")"
gone() { [[ $(executors | jq 'length') == 0 ]]; }
wait_until 60 gone || fail "the default executor did not exit: $(executors)"
echo "teardown" >&3
echo "a task group ran on the default executor and was killed as one"
