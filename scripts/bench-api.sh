#!/usr/bin/env bash
# Benchmark the register read API (api-actix on SQLite) with wrk, on loopback.
#
# Usage: scripts/bench-api.sh [ENTRIES] [KEYS] [DURATION]   (defaults 1000000 200000 20)
#
# Builds the release binaries (`cargo build --release -p api-actix -p rsf`), generates
# `rsf generate --entries ENTRIES --keys KEYS --seed 1` into a temporary directory, loads it
# into a fresh SQLite database as the register `synthetic`, starts `api-actix serve` on
# 127.0.0.1, waits until it answers, and runs wrk (scripts/bench-api/random.lua picks a random
# target per request) for DURATION seconds on each of
#   record   GET /registers/synthetic/records/K#######.json      target >= 15000 req/s, p99 <= 20 ms
#   entries  GET /registers/synthetic/entries?start=S&limit=100   target >= 3000 req/s
#   proof    GET /registers/synthetic/proof/entry/N/ENTRIES/merkle:sha-256
#                                                                 target >= 5000 req/s
#   checkpoint GET /registers/synthetic/checkpoint                target >= 20000 req/s
#   tile     GET /registers/synthetic/tile/0/N (random full tile)  target >= 15000 req/s
#   bundle   GET /registers/synthetic/tile/entries/N (random full) target >= 5000 req/s
#   page     GET /registers/synthetic/records/K####### with a browser's Accept (the record's
#            HTML page)                                          target >= 5000 req/s
# then a 60 s run of the first three mixed while sampling the server's RSS every 5 s (target: flat,
# i.e. last - first <= max(10% of first, 8 MB)). Every run must also be free of wrk errors
# (non-2xx answers, timeouts, socket errors). Targets are judged for ENTRIES=1000000 only.
#
# wrk and the server share the machine: on a small machine the figures are what the server
# manages with the load generator competing for the same cores (the summary prints the CPU
# each used). The server, wrk, and the temporary directory are removed on exit.
#
# BENCH_API_PIN=1 pins the server to CPU 0 and wrk to CPU 1 (taskset), so the two never
# compete for one core; the summary says which was used. Measured on a 2-core machine shared
# with other builds: pinned, the server gets one core (records ~15,000 req/s instead of
# ~25,000-28,000) and its p99 moves less with outside load, but it is no steadier overall,
# so the default stays unpinned, as the targets were set. Judge p99 when `uptime` is low.
#
# Environment: BENCH_API_PORT (28089), BENCH_API_CONNECTIONS (64), BENCH_API_THREADS (2),
# BENCH_API_WORKERS (server --workers; default: the server's, one per core),
# BENCH_API_RSS_SECONDS (60), BENCH_API_RUNS (which runs, default all: "record entries proof
# checkpoint tile bundle page rss"; e.g. BENCH_API_RUNS=page for the pages alone), RUST_LOG for the server (default warn: an info line per request
# would measure the log writer; set RUST_LOG=info to include it).
set -euo pipefail

usage() {
    echo "usage: $0 [ENTRIES] [KEYS] [DURATION_S]" >&2
    exit 2
}

