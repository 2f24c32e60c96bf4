#!/usr/bin/env bash
# jobmond's memory holding $N jobs whose state carries a run history, as after weeks of
# running: each job's state is what jobmond itself wrote for a job after $RUNS runs (its last
# run and the fingerprints of the runs it remembers), copied to $N jobs with the same
# schedule. Baseline in the same run: the same $N jobs restored with no run history.
# Prints a Markdown table.
nice -n 10 "$(dirname "$0")/../scripts/build-release" >/dev/null   # lib.sh's build is then a no-op
source "$(dirname "$0")/lib.sh"
here=benchmarks/jobmond
jobmond=${JOBMOND:-$bin/jobmond}
N=${N:-100000}; RUNS=${RUNS:-64}
prefix="jw:"; mport=$(free_port)
r() { redis-cli -p "$port" "$@"; }
cleanup="$cleanup; kill \${mpid:-0} 2>/dev/null || true"
export JOBWATCH_JOBS_DIR="$work/jobs.d"   # lib.sh's points at $work; the environment wins over the file
mkdir -p "$JOBWATCH_JOBS_DIR"
cat > "$JOBWATCH_CONFIG" <<YAML
redis: redis://127.0.0.1:$port/0
key_prefix: "$prefix"
jobs_dir: $work/jobs.d
spool_dir: $work/spool
monitor:
  listen: 127.0.0.1:$mport
  default_alerts: []
YAML
job='command: "true"\nschedule: "*/5 * * * *"\ngrace: 1h\n'

start_jobmond() {
    "$jobmond" --config "$JOBWATCH_CONFIG" >>"$work/jobmond.log" 2>&1 & mpid=$!
    until [ "$(grep -c "leading: loaded" "$work/jobmond.log")" -ge "$1" ]; do
        kill -0 $mpid 2>/dev/null || { cat "$work/jobmond.log" >&2; exit 1; }
        sleep 0.1
    done
}
stop_jobmond() { kill -TERM $mpid; wait $mpid || true; }

# A template job with $runs runs; its state, as jobmond wrote it, becomes every job's.
template() {
    r FLUSHALL >/dev/null; find "$work/jobs.d" -name "*.yaml" -delete
    printf "$job" > "$work/jobs.d/template-job.yaml"
    start_jobmond $(( $(grep -c "leading: loaded" "$work/jobmond.log" || true) + 1 ))
    # The leader writes a loaded job's first state just after saying it has loaded.
    until [ "$(r HEXISTS "${prefix}mon:state" template-job)" = 1 ]; do sleep 0.05; done
    python3 - "$port" "$1" <<'PY'
import random, sys, time
sys.path.insert(0, "benchmarks/jobmond")
from stream import Conn, xadd
c, runs = Conn(int(sys.argv[1])), int(sys.argv[2])
t0 = int(time.time() * 1000) - runs * 300_000
data = b""
for i in range(runs):   # run ids shaped like jobrun's: start time in ms, then random
    t, rid = t0 + i * 300_000, "%012x%08x" % (t0 + i * 300_000, random.getrandbits(32))
    data += xadd("jw:events", "start", "template-job", rid, t) + xadd("jw:events", "finish", "template-job", rid, t + 900)
c.s.sendall(data)
for _ in range(2 * runs): c.reply()
PY
    python3 $here/stream.py wait "$port" "${prefix}events" 60
    stop_jobmond
    r HGET "${prefix}mon:state" template-job > "$work/template.json"
}

# $N jobs with the template's state, then jobmond started on them: load time, RSS.
restore() {
    python3 - "$port" "$N" "$work" "$job" <<'PY'
import sys
sys.path.insert(0, "benchmarks/jobmond")
from stream import Conn, resp
port, n, w, job = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4].replace("\\n", "\n")
template = open(w + "/template.json").read().strip()
c, batch = Conn(port), []
for i in range(n):
    name = "bulk-job-%06d" % i
    open(f"{w}/jobs.d/{name}.yaml", "w").write(job)
    batch.append(resp(["HSET", "jw:mon:state", name, template.replace('"name":"template-job"', '"name":"%s"' % name)]))
    if len(batch) == 1000 or i == n - 1:
        c.s.sendall(b"".join(batch)); [c.reply() for _ in batch]; batch = []
