#!/usr/bin/env bash
# agora-example-cron on a master and 1 agent: an ISO 8601 schedule of 3 runs
# 1 s apart runs 3 times and exits 0; with a command that outlasts the
# period, runs due meanwhile are skipped, never overlapped; a bad schedule
# exits 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin cron)" --help | grep -q -- '--schedule' || fail "--help does not list --schedule"
start_cluster 1

now=$(date -u -d "+5 seconds" +%Y-%m-%dT%H:%M:%SZ)  # Runs due before the example started are not run: leave it time to start
example cron --schedule="R3/$now/PT1S" --command="echo run >>$tmp/runs" >"$tmp/cron.log" 2>&1 ||
  fail "cron exited $?"
[[ $(wc -l <"$tmp/runs") -eq 3 ]] || fail "expected 3 runs, got $(wc -l <"$tmp/runs")"

# Each run takes 3 s, runs are due every second: some are skipped and no
# two runs ever overlap (a run fails if it finds the previous one's marker).
now=$(date -u -d "+5 seconds" +%Y-%m-%dT%H:%M:%SZ)  # Runs due before the example started are not run: leave it time to start
example cron --schedule="R4/$now/PT1S" \
  --command="mkdir $tmp/lock || exit 1; sleep 3; rmdir $tmp/lock" >"$tmp/overlap.log" 2>&1 ||
  fail "cron with overlapping runs exited $?: $(tail -5 "$tmp/overlap.log")"
grep -q 'Skipping the run due at' "$tmp/overlap.log" || fail "no run was skipped"

set +e
example cron --schedule='not a schedule' >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "a bad --schedule did not exit 2"
set -e
echo "cron: runs, skips and errors as expected"
