#!/usr/bin/env bash
# Checks that crates/store-diesel/src/schema.rs is what diesel prints for the migrations of
# both backends. SQLite's output must match byte for byte; PostgreSQL's after mapping its type
# names to the portable ones the shared schema uses (Int8 -> BigInt, Bytea -> Binary, ...).
# Needs the `diesel` CLI; PostgreSQL is checked when TEST_DATABASE_URL is set.
# With --write, regenerates schema.rs from SQLite instead of checking.
set -euo pipefail
cd "$(dirname "$0")/.."
schema=crates/store-diesel/src/schema.rs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

diesel migration run --database-url "$work/check.sqlite" --migration-dir migrations/sqlite >/dev/null
diesel print-schema --database-url "$work/check.sqlite" >"$work/sqlite.rs"
if [ "${1:-}" = "--write" ]; then
    cp "$work/sqlite.rs" "$schema"
    echo "wrote $schema"
    exit 0
fi
if ! diff -u "$schema" "$work/sqlite.rs"; then
    echo "schema.rs differs from the SQLite migrations (regenerate: just schema)" >&2
    exit 1
fi
echo "schema.rs matches the SQLite migrations"

if [ -n "${TEST_DATABASE_URL:-}" ]; then
    db="schema_check_$$"
    base="${TEST_DATABASE_URL%/*}"
    psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
    trap 'psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$work"' EXIT
    diesel migration run --database-url "$base/$db" --migration-dir migrations/postgres >/dev/null
    diesel print-schema --database-url "$base/$db" |
        sed -e 's/-> Int8/-> BigInt/; s/-> Int4/-> Integer/; s/-> Int2/-> SmallInt/; s/-> Bytea/-> Binary/' \
            -e 's/<Int8>/<BigInt>/; s/<Int4>/<Integer>/; s/<Int2>/<SmallInt>/; s/<Bytea>/<Binary>/' \
            >"$work/postgres.rs"
    if ! diff -u "$schema" "$work/postgres.rs"; then
        echo "schema.rs differs from the PostgreSQL migrations" >&2
        exit 1
    fi
    echo "schema.rs matches the PostgreSQL migrations"
else
    echo "PostgreSQL schema check SKIPPED: TEST_DATABASE_URL is not set" >&2
fi