print(len(template))
PY
}

# Returns once jobmond's RSS has not moved for 3 s (it has loaded the states, parsed jobs.d and
# written what changed), at most after 120 s.
settle() {
    local last=0 same=0 rss
    for ((i = 0; i < 240 && same < 6; i++)); do
        sleep 0.5
        rss=$(awk '/VmRSS/ {print $2}' /proc/$mpid/status)
        if [ "$rss" = "$last" ]; then same=$((same + 1)); else same=0; last=$rss; fi
    done
}

measure() {   # $1: name
    local loads t
    loads=$(( $(grep -c "leading: loaded" "$work/jobmond.log" || true) + 1 ))
    t=$(date +%s.%N)
    start_jobmond $loads
    echo "$1_load_s $(echo "$(date +%s.%N) - $t" | bc)" >> "$work/results"
    settle
    awk -v k="$1" '/VmRSS/ {printf "%s_rss %.1f\n", k, $2/1024} /VmHWM/ {printf "%s_hwm %.1f\n", k, $2/1024}' \
        /proc/$mpid/status >> "$work/results"
    stop_jobmond
}

: > "$work/jobmond.log"; : > "$work/results"
template 0;       echo "bare_state_bytes $(restore)" >> "$work/results";    measure bare
template "$RUNS"; echo "history_state_bytes $(restore)" >> "$work/results"; measure history

# HEAPTRACK_OUT=file: the history case once more under heaptrack (use an unstripped jobmond via
# JOBMOND=path for symbols); killed once loaded, so what heaptrack calls leaked is what was live.
if [ -n "${HEAPTRACK_OUT:-}" ]; then
    loads=$(( $(grep -c "leading: loaded" "$work/jobmond.log" || true) + 1 ))
    heaptrack -o "$work/heap" "$jobmond" --config "$JOBWATCH_CONFIG" >>"$work/jobmond.log" 2>&1 & hpid=$!
    until [ "$(grep -c "leading: loaded" "$work/jobmond.log")" -ge $loads ]; do sleep 0.5; done
    mpid=$(pgrep -f "^$jobmond --config"); settle
    pkill -KILL -f "^$jobmond --config" || true
    wait $hpid || true
    heaptrack_print -f "$work"/heap*.zst --print-leaks 1 --print-peaks 0 --print-allocators 0 \
        --print-temporary 0 --peak-limit 25 > "$HEAPTRACK_OUT" 2>&1 || true
fi

python3 - "$work/results" "$N" "$RUNS" <<'PY'
import sys
res = {k: float(v) for k, v in (line.split() for line in open(sys.argv[1]))}
n, runs = int(sys.argv[2]), int(sys.argv[3])
met = lambda ok: "**met**" if ok else "**not met**"
print("| jobmond holding %s jobs, restored from Redis | RSS (peak) | load | state per job | target |" % f"{n:,}")
print("|---|---|---|---|---|")
print(f"| no run history (baseline) | {res['bare_rss']:.1f} MB ({res['bare_hwm']:.1f} MB) | {res['bare_load_s']:.1f} s | {res['bare_state_bytes']:.0f} B | < 150 MB: {met(res['bare_rss'] < 150)} |")
print(f"| after {runs} runs each (last run + {runs} remembered run ids) | {res['history_rss']:.1f} MB ({res['history_hwm']:.1f} MB) | {res['history_load_s']:.1f} s | {res['history_state_bytes']:.0f} B | < 150 MB: {met(res['history_rss'] < 150)} |")
print(f"\nRatio with history to without: {res['history_rss'] / res['bare_rss']:.2f}×.")
PY
