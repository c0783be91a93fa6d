#!/usr/bin/env bash
# Installs what is missing and builds leadflow into build/ (Ninja, ccache when
# present). Extra arguments are ninja targets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" --parallel "$(nproc)" ${1:+--target "$@"}
