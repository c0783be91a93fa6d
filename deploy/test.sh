#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite
# with ctest. Tests start their own leadflowd on free loopback ports with temp
# data dirs. Pass ctest arguments to narrow it, e.g. `-L pure` (the
# sanitizer stage below then does not run).
#
# With no arguments a second stage follows: the domain core, the store, the
# embedded log and the fuzz targets built with clang under AddressSanitizer
# and UndefinedBehaviorSanitizer (build-sanitize/), the pure and engine
# tests run there, and each libFuzzer target for LEADFLOW_FUZZ_SECONDS (30).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh"
cd "$root/build"
ctest --output-on-failure --parallel 2 --timeout 600 "$@"
[[ $# -eq 0 ]] || exit 0

sanitized=(domain_test crm_aggregates_test state_store_test embedded_log_test
           channel_event_fuzz record_decoders_fuzz pipelines_yaml_fuzz)
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-sanitize" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEADFLOW_SANITIZE=ON -DLEADFLOW_FUZZ=ON \
  -DLEADFLOW_FUZZ_SECONDS="${LEADFLOW_FUZZ_SECONDS:-30}" >/dev/null
cmake --build "$root/build-sanitize" --parallel "$(nproc)" --target "${sanitized[@]}"
cd "$root/build-sanitize"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
ctest --output-on-failure --timeout 600 \
  -R '^(domain_test|crm_aggregates_test|state_store_test|embedded_log_test)$'
ctest --output-on-failure --parallel 2 --timeout 600 -L fuzz
