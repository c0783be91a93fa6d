#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs leadflowd in the
# foreground on the embedded log. Data lives in ./leadflow-data (override with
# LEADFLOW_DATA_DIR); gRPC on 127.0.0.1:50051 (LEADFLOW_LISTEN); metrics,
# probes and web-form intake over HTTP on 127.0.0.1:8080 (LEADFLOW_HTTP_LISTEN,
# empty for none). Ctrl-C stops.
# The administrator's API key is kept where the CLI looks for its
# credential, ~/.config/leadflow/token (made at the first start).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh" leadflowd leadflow
http_listen=${LEADFLOW_HTTP_LISTEN-127.0.0.1:8080}
http=()
if [ -n "$http_listen" ]; then http=(--http-listen "$http_listen"); fi
exec "$root/build/services/leadflowd/leadflowd" \
  --data-dir "${LEADFLOW_DATA_DIR:-$root/leadflow-data}" \
  --listen "${LEADFLOW_LISTEN:-127.0.0.1:50051}" \
  "${http[@]}" \
  --admin-key-file "${LEADFLOW_ADMIN_KEY_FILE:-${XDG_CONFIG_HOME:-$HOME/.config}/leadflow/token}" \
  "$@"
