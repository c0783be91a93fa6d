# Sourced by the CLI tests: a temp dir `work` removed at exit together with
# every background process whose pid is in `pids`, and `check NAME CMD...`,
# which counts CMD's success or failure; `finish` prints the counts and
# fails the test if any check failed.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# The CLI's credential comes from each test, never from the user's own
# ~/.config/leadflow/token.
export XDG_CONFIG_HOME="$work/config"
unset LEADFLOW_TOKEN LEADFLOW_TOKEN_FILE

pass=0 fail=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}
