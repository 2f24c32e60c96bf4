#!/usr/bin/env bash
# Alert storm (issue 13's acceptance): N jobs (default 10,000, `schedule: "* * * * *"`, grace
# 1 s, never run) miss at the same minute, against the strict loopback receivers of the test
# suite (Tests/MonitorServiceTests/alert_receiver.py: PagerDuty v2, Slack Block Kit, webhook),
# Slack answering 429 (Retry-After 1) to its first RETRY429 requests.
#
#   BIN=.build/release N=10000 BURST=10 INTERVAL=30 RETRY429=5 benchmarks/alert-storm.sh
#
# Prints per channel: requests, digests, the most messages in any INTERVAL window, jobs named,
# the last job's arrival after the deadline; then the unrelated failure's latency. Every request
# must pass the receiver's checks (problems=0). 2 s after the deadline, one unrelated job fails
# (`/ping/fresh/fail`) and its arrival on Slack is timed. Without BIN, builds the release binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-$(scripts/build-release | tail -1)}
N=${N:-10000}; BURST=${BURST:-10}; INTERVAL=${INTERVAL:-30}; RETRY429=${RETRY429:-5}
work=$(mktemp -d /tmp/jobwatch-storm.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port); mport=$(free_port)
trap 'kill ${mpid:-0} ${rpid:-0} 2>/dev/null || true; redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
redis-server --port "$port" --bind 127.0.0.1 --save '' --dir "$work" --daemonize yes --logfile "$work/redis.log"
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done

python3 -c "import json, sys; json.dump({'/slack': ['429:1'] * int(sys.argv[1])}, open(sys.argv[2], 'w'))" "$RETRY429" "$work/script.json"
python3 Tests/MonitorServiceTests/alert_receiver.py "$work/recv.port" "$work/received.jsonl" "$work/script.json" & rpid=$!
until [ -s "$work/recv.port" ]; do sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/recv.port")"

mkdir -p "$work/jobs.d"
python3 - "$work/jobs.d" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    open(f"{d}/storm-{i:05d}.yaml", "w").write('schedule: "* * * * *"\ngrace: 1s\n')
open(f"{d}/fresh.yaml", "w").write("{}\n")
PY
cat > "$work/jobwatch.yaml" <<YAML
redis: [redis://127.0.0.1:$port/0]
key_prefix: "storm:"
jobs_dir: $work/jobs.d
spool_dir: $work/spool
monitor:
  listen: 127.0.0.1:$mport
  public_url: https://jobs.example.com
  retry_initial: 200ms
  retry_max: 2s
  tokens:
    - { name: bench, secret: storm-token, scopes: [report, read, admin] }
  channels:
    pd: { type: pagerduty, routing_key: R0UT1NGKEY0123456789abcdefABCDEF, url: $base/pd }
    slack: { type: slack, webhook_url: $base/slack, group_burst: $BURST, group_interval: ${INTERVAL}s }
    hook: { type: webhook, url: $base/hook, group_burst: $BURST, group_interval: ${INTERVAL}s }
  default_alerts: [pd, slack, hook]
YAML
"$bin/jobmond" --config "$work/jobwatch.yaml" >"$work/jobmond.log" 2>&1 & mpid=$!
until curl -fs "http://127.0.0.1:$mport/healthz" 2>/dev/null | grep -q '"leader":true'; do
    kill -0 $mpid 2>/dev/null || { cat "$work/jobmond.log" >&2; exit 1; }
    sleep 0.05
done
until curl -fs -H "Authorization: Bearer storm-token" "http://127.0.0.1:$mport/api/v1/jobs/fresh" >/dev/null 2>&1; do sleep 0.2; done

python3 - "$work/received.jsonl" "$N" "$INTERVAL" "$mport" <<'PY'
import json, math, sys, time, urllib.request
record, n, interval, mport = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
names = {f"storm-{i:05d}" for i in range(n)}
deadline = math.ceil(time.time() / 60) * 60 + 1          # the minute every job misses, + grace
print(f"storm: {n} jobs miss at {time.strftime('%H:%M:%S', time.gmtime(deadline))}", flush=True)

def requests():
    out = []
    try:
        lines = open(record).read().splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out

def jobs_in(r):
    b = r.get("body")
    if not isinstance(b, dict):
        return []
    if r["path"] == "/pd":
        return [b.get("dedup_key", "").removeprefix("jobwatch/")]
    if r["path"] == "/hook":
        return b.get("jobs", []) if b.get("event") == "digest" else [b.get("job")]
    text = json.dumps(b)
    if "jobs missed" in text or b.get("text", "").startswith(tuple("0123456789")):
        return [w.strip("`") for blk in b.get("blocks", []) if blk.get("type") == "section"
                for w in blk["text"]["text"].split(", ")]
    return [name for name in names | {"fresh"} if name in text][:1]

def covered(path):
    first = {}
    for r in requests():
        if r["path"] == path and 200 <= r["status"] < 300:
            for job in jobs_in(r):
                first.setdefault(job, r["t"])
    return first

# In the thick of it: the unrelated failure comes 2 s after the storm's deadline.
time.sleep(max(0.0, deadline + 2 - time.time()))
sent = time.time()
req = urllib.request.Request(f"http://127.0.0.1:{mport}/ping/fresh/fail", method="POST",
                             headers={"Authorization": "Bearer storm-token"})
urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=5).read()
end = time.time() + 600
while time.time() < end and not (all(names <= covered(p).keys() for p in ("/pd", "/slack", "/hook"))
                                 and "fresh" in covered("/slack")):
    time.sleep(1)
for path in ("/pd", "/slack", "/hook"):
    rs = [r for r in requests() if r["path"] == path]
    ok = [r for r in rs if 200 <= r["status"] < 300]
    digests = [r for r in ok if len(jobs_in(r)) > 1]
    times = sorted(r["t"] for r in ok)
    window = max((sum(1 for u in times if t <= u < t + interval) for t in times), default=0)
    first = covered(path)
    named = len(names & first.keys())
    last = max((first[j] for j in names if j in first), default=deadline) - deadline
    problems = sum(1 for r in rs if r.get("problems"))
    print(f"{path[1:]:5} requests={len(rs)} accepted={len(ok)} digests={len(digests)} max_per_{interval:g}s={window} "
          f"jobs_named={named}/{n} last_arrival_s={last:.1f} problems={problems}", flush=True)
got = covered("/slack").get("fresh")
print(f"unrelated failure 2 s into the storm, on Slack after: {got - sent:.2f} s (group_interval {interval:g} s)"
      if got else "unrelated failure: NOT delivered")
PY
