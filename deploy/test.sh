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
# A third stage builds the store, the logs, the processors and leadflowd
# with ThreadSanitizer (build-tsan/) and runs the engine tests and the
# embedded-engine e2e suites against that leadflowd: every processor thread,
# the group commit and gRPC's handlers under TSan (the Kafka engine cannot
# run there: librdkafka starts its threads with C11 thrd_create, which
# TSan does not intercept).
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

# ThreadSanitizer. Debian's Abseil is not built with it: tests/tsan makes
# its mutexes visible. Accesses inside intercepted libc calls (memcpy,
# write) are not checked, as uninstrumented RocksDB's own handoffs between
# writer threads would show there as races.
tsan=(state_store_test embedded_log_test processors_test log_conformance_test leadflowd)
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-tsan" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEADFLOW_TSAN=ON >/dev/null
cmake --build "$root/build-tsan" --parallel "$(nproc)" --target "${tsan[@]}"
# Reports go to files (a server's stderr is the test harness's), printed
# if the stage fails.
rm -f "$root/build-tsan"/tsan-report.*
export TSAN_OPTIONS="halt_on_error=1 ignore_interceptors_accesses=1 log_path=$root/build-tsan/tsan-report"
trap 'status=$?; if [[ $status -ne 0 ]]; then cat "$root/build-tsan"/tsan-report.* 2>/dev/null; fi' EXIT
cd "$root/build-tsan"
ctest --output-on-failure --timeout 600 -R '^(state_store_test|embedded_log_test|processors_test)$'
./tests/log_conformance_test '*EmbeddedEngine'
# The e2e suites of build/ drive the TSan leadflowd; a race stops it (exit
# 66), which fails the suite.
cd "$root/build"
export LEADFLOWD="$root/build-tsan/services/leadflowd/leadflowd"
export LEADFLOW_CLI="$root/build/services/leadflow/leadflow"
export LEADFLOW_DEV_BROKER="$root/build/services/leadflow-dev-broker/leadflow-dev-broker"
./tests/crm_e2e_test
./tests/lead_api_e2e_test
./tests/robots_e2e_test '~*Kafka*'
./tests/intake_e2e_test '~*Kafka*'
