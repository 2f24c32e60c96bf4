#!/usr/bin/env python3
"""Reference answers from cronsim for the differential test in DifferentialTests.swift.

usage: cronsim_oracle.py SEED COUNT

Writes one JSON object per line:
  {"expr", "tz", "start", "expected": [next 50 epoch seconds]}   cronsim accepted it
  {"expr", "tz", "start", "error": "..."}                         cronsim rejected it
  {"expr", "tz", "start", "timeout": true}                        cronsim did not finish
  "cronsim_expr" is added when cronsim was asked a Vixie-equivalent expression instead
  (cronsim reads a one-value range with a step, `5-5/2`, as `5/2`; Vixie cron as `5`).

Cases are biased toward what breaks cron engines: fixed times between 01:00 and 03:59
(where DST gaps and repeats live), start instants a few hours around a transition, and
day-of-month/day-of-week combinations that flip the Vixie AND/OR rule.
"""
import itertools
import json
import random
import re
import signal
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

ZONES = [
    "Europe/Dublin", "Europe/Riga", "America/New_York", "America/Sao_Paulo",
    "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC",
]
# Sao Paulo stopped DST in 2019; its midnight transitions only exist before that.
YEARS = {"America/Sao_Paulo": (2008, 2018)}
DEFAULT_YEARS = (1995, 2035)
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAYS = "sun mon tue wed thu fri sat".split()
COUNT_PER_CASE = 50
_transitions = {}


def transitions(tz, year):
    """UTC instants in `year` where the zone's offset changes (to the minute)."""
    key = (tz, year)
    if key in _transitions:
        return _transitions[key]
    zone = ZoneInfo(tz)
    off = lambda t: datetime.fromtimestamp(t, zone).utcoffset()
    start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
    found = []
    for day in range(366):
        a, b = start + day * 86400, start + (day + 1) * 86400
        if off(a) != off(b):
            while b - a > 60:
                mid = (a + b) // 2 // 60 * 60
                if mid in (a, b):
                    break
                a, b = (mid, b) if off(mid) == off(a) else (a, mid)
            found.append(b)
    _transitions[key] = found
    return found


def pick(r, weighted):
    total = sum(w for w, _ in weighted)
    x = r.uniform(0, total)
    for w, f in weighted:
        x -= w
        if x <= 0:
            return f()
    return weighted[-1][1]()


def number_field(r, lo, hi, hot, names=None):
    def value(v):
        if names and r.random() < 0.3:
            name = names[v - lo] if v - lo < len(names) else names[0]
            return r.choice([name, name.upper(), name.capitalize()])
        return str(v)

    def rng():
        a = r.randint(lo, hi)
        b = r.randint(a, hi)
        return f"{value(a)}-{value(b)}"

    return pick(r, [
        (4, lambda: value(r.choice(hot))),
        (2, lambda: value(r.randint(lo, hi))),
        (3, lambda: "*"),
        (2, lambda: f"*/{r.choice([1, 2, 3, 5, 7, 10, 15, 20, 30, 45])}"),
        (2, rng),
        (1, lambda: f"{rng()}/{r.randint(1, 9)}"),
        (1, lambda: f"{r.randint(lo, hi)}/{r.randint(1, 12)}"),
        (2, lambda: ",".join(sorted({value(r.choice(hot + [r.randint(lo, hi)])) for _ in range(r.randint(2, 4))}))),
        (1, lambda: f"{rng()},{value(r.randint(lo, hi))}"),
    ])


def invalid_expression(r):
    return r.choice([
        "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 * ", "* * * * 8",
        "0 0 * * fri-mon", "5-1 * * * *", "*/0 * * * *", "0 0 30 2 *", "0 0 31 4,6,9,11 *",
        "0 0 * *", "0 0 * * * *x", "a * * * *", "1,,2 * * * *", "*-5 * * * *", "0 0 * jan-feb-mar *",
        "0 0 * * sunday", "1/0 * * * *", "0 */x * * *", "0 0 30 feb */2", "", "-1 * * * *",
    ])


def expression(r):
    if r.random() < 0.03:
        return invalid_expression(r)
    minute = number_field(r, 0, 59, [0, 0, 15, 30, 45, 59])
    hour = number_field(r, 0, 23, [0, 1, 1, 2, 2, 2, 3, 3, 12, 23])
    dom = pick(r, [(10, lambda: "*"), (3, lambda: number_field(r, 1, 31, [1, 15, 28, 29, 30, 31]))])
    month = pick(r, [(10, lambda: "*"), (3, lambda: number_field(r, 1, 12, [2, 3, 4, 10, 11], MONTHS))])
    dow = pick(r, [(10, lambda: "*"), (4, lambda: number_field(r, 0, 7, [0, 1, 5, 6, 7], DAYS + ["sun"]))])
    return " ".join([minute, hour, dom, month, dow])


def start_instant(r, tz):
    lo, hi = YEARS.get(tz, DEFAULT_YEARS)
    year = r.randint(lo, hi)
    changes = transitions(tz, year)
    if changes and r.random() < 0.8:
        base = r.choice(changes)
        return base + r.randint(-3 * 86400, 3600) if r.random() < 0.5 else base + r.randint(-7200, 7200)
    start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
    return start + r.randint(0, 365 * 86400)


def field_value(text, names):
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if names is MONTHS else 0)
    return int(text) if text.isdigit() else None


def vixie_equivalent(expr):
    """Rewrites one-value stepped ranges (`5-5/2`) to the value, as Vixie cron reads them."""
    fields = expr.split()
    if len(fields) != 5:
        return expr
    names = [[], [], [], MONTHS, DAYS]
    for i, field in enumerate(fields):
        terms = []
        for term in field.split(","):
            m = re.fullmatch(r"([A-Za-z0-9]+)-([A-Za-z0-9]+)/\d+", term)
            if m and field_value(m[1], names[i]) is not None and \
                    field_value(m[1], names[i]) == field_value(m[2], names[i]):
                term = m[1]
            terms.append(term)
        fields[i] = ",".join(terms)
    return " ".join(fields)


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    r = random.Random(seed)
    signal.signal(signal.SIGALRM, on_alarm)
    out = sys.stdout
    for _ in range(count):
        tz = r.choice(ZONES)
        expr = expression(r)
        start = start_instant(r, tz)
        case = {"expr": expr, "tz": tz, "start": start}
        cronsim_expr = vixie_equivalent(expr)
        if cronsim_expr != " ".join(expr.split()):
            case["cronsim_expr"] = cronsim_expr
        signal.alarm(5)
        try:
            it = CronSim(cronsim_expr, datetime.fromtimestamp(start, ZoneInfo(tz)))
            case["expected"] = [int(dt.timestamp()) for dt in itertools.islice(it, COUNT_PER_CASE)]
        except CronSimError as error:
            case["error"] = str(error) or "rejected"
        except Timeout:
            case["timeout"] = True
        finally:
            signal.alarm(0)
        out.write(json.dumps(case) + "\n")


if __name__ == "__main__":
    main()
