#!/usr/bin/env bash
# The agent's systemd unit (packaging/agora-agent.service) under a real
# systemd (issue 7): restarting the agent, or killing it and letting systemd
# restart it, never kills a task, and the restarted agent adopts it.
#
# systemd runs as PID 1 of private pid, mount, network, UTS and IPC
# namespaces, booted into a target of this test's own (nothing of the host's
# units starts), its units on a tmpfs over /etc/systemd/system in that mount
# namespace, and its cgroups under a cgroup of this test's own in every
# hierarchy, removed at the end. The master and the agent run as its
# services on the namespace's 127.0.0.1; the agent's unit is the packaged
# one, with a drop-in for the binary's path and flags (as an operator's
# override would). Ending the namespace's PID 1 ends everything in it.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# The agent's socket keeper lives in the namespace and ends with it; its pid
# in the log is the namespace's, not the host's: lib.sh must not act on it.
keeper_pids() { :; }
require_cgroups cpu memory pids
: "${AGORA_TEST_SCHEDULER_BIN:?}"
systemd_bin=/lib/systemd/systemd
[[ -x $systemd_bin ]] || skip "no $systemd_bin (Debian package systemd)"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare or nsenter (util-linux)"
unit_file="$(dirname "${BASH_SOURCE[0]}")/../../packaging/agora-agent.service"
[[ -f $unit_file ]] || fail "no $unit_file"

# This test's own cgroup, below the one it runs in, in every hierarchy
# systemd may use (not cpuset: a v1 cpuset cgroup takes no process before its
# cpus and mems are set).
own_cgroup="agora-e2e-systemd-$$"
sd_cgroups=()
while IFS=: read -r _ controllers path; do
  case $controllers in
    "") hierarchy=/sys/fs/cgroup/unified; [[ -f /sys/fs/cgroup/cgroup.controllers ]] && hierarchy=/sys/fs/cgroup ;;
    name=systemd) hierarchy=/sys/fs/cgroup/systemd ;;
    cpuset | name=*) continue ;;
    *) hierarchy=/sys/fs/cgroup/$controllers ;;
  esac
  [[ -f $hierarchy/cgroup.procs && ! -L $hierarchy ]] || continue
  sd_cgroups+=("$hierarchy${path%/}/$own_cgroup")
