#!/usr/bin/env bash
# next-occurrence throughput: our CronSchedule (release build) against cronsim on the same
# expressions, zone and instants, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product CronBench >/dev/null
echo "### CronSchedule (Swift, release)"
"$(swift build -c release --show-bin-path)/CronBench"
echo
echo "### cronsim $(python3 -c 'import importlib.metadata as m; print(m.version("cronsim"))') (Python $(python3 -c 'import platform; print(platform.python_version())'))"
python3 benchmarks/cron/cronsim_bench.py
