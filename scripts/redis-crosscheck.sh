#!/usr/bin/env bash
# Cross-check tokenbench's Redis session lookups against redis-benchmark on the same server.
#
# At 1 and at 2 x cores client threads, compares:
#   - tokenbench: `tokenbench scale --schemes session --store $URL --threads T --sessions N`,
#     ops/s of session-redis read from the scale.json it writes (each op: ID syntax check,
#     GET, decode of the binary record, deadline checks; T threads sharing one pooled store);
#   - redis-benchmark: `GET <key>` with T clients, no pipelining (-P 1), where <key> holds a
#     real session record issued by tokenbench (`tokenbench issue --store ...`), so both
#     sides fetch values of the same size from the same server.
# Each tokenbench point is paired with a redis-benchmark run right before or after it
# (alternating), and the ratio is the median of the per-pair ratios, so that machine noise
# hits both sides alike.
# For reference it also prints `redis-benchmark -t get -d <record size>` as usually run: its
# key does not exist (no SET test runs first), so every reply is nil, a slightly cheaper GET.
# Prints a table with the ratio tokenbench / redis-benchmark, and exits 1 if any ratio is
# below the target (0.9 by default). It also prints the record's size and what Redis holds
# for it (`MEMORY USAGE`), the memory per session.
#
# Usage: scripts/redis-crosscheck.sh [redis://HOST:PORT]
# Environment:
#   TOKENBENCH_REDIS_URL  server when no argument is given (default redis://127.0.0.1:6379)
#   TOKENBENCH            tokenbench binary (default: cargo build --release, target/release/tokenbench)
#   ROUNDS                pairs per thread count (default 9; the machine noise is large)
#   THREADS               thread/client counts (default "1 <2 x cores>")
#   SESSIONS              tokenbench working set (default 1000)
#   REQUESTS              redis-benchmark requests per client (default 20000, about 1 s)
#   TARGET                lowest acceptable ratio (default 0.9)
#
# Every key it creates lives under tokenbench:crosscheck:<random>: and is deleted on exit;
# tokenbench's own keys are under its per-run prefix and deleted by tokenbench.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
url=${1:-${TOKENBENCH_REDIS_URL:-redis://127.0.0.1:6379}}
rounds=${ROUNDS:-9}
sessions=${SESSIONS:-1000}
requests=${REQUESTS:-20000}
target=${TARGET:-0.9}
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)
threads=${THREADS:-"1 $((2 * cores))"}

missing=()
for tool in redis-benchmark redis-cli python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ -z ${TOKENBENCH:-} ]] && ! command -v cargo >/dev/null 2>&1; then
    missing+=("cargo (or set TOKENBENCH to a tokenbench binary)")
