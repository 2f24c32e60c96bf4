#!/usr/bin/env bash
# What jobrun costs per cron tick: `jobrun JOB -- true` with the lease (monitor and GELF off),
# and with the lease plus start/finish reports on the Redis stream, against bare `true` and
# against a bash + redis-cli wrapper doing the same SET NX / DEL, in one hyperfine run on the
# same local Redis. Prints a Markdown table.
source "$(dirname "$0")/lib.sh"

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

hyperfine --warmup 20 --runs "${RUNS:-300}" -N --export-json "$work/h.json" \
    -n true 'true' \
    -n "jobrun (lease)" "$bin/jobrun --no-monitor bench -- true" \
    -n "jobrun (lease + reports)" "$bin/jobrun bench -- true" \
    -n "bash+redis-cli" "$work/lock.sh bench true"

rss=$( /usr/bin/time -f %M "$bin/jobrun" bench -- true 2>&1 >/dev/null | tail -1 )
redis-cli -p "$port" DEL jobwatch:events >/dev/null
python3 - "$work/h.json" "$rss" <<'PY'
import json, sys, platform, os
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = runs["true"]["mean"]
lines = ["| command | mean | stddev | vs `true` | added over `true` |", "|---|---|---|---|---|"]
for name in ["true", "jobrun (lease)", "jobrun (lease + reports)", "bash+redis-cli"]:
    r = runs[name]
    lines.append(f"| {name} | {r['mean']*1e3:.2f} ms | {r['stddev']*1e3:.2f} ms | {r['mean']/base:.1f}× | {(r['mean']-base)*1e3:+.2f} ms |")
lines.append("")
lines.append(f"jobrun peak RSS: {int(sys.argv[2])/1024:.1f} MB (GNU time, max resident set).")
print("\n".join(lines))
PY
