#!/usr/bin/env bash
# `agora run` against real daemons (master + 1 agent): the command's exit
# status becomes agora's, the state changes and the sandbox are printed, the
# task's output is in that sandbox, --env reaches the command, and bad usage
# or an unreachable master exit 2 and 3.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
agora="${AGORA_CLI_BIN:?}"

start_master
start_agent agent1 --hostname=127.0.0.1 --resources="cpus:2;mem:512;ports:[31000-31099]"
wait_until 60 count_agents 1 || fail "agent did not register"

set +e
"$agora" --master="$master_addr" run --name=fails --resources='cpus:0.1;mem:32' -- sh -c 'exit 3' \
  >"$tmp/fails.out" 2>&1
code=$?
set -e
cat "$tmp/fails.out"
[[ $code -eq 3 ]] || fail "agora run -- sh -c 'exit 3' exited $code, not 3"
grep -q '^TASK_RUNNING' "$tmp/fails.out" || fail "no TASK_RUNNING printed"
grep -q '^TASK_FAILED: Command exited with status 3' "$tmp/fails.out" || fail "no TASK_FAILED printed"

"$agora" --master="$master_addr" run --name=hello -e GREETING=hi -- sh -c 'echo "$GREETING from agora"' \
  >"$tmp/hello.out" 2>&1 || fail "agora run -- echo exited $?: $(cat "$tmp/hello.out")"
cat "$tmp/hello.out"
grep -q '^TASK_FINISHED' "$tmp/hello.out" || fail "no TASK_FINISHED printed"
grep -q "^Launching task 'hello' on agent " "$tmp/hello.out" || fail "the agent is not printed"
sandbox=$(sed -n 's/^Sandbox: 127.0.0.1://p' "$tmp/hello.out")
[[ -n "$sandbox" ]] || fail "no sandbox printed"
grep -q '^hi from agora$' "$sandbox/stdout" || fail "the task's output is not in $sandbox/stdout"

# A plain program found in PATH, no shell.
"$agora" --master="$master_addr" run --name=echo -- echo hi >"$tmp/echo.out" 2>&1 ||
  fail "agora run -- echo hi exited $?: $(cat "$tmp/echo.out")"

# Bad usage: 2. No master: 3.
set +e
"$agora" --master="$master_addr" run --resources='cpus:lots' -- true >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "bad --resources did not exit 2"
"$agora" --master="$master_addr" run >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "no command did not exit 2"
"$agora" --master="$master_addr" run -e NOEQUALS -- true >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "bad --env did not exit 2"
"$agora" --master=127.0.0.1:$(pick_port) run --connect_timeout=1secs -- true >/dev/null 2>&1
[[ $? -eq 3 ]] || fail "an unreachable master did not exit 3"
set -e

# Every run tore its framework down.
wait_until 30 bash -c "[[ \$(curl -fsS '$master_url/state' | grep -o '\"frameworks\":\[\]') ]]" ||
  fail "a framework of agora run is still registered"
echo "agora run: exit statuses, output, sandbox and teardown as expected"
