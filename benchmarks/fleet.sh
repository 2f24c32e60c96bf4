#!/usr/bin/env bash
# Issue 6's targets: the weekly report over 10,000 jobs and the status page for 1,000 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product FleetBench >/dev/null
"$(swift build -c release --show-bin-path)/FleetBench"
