#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs leadflowd in the
# foreground on the embedded log. Data lives in ./leadflow-data (override with
# LEADFLOW_DATA_DIR); gRPC on 127.0.0.1:50051 (LEADFLOW_LISTEN). Ctrl-C stops.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh" leadflowd leadflow
exec "$root/build/services/leadflowd/leadflowd" \
  --data-dir "${LEADFLOW_DATA_DIR:-$root/leadflow-data}" \
  --listen "${LEADFLOW_LISTEN:-127.0.0.1:50051}" "$@"
