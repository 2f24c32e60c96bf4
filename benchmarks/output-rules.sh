#!/usr/bin/env bash
# What output_rules cost: a job printing 1,000,000 lines (~70 bytes each) through jobrun with
# no rules and with 5 rules (4 fail_if, 1 require) that never match, so every rule is tried
# on every line (the worst case: a matched fail_if or a met require stops being tried), and
# `cat` of the same data as the floor, in one hyperfine run. Output passes through as under
# cron (to /dev/null here); monitor and GELF off, lease on. Prints a Markdown table.
source "$(dirname "$0")/lib.sh"
python3 -c "
import sys
w = sys.stdout.write
for i in range(1_000_000):
    w(f'2026-12-06T10:00:00Z INFO loaded row {i:07d} of batch 42, status ok\n')
" > "$work/lines.txt"
echo "" > "$work/plain.yaml"
cat > "$work/rules.yaml" <<'YAML'
output_rules:
  fail_if: ["^ERROR", "Traceback \\(most recent call last\\)", "FATAL|PANIC", "out of memory"]
  require: ["rows copied: [1-9]"]
YAML

hyperfine --warmup 1 --runs "${RUNS:-10}" -N --export-json "$work/h.json" \
    -n cat "cat $work/lines.txt" \
    -n "jobrun, no rules" "$bin/jobrun --no-monitor --no-gelf plain -- cat $work/lines.txt" \
    -n "jobrun, 5 rules" "$bin/jobrun --no-monitor --no-gelf rules -- cat $work/lines.txt" \
    >/dev/null

python3 - "$work/h.json" <<'PY'
import json, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
plain = runs["jobrun, no rules"]
print("| command | median | mean | stddev | median vs no rules | lines/s (median) |")
print("|---|---|---|---|---|---|")
for name in ["cat", "jobrun, no rules", "jobrun, 5 rules"]:
    r = runs[name]
    print(f"| {name} | {r['median']*1e3:.0f} ms | {r['mean']*1e3:.0f} ms | {r['stddev']*1e3:.0f} ms "
          f"| {r['median']/plain['median']:.2f}× | {1e6/r['median']:,.0f} |")
print()
ratio = runs["jobrun, 5 rules"]["median"] / plain["median"]
print(f"5 rules / no rules: {ratio:.2f}× by median, {runs['jobrun, 5 rules']['mean']/plain['mean']:.2f}× by mean (goal ≤ 1.30×)")
PY
