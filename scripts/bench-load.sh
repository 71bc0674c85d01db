#!/usr/bin/env bash
# Benchmark `api-actix load` against `rsf verify` of the same file (issue #16).
#
# Usage: scripts/bench-load.sh [ENTRIES [KEYS]]   (defaults: 1000000 200000)
#
# Builds the release `rsf` and `api-actix`, generates ENTRIES user entries over KEYS keys
# (`rsf generate --seed 1`), times `rsf verify` of the file (median of VERIFY_RUNS, default 3),
# then `api-actix load NAME FILE` into a fresh SQLite file and, when PostgreSQL answers at
# BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), into a fresh scratch
# database created and dropped on that server (LOAD_RUNS loads each, default 1, the median
# counts). Every load signs its checkpoint with key files made by `api-actix key generate`,
# as an operator's loads do. Each run reports wall time and peak RSS (/usr/bin/time); the
# loaded root must equal the verified one.
# LOAD_REFERENCE=/path/to/other/api-actix also times that binary's loads, each right after
# the corresponding load of ours into its own fresh database (for before/after figures in
# one run: build the old commit, copy its binary).
# Targets for 1,000,000 entries: load / verify <= 6 on SQLite and <= 10 on PostgreSQL, peak
# RSS <= 1 GB for every load.
set -euo pipefail

