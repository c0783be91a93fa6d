#!/usr/bin/env bash
# Builds, starts a leadflowd on a fresh temp data dir and a free port, runs
# leadflow-bench against it, and stops it. Arguments go to leadflow-bench.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh" leadflowd leadflow-bench >/dev/null
data=$(mktemp -d)
out=$(mktemp)
"$root/build/services/leadflowd/leadflowd" --data-dir "$data" --listen 127.0.0.1:0 \
  ${LEADFLOWD_ARGS:-} >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data" "$out"' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.1; done
target=$(sed -n 's/.*listening on \(.*\)$/\1/p' "$out")
[ -n "$target" ] || { cat "$out"; exit 1; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; leadflowd ${LEADFLOWD_ARGS:-(defaults)}"
"$root/build/services/leadflow-bench/leadflow-bench" --target "$target" "$@"
