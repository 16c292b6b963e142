#!/usr/bin/env bash
# Installs what is missing, builds inftop (release) and launches it; extra arguments go to inftop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product inftop 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' >&2 || true
exec .build/release/inftop "$@"
