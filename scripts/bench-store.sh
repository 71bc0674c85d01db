#!/usr/bin/env bash
# Loads `rsf generate --entries ENTRIES --keys KEYS` into a fresh store on SQLite and, when
# BENCH_DATABASE_URL (a PostgreSQL server URL ending in an existing database) is set or
# PostgreSQL answers on 127.0.0.1:5432, on PostgreSQL; then times proofs at the final size.
# Targets for 1,000,000 entries: SQLite <= 60 s, PostgreSQL <= 90 s, peak memory <= 1 GB,
# each proof <= 5 ms.
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

# Each backend loads the file twice into fresh databases: without signing, then signing the
# load's checkpoint as a server does; the ratio is what signing adds.
load_seconds() { sed -n 's/^load[^:]*: [0-9]* user entries in \([0-9.]*\) s.*/\1/p' "$1"; }
run() {
    local label=$1 url=$2 signed_url=$3
    echo "== $label"
    /usr/bin/time -f "peak RSS %M KB, wall %e s" "$bin/examples/bench_load" "$url" "$work/register.rsf" \
        | tee "$work/$label.plain"
    /usr/bin/time -f "peak RSS %M KB, wall %e s" "$bin/examples/bench_load" "$signed_url" "$work/register.rsf" signed \
        | tee "$work/$label.signed"
    awk -v a="$(load_seconds "$work/$label.signed")" -v b="$(load_seconds "$work/$label.plain")" \
        'BEGIN { printf "signed / unsigned load time: %.3f (target <= 1.05)\n", a / b }'
}
run sqlite "$work/bench.sqlite" "$work/bench-signed.sqlite"
admin=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
if psql "$admin" -qtAc "SELECT 1" >/dev/null 2>&1; then
    db="bench_store_$$"
    psql "$admin" -qc "CREATE DATABASE $db"
    psql "$admin" -qc "CREATE DATABASE ${db}_signed"
    trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; psql "$admin" -qc "DROP DATABASE IF EXISTS ${db}_signed" >/dev/null 2>&1; rm -rf "$work"' EXIT
    run postgres "${admin%/*}/$db" "${admin%/*}/${db}_signed"
else
    echo "== postgres SKIPPED: no server at $admin"
fi
