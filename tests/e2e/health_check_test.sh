#!/usr/bin/env bash
# Health checks run by the command executor against real processes: an
# HTTP check of a live port makes the task healthy; a COMMAND check that
# starts failing makes it unhealthy and, after consecutive_failures, kills
# it (TASK_KILLED, healthy=false); a TCP check of a closed port kills it
# too. The HTTP and TCP probes run `agora-executor --probe=...` inside the
# task's container (default isolation, pid namespace included, when cgroups
# are there). Tasks get 128 MB: the sanitizer build of the executor and
# its probe child take much of it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
: "${AGORA_TEST_SCHEDULER_BIN:?}"

start_master
start_agent a1 --resources="cpus:2;mem:512"
wait_until 60 count_agents 1 || fail "the agent did not register"
agent_port_1=$agent_port

# run_framework NAME HEALTH_CHECK_JSON COMMAND: one task; events in $tmp/NAME.jsonl.
run_framework() {
  local name=$1 check=$2 command=$3
  mkfifo "$tmp/$name.in"
  "$AGORA_TEST_SCHEDULER_BIN" --master="$master_addr" --name="$name" --num_tasks=1 --resources="cpus:0.1;mem:128" \
    --command="$command" --health_check="$check" <"$tmp/$name.in" >"$tmp/$name.jsonl" 2>"$tmp/$name.log" &
  scheduler_pid=$!
  pids+=("$scheduler_pid")
  exec {scheduler_in}>"$tmp/$name.in"  # Keeps the scheduler's stdin open.
}
updates() { jq -c 'select(.event == "update")' "$tmp/$1.jsonl"; }
# (jq -s: jq 1.6 -e exits 0 on empty input.)
has_update() { updates "$1" | jq -s -e "any(.[]; $2)" >/dev/null; }
stop_framework() {
  kill -TERM "$scheduler_pid"
  wait "$scheduler_pid" 2>/dev/null || true
  exec {scheduler_in}>&-
}

# 1. HTTP: GET /health on the agent's own port answers 200.
run_framework http "{\"type\":\"HTTP\",\"http\":{\"port\":$agent_port_1,\"path\":\"/health\"},
  \"delay_seconds\":0,\"interval_seconds\":0.5,\"grace_period_seconds\":0,\"consecutive_failures\":2}" "sleep 600"
wait_until 60 has_update http '.state == "TASK_RUNNING" and .healthy == true' ||
  fail "no healthy TASK_RUNNING from the HTTP check: $(updates http)"
task_healthy() { curl -fsS "$master_url/state" | jq -e '[.frameworks[].tasks[].statuses[] | select(.healthy == true)] | length > 0'; }
wait_until 30 task_healthy || fail "/state does not show the task's health"
stop_framework

# 2. COMMAND: healthy while the file exists, then killed after 2 failures.
run_framework flip '{"type":"COMMAND","command":{"value":"test -f healthy"},
  "delay_seconds":0,"interval_seconds":0.3,"grace_period_seconds":60,"consecutive_failures":2}' \
  "touch healthy && sleep 2 && rm healthy && sleep 600"
wait_until 60 has_update flip '.state == "TASK_RUNNING" and .healthy == true' ||
  fail "no healthy update from the COMMAND check: $(updates flip)"
wait_until 60 has_update flip '.state == "TASK_RUNNING" and .healthy == false' ||
  fail "no unhealthy update once the check failed: $(updates flip)"
wait_until 60 has_update flip '.state == "TASK_KILLED"' || fail "the unhealthy task was not killed: $(updates flip)"
has_update flip '.state == "TASK_KILLED" and .healthy == false and (.message | test("2 consecutive failed health checks"))' ||
  fail "the kill does not say why: $(updates flip | tail -1)"
stop_framework

# 3. TCP: nothing listens on the port; one failure kills.
closed_port=$(pick_port)
run_framework tcp "{\"type\":\"TCP\",\"tcp\":{\"port\":$closed_port},
  \"delay_seconds\":0,\"interval_seconds\":0.5,\"grace_period_seconds\":0,\"consecutive_failures\":1}" "sleep 600"
wait_until 60 has_update tcp '.state == "TASK_KILLED" and .healthy == false' ||
  fail "the TCP check of a closed port did not kill the task: $(updates tcp)"
has_update tcp '.message | test("Connection refused")' || fail "the kill does not name the failure: $(updates tcp)"
stop_framework
echo "HTTP, COMMAND and TCP health checks work end to end"
