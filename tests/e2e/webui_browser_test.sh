#!/usr/bin/env bash
# The web UI in a real browser (Debian's chromium, headless) against a live
# cluster: agora-master, one agora-agent and agora-test-scheduler running two
# tasks that print known lines to stdout and stderr and then a numbered line
# every 0.2 s; the operator kills one of them.
#
# Checks the master's serving of the UI (content types, no-cache, 404 for
# unknown files and for paths escaping the UI), its /agent/ID/ proxy, that
# the agent's /files/read answers as the UI's viewer expects (Mesos's
# offset=-1: the size and no data), that the overview page's counts of
# agents, frameworks and tasks by state are the live cluster's
# (/state-summary), and that the running task's stdout (and stderr) appears
# in the log viewer, followed as it grows. Saves screenshots of the overview
# and the viewer in $AGORA_BIN_DIR/e2e-artifacts/ (else the test's temp dir)
# and prints their paths.
#
#   AGORA_MASTER_BIN=... AGORA_AGENT_BIN=... AGORA_TEST_SCHEDULER_BIN=... webui_browser_test.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "FAIL: chromium is not installed (scripts/setup installs it)" >&2
  exit 1
fi

e2e_init

# chromium --headless ... URL, with its own profile, bounded in time.
run_browser() {
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$tmp/chromium-profile" --hide-scrollbars "$@" 2>>"$tmp/chromium.log"
}

# dump_dom URL: the page's DOM after its scripts ran (a few polls).
dump_dom() { run_browser --virtual-time-budget=15000 --dump-dom "$1"; }

# expect_in FILE PATTERN WHAT: grep -E or fail with the page's text.
expect_in() {
  grep -Eq "$2" "$1" || {
    sed -e 's/<[^>]*>/ /g' "$1" | tr -s ' \n' | head -c 3000 >&2
    fail "$3"
  }
}

start_master
start_agent agent1 --resources="cpus:2;mem:1024;disk:2048"
wait_until 60 count_agents 1 || fail "the agent did not register"
agent_id=$(agent_ids | head -n 1 | sed 's/"id":"\(.*\)"/\1/')

marker="agora-webui-e2e-$RANDOM-$RANDOM"
mkfifo "$tmp/commands"
"${AGORA_TEST_SCHEDULER_BIN:?}" --master="$master_addr" --name="webui-e2e" --num_tasks=2 --resources="cpus:0.2;mem:32" \
  --command="echo $marker; echo $marker-stderr >&2; i=0; while true; do i=\$((i+1)); echo tick-\$i; sleep 0.2; done" \
  <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
pids+=($!)
exec 3>"$tmp/commands"  # Keeps the scheduler's stdin open: it stays subscribed.
# (jq -e would judge only the last line; a line being written is skipped.)
task_state() {
  { jq -c "select(.event == \"update\" and .task_id == \"$1\" and .state == \"$2\")" "$tmp/events.jsonl" 2>/dev/null || true; } |
    grep -q .
}
both_running() { task_state task-0 TASK_RUNNING && task_state task-1 TASK_RUNNING; }
wait_until 90 both_running || fail "the tasks did not start"
framework_id=$(curl -fsS "$master_url/state" | jq -r '.frameworks[0].id')
# The operator kills task-1: the overview shows one running and one killed task.
curl -fsS -X POST -H 'Content-Type: application/json' "$master_url/api/v1" -d "{\"type\": \"KILL_TASK\",
  \"kill_task\": {\"framework_id\": {\"value\": \"$framework_id\"}, \"task_id\": {\"value\": \"task-1\"}}}" ||
  fail "KILL_TASK"
wait_until 60 task_state task-1 TASK_KILLED || fail "task-1 was not killed"
echo "task task-0 running, task-1 killed, on agent $agent_id"

# --- Serving the UI ---------------------------------------------------------
headers() { curl -sS -o /dev/null -D - "$@" | tr -d '\r'; }
status_of() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }

