#!/usr/bin/env bash
# Benchmark the write API (POST /registers/NAME/records, one new record per request) with wrk
# on loopback, on SQLite and on PostgreSQL.
#
# Usage: scripts/bench-write.sh [ENTRIES] [KEYS] [DURATION]   (defaults 1000000 200000 20)
#
# For each backend: generates `rsf generate --entries ENTRIES --keys KEYS --seed 1`, loads it
# with `api-actix load` as the register `synthetic`, creates a writer token for it
# (`api-actix token create`) and an admin account, starts `api-actix serve`, and runs wrk for
# DURATION seconds each:
#   single   1 connection, writer token          target >= 500 appends/s
#   token    64 connections, writer token        target SQLite >= 3,000 appends/s with p99
#                                                <= 50 ms; PostgreSQL >= 2,000 appends/s
#   basic    64 connections, HTTP Basic (argon2id per request), for comparison (no target)
# Every request must answer 201 (wrk's err_status counts the others). Afterwards the served
# RSF is verified with `rsf verify` and must give the size and root the server states: the
# benchmark's writes left a valid, gap-free log. Targets are judged for ENTRIES=1000000.
#
# PostgreSQL runs when BENCH_DATABASE_URL (a server URL ending in an existing database, default
# postgres://postgres@127.0.0.1:5432/test) answers; a scratch database is created and dropped.
# Environment: BENCH_WRITE_PORT (28091), BENCH_WRITE_BACKENDS ("sqlite postgres"), RUST_LOG for
# the server (default warn). wrk and the server share the machine's cores.
set -euo pipefail

ENTRIES=${1:-1000000}
KEYS=${2:-200000}
DURATION=${3:-20}
[[ $ENTRIES =~ ^[0-9]+$ && $KEYS =~ ^[0-9]+$ && $DURATION =~ ^[0-9]+$ ]] || {
    echo "usage: $0 [ENTRIES] [KEYS] [DURATION_S]" >&2
    exit 2
}
PORT=${BENCH_WRITE_PORT:-28091}
BACKENDS=${BENCH_WRITE_BACKENDS:-sqlite postgres}
ADMIN_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
export RUST_LOG=${RUST_LOG:-warn}
NAME=synthetic
HOST=127.0.0.1
BASE="http://$HOST:$PORT"
JUDGED=1000000

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LUA="$ROOT/scripts/bench-write/append.lua"
command -v wrk >/dev/null || { echo "error: wrk not found (Debian: apt-get install -y wrk)" >&2; exit 1; }

echo "== building (cargo build --release -p api-actix -p rsf)"
cargo build --release -p api-actix -p rsf
BIN="${CARGO_TARGET_DIR:-target}/release"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-write.XXXXXX")
SERVER_PID=""
PG_DB=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -n $PG_DB ]]; then psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

echo "== generating $ENTRIES entries over $KEYS keys"
"$BIN/rsf" generate --entries "$ENTRIES" --keys "$KEYS" --seed 1 >"$WORK/register.rsf"
"$BIN/api-actix" key generate >"$WORK/log.key" 2>/dev/null
"$BIN/api-actix" key generate --cosigner >"$WORK/cosigner.key" 2>/dev/null
head -c 48 /dev/urandom | base64 >"$WORK/token.secret"

declare -A RPS P99 ERRS
# wrk_run LABEL CONNECTIONS AUTHORIZATION
wrk_run() {
    local label=$1 connections=$2 authorization=$3 threads=2 out="$WORK/wrk.$1.out" line
    ((connections == 1)) && threads=1
    echo
    echo "== $BACKEND $label: wrk -t$threads -c$connections -d${DURATION}s"
    wrk -t"$threads" -c"$connections" -d"${DURATION}s" --timeout 10s --latency -s "$LUA" "$BASE" \
        -- "$NAME" "$authorization" "$BACKEND$label" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
    grep -E 'Requests/sec|Latency|99%|Non-2xx' "$out" || true
    line=$(grep '^BENCH ' "$out") || { cat "$out" >&2; echo "error: no BENCH line" >&2; exit 1; }
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    RPS[$BACKEND.$label]=$(field rps)
    P99[$BACKEND.$label]=$(field p99_ms)
    ERRS[$BACKEND.$label]=$(($(field err_connect) + $(field err_read) + $(field err_write) + $(field err_status) + $(field err_timeout)))
}

