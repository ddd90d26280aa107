#!/usr/bin/env bash
# Regenerates the committed reference run in results/reference/: the full `run` (all four
# workloads, every scheme, both crypto backends) and, when a Redis server answers at
# $TOKENBENCH_REDIS_URL (default redis://127.0.0.1:6379/), the Redis store beside the
# embedded ones, and PostgreSQL when one answers at $TOKENBENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test). The node runs use the Redis store. Extra arguments go to `tokenbench run` (e.g. --quick to try it out).
set -euo pipefail
cd "$(dirname "$0")/.."

url="${TOKENBENCH_REDIS_URL:-redis://127.0.0.1:6379/}"
stores="memory,rwlock"
if command -v redis-cli >/dev/null 2>&1 && redis-cli -u "$url" ping >/dev/null 2>&1; then
  stores="$stores,$url"
else
  # The URL without its password, as tokenbench::store::redact_url shows it.
  shown=$(printf '%s' "$url" | sed -E 's#://([^:/@]*):.*@#://\1:***@#; t; s#://[^/@]+@#://***@#')
  echo "note: no Redis at $shown; the reference run will have the embedded stores only" >&2
fi

pg="${TOKENBENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
if command -v psql >/dev/null 2>&1 && psql "$pg" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  stores="$stores,$pg"
else
  echo "note: no PostgreSQL answers; the reference run will have no session-postgres rows" >&2
fi

cargo build --release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./target/release/tokenbench run --label reference --store "$stores" --out "$work" "$@"
rm -rf results/reference
cp -r "$(readlink -f "$work/latest")" results/reference
rm -f results/reference/INCOMPLETE
# Rebuilt where it now lives, so its reproduce line reads `tokenbench report results/reference`.
./target/release/tokenbench report results/reference >/dev/null
echo "reference run written to results/reference/ (report: results/reference/report.html)"
