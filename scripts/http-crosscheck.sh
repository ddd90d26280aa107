#!/usr/bin/env bash
# Cross-check of tokenbench's load generator against oha (made elsewhere), back to back on
# the same `tokenbench serve` (JWT, bearer transport), the same route and the same fixed
# offered rate, both open loop with latency counted from the send time (oha -q RATE
# --latency-correction; tokenbench load --rate RATE). Two routes:
#
# - POST /login (argon2id, milliseconds per request) at LOGIN_RATE: gated. Passes when,
#   over the pairs, the median throughput ratio is within +-15% and the median p50 ratio
#   within +-25%.
# - GET /me with a bearer token (sub-millisecond) at RATE: throughput gated the same way;
#   p50 is printed against oha with and without --latency-correction and not gated:
#   oha's correction charges the hand-off from its scheduler task to a worker (about
#   0.1-0.15 ms on a 2-core machine) to every request, which at this scale is most of p50.
#
# Exit 1 when a gate fails, 2 on a setup error.
#
#   scripts/http-crosscheck.sh                    # defaults below
#   RATE=4000 PAIRS=5 TOKENBENCH=target/release/tokenbench scripts/http-crosscheck.sh
#
# oha is installed from crates.io into ~/.cargo (cargo install oha --locked) when missing.
# Only loopback is ever loaded. The token is never printed.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE="${RATE:-2000}"          # GET /me requests/s offered by both tools
LOGIN_RATE="${LOGIN_RATE:-100}"  # POST /login requests/s offered by both tools
DURATION="${DURATION:-4}"     # seconds per run
CONNS="${CONNS:-16}"          # oha -c, tokenbench --vus (HTTP/1.1: one connection each)
PAIRS="${PAIRS:-3}"           # back-to-back pairs
THREADS="${THREADS:-1}"       # worker threads of each generator (oha --worker-threads, load --threads)
SCHEME="${SCHEME:-jwt}"       # serve --scheme
ALG="${ALG:-ES256}"           # serve --alg (JWT)
TOKENBENCH="${TOKENBENCH:-target/release/tokenbench}"

if [ ! -x "$TOKENBENCH" ]; then
  echo "building $TOKENBENCH" >&2
  cargo build --release >&2
fi
OHA="$(command -v oha || true)"
if [ -z "$OHA" ] && [ -x "$HOME/.cargo/bin/oha" ]; then OHA="$HOME/.cargo/bin/oha"; fi
if [ -z "$OHA" ]; then
  echo "installing oha from crates.io (cargo install oha --locked)" >&2
  cargo install oha --locked --root "$HOME/.cargo" >&2
  OHA="$HOME/.cargo/bin/oha"
fi
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 2; }

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$TOKENBENCH" serve --scheme "$SCHEME" --alg "$ALG" --transport bearer --listen 127.0.0.1:0 --users 64 >"$tmp/serve.out" &
server_pid=$!
for _ in $(seq 300); do
  grep -q '^listening on ' "$tmp/serve.out" 2>/dev/null && break
  sleep 0.05
done
URL="$(sed -n 's/^listening on //p' "$tmp/serve.out" | head -1)"
[ -n "$URL" ] || { echo "the server did not start" >&2; exit 2; }

# A bearer token for oha, from a real login (never printed).
TOKEN="$(python3 - "$URL" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/login", data=b"username=user-0&password=password-0",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
print(json.load(urllib.request.urlopen(req))["access_token"])
PY
)"
[ -n "$TOKEN" ] || { echo "login failed" >&2; exit 2; }