for BACKEND in $BACKENDS; do
    case $BACKEND in
        sqlite) URL="$WORK/bench.sqlite" ;;
        postgres)
            if ! psql "$ADMIN_URL" -qtAc "SELECT 1" >/dev/null 2>&1; then
                echo "== postgres SKIPPED: no server at $ADMIN_URL"
                continue
            fi
            PG_DB="bench_write_$$"
            psql "$ADMIN_URL" -qc "CREATE DATABASE $PG_DB"
            URL="${ADMIN_URL%/*}/$PG_DB"
            ;;
        *) echo "error: unknown backend $BACKEND" >&2; exit 2 ;;
    esac
    DB=(--database-url "$URL" --log-key-file "$WORK/log.key" --cosigner-key-file "$WORK/cosigner.key")
    echo
    echo "== $BACKEND: loading"
    t=$(now)
    "$BIN/api-actix" load "$NAME" "$WORK/register.rsf" "${DB[@]}" >/dev/null
    echo "load: $(elapsed "$t") s"
    TOKEN=$("$BIN/api-actix" token create "bench-$BACKEND" --register "$NAME" "${DB[@]}" 2>/dev/null)
    echo "bench-password" | "$BIN/api-actix" user add bench --admin --password-stdin "${DB[@]}" >/dev/null
    BASIC="Basic $(printf 'bench:bench-password' | base64)"

    "$BIN/api-actix" serve --bind "$HOST:$PORT" "${DB[@]}" --token-secret-file "$WORK/token.secret" \
        >"$WORK/server.$BACKEND.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        curl -fs -o /dev/null "$BASE/registers/$NAME/register" && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.$BACKEND.log" >&2; exit 1; }
        sleep 0.2
    done
    status=$(curl -s -o "$WORK/check.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary \
        "{\"$NAME\":\"check\",\"name\":\"Check\",\"size\":\"1\",\"start-date\":\"2024-01-01\",\"labels\":[\"c\"]}" \
        "$BASE/registers/$NAME/records")
    [[ $status == 201 ]] || { echo "error: a write answered $status: $(head -c 300 "$WORK/check.json")" >&2; exit 1; }

    wrk_run single 1 "Bearer $TOKEN"
    wrk_run token 64 "Bearer $TOKEN"
    wrk_run basic 64 "$BASIC"

    echo
    echo "== $BACKEND: verifying the served log"
    # wrk stops sending at its deadline; requests still queued (slow Basic ones) commit after.
    # Wait until the log stops growing, then compare the dump with the size it states.
    previous=""
    for _ in $(seq 1 120); do
        curl -fsS "$BASE/registers/$NAME/proof/register/merkle:sha-256" >"$WORK/proof.json"
        [[ $(cat "$WORK/proof.json") == "$previous" ]] && break
        previous=$(cat "$WORK/proof.json")
        sleep 1
    done
    curl -fsS "$BASE/registers/$NAME/download-rsf" >"$WORK/served.rsf"
    "$BIN/rsf" verify "$WORK/served.rsf" >"$WORK/verified.json"
    python3 - "$WORK/proof.json" "$WORK/verified.json" <<'EOF'
import json, sys
proof = json.load(open(sys.argv[1]))
verified = json.load(open(sys.argv[2]))
assert proof["total-entries"] == verified["user-entries"], (proof, verified)
assert proof["root-hash"] == verified["root-hash"], (proof, verified)
print(f"served RSF verifies: {verified['user-entries']} entries, {verified['root-hash']}")
EOF
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
done

echo
echo "== summary ($ENTRIES entries; appends/s, p99 ms, errors)"
judged=$([[ $ENTRIES == "$JUDGED" ]] && echo yes || echo no)
fail=0
verdict() { # KEY MIN_RPS MAX_P99 (0: none)
    local key=$1 min=$2 max=$3 ok=pass
    [[ -n ${RPS[$key]:-} ]] || return 0
    awk -v r="${RPS[$key]}" -v m="$min" 'BEGIN { exit !(r >= m) }' || ok=FAIL
    if [[ $max != 0 ]]; then awk -v p="${P99[$key]}" -v m="$max" 'BEGIN { exit !(p <= m) }' || ok=FAIL; fi
    [[ ${ERRS[$key]} == 0 ]] || ok=FAIL
    [[ $judged == yes ]] || ok="$ok (not judged: ENTRIES != $JUDGED)"
    printf '%-18s %9.1f/s  p99 %8.2f ms  errors %s  target >= %s/s%s: %s\n' "$key" "${RPS[$key]}" \
        "${P99[$key]}" "${ERRS[$key]}" "$min" "$([[ $max != 0 ]] && echo ", p99 <= $max ms")" "$ok"
    [[ $ok != FAIL* ]] || fail=1
}
verdict sqlite.single 500 0
verdict sqlite.token 3000 50
verdict sqlite.basic 0 0
verdict postgres.single 500 0
verdict postgres.token 2000 0
verdict postgres.basic 0 0
for key in sqlite postgres; do
    if [[ -n ${RPS[$key.token]:-} && -n ${RPS[$key.basic]:-} ]]; then
        awk -v t="${RPS[$key.token]}" -v b="${RPS[$key.basic]}" -v k="$key" \
            'BEGIN { printf "%s: writer token / HTTP Basic = %.1f\n", k, t / b }'
    fi
done
exit $fail
