#!/usr/bin/env bash
# Soak: mixed well-behaved reads and writes with hostile clients alongside, against a release
# `api-actix serve` on the embedded SQLite default.
#
# Usage: scripts/bench-soak.sh [ENTRIES] [KEYS] [DURATION]   (defaults 200000 20000 60)
#
# Generates `rsf generate --entries ENTRIES --keys KEYS --seed 1`, loads it as `synthetic`,
# creates a writer token, an admin account `bench` (the guessers' target) and a partner
# account, starts the server, then runs scripts/bench-soak/soak.py for DURATION seconds as two
# processes: the hostile clients (64 of each kind: slow readers, trickled bodies, idle heads,
# password guessers, 1 MB hostile plan documents, plus UUID probes) and the measured good
# client (4 readers and 2 writers at 50 requests a second each).
#
# Targets: availability (share of good requests answered 2xx within 1 s) >= 99.9 %, server
# RSS flat: at the end within 10 % of its value half-way (the first half warms SQLite's page
# caches — 32 MiB per pooled connection — and the allocator's arenas, up to a plateau). The
# good client's p99 is reported. Afterwards the served RSF must verify to the size and root the server states.
# Environment: BENCH_SOAK_PORT (28093), RUST_LOG for the server (default warn).
set -euo pipefail

ENTRIES=${1:-200000}
KEYS=${2:-20000}
DURATION=${3:-60}
[[ $ENTRIES =~ ^[0-9]+$ && $KEYS =~ ^[0-9]+$ && $DURATION =~ ^[0-9]+$ ]] || {
    echo "usage: $0 [ENTRIES] [KEYS] [DURATION_S]" >&2
    exit 2
}
PORT=${BENCH_SOAK_PORT:-28093}
export RUST_LOG=${RUST_LOG:-warn}
NAME=synthetic
HOST=127.0.0.1
BASE="http://$HOST:$PORT"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SOAK="$ROOT/scripts/bench-soak/soak.py"

echo "== building (cargo build --release -p api-actix -p rsf)"
cargo build --release -p api-actix -p rsf
BIN="${CARGO_TARGET_DIR:-target}/release"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-soak.XXXXXX")
SERVER_PID=""
HOSTILE_PID=""
cleanup() {
    if [[ -n $HOSTILE_PID ]]; then kill "$HOSTILE_PID" 2>/dev/null || true; fi
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== generating $ENTRIES entries over $KEYS keys, loading into SQLite"
"$BIN/rsf" generate --entries "$ENTRIES" --keys "$KEYS" --seed 1 >"$WORK/register.rsf"
DB=(--database-url "$WORK/soak.sqlite")
"$BIN/api-actix" load "$NAME" "$WORK/register.rsf" "${DB[@]}" >/dev/null
TOKEN=$("$BIN/api-actix" token create soak --register "$NAME" "${DB[@]}" 2>/dev/null)
echo "an admin password nobody guesses" | "$BIN/api-actix" user add bench --admin --password-stdin "${DB[@]}" >/dev/null
PARTNER_PASSWORD="partner-$RANDOM-$RANDOM"
echo "$PARTNER_PASSWORD" | "$BIN/api-actix" user add partner --password-stdin "${DB[@]}" >/dev/null

"$BIN/api-actix" serve --bind "$HOST:$PORT" "${DB[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    curl -fs -o /dev/null "$BASE/registers/$NAME/register" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.2
done

echo "== soak: ${DURATION} s"
ARGS=("$BASE" "$NAME" "$KEYS" "$TOKEN" "$PARTNER_PASSWORD" "$SERVER_PID" "$DURATION")
python3 "$SOAK" "${ARGS[@]}" hostile &
HOSTILE_PID=$!
sleep 2
python3 "$SOAK" "${ARGS[@]}" good | tee "$WORK/soak.out"
kill "$HOSTILE_PID" 2>/dev/null || true
wait "$HOSTILE_PID" 2>/dev/null || true
HOSTILE_PID=""

echo
echo "== verifying the served log"
for _ in $(seq 1 30); do
    curl -fsS "$BASE/registers/$NAME/proof/register/merkle:sha-256" -o "$WORK/proof.json" && break
    sleep 1
done
curl -fsS "$BASE/registers/$NAME/download-rsf" -o "$WORK/served.rsf"
"$BIN/rsf" verify "$WORK/served.rsf" >"$WORK/verified.json"
python3 - "$WORK/proof.json" "$WORK/verified.json" "$WORK/soak.out" <<'EOF'
import json, sys
proof = json.load(open(sys.argv[1]))
verified = json.load(open(sys.argv[2]))
assert proof["total-entries"] == verified["user-entries"], (proof, verified)
assert proof["root-hash"] == verified["root-hash"], (proof, verified)
print(f"served RSF verifies: {verified['user-entries']} entries, {verified['root-hash']}")
line = next(l for l in open(sys.argv[3]) if l.startswith("SOAK "))
soak = dict(kv.split("=") for kv in line.split()[1:])
availability = float(soak["availability_pct"])
early, half, last = (float(soak[k]) for k in ("rss_10s_mib", "rss_half_mib", "rss_last_mib"))
flat = last <= half * 1.10
print(f"availability {availability:.3f} % (target >= 99.9): {'pass' if availability >= 99.9 else 'FAIL'}")
print(f"good p99 {soak['p99_ms']} ms, max {soak['max_ms']} ms")
print(f"server RSS {early:.1f} MiB at 10 s, {half:.1f} MiB half-way, {last:.1f} MiB at the end "
      f"(max {soak['rss_max_mib']}): {'flat over the second half, pass' if flat else 'still growing, FAIL'}")
sys.exit(0 if availability >= 99.9 and flat else 1)
EOF
