# Everyday commands; CI runs the same ones through .ci/run.

default:
    @just --list

# Build everything (debug).
build:
    cargo build --workspace

# Run the whole test suite (the command README.md names). Store tests also run on PostgreSQL
# when TEST_DATABASE_URL is set (e.g. postgres://postgres@127.0.0.1:5432/test).
test:
    cargo test --workspace --locked

# Format and lint exactly as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Layering: no import circle between the files of any crate.
imports:
    python3 scripts/check-imports.py crates/* bins/*

# Regenerate crates/store-diesel/src/schema.rs from the migrations (needs the diesel CLI).
schema:
    bash scripts/check-schema.sh --write

# Everything CI runs.
ci:
    bash .ci/run

# Benchmarks with figures to report (release builds).
bench: bench-rsf bench-load bench-plan bench-store bench-api bench-metrics bench-import bench-sync bench-write bench-soak

# rsf: generate a 1M-entry register, then verify it (target: <= 3 s, <= 500 MB).
bench-rsf entries="1000000" keys="200000":
    bash scripts/bench-rsf.sh {{entries}} {{keys}}

# load: `api-actix load` of a 1M-entry register into fresh SQLite and PostgreSQL databases
# (PostgreSQL skipped when no server answers), against `rsf verify` of the same file in the
# same run (targets: load / verify <= 6 on SQLite, <= 10 on PostgreSQL, <= 1 GB).
bench-load entries="1000000" keys="200000":
    bash scripts/bench-load.sh {{entries}} {{keys}}

# plan-core: validate a ~1 MB plan with 2,000 slices (target: median <= 50 ms).
bench-plan slices="2000" runs="21":
    cargo run --release -p plan-core --example bench_validate -- {{slices}} {{runs}}

# store-diesel: load 1M entries into SQLite and PostgreSQL, then time proofs
# (targets: SQLite <= 60 s, PostgreSQL <= 90 s, <= 1 GB, proofs <= 5 ms).
bench-store entries="1000000" keys="200000":
    bash scripts/bench-store.sh {{entries}} {{keys}}

# api-actix: serve a 1M-entry SQLite register and load it with wrk on loopback (targets:
# records >= 15,000 req/s with p99 <= 20 ms, entries pages >= 3,000 req/s, entry proofs
# >= 5,000 req/s, record pages >= 5,000 req/s, server RSS flat over 60 s). Needs wrk
# (apt-get install -y wrk).
bench-api entries="1000000" keys="200000" duration="20":
    bash scripts/bench-api.sh {{entries}} {{keys}} {{duration}}

# metrics: the records benchmark with metrics on and off, ABBA in one run (target: on >= 95%
# of off).
bench-metrics entries="1000000" keys="200000" duration="15" rounds="3":
    bash scripts/bench-metrics.sh {{entries}} {{keys}} {{duration}} {{rounds}}

# pages: the record page (HTML, a browser's Accept) on the 1M-entry register, with the JSON
# record for comparison (target: >= 5,000 req/s). Needs wrk.
bench-pages entries="1000000" keys="200000" duration="20":
    BENCH_API_RUNS="record page" bash scripts/bench-api.sh {{entries}} {{keys}} {{duration}}

# sync: pull a 1M-entry register from a primary on loopback into an empty SQLite mirror, then
# 1,000 new entries (targets: <= 90 s and <= 500 MB; increment <= 1 s).
bench-sync entries="1000000" keys="200000" increment="1000" chunk="100000":
    bash scripts/bench-sync.sh {{entries}} {{keys}} {{increment}} {{chunk}}

# import: a 1M-row CSV snapshot against a 1M-record register with 1% of rows changed; times
# `rsf patch` and applying the patch on SQLite (targets: patch <= 20 s, apply <= 30 s).
bench-import rows="1000000" changed_percent="1":
    bash scripts/bench-import.sh {{rows}} {{changed_percent}}

# write API: one new record per POST on the 1M-entry register, SQLite and PostgreSQL (targets:
# 64 clients with a writer token SQLite >= 3,000 appends/s with p99 <= 50 ms, PostgreSQL
# >= 2,000; one client >= 500; HTTP Basic measured alongside). Needs wrk.
bench-write entries="1000000" keys="200000" duration="20":
    bash scripts/bench-write.sh {{entries}} {{keys}} {{duration}}

# soak: 60 s of good reads and writes beside hostile clients (slow readers, trickled bodies,
# idle heads, password guessers, hostile plan documents, UUID probes) against a release
# server on SQLite (targets: availability >= 99.9 % within 1 s, server RSS flat).
bench-soak entries="200000" keys="20000" duration="60":
    bash scripts/bench-soak.sh {{entries}} {{keys}} {{duration}}
