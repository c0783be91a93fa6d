#!/usr/bin/env bash
# Intake end to end, leadflow against its PostgreSQL peer, side by side on
# this machine: alternating runs of the peer (../shared/bench/pg_peer/run.sh,
# an event table with inline projections in PL/pgSQL, fsync on) and of
# deploy/bench.sh step 1 (embedded engine, fsync on), the same number of
# events, 2 clients, batches of 500. Prints each run and the ratio of the
# medians.
#   deploy/bench-vs-postgres.sh [--rounds N] [--events N]
# PG_PEER_DIR overrides where the peer lives; LEADFLOWD_ARGS and
# LEADFLOW_ROBOTS pass to deploy/bench.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer_dir=${PG_PEER_DIR:-$root/../shared/bench/pg_peer}
rounds=3
events=30000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--events N]" >&2; exit 2 ;;
  esac
done
[ -x "$peer_dir/run.sh" ] || { echo "no PostgreSQL peer at $peer_dir (set PG_PEER_DIR)" >&2; exit 1; }
"$root/deploy/build.sh" leadflowd leadflow leadflow-bench >/dev/null

peer=()
ours=()
for round in $(seq "$rounds"); do
  rate=$("$peer_dir/run.sh" --events "$events" --clients 2 --batch 500 --sync on --seed "$round" |
    sed -n 's/^pg peer: .* = \([0-9]*\) events\/s.*/\1/p')
  [ -n "$rate" ] || { echo "the peer printed no rate" >&2; exit 1; }
  peer+=("$rate")
  echo "round $round: PostgreSQL peer $rate events/s"
  rate=$("$root/deploy/bench.sh" --events "$events" --batch 500 --publishers 2 --commands 0 \
    --mixed-ops 0 --seed "$round" | sed -n 's/^intake: \([0-9]*\) events\/s end to end.*/\1/p')
  [ -n "$rate" ] || { echo "leadflow-bench printed no rate" >&2; exit 1; }
  ours+=("$rate")
  echo "round $round: leadflow        $rate events/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peer_median=$(median "${peer[@]}")
our_median=$(median "${ours[@]}")
echo "median of $rounds: leadflow $our_median events/s, PostgreSQL peer $peer_median events/s:" \
  "leadflow/peer $(awk -v a="$our_median" -v b="$peer_median" 'BEGIN { printf "%.2f", a / b }')"
