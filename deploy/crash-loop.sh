#!/usr/bin/env bash
# The long crash-test loop (docs/operations.md, "Failure modes"): the same
# test as ctest's crash_loop_e2e_test, with more kills, on each engine.
#   ./deploy/crash-loop.sh [--kills N] [--engine embedded|kafka|both]
# Builds what it needs; prints each run's result and how long it took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kills=200
engine=both
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kills) kills="$2"; shift 2 ;;
    --engine) engine="$2"; shift 2 ;;
    *) echo "usage: $0 [--kills N] [--engine embedded|kafka|both]" >&2; exit 2 ;;
  esac
done
"$root/deploy/build.sh" leadflowd leadflow-dev-broker crash_loop_e2e_test
build="$root/build"
engines=(embedded kafka)
[[ "$engine" != both ]] && engines=("$engine")
status=0
for e in "${engines[@]}"; do
  start=$(date +%s)
  echo "crash loop: $kills kills on the $e engine"
  if LEADFLOW_CRASH_KILLS="$kills" LEADFLOW_CRASH_ENGINE="$e" \
     LEADFLOWD="$build/services/leadflowd/leadflowd" \
     LEADFLOW_DEV_BROKER="$build/services/leadflow-dev-broker/leadflow-dev-broker" \
     "$build/tests/crash_loop_e2e_test" --durations yes; then
    echo "crash loop: $e: passed, $kills kills in $(( $(date +%s) - start )) s"
  else
    echo "crash loop: $e: FAILED after $(( $(date +%s) - start )) s"
    status=1
  fi
done
exit $status
