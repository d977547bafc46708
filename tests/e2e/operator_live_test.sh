#!/usr/bin/env bash
# The `agora` CLI against a cluster running real tasks (agora-master, one
# agora-agent, agora-test-scheduler with two tasks that write to stdout and
# stderr): frameworks, tasks (table and --json), logs (stdout, --stderr,
# --follow picking up new output and ending when the task ends), kill (the
# task ends TASK_KILLED), explain (role, share, filters, suppression), ids as
# prefixes, and the exit codes: 4 unknown or ambiguous id, 1 refused, 3
# master unreachable.
#
# The agent's --hostname does not resolve: `agora logs` must reach the agent
# at the http_address it reported (/state), not at its hostname.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

agora() { "${AGORA_CLI_BIN:?}" --master="$master_addr" "$@"; }
expect_exit() {  # expect_exit CODE CMD...
  local want=$1 got=0
  shift
  "$@" >"$tmp/out.txt" 2>&1 || got=$?
  [[ $got -eq $want ]] || fail "'$*' exited $got, expected $want: $(cat "$tmp/out.txt")"
}
# The events of the test scheduler (one JSON line each).
# (jq -e would judge only the last line; a line being written is skipped.)
event_seen() { { jq -c "select($1)" "$tmp/events.jsonl" 2>/dev/null || true; } | grep -q .; }
task_state() { event_seen ".event == \"update\" and .task_id == \"$1\" and .state == \"$2\""; }

start_master
start_agent agent1 --hostname=agora-e2e-agent.invalid --resources="cpus:2;mem:1024;disk:1024"
wait_until 60 count_agents 1 || fail "the agent did not register"

marker="agora-cli-e2e-$RANDOM$RANDOM"
# Each task: a marker line on stdout and on stderr, then a numbered line on
# stdout every 0.2 s until it is killed.
command="echo $marker-out; echo $marker-err >&2; i=0; while true; do i=\$((i+1)); echo tick-\$i; sleep 0.2; done"
mkfifo "$tmp/commands"
"${AGORA_TEST_SCHEDULER_BIN:?}" --master="$master_addr" --name=cli-e2e --role=dev --num_tasks=2 \
  --resources="cpus:0.2;mem:32" --command="$command" <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
pids+=($!)
exec 3>"$tmp/commands"  # The scheduler's stdin stays open: it stays subscribed.
both_running() { task_state task-0 TASK_RUNNING && task_state task-1 TASK_RUNNING; }
wait_until 90 both_running ||
  fail "the tasks did not start: $(cat "$tmp/events.jsonl")"
framework=$({ jq -r 'select(.event == "subscribed") | .framework_id' "$tmp/events.jsonl" 2>/dev/null || true; } | head -n 1)
[[ -n "$framework" ]] || fail "no framework id in the scheduler's events"
echo "framework $framework running task-0 and task-1"

# --- Listings -------------------------------------------------------------------
agora frameworks >"$tmp/frameworks.txt" || fail "agora frameworks"
grep -Eq "^$framework +cli-e2e +dev +active +2 " "$tmp/frameworks.txt" ||
  fail "agora frameworks does not show the framework: $(cat "$tmp/frameworks.txt")"
agora frameworks --json | jq -e --arg f "$framework" \
  'length == 1 and .[0].id == $f and .[0].name == "cli-e2e" and .[0].roles == ["dev"]' >/dev/null ||
  fail "agora frameworks --json: $(agora frameworks --json)"
agora tasks >"$tmp/tasks.txt" || fail "agora tasks"
for task in task-0 task-1; do
  grep -Eq "^$task +$task +TASK_RUNNING +$framework +agora-e2e-agent.invalid +0.2 +32$" "$tmp/tasks.txt" ||
    fail "agora tasks does not show $task running: $(cat "$tmp/tasks.txt")"
done
agora tasks --json | jq -e --arg f "$framework" \
  'length == 2 and all(.[]; .state == "TASK_RUNNING" and .framework_id == $f) and (map(.id) | sort) == ["task-0", "task-1"]' \
  >/dev/null || fail "agora tasks --json: $(agora tasks --json)"

# --- Logs through the agent's http_address ---------------------------------------
agora logs task-0 >"$tmp/stdout.txt" || fail "agora logs task-0: $(cat "$tmp/stdout.txt")"
grep -qx "$marker-out" "$tmp/stdout.txt" || fail "agora logs does not show the task's stdout: $(head "$tmp/stdout.txt")"
grep -q "$marker-err" "$tmp/stdout.txt" && fail "agora logs shows stderr in stdout"
agora logs task-0 --stderr >"$tmp/stderr.txt" || fail "agora logs --stderr"
grep -qx "$marker-err" "$tmp/stderr.txt" || fail "agora logs --stderr does not show the task's stderr"
# Prefixes: the task "task-1" of the framework given as a prefix.
agora logs task-1 --framework "${framework:0:12}" | grep -x "$marker-out" >/dev/null || fail "agora logs with a framework prefix"
expect_exit 4 agora logs task                       # Ambiguous: task-0 and task-1.
grep -q 'task-0' "$tmp/out.txt" && grep -q 'task-1' "$tmp/out.txt" || fail "the candidates are not listed"
expect_exit 4 agora logs no-such-task
expect_exit 4 agora logs task-0 --framework no-such-framework

