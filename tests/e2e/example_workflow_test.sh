#!/usr/bin/env bash
# agora-example-workflow on a master and 2 agents: extract -> transform
# (fan-out 3, one copy fails once and is retried) -> load runs in order and
# exits 0; a workflow whose step always fails exits 1 without running its
# dependents; a malformed file exits 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin workflow)" --help | grep -q -- '--workflow' || fail "--help does not list --workflow"
start_cluster 2

cat >"$tmp/etl.json" <<JSON
{"steps": [
  {"name": "load", "command": "ls $tmp/t-0 $tmp/t-1 $tmp/t-2 && touch $tmp/loaded", "deps": ["transform"]},
  {"name": "transform", "command": "test -e $tmp/extracted || exit 1; if [ \$SHARD = 1 ] && mkdir $tmp/flaky 2>/dev/null; then exit 1; fi; touch $tmp/t-\$SHARD",
   "deps": ["extract"], "fanout": 3, "retries": 1},
  {"name": "extract", "command": "touch $tmp/extracted"}
]}
JSON
example workflow --workflow="$tmp/etl.json" >"$tmp/etl.log" 2>&1 || fail "workflow exited $?"
[[ -e $tmp/loaded ]] || fail "the load step did not run after transform"
grep -q 'Retrying transform copy 1' "$tmp/etl.log" || fail "the flaky copy was not retried"
grep -q 'Workflow finished: 3 steps' "$tmp/etl.log" || fail "no completion message"

cat >"$tmp/broken.json" <<JSON
{"steps": [{"name": "a", "command": "exit 1"}, {"name": "b", "command": "touch $tmp/b", "deps": ["a"]}]}
JSON
set +e
example workflow --workflow="$tmp/broken.json" >"$tmp/broken.log" 2>&1
code=$?
echo '{"steps": [' >"$tmp/bad.json"
example workflow --workflow="$tmp/bad.json" >/dev/null 2>&1
bad=$?
set -e
[[ $code -eq 1 ]] || fail "a failing workflow exited $code, not 1"
[[ ! -e $tmp/b ]] || fail "a dependent of a failed step ran"
grep -q 'not run: b' "$tmp/broken.log" || fail "the skipped step is not reported"
[[ $bad -eq 2 ]] || fail "a malformed workflow exited $bad, not 2"
echo "workflow: order, fan-out, retries and failures as expected"
