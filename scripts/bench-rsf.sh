#!/usr/bin/env bash
# Benchmark `rsf verify` on a generated register.
#
# Usage: scripts/bench-rsf.sh ENTRIES KEYS
#
# Builds the release binary (`cargo build --release -p rsf`; the binary is taken from
# $CARGO_TARGET_DIR/release/rsf when that is set, else target/release/rsf), generates a
# strict-mode register of ENTRIES user entries over KEYS keys into a temporary file, runs
# `rsf verify` on it three times and reports the median wall time, throughput and peak RSS.
# Targets (judged only for ENTRIES=1000000): <= 3 s wall and <= 500 MB peak RSS.
#
# RSF_REFERENCE=/path/to/other/rsf also times that binary on the same file, each of its runs
# right after the corresponding run of ours, and reports the ratio of the medians (for
# "within noise of the previous build" checks: build the old commit, copy its binary).
set -euo pipefail

usage() {
    echo "usage: $0 ENTRIES KEYS" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
ENTRIES=$1
KEYS=$2
[[ $ENTRIES =~ ^[0-9]+$ && $KEYS =~ ^[0-9]+$ ]] || usage

TARGET_WALL_S=3
TARGET_RSS_MB=500
JUDGED_ENTRIES=1000000
RUNS=${RUNS:-3}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

echo "== building (cargo build --release -p rsf)"
cargo build --release -p rsf
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN="$TARGET_DIR/release/rsf"
[[ -x $BIN ]] || { echo "error: $BIN not found after build" >&2; exit 1; }

TMPDIR_BENCH=$(mktemp -d "${TMPDIR:-/tmp}/bench-rsf.XXXXXX")
cleanup() { rm -rf "$TMPDIR_BENCH"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
RSF="$TMPDIR_BENCH/register.rsf"

now() { date +%s.%N; }

echo "== generating $ENTRIES entries over $KEYS keys"
start=$(now)
"$BIN" generate --entries "$ENTRIES" --keys "$KEYS" --seed 1 >"$RSF"
end=$(now)
GEN_S=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
BYTES=$(wc -c <"$RSF")
SIZE_MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "generate: ${GEN_S} s, ${SIZE_MB} MB ($BYTES bytes)"

HAVE_TIME=0
if [[ -x /usr/bin/time ]]; then
    HAVE_TIME=1
fi

walls=()
ref_walls=()
rss_kb=()
echo "== verifying $RUNS times"
for i in $(seq 1 "$RUNS"); do
    out="$TMPDIR_BENCH/verify.$i.out"
    if ((HAVE_TIME)); then
        stats="$TMPDIR_BENCH/time.$i"
        if ! /usr/bin/time -o "$stats" -f '%e %M' "$BIN" verify "$RSF" >"$out"; then
            echo "error: rsf verify failed (run $i)" >&2
            exit 1
        fi
        read -r wall rss <"$stats"
        rss_kb+=("$rss")
    else
        # bash's `time` keyword: wall seconds only, no peak memory.
        stats="$TMPDIR_BENCH/time.$i"
        TIMEFORMAT=%R
        status=0
        { time "$BIN" verify "$RSF" >"$out" 2>"$TMPDIR_BENCH/verify.$i.err"; } 2>"$stats" || status=$?
        if ((status != 0)); then
            cat "$TMPDIR_BENCH/verify.$i.err" >&2
            echo "error: rsf verify failed (run $i)" >&2
            exit 1
        fi
        read -r wall <"$stats"
    fi
    walls+=("$wall")
    if [[ -n ${RSF_REFERENCE:-} ]]; then
        TIMEFORMAT=%R
        { time "$RSF_REFERENCE" verify "$RSF" >"$TMPDIR_BENCH/ref.$i.out"; } 2>"$TMPDIR_BENCH/ref.$i.time"
        read -r ref_wall <"$TMPDIR_BENCH/ref.$i.time"
        ref_walls+=("$ref_wall")
        echo "reference run $i: ${ref_wall} s"
    fi
    if ((HAVE_TIME)); then
        echo "run $i: ${wall} s, peak RSS $((rss / 1024)) MB: $(cat "$out")"
    else
        echo "run $i: ${wall} s: $(cat "$out")"
    fi
    if ! grep -q "\"user-entries\":$ENTRIES," "$out"; then
        echo "error: verify did not report $ENTRIES user entries" >&2
        exit 1
    fi
done

MEDIAN=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
ENTRIES_PER_S=$(awk -v n="$ENTRIES" -v t="$MEDIAN" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "inf" }')
MB_PER_S=$(awk -v m="$BYTES" -v t="$MEDIAN" 'BEGIN { if (t > 0) printf "%.1f", m / 1048576 / t; else print "inf" }')
if ((HAVE_TIME)); then
    PEAK_KB=$(printf '%s\n' "${rss_kb[@]}" | sort -g | tail -n 1)
    PEAK_MB=$(awk -v k="$PEAK_KB" 'BEGIN { printf "%.1f", k / 1024 }')
else
    PEAK_MB="unavailable (/usr/bin/time missing)"
fi

echo
echo "== rsf verify report"
printf '%-22s %s\n' "entries / keys" "$ENTRIES / $KEYS"
printf '%-22s %s\n' "file size" "$SIZE_MB MB"
printf '%-22s %s\n' "generate time" "$GEN_S s"
printf '%-22s %s\n' "verify wall (median)" "$MEDIAN s  (runs: ${walls[*]})"
printf '%-22s %s\n' "throughput" "$ENTRIES_PER_S entries/s, $MB_PER_S MB/s"
if [[ -n ${RSF_REFERENCE:-} ]]; then
    REF_MEDIAN=$(printf '%s\n' "${ref_walls[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    RATIO=$(awk -v a="$MEDIAN" -v b="$REF_MEDIAN" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    printf '%-22s %s\n' "reference (median)" "$REF_MEDIAN s  (runs: ${ref_walls[*]})"
    printf '%-22s %s\n' "ours / reference" "$RATIO"
fi
if ((HAVE_TIME)); then
    printf '%-22s %s\n' "peak RSS (max)" "$PEAK_MB MB"
else
    printf '%-22s %s\n' "peak RSS" "$PEAK_MB"
fi

if [[ $ENTRIES -eq $JUDGED_ENTRIES ]]; then
    verdict=PASS
    wall_ok=$(awk -v t="$MEDIAN" -v l="$TARGET_WALL_S" 'BEGIN { print (t <= l) ? "PASS" : "FAIL" }')
    [[ $wall_ok == PASS ]] || verdict=FAIL
    if ((HAVE_TIME)); then
        rss_ok=$(awk -v m="$PEAK_MB" -v l="$TARGET_RSS_MB" 'BEGIN { print (m <= l) ? "PASS" : "FAIL" }')
        [[ $rss_ok == PASS ]] || verdict=FAIL
    else
        rss_ok="UNKNOWN (peak memory unavailable)"
        verdict="$verdict (memory not judged)"
    fi
    printf '%-22s %s\n' "target wall <= ${TARGET_WALL_S} s" "$wall_ok"
    printf '%-22s %s\n' "target RSS <= ${TARGET_RSS_MB} MB" "$rss_ok"
    printf '%-22s %s\n' "verdict" "$verdict"
else
    echo "targets (<= ${TARGET_WALL_S} s, <= ${TARGET_RSS_MB} MB) are judged only for ENTRIES=$JUDGED_ENTRIES"
fi
