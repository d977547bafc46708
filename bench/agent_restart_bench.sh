#!/usr/bin/env bash
# Agent restart with N running containers (issue 7; results in
# docs/benchmarks.md): a real master and agent (cgroups isolation) run N sleep
# tasks; the agent is killed with SIGKILL and started again, ROUNDS times.
# Each round measures, from the moment the new agent process is started:
#   listening     the agent has recovered and serves HTTP (process start,
#                 master lookup, checkpoint, containers adopted)
#   adopted       the last executor resubscribed (agent log)
#   reregistered  the master acknowledged the reregistration (agent log)
# Both from the agent's own log timestamps (ms). Needs root, cgroups, jq and a
# Release build dir (the binaries and tests/e2e/agora-test-scheduler):
#
#   bench/agent_restart_bench.sh BUILD_DIR [N=200] [ROUNDS=5] [AGENT FLAGS...]
#
# KEEP_LOGS=PREFIX keeps each round's agent log as PREFIX.roundN.log.
# OUTAGE=SECONDS waits that long between the kill and the new start, and
# reports the CPU the containers used meanwhile (away_cpu_ms: what waiting
# executors cost the machine while their agent is away).

set -euo pipefail
build=$(readlink -f "${1:?usage: agent_restart_bench.sh BUILD_DIR [N] [ROUNDS] [AGENT FLAGS...]}")
count=${2:-200}
rounds=${3:-5}
shift $(($# < 3 ? $# : 3))
export AGORA_MASTER_BIN=$build/master/agora-master AGORA_AGENT_BIN=$build/agent/agora-agent
for binary in "$AGORA_MASTER_BIN" "$AGORA_AGENT_BIN" "$build/tests/e2e/agora-test-scheduler"; do
  [[ -x "$binary" ]] || { echo "missing $binary (configure $build with -DAGORA_BUILD_TESTS=ON and build it)" >&2; exit 2; }
done
source "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib.sh"
e2e_init
require_cgroups cpu memory pids

agent_flags=(--resources="cpus:$((count / 2 + 8));mem:$((count * 64 + 1024))" --executor_reregistration_timeout=30secs "$@")
start_master
start_agent a1 "${agent_flags[@]}"
wait_until 60 count_agents 1 || fail "the agent did not register"
agent_url="http://127.0.0.1:$agent_port"
mkfifo "$tmp/commands"
"$build/tests/e2e/agora-test-scheduler" --master="$master_addr" --num_tasks="$count" --resources="cpus:0.01;mem:16" \
  <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
pids+=("$!")
exec 3>"$tmp/commands"
metric() { curl -fsS "$agent_url/metrics/snapshot" | jq -e ".[\"$1\"]"; }
settled() {
  [[ $(metric slave/status_updates_pending) == 0 && $(metric slave/executors_running) == "$count" &&
     $(metric slave/registered) == 1 ]]
}
wait_until 600 settled || fail "the $count tasks did not all start"
ms() { date -d "$1" +%s%3N; }
# CPU (ms) used by every container of this agent so far (executors and their
# tasks): the round's difference is what 200 executors spend reconnecting,
# on the same cores as the agent.
containers_cpu() {
  local usage
  if [[ -d /sys/fs/cgroup/cpuacct/$AGORA_CGROUPS_ROOT ]]; then
    usage=$(cat /sys/fs/cgroup/cpuacct/"$AGORA_CGROUPS_ROOT"/cpuacct.usage)
    echo $((usage / 1000000))
  elif [[ -f /sys/fs/cgroup/$AGORA_CGROUPS_ROOT/cpu.stat ]]; then
    usage=$(awk '$1 == "usage_usec" {print $2}' /sys/fs/cgroup/"$AGORA_CGROUPS_ROOT"/cpu.stat)
    echo $((usage / 1000))
  else
    echo 0
  fi
}

echo "$count containers, agent flags: ${agent_flags[*]}"
printf '%-6s %12s %12s %14s %18s %12s\n' round listening_ms adopted_ms reregistered_ms containers_cpu_ms away_cpu_ms
for round in $(seq 1 "$rounds"); do
  cpu_killed=$(containers_cpu)
  kill -9 "$agent_pid"
  wait "$agent_pid" 2>/dev/null || true
  sleep "${OUTAGE:-0}"
  cpu_before=$(containers_cpu)
  lines=$(wc -l <"$tmp/a1.log")
  start=$(date +%s%3N)
  start_agent a1 "${agent_flags[@]}"
  # The times come from the agent's log: polling /metrics (curl and jq,
  # some 40 ms of CPU) while the agent recovers would compete with it and
  # its executors for the same cores. Look only once the round is over.
  sleep 1
  wait_until 120 settled || fail "round $round: the agent did not recover"
  tail -n +$((lines + 1)) "$tmp/a1.log" >"$tmp/round.log"
  adopted=$(grep -E 'Executor .* (re)?subscribed' "$tmp/round.log" | tail -1 | cut -d' ' -f1)
  reregistered=$(grep 'Reregistered with the master' "$tmp/round.log" | head -1 | cut -d' ' -f1)
  listening=$(grep 'Agent listening on' "$tmp/round.log" | head -1 | cut -d' ' -f1)
  printf '%-6s %12s %12s %14s %18s %12s\n' "$round" $(($(ms "$listening") - start)) $(($(ms "$adopted") - start)) \
    $(($(ms "$reregistered") - start)) $(($(containers_cpu) - cpu_before)) $((cpu_before - cpu_killed))
  [[ -z "${KEEP_LOGS:-}" ]] || cp "$tmp/round.log" "$KEEP_LOGS.round$round.log"
done
echo teardown >&3
