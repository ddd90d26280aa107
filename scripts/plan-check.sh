#!/usr/bin/env bash
# Checks the capacity planner against a run of what it plans. Builds the release binary,
# makes a fresh quick run over Redis (session-redis and jwt-HS256, one crypto backend,
# bearer over HTTP/1.1, sites at RTT 0 and at the check's RTT measured over 2 s; under
# target/plan-check/, not results/), then `tokenbench plan --check`: predicts a
# deployment this machine can run from that run's figures alone, fills Redis with the
# sessions (a key prefix of its own, deleted afterwards), runs the site (the nodes over the
# store behind a latency proxy at the round trip, loaded at the rate) and prints, for
# server CPU per request, store operations/s, store CPU, store memory, bytes per request
# and the p50 latency added, the predicted and measured figure, their ratio and whether
# they agree within 25%. Exits non-zero when one does not (or when anything fails).
#
#   scripts/plan-check.sh                     # 2 nodes, 3k req/s, 100k sessions, RTT 0.5ms
#   RUN_DIR=results/latest scripts/plan-check.sh   # predict from an existing run instead
#   REDIS_URL=redis://127.0.0.1:6380 RATE=2k NODES=2 scripts/plan-check.sh
#
# Redis: REDIS_URL, else TOKENBENCH_REDIS_URL, else redis://127.0.0.1:6379. About 1 minute
# after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

REDIS_URL=${REDIS_URL:-${TOKENBENCH_REDIS_URL:-redis://127.0.0.1:6379}}
RATE=${RATE:-3k}
SESSIONS=${SESSIONS:-100k}
NODES=${NODES:-2}
RTT=${RTT:-0.5ms}
WINDOW=${WINDOW:-3s}
REPEATS=${REPEATS:-5}
TOKENBENCH=target/release/tokenbench

cargo build --release
if [ -z "${RUN_DIR:-}" ]; then
  # Sites measured over 2 s windows: a quick run's 150 ms count a few hundred requests,
  # too few for the figures the plan reads.
  "$TOKENBENCH" run --quick --schemes session,jwt --algs HS256 --store "$REDIS_URL" \
    --single-backend --http-transports bearer --http-protocols http1.1 --site-window 2s \
    --store-rtt "0,$RTT" \
    --out target/plan-check --label plan-check
  RUN_DIR=target/plan-check/latest
fi
"$TOKENBENCH" plan "$RUN_DIR" --rate "$RATE" --sessions "$SESSIONS" --nodes "$NODES" \
  --store-rtt "$RTT" --check --store "$REDIS_URL" --check-window "$WINDOW" \
  --check-repeats "$REPEATS"
