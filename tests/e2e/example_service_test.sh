#!/usr/bin/env bash
# agora-example-service on a master and 2 agents: 2 instances, at most one
# per agent; when one instance's process is killed the service relaunches
# it; SIGTERM tears the framework down and its tasks are killed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin service)" --help | grep -q -- '--max_per_agent' || fail "--help does not list --max_per_agent"
start_cluster 2

start_example service "$tmp/service.log" --instances=2 --max_per_agent=1 --resources='cpus:0.5;mem:64;ports:1' \
  --command="echo \$\$ >>$tmp/pids; echo port \$PORT0; exec sleep 600"
service_pid=$example_pid
running() { [[ $(grep -c "2 of 2 instances running" "$tmp/service.log") -ge $1 ]]; }
wait_until 60 running 1 || fail "2 instances did not start"
# One per agent: two distinct agent ids among the running tasks.
agents=$(curl -fsS "$master_url/state" | grep -o '"agent_id":"[^"]*"' | sort -u | wc -l)
[[ $agents -eq 2 ]] || fail "instances are not spread one per agent ($agents agents)"

victim=$(head -n 1 "$tmp/pids")
kill -9 "$victim"
wait_until 60 grep -q "Relaunching instance" "$tmp/service.log" || fail "the killed instance was not relaunched"
wait_until 60 running 2 || fail "the service did not get back to 2 instances"
[[ $(wc -l <"$tmp/pids") -eq 3 ]] || fail "expected 3 launches, got $(wc -l <"$tmp/pids")"

kill -TERM "$service_pid"
wait "$service_pid" || fail "the service exited $? after SIGTERM"
none_alive() { local p; for p in $(cat "$tmp/pids"); do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_until 60 none_alive || fail "the service's tasks survived its teardown"
echo "service: spread, relaunch and teardown as expected"
