#!/usr/bin/env bash
# Real processes on 127.0.0.1 with temporary work dirs: agora-master and two
# agora-agent. Checks that the agents register, that garbage on the master's
# ZeroMQ port is dropped and counted while the master stays healthy, and
# that after `kill -9` of the master and a restart on the same work dir both
# agents reregister with the same IDs (the registry remembered them).
#
#   cluster_restart_test.sh MASTER_BIN AGENT_BIN
set -euo pipefail
master_bin=$1
agent_bin=$2

tmp=$(mktemp -d /tmp/agora-e2e.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$tmp"/*.log; do echo "--- $log" >&2; tail -n 30 "$log" >&2; done
  exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if port_free "$port" && port_free $((port + 1)); then echo "$port"; return; fi
  done
  fail "no free port"
}

# wait_until SECONDS COMMAND...: polls every 0.2 s.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

master_port=$(pick_port)
zmq_port=$((master_port + 1))
master_url="http://127.0.0.1:$master_port"

master_up() {
  kill -0 "$master_pid" 2>/dev/null || fail "master exited"
  curl -fsS "$master_url/health"
}

start_master() {
  "$master_bin" --ip=127.0.0.1 --port="$master_port" --zmq_port="$zmq_port" --work_dir="$tmp/master" \
    --agent_ping_timeout=1secs --max_agent_ping_timeouts=3 >>"$tmp/master.log" 2>&1 &
  master_pid=$!
  pids+=("$master_pid")
  wait_until 60 master_up || fail "master did not become healthy"
}

agent_ids() { curl -fsS "$master_url/state" | grep -o '"id":"[^"]*-S[0-9]*"' | sort -u; }
count_agents() { [[ $(agent_ids | wc -l) -eq $1 ]]; }

start_master
for i in 1 2; do
  agent_port=$(pick_port)
  "$agent_bin" --master="127.0.0.1:$master_port" --ip=127.0.0.1 --port="$agent_port" \
    --work_dir="$tmp/agent$i" --resources="cpus:1;mem:256;ports:[$((31000 + i * 100))-$((31099 + i * 100))]" \
    >"$tmp/agent$i.log" 2>&1 &
  pids+=($!)
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