ENTRIES=${1:-1000000}
KEYS=${2:-200000}
[[ $ENTRIES =~ ^[0-9]+$ && $KEYS =~ ^[0-9]+$ ]] || {
    echo "usage: $0 [ENTRIES [KEYS]]" >&2
    exit 2
}
VERIFY_RUNS=${VERIFY_RUNS:-3}
LOAD_RUNS=${LOAD_RUNS:-1}
TARGET_SQLITE=6
TARGET_PG=10
TARGET_RSS_MB=1024
JUDGED_ENTRIES=1000000
NAME=synthetic

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
echo "== building (cargo build --release -p rsf -p api-actix)"
cargo build --release -p rsf -p api-actix
BIN=${CARGO_TARGET_DIR:-target}/release

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-load.XXXXXX")
ADMIN=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
PG_DBS=()
cleanup() {
    for db in "${PG_DBS[@]}"; do
        psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BIN/rsf" generate --entries "$ENTRIES" --keys "$KEYS" --seed 1 >"$WORK/register.rsf"
echo "register: $ENTRIES entries, $KEYS keys, $(du -m "$WORK/register.rsf" | cut -f1) MB"
"$BIN/api-actix" key generate --name bench >"$WORK/log.key" 2>/dev/null
"$BIN/api-actix" key generate --cosigner --name bench >"$WORK/cosigner.key" 2>/dev/null

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Runs a command under /usr/bin/time, its stdout to $WORK/out; sets $wall (s) and $rss (MB).
timed() {
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out"
    read -r wall rss_kb <"$WORK/time"
    rss=$((rss_kb / 1024))
}

echo "== rsf verify ($VERIFY_RUNS runs)"
walls=()
for i in $(seq 1 "$VERIFY_RUNS"); do
    timed "$BIN/rsf" verify "$WORK/register.rsf"
    walls+=("$wall")
    echo "verify run $i: $wall s, peak RSS $rss MB"
done
VERIFY_S=$(printf '%s\n' "${walls[@]}" | median)
VERIFY_RSS=$rss
# The root `rsf verify` computes, which every load must reach.
ROOT_HASH=$(sed -E 's/.*"root-hash":"([^"]*)".*/\1/' "$WORK/out")

failed=0
judge() {
    local label=$1 ratio=$2 target=$3 rss=$4
    if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then
        echo "$label load / verify: $ratio <= $target: PASS"
    else
        echo "$label load / verify: $ratio > $target: FAIL"
        failed=1
    fi
    if ((rss <= TARGET_RSS_MB)); then
        echo "$label peak RSS: $rss MB <= $TARGET_RSS_MB MB: PASS"
    else
        echo "$label peak RSS: $rss MB > $TARGET_RSS_MB MB: FAIL"
        failed=1
    fi
}

# load_runs LABEL FRESH: LOAD_RUNS loads, each into the fresh database `FRESH i` names in
# $url; sets $load_s (median) and $load_rss (max).
load_runs() {
    local label=$1 fresh=$2 i
    local walls=() peak=0
    for i in $(seq 1 "$LOAD_RUNS"); do
        $fresh "$i"
        timed "$BIN/api-actix" load "$NAME" "$WORK/register.rsf" --database-url "$url" \
            --log-key-file "$WORK/log.key" --cosigner-key-file "$WORK/cosigner.key"
        grep -q "\"root-hash\":\"$ROOT_HASH\"" "$WORK/out" || {
            echo "error: the $label load did not reach root $ROOT_HASH: $(cat "$WORK/out")" >&2
            exit 1
        }
        walls+=("$wall")
        ((rss > peak)) && peak=$rss
        echo "$label load run $i: $wall s, peak RSS $rss MB"
        if [[ -n ${LOAD_REFERENCE:-} ]]; then
            $fresh "ref$i"
            timed "$LOAD_REFERENCE" load "$NAME" "$WORK/register.rsf" --database-url "$url" \
                --log-key-file "$WORK/log.key" --cosigner-key-file "$WORK/cosigner.key"
            echo "$label reference load run $i: $wall s, peak RSS $rss MB," \
                "load / verify $(awk -v a="$wall" -v b="$VERIFY_S" 'BEGIN { printf "%.2f", a / b }')"
        fi
    done
    load_s=$(printf '%s\n' "${walls[@]}" | median)
    load_rss=$peak
}

sqlite_db() { url="$WORK/load.$1.sqlite"; }
pg_db() {
    local db="bench_load_$$_$1"
    PG_DBS+=("$db")
    psql "$ADMIN" -qc "CREATE DATABASE $db" >/dev/null
    url="${ADMIN%/*}/$db"
}

echo "== api-actix load into SQLite ($LOAD_RUNS runs)"
load_runs sqlite sqlite_db
SQLITE_S=$load_s
SQLITE_RSS=$load_rss
SQLITE_RATIO=$(awk -v a="$SQLITE_S" -v b="$VERIFY_S" 'BEGIN { printf "%.2f", a / b }')

PG_S=""
if psql "$ADMIN" -qtAc "SELECT 1" >/dev/null 2>&1; then
    echo "== api-actix load into PostgreSQL ($LOAD_RUNS runs)"
    load_runs postgres pg_db
    PG_S=$load_s
    PG_RSS=$load_rss
    PG_RATIO=$(awk -v a="$PG_S" -v b="$VERIFY_S" 'BEGIN { printf "%.2f", a / b }')
else
    echo "== PostgreSQL SKIPPED: no server answers at $ADMIN"
fi

echo
echo "== load report ($ENTRIES entries, $KEYS keys)"
printf '%-24s %s\n' "rsf verify (median)" "$VERIFY_S s, peak RSS $VERIFY_RSS MB  (runs: ${walls[*]})"
printf '%-24s %s\n' "SQLite load" "$SQLITE_S s, peak RSS $SQLITE_RSS MB, load / verify $SQLITE_RATIO (target <= $TARGET_SQLITE)"
if [[ -n $PG_S ]]; then
    printf '%-24s %s\n' "PostgreSQL load" "$PG_S s, peak RSS $PG_RSS MB, load / verify $PG_RATIO (target <= $TARGET_PG)"
else
    printf '%-24s %s\n' "PostgreSQL load" "skipped (no server)"
fi
if [[ $ENTRIES -eq $JUDGED_ENTRIES ]]; then
    judge SQLite "$SQLITE_RATIO" "$TARGET_SQLITE" "$SQLITE_RSS"
    [[ -n $PG_S ]] && judge PostgreSQL "$PG_RATIO" "$TARGET_PG" "$PG_RSS"
else
    echo "(targets are judged for $JUDGED_ENTRIES entries only)"
fi
exit "$failed"
