#!/usr/bin/env bash
# Loads `rsf generate --entries ENTRIES --keys KEYS` into a fresh store on SQLite and, when
# BENCH_DATABASE_URL (a PostgreSQL server URL ending in an existing database) is set or
# PostgreSQL answers on 127.0.0.1:5432, on PostgreSQL; then times proofs at the final size.
# Targets for 1,000,000 entries: SQLite <= 60 s, PostgreSQL <= 90 s, peak memory <= 1 GB,
# each proof <= 5 ms; signing the checkpoints adds <= 5% to the load time.
set -euo pipefail
cd "$(dirname "$0")/.."
entries=${1:-1000000}
keys=${2:-200000}
cargo build --release -p rsf -p store-diesel --example bench_load >/dev/null
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/rsf" generate --entries "$entries" --keys "$keys" >"$work/register.rsf"
echo "register: $entries entries, $keys keys, $(du -m "$work/register.rsf" | cut -f1) MB"

# Each backend loads the file four times into fresh databases, unsigned, signed, signed,
# unsigned (ABBA, so the first load's writeback and a warming cache do not favour either), the
# signed loads signing the load's checkpoint as a server does; the ratio of the sums is what
# signing adds.
load_seconds() { sed -n 's/^load[^:]*: [0-9]* user entries in \([0-9.]*\) s.*/\1/p' "$1"; }
run() {
    local label=$1 url=$2 signed_url=$3 url2=$4 signed_url2=$5
    echo "== $label"
    local i=0 u=0 s=0 target mode secs
    for target in "$url" "$signed_url" "$signed_url2" "$url2"; do
        i=$((i + 1))
        mode=""
        [[ $target == "$signed_url" || $target == "$signed_url2" ]] && mode=signed
        /usr/bin/time -f "peak RSS %M KB, wall %e s" "$bin/examples/bench_load" "$target" "$work/register.rsf" $mode \
            | tee "$work/$label.$i"
        secs=$(load_seconds "$work/$label.$i")
        if [[ -n $mode ]]; then s=$(awk -v a="$s" -v b="$secs" 'BEGIN { print a + b }')
        else u=$(awk -v a="$u" -v b="$secs" 'BEGIN { print a + b }'); fi
    done
    awk -v a="$s" -v b="$u" \
        'BEGIN { printf "signed / unsigned load time (ABBA sums %.2f s / %.2f s): %.3f (target <= 1.05)\n", a, b, a / b }'
}
run sqlite "$work/a.sqlite" "$work/b.sqlite" "$work/c.sqlite" "$work/d.sqlite"
admin=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
if psql "$admin" -qtAc "SELECT 1" >/dev/null 2>&1; then
    db="bench_store_$$"
    for d in a b c d; do psql "$admin" -qc "CREATE DATABASE ${db}_$d"; done
    trap 'for d in a b c d; do psql "$admin" -qc "DROP DATABASE IF EXISTS ${db}_$d" >/dev/null 2>&1; done; rm -rf "$work"' EXIT
    run postgres "${admin%/*}/${db}_a" "${admin%/*}/${db}_b" "${admin%/*}/${db}_c" "${admin%/*}/${db}_d"
else
    echo "== postgres SKIPPED: no server at $admin"
fi
