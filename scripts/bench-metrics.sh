#!/usr/bin/env bash
# The cost of metrics: the records benchmark of bench-api.sh with metrics on and with metrics
# off ([metrics] enabled = false), in the same run, on the same database.
#
# Usage: scripts/bench-metrics.sh [ENTRIES] [KEYS] [DURATION] [ROUNDS]
#        (defaults 1000000 200000 15 3)
#
# Builds the release binaries, generates `rsf generate --entries ENTRIES --keys KEYS --seed 1`,
# loads it into a fresh SQLite database as `synthetic`, then runs ROUNDS rounds of two wrk
# runs (GET /registers/synthetic/records/K#######.json, random keys, 64 connections), one
# with a server started with metrics on and one with a server started with metrics off, in
# ABBA order (on/off, then off/on, ...) so that drift on a shared machine falls on both
# sides alike. Reports the total requests per second of each side and their ratio.
# Target: metrics on >= 95% of metrics off. Every run must be free of wrk errors.
#
# Environment: BENCH_API_PORT (28089), BENCH_API_CONNECTIONS (64), BENCH_API_THREADS (2),
# RUST_LOG for the server (default warn).
set -euo pipefail

usage() {
    echo "usage: $0 [ENTRIES] [KEYS] [DURATION_S] [ROUNDS]" >&2
    exit 2
}
[[ $# -le 4 ]] || usage
ENTRIES=${1:-1000000}
KEYS=${2:-200000}
DURATION=${3:-15}
ROUNDS=${4:-3}
[[ $ENTRIES =~ ^[0-9]+$ && $KEYS =~ ^[0-9]+$ && $DURATION =~ ^[0-9]+$ && $ROUNDS =~ ^[0-9]+$ ]] || usage
((ENTRIES >= 1 && KEYS >= 1 && KEYS <= ENTRIES && DURATION >= 1 && ROUNDS >= 1)) || usage

PORT=${BENCH_API_PORT:-28089}
CONNECTIONS=${BENCH_API_CONNECTIONS:-64}
THREADS=${BENCH_API_THREADS:-2}
export RUST_LOG=${RUST_LOG:-warn}
NAME=synthetic
BASE="http://127.0.0.1:$PORT"
TARGET_RATIO=0.95

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LUA="$ROOT/scripts/bench-api/random.lua"
command -v wrk >/dev/null || { echo "error: wrk not found (Debian: apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl not found" >&2; exit 1; }

echo "== building (cargo build --release -p api-actix -p rsf)"
cargo build --release -p api-actix -p rsf
BIN="${CARGO_TARGET_DIR:-target}/release"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "error: something already listens on 127.0.0.1:$PORT (set BENCH_API_PORT)" >&2
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-metrics.XXXXXX")
SERVER_PID=""
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== generating $ENTRIES entries over $KEYS keys, loading into SQLite"
"$BIN/rsf" generate --entries "$ENTRIES" --keys "$KEYS" --seed 1 >"$WORK/register.rsf"
DB="$WORK/bench.sqlite"
"$BIN/api-actix" load "$NAME" "$WORK/register.rsf" --database-url "$DB" | tail -n 1
rm -f "$WORK/register.rsf"

# start_server on|off: a server over the same database, metrics as asked.
start_server() {
    local enabled=true
    [[ $1 == off ]] && enabled=false
    "$BIN/api-actix" serve --bind "127.0.0.1:$PORT" --database-url "$DB" --metrics "$enabled" \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        curl -fs -o /dev/null "$BASE/healthz" && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
        sleep 0.1
    done
    local want=200
    [[ $1 == off ]] && want=404
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/metrics")
    [[ $status == "$want" ]] || { echo "error: /metrics answered $status with metrics $1" >&2; exit 1; }
    # Warm-up, not measured.
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$LUA" "$BASE" -- record "$NAME" "$ENTRIES" "$KEYS" >/dev/null
}

declare -A TOTAL=([on]=0 [off]=0)
declare -A P99S=([on]="" [off]="")
measure() {
    local side=$1 out="$WORK/wrk.out" line rps p99 errs
    start_server "$side"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency -s "$LUA" "$BASE" \
        -- record "$NAME" "$ENTRIES" "$KEYS" >"$out" 2>&1
    stop_server
    line=$(grep '^BENCH ' "$out") || { cat "$out" >&2; echo "error: no BENCH line" >&2; exit 1; }
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    rps=$(field rps)
    p99=$(field p99_ms)
    errs=$(($(field err_connect) + $(field err_read) + $(field err_write) + $(field err_status) + $(field err_timeout)))
    ((errs == 0)) || { cat "$out" >&2; echo "error: $errs wrk errors with metrics $side" >&2; exit 1; }
    echo "metrics $side: $rps req/s, p99 $p99 ms"
    TOTAL[$side]=$(awk -v a="${TOTAL[$side]}" -v b="$rps" 'BEGIN { printf "%.1f", a + b }')
    P99S[$side]="${P99S[$side]} $p99"
}

for ((r = 0; r < ROUNDS; r++)); do
    echo "== round $((r + 1)) of $ROUNDS"
    if ((r % 2 == 0)); then measure on; measure off; else measure off; measure on; fi
done

on=$(awk -v t="${TOTAL[on]}" -v n="$ROUNDS" 'BEGIN { printf "%.0f", t / n }')
off=$(awk -v t="${TOTAL[off]}" -v n="$ROUNDS" 'BEGIN { printf "%.0f", t / n }')
ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
verdict=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? "PASS" : "FAIL" }')
echo
echo "== bench-metrics report: $ENTRIES entries, ${DURATION}s x $ROUNDS rounds per side (ABBA)," \
    "$CONNECTIONS connections, $(nproc) cores shared by wrk and the server"
echo "records, metrics on:  $on req/s (p99 ms:${P99S[on]})"
echo "records, metrics off: $off req/s (p99 ms:${P99S[off]})"
echo "on / off: $ratio (target >= $TARGET_RATIO): $verdict"