echo "server: $URL ($SCHEME $ALG, bearer); $DURATION s per run; $CONNS connections; $THREADS generator thread(s); $PAIRS pairs"
FORM="username=user-0&password=password-0"
for i in $(seq "$PAIRS"); do
  # GET /me
  "$OHA" --no-tui --output-format json -z "${DURATION}s" -q "$RATE" --latency-correction -c "$CONNS" --worker-threads "$THREADS" \
    -H "Authorization: Bearer $TOKEN" "$URL/me" >"$tmp/me-oha-$i.json"
  "$OHA" --no-tui --output-format json -z "${DURATION}s" -q "$RATE" -c "$CONNS" --worker-threads "$THREADS" \
    -H "Authorization: Bearer $TOKEN" "$URL/me" >"$tmp/me-oharaw-$i.json"
  "$TOKENBENCH" load --target "$URL" --transport bearer --mix me --accounts 64 --rate "$RATE" \
    --duration "${DURATION}s" --warmup 500ms --vus "$CONNS" --threads "$THREADS" --json >"$tmp/me-tb-$i.json"
  # POST /login
  "$OHA" --no-tui --output-format json -z "${DURATION}s" -q "$LOGIN_RATE" --latency-correction -c "$CONNS" --worker-threads "$THREADS" \
    -m POST -T application/x-www-form-urlencoded -d "$FORM" "$URL/login" >"$tmp/login-oha-$i.json"
  "$TOKENBENCH" load --target "$URL" --transport bearer --mix login --accounts 1 --rate "$LOGIN_RATE" \
    --duration "${DURATION}s" --warmup 500ms --vus "$CONNS" --threads "$THREADS" --json >"$tmp/login-tb-$i.json"
done

python3 - "$tmp" "$PAIRS" "$RATE" "$LOGIN_RATE" <<'PY'
import json, statistics, sys
tmp, pairs = sys.argv[1], int(sys.argv[2])
rates = {"me": float(sys.argv[3]), "login": float(sys.argv[4])}
ok = True
for route, path in (("login", "POST /login"), ("me", "GET /me")):
    rows = []
    for i in range(1, pairs + 1):
        o = json.load(open(f"{tmp}/{route}-oha-{i}.json"))
        t = json.load(open(f"{tmp}/{route}-tb-{i}.json"))["step"]
        raw = None
        if route == "me":
            raw = json.load(open(f"{tmp}/{route}-oharaw-{i}.json"))["latencyPercentiles"]["p50"] * 1e3
        rows.append(dict(
            o_rps=o["summary"]["requestsPerSec"], t_rps=t["achieved_rate"],
            o_p50=o["latencyPercentiles"]["p50"] * 1e3, t_p50=t["latency"]["median_ns"] / 1e6,
            o_p99=o["latencyPercentiles"]["p99"] * 1e3, t_p99=t["latency"]["p99_ns"] / 1e6,
            o_ok=o["summary"]["successRate"], t_err=t["errors"], cores=t["generator_cores"],
            lag=t["lag"]["p99_ns"] / 1e6, raw=raw))
    print(f"\n{path} at {rates[route]:.0f} requests/s")
    extra = " oha p50 ms, no correction |" if route == "me" else ""
    print("| pair | oha req/s | tokenbench req/s | ratio | oha p50 ms | tokenbench p50 ms | ratio |" + extra +
          " oha p99 ms | tokenbench p99 ms | oha success | tokenbench errors | tokenbench lag p99 ms | generator cores |")
    print("|---:" * (14 if route == "me" else 13) + "|")
    for n, r in enumerate(rows, 1):
        e = f" {r['raw']:.3f} |" if route == "me" else ""
        print(f"| {n} | {r['o_rps']:,.0f} | {r['t_rps']:,.0f} | {r['t_rps']/r['o_rps']:.3f} | {r['o_p50']:.3f} | "
              f"{r['t_p50']:.3f} | {r['t_p50']/r['o_p50']:.2f} |{e} {r['o_p99']:.3f} | {r['t_p99']:.3f} | "
              f"{r['o_ok']:.3f} | {r['t_err']} | {r['lag']:.3f} | {r['cores']:.2f} |")
    rps = statistics.median(r["t_rps"] / r["o_rps"] for r in rows)
    p50 = statistics.median(r["t_p50"] / r["o_p50"] for r in rows)
    line = f"median ratios (tokenbench / oha): throughput {rps:.3f} (allowed 0.85-1.15), p50 {p50:.2f}"
    good = 0.85 <= rps <= 1.15
    if route == "login":
        line += " (allowed 0.75-1.25)"
        good = good and 0.75 <= p50 <= 1.25
    else:
        raw = statistics.median(r["t_p50"] / r["raw"] for r in rows)
        line += f" (not gated); against oha without correction {raw:.2f}"
    print(line + (": ok" if good else ": FAIL"))
    ok = ok and good
print("\nPASS" if ok else "\nFAIL")
sys.exit(0 if ok else 1)
PY