# --follow: keeps printing new lines, and ends by itself once the task is killed.
timeout 120 "${AGORA_CLI_BIN}" --master="$master_addr" logs task-1 --follow >"$tmp/follow.txt" 2>"$tmp/follow.err" &
follow_pid=$!
pids+=("$follow_pid")
last_tick() { grep -o '^tick-[0-9]*$' "$tmp/follow.txt" | tail -n 1 | cut -d- -f2; }
wait_until 30 grep -q '^tick-' "$tmp/follow.txt" || fail "agora logs --follow printed no tick"
first=$(last_tick)
wait_until 30 grep -qx "tick-$((first + 5))" "$tmp/follow.txt" ||
  fail "agora logs --follow did not pick up new output (last: $(last_tick), first: $first)"
kill -0 "$follow_pid" 2>/dev/null || fail "agora logs --follow ended while the task runs"

# --- Kill -----------------------------------------------------------------------
agora kill task-1 >"$tmp/kill.txt" || fail "agora kill task-1: $(cat "$tmp/kill.txt")"
wait_until 60 task_state task-1 TASK_KILLED || fail "task-1 did not end TASK_KILLED: $(tail -n 5 "$tmp/events.jsonl")"
follow_rc=0
wait "$follow_pid" || follow_rc=$?
[[ $follow_rc -eq 0 ]] || fail "agora logs --follow exited $follow_rc after the task ended: $(cat "$tmp/follow.err")"
grep -qx "$marker-out" "$tmp/follow.txt" || fail "agora logs --follow did not print from the start"
task_state task-0 TASK_KILLED && fail "agora kill task-1 killed task-0 too"
agora tasks --all | grep -Eq "^task-1 +task-1 +TASK_KILLED " || fail "agora tasks --all: $(agora tasks --all)"
[[ $(agora tasks --json | jq length) -eq 1 ]] || fail "agora tasks --json still lists the killed task"
expect_exit 1 agora kill task-1                     # Already terminal: 409.
expect_exit 4 agora kill no-such-task
echo "logs (stdout, stderr, follow) and kill work on a live task"

# --- Per-framework metrics ------------------------------------------------------------
metrics_prefix="master/frameworks/cli-e2e/$framework"
curl -fsS "$master_url/metrics/snapshot" | jq -e --arg p "$metrics_prefix" '
  .[$p + "/subscribed"] == 1 and .[$p + "/tasks/active/task_running"] == 1 and
  .[$p + "/tasks/terminal/task_killed"] == 1 and .[$p + "/offers/sent"] >= 1 and .[$p + "/offers/accepted"] >= 1 and
  .[$p + "/calls/subscribe"] == 1 and .[$p + "/calls/accept"] >= 1 and .[$p + "/events/update"] >= 4' >/dev/null ||
  fail "per-framework metrics: $(curl -fsS "$master_url/metrics/snapshot" | jq -c --arg p "$metrics_prefix" 'with_entries(select(.key | startswith($p)))')"
curl -fsS "$master_url/metrics" >"$tmp/metrics.txt"  # (Not piped: grep -q would end curl with SIGPIPE.)
grep -q "^agora_master_frameworks_offers_sent_total{framework_id=\"$framework\",framework_name=\"cli-e2e\"} [1-9]" \
  "$tmp/metrics.txt" ||
  fail "no per-framework family in /metrics"
echo "per-framework metrics in /metrics/snapshot and /metrics"

# --- Explain ------------------------------------------------------------------------
agora explain "${framework:0:12}" >"$tmp/explain.txt" || fail "agora explain: $(cat "$tmp/explain.txt")"
grep -q "^Framework $framework (cli-e2e): connected, active" "$tmp/explain.txt" ||
  fail "agora explain header: $(cat "$tmp/explain.txt")"
grep -Eq '^dev +[0-9.]+ +[0-9-]+ +1 +no ' "$tmp/explain.txt" || fail "agora explain role row: $(cat "$tmp/explain.txt")"
agora explain "$framework" --json | jq -e \
  '.roles[0].role == "dev" and .roles[0].dominant_share > 0 and .roles[0].suppressed == false and (.roles[0].filters | type == "array")' \
  >/dev/null || fail "agora explain --json: $(agora explain "$framework" --json)"