[[ $# -le 3 ]] || usage
ENTRIES=${1:-1000000}
KEYS=${2:-200000}
DURATION=${3:-20}
[[ $ENTRIES =~ ^[0-9]+$ && $KEYS =~ ^[0-9]+$ && $DURATION =~ ^[0-9]+$ ]] || usage
((ENTRIES >= 1 && KEYS >= 1 && KEYS <= ENTRIES && DURATION >= 1)) || usage

PORT=${BENCH_API_PORT:-28089}
CONNECTIONS=${BENCH_API_CONNECTIONS:-64}
THREADS=${BENCH_API_THREADS:-2}
WORKERS=${BENCH_API_WORKERS:-}
RSS_SECONDS=${BENCH_API_RSS_SECONDS:-60}
PIN=${BENCH_API_PIN:-0}
RUNS=" ${BENCH_API_RUNS:-record entries proof checkpoint tile bundle page rss} "
SERVER_PIN=()
WRK_PIN=()
if [[ $PIN == 1 ]]; then
    command -v taskset >/dev/null || { echo "error: BENCH_API_PIN=1 needs taskset (util-linux)" >&2; exit 1; }
    SERVER_PIN=(taskset -c 0)
    WRK_PIN=(taskset -c 1)
fi
RSS_EVERY=5
export RUST_LOG=${RUST_LOG:-warn}
NAME=synthetic
HOST=127.0.0.1
BASE="http://$HOST:$PORT"

TARGET_RECORD_RPS=15000
TARGET_RECORD_P99_MS=20
TARGET_ENTRIES_RPS=3000
TARGET_PROOF_RPS=5000
TARGET_CHECKPOINT_RPS=20000
TARGET_TILE_RPS=15000
TARGET_BUNDLE_RPS=5000
TARGET_PAGE_RPS=5000
JUDGED_ENTRIES=1000000

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LUA="$ROOT/scripts/bench-api/random.lua"

command -v wrk >/dev/null || { echo "error: wrk not found (Debian: apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl not found" >&2; exit 1; }

echo "== building (cargo build --release -p api-actix -p rsf)"
cargo build --release -p api-actix -p rsf
BIN="${CARGO_TARGET_DIR:-target}/release"
for b in api-actix rsf; do
    [[ -x $BIN/$b ]] || { echo "error: $BIN/$b not found after build" >&2; exit 1; }
done

if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
    echo "error: something already listens on $HOST:$PORT (set BENCH_API_PORT)" >&2
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-api.XXXXXX")
SERVER_PID=""
WRK_PID=""
cleanup() {
    if [[ -n $WRK_PID ]]; then kill "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; fi
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

echo "== generating $ENTRIES entries over $KEYS keys"
t=$(now)
"$BIN/rsf" generate --entries "$ENTRIES" --keys "$KEYS" --seed 1 >"$WORK/register.rsf"
echo "generate: $(elapsed "$t") s, $(du -m "$WORK/register.rsf" | cut -f1) MB"

DB="$WORK/bench.sqlite"
echo "== loading into SQLite"
t=$(now)
"$BIN/api-actix" load "$NAME" "$WORK/register.rsf" --database-url "$DB" | tail -n 1
echo "load: $(elapsed "$t") s, database $(du -cm "$DB"* | tail -n 1 | cut -f1) MB"
rm -f "$WORK/register.rsf"

echo "== starting api-actix serve on $HOST:$PORT (RUST_LOG=$RUST_LOG${WORKERS:+, --workers $WORKERS})"
"${SERVER_PIN[@]}" "$BIN/api-actix" serve --bind "$HOST:$PORT" --database-url "$DB" ${WORKERS:+--workers "$WORKERS"} \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "$BASE/registers/$NAME/register"; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        cat "$WORK/server.log" >&2
        echo "error: the server exited" >&2
        exit 1
    fi
    sleep 0.2
done
curl -fsS -o /dev/null "$BASE/registers/$NAME/register" || { echo "error: the server never answered" >&2; exit 1; }

# One request of each kind must answer 200 before its run (a fast 404 is no benchmark).
check() {
    local status
    status=$(curl -s -o "$WORK/check.body" -w '%{http_code}' -H "Accept: ${2:-*/*}" "$BASE$1")
    if [[ $status != 200 ]]; then
        echo "error: GET $1 answered $status: $(head -c 300 "$WORK/check.body")" >&2
        exit 1
    fi
}
mid=$(((ENTRIES + 1) / 2))
check "/registers/$NAME/records/$(printf 'K%07d' $((KEYS - 1))).json"
check "/registers/$NAME/entries?start=$mid&limit=100"
check "/registers/$NAME/proof/entry/$mid/$ENTRIES/merkle:sha-256"
check "/registers/$NAME/checkpoint"
check "/registers/$NAME/tile/0/000"
check "/registers/$NAME/tile/entries/000"
check "/registers/$NAME/records/$(printf 'K%07d' $((KEYS - 1)))" "text/html"
grep -q '<!doctype html>' "$WORK/check.body" || { echo "error: the record page is not HTML" >&2; exit 1; }

TICKS=$(getconf CLK_TCK)
# CPU seconds (user + system) the server has used so far.
server_cpu() { awk -v hz="$TICKS" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$SERVER_PID/stat"; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

declare -A RPS P50 P99 ERRS CPU
# run LABEL MODE SECONDS: wrk in the background (so RSS can be sampled), then parse its BENCH line.
run() {
    local label=$1 mode=$2 seconds=$3 out="$WORK/wrk.$1.out" cpu0 cpu1
    echo
    echo "== $label: wrk -t$THREADS -c$CONNECTIONS -d${seconds}s --latency ($mode)"
    cpu0=$(server_cpu)
    "${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 5s --latency -s "$LUA" "$BASE" \
        -- "$mode" "$NAME" "$ENTRIES" "$KEYS" >"$out" 2>&1 &
    WRK_PID=$!
    if [[ $label == rss ]]; then
        RSS_SAMPLES=()
        local s=0
        while ((s <= seconds)); do
            RSS_SAMPLES+=("$(rss_mb)")
            echo "RSS at ${s}s: ${RSS_SAMPLES[-1]} MB"
            ((s + RSS_EVERY <= seconds)) || break
            sleep "$RSS_EVERY"
            s=$((s + RSS_EVERY))
        done
    fi
    wait "$WRK_PID" || { cat "$out" >&2; echo "error: wrk failed" >&2; exit 1; }
    WRK_PID=""
    [[ $label == rss ]] && RSS_SAMPLES+=("$(rss_mb)") && echo "RSS at end: ${RSS_SAMPLES[-1]} MB"
    cpu1=$(server_cpu)
    grep -v '^BENCH ' "$out"
    local line
    line=$(grep '^BENCH ' "$out") || { echo "error: no BENCH line from wrk" >&2; exit 1; }
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    RPS[$label]=$(field rps)
    P50[$label]=$(field p50_ms)
    P99[$label]=$(field p99_ms)
    ERRS[$label]=$(($(field err_connect) + $(field err_read) + $(field err_write) + $(field err_status) + $(field err_timeout)))
    CPU[$label]=$(awk -v a="$cpu0" -v b="$cpu1" -v d="$(field duration_s)" 'BEGIN { printf "%.2f", (b - a) / d }')
}

# A short warm-up so the first measured run does not pay for cold pages.
"${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$LUA" "$BASE" -- mixed "$NAME" "$ENTRIES" "$KEYS" >/dev/null

wanted() { [[ $RUNS == *" $1 "* ]]; }
for label in record entries proof checkpoint tile bundle page; do
    if wanted "$label"; then run "$label" "$label" "$DURATION"; fi
done
if wanted rss; then run rss mixed "$RSS_SECONDS"; fi

ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }
clean() { [[ ${ERRS[$1]} -eq 0 ]]; }
record_ok() { clean record && ge "${RPS[record]}" $TARGET_RECORD_RPS && le "${P99[record]}" $TARGET_RECORD_P99_MS; }
entries_ok() { clean entries && ge "${RPS[entries]}" $TARGET_ENTRIES_RPS; }
proof_ok() { clean proof && ge "${RPS[proof]}" $TARGET_PROOF_RPS; }
checkpoint_ok() { clean checkpoint && ge "${RPS[checkpoint]}" $TARGET_CHECKPOINT_RPS; }
tile_ok() { clean tile && ge "${RPS[tile]}" $TARGET_TILE_RPS; }
bundle_ok() { clean bundle && ge "${RPS[bundle]}" $TARGET_BUNDLE_RPS; }
page_ok() { clean page && ge "${RPS[page]}" $TARGET_PAGE_RPS; }
RSS_SAMPLES=("${RSS_SAMPLES[@]:-0}")
RSS_FIRST=${RSS_SAMPLES[0]}
RSS_LAST=${RSS_SAMPLES[-1]}
RSS_MAX=$(printf '%s\n' "${RSS_SAMPLES[@]}" | sort -g | tail -n 1)
rss_ok() {
    clean rss && awk -v f="$RSS_FIRST" -v l="$RSS_LAST" \
        'BEGIN { g = l - f; lim = f * 0.10; if (lim < 8) lim = 8; exit !(g <= lim) }'
}

echo
echo "== bench-api report: $ENTRIES entries, $KEYS keys, ${DURATION}s runs, $CONNECTIONS connections," \
    "$THREADS wrk threads, server workers ${WORKERS:-default}, RUST_LOG=$RUST_LOG, $(nproc) cores" \
    "shared by wrk and the server$( ((PIN == 1)) && echo ' (pinned: server CPU 0, wrk CPU 1)')"
printf '%-10s %10s %9s %9s %7s %11s  %-32s %s\n' run "req/s" "p50 ms" "p99 ms" errors "server CPU" target result
row() {
    wanted "$1" || return 0
    set -- "$1" "$2" "$(j "$3")"
    printf '%-10s %10s %9s %9s %7s %11s  %-32s %s\n' "$1" "${RPS[$1]}" "${P50[$1]}" "${P99[$1]}" \
        "${ERRS[$1]}" "${CPU[$1]} cores" "$2" "$3"
}
judged=0
[[ $ENTRIES -eq $JUDGED_ENTRIES ]] && judged=1
j() { if ((judged)); then verdict "$@"; else echo "(not judged)"; fi; }
row record ">= $TARGET_RECORD_RPS req/s, p99 <= $TARGET_RECORD_P99_MS ms" record_ok
row entries ">= $TARGET_ENTRIES_RPS req/s" entries_ok
row proof ">= $TARGET_PROOF_RPS req/s" proof_ok
row checkpoint ">= $TARGET_CHECKPOINT_RPS req/s" checkpoint_ok
row tile ">= $TARGET_TILE_RPS req/s" tile_ok
row bundle ">= $TARGET_BUNDLE_RPS req/s" bundle_ok
row page ">= $TARGET_PAGE_RPS req/s" page_ok
row rss "RSS flat over ${RSS_SECONDS}s" rss_ok
wanted rss || exit 0
echo "RSS samples (MB, every ${RSS_EVERY}s, then at the end): ${RSS_SAMPLES[*]}"
echo "RSS first $RSS_FIRST MB, last $RSS_LAST MB, max $RSS_MAX MB"
((judged)) || echo "targets are judged only for ENTRIES=$JUDGED_ENTRIES"