fi
if ((${#missing[@]})); then
    echo "redis-crosscheck: missing: ${missing[*]}" >&2
    echo "  (Debian/Ubuntu: apt-get install redis-tools python3; Rust: https://rustup.rs)" >&2
    exit 2
fi

# redis://[user:password@]host[:port][/db] -> host, port, db, password (for redis-cli/-benchmark),
# and the URL to print, its password replaced by *** as tokenbench::store::redact_url does.
read -r host port db auth shown < <(python3 - "$url" <<'EOF'
import sys, urllib.parse
url = sys.argv[1]
scheme, sep, rest = url.partition("://")
userinfo, at, hosts = rest.rpartition("@")
if sep and at:
    user, colon, _ = userinfo.partition(":")
    shown = f"{scheme}://{user + ':***' if colon else '***'}@{hosts}"
else:
    shown = url
u = urllib.parse.urlparse(url)
if u.scheme != "redis":
    sys.exit(f"redis-crosscheck: expected a redis:// URL, got {shown!r}")
db = (u.path or "/").strip("/") or "0"
print(u.hostname or "127.0.0.1", u.port or 6379, db, u.password or "-", shown)
EOF
)
[[ -n ${host:-} ]] || exit 2
cli=(redis-cli -h "$host" -p "$port" -n "$db")
bench_auth=()
if [[ $auth != "-" ]]; then
    export REDISCLI_AUTH=$auth
    bench_auth=(-a "$auth")
fi
if ! "${cli[@]}" ping >/dev/null 2>&1; then
    echo "redis-crosscheck: no Redis answers at $shown (start redis-server, or pass another URL)" >&2
    exit 2
fi

if [[ -n ${TOKENBENCH:-} ]]; then
    tb=$TOKENBENCH
else
    echo "redis-crosscheck: cargo build --release" >&2
    (cd "$here" && cargo build --release --quiet)
    tb=$here/target/release/tokenbench
fi

work=$(mktemp -d)
prefix="tokenbench:crosscheck:$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n'):"
cleanup() {
    "${cli[@]}" --scan --pattern "${prefix}*" 2>/dev/null | while read -r k; do
        "${cli[@]}" del "$k" >/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

# One real session record, as tokenbench stores it.
token=$("$tb" issue --scheme session --store "$url" --redis-prefix "$prefix" --count 1)
key="$prefix$token"
record_bytes=$("${cli[@]}" strlen "$key")
record_memory=$("${cli[@]}" memory usage "$key")
if [[ $record_bytes -eq 0 ]]; then
    echo "redis-crosscheck: tokenbench issue left no session at $key" >&2
    exit 1
fi

tokenbench_point() { # $1 = threads -> "ops_per_sec errors"
    local out=$work/tb-$1-$RANDOM
    "$tb" scale --schemes session --store "$url" --threads "$1" --sessions "$sessions" \
        --single-backend --out "$out" >"$out.log" 2>&1 || true
    local json
    json=$(find "$out" -name scale.json 2>/dev/null | head -n 1)
    if [[ -z $json ]]; then
        echo "redis-crosscheck: tokenbench scale wrote no scale.json; its output:" >&2
        cat "$out.log" >&2
        exit 1
    fi
    python3 - "$json" <<'EOF'
import json, sys
for p in json.load(open(sys.argv[1]))["points"]:
    if p["scheme"] == "session-redis":
        print(p["ops_per_sec"], p["errors"])
EOF
    rm -rf "$out" "$out.log"
}

bench() { # $1 = clients, then the test (-t get -d N, or a command) -> ops/s
    local c=$1
    shift
    redis-benchmark -h "$host" -p "$port" --dbnum "$db" "${bench_auth[@]}" \
        -c "$c" -n $((requests * c)) -P 1 --csv "$@" 2>/dev/null |
        python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
print(rows[-1][1])'
}

echo "redis-crosscheck: $shown, session record $record_bytes bytes, threads/clients: $threads," \
    "$rounds rounds" >&2
: >"$work/pairs"
for ((r = 1; r <= rounds; r++)); do
    for t in $threads; do
        # Each measurement is paired with the other tool's, run right before or after it
        # (alternating), so that both see the same machine.
        if (((r + t) % 2)); then
            tb_out=$(tokenbench_point "$t")
            read -r tb_ops tb_err <<<"$tb_out"
            rb_ops=$(bench "$t" GET "$key")
        else
            rb_ops=$(bench "$t" GET "$key")
            tb_out=$(tokenbench_point "$t")
            read -r tb_ops tb_err <<<"$tb_out"
        fi
        nil_ops=$(bench "$t" -t get -d "$record_bytes")
        echo "$t $tb_ops $rb_ops $nil_ops $tb_err" >>"$work/pairs"
        printf 'redis-crosscheck: round %d, %d threads: tokenbench %.0f, redis-benchmark %.0f ops/s\n' \
            "$r" "$t" "$tb_ops" "$rb_ops" >&2
    done
done

python3 - "$work/pairs" "$target" "$record_bytes" "$sessions" "$rounds" "$record_memory" <<'EOF'
import statistics, sys
pairs, target, record, sessions, rounds, memory = sys.argv[1:]
target = float(target)
by = {}
for line in open(pairs):
    t, tb, rb, nil, err = line.split()
    by.setdefault(int(t), []).append((float(tb), float(rb), float(nil), int(err)))
med = statistics.median
print(f"\nsession lookups on one Redis server, {rounds} rounds, each tokenbench point paired "
      f"with a redis-benchmark run right before or after it")
print(f"(tokenbench: {sessions} live sessions, ID check + GET + record decode, threads sharing one "
      f"connection pool; redis-benchmark: GET of one real {record} B session record; no "
      f"pipelining on either side; ops/s are medians, ratios the median of per-pair ratios)")
print(f"memory per session: a typical record is {record} B, MEMORY USAGE of its key {memory} B\n")
print("| threads = clients | tokenbench ops/s | redis-benchmark GET ops/s | ratio (min-max) "
      f"| -t get -d {record} ops/s (nil reply) | ratio to it |")
print("|---:|---:|---:|---:|---:|---:|")
failed = []
for t, rows in sorted(by.items()):
    ratios = [tb / rb for tb, rb, _, _ in rows if rb > 0]
    nil_ratios = [tb / nil for tb, _, nil, _ in rows if nil > 0]
    ratio = med(ratios) if ratios else float("nan")
    print(f"| {t} | {med(r[0] for r in rows):,.0f} | {med(r[1] for r in rows):,.0f} "
          f"| {ratio:.2f} ({min(ratios):.2f}-{max(ratios):.2f}) "
          f"| {med(r[2] for r in rows):,.0f} | {med(nil_ratios):.2f} |")
    if not ratio >= target:
        failed.append((t, ratio))
    errors = sum(r[3] for r in rows)
    if errors:
        print(f"  warning: {errors} tokenbench lookups failed at {t} threads")
print()
if failed:
    for t, ratio in failed:
        print(f"FAIL: at {t} threads tokenbench reaches {ratio:.2f}x redis-benchmark, below the "
              f"{target}x target. Rerun on a quiet machine first (the min-max range shows the "
              f"noise); then compare client CPU per lookup (tokenbench validate: cpu of "
              f"session-redis rows) with redis-benchmark's.")
    sys.exit(1)
print(f"ok: every ratio >= {target}")
EOF
