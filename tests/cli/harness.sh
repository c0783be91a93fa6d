# Sourced by the CLI tests: a temp dir `work` removed at exit together with
# every background process whose pid is in `pids`, and `check NAME CMD...`,
# which counts CMD's success or failure; `finish` prints the counts and
# fails the test if any check failed. `start_leadflowd ARGS...` starts the
# server on a free loopback port, `lf` runs the CLI against it, `json EXPR`
# evaluates a Python expression over `d` (the first JSON line of stdin),
# `wait_idle` waits until everything accepted is processed.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# The CLI's credential comes from each test, never from the user's own
# ~/.config/leadflow/token.
export XDG_CONFIG_HOME="$work/config"
unset LEADFLOW_TOKEN LEADFLOW_TOKEN_FILE

pass=0 fail=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}

lf() { "$LEADFLOW_CLI" "$@"; }
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.readline()); print($1)"; }

# Starts $LEADFLOWD with ARGS (a --data-dir among them) on a free port,
# output in $work/out; exports LEADFLOW_TARGET; its pid is in $server.
start_leadflowd() {
  "$LEADFLOWD" --listen 127.0.0.1:0 "$@" >"$work/out" 2>&1 &
  server=$!
  pids+=("$server")
  for _ in $(seq 200); do grep -q 'listening on' "$work/out" && break; sleep 0.1; done
  local port
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")
  [ -n "$port" ] || { cat "$work/out"; echo "FAIL: no port"; exit 1; }
  export LEADFLOW_TARGET=127.0.0.1:$port
}

# Idle: nothing left to process, and every partition has joined its owner
# (on Kafka the consumer group's first join takes a few seconds).
wait_idle() {
  for _ in $(seq 600); do
    [ "$(lf status | json "int(d.get('totalLag', 0)) + int(d.get('unownedPartitions', 0))")" = 0 ] && return 0
    sleep 0.05
  done
  echo "FAIL: not idle: $(lf status)"
  return 1
}
