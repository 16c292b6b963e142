#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite (unit, snapshot, end-to-end in tmux).
# Release configuration: the tests use only public API, and the end-to-end test drives the same
# release binary that scripts/run.sh launches.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product inftop
swift test -c release "$@"
