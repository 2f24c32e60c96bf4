#!/usr/bin/env bash
# jobmond under load, in one run, each figure next to a baseline taken in the same run:
#  1. HTTP reports: wrk (2 threads, 4 keep-alive connections, $DURATION s) POSTing alternating
#     start/finish reports for ~1,000 jobs, against wrk on /healthz (no Redis work).
#  2. Stream: 200,000 start/finish events for 10,000 jobs XADDed as fast as one pipelined
#     connection goes while jobmond runs; time until the `jobmond` group has applied (read,
#     persisted and acknowledged) them all, against the time Redis took to accept them, and
#     against the same load consumed by floor.c (Redis alone, without jobmond).
#  3. Scale: 100,000 scheduled jobs (+ the 200 of part 4) in jobs.d; load time and RSS, against
#     `jobctl check` parsing the same directory and jobmond's RSS with no jobs.
#  4. Missed-run alert latency with those jobs loaded: 200 jobs `every 10s`, `grace: 2s`,
#     alerting a loopback webhook; each round resolves them with one run, lets the next
#     occurrence pass, and measures arrival − (occurrence + grace) of every trigger.
# Prints a Markdown table. PERF_DIR=dir records `perf record -g` of jobmond for 5 s during
# parts 1 and 2 (use an unstripped jobmond via JOBMOND=path for symbols).
nice -n 10 "$(dirname "$0")/../scripts/build-release" >/dev/null   # lib.sh's build is then a no-op
source "$(dirname "$0")/lib.sh"
here=benchmarks/jobmond
jobmond=${JOBMOND:-$bin/jobmond}
DURATION=${DURATION:-10}; BULK=${BULK:-100000}; ALERT_JOBS=${ALERT_JOBS:-200}; ROUNDS=${ROUNDS:-5}
prefix="jw:"; key="${prefix}events"; token=bench-token
mport=$(free_port)
r() { redis-cli -p "$port" "$@"; }
now() { date +%s.%N; }
results="$work/results"; : > "$results"
put() { echo "$1 $2" >> "$results"; }

python3 $here/receiver.py "$work/recv.port" "$work/received.jsonl" & rpid=$!
cleanup="$cleanup; kill \$rpid 2>/dev/null || true; kill \${mpid:-0} 2>/dev/null || true"
until [ -s "$work/recv.port" ]; do sleep 0.05; done

export JOBWATCH_JOBS_DIR="$work/jobs.d"
mkdir -p "$JOBWATCH_JOBS_DIR"
cat > "$JOBWATCH_CONFIG" <<YAML
redis: [redis://127.0.0.1:$port/0]
key_prefix: "$prefix"
jobs_dir: $JOBWATCH_JOBS_DIR
spool_dir: $work/spool
monitor:
  listen: 127.0.0.1:$mport
  tokens:
    - { name: bench, secret: $token, scopes: [report, read, admin] }
  channels:
    # Storm control at its widest (1,000 alone per second): part 4 times single alerts, and a
    # mass miss (ALERT_JOBS=10000) shows delivery's own pace; benchmarks/alert-storm.sh times digests.
    hook: { type: webhook, url: "http://127.0.0.1:$(cat "$work/recv.port")/hook", group_burst: 1000, group_interval: 1s }
  default_alerts: []
  # Every alert job reports from one host, so their misses would page once as host_silent;
  # part 4 times each job's own missed alert.
  host_silence: { fraction: 0 }
YAML

start_jobmond() {
    "$jobmond" --config "$JOBWATCH_CONFIG" >>"$work/jobmond.log" 2>&1 & mpid=$!
    until curl -fs "http://127.0.0.1:$mport/healthz" 2>/dev/null | grep -q '"leader":true'; do
        kill -0 $mpid 2>/dev/null || { cat "$work/jobmond.log" >&2; exit 1; }
        sleep 0.05
    done
}
redis_cpu() { r INFO cpu | awk -F: '/^used_cpu_(user|sys):/ {t += $2} END {printf "%.3f", t}'; }
jobmond_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' /proc/$mpid/stat; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$mpid/status; }
hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$mpid/status; }
profile() { [ -z "${PERF_DIR:-}" ] || { mkdir -p "$PERF_DIR"; perf record -g -p $mpid -o "$PERF_DIR/$1.data" -- sleep 5 >/dev/null 2>&1; }; }
# Redis's own time per command since the last reset, as {"xadd": usec, ...}.
cmdstats() { r INFO commandstats | python3 -c 'import json, re, sys; print(json.dumps({m[1]: int(m[2]) for m in re.finditer(r"cmdstat_(\w+(?:\|\w+)?):calls=\d+,usec=(\d+)", sys.stdin.read())}))'; }
wrk_run() { wrk -t2 -c4 -d"${DURATION}s" -s $here/report.lua "http://127.0.0.1:$mport" | sed -n 's/^WRKJSON //p'; }

