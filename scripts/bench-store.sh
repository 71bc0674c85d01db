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

run() {
    local label=$1 url=$2
    echo "== $label"
    /usr/bin/time -f "peak RSS %M KB, wall %e s" "$bin/examples/bench_load" "$url" "$work/register.rsf"
}
run sqlite "$work/bench.sqlite"
admin=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
if psql "$admin" -qtAc "SELECT 1" >/dev/null 2>&1; then
    db="bench_store_$$"
    psql "$admin" -qc "CREATE DATABASE $db"
    trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$work"' EXIT
    run postgres "${admin%/*}/$db"
else
    echo "== postgres SKIPPED: no server at $admin"
fi
