#!/usr/bin/env bash
# Benchmark snapshot imports: a ROWS-row CSV snapshot against a ROWS-record register with
# CHANGED_PERCENT % of the rows changed.
#
# Usage: scripts/bench-import.sh [ROWS [CHANGED_PERCENT]]   (defaults: 1000000 1)
#
# Builds the release binaries, generates a register of ROWS entries over ROWS keys
# (`rsf generate`), turns its records into a CSV snapshot with every (100/CHANGED_PERCENT)-th
# row renamed, then times:
#   1. patch: `rsf patch --base register.rsf snapshot.csv` (database-free, target <= 20 s);
#   2. apply: `api-actix load` of that patch into a SQLite store holding the register
#      (target <= 30 s);
#   3. import: `api-actix import` of the snapshot into a second copy of that store (the
#      store-backed patch and its apply in one command), for reference.
# Each step reports wall time and peak RSS; the script checks the entry counts.
set -euo pipefail

ROWS=${1:-1000000}
CHANGED_PERCENT=${2:-1}
[[ $ROWS =~ ^[0-9]+$ && $CHANGED_PERCENT =~ ^[1-9][0-9]*$ && $CHANGED_PERCENT -le 100 ]] || {
    echo "usage: $0 [ROWS [CHANGED_PERCENT]]" >&2
    exit 2
}
TARGET_PATCH_S=20
TARGET_APPLY_S=30
TS=2024-05-01T12:00:00Z

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
echo "== building (cargo build --release -p rsf -p api-actix)"
cargo build --release -p rsf -p api-actix
BIN=${CARGO_TARGET_DIR:-target}/release

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-import.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

"$BIN/rsf" generate --entries "$ROWS" --keys "$ROWS" >"$WORK/register.rsf"
# The generator writes each record's item on one `add-item` line, fields in canonical order:
# {"labels":[..,..],"name":..,"size":..,"start-date":..,"synthetic":..}. Rows keep that data,
# key first; every (100/CHANGED_PERCENT)-th row gets a new name.
every=$((100 / CHANGED_PERCENT))
{
    echo "synthetic,name,size,start-date,labels"
    grep '^add-item	{"labels"' "$WORK/register.rsf" |
        sed -E 's/^add-item\t\{"labels":\["([^"]*)","([^"]*)"\],"name":"([^"]*)","size":"([^"]*)","start-date":"([^"]*)","synthetic":"([^"]*)"\}$/\6,\3,\4,\5,\1;\2/' |
        awk -v every="$every" 'NR % every == 0 { sub(/ version /, " edition ") } { print }'
} >"$WORK/snapshot.csv"
rows=$(($(wc -l <"$WORK/snapshot.csv") - 1))
[[ $rows -eq $ROWS ]] || { echo "error: snapshot has $rows rows, expected $ROWS" >&2; exit 1; }
expected=$((ROWS / every))
echo "register: $ROWS records, $(du -m "$WORK/register.rsf" | cut -f1) MB; snapshot: $rows rows, $(du -m "$WORK/snapshot.csv" | cut -f1) MB, $expected changed"

# Runs a command under /usr/bin/time; prints "label: wall W s, peak RSS M MB" to the script's
# own stdout (fd 3: the command's output is usually redirected) and sets $wall.
exec 3>&1
timed() {
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@"
    read -r wall rss <"$WORK/time"
    echo "$label: wall $wall s, peak RSS $((rss / 1024)) MB" >&3
}

verdict() {
    local label=$1 seconds=$2 target=$3
    if awk -v s="$seconds" -v t="$target" 'BEGIN { exit !(s <= t) }'; then
        echo "$label: $seconds s <= $target s: PASS"
    else
        echo "$label: $seconds s > $target s: FAIL"
        failed=1
    fi
}

echo "== patch (rsf patch)"
timed patch "$BIN/rsf" patch --base "$WORK/register.rsf" --timestamp "$TS" "$WORK/snapshot.csv" \
    >"$WORK/patch.rsf" 2>"$WORK/summary.json"
patch_wall=$wall
cat "$WORK/summary.json"
entries=$(grep -c '^append-entry' "$WORK/patch.rsf" || true)
[[ $entries -eq $expected ]] || { echo "error: the patch has $entries entries, expected $expected" >&2; exit 1; }

echo "== base register into SQLite (api-actix load, not judged)"
timed load "$BIN/api-actix" load synthetic "$WORK/register.rsf" --database-url "$WORK/a.sqlite" >/dev/null
cp "$WORK/a.sqlite" "$WORK/b.sqlite"

echo "== apply (api-actix load of the patch)"
timed apply "$BIN/api-actix" load synthetic "$WORK/patch.rsf" --database-url "$WORK/a.sqlite" \
    >"$WORK/apply.json"
apply_wall=$wall
cat "$WORK/apply.json"
grep -Eq "\"user-entries-added\":$expected[,}]" "$WORK/apply.json" ||
    { echo "error: the apply did not add $expected entries" >&2; exit 1; }

echo "== import (api-actix import: read records, patch, apply)"
timed import "$BIN/api-actix" import synthetic "$WORK/snapshot.csv" --timestamp "$TS" \
    --database-url "$WORK/b.sqlite" >"$WORK/import.json"
cat "$WORK/import.json"
grep -Eq "\"user-entries-added\":$expected[,}]" "$WORK/import.json" ||
    { echo "error: the import did not add $expected entries" >&2; exit 1; }

# Both ways of applying the snapshot must end at the same register.
root() { sed -E 's/.*"root-hash":"([^"]*)".*/\1/' "$1"; }
[[ $(root "$WORK/apply.json") == $(root "$WORK/import.json") ]] ||
    { echo "error: rsf patch + load and api-actix import end at different roots" >&2; exit 1; }
echo "rsf patch + load and api-actix import end at the same root"

failed=0
if [[ $ROWS -eq 1000000 && $CHANGED_PERCENT -eq 1 ]]; then
    verdict "patch (target)" "$patch_wall" "$TARGET_PATCH_S"
    verdict "apply (target)" "$apply_wall" "$TARGET_APPLY_S"
else
    echo "(targets are judged for 1000000 rows with 1% changed only)"
fi
exit "$failed"
