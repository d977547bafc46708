#!/usr/bin/env bash
# agora-example-batch on a master and 2 agents: 6 tasks, one of which fails
# once and is retried, exits 0; a command that always fails exits 1 after
# its retries; --help works.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin batch)" --help | grep -q -- '--num_tasks' || fail "--help does not list --num_tasks"
start_cluster 2

# The first task to run creates the marker and fails; its retry finishes.
example batch --num_tasks=6 --max_retries=2 --resources='cpus:0.5;mem:64' \
  --command="mkdir $tmp/failed-once 2>/dev/null && exit 1; echo ok" >"$tmp/batch.log" 2>&1 ||
  fail "batch exited $?: $(tail -5 "$tmp/batch.log")"
grep -q 'Retrying task' "$tmp/batch.log" || fail "no task was retried"
grep -q 'All 6 tasks done: 6 finished, 0 failed' "$tmp/batch.log" || fail "not all tasks finished"

set +e
example batch --num_tasks=2 --max_retries=1 --command='exit 1' >"$tmp/batch-fail.log" 2>&1
code=$?
set -e
[[ $code -eq 1 ]] || fail "an always-failing batch exited $code, not 1"
grep -q 'failed 2 times; giving up' "$tmp/batch-fail.log" || fail "no give-up message"
echo "batch: retries and exit statuses as expected"
