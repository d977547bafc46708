#!/usr/bin/env bash
# The operator surface against real processes on 127.0.0.1: the `agora` CLI
# reserves and unreserves resources on a live agent, sets weights and quota,
# and each shows in /state and /roles; after `kill -9` of the master and a
# restart the weights, quota and reservations are still there. Then hostile
# HTTP requests (truncated JSON, 100,000-deep JSON, an oversized body, bad
# percent-encoding, a chunked body with trailers, sandbox escapes on the
# agent's /files/read) each get a 4xx and both daemons stay healthy. CLI exit
# codes: 3 unreachable, 4 unknown or ambiguous id, 1 refused.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

agora() { "${AGORA_CLI_BIN:?}" --master="$master_addr" "$@"; }
state() { curl -fsS "$master_url/state"; }
expect_exit() {  # expect_exit CODE CMD...
  local want=$1 got=0
  shift
  "$@" >"$tmp/out.txt" 2>&1 || got=$?
  [[ $got -eq $want ]] || fail "'$*' exited $got, expected $want: $(cat "$tmp/out.txt")"
}

start_master
start_agent agent1 --hostname=127.0.0.1 --resources="cpus:2;mem:1024;disk:1024;ports:[31000-31099]"
wait_until 90 count_agents 1 || fail "the agent did not register"
agent=$(state | jq -r '.agents[0].id')
agent_url="http://127.0.0.1:$agent_port"

agora agents | grep -q "$agent" || fail "agora agents does not list $agent"
[[ $(agora agents --json | jq length) -eq 1 ]] || fail "agora agents --json"
agora frameworks >/dev/null || fail "agora frameworks"
agora tasks >/dev/null || fail "agora tasks"

# Reserve through the CLI (the agent id as a prefix), see it in /state and /roles.
agora reserve "${agent:0:12}" 'cpus:1;mem:256' --role eng --principal ops || fail "agora reserve"
wait_until 10 bash -c "curl -fsS '$master_url/state' | jq -e '.agents[0].reserved_resources.eng.cpus == 1'" ||
  fail "the reservation is not in /state"
curl -fsS "$master_url/roles" | jq -e '.roles[] | select(.name == "eng") | .reserved.mem == 256' >/dev/null ||
  fail "the reservation is not in /roles"
wait_until 10 bash -c "curl -fsS '$agent_url/state' | jq -e '.reserved_resources.eng.cpus == 1'" ||
  fail "the agent did not checkpoint the reservation"
agora agents | grep -q 'eng(cpus:1,mem:256)' || fail "agora agents does not show the reservation"

expect_exit 1 agora reserve "$agent" 'cpus:5' --role eng           # More than is free: 409.
expect_exit 4 agora reserve no-such-agent 'cpus:1' --role eng
expect_exit 2 agora reserve "$agent" 'cpus:x' --role eng           # Unparsable resources.
agora unreserve "$agent" 'cpus:1;mem:256' --role eng --principal ops || fail "agora unreserve"
wait_until 10 bash -c "curl -fsS '$master_url/state' | jq -e '.agents[0].reserved_resources == {}'" ||
  fail "the reservation is still in /state after unreserve"

# What must survive a master restart.
agora reserve "$agent" 'cpus:0.5;mem:128' --role ml --principal ops || fail "agora reserve ml"
agora weights eng=2 ml=3.5 || fail "agora weights"
expect_exit 1 agora weights eng=-1
agora quota ml --limit 'cpus:1;mem:512' || fail "agora quota"
agora quota ml | grep -q 'cpus:1;mem:512' || fail "agora quota ml does not show the limit"
wait_until 10 bash -c "curl -fsS '$agent_url/state' | jq -e '.reserved_resources.ml.cpus == 0.5'" ||
  fail "the agent did not checkpoint the ml reservation"

kill -9 "$master_pid"
wait "$master_pid" 2>/dev/null || true
start_master
wait_until 60 bash -c "curl -fsS '$master_url/state' | jq -e '.agents | length == 1'" ||
  fail "the agent did not reregister"
