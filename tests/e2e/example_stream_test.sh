#!/usr/bin/env bash
# agora-example-stream on a master and 2 agents: 6 partitions over 3
# containers; a killed container's partitions go to a replacement; with
# --on_failure=rebalance they go to the 2 survivors, restarted with the new
# assignment; SIGTERM tears the job down.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin stream)" --help | grep -q -- '--on_failure' || fail "--help does not list --on_failure"
start_cluster 2

# Each container records "CONTAINER PARTITIONS" in $tmp/MODE.
command() { echo "echo \$CONTAINER \$PARTITIONS >>$tmp/$1; exec sleep 600"; }
# task_with LOG PARTITIONS: the task id of the first container launched with them.
task_with() { grep -o "Launching [^ ]* with partitions $2 " "$1" | head -n 1 | cut -d' ' -f2; }
launched_with() { grep -q " $2\$" "$tmp/$1"; }

start_example stream "$tmp/replace.log" --partitions=6 --containers=3 --resources='cpus:0.2;mem:32' \
  --command="$(command replace)"
wait_until 60 grep -q "3 of 3 containers running" "$tmp/replace.log" || fail "3 containers did not start"
for p in 0,3 1,4 2,5; do launched_with replace "$p" || fail "no container for partitions $p"; done
kill_task "$(task_with "$tmp/replace.log" 1,4)"
replaced() { [[ $(grep -c ' 1,4$' "$tmp/replace") -eq 2 ]]; }
wait_until 60 replaced || fail "no replacement took partitions 1,4"
kill -TERM "$example_pid"
wait "$example_pid" || fail "the coordinator exited $? after SIGTERM"

start_example stream "$tmp/rebalance.log" --partitions=6 --containers=3 --on_failure=rebalance \
  --resources='cpus:0.2;mem:32' --command="$(command rebalance)"
wait_until 60 grep -q "3 of 3 containers running" "$tmp/rebalance.log" || fail "3 containers did not start"
kill_task "$(task_with "$tmp/rebalance.log" 2,5)"
# 2 and 5 spread over the survivors: {0,2,3} and {1,4,5} or {0,3,5} and {1,2,4}.
rebalanced() {
  { launched_with rebalance '0,2,3' && launched_with rebalance '1,4,5'; } ||
    { launched_with rebalance '0,3,5' && launched_with rebalance '1,2,4'; }
}
wait_until 60 rebalanced || fail "partitions 2,5 did not move to the survivors: $(cat "$tmp/rebalance")"
wait_until 60 grep -q "2 of 2 containers running" "$tmp/rebalance.log" || fail "the survivors did not restart"
echo "stream: replacement and rebalance as expected"
