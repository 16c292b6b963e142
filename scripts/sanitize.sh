#!/usr/bin/env bash
# Runs the test suite under a sanitizer: scripts/sanitize.sh thread|address [swift test args, e.g. --filter X]
#   thread:  ThreadSanitizer, built with -DINFTOP_TSAN so that `Locked` is a pthread mutex TSan sees
#            (Sources/InftopTelemetry/Locked.swift); suppressions in scripts/tsan.supp, each with its reason.
#   address: AddressSanitizer (LeakSanitizer off: Swift's runtime metadata caches read as leaks), with
#            libFuzzer's coverage and the inftop-fuzz product (INFTOP_FUZZ=1): one build serves this
#            suite and scripts/fuzz.sh, which builds through `scripts/sanitize.sh address --build-only`.
# Its own build path (.build-thread / .build-address), so the normal .build stays as it is.
# Every process's reports (the test bundles and each inftop the end-to-end tests launch) go to
# .build-KIND/reports/; the script prints their count and fails if a test failed or any report is left.
# SANITIZE_SKIP_BUILD=1 reuses the last build.
set -uo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case "$kind" in
    thread)  flags=(--sanitize=thread -Xswiftc -DINFTOP_TSAN) ;;
    address)
        # libFuzzer without its main (inftop-fuzz has its own: it picks the target, then calls
        # LLVMFuzzerRunDriver); Package.swift links it into inftop-fuzz only.
        toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")
        INFTOP_FUZZ_RUNTIME=$(ls "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1)
        [ -n "$INFTOP_FUZZ_RUNTIME" ] || { echo "sanitize.sh: libclang_rt.fuzzer_no_main not found under $toolchain/lib/clang" >&2; exit 2; }
        export INFTOP_FUZZ=1 INFTOP_FUZZ_RUNTIME
        # What -sanitize=fuzzer instruments, without linking libFuzzer's main into every binary.
        flags=(--sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table) ;;
    *) echo "usage: scripts/sanitize.sh thread|address [--build-only [swift build args]] [swift test arguments]" >&2; exit 2 ;;
esac
shift
if [ "${1:-}" = "--build-only" ]; then
    shift
    exec nice -n 19 swift build -c release --build-path ".build-$kind" "${flags[@]}" "$@"
fi
build=".build-$kind"
reports="$PWD/$build/reports"
mkdir -p "$build"
rm -rf "$reports"; mkdir -p "$reports"

# TSan: report everything (halt_on_error=0), into one file per process.
export TSAN_OPTIONS="log_path=$reports/tsan suppressions=$PWD/scripts/tsan.supp history_size=4 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="log_path=$reports/asan detect_leaks=0 ${ASAN_OPTIONS:-}"
# Swift's crash backtracer and the sanitizers both want the fatal signals; let the sanitizer print.
export SWIFT_BACKTRACE="enable=no"

start=$(date +%s)
if [ "${SANITIZE_SKIP_BUILD:-0}" != 1 ]; then
    nice -n 19 swift build -c release --build-tests --build-path "$build" "${flags[@]}" || exit 1
fi
built=$(date +%s)
# ISABinaryTests reads the shipped binary's instructions; a sanitizer build links compiler-rt's
# runtime into it, which is not the binary users run (under ASan objdump's listing did not even
# read as UTF-8), so it is left to the normal suite.
nice -n 19 swift test -c release --skip-build --build-path "$build" "${flags[@]}" --skip ISABinaryTests "$@" 2>&1 | tee "$build/test.log"
status=${PIPESTATUS[0]}
done_at=$(date +%s)

count=$(cat "$reports"/* 2>/dev/null | grep -c "^WARNING: ThreadSanitizer\|^==[0-9]*==ERROR: AddressSanitizer" || true)
echo "sanitize $kind: build $((built - start)) s, tests $((done_at - built)) s, test status $status, $count report(s) in $reports"
if [ "$count" -gt 0 ]; then
    # One line per report: its kind and the first frame of ours.
    grep -h -A12 "^WARNING: ThreadSanitizer\|ERROR: AddressSanitizer" "$reports"/* | grep -m 40 "^WARNING\|ERROR\|Inftop\|inftop" || true
fi
[ "$status" -eq 0 ] && [ "$count" -eq 0 ]