index=$(headers "$master_url/")
grep -qi '^HTTP/1.1 200' <<<"$index" || fail "GET / is not 200: $index"
grep -qi '^content-type: text/html' <<<"$index" || fail "GET / is not text/html: $index"
grep -qi '^cache-control: no-cache' <<<"$index" || fail "GET / has no Cache-Control: no-cache"
etag=$(grep -i '^etag:' <<<"$index" | cut -d' ' -f2)
[[ $(status_of -H "If-None-Match: $etag" "$master_url/") == 304 ]] || fail "a matching ETag is not 304"
headers "$master_url/js/app.js" | grep -i '^content-type: text/javascript' >/dev/null || fail "app.js is not JavaScript"
headers "$master_url/css/app.css" | grep -i '^content-type: text/css' >/dev/null || fail "app.css is not CSS"
[[ $(status_of "$master_url/no-such-file.js") == 404 ]] || fail "an unknown file is not 404"
for path in '/../../../../etc/passwd' '/js/../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/js/%2e%2e/index.html'; do
  [[ $(status_of --path-as-is "$master_url$path") == 404 ]] || fail "$path is not 404"
done
[[ $(status_of -X POST "$master_url/no-such-endpoint") == 404 ]] || fail "POST to an unknown path is not 404"
curl -fsS "$master_url/state" | grep "\"http_address\":\"127.0.0.1:$agent_port\"" >/dev/null ||
  fail "/state does not show the agent's http_address"

# --- The master's proxy to the agent ----------------------------------------
curl -fsS "$master_url/agent/$agent_id/state" | grep '"executors"' >/dev/null || fail "the proxied agent /state"
[[ $(status_of "$master_url/agent/$agent_id/no-such-endpoint") == 404 ]] || fail "a non-proxied endpoint is not 404"
[[ $(status_of "$master_url/agent/no-such-agent/state") == 404 ]] || fail "an unknown agent is not 404"
curl -fsS "$master_url/metrics/snapshot" | grep -E '"master/webui/agent_proxy_rejected":2(\.0)?[,}]' >/dev/null ||
  fail "the proxy's rejections are not counted"
curl -fsS "$master_url/health" >/dev/null || fail "master unhealthy after the UI requests"

# --- The agent's /files/read as the viewer uses it (Mesos's files API) --------------
sandbox=$(curl -fsS "$master_url/agent/$agent_id/state" |
  jq -r '.frameworks[].executors[] | select(.id == "task-0") | .directory')
[[ -n "$sandbox" && "$sandbox" != null ]] || fail "the agent's /state has no sandbox for task-0"
read_url="$master_url/agent/$agent_id/files/read?path=$sandbox/stdout"
size=$(curl -fsS "$read_url&offset=-1" | jq -e 'select(.data == "") | .offset') ||
  fail "offset=-1 is not {data: \"\", offset: SIZE}: $(curl -sS "$read_url&offset=-1")"
curl -fsS "$read_url" | jq -e --argjson size "$size" '.data == "" and .offset >= $size' >/dev/null ||
  fail "no offset is not the size either"
curl -fsS "$read_url&offset=0&length=$size" | jq -e --argjson size "$size" \
  '.offset == 0 and (.data | utf8bytelength) == $size and (.data | startswith("'"$marker"'\n"))' >/dev/null ||
  fail "offset=0&length=SIZE does not answer the file's first SIZE bytes"
past=$((size + 1000000))
curl -fsS "$read_url&offset=$past" | jq -e --argjson past "$past" '.data == "" and .offset == $past' >/dev/null ||
  fail "a read past the end is not empty"
[[ $(status_of "$master_url/agent/$agent_id/files/read?path=$sandbox/../../../../../../secret&offset=0") == 403 ]] ||
  fail "the proxied /files/read leaves the sandbox"

# --- The overview in the browser ----------------------------------------------
summary=$(curl -fsS "$master_url/state-summary")
dump_dom "$master_url/#/" >"$tmp/overview.html"
expect_in "$tmp/overview.html" "data-count=\"agents-active\">$(jq .agents_active <<<"$summary")<" \
  "the overview does not show the active agents of /state-summary"
expect_in "$tmp/overview.html" "data-count=\"frameworks-active\">$(jq .frameworks_active <<<"$summary")<" \
  "the overview does not show the frameworks of /state-summary"
