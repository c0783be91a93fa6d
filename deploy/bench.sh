#!/usr/bin/env bash
# Builds, starts a leadflowd on a fresh temp data dir and a free port, runs
# leadflow-bench against it, and stops it. Arguments go to leadflow-bench.
# LEADFLOW_ENGINE=kafka runs it on leadflow-dev-broker (in-memory Kafka
# protocol brokers) instead of the embedded log. LEADFLOW_ROBOTS=FILE applies
# that pipelines file (e.g. examples/pipelines/robots.yaml) first, so the
# bench runs with its robots and triggers switched on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh" leadflowd leadflow leadflow-bench leadflow-dev-broker >/dev/null
data=$(mktemp -d)
out=$(mktemp)
broker_out=$(mktemp)
pids=()
trap 'kill ${pids[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$data" "$out" "$broker_out"' EXIT
engine_args=()
if [ "${LEADFLOW_ENGINE:-embedded}" = kafka ]; then
  "$root/build/services/leadflow-dev-broker/leadflow-dev-broker" >"$broker_out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q 'bootstrap servers' "$broker_out" && break; sleep 0.1; done
  engine_args=(--kafka-brokers "$(sed -n 's/.*bootstrap servers //p' "$broker_out")")
fi
"$root/build/services/leadflowd/leadflowd" --data-dir "$data" --listen 127.0.0.1:0 \
  "${engine_args[@]}" ${LEADFLOWD_ARGS:-} >"$out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.1; done
target=$(sed -n 's/.*listening on \(.*\)$/\1/p' "$out")
[ -n "$target" ] || { cat "$out"; exit 1; }
if [ -n "${LEADFLOW_ROBOTS:-}" ]; then
  "$root/build/services/leadflow/leadflow" --target "$target" apply -f "$LEADFLOW_ROBOTS" >/dev/null
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; engine ${LEADFLOW_ENGINE:-embedded}; leadflowd ${LEADFLOWD_ARGS:-(defaults)}; robots ${LEADFLOW_ROBOTS:-none}"
"$root/build/services/leadflow-bench/leadflow-bench" --target "$target" "$@"
