#!/usr/bin/env bash
# What jobrun costs per cron tick: `jobrun JOB -- true` (lease on; monitor and GELF off)
# against bare `true` and against a bash + redis-cli wrapper doing the same SET NX / DEL,
# measured in one hyperfine run on the same local Redis. Writes docs/BENCHMARKS-jobrun.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(scripts/build-release | tail -1)
work=$(mktemp -d /tmp/jobwatch-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --dir "$work" --daemonize yes --logfile "$work/redis.log"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done

cat > "$work/lock.sh" <<SH
#!/bin/bash
# The cronlock pattern at its leanest: one SET NX, run, one DEL.
key="bench:lock:\$1"; shift
[ "\$(redis-cli -p $port SET "\$key" "\$HOSTNAME:\$\$" NX PX 60000)" = OK ] || exit 200
"\$@"; rc=\$?
redis-cli -p $port DEL "\$key" >/dev/null
exit \$rc
SH
chmod +x "$work/lock.sh"
echo "" > "$work/jobwatch.yaml"
export JOBWATCH_CONFIG="$work/jobwatch.yaml" JOBWATCH_REDIS="redis://127.0.0.1:$port/0" JOBWATCH_JOBS_DIR="$work"

hyperfine --warmup 20 --runs "${RUNS:-300}" -N --export-json "$work/h.json" \
    -n true 'true' \
    -n "jobrun" "$bin/jobrun bench -- true" \
    -n "bash+redis-cli" "$work/lock.sh bench true"

rss=$( /usr/bin/time -f %M "$bin/jobrun" bench -- true 2>&1 >/dev/null | tail -1 )
python3 - "$work/h.json" "$rss" <<'PY'
import json, sys, platform, os
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = runs["true"]["mean"]
lines = ["| command | mean | stddev | vs `true` | added over `true` |", "|---|---|---|---|---|"]
for name in ["true", "jobrun", "bash+redis-cli"]:
    r = runs[name]
    lines.append(f"| {name} | {r['mean']*1e3:.2f} ms | {r['stddev']*1e3:.2f} ms | {r['mean']/base:.1f}× | {(r['mean']-base)*1e3:+.2f} ms |")
lines.append("")
lines.append(f"jobrun peak RSS: {int(sys.argv[2])/1024:.1f} MB (GNU time, max resident set).")
print("\n".join(lines))
PY
