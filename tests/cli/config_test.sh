#!/usr/bin/env bash
# leadflowd's configuration file (--config, YAML named as the flags) and
# environment (LEADFLOWD_<FLAG>) through the real binary: the file's
# settings in force, the environment over the file, a flag over both, and
# files it refuses naming the line and key.
set -euo pipefail

: "${LEADFLOWD:?path to leadflowd}" "${LEADFLOW_CLI:?path to leadflow}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=harness.sh
source "$here/harness.sh"

cat >"$work/leadflowd.yaml" <<YAML
# The same names as the flags; '_' may stand for '-'.
data-dir: $work/data
partitions: 2
default_region: KZ
time-zone: Europe/Moscow
supervisors: [olga, ivan]
log-format: json
http-listen: 127.0.0.1:0
YAML
# The "starting" line: what the server took.
started() { python3 -c "
import json, sys
for line in open('$work/out'):
    if line.startswith('{') and json.loads(line)['message'] == 'starting':
        print(json.loads(line)[sys.argv[1]]); break" "$1"; }

start_leadflowd --config "$work/leadflowd.yaml"
check "the file's data dir" [ "$(started data_dir)" = "$work/data" ]
check "  its partitions" [ "$(started partitions)" = 2 ]
check "  its region (default_region for default-region)" [ "$(started default_region)" = KZ ]
check "  its time zone, and JSON logs (this line is one)" [ "$(started time_zone)" = Europe/Moscow ]
check "  and its HTTP listener" grep -q 'http (metrics, probes, intake) on 127.0.0.1:' "$work/out"
export LEADFLOW_TOKEN_FILE="$work/data/admin.key"
check "it serves" [ "$(lf status | json "d['engine']")" = embedded ]
kill "$server"; wait "$server" 2>/dev/null || true

LEADFLOWD_DEFAULT_REGION=BY LEADFLOWD_TIME_ZONE=Asia/Almaty start_leadflowd --config "$work/leadflowd.yaml" \
  --time-zone Europe/Berlin
check "the environment over the file" [ "$(started default_region)" = BY ]
check "a flag over both" [ "$(started time_zone)" = Europe/Berlin ]
kill "$server"; wait "$server" 2>/dev/null || true

LEADFLOWD_CONFIG="$work/leadflowd.yaml" start_leadflowd
check "the file named by LEADFLOWD_CONFIG" [ "$(started partitions)" = 2 ]
kill "$server"; wait "$server" 2>/dev/null || true

refused() { # the file's text, then what the refusal must say
  printf '%s\n' "$1" >"$work/bad.yaml"
  if "$LEADFLOWD" --config "$work/bad.yaml" --listen 127.0.0.1:0 >"$work/bad.out" 2>&1; then return 1; fi
  grep -qF -- "$2" "$work/bad.out" || { cat "$work/bad.out"; return 1; }
}
check "an unknown setting is refused with its line" refused $'data-dir: x\ncolour: red' \
  "--config: line 2: 'colour' is not a setting of leadflowd"
check "a map value is refused" refused $'data-dir: x\nlisten:\n  host: a' \
  "--config: line 3: listen: expected a value or a list of values, not a map"
check "a setting twice is refused" refused $'partitions: 2\npartitions: 3' \
  "--config: line 2: partitions: given twice"
check "broken YAML is refused with its line" refused $'data-dir: [x' "--config: line"
check "a value of the wrong kind is refused naming the flag" refused 'partitions: many' "partitions"
if "$LEADFLOWD" --config "$work/none.yaml" >"$work/bad.out" 2>&1; then check "a missing file is refused" false; fi
check "  naming it" grep -q "none.yaml" "$work/bad.out"
if LEADFLOWD_CONFIG="$work/none.yaml" "$LEADFLOWD" >"$work/bad.out" 2>&1; then check "a missing LEADFLOWD_CONFIG file is refused" false; fi
check "  naming it" grep -q "none.yaml" "$work/bad.out"
finish
