#!/usr/bin/env bash
# The web UI in a real browser (Debian's chromium, headless) against a live
# cluster: agora-master, one agora-agent and agora-test-scheduler running a
# task that prints a known line to stdout and keeps running.
#
# Checks the master's serving of the UI (content types, no-cache, 404 for
# unknown files and for paths escaping the UI), its /agent/ID/ proxy, that
# the overview page shows the right counts of agents, frameworks and tasks,
# and that the task's stdout line appears in the log viewer. Saves
# screenshots of both pages in the test's temp dir and prints their paths
# (keep them with E2E_KEEP_TMP=1).
#
#   AGORA_MASTER_BIN=... AGORA_AGENT_BIN=... AGORA_TEST_SCHEDULER_BIN=... webui_browser_test.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "SKIP: chromium not installed (scripts/setup installs it)"
  exit 77
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
"${AGORA_TEST_SCHEDULER_BIN:?}" --master="$master_addr" --name="webui-e2e" \
  --resources="cpus:0.2;mem:32" --command="echo $marker; echo $marker-stderr >&2; exec sleep 3600" \
  <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
pids+=($!)
exec 3>"$tmp/commands"  # Keeps the scheduler's stdin open: it stays subscribed.
task_running() {
  jq -r 'select(.event == "update" and .state == "TASK_RUNNING") | .task_id' "$tmp/events.jsonl" | grep -qx task-0
}
wait_until 90 task_running || fail "the task did not start"
echo "task task-0 running on agent $agent_id"

# --- Serving the UI ---------------------------------------------------------
headers() { curl -sS -o /dev/null -D - "$@" | tr -d '\r'; }
status_of() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }

index=$(headers "$master_url/")
grep -qi '^HTTP/1.1 200' <<<"$index" || fail "GET / is not 200: $index"
grep -qi '^content-type: text/html' <<<"$index" || fail "GET / is not text/html: $index"
grep -qi '^cache-control: no-cache' <<<"$index" || fail "GET / has no Cache-Control: no-cache"
etag=$(grep -i '^etag:' <<<"$index" | cut -d' ' -f2)
[[ $(status_of -H "If-None-Match: $etag" "$master_url/") == 304 ]] || fail "a matching ETag is not 304"
headers "$master_url/js/app.js" | grep -qi '^content-type: text/javascript' || fail "app.js is not JavaScript"
headers "$master_url/css/app.css" | grep -qi '^content-type: text/css' || fail "app.css is not CSS"
[[ $(status_of "$master_url/no-such-file.js") == 404 ]] || fail "an unknown file is not 404"
for path in '/../../../../etc/passwd' '/js/../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/js/%2e%2e/index.html'; do
  [[ $(status_of --path-as-is "$master_url$path") == 404 ]] || fail "$path is not 404"
done
[[ $(status_of -X POST "$master_url/no-such-endpoint") == 404 ]] || fail "POST to an unknown path is not 404"
curl -fsS "$master_url/state" | grep -q "\"http_address\":\"127.0.0.1:$agent_port\"" ||
  fail "/state does not show the agent's http_address"

# --- The master's proxy to the agent ----------------------------------------
curl -fsS "$master_url/agent/$agent_id/state" | grep -q '"executors"' || fail "the proxied agent /state"
[[ $(status_of "$master_url/agent/$agent_id/no-such-endpoint") == 404 ]] || fail "a non-proxied endpoint is not 404"
[[ $(status_of "$master_url/agent/no-such-agent/state") == 404 ]] || fail "an unknown agent is not 404"
curl -fsS "$master_url/metrics/snapshot" | grep -Eq '"master/webui/agent_proxy_rejected":2(\.0)?[,}]' ||
  fail "the proxy's rejections are not counted"
curl -fsS "$master_url/health" >/dev/null || fail "master unhealthy after the UI requests"

# --- The overview in the browser ----------------------------------------------
dump_dom "$master_url/#/" >"$tmp/overview.html"
expect_in "$tmp/overview.html" 'data-count="agents-active">1<' "the overview does not show 1 active agent"
expect_in "$tmp/overview.html" 'data-count="frameworks-active">1<' "the overview does not show 1 framework"
expect_in "$tmp/overview.html" 'data-count="tasks-TASK_RUNNING">1<' "the overview does not show 1 running task"
expect_in "$tmp/overview.html" 'data-count="tasks-total">1<' "the overview does not show 1 task in all"
expect_in "$tmp/overview.html" 'Live · updated' "the status light does not say the UI is live"
echo "overview: 1 agent, 1 framework, 1 running task"

for page in agents frameworks tasks roles; do
  dump_dom "$master_url/#/$page" >"$tmp/$page.html"
  expect_in "$tmp/$page.html" 'data-state="ready"' "the $page page did not load"
done
expect_in "$tmp/tasks.html" '>task-0<' "the tasks page does not list task-0"
expect_in "$tmp/agents.html" "127.0.0.1:$agent_port" "the agents page does not show the agent's address"

# --- The task's stdout in the viewer -------------------------------------------
viewer="$master_url/#/tasks/task-0/stdout"
if [[ $(curl -sS "$master_url/agent/$agent_id/files/read?path=x") == "No such endpoint" ]]; then
  # TODO(lead): drop this branch once the agent's /files/read (operator) is merged.
  echo "SKIP (viewer part): this agent has no /files/read yet; checking the viewer says so"
  dump_dom "$viewer" >"$tmp/viewer.html"
  expect_in "$tmp/viewer.html" 'not available' "the viewer does not say that /files/read is not available"
else
  dump_dom "$viewer" >"$tmp/viewer.html"
  expect_in "$tmp/viewer.html" "$marker" "the task's stdout line does not appear in the viewer"
  expect_in "$tmp/viewer.html" "Following" "the viewer is not following the file"
  dump_dom "$master_url/#/tasks/task-0/stderr" >"$tmp/viewer-stderr.html"
  expect_in "$tmp/viewer-stderr.html" "$marker-stderr" "the task's stderr line does not appear in the viewer"
  echo "viewer: the task's stdout and stderr lines appear"
fi

# --- Screenshots --------------------------------------------------------------
run_browser --virtual-time-budget=15000 --window-size=1280,900 --screenshot="$tmp/overview.png" "$master_url/#/" >/dev/null
run_browser --virtual-time-budget=15000 --window-size=1280,900 --screenshot="$tmp/viewer.png" "$viewer" >/dev/null
[[ -s "$tmp/overview.png" && -s "$tmp/viewer.png" ]] || fail "no screenshot"
echo "screenshots: $tmp/overview.png $tmp/viewer.png"
echo "PASS"