done </proc/self/cgroup
sd_pid=
systemd_cleanup() {
  if [[ -n $sd_pid ]]; then
    kill -9 "$sd_pid" 2>/dev/null || true  # The namespace's PID 1: the kernel ends the rest.
    for _ in $(seq 1 50); do kill -0 "$sd_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  local dir
  for dir in "${sd_cgroups[@]}"; do
    [[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}
trap 'systemd_cleanup; e2e_cleanup' EXIT

units="$tmp/units"
mkdir -p "$units/agora-agent.service.d"
cp "$unit_file" "$units/agora-agent.service"
cat >"$units/agora-e2e.target" <<EOF
[Unit]
Description=Agora e2e: nothing but what the test starts
DefaultDependencies=no
EOF
master_port=$(pick_port)
agent_port=$(pick_port)
cat >"$units/agora-master.service" <<EOF
[Unit]
Description=Agora master (e2e)
DefaultDependencies=no
[Service]
ExecStart=$AGORA_MASTER_BIN --ip=127.0.0.1 --port=$master_port --zmq_port=$((master_port + 1)) --work_dir=$tmp/master
StandardOutput=append:$tmp/master.log
StandardError=append:$tmp/master.log
EOF
cat >"$tmp/agent.conf" <<EOF
master = 127.0.0.1:$master_port
ip = 127.0.0.1
port = $agent_port
work_dir = $tmp/agent
cgroups_root = $AGORA_CGROUPS_ROOT
resources = cpus:4;mem:4096
executor_reregistration_timeout = 20secs
EOF
# The operator's override: where the binary is, and its config file. The
# rest (KillMode, Restart, Delegate...) is the packaged unit's.
cat >"$units/agora-agent.service.d/e2e.conf" <<EOF
[Unit]
DefaultDependencies=no
[Service]
ExecStart=
ExecStart=$AGORA_AGENT_BIN --config=$tmp/agent.conf
StandardOutput=append:$tmp/agent.log
StandardError=append:$tmp/agent.log
EOF

cat >"$tmp/boot.sh" <<EOF
#!/bin/bash
set -e
for dir in ${sd_cgroups[*]}; do mkdir -p "\$dir" && echo \$\$ >"\$dir/cgroup.procs"; done
mount -t tmpfs tmpfs /etc/systemd/system
cp -r $units/. /etc/systemd/system/
mount -t tmpfs tmpfs /run
exec $systemd_bin --system --unit=agora-e2e.target --log-target=console --show-status=no
EOF
chmod +x "$tmp/boot.sh"
unshare --fork --pid --mount --net --uts --ipc --mount-proc "$tmp/boot.sh" >"$tmp/systemd.log" 2>&1 &
unshare_pid=$!
pids+=("$unshare_pid")
find_systemd() { sd_pid=$(pgrep -P "$unshare_pid" -x systemd); [[ -n $sd_pid ]]; }
wait_until 20 find_systemd || skip "systemd did not start in private namespaces: $(tail -n 5 "$tmp/systemd.log")"
in_ns() { nsenter -t "$sd_pid" -m -p -n "$@"; }
booted() { [[ $(in_ns systemctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]; }
wait_until 30 booted || skip "systemd did not boot in private namespaces: $(tail -n 5 "$tmp/systemd.log")"

in_ns systemctl start agora-master.service
in_ns systemctl start agora-agent.service
master_url="http://127.0.0.1:$master_port"
agent_url="http://127.0.0.1:$agent_port"
registered() { in_ns curl -fsS "$master_url/metrics/snapshot" | jq -e ".[\"master/slaves_active\"] == 1"; }
wait_until 60 registered || fail "the agent (under systemd) did not register: $(in_ns systemctl status agora-agent --no-pager)"

mkfifo "$tmp/commands"
in_ns "$AGORA_TEST_SCHEDULER_BIN" --master="127.0.0.1:$master_port" --num_tasks=2 --resources="cpus:0.1;mem:64" \
  --command="sleep 1000" <"$tmp/commands" >"$tmp/events.jsonl" 2>"$tmp/scheduler.log" &
pids+=("$!")
exec 3>"$tmp/commands"
running_updates() { jq -r 'select(.event == "update" and .state == "TASK_RUNNING" and (.reconciliation | not)) | .task_id' "$tmp/events.jsonl"; }
all_running() { [[ $(running_updates | sort -u | wc -l) -eq 2 ]]; }
wait_until 60 all_running || fail "the tasks did not start under the systemd-run agent"
metric() { in_ns curl -fsS "$agent_url/metrics/snapshot" | jq -e ".[\"$1\"]"; }
settled() {
  [[ $(metric slave/executors_running) == 2 && $(metric slave/registered) == 1 &&
     $(metric slave/status_updates_pending) == 0 ]]
}
wait_until 60 settled || fail "the agent did not settle"
executors() { in_ns curl -fsS "$agent_url/state" | jq -c '[.frameworks[].executors[] | {id, pid}] | sort_by(.id)'; }
before=$(executors)
main_pid() { in_ns systemctl show -p MainPID --value agora-agent; }
[[ $(jq length <<<"$before") -eq 2 ]] || fail "expected 2 executors: $before"
# Every process of the containers (executors and tasks) as the host sees
# them: alive throughout.
host_pids=$(container_pids)
[[ $(wc -w <<<"$host_pids") -ge 4 ]] || fail "expected 2 executors and 2 tasks in the containers: $host_pids"

check_round() {  # what
  wait_until 60 settled || fail "$1: the agent did not recover: $(in_ns systemctl status agora-agent --no-pager)"
  [[ "$(executors)" == "$before" ]] || fail "$1: the executors changed: $before -> $(executors)"
  local pid
  for pid in $host_pids; do kill -0 "$pid" || fail "$1: executor $pid died"; done
}

# systemctl restart: SIGTERM to the agent only (KillMode=process), then a new one.
first=$(main_pid)
in_ns systemctl restart agora-agent.service
[[ $(main_pid) != "$first" ]] || fail "systemctl restart did not start a new agent"
check_round "systemctl restart"

# A crash: systemd restarts it (Restart=always). Only the agent's process
# dies, as in a crash (`systemctl kill` without --kill-whom=main would signal
# every process of the unit, executors included: docs/containers.md).
second=$(main_pid)
in_ns kill -9 "$second"
restarted() { local pid; pid=$(main_pid); [[ $pid != 0 && $pid != "$second" ]]; }
wait_until 30 restarted || fail "systemd did not restart the killed agent: $(in_ns systemctl status agora-agent --no-pager)"
check_round "kill -9 and Restart=always"

# systemctl stop leaves the tasks running (by design, docs/containers.md).
in_ns systemctl stop agora-agent.service
for pid in $host_pids; do kill -0 "$pid" || fail "systemctl stop killed executor $pid"; done
in_ns systemctl start agora-agent.service
check_round "systemctl stop and start"

# Nothing was reported twice or lost.
[[ $(running_updates | wc -l) -eq 2 ]] || fail "TASK_RUNNING reported $(running_updates | wc -l) times for 2 tasks"
others=$(jq -r 'select(.event == "update" and (.reconciliation | not) and .state != "TASK_RUNNING" and .state != "TASK_STARTING") | .state' "$tmp/events.jsonl")
[[ -z "$others" ]] || fail "unexpected updates: $others"
echo "PASS: under systemd, restart, crash and stop/start of the agent kept both tasks (same executors, RUNNING once each)"
