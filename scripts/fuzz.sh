#!/usr/bin/env bash
# libFuzzer over every parser (docs/fuzzing.md):
#   scripts/fuzz.sh [TARGET|all] [SECONDS]   each target for SECONDS (default 60) from Fuzz/corpus/TARGET
#   scripts/fuzz.sh --ci                     every target for 20 s (CI), fails on any crash
# Builds Fuzz/inftop-fuzz with AddressSanitizer and libFuzzer's coverage in .build-address, the
# build scripts/sanitize.sh address also runs the suite from (the normal .build is untouched). New
# inputs libFuzzer finds go to .build-address/corpus/TARGET (the committed seeds stay as they are);
# a crash is written to .build-address/crashes/TARGET/ and the script fails.
set -uo pipefail
cd "$(dirname "$0")/.."
target=all; seconds=60
if [ "${1:-}" = "--ci" ]; then seconds=20; shift; else target=${1:-all}; seconds=${2:-60}; fi
build=.build-address
[ "${FUZZ_SKIP_BUILD:-0}" = 1 ] || bash scripts/sanitize.sh address --build-only --product inftop-fuzz || exit 1
bin="$build/release/inftop-fuzz"

if [ "$target" = all ]; then targets=$(ls Fuzz/corpus); else targets=$target; fi
export SWIFT_BACKTRACE=enable=no          # let ASan/libFuzzer report crashes, not Swift's backtracer
export ASAN_OPTIONS="detect_leaks=0 ${ASAN_OPTIONS:-}"
failed=0
for t in $targets; do
    [ -d "Fuzz/corpus/$t" ] || { echo "fuzz.sh: no seed corpus Fuzz/corpus/$t" >&2; exit 2; }
    mkdir -p "$build/corpus/$t" "$build/crashes/$t"
    log="$build/fuzz-$t.log"
    # -max_len: the largest seed (the GGUF fixture) plus room to grow; -timeout: a hang is a crash.
    nice -n 19 "$bin" "$t" "$build/corpus/$t" "Fuzz/corpus/$t" -max_total_time="$seconds" -max_len=131072 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes/$t/" >"$log" 2>&1
    status=$?
    execs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$")
    rate=$(grep -o "stat::average_exec_per_sec: *[0-9]*" "$log" | grep -o "[0-9]*$")
    cov=$(grep -o "cov: [0-9]*" "$log" | tail -1)
    corpus=$(ls "$build/corpus/$t" | wc -l)
    crashes=$(ls "$build/crashes/$t" | wc -l)
    echo "fuzz $t: ${seconds} s, ${execs:-?} runs, ${rate:-?} exec/s, $cov, corpus $corpus (+ $(ls Fuzz/corpus/$t | wc -l) seeds), crashes $crashes, status $status"
    if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        grep -m 3 "ERROR: \|Fatal error\|SUMMARY" "$log" | sed 's/^/    /'
    fi
done
exit $failed