curl -fsS "$master_url/weights" | jq -e 'map({(.role): .weight}) | add == {"eng": 2, "ml": 3.5}' >/dev/null ||
  fail "weights lost: $(curl -fsS "$master_url/weights")"
curl -fsS "$master_url/quota" | jq -e '.configs[0].role == "ml" and .configs[0].limits.cpus.value == 1' >/dev/null ||
  fail "quota lost: $(curl -fsS "$master_url/quota")"
wait_until 10 bash -c "curl -fsS '$master_url/state' | jq -e '.agents[0].reserved_resources.ml.cpus == 0.5'" ||
  fail "reservation lost across the restart"
agora weights | grep -q 'ml    3.5' || fail "agora weights after the restart: $(agora weights)"
echo "weights, quota and reservations kept across kill -9 of the master"

# CLI exit codes.
expect_exit 3 "${AGORA_CLI_BIN}" --master=127.0.0.1:1 agents
expect_exit 4 agora explain no-such-framework
expect_exit 4 agora logs no-such-task
expect_exit 4 agora kill no-such-task
expect_exit 2 agora no-such-command

# Hostile requests: each a 4xx, and the daemons stay healthy.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
api=(-X POST -H 'Content-Type: application/json' "$master_url/api/v1")
[[ $(code "${api[@]}" -d '{"type": "GET_HEAL') == 400 ]] || fail "truncated JSON"
head -c 100000 /dev/zero | tr '\0' '[' >"$tmp/deep.json"
[[ $(code "${api[@]}" --data-binary @"$tmp/deep.json") == 400 ]] || fail "100,000-deep JSON"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$tmp/big.json"
[[ $(code "${api[@]}" --data-binary @"$tmp/big.json") == 413 ]] || fail "oversized body"
[[ $(code -X PUT -H 'Content-Type: application/json' "$master_url/weights" -d '[{"role":"x","weight":"NaN"}]') == 400 ]] ||
  fail "NaN weight"
[[ $(code --path-as-is "$master_url/%zz%") == 400 ]] || fail "bad percent-encoding"
chunked=$(printf 'POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"typ\r\n0\r\nX-Trailer: yes\r\n\r\n' |
  (exec 3<>"/dev/tcp/127.0.0.1/$master_port"; cat >&3; head -c 12 <&3))
[[ "$chunked" == "HTTP/1.1 400" ]] || fail "chunked body with trailers: '$chunked'"
[[ $(code "$agent_url/files/read?path=/etc/passwd&offset=0") == 403 ]] || fail "absolute path outside the sandboxes"
[[ $(code "$agent_url/files/read?path=$tmp/agent1/slaves/../../master/registry.db&offset=0") == 403 ]] ||
  fail "'..' out of the sandboxes"
[[ $(code "$agent_url/files/read?path=%2e%2e%2fx") == 403 || $(code "$agent_url/files/read?path=%2e%2e%2fx") == 400 ]] ||
  fail "encoded '..'"
curl -fsS "$master_url/health" >/dev/null || fail "master unhealthy after hostile requests"
curl -fsS "$agent_url/health" >/dev/null || fail "agent unhealthy after hostile requests"
curl -fsS "$master_url/metrics" >"$tmp/metrics.txt"  # (Not piped: grep -q would end curl with SIGPIPE.)
grep -Eq '^agora_http_responses_4xx_total [1-9]' "$tmp/metrics.txt" || fail "no 4xx counted"
grep -Eq '^agora_master_http_invalid_requests_total [1-9]' "$tmp/metrics.txt" ||
  fail "no invalid operator request counted"
curl -fsS "$agent_url/metrics/snapshot" | jq -e '."slave/files_invalid_requests" >= 2' >/dev/null ||
  fail "no invalid file request counted"
curl -fsS "$master_url/metrics/snapshot" | jq -e '."allocator/mesos/allocation_runs" > 0 and has("registrar/state_store_ms")' \
  >/dev/null || fail "allocator and registrar metrics missing"
echo "hostile requests answered with 4xx; both daemons healthy"
