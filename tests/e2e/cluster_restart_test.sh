#!/usr/bin/env bash
# Real processes on 127.0.0.1 with temporary work dirs: agora-master and two
# agora-agent. Checks that the agents register, that garbage on the master's
# ZeroMQ port is dropped and counted while the master stays healthy, and
# that after `kill -9` of the master and a restart on the same work dir both
# agents reregister with the same IDs (the registry remembered them).
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
echo "agents reregistered with the same IDs after kill -9 of the master"