# ---- 1. HTTP ---------------------------------------------------------------------------
start_jobmond
sleep 1
put idle_rss "$(rss_mb)"
put wrk_healthz "$(HEALTHZ=1 wrk_run)"
r XTRIM "$key" MAXLEN 0 >/dev/null
(sleep 3; profile http) & prof1=$!
put wrk_reports "$(JOBMOND_TOKEN=$token wrk_run)"
t=$(now); python3 $here/stream.py wait "$port" "$key"
put http_drain_s "$(echo "$(now) - $t" | bc)"
put http_xlen "$(r XLEN "$key")"

# ---- 2. Stream --------------------------------------------------------------------------
(sleep 0.5; profile stream) & prof2=$!
put stream_cpu0 "{\"redis\": $(redis_cpu), \"jobmond\": $(jobmond_cpu)}"
r CONFIG RESETSTAT >/dev/null
put stream "$(python3 $here/stream.py load "$port" "$key" 10000 200000)"
put stream_cpu1 "{\"redis\": $(redis_cpu), \"jobmond\": $(jobmond_cpu)}"
put stream_rss "$(rss_mb)"
put stream_cmds "$(cmdstats)"
wait $prof1 $prof2   # the profilers

# The same load with jobmond stopped and floor.c consuming instead: Redis alone reading and
# acknowledging the events, then also making four writes per event like jobmond's (fixed payloads of the
# sizes jobmond writes here), with no work of jobmond's at all.
kill -TERM $mpid; wait $mpid || true
gcc -O2 -o "$work/floor" $here/floor.c -lhiredis
for mode in read writes; do
    r DEL "$key" >/dev/null
    r CONFIG RESETSTAT >/dev/null
    cpu0=$(redis_cpu)
    "$work/floor" "$port" "$key" 200000 $mode & fpid=$!
    until [ "$(r EXISTS "$key")" = 1 ]; do sleep 0.05; done
    put "floor_$mode" "$(python3 $here/stream.py load "$port" "$key" 10000 200000)"
    wait $fpid
    put "floor_${mode}_cmds" "$(cmdstats)"
    put "floor_${mode}_redis_cpu" "$(echo "$(redis_cpu) - $cpu0" | bc)"
done

# ---- 3. Scale ---------------------------------------------------------------------------
r FLUSHALL >/dev/null
python3 - "$JOBWATCH_JOBS_DIR" "$BULK" "$ALERT_JOBS" <<'PY'
import sys
d, bulk, alerts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# A mix of schedules, spread over minutes and hours; `grace: 1h` keeps every bulk deadline
# out of the few minutes this benchmark runs, so part 4 measures the alert path with 100,000
# jobs in the deadline heap, not a simultaneous mass miss of jobs nobody runs.
for i in range(bulk):
    s = ['"%d-59/5 * * * *"' % (i % 5), '"%d * * * *"' % (i % 60), '"%d %d * * *"' % (i % 60, i % 24)][i % 3]
    open(f"{d}/bulk-{i}.yaml", "w").write(f'command: "true"\nschedule: {s}\ngrace: 1h\n')