echo suppress >&3
suppressed_is() { agora explain "$framework" --json | jq -e ".roles[0].suppressed == $1"; }
wait_until 30 suppressed_is true ||
  fail "explain does not show the suppression: $(agora explain "$framework" --json)"
agora explain "$framework" >"$tmp/explain.txt"
grep -Eq '^dev +[0-9.]+ +[0-9-]+ +1 +yes ' "$tmp/explain.txt" || fail "agora explain does not say suppressed: $(cat "$tmp/explain.txt")"
grep -q "^  - Role 'dev' is suppressed" "$tmp/explain.txt" || fail "no reason names the suppression: $(cat "$tmp/explain.txt")"
echo revive >&3
wait_until 30 suppressed_is false ||
  fail "explain still shows the framework suppressed after REVIVE"
expect_exit 4 agora explain no-such-framework
echo "explain shows role, share and suppression"

# --- /api/v1: GET_EXECUTORS, GET_OPERATIONS, DEACTIVATE_AGENT, REACTIVATE_AGENT ---------
api() { curl -sS -o "$tmp/api.txt" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$master_url/api/v1" -d "$1"; }
agent=$(curl -fsS "$master_url/state" | jq -r '.agents[0].id')
[[ $(api '{"type": "GET_EXECUTORS"}') == 200 ]] && jq -e '.type == "GET_EXECUTORS"' "$tmp/api.txt" >/dev/null ||
  fail "GET_EXECUTORS: $(cat "$tmp/api.txt")"
[[ $(api '{"type": "GET_OPERATIONS"}') == 200 ]] && jq -e '.get_operations' "$tmp/api.txt" >/dev/null ||
  fail "GET_OPERATIONS: $(cat "$tmp/api.txt")"
[[ $(api "{\"type\": \"DEACTIVATE_AGENT\", \"deactivate_agent\": {\"agent_id\": {\"value\": \"$agent\"}}}") == 200 ]] ||
  fail "DEACTIVATE_AGENT: $(cat "$tmp/api.txt")"
curl -fsS "$master_url/state" | jq -e '.agents[0].deactivated == true and .agents[0].active == false' >/dev/null ||
  fail "/state does not show the agent deactivated"
agora agents | grep -Eq "^$agent +[^ ]+ +no " ||
  fail "agora agents does not show the agent inactive: $(agora agents)"
task_state task-0 TASK_KILLED && fail "deactivating the agent killed its task"
[[ $(api "{\"type\": \"REACTIVATE_AGENT\", \"reactivate_agent\": {\"agent_id\": {\"value\": \"$agent\"}}}") == 200 ]] ||
  fail "REACTIVATE_AGENT: $(cat "$tmp/api.txt")"
curl -fsS "$master_url/state" | jq -e '.agents[0].deactivated == false and .agents[0].active == true' >/dev/null ||
  fail "/state does not show the agent active again"
[[ $(api '{"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": {"value": "no-such-agent"}}}') == 404 ]] ||
  fail "DEACTIVATE_AGENT of an unknown agent"
[[ $(api '{"type": "DEACTIVATE_AGENT"}') == 400 ]] || fail "DEACTIVATE_AGENT without a body"
[[ $(api '{"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": ') == 400 ]] || fail "truncated REACTIVATE_AGENT"
# The same through the CLI, with an id prefix.
agora deactivate "${agent:0:12}" | grep -q "Deactivated agent $agent" || fail "agora deactivate"
curl -fsS "$master_url/state" | jq -e '.agents[0].deactivated == true' >/dev/null ||
  fail "agora deactivate did not deactivate the agent"
agora deactivate "$agent" >/dev/null || fail "agora deactivate is not idempotent"
agora reactivate "$agent" | grep -q "Reactivated agent $agent" || fail "agora reactivate"
curl -fsS "$master_url/state" | jq -e '.agents[0].deactivated == false and .agents[0].active == true' >/dev/null ||
  fail "agora reactivate did not reactivate the agent"
expect_exit 4 agora deactivate no-such-agent
echo "GET_EXECUTORS, GET_OPERATIONS, DEACTIVATE_AGENT and REACTIVATE_AGENT answer (also as agora deactivate/reactivate)"

# --- The master unreachable: 3 --------------------------------------------------------
for args in frameworks tasks "logs task-0" "kill task-0" "explain $framework"; do
  # shellcheck disable=SC2086
  expect_exit 3 "${AGORA_CLI_BIN}" --master=127.0.0.1:1 $args
done
AGORA_MASTER=127.0.0.1:1 expect_exit 3 "${AGORA_CLI_BIN}" tasks
echo "PASS"
