#!/usr/bin/env bash
# A job printing 2,000,000 lines (90 bytes each): `cat` of the same data, jobrun with GELF
# off, and jobrun with GELF/UDP on (to a live loopback receiver that reads as fast as it can,
# and to a port where nobody listens), in one run. Prints a Markdown table.
source "$(dirname "$0")/lib.sh"
python3 -c "import sys; sys.stdout.buffer.write((b'x' * 89 + b'\n') * 2_000_000)" > "$work/lines.txt"

# A receiver that only counts datagrams: Graylog's UDP input at its fastest.
udp_port=$(free_port)
python3 - "$udp_port" > "$work/received" <<'PY' &
import signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", int(sys.argv[1])))
n = 0
def done(*_):
    print(n); sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    s.recv(65536); n += 1
PY
receiver_pid=$!
cleanup="kill $receiver_pid 2>/dev/null || true"
export JOBWATCH_GELF_COMPRESSION=none

hyperfine --warmup 1 --runs "${RUNS:-10}" -N --export-json "$work/h.json" \
    -n cat "cat $work/lines.txt" \
    -n "jobrun, GELF off" "$bin/jobrun --no-monitor --no-gelf bench -- cat $work/lines.txt" \
    -n "jobrun, GELF/UDP, live receiver" "$bin/jobrun --no-monitor --gelf udp://127.0.0.1:$udp_port bench -- cat $work/lines.txt" \
    -n "jobrun, GELF/UDP, nobody listening" "$bin/jobrun --no-monitor --gelf udp://127.0.0.1:9 bench -- cat $work/lines.txt" \
    >/dev/null

dropped=$("$bin/jobrun" --no-monitor --verbose --gelf "udp://127.0.0.1:$udp_port" bench -- cat "$work/lines.txt" 2>&1 >/dev/null | sed -n 's/.*Graylog: \([0-9]*\) output.*/\1/p')
rss_off=$(/usr/bin/time -f %M "$bin/jobrun" --no-monitor --no-gelf bench -- cat "$work/lines.txt" 2>&1 >/dev/null | tail -1)
rss_on=$(/usr/bin/time -f %M "$bin/jobrun" --no-monitor --gelf "udp://127.0.0.1:$udp_port" bench -- cat "$work/lines.txt" 2>&1 >/dev/null | tail -1)
python3 - "$work/h.json" "${dropped:-0}" "$rss_off" "$rss_on" <<'PY'
import json, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = runs["jobrun, GELF off"]["mean"]
print("| command | mean | vs GELF off |")
print("|---|---|---|")
for name, r in runs.items():
    print(f"| {name} | {r['mean']*1e3:.0f} ms ± {r['stddev']*1e3:.0f} | {r['mean']/base:.2f}× |")
lines = 2_000_000
dropped = int(sys.argv[2])
print()
print(f"Live receiver: {lines - dropped:,} of {lines:,} lines delivered, {dropped:,} dropped and reported "
      f"in `_dropped_lines`; peak RSS {int(sys.argv[3])/1024:.1f} MB with GELF off, {int(sys.argv[4])/1024:.1f} MB with GELF on.")
PY

# The sender alone against a bare `sendmmsg` loop of the same messages (benchmarks/gelf).
echo
swift build -c release --product GELFBench >/dev/null
"$(swift build -c release --show-bin-path)/GELFBench" "${BENCH_LINES:-1000000}" "${BENCH_ROUNDS:-5}"
