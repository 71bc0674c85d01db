#!/usr/bin/env bash
# Benchmark sync (sync.md) through the real commands, on loopback:
#   1. a full pull of an ENTRIES-entry register into an empty SQLite mirror
#      (targets at 1,000,000 entries: <= 90 s, receiver peak RSS <= 500 MB);
#   2. an incremental pull of INCREMENT new entries (target at 1,000: <= 1 s).
#
# Usage: scripts/bench-sync.sh [ENTRIES] [KEYS] [INCREMENT] [CHUNK]
#        (defaults 1000000 200000 1000 100000)
#
# Builds the release binaries; generates `rsf generate --entries ENTRIES+INCREMENT --keys KEYS
# --seed 1` and splits it with `rsf emit` into the register (0..ENTRIES) and the increment (a
# ranged dump ENTRIES..ENTRIES+INCREMENT); loads the register into a primary SQLite database
# as `synthetic` (not timed), creates the partner `acme`, offers the register, serves the
# primary, asks for a plan with `remote plan request` from the secondary's database and
# approves it with `plan approve`; then times `sync pull` (CHUNK entries per transaction),
# loads the increment into the primary, and times `sync pull` again. Both sides must end
# with the same size and root. The receiver's peak RSS is read with getrusage.
set -euo pipefail

ENTRIES=${1:-1000000}
KEYS=${2:-200000}
INCREMENT=${3:-1000}
CHUNK=${4:-100000}
for n in "$ENTRIES" "$KEYS" "$INCREMENT" "$CHUNK"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "usage: $0 [ENTRIES] [KEYS] [INCREMENT] [CHUNK]" >&2; exit 2; }
done
PORT=${BENCH_SYNC_PORT:-28090}
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "error: something already listens on 127.0.0.1:$PORT (set BENCH_SYNC_PORT)" >&2
    exit 1
fi
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
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
PRIMARY="$WORK/primary.sqlite"
SECONDARY="$WORK/secondary.sqlite"
api() { "$BIN/api-actix" "$@"; }

echo "== generating $ENTRIES + $INCREMENT entries and loading $ENTRIES into the primary (not timed)"
"$BIN/rsf" generate --entries $((ENTRIES + INCREMENT)) --keys "$KEYS" --seed 1 >"$WORK/all.rsf"
"$BIN/rsf" emit "$WORK/all.rsf" --to "$ENTRIES" >"$WORK/register.rsf"
"$BIN/rsf" emit "$WORK/all.rsf" --from "$ENTRIES" >"$WORK/increment.rsf"
rm "$WORK/all.rsf"
api load synthetic "$WORK/register.rsf" --database-url "$PRIMARY" >/dev/null
printf 'acme-password\n' | api partner add acme --password-stdin --database-url "$PRIMARY" >/dev/null
api register offer synthetic --database-url "$PRIMARY" >/dev/null

# Not through `api`: $! must be the server itself, so that cleanup stops it.
"$BIN/api-actix" serve --bind "127.0.0.1:$PORT" --database-url "$PRIMARY" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

PLAN=$(printf 'acme-password\n' | api remote plan request --remote "http://127.0.0.1:$PORT" \
    --username acme --password-stdin --register synthetic --database-url "$SECONDARY" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["plan_uuid"])')
api plan approve "$PLAN" --database-url "$PRIMARY" >/dev/null

# Runs `sync pull` once; prints "seconds peak_rss_kb" (getrusage of the child).
pull() {
    python3 - "$BIN/api-actix" "$PORT" "$PLAN" "$CHUNK" "$SECONDARY" <<'PY'
import resource, subprocess, sys, time
api, port, plan, chunk, db = sys.argv[1:]
started = time.monotonic()
done = subprocess.run(
    [api, "sync", "pull", "--remote", f"http://127.0.0.1:{port}", "--username", "acme",
     "--password-stdin", "--plan", plan, "--chunk-entries", chunk, "--database-url", db],
    input=b"acme-password\n", capture_output=True)
seconds = time.monotonic() - started
if done.returncode != 0:
    sys.exit(f"sync pull failed ({done.returncode}): {done.stderr.decode()}")
print(f"{seconds:.2f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

echo "== full pull: $ENTRIES entries, $CHUNK per chunk"
read -r FULL_S FULL_KB < <(pull)
api load synthetic "$WORK/increment.rsf" --database-url "$PRIMARY" >/dev/null
echo "== incremental pull: $INCREMENT entries"
read -r INC_S INC_KB < <(pull)

primary_root=$(api root synthetic --database-url "$PRIMARY")
mirror_root=$(api root synthetic --database-url "$SECONDARY")
if [[ $primary_root != "$mirror_root" ]]; then
    echo "FAIL: the mirror ($mirror_root) differs from the primary ($primary_root)" >&2
    exit 1
fi
python3 - "$ENTRIES" "$INCREMENT" "$FULL_S" "$FULL_KB" "$INC_S" "$primary_root" <<'PY'
import sys
entries, increment, full_s, full_kb, inc_s, root = sys.argv[1:]
entries, increment = int(entries), int(increment)
full_s, full_mb, inc_s = float(full_s), int(full_kb) / 1024, float(inc_s)
judged = entries == 1_000_000 and increment == 1_000
def verdict(ok):
    return ("PASS" if ok else "FAIL") if judged else "(judged at 1,000,000 + 1,000 only)"
print(f"full pull: {entries:,} entries in {full_s:.1f} s ({entries / full_s:,.0f} entries/s); "
      f"target <= 90 s: {verdict(full_s <= 90)}")
print(f"receiver peak RSS: {full_mb:.0f} MB; target <= 500 MB: {verdict(full_mb <= 500)}")
print(f"incremental pull: {increment:,} entries in {inc_s:.2f} s; target <= 1 s: {verdict(inc_s <= 1)}")
print(f"both sides: {root}")
PY
