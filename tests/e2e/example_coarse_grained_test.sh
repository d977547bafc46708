#!/usr/bin/env bash
# agora-example-coarse-grained on a master and 2 agents: one custom executor
# per agent takes work items over framework messages; the pi estimate comes
# back within tolerance and the example exits 0; both executors ran.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin coarse-grained)" --help | grep -q -- '--work_items' || fail "--help does not list --work_items"
start_cluster 2

example coarse-grained --num_executors=2 --work_items=20 --samples_per_item=100000 --tolerance=0.05 \
  --resources='cpus:0.5;mem:64' >"$tmp/pi.log" 2>&1 || fail "coarse-grained exited $?: $(tail -5 "$tmp/pi.log")"
grep -q 'pi is about 3\.1' "$tmp/pi.log" || fail "no estimate of pi"
[[ $(grep -c 'worker-. TASK_RUNNING' "$tmp/pi.log") -eq 2 ]] || fail "not 2 executors"
# (The output first, then grep: `curl | grep -q` under pipefail fails when grep exits early.)
grep -Eq '"master/valid_executor_to_framework_messages":[1-9]' <<<"$(curl -fsS "$master_url/metrics/snapshot")" ||
  fail "the master routed no result: $(curl -fsS "$master_url/metrics/snapshot")"
echo "coarse-grained: pi over framework messages as expected"
