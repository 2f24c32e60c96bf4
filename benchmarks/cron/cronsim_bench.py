#!/usr/bin/env python3
"""cronsim's next-occurrence throughput on the expressions CronBench measures."""
import random
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim

ZONE = ZoneInfo("Europe/Dublin")
EXPRESSIONS = ["*/5 * * * *", "30 2 * * *", "0 9 * * 1-5", "15 */2 1,15 * mon", "0 0 29 2 *"]
START = datetime.fromtimestamp(1_774_000_000, ZONE)
ZONES = ["Europe/Dublin", "Europe/Riga", "America/New_York", "America/Sao_Paulo",
         "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC"]

STARTS = [datetime.fromtimestamp(1_774_000_000 + random.Random(i).randrange(2 * 365 * 86400), ZONE)
          for i in range(2000)]

print("expression            next per second (Europe/Dublin, random instants in 2026-2027)")
for expr in EXPRESSIONS:
    begin = time.perf_counter()
    for start in STARTS:
        next(CronSim(expr, start))
    print(f"{expr:<22}{int(len(STARTS) / (time.perf_counter() - begin))}")

# 100,000 jobs' next deadline, as the monitor would compute it (constructing the iterator
# is part of the cost, since each job asks from a new "now").
begin = time.perf_counter()
for i in range(100_000):
    tz = ZoneInfo(ZONES[i % len(ZONES)])
    next(CronSim(EXPRESSIONS[i % len(EXPRESSIONS)], START.astimezone(tz)))
print(f"100,000 jobs' next deadlines: {(time.perf_counter() - begin) * 1000:.1f} ms")