for i in range(alerts):
    open(f"{d}/alert-{i}.yaml", "w").write('command: "true"\nschedule: every 10s\ngrace: 2s\nalerts: [hook]\n')
PY
total=$((BULK + ALERT_JOBS))
t=$(now); "$bin/jobctl" check >/dev/null 2>&1 || true
put check_s "$(echo "$(now) - $t" | bc)"
t=$(now)
start_jobmond
until [ "$(r HLEN "${prefix}mon:state")" -ge "$total" ]; do sleep 0.1; done
python3 $here/stream.py wait "$port" "$key" 60 || true
put load_s "$(echo "$(now) - $t" | bc)"
sleep 2
put jobs_rss "$(rss_mb)"; put jobs_hwm "$(hwm_mb)"
put redis_mem "$(r INFO memory | awk -F: '/^used_memory:/ {printf "%.1f", $2/1048576}')"

# ---- 4. Alert latency -------------------------------------------------------------------
alert_jobs=$(seq -f "alert-%g" 0 $((ALERT_JOBS - 1)))
first=""
for ((round = 0; round < ROUNDS; round++)); do
    # Report each job's latest occurrence 4-5 s into its 10 s period: the next one is missed.
    until python3 -c 'import time,sys; sys.exit(0 if 4 <= time.time() % 10 < 5 else 1)'; do sleep 0.05; done
    occ=$(python3 $here/stream.py reports "$port" "$key" $alert_jobs)
    first=${first:-$occ}
    sleep 5
done
sleep $((8 + ALERT_JOBS / 500))   # a mass miss (ALERT_JOBS=10000) takes seconds to deliver
put alert_first_occ_ms "$first"
put alert_rss "$(rss_mb)"

python3 - "$results" "$work/received.jsonl" "$ALERT_JOBS" "$ROUNDS" "$BULK" <<'PY'
import json, sys, statistics
from datetime import datetime
res = {}
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split(" ", 1)
    res[k] = json.loads(v) if v[:1] == "{" else float(v)
alert_jobs, rounds, bulk = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
json.dump(res, open(sys.argv[1] + ".json", "w"))

def rate(w): return w["requests"] / (w["duration_us"] / 1e6)
h, w = res["wrk_healthz"], res["wrk_reports"]
s = res["stream"]
first = res["alert_first_occ_ms"] / 1000
lat = []
for line in open(sys.argv[2]):
    o = json.loads(line)
    if o["event"] != "trigger" or not o["occurrence"]: continue
    occ = datetime.fromisoformat(o["occurrence"].replace("Z", "+00:00")).timestamp()
    if occ > first: lat.append(o["t"] - (occ + 2))
