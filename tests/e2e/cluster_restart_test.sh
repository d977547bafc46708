#!/usr/bin/env bash
# Real processes on 127.0.0.1 with temporary work dirs: agora-master, two
# agora-agent and a framework (agora-test-scheduler) running tasks. Checks
# that the agents register, that garbage on the master's ZeroMQ port is
# dropped and counted while the master stays healthy, and that after
# `kill -9` of the master and a restart on the same work dir both agents
# reregister with the same IDs (the registry remembered them), the framework
# resubscribes with its ID and its tasks kept running all along.
#
#   AGORA_MASTER_BIN=... AGORA_AGENT_BIN=... cluster_restart_test.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

start_master
for i in 1 2; do
  start_agent "agent$i" --resources="cpus:1;mem:256;ports:[$((31000 + i * 100))-$((31099 + i * 100))]"
done
wait_until 90 count_agents 2 || fail "agents did not register"
before=$(agent_ids)
echo "registered: $(echo $before)"

# A framework with two long tasks and one that runs to completion.
mkfifo "$tmp/commands"
"${AGORA_TEST_SCHEDULER_BIN:?}" --master="$master_addr" --num_tasks=2 --resources="cpus:0.1;mem:64" \
  --command="sleep 600" <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
pids+=($!)
exec 3>"$tmp/commands"  # Keeps the scheduler's stdin open.
states() { jq -r 'select(.event == "update") | "\(.task_id) \(.state)"' "$tmp/events.jsonl"; }
running() { [[ $(states | grep -c ' TASK_RUNNING$') -ge 2 ]]; }
wait_until 120 running || fail "the framework's tasks did not start"
framework_id=$(jq -r 'select(.event == "subscribed") | .framework_id' "$tmp/events.jsonl" | head -n 1)
running_before=$(curl -fsS "$master_url/state" | jq -r '[.frameworks[].tasks[] | select(.state == "TASK_RUNNING") | .id] | sort | join(",")')
[[ "$running_before" == "task-0,task-1" ]] || fail "expected task-0,task-1 running, /state says '$running_before'"

# Garbage on the ZeroMQ port: random bytes, then a half-open connection.
head -c 4096 /dev/urandom >"/dev/tcp/127.0.0.1/$zmq_port" 2>/dev/null || true
printf 'GET / HTTP/1.1\r\n\r\n' >"/dev/tcp/127.0.0.1/$zmq_port" 2>/dev/null || true
sleep 1
curl -fsS "$master_url/health" >/dev/null || fail "master unhealthy after garbage on the ZeroMQ port"
count_agents 2 || fail "agents lost after garbage on the ZeroMQ port"

# kill -9 the master and start it again on the same work dir.
kill -9 "$master_pid"
wait "$master_pid" 2>/dev/null || true
start_master
wait_until 120 count_agents 2 || fail "agents did not come back after the master restart"
after=$(agent_ids)
[[ "$before" == "$after" ]] || fail "agent IDs changed across the restart: '$before' vs '$after'"
# The restarted master knows the agents from its registry at once; only a
# real reregistration moves these counters.
wait_until 120 bash -c "curl -fsS '$master_url/metrics' | grep -q '^agora_master_slave_reregistrations_total 2'" ||
  fail "the agents did not reregister with the restarted master"
wait_until 30 bash -c "curl -fsS '$master_url/metrics' | grep -q '^agora_master_slaves_active 2'" ||
  fail "metrics do not show 2 active agents"
# The framework resubscribed with its ID and its tasks never stopped.
resubscribed() { [[ $(jq -r 'select(.event == "subscribed") | .framework_id' "$tmp/events.jsonl" | grep -c "^$framework_id$") -ge 2 ]]; }
wait_until 200 resubscribed || fail "the framework did not resubscribe to the restarted master"
tasks_back() {
  [[ $(curl -fsS "$master_url/state" | jq -r '[.frameworks[].tasks[] | select(.state == "TASK_RUNNING") | .id] | sort | join(",")') == "$running_before" ]]
}
wait_until 60 tasks_back || fail "the restarted master does not show the tasks running"
if states | grep -Eq ' TASK_(FAILED|KILLED|LOST|FINISHED|GONE|DROPPED|ERROR)$'; then
  fail "a task ended across the master restart: $(states)"
fi
echo "agents reregistered with the same IDs and the framework kept its running tasks after kill -9 of the master"
