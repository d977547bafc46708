#!/usr/bin/env bash
# agora-example-balloon against an agent with memory isolation
# (--isolation=cgroups/mem): the balloon fails with
# REASON_CONTAINER_LIMITATION_MEMORY and the example exits 0. Skipped (77)
# without root or a memory cgroup controller: the posix isolation cannot
# limit memory, and faking it would prove nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/examples_lib.sh"
e2e_init
"$(example_bin balloon)" --help | grep -q -- '--grow_to' || fail "--help does not list --grow_to"
require_cgroups memory
start_master
start_agent agent1 --hostname=127.0.0.1 --isolation=cgroups/mem --resources="cpus:2;mem:1024"
wait_until 60 count_agents 1 || fail "the agent did not register"
agent_state=$(curl -fsS "http://127.0.0.1:$agent_port/flags")
grep -q '"isolation":"cgroups/mem"' <<<"$agent_state" || skip "the agent does not run with cgroups/mem: $agent_state"

example balloon --resources='cpus:0.1;mem:64' --grow_to=300 >"$tmp/balloon.log" 2>&1 ||
  fail "balloon exited $?"
grep -q 'balloon TASK_FAILED.*REASON_CONTAINER_LIMITATION_MEMORY' "$tmp/balloon.log" || fail "no memory limitation"
curl -fsS "$master_url/health" >/dev/null || fail "the master is unhealthy"
curl -fsS "http://127.0.0.1:$agent_port/health" >/dev/null || fail "the agent is unhealthy after the balloon burst"
echo "balloon: burst at its memory limit as expected"
