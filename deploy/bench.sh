#!/usr/bin/env bash
# Builds, starts a leadflowd on a fresh temp data dir and a free port, runs
# leadflow-bench against it, and stops it. Arguments go to leadflow-bench,
# except these steps of the script's own, which need to own the server:
#   --restart   after the bench: SIGKILL leadflowd, start it again on the same
#               data dir, and time until it serves
#   --rebuild   then: stop it, start it with --rebuild-read-models, and time
#               the rebuild (events folded per second)
# The server's resident memory is printed after the bench either way.
# LEADFLOW_ENGINE=kafka runs it on leadflow-dev-broker (in-memory Kafka
# protocol brokers) instead of the embedded log. LEADFLOW_ROBOTS=FILE applies
# that pipelines file (e.g. examples/pipelines/robots.yaml) first, so the
# bench runs with its robots and triggers switched on. LEADFLOW_BIN=DIR runs
# the binaries of another build (DIR laid out as build/services: a copy kept
# to compare back to back) and builds nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
restart=0
rebuild=0
bench_args=()
for arg in "$@"; do
  case "$arg" in
    --restart) restart=1 ;;
    --rebuild) rebuild=1 ;;
    *) bench_args+=("$arg") ;;
  esac
done
if [ -n "${LEADFLOW_BIN:-}" ]; then
  bin=$LEADFLOW_BIN
else
  "$root/deploy/build.sh" leadflowd leadflow leadflow-bench leadflow-dev-broker >/dev/null
  bin="$root/build/services"
fi
data=$(mktemp -d)
out=$(mktemp)
broker_out=$(mktemp)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$data" "$out" "$broker_out"' EXIT
engine_args=()
if [ "${LEADFLOW_ENGINE:-embedded}" = kafka ]; then
  "$bin/leadflow-dev-broker/leadflow-dev-broker" >"$broker_out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q 'bootstrap servers' "$broker_out" && break; sleep 0.1; done
  engine_args=(--kafka-brokers "$(sed -n 's/.*bootstrap servers //p' "$broker_out")")
fi

server=""
# Starts leadflowd with extra arguments on $data, waits until it listens, and
# sets $server (its pid), $target and $serving_seconds (start to listening).
start_server() {
  : >"$out"
  local t0
  t0=$(date +%s%N)
  "$bin/leadflowd/leadflowd" --data-dir "$data" --listen "${listen:-127.0.0.1:0}" \
    "${engine_args[@]}" ${LEADFLOWD_ARGS:-} "$@" >"$out" 2>&1 &
  server=$!
  pids+=($server)
  # Up to 10 minutes: a rebuild of a large log takes a while.
  for _ in $(seq 60000); do
    grep -q 'listening on' "$out" && break
    kill -0 "$server" 2>/dev/null || { cat "$out"; exit 1; }
    sleep 0.01
  done
  serving_seconds=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
  target=$(sed -n 's/.*listening on \(.*\)$/\1/p' "$out")
  [ -n "$target" ] || { cat "$out"; exit 1; }
}

# Events in the event log, from the projection's end offsets.
logged_events() {
  "$bin/leadflow/leadflow" --target "$target" status | python3 -c '
import json, sys
status = json.load(sys.stdin)
print(sum(int(p.get("endOffset", 0)) for p in status.get("processors", [])
          if p.get("processor") == "projection"))'
}

start_server
listen=$target  # restarts keep the address
# The CLI and the bench call with the administrator key of the first start.
export LEADFLOW_TOKEN_FILE="$data/admin.key"
if [ -n "${LEADFLOW_ROBOTS:-}" ]; then
  "$bin/leadflow/leadflow" --target "$target" apply -f "$LEADFLOW_ROBOTS" >/dev/null
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; engine ${LEADFLOW_ENGINE:-embedded}; leadflowd ${LEADFLOWD_ARGS:-(defaults)}; robots ${LEADFLOW_ROBOTS:-none}"
status=0
"$bin/leadflow-bench/leadflow-bench" --target "$target" "${bench_args[@]}" || status=$?
echo "server: resident memory $(awk '/VmRSS/{printf "%.0f MB", $2 / 1024}' "/proc/$server/status") after the bench"
if [ "$restart" = 1 ]; then
  kill -KILL "$server"
  wait "$server" 2>/dev/null || true
  start_server
  echo "restart: serving ${serving_seconds}s after a start following SIGKILL ($(logged_events) events in the log)"
fi
if [ "$rebuild" = 1 ]; then
  kill -TERM "$server"
  wait "$server" 2>/dev/null || true
  start_server --rebuild-read-models
  events=$(logged_events)
  echo "rebuild: $events events folded into fresh read models in ${serving_seconds}s:" \
    "$(awk -v e="$events" -v s="$serving_seconds" 'BEGIN { printf "%.0f", e / s }') events/s"
fi
exit $status
