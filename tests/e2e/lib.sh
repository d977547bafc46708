# Shared helpers for the end-to-end tests (real processes on 127.0.0.1,
# temporary work dirs, only processes the test started itself). Source it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   e2e_init                          # $tmp, cleanup trap
#   start_master [EXTRA FLAGS...]     # $master_pid, $master_port, $master_url, $master_addr
#   start_agent NAME [EXTRA FLAGS...] # $agent_pid, $agent_port; log in $tmp/NAME.log
#   wait_until 60 CMD...              # polls CMD every 0.2 s
#   fail "why"                        # prints the logs' tails and exits 1
#   require_cgroups cpu memory pids   # exits 77 (skipped), naming what is missing
#
# Agents get a --cgroups_root of their own (AGORA_CGROUPS_ROOT, one per test
# run), so that tests running side by side never see each other's
# containers; cleanup kills what is left in it (executors outlive a
# SIGTERMed agent by design) and removes it.
#
# The binaries come from the environment: AGORA_MASTER_BIN, AGORA_AGENT_BIN
# (ctest passes them; see CMakeLists.txt), and AGORA_BIN_DIR for the rest.

e2e_init() {
  set -euo pipefail
  # fail() writes here, so that its message survives a caller that
  # silenced stderr (wait_until runs its predicate with 2>/dev/null).
  exec {e2e_stderr}>&2
  tmp=$(mktemp -d /tmp/agora-e2e.XXXXXX)
  pids=()
  export AGORA_CGROUPS_ROOT="agora-e2e-$$"
  trap e2e_cleanup EXIT
}

skip() {
  echo "SKIP: $*" >&2
  exit 77
}

# require_cgroups CONTROLLER...: root and each controller (v1 or v2).
require_cgroups() {
  [[ $(id -u) -eq 0 ]] || skip "cgroups isolation needs root"
  local controller
  for controller in "$@"; do
    if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
      grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers || skip "no cgroup v2 '$controller' controller"
    else
      [[ -d /sys/fs/cgroup/$controller ]] || skip "no cgroup v1 '$controller' controller"
    fi
  done
}

# The cgroup directories of this test's --cgroups_root, one per hierarchy.
cgroup_dirs() {
  local dir
  for dir in /sys/fs/cgroup/"$AGORA_CGROUPS_ROOT" /sys/fs/cgroup/*/"$AGORA_CGROUPS_ROOT"; do
    [[ -d $dir ]] && readlink -f "$dir"
  done | sort -u
}

# The containers (cgroups) under this test's --cgroups_root, sorted.
containers() {
  local dir
  for dir in $(cgroup_dirs); do
    find "$dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n'
  done | sort -u
}

# Every pid in this test's containers.
container_pids() {
  local dir
  for dir in $(cgroup_dirs); do
    find "$dir" -name cgroup.procs -exec cat {} +
  done | sort -un
}

e2e_cgroups_cleanup() {
  [[ -n "${AGORA_CGROUPS_ROOT:-}" ]] || return 0
  local left
  for _ in $(seq 1 50); do
    left=$(container_pids)
    [[ -z "$left" ]] && break
    kill -9 $left 2>/dev/null || true
    sleep 0.1
  done
  local dir
  for dir in $(cgroup_dirs); do find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
}

e2e_cleanup() {
  local pid
  # SIGTERM first so that daemons stop what they started, then SIGKILL.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Each agent's socket keeper (it would exit by itself once $tmp is gone).
  for pid in $(keeper_pids); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == agora-keeper ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  e2e_cgroups_cleanup
  if [[ -n "${E2E_KEEP_TMP:-}" ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}

# The pids of the agents' executor socket keepers, from the agents' logs.
keeper_pids() {
  cat "$tmp"/*.log 2>/dev/null | grep -o 'keeper pid [0-9]*' | awk '{print $NF}' | sort -u
}

fail() {
  local out=${e2e_stderr:-2}
  echo "FAIL: $*" >&"$out"
  local log
  for log in "$tmp"/*.log; do
    [[ -f "$log" ]] || continue
    echo "--- $log" >&"$out"
    tail -n 40 "$log" >&"$out"
  done
  exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port: a port P such that P and P+1 are free, below the kernel's
# ephemeral range: a daemon restarted on its port (agent and master restart
# tests) must find it free, and any outgoing connection on the machine (curl,
# ZeroMQ) could otherwise take it as its local port while the daemon is down,
# and hold it for a minute in TIME_WAIT: the daemon then exits with "Address
# already in use" (AgentRestart: "the agent did not recover", seen under
# parallel load, where connections are many and restarts slow).
pick_port() {
  local port low=32768 _high
  read -r low _high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  local top=$((low > 21000 ? low - 2 : 40000))
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % (top - 20000)))
    if port_free "$port" && port_free $((port + 1)); then
      echo "$port"
      return
    fi
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

master_up() {
  kill -0 "$master_pid" 2>/dev/null || fail "master exited"
  curl -fsS "$master_url/health"
}

# start_master [FLAGS...]: on the same port and work dir when called again.
# Agents missing 3 pings of $agent_ping_timeout (default 1secs) are unreachable.
start_master() {
  if [[ -z "${master_port:-}" ]]; then
    master_port=$(pick_port)
    zmq_port=$((master_port + 1))
    master_url="http://127.0.0.1:$master_port"
    master_addr="127.0.0.1:$master_port"
  fi
  "${AGORA_MASTER_BIN:?}" --ip=127.0.0.1 --port="$master_port" --zmq_port="$zmq_port" \
    --work_dir="$tmp/master" --agent_ping_timeout="${agent_ping_timeout:-1secs}" --max_agent_ping_timeouts=3 "$@" \
    >>"$tmp/master.log" 2>&1 &
  master_pid=$!
  pids+=("$master_pid")
  wait_until 60 master_up || fail "master did not become healthy"
}

# start_agent NAME [FLAGS...]: work dir $tmp/NAME; the same port when
# restarted with the same NAME.
declare -A agent_ports=()
start_agent() {
  local name=$1
  shift
  if [[ -z "${agent_ports[$name]:-}" ]]; then agent_ports[$name]=$(pick_port); fi
  agent_port=${agent_ports[$name]}
  "${AGORA_AGENT_BIN:?}" --master="$master_addr" --ip=127.0.0.1 --port="$agent_port" \
    --work_dir="$tmp/$name" "$@" >>"$tmp/$name.log" 2>&1 &
  agent_pid=$!
  pids+=("$agent_pid")
}

agent_ids() { curl -fsS "$master_url/state" | grep -o '"id":"[^"]*-S[0-9]*"' | sort -u; }
count_agents() { [[ $(agent_ids | wc -l) -eq $1 ]]; }
