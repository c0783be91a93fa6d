#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite
# with ctest. Tests start their own leadflowd on free loopback ports with temp
# data dirs. Pass ctest arguments to narrow it, e.g. `-L pure`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh"
cd "$root/build"
ctest --output-on-failure --parallel 2 --timeout 600 "$@"
