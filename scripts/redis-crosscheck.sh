#!/usr/bin/env bash
# Cross-check tokenbench's Redis session lookups against redis-benchmark on the same server.
#
# At 1 and at 2 x cores client threads, compares:
#   - tokenbench: `tokenbench scale --schemes session --store $URL --threads T --sessions N`,
#     ops/s of session-redis read from the scale.json it writes (each op: ID syntax check,
#     GET, JSON decode of the record, deadline checks; T threads sharing one pooled store);
#   - redis-benchmark: `GET <key>` with T clients, no pipelining (-P 1), where <key> holds a
#     real session record issued by tokenbench (`tokenbench issue --store ...`), so both
#     sides fetch values of the same size from the same server.
# Rounds alternate the two tools (medians are compared), so machine noise hits both alike.
# Prints a table with the ratio tokenbench / redis-benchmark, and exits 1 if any ratio is
# below the target (0.8 by default).
#
# Usage: scripts/redis-crosscheck.sh [redis://HOST:PORT]
# Environment:
#   TOKENBENCH_REDIS_URL  server when no argument is given (default redis://127.0.0.1:6379)
#   TOKENBENCH            tokenbench binary (default: cargo build --release, target/release/tokenbench)
#   ROUNDS                alternating rounds per tool (default 3)
#   THREADS               thread/client counts (default "1 <2 x cores>")
#   SESSIONS              tokenbench working set (default 1000)
#   REQUESTS              redis-benchmark requests per client (default 40000)
#   TARGET                lowest acceptable ratio (default 0.8)
#
# Every key it creates lives under tokenbench:crosscheck:<random>: and is deleted on exit;
# tokenbench's own keys are under its per-run prefix and deleted by tokenbench.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
url=${1:-${TOKENBENCH_REDIS_URL:-redis://127.0.0.1:6379}}
rounds=${ROUNDS:-3}
sessions=${SESSIONS:-1000}
requests=${REQUESTS:-40000}
target=${TARGET:-0.8}
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

# redis://[user:password@]host[:port][/db] -> host, port, db, password (for redis-cli/-benchmark).
read -r host port db auth < <(python3 - "$url" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
if u.scheme != "redis":
    sys.exit(f"redis-crosscheck: expected a redis:// URL, got {sys.argv[1]!r}")
db = (u.path or "/").strip("/") or "0"
print(u.hostname or "127.0.0.1", u.port or 6379, db, u.password or "-")
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
    echo "redis-crosscheck: no Redis answers at $url (start redis-server, or pass another URL)" >&2
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
if [[ $record_bytes -eq 0 ]]; then
    echo "redis-crosscheck: tokenbench issue left no session at $key" >&2
    exit 1
fi

tokenbench_round() { # -> lines "threads ops_per_sec errors"
    local out=$work/tb-$1
    local list
    list=$(tr ' ' ',' <<<"$threads")
    "$tb" scale --schemes session --store "$url" --threads "$list" --sessions "$sessions" \
        --single-backend --out "$out" >"$work/tb-$1.log" 2>&1 || true
    local json
    json=$(find "$out" -name scale.json | head -n 1)
    if [[ -z $json ]]; then
        echo "redis-crosscheck: tokenbench scale wrote no scale.json; its output:" >&2
        cat "$work/tb-$1.log" >&2
        exit 1
    fi
    python3 - "$json" <<'EOF'
import json, sys
for p in json.load(open(sys.argv[1]))["points"]:
    if p["scheme"] == "session-redis":
        print(p["threads"], p["ops_per_sec"], p["errors"])
EOF
}

bench_round() { # $1 = clients -> rps
    local n=$((requests * $1))
    redis-benchmark -h "$host" -p "$port" --dbnum "$db" "${bench_auth[@]}" \
        -c "$1" -n "$n" -P 1 --csv GET "$key" 2>/dev/null |
        python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
print(rows[-1][1])'
}

echo "redis-crosscheck: $url, session record $record_bytes bytes, threads/clients: $threads," \
    "$rounds alternating rounds" >&2
: >"$work/tb" && : >"$work/rb"
for ((r = 1; r <= rounds; r++)); do
    # Alternate which tool goes first.
    if ((r % 2)); then order="tb rb"; else order="rb tb"; fi
    for tool in $order; do
        if [[ $tool == tb ]]; then
            tokenbench_round "$r" >>"$work/tb"
        else
            for t in $threads; do
                echo "$t $(bench_round "$t")" >>"$work/rb"
            done
        fi
    done
    echo "redis-crosscheck: round $r/$rounds done" >&2
done

python3 - "$work/tb" "$work/rb" "$target" "$record_bytes" "$sessions" "$rounds" <<'EOF'
import statistics, sys
tb_file, rb_file, target, record, sessions, rounds = sys.argv[1:]
target = float(target)
tb, rb, errors = {}, {}, {}
for line in open(tb_file):
    t, ops, err = line.split()
    tb.setdefault(int(t), []).append(float(ops))
    errors[int(t)] = errors.get(int(t), 0) + int(err)
for line in open(rb_file):
    t, rps = line.split()
    rb.setdefault(int(t), []).append(float(rps))
print(f"\nsession lookups on one Redis server: median of {rounds} alternating rounds")
print(f"(tokenbench: {sessions} live sessions, GET + JSON decode; redis-benchmark: GET of one "
      f"real {record} B session record; no pipelining on either side)\n")
print("| threads = clients | tokenbench ops/s | redis-benchmark GET ops/s | ratio |")
print("|------------------:|-----------------:|--------------------------:|------:|")
failed = []
for t in sorted(set(tb) | set(rb)):
    a = statistics.median(tb[t]) if t in tb else float("nan")
    b = statistics.median(rb[t]) if t in rb else float("nan")
    ratio = a / b if b else float("nan")
    print(f"| {t:>17} | {a:>16,.0f} | {b:>25,.0f} | {ratio:>5.2f} |")
    if not ratio >= target:
        failed.append((t, ratio))
    if errors.get(t):
        print(f"  warning: {errors[t]} tokenbench lookups failed at {t} threads")
print()
if failed:
    for t, ratio in failed:
        print(f"FAIL: at {t} threads tokenbench reaches {ratio:.2f}x redis-benchmark, "
              f"below the {target}x target (see the module docs of src/store/redis.rs and the "
              f"README for where the difference goes)")
    sys.exit(1)
print(f"ok: every ratio >= {target}")
EOF