[[ $(jq '.tasks.TASK_RUNNING' <<<"$summary") == 1 && $(jq '.tasks.TASK_KILLED' <<<"$summary") == 1 ]] ||
  fail "/state-summary does not count 1 running and 1 killed task: $summary"
for state in $(jq -r '.tasks | to_entries[] | select(.value > 0) | .key' <<<"$summary"); do
  expect_in "$tmp/overview.html" "data-count=\"tasks-$state\">$(jq ".tasks.$state" <<<"$summary")<" \
    "the overview's $state count is not /state-summary's"
done
expect_in "$tmp/overview.html" "data-count=\"tasks-total\">$(jq '[.tasks[]] | add' <<<"$summary")<" \
  "the overview's total of tasks is not /state-summary's"
expect_in "$tmp/overview.html" 'data-count="tasks-TASK_RUNNING">1<' "the overview does not show 1 running task"
expect_in "$tmp/overview.html" 'data-count="tasks-TASK_KILLED">1<' "the overview does not show 1 killed task"
expect_in "$tmp/overview.html" 'Live · updated' "the status light does not say the UI is live"
echo "overview: 1 agent, 1 framework, 1 running and 1 killed task, as /state-summary"

for page in agents frameworks tasks roles; do
  dump_dom "$master_url/#/$page" >"$tmp/$page.html"
  expect_in "$tmp/$page.html" 'data-state="ready"' "the $page page did not load"
done
expect_in "$tmp/tasks.html" '>task-0<' "the tasks page does not list task-0"
expect_in "$tmp/agents.html" "127.0.0.1:$agent_port" "the agents page does not show the agent's address"

# --- The task's stdout in the viewer -------------------------------------------
viewer="$master_url/#/tasks/task-0/stdout"
dump_dom "$viewer" >"$tmp/viewer.html"
expect_in "$tmp/viewer.html" ">$marker$" "the task's stdout line does not appear in the viewer"
expect_in "$tmp/viewer.html" "^tick-[0-9]+$" "the task's later output does not appear in the viewer"
expect_in "$tmp/viewer.html" "Following · [0-9]+ bytes" "the viewer is not following the file"
grep -q "$marker-stderr" "$tmp/viewer.html" && fail "the stdout viewer shows stderr"
# Following: a later load shows lines the file did not have at the first.
first=$(grep -o '^tick-[0-9]*$' "$tmp/viewer.html" | tail -n 1 | cut -d- -f2)
file_has() { curl -fsS "$read_url&offset=0&length=1048576" | jq -r .data | grep -x "$1" >/dev/null; }
wait_until 30 file_has "tick-$((first + 10))" ||
  fail "the task stopped writing"
dump_dom "$viewer" >"$tmp/viewer-later.html"
expect_in "$tmp/viewer-later.html" "^tick-$((first + 10))$" "the viewer does not show the file's new lines"
dump_dom "$master_url/#/tasks/task-0/stderr" >"$tmp/viewer-stderr.html"
expect_in "$tmp/viewer-stderr.html" "$marker-stderr" "the task's stderr line does not appear in the viewer"
echo "viewer: the task's stdout and stderr lines appear, and new lines follow"

# --- Screenshots --------------------------------------------------------------
shots="$tmp"
if [[ -n "${AGORA_BIN_DIR:-}" ]] && mkdir -p "$AGORA_BIN_DIR/e2e-artifacts" 2>/dev/null; then
  shots="$AGORA_BIN_DIR/e2e-artifacts"
fi
run_browser --virtual-time-budget=15000 --window-size=1280,900 --screenshot="$shots/webui-overview.png" "$master_url/#/" >/dev/null
run_browser --virtual-time-budget=15000 --window-size=1280,900 --screenshot="$shots/webui-viewer.png" "$viewer" >/dev/null
[[ -s "$shots/webui-overview.png" && -s "$shots/webui-viewer.png" ]] || fail "no screenshot"
echo "screenshots: $shots/webui-overview.png $shots/webui-viewer.png"
echo "PASS"
