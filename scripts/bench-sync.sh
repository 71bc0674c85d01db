#!/usr/bin/env bash
# Benchmark sync (sync.md): a full pull of an ENTRIES-entry register from a primary server on
# loopback into an empty SQLite mirror, through the real commands.
#
# Usage: scripts/bench-sync.sh [ENTRIES] [KEYS] [CHUNK]   (defaults 1000000 200000 100000)
#
# Builds the release binaries, generates `rsf generate --entries ENTRIES --keys KEYS --seed 1`,
# loads it into a primary SQLite database as `synthetic` (not timed), creates the partner
# `acme`, offers the register, serves the primary, negotiates a plan with
# `remote plan request` from the secondary's database, approves it with `plan approve`, then
# times `sync pull` (CHUNK entries per transaction) with /usr/bin/time when available.
# Checks that both sides end with the same size and root. Target (ENTRIES=1000000): <= 90 s.
set -euo pipefail

ENTRIES=${1:-1000000}
KEYS=${2:-200000}
CHUNK=${3:-100000}
[[ $ENTRIES =~ ^[0-9]+$ && $KEYS =~ ^[0-9]+$ && $CHUNK =~ ^[0-9]+$ ]] || {
    echo "usage: $0 [ENTRIES] [KEYS] [CHUNK]" >&2
    exit 2
}
PORT=${BENCH_SYNC_PORT:-28090}
TARGET_SECONDS=90
export RUST_LOG=${RUST_LOG:-warn}
export TOKEN_SECRET=bench-sync-secret-of-at-least-32-bytes

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
echo "== building (cargo build --release -p api-actix -p rsf)"
cargo build --release -p api-actix -p rsf
BIN="${CARGO_TARGET_DIR:-target}/release"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-sync.XXXXXX")
SERVER_PID=""
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PRIMARY="$WORK/primary.sqlite"
SECONDARY="$WORK/secondary.sqlite"
api() { "$BIN/api-actix" "$@"; }

echo "== generating and loading $ENTRIES entries into the primary (not timed)"
"$BIN/rsf" generate --entries "$ENTRIES" --keys "$KEYS" --seed 1 >"$WORK/synthetic.rsf"
api load synthetic "$WORK/synthetic.rsf" --database-url "$PRIMARY" >/dev/null
printf 'acme-password\n' | api partner add acme --password-stdin --database-url "$PRIMARY" >/dev/null
api register offer synthetic --database-url "$PRIMARY" >/dev/null

api serve --bind "127.0.0.1:$PORT" --database-url "$PRIMARY" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

PLAN=$(printf 'acme-password\n' | api remote plan request --remote "http://127.0.0.1:$PORT" \
    --username acme --password-stdin --register synthetic --database-url "$SECONDARY" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["plan_uuid"])')
api plan approve "$PLAN" --database-url "$PRIMARY" >/dev/null

echo "== sync pull: $ENTRIES entries, $CHUNK per chunk"
PULL=(api sync pull --remote "http://127.0.0.1:$PORT" --username acme --password-stdin
    --plan "$PLAN" --chunk-entries "$CHUNK" --database-url "$SECONDARY")
START=$(date +%s.%N)
if [[ -x /usr/bin/time ]]; then
    printf 'acme-password\n' | /usr/bin/time -f '%M' -o "$WORK/rss" "${PULL[@]}" >"$WORK/pull.json"
else
    printf 'acme-password\n' | "${PULL[@]}" >"$WORK/pull.json"
fi
END=$(date +%s.%N)

primary_root=$(api root synthetic --database-url "$PRIMARY")
mirror_root=$(api root synthetic --database-url "$SECONDARY")
[[ $primary_root == "$mirror_root" ]] || {
    echo "FAIL: the mirror ($mirror_root) differs from the primary ($primary_root)" >&2
    exit 1
}
python3 - "$START" "$END" "$ENTRIES" "$TARGET_SECONDS" "$WORK/rss" "$primary_root" <<'PY'
import os, sys
start, end, entries, target, rss_file, root = sys.argv[1:]
seconds = float(end) - float(start)
rss = open(rss_file).read().strip() if os.path.exists(rss_file) else ""
peak = f", peak RSS of sync pull {int(rss) / 1024:.0f} MB" if rss else ""
verdict = "PASS" if seconds <= float(target) else "FAIL"
if int(entries) != 1_000_000:
    verdict = "(judged at 1,000,000 entries only)"
print(f"sync pull: {int(entries):,} entries in {seconds:.1f} s "
      f"({int(entries) / seconds:,.0f} entries/s){peak}; target <= {target} s: {verdict}")
print(f"both sides: {root}")
PY
