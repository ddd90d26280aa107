#!/usr/bin/env bash
# Checks the latency proxy with tools made elsewhere: for each round trip in RTTS, starts
# `tokenbench proxy` in front of Redis (redis-benchmark: one client, PING, its p50) and of
# PostgreSQL (pgbench: one client, `SELECT 1`, its average latency), measures straight and
# through the proxy, back to back, and prints the round trip the proxy added against its
# setting. Exits non-zero when an added round trip is off its setting by more than TOL
# (a share; default 0.10).
#
#   TOKENBENCH=target/release/tokenbench RTTS="0.5ms 2ms" scripts/proxy-check.sh
#
# Needs redis-benchmark (Redis at REDIS_PORT, default 6379) and pgbench (PostgreSQL at
# PG_HOST:PG_PORT, trust auth, database PG_DB, user PG_USER); a store whose tool or server
# is missing is skipped with a note.
set -euo pipefail
cd "$(dirname "$0")/.."

TOKENBENCH=${TOKENBENCH:-target/release/tokenbench}
RTTS=${RTTS:-"0.5ms 2ms"}
TOL=${TOL:-0.10}
REDIS_PORT=${REDIS_PORT:-6379}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_DB=${PG_DB:-test}
PG_USER=${PG_USER:-postgres}
N=${N:-1000}
SECS=${SECS:-3}

if [ ! -x "$TOKENBENCH" ]; then
  cargo build --release
fi

work=$(mktemp -d)
pids=()
cleanup() {
  # The pipelines' members (sleep and the proxy) are this script's children.
  pkill -P $$ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a proxy to $1 adding $2 (in this shell, not a subshell: its stdin stays open
# until the script ends); sets PORT to where it listens.
start_proxy() {
  local out="$work/out.$RANDOM"
  # Its stdin is a sleep that outlives the script's checks; the trap stops both.
  sleep 3600 | "$TOKENBENCH" proxy --upstream "$1" --rtt "$2" >"$out" &
  pids+=($!)
  PORT=
  for _ in $(seq 100); do
    if grep -q "listening on" "$out" 2>/dev/null; then
      PORT=$(sed -E 's/^listening on [0-9.]+:([0-9]+).*/\1/' "$out")
      return 0
    fi
    sleep 0.05
  done
  echo "error: the proxy to $1 did not start" >&2
  exit 1
}

# ms of a redis-benchmark PING p50 against port $1.
redis_p50() {
  redis-benchmark -p "$1" -c 1 -n "$N" -t ping --csv 2>/dev/null |
    awk -F'"' '/PING_MBULK/ {print $10}'
}

# ms of a pgbench SELECT 1 average against port $1.
pg_avg() {
  echo "SELECT 1;" >"$work/select1.sql"
  pgbench -h "$PG_HOST" -p "$1" -U "$PG_USER" -n -c 1 -T "$SECS" -f "$work/select1.sql" "$PG_DB" 2>/dev/null |
    awk '/latency average/ {print $4}'
}

status=0
printf '%-10s %-7s %12s %14s %12s %10s\n' store setting "straight ms" "through ms" "added ms" verdict
check() { # store setting straight through
  local added ratio verdict
  added=$(awk -v a="$3" -v b="$4" 'BEGIN {printf "%.3f", b - a}')
  ratio=$(awk -v d="$added" -v s="$2" 'BEGIN {s += 0; printf "%.3f", d / s}')
  if awk -v r="$ratio" -v t="$TOL" 'BEGIN {exit !(r >= 1 - t && r <= 1 + t)}'; then
    verdict=ok
  else
    verdict="OFF (x$ratio)"
    status=1
  fi
  printf '%-10s %-7s %12s %14s %12s %10s\n' "$1" "$2ms" "$3" "$4" "$added" "$verdict"
}

to_ms() { awk -v d="$1" 'BEGIN { if (d ~ /ms$/) {sub(/ms$/, "", d); print d} else if (d ~ /us$/) {sub(/us$/, "", d); print d / 1000} else {sub(/s$/, "", d); print d * 1000} }'; }

for rtt in $RTTS; do
  ms=$(to_ms "$rtt")
  if command -v redis-benchmark >/dev/null && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    start_proxy "127.0.0.1:$REDIS_PORT" "$rtt"
    straight=$(redis_p50 "$REDIS_PORT")
    through=$(redis_p50 "$PORT")
    check redis "$ms" "$straight" "$through"
  else
    echo "note: redis-benchmark or Redis on $REDIS_PORT missing: Redis not checked" >&2
  fi
  if command -v pgbench >/dev/null && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    start_proxy "$PG_HOST:$PG_PORT" "$rtt"
    straight=$(pg_avg "$PG_PORT")
    through=$(pg_avg "$PORT")
    check postgres "$ms" "$straight" "$through"
  else
    echo "note: pgbench or PostgreSQL on $PG_HOST:$PG_PORT missing: PostgreSQL not checked" >&2
  fi
done
exit $status
