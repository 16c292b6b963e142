#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite (unit, snapshot, end-to-end in tmux),
# then, when called without arguments (CI), the suite again under AddressSanitizer, every
# fuzz target for 20 s from the same ASan build (docs/fuzzing.md), and a 2-minute soak. Arguments go to `swift test`
# (e.g. --filter X) and run only that part of the normal suite.
# Release configuration: the tests use only public API, and the end-to-end test drives the same
# release binary that scripts/run.sh launches.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product inftop
swift test -c release "$@"
[ $# -eq 0 ] || exit 0
# ASan rather than TSan in CI: its tests take ~9 min here against TSan's ~25, and its build is the
# one the fuzz targets run from (docs/benchmarks.md, Sanitizers).
bash scripts/sanitize.sh address
FUZZ_SKIP_BUILD=1 bash scripts/fuzz.sh --ci
# Two minutes of random keys on the dashboard (scripts/soak.sh: crash, hang, fd leak, RSS).
bash scripts/soak.sh 2