lat.sort()
def pct(p): return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")
met = lambda ok: "**met**" if ok else "**not met**"
rows = [
    "| measure | jobmond | same-run baseline | ratio | target |",
    "|---|---|---|---|---|",
    f"| HTTP start+finish reports (wrk, 2 threads, 4 keep-alive conns) | {rate(w):,.0f} req/s | `/healthz`: {rate(h):,.0f} req/s | {rate(w)/rate(h):.2f}× | ≥ 20,000/s: {met(rate(w) >= 20000)} |",
    f"| HTTP latency p50 / p99 | {w['p50_us']/1000:.2f} / {w['p99_us']/1000:.2f} ms | {h['p50_us']/1000:.2f} / {h['p99_us']/1000:.2f} ms | {w['p50_us']/max(h['p50_us'],1):.1f}× / {w['p99_us']/max(h['p99_us'],1):.1f}× | |",
    f"| HTTP errors (non-2xx, socket) | {w['status']} / {w['connect']+w['read']+w['write']+w['timeout']} of {w['requests']:,} | | | |",
    f"| HTTP backlog left in the stream when wrk stopped | applied in {res['http_drain_s']:.2f} s | | | |",
    f"| stream events applied ({s['events']:,} for 10,000 jobs) | {s['events']/s['apply_s']:,.0f} events/s ({s['apply_s']:.2f} s) | Redis accepting the XADDs: {s['events']/s['accept_s']:,.0f}/s ({s['accept_s']:.2f} s) | {s['accept_s']/s['apply_s']:.2f}× | ≥ 100,000/s: {met(s['events']/s['apply_s'] >= 100000)} |",
    f"| CPU spent while applying them | Redis {res['stream_cpu1']['redis']-res['stream_cpu0']['redis']:.2f} s, jobmond {res['stream_cpu1']['jobmond']-res['stream_cpu0']['jobmond']:.2f} s | wall time {s['apply_s']:.2f} s | Redis busy {(res['stream_cpu1']['redis']-res['stream_cpu0']['redis'])/s['apply_s']*100:.0f} % | |",
    f"| the same stream, Redis alone: floor.c reading and acknowledging (no state) | {res['floor_read']['events']/res['floor_read']['apply_s']:,.0f} events/s | | jobmond at {res['floor_read']['apply_s']/s['apply_s']:.2f}× | |",
    f"| the same stream, Redis alone: floor.c also making four writes per event | {res['floor_writes']['events']/res['floor_writes']['apply_s']:,.0f} events/s | | jobmond at {res['floor_writes']['apply_s']/s['apply_s']:.2f}× | |",
    f"| RSS holding {bulk + alert_jobs:,} scheduled jobs | {res['jobs_rss']:.1f} MB (peak {res['jobs_hwm']:.1f} MB) | no jobs: {res['idle_rss']:.1f} MB; Redis `used_memory` for the same state: {res['redis_mem']:.1f} MB | {res['jobs_rss']/res['idle_rss']:.1f}× idle, {res['jobs_rss']/res['redis_mem']:.2f}× Redis | < 150 MB: {met(res['jobs_rss'] < 150)} |",
    f"| time to load them (start → all in `mon:state`) | {res['load_s']:.1f} s | `jobctl check` parsing the same jobs.d: {res['check_s']:.1f} s | {res['load_s']/res['check_s']:.2f}× | |",
    f"| missed-run alert latency, arrival − (occurrence + grace), {len(lat)} of {alert_jobs*rounds} triggers | p50 {pct(50)*1000:.0f} ms, p99 {pct(99)*1000:.0f} ms, max {lat[-1]*1000 if lat else float('nan'):.0f} ms | | | p99 < 1 s: {met(bool(lat) and pct(99) < 1 and len(lat) >= alert_jobs*rounds*0.99)} |",
    "",
    "Redis's time per stream event (`INFO commandstats` and `INFO cpu`, µs per event; `exec` includes the",
    "commands queued inside it, which are also counted on their own rows; `xadd` includes the load generator's):",
    "",
    "| command | jobmond | floor.c reading and acknowledging |",
    "|---|---|---|",
    *[f"| {c} | {res['stream_cmds'].get(c, 0)/s['events']:.2f} | {res['floor_read_cmds'].get(c, 0)/s['events']:.2f} |"
      for c in sorted(set(res['stream_cmds']) | set(res['floor_read_cmds']), key=lambda c: -res['stream_cmds'].get(c, 0))
      if res['stream_cmds'].get(c, 0) + res['floor_read_cmds'].get(c, 0) >= s['events'] / 100],
    f"| Redis CPU in all (`used_cpu_user` + `sys`) | {(res['stream_cpu1']['redis']-res['stream_cpu0']['redis'])/s['events']*1e6:.2f} | {res['floor_read_redis_cpu']/s['events']*1e6:.2f} |",
    "",
    f"RSS after the HTTP and stream parts (11,000 auto-registered jobs): {res['stream_rss']:.1f} MB; after the alert rounds: {res['alert_rss']:.1f} MB.",
]
print("\n".join(rows))
PY
