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
  --command="echo \$PORT0 >>$tmp/launches; exec sleep 600"
service_pid=$example_pid
running() { [[ $(grep -c "2 of 2 instances running" "$tmp/service.log") -ge $1 ]]; }
wait_until 60 running 1 || fail "2 instances did not start"
# One per agent: two distinct agent ids among the running tasks.
agents=$(curl -fsS "$master_url/state" | grep -o '"agent_id":"[^"]*"' | sort -u | wc -l)
[[ $agents -eq 2 ]] || fail "instances are not spread one per agent ($agents agents)"

kill_task "$(grep -o 'as instance-0-[0-9]*' "$tmp/service.log" | head -n 1 | cut -d' ' -f2)"
wait_until 60 grep -q "Relaunching instance" "$tmp/service.log" || fail "the killed instance was not relaunched"
wait_until 60 running 2 || fail "the service did not get back to 2 instances"
[[ $(wc -l <"$tmp/launches") -eq 3 ]] || fail "expected 3 launches, got $(wc -l <"$tmp/launches")"
grep -q '^31[0-9][0-9][0-9]$' "$tmp/launches" || fail "no port in PORT0: $(cat "$tmp/launches")"

kill -TERM "$service_pid"
wait "$service_pid" || fail "the service exited $? after SIGTERM"
wait_until 60 no_executors || fail "the service's tasks survived its teardown"
echo "service: spread, relaunch and teardown as expected"
