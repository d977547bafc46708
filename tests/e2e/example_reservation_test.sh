#!/usr/bin/env bash
# agora-example-reservation on a master and 2 agents: reserves for role
# "dev", launches 2 tasks on the reservations, unreserves, exits 0; the
# master's /state then shows no reservation left. Without --principal it
# refuses to start (exit 2).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin reservation)" --help | grep -q -- '--num_tasks' || fail "--help does not list --num_tasks"
start_cluster 2
set +e
example reservation --role=dev >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "no --principal did not exit 2"
set -e

example reservation --role=dev --principal=alice --num_tasks=2 --resources='cpus:1.5;mem:128' \
  --command='echo reserved' >"$tmp/reservation.log" 2>&1 || fail "reservation exited $?"
grep -q 'Reserving' "$tmp/reservation.log" || fail "nothing reserved"
[[ $(grep -c 'Launching task-. on reserved' "$tmp/reservation.log") -eq 2 ]] || fail "tasks not launched on reservations"
grep -q 'Unreserving' "$tmp/reservation.log" || fail "nothing unreserved"
grep -q 'task-1 TASK_FINISHED' "$tmp/reservation.log" || fail "task-1 did not finish"
no_reservations() {
  local state
  state=$(curl -fsS "$master_url/state") || return 1
  ! grep -q '"reserved_resources":{"' <<<"$state"
}
# The UNRESERVEs were applied before the teardown was sent.
no_reservations || fail "reservations are left: $(curl -fsS "$master_url/state")"
echo "reservation: reserve, launch, unreserve as expected"
