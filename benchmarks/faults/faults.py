#!/usr/bin/env python3
"""Jobwatch fault-injection suite: three promises checked with real processes.

    scripts/faults [--short|--full] [--bin DIR] [--only NAME,...]

  * each job occurrence runs on exactly one host,
  * no run report is lost,
  * every miss pages exactly once.

Every scenario builds its own world on 127.0.0.1 (Redis or Redis + Sentinel, one or two
`jobmond`, the webhook stand-in Tests/MonitorServiceTests/alert_receiver.py) in a temp dir,
then plays cron: at every multiple of 2 s since the Unix epoch it starts `jobrun --host hN`
on all K simulated hosts at once (each host has its own spool dir), while the scenario
injects its fault. Three jobs are defined in jobs.d:

  work  every 2s, grace 1.5s, lock_ttl 3s: fired on every tick (appends one line to a log:
        host, run id, fence, start time, the shell's pid, jobrun's pid; sleeps 0.3 s)
  beat  every 4s, grace 2s: fired in cycles "run once, then skip C-1 occurrences" once jobmond
        is up, so it goes missing and recovers again and again (one incident per cycle)
  hb    every 5s, grace 2s: never run; one incident that stays open

`jobrun` runs with --verbose, so the occurrence each run claimed is read from its stderr and
runs are grouped by claimed occurrence, not by start time. --bin (default $JOBWATCH_BIN or
.build/debug) is copied into the temp dir first: the copies are run, so a concurrent rebuild
does not change binaries mid-suite.

One line per scenario, then "N passed, M failed" (exit status 1 if any failed):

  occurrences        (job, scheduled time) pairs that were fired on every host
  runs               job runs (log lines) of work and beat
  double_runs        occurrences that ran on more than one host              must be 0
  lost_reports       runs (excluding the ones whose jobrun we SIGKILLed) that are not in
                     GET /api/v1/jobs/{job}/runs with a finished_at, after `jobctl flush` on
                     every host and a bounded wait                           must be 0
  alerts_expected    incidents a correct monitor opens, replayed per job from the log: a
                     missed occurrence, a failed run or a lost run (jobrun died, its lease
                     lapsed: raised at start + lock_ttl + 2 s) opens one unless one is open,
                     a success resolves it; only incidents whose occurrence lies inside the
                     scenario's window count
  alerts_sent        distinct incidents (job, since) with a webhook `trigger` answered 2xx
                                                                             must equal expected
  duplicate_alerts   2xx-answered triggers beyond one per incident          must be 0
                     (a request answered 429/500 and retried is not a duplicate)
  max_alert_delay_s  receipt of a missed-run trigger minus (occurrence + grace); bounded per
                     scenario (5 s, more where the fault is in the monitor or its delivery)
  fence_monotonic    per job, fences in start-time order strictly increase
  missed             fired occurrences that ran nowhere
  missed_in_fault    of those, scheduled inside a fault's outage window (a SIGKILLed run's
                     lease, kill -9 of the master until promotion (or the replica's return)
                     + 3 s, a Redis restart);
                     every other miss fails the scenario
  killed_runs        (wrapper-sigkill) runs whose jobrun was SIGKILLed; never counted as lost
  max_jobrun_exit_s  (graylog-refused) jobrun wall time minus the job's own sleep; ≤ 2 s
  expected=...       an outcome the scenario declares (a documented limitation), asserted too

Scenarios (--short runs the ones marked *, 16-32 ticks each; --full runs all with 190 ticks,
at least 200 occurrences each;
--only NAME in the short form runs a full-only scenario with its short tick count):
  baseline*                 single Redis, 3 hosts, no faults
  wrapper-sigkill*          SIGKILL the jobrun that runs work every 5th tick (the job sleeps 1.5 s
                            then); its lease (3 s) blocks the next tick, a real miss (paged and
                            resolved by the run after it), and the killed run pages as `lost`
  sentinel-kill-master*     master + 2 replicas + 3 sentinels; kill -9 the master between ticks,
                            wait for the promotion, keep firing (the old master stays dead);
                            beat must still page afterwards
  sentinel-one-replica      master + 1 replica: after the failover nothing runs (jobrun's WAIT for
                            a replica fails closed, documented) until the old master is back as
                            a replica 10 s later; then runs must resume
  sentinel-claim-storm      6 hosts, 2 replicas; kill -9 the master right as a tick fires
  jobmond-leader-sigkill*   2 jobmond; SIGKILL the leader 1 s after a trigger (mid-incident) or
                            just before a deadline; the killed replica is restarted
  jobmond-leader-sigstop    2 jobmond; SIGSTOP the leader just before a deadline until the other
                            holds mon:leader (> 10 s lease), then SIGCONT it
  alert-endpoint-429*       the webhook answers 429 (Retry-After 1) and 500 to the first requests;
                            in the full form also to every request for a minute, every 2 minutes
  graylog-refused*          GELF to tcp:// and udp:// ports nobody listens on
  graylog-blackholed        GELF to a TCP listener that never accepts (SYNs dropped) and a UDP
                            socket nobody reads; jobrun's exit waits at most its 1 s GELF budget
  jobmond-redis-cut         jobmond reaches Redis through a loopback proxy (hosts go direct); on
                            every 10th tick nobody runs work and the proxy is cut from 1 s to 5 s
                            after it: the miss must page although later starts arrive first
  redis-restart-nopersist   SHUTDOWN NOSAVE and restart Redis empty mid-run; reports of runs before
                            the restart are wiped with the data and not counted; fences must stay
                            monotonic (they are raised to the server clock); the monitor forgets
                            its open incidents, so one still open pages again
                            (expected=open_incidents_page_again:yes, part of alerts_expected)
  jobmond-leader-partitioned 2 jobmond, each through its own proxy; cut the leader's link just
                            before a deadline until the other leads, then 2 s more
  redlock-minority-cut      3 Redlock masters behind per-master proxies for the hosts; cut all
                            hosts off the first master (reports relayed via the second), later
                            off the third, 8 s each: no miss allowed
  redlock-majority-down     kill -9 two of three masters for 8 s, restart them empty: every host
                            exits 201 (on_redis_down: skip; refused_runs), misses page once,
                            fences keep rising (expected=runs_stop_while_a_majority_is_down:yes)
  redlock-majority-down-open the same with on_redis_down: run: every host runs the job without a
                            lock while the majority is down, a double run chosen by the operator
                            (expected=double_runs_while_a_majority_is_down:yes; none outside)
  clock-skew                4 hosts, jobrun under faketime +300 s / -300 s / +600 s on three of
                            them: the occurrence is chosen by Redis's clock, no double run, no miss

FAULTS_DEBUG=1 also prints each trigger and each occurrence's outcome; FAULTS_DEBUG=2 adds the
tail of every log (jobmond, Redis, sentinels) before the temp dir goes.

Loopback only; every wait is bounded; every process is started in its own session and its
process group is killed on exit (also on SIGINT/SIGTERM); temp dirs are removed.
"""
import argparse
import atexit
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[2]
RECEIVER = REPO / "Tests/MonitorServiceTests/alert_receiver.py"
TOKEN = "faults-ops-token"
PREFIX = "jobwatch:"
TICK = 2                                   # the driver's period = work's schedule
JOBS = {  # name: (period s, grace s, job sleep s)
    "work": (2, 1.5, 0.3),
    "beat": (4, 2.0, 0.1),
    "hb": (5, 2.0, 0.0),
}
LOCK_TTL = 3.0                             # every job's lock_ttl (renewed every third of it)
LEASE_GRACE = 2.0                          # jobmond looks at a lease this long after it should end
KILL_SLEEP = 1.5                           # work's sleep on ticks whose jobrun gets SIGKILLed
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # never via a proxy

# Children never go through a proxy and never see the caller's Jobwatch settings.
BASE_ENV = {k: v for k, v in os.environ.items()
            if not k.lower().endswith("_proxy") and not k.startswith("JOBWATCH_")}
BASE_ENV.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")


class Timeout(Exception):
    pass


def wait_for(what, predicate, timeout, interval=0.05):
    """Polls predicate until it returns something truthy; bounded in time and in count."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 2):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise Timeout(f"timed out after {timeout:g}s waiting for {what}")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def epoch(text):
    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Process bookkeeping: everything started is killed on any exit.

LOCK = threading.Lock()
ALL = set()            # live Popen objects of every cluster
STATE = {"shutting": False, "critical": 0, "pending": 0, "root": None}


def _on_signal(signum, _frame):
    if STATE["critical"]:
        STATE["pending"] = signum          # raised when the spawn in progress is registered
        return
    raise SystemExit(128 + signum)


def killpg(p, sig=signal.SIGKILL):
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass


def kill_strays(pids, root):
    """Kills the process groups of job shells orphaned by a SIGKILLed jobrun (checked to be ours)."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                ours = str(root).encode() in f.read()
            if ours:
                os.killpg(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


def stop_all(procs):
    """SIGKILL every process group, then reap each (bounded)."""
    for p in procs:
        killpg(p)
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def cleanup():
    with LOCK:
        STATE["shutting"] = True
        procs = list(ALL)
    stop_all(procs)
    root = STATE["root"]
    if root:
        for log in Path(root).glob("*/*.log.jobs"):
            kill_strays(shell_pids(log), root)
        shutil.rmtree(root, ignore_errors=True)
        STATE["root"] = None


def spawn(argv, *, cwd, env=None, log=None, stderr=None, owner=None):
    """Popen in a new session, registered before anything can interrupt the caller."""
    main = threading.current_thread() is threading.main_thread()
    if main:
        STATE["critical"] += 1
    try:
        out = open(log, "ab") if log else subprocess.DEVNULL
        try:
            p = subprocess.Popen(argv, cwd=cwd, env=env or BASE_ENV, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=stderr or (subprocess.STDOUT if log else subprocess.DEVNULL),
                                 start_new_session=True)
        finally:
            if log:
                out.close()
        with LOCK:
            if STATE["shutting"]:
                killpg(p)
                raise SystemExit(130)
            ALL.add(p)
            if owner is not None:
                owner.add(p)
        return p
    finally:
        if main:
            STATE["critical"] -= 1
            if STATE["pending"] and not STATE["critical"]:
                raise SystemExit(128 + STATE["pending"])


def shell_pids(path):
    pids = []
    try:
        for line in Path(path).read_text().splitlines():
            parts = line.split()
            if len(parts) == 6 and parts[4].isdigit():
                pids.append(int(parts[4]))
    except OSError:
        pass
    return pids


# ---------------------------------------------------------------------------------------------
# One scenario's world.

@dataclass
class Run:
    job: str
    host: str
    tick: int                  # the scheduled epoch this jobrun was fired for
    popen: subprocess.Popen
    t_spawn: float
    t_end: Optional[float] = None
    rc: Optional[int] = None
    run_id: Optional[str] = None
    claimed: Optional[int] = None
    last_words: str = ""       # jobrun's last stderr line (why it did not run, for FAULTS_DEBUG)
    reclaimed: bool = False    # chose its occurrence again by Redis's clock (a skewed host)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class Line:
    job: str
    host: str
    run_id: str
    fence: int
    t: float
    shell_pid: int
    jobrun_pid: int


@dataclass
class Monitor:
    port: int
    popen: subprocess.Popen


def redis_cli(port, *args, timeout=3):
    try:
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], env=BASE_ENV,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return r.stdout.strip() if r.returncode == 0 and not r.stdout.startswith(("Could not connect", "ERR")) else None


class CutProxy:
    """A loopback TCP forwarder (threads in this process) between jobmond and Redis that can be
    cut: open connections are reset and new ones refused until it is mended. Bounded by a
    deadline, after which every loop ends."""

    def __init__(self, target, lifetime):
        self.target, self.cut, self.conns, self.lock = target, False, [], threading.Lock()
        self.deadline = time.monotonic() + lifetime
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.5)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while time.monotonic() < self.deadline:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                if self.cut:
                    raise OSError("cut")
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        a.settimeout(1.0)
        while time.monotonic() < self.deadline:
            try:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
            except socket.timeout:
                continue
            except OSError:
                break
        for sock in (a, b):
            sock.close()

    def set_cut(self, cut):
        self.cut = cut
        with self.lock:
            conns, self.conns = (self.conns, []) if cut else ([], self.conns)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self):
        self.deadline = 0
        self.listener.close()
        self.set_cut(True)


class Cluster:
    """Redis (single or Sentinel), the alert receiver, jobmond replicas and K hosts' jobrun."""

    def __init__(self, sc, root: Path, bins: Path):
        self.sc, self.bins = sc, bins
        self.dir = root / sc.name
        (self.dir / "jobs.d").mkdir(parents=True)
        self.procs = set()
        self.nodes = {}                        # redis data port -> Popen
        self.sentinels = []                    # sentinel ports
        self.master, self.replicas = None, []  # data ports
        self.monitors: list[Monitor] = []
        self.hosts = [f"h{i + 1}" for i in range(sc.hosts)]
        self.receiver_dir = self.dir / "receiver"
        self.receiver_dir.mkdir()
        self.dead_tcp, self.dead_udp = free_port(), free_port(socket.SOCK_DGRAM)   # nobody listens there
        self.proxies = {}                      # jobmond API port -> its cuttable way to Redis (monitor_proxy)
        self.masters = []                      # Redlock: the masters' data ports, the monitor's first
        self.host_proxies = []                 # Redlock: the hosts' cuttable way to each master
        self.holes = []                        # black-holed Graylog sockets (black_holes())

    # -- Redis ---------------------------------------------------------------------------------
    def start_redis(self, port, *extra):
        self.nodes[port] = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no", *extra],
                                 cwd=self.dir, log=self.dir / f"redis-{port}.log", owner=self.procs)
        wait_for(f"redis on {port}", lambda: redis_cli(port, "PING") == "PONG", 10)

    def start_topology(self):
        self.master = free_port()
        self.start_redis(self.master)
        if self.sc.topology == "redlock":
            # Hosts reach each master through a proxy that can cut them off; jobmond goes direct.
            self.masters = [self.master] + [free_port() for _ in range(2)]
            for port in self.masters[1:]:
                self.start_redis(port)
            self.host_proxies = [CutProxy(port, lifetime=3600) for port in self.masters]
            self.urls = [f"redis://127.0.0.1:{port}/0" for port in self.masters]
            self.direct_url = ",".join(f"redis://127.0.0.1:{p.port}/0" for p in self.host_proxies)
            return
        if self.sc.topology != "sentinel":
            self.urls = [f"redis://127.0.0.1:{self.master}/0"]
            self.direct_url = self.urls[0]
            return
        self.replicas = [free_port() for _ in range(self.sc.replicas)]
        for port in self.replicas:
            self.start_redis(port, "--replicaof", "127.0.0.1", str(self.master))
            self.wait_replica_synced(port)
        for _ in range(3):
            port = free_port()
            conf = self.dir / f"sentinel-{port}.conf"
            conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                            f"sentinel monitor mymaster 127.0.0.1 {self.master} 2\n"
                            "sentinel down-after-milliseconds mymaster 1000\n"
                            "sentinel failover-timeout mymaster 5000\n"
                            "sentinel parallel-syncs mymaster 1\n")
            spawn(["redis-server", str(conf), "--sentinel"], cwd=self.dir, log=self.dir / f"sentinel-{port}.log",
                  owner=self.procs)
            self.sentinels.append(port)
        for port in self.sentinels:
            wait_for(f"sentinel {port} to know its peers and the replicas",
                     lambda: self.sentinel_info(port).get("num-other-sentinels") == "2"
                     and self.sentinel_info(port).get("num-slaves") == str(len(self.replicas)), 30)
        self.direct_url = "redis-sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.sentinels) + "/mymaster/0"
        self.urls = [self.direct_url]

    def wait_replica_synced(self, port):
        wait_for(f"replica {port} in sync", lambda: "master_link_status:up" in (redis_cli(port, "INFO", "replication") or ""), 30)

    def sentinel_info(self, port):
        flat = (redis_cli(port, "SENTINEL", "master", "mymaster") or "").splitlines()
        return dict(zip(flat[0::2], flat[1::2]))

    def sentinel_master(self, port):
        reply = (redis_cli(port, "SENTINEL", "get-master-addr-by-name", "mymaster") or "").split()
        return int(reply[1]) if len(reply) == 2 and reply[1].isdigit() else None

    def sentinel_replica_flags(self, sentinel, port):
        flat = (redis_cli(sentinel, "SENTINEL", "replicas", "mymaster") or "").splitlines()
        entries = []
        for key, value in zip(flat[0::2], flat[1::2]):
            if key == "name":
                entries.append({})
            if entries:
                entries[-1][key] = value
        return next((e.get("flags") for e in entries if e.get("port") == str(port)), None)

    def failover(self):
        """kill -9 the master; wait until a majority of sentinels name one replica and it says it
        is a master, and every other live replica follows it. The old master stays dead (rejoin)."""
        old = self.master
        os.kill(self.nodes[old].pid, signal.SIGKILL)
        t0 = time.time()

        def promoted():
            named = [self.sentinel_master(s) for s in self.sentinels]
            new = max(set(named), key=named.count)
            ok = new in self.replicas and named.count(new) >= 2 and (redis_cli(new, "ROLE") or "").startswith("master")
            return new if ok else None
        new = wait_for("the sentinels to promote a replica", promoted, 30, interval=0.1)
        self.master, self.replicas = new, [p for p in self.replicas if p != new] + [old]
        self.nodes[old].wait(timeout=5)
        for port in self.replicas:
            if self.nodes[port].poll() is None:
                wait_for(f"replica {port} to follow the new master", lambda: f"master_port:{new}" in
                         (redis_cli(port, "INFO", "replication") or "") and "master_link_status:up" in
                         (redis_cli(port, "INFO", "replication") or ""), 30, 0.1)
        return time.time() - t0

    def rejoin(self):
        """Dead old masters come back empty as the master's replicas, in sync and seen as healthy
        replicas by every sentinel."""
        for port in self.replicas:
            if self.nodes[port].poll() is None:
                continue
            self.start_redis(port, "--replicaof", "127.0.0.1", str(self.master))
            self.wait_replica_synced(port)
            wait_for("the sentinels to see the rejoined replica healthy",
                     lambda: all(self.sentinel_replica_flags(s, port) == "slave" for s in self.sentinels), 30, 0.2)

    # -- config, receiver, jobmond ---------------------------------------------------------------
    def write_config(self):
        self.api_ports = [free_port() for _ in range(self.sc.monitors)]
        (self.dir / "jobwatch.yaml").write_text(f"""\
redis: [{", ".join(f'"{u}"' for u in self.urls)}]
key_prefix: "{PREFIX}"
jobs_dir: {self.dir}/jobs.d
spool_dir: {self.dir}/spool
monitor_url: http://127.0.0.1:{self.api_ports[0]}
token: {TOKEN}
timezone: UTC
monitor:
  listen: 127.0.0.1:{self.api_ports[0]}
  tokens:
    - {{ name: ops, secret: {TOKEN}, scopes: [report, read, admin] }}
  channels:
    hook: {{ type: webhook, url: "http://127.0.0.1:{self.receiver_port}/hook", group_burst: 0 }}
  default_alerts: [hook]
  retry_initial: 1s
  retry_max: 4s
""")
        for job, (period, grace, sleep) in JOBS.items():
            log = self.dir / f"{job}.log.jobs"
            # The real time, also on a host whose jobrun runs under faketime (the job inherits it).
            now = "$(env -u LD_PRELOAD -u FAKETIME date +%s.%N)"
            line = f'echo "$JOBWATCH_HOST $JOBWATCH_RUN_ID $JOBWATCH_FENCE {now} $$ $PPID" >> {log}'
            command = {"work": f"{line}; sleep ${{FAULTS_SLEEP:-{sleep}}}", "beat": f"{line}; sleep {sleep}"}.get(job, "true")
            (self.dir / "jobs.d" / f"{job}.yaml").write_text(
                f"command: '{command}'\nschedule: every {period}s\ngrace: {int(grace * 1000)}ms\nlock_ttl: {LOCK_TTL:g}s\n")

    def start_receiver(self, script=None):
        self.script_file = self.receiver_dir / "script.json"
        self.record_file = self.receiver_dir / "record.jsonl"
        self.script_file.write_text(json.dumps(script or {}))
        port_file = self.receiver_dir / "port"
        spawn([sys.executable, str(RECEIVER), str(port_file), str(self.record_file), str(self.script_file)],
              cwd=self.dir, log=self.dir / "receiver.log", owner=self.procs)
        self.receiver_port = int(wait_for("the alert receiver's port", lambda: port_file.exists() and port_file.read_text(), 10))

    def env(self, host=None, **extra):
        env = dict(BASE_ENV, JOBWATCH_CONFIG=str(self.dir / "jobwatch.yaml"))
        if host:
            env["JOBWATCH_SPOOL_DIR"] = str(self.dir / "spool" / host)
            env["JOBWATCH_REDIS"] = self.direct_url
            if self.sc.fail_open:
                env["JOBWATCH_ON_REDIS_DOWN"] = "run"
        env.update(extra)
        return env

    def start_monitor(self, port):
        extra = {}
        if self.sc.monitor_proxy:
            if port not in self.proxies:
                self.proxies[port] = CutProxy(self.master, lifetime=3600)
            extra["JOBWATCH_REDIS"] = f"redis://127.0.0.1:{self.proxies[port].port}/0"
        p = spawn([str(self.bins / "jobmond"), "--config", str(self.dir / "jobwatch.yaml"), "--listen", f"127.0.0.1:{port}"],
                  cwd=self.dir, env=self.env(**extra), log=self.dir / f"jobmond-{port}.log", owner=self.procs)
        m = Monitor(port, p)
        self.monitors = [x for x in self.monitors if x.port != port] + [m]
        return m

    def get(self, port, path, timeout=2):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
        try:
            with HTTP.open(req, timeout=timeout) as r:
                return json.load(r)
        except (OSError, ValueError):
            return None

    def api(self, path):
        for m in self.monitors:
            if m.popen.poll() is None:
                reply = self.get(m.port, path)
                if reply is not None:
                    return reply
        return None

    def leader(self):
        """The jobmond replica named by <prefix>mon:leader (owner host:pid:random)."""
        owner = redis_cli(self.master, "GET", PREFIX + "mon:leader") or ""
        parts = owner.split(":")
        pid = int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else None
        return next((m for m in self.monitors if m.popen.pid == pid and m.popen.poll() is None), None)

    def wait_monitor_ready(self, timeout=60):
        def ready():
            jobs = self.api("/api/v1/jobs") or {}
            return (all(self.get(m.port, "/healthz") for m in self.monitors if m.popen.poll() is None)
                    and self.leader() is not None and {j.get("job") for j in jobs.get("jobs", [])} >= set(JOBS))
        wait_for("jobmond to be healthy, led and watching the jobs", ready, timeout, interval=0.1)

    # -- hosts ---------------------------------------------------------------------------------
    def fire(self, job, tick, extra_env):
        runs = []
        for host in self.hosts:
            skew = self.sc.skews.get(host)
            clock = ["faketime", "-f", f"{skew:+d}s"] if skew else []
            p = spawn(clock + [str(self.bins / "jobrun"), "--verbose", "--host", host, job], cwd=self.dir,
                      env=self.env(host, **extra_env), stderr=subprocess.PIPE)
            run = Run(job, host, tick, p, time.time())
            threading.Thread(target=self._reap, args=(run,), daemon=True).start()
            runs.append(run)
        return runs

    def _reap(self, run):
        try:
            _, err = run.popen.communicate()
        except (OSError, ValueError):
            err = b""
        run.t_end, run.rc = time.time(), run.popen.returncode
        lines = err.decode("utf-8", "replace").splitlines()
        run.last_words = lines[-1] if lines else ""
        for line in lines:
            if "claiming occurrence " in line:      # the last one counts ("… instead", a skewed clock)
                run.claimed = epoch(line.split("claiming occurrence ", 1)[1].split()[0])
            elif "Redis's: choosing the occurrence" in line:
                run.reclaimed = True
            elif " as run " in line:
                run.run_id = line.split(" as run ", 1)[1].split()[0]
        with LOCK:
            ALL.discard(run.popen)
            self.procs.discard(run.popen)
        run.done.set()

    def read_log(self, job):
        lines = []
        path = self.dir / f"{job}.log.jobs"
        for text in (path.read_text().splitlines() if path.exists() else []):
            p = text.split()
            if len(p) == 6:
                lines.append(Line(job, p[0], p[1], int(p[2]), float(p[3]), int(p[4]), int(p[5])))
        return lines

    def flush_spools(self):
        for host in self.hosts:
            try:
                subprocess.run([str(self.bins / "jobctl"), "flush"], env=self.env(host), cwd=self.dir,
                               capture_output=True, timeout=30)
            except subprocess.TimeoutExpired:
                pass

    def triggers(self):
        records = []
        if self.record_file.exists():
            for text in self.record_file.read_text().splitlines():
                try:
                    records.append(json.loads(text))
                except ValueError:
                    pass
        out = []
        for r in records:
            body = r.get("body")
            if r.get("path") != "/hook" or not isinstance(body, dict) or not 200 <= r.get("status", 0) < 300:
                continue
            # A digest (storm control) carries the single alerts it replaces.
            for alert in body.get("alerts", []) if body.get("event") == "digest" else [body]:
                if isinstance(alert, dict) and alert.get("event") == "trigger":
                    out.append(dict(r, body=alert))
        return out

    def problems(self):
        """jobmond's error and warning lines, for the report of a failed scenario."""
        out = []
        for log in sorted(self.dir.glob("jobmond-*.log")):
            out += [f"{log.name}: {l}" for l in log.read_text(errors="replace").splitlines()
                    if "error" in l.lower() or "warn" in l.lower()]
        return out

    def black_holes(self):
        """A Graylog that is there but never answers: a TCP listener whose only backlog slot we
        take ourselves, so later SYNs are dropped and connects hang; a UDP socket nobody reads, so
        datagrams vanish without an ICMP error. Returns (tcp port, udp port)."""
        if not self.holes:
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            filler = socket.create_connection(listener.getsockname(), timeout=2)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            self.holes = [listener, filler, udp]
        return self.holes[0].getsockname()[1], self.holes[2].getsockname()[1]

    def close(self):
        for proxy in list(self.proxies.values()) + self.host_proxies:
            proxy.close()
        for hole in self.holes:
            hole.close()
        with LOCK:
            procs = list(self.procs)
        stop_all(procs)
        with LOCK:
            ALL.difference_update(procs)
        for job in JOBS:
            kill_strays(shell_pids(self.dir / f"{job}.log.jobs"), self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The simulated crontab: a thread that fires every host at every tick, whatever the fault does.

class Cron(threading.Thread):
    def __init__(self, c: Cluster, sc, ticks):
        super().__init__(daemon=True)
        self.c, self.sc, self.n = c, sc, ticks
        self.t_launch = time.time()
        self.first = (math.floor(self.t_launch / TICK) + 1) * TICK
        self.end = self.first + ticks * TICK           # occurrences before this are in the window
        self.beat_start = None                         # set once jobmond is up; beat runs every time until then
        self.runs: list[Run] = []
        self.fired = set()                             # (job, scheduled epoch)
        self.fired_at = [threading.Event() for _ in range(ticks)]
        self.runs_at = [[] for _ in range(ticks)]
        self.stopping = threading.Event()
        self.error = None

    def tick(self, i):
        return self.first + i * TICK

    def beat_runs(self, t):
        if t % JOBS["beat"][0]:
            return False
        if self.beat_start is None or t < self.beat_start:
            return True
        return (t - self.beat_start) // JOBS["beat"][0] % self.sc.beat_cycle == 0

    def run(self):
        try:
            for i in range(self.n):
                t = self.tick(i)
                if self.stopping.wait(max(0.0, t - time.time())):   # cron's clock, not synchronisation
                    return
                jobs = ([] if self.sc.skip_work(i) else ["work"]) + (["beat"] if self.beat_runs(t) else [])
                for job in jobs:
                    env = self.sc.tick_env(self.c, i) if job == "work" else {}
                    runs = self.c.fire(job, t, env)
                    self.runs += runs
                    self.runs_at[i] += runs
                    self.fired.add((job, t))
                self.fired_at[i].set()
        except BaseException as e:  # noqa: BLE001 - reported by the scenario
            self.error = e
            for ev in self.fired_at:
                ev.set()

    def wait_tick(self, i):
        """Waits until tick i has been fired (at most the time until it is due plus 10 s)."""
        self.fired_at[i].wait(timeout=max(0.0, self.tick(i) - time.time()) + 10)
        return self.runs_at[i]

    def remaining(self):
        return self.end - time.time()


# ---------------------------------------------------------------------------------------------
# Faults. Each runs on the main thread while Cron fires; it may only block in bounded waits.

def kill_tick(i):
    return i % 5 == 3


def sleep_on_kill_ticks(c, i):
    return {"FAULTS_SLEEP": str(KILL_SLEEP)} if kill_tick(i) else {}


def wrapper_sigkill(c, cron, notes):
    """On kill ticks: find the run in the job log ($PPID is its jobrun), wait (≤ 1 s) until the
    monitor has its start, then SIGKILL that jobrun. The job itself keeps running to its end."""
    for i in range(cron.n - 2):
        if not kill_tick(i):
            continue
        pids = {r.popen.pid for r in cron.wait_tick(i)}
        try:
            line = wait_for("the run's log line", lambda: next((l for l in c.read_log("work") if l.jobrun_pid in pids), None), 1.2, 0.02)
        except Timeout:
            continue
        try:
            wait_for("the monitor to see the start", lambda: any(r.get("run_id") == line.run_id for r in
                     (c.api("/api/v1/jobs/work/runs?limit=20") or {}).get("runs", [])), 1.0, 0.05)
        except Timeout:
            pass
        os.kill(line.jobrun_pid, signal.SIGKILL)
        notes["killed"].add(line.run_id)
        notes["outages"].append((time.time(), time.time() + LOCK_TTL))     # until its lease ends
        notes["injected"] += 1


def failover_between_ticks(c, cron, notes):
    every = cron.n if cron.n < 100 else 50
    for i in range(cron.n // 3, cron.n - 4, every):
        cron.wait_tick(max(0, i - 10))
        c.rejoin()                                     # full form: the last victim, 20 s before the next failover
        cron.wait_tick(i)
        time.sleep(max(0.0, cron.tick(i) + 1.0 - time.time()))        # mid-interval: jobs have finished
        t0 = time.time()
        notes["failovers"].append(round(c.failover(), 1))
        notes["injected"] += 1
        notes["outages"].append((t0 - 1, time.time() + 3))                # + jobrun's ~3 s connect budget


def failover_then_rejoin(c, cron, notes):
    """1 master + 1 replica: after the failover the new master has no replica, jobrun's WAIT for
    one fails and it runs nothing (fail-closed, README "Replication waits") until the old master
    is back as a replica 10 s later; runs must resume then. Misses until then are excused."""
    every = cron.n if cron.n < 100 else 50
    for i in range(cron.n // 4, cron.n - 12, every):
        cron.wait_tick(i)
        t0 = time.time()
        time.sleep(max(0.0, cron.tick(i) + 1.0 - time.time()))
        notes["failovers"].append(round(c.failover(), 1))
        notes["injected"] += 1
        time.sleep(10)                                 # the outage under test
        c.rejoin()
        notes["outages"].append((t0 - 1, time.time() + 3))


def failover_during_tick(c, cron, notes):
    every = cron.n if cron.n < 100 else 40
    for i in range(cron.n // 3, cron.n - 4, every):
        cron.wait_tick(max(0, i - 10))
        c.rejoin()
        cron.wait_tick(i)                                              # hosts are claiming right now
        t0 = time.time()
        notes["failovers"].append(round(c.failover(), 1))
        notes["injected"] += 1
        notes["outages"].append((t0 - 1, time.time() + 3))                # + jobrun's ~3 s connect budget


def beat_deadline(cron, cycle):
    """The deadline of the first missed beat occurrence of cycle number `cycle`."""
    period, grace, _ = JOBS["beat"]
    return cron.beat_start + (cycle * cron.sc.beat_cycle + 1) * period + grace


def beat_trigger_after(c, t, timeout):
    """The first beat trigger received at or after t (bounded wait)."""
    return wait_for("a beat trigger", lambda: next((r for r in c.triggers()
                    if r["body"].get("job") == "beat" and r["t"] >= t), None), timeout, 0.1)


def leader_sigkill(c, cron, notes):
    """Alternately: SIGKILL the leader 1 s after a beat trigger arrived (mid-incident: the new
    leader must not page again) and 0.5 s before a beat deadline (the new leader must page).
    The killed replica is restarted on its port before the next kill."""
    kills = 0
    for cycle in range(1000):
        deadline = beat_deadline(cron, cycle)
        if deadline + 20 > cron.end:
            return
        if deadline - 0.5 < time.time():
            continue                    # passed while the last victim was being replaced
        if kills % 2 == 0:
            r = beat_trigger_after(c, deadline - 1, deadline + 10 - time.time())
            time.sleep(max(0.0, r["t"] + 1.0 - time.time()))
        else:
            time.sleep(max(0.0, deadline - 0.5 - time.time()))
        victim = c.leader()
        if victim is None:
            continue
        victim.popen.kill()
        victim.popen.wait(timeout=5)
        kills += 1
        kind = "after_trigger" if kills % 2 else "before_deadline"
        notes["leader_kills"][kind] = notes["leader_kills"].get(kind, 0) + 1
        notes["injected"] += 1
        wait_for("another replica to take the lead", lambda: c.leader() not in (None, victim), 30, 0.1)
        c.start_monitor(victim.port)
        wait_for("the restarted replica", lambda: c.get(victim.port, "/healthz"), 60, 0.1)


def leaders_before_beat_deadlines(c, cron):
    """Every other beat cycle that leaves 25 s of window: waits until 0.5 s before its deadline
    and yields the replica leading then (a cycle without one is skipped)."""
    for cycle in range(0, 1000, 2):
        if beat_deadline(cron, cycle) + 25 > cron.end:
            return
        time.sleep(max(0.0, beat_deadline(cron, cycle) - 0.5 - time.time()))
        victim = c.leader()
        if victim is not None:
            yield victim


def while_leader_isolated(c, cron, notes, key, isolate, restore, linger):
    """Every other beat cycle: isolate the leader 0.5 s before a beat deadline, until another
    replica holds mon:leader, then `linger` s more; then restore it. The time until the
    hand-over goes to notes[key]."""
    for victim in leaders_before_beat_deadlines(c, cron):
        isolate(victim)
        try:
            t0 = time.time()
            wait_for("another replica to take the lead", lambda: c.leader() not in (None, victim), 30, 0.1)
            notes[key].append(round(time.time() - t0, 1))
            notes["injected"] += 1
            time.sleep(linger)
        finally:
            restore(victim)


def leader_sigstop(c, cron, notes):
    """SIGSTOP the leader just before a beat deadline; once the other replica holds mon:leader
    (the 10 s lease ran out), wait 1 s more and SIGCONT it. Every other cycle."""
    while_leader_isolated(c, cron, notes, "stopped_s", lambda v: os.kill(v.popen.pid, signal.SIGSTOP),
                          lambda v: os.kill(v.popen.pid, signal.SIGCONT), linger=1.0)


FAILING_HOOK = {"/hook": ["429:1", 500, 500, "429:1", 500, "429:1"]}


def rearm_429(c, cron, notes):
    """Full form: every 120 s the webhook answers 429 (Retry-After 1) and 500 in turn to every
    request for a whole minute; alerts raised meanwhile must arrive once, after it."""
    for _ in range(1000):
        if cron.remaining() < 140:
            return
        time.sleep(60)
        c.script_file.write_text(json.dumps({"/hook": {"until": time.time() + 60, "cycle": ["429:1", 500]}}))
        notes["outages_s"].append(60)
        time.sleep(60)


def gelf_refused(c, i):
    """Even ticks GELF over TCP, odd ones over UDP, both to ports nobody listens on."""
    return {"JOBWATCH_GELF": f"tcp://127.0.0.1:{c.dead_tcp}" if i % 2 == 0 else f"udp://127.0.0.1:{c.dead_udp}"}


def gelf_blackholed(c, i):
    """Even ticks GELF over TCP to a listener that never accepts, odd ones over UDP into a socket
    nobody reads."""
    tcp, udp = c.black_holes()
    return {"JOBWATCH_GELF": f"tcp://127.0.0.1:{tcp}" if i % 2 == 0 else f"udp://127.0.0.1:{udp}"}


def redis_restart(c, cron, notes):
    """SHUTDOWN NOSAVE mid-interval and start an empty Redis on the same port (once, or every
    50 ticks in the full form). Reports of runs started before the last restart are gone with
    the data, so lost reports count only later runs."""
    every = cron.n if cron.n < 150 else 50
    for i in range(cron.n // 2, cron.n - 4, every):
        cron.wait_tick(i)
        time.sleep(max(0.0, cron.tick(i) + 1.0 - time.time()))
        port, t0 = c.master, time.time()
        redis_cli(port, "SHUTDOWN", "NOSAVE")
        c.nodes[port].wait(timeout=10)
        c.start_redis(port)
        notes["lost_since"] = time.time()
        notes["wipes"].append(notes["lost_since"])
        notes["outages"].append((t0, time.time() + 1))
        notes["injected"] += 1


def cut_tick(i):
    return i % 10 == 5


def cut_monitor_from_redis(c, cron, notes):
    """On ticks where nobody runs work: cut jobmond from Redis at tick + 1 s (before the 1.5 s
    deadline) and mend it at tick + 5 s, after the next two runs' starts reached the stream
    directly. The miss must still page, once."""
    for i in range(cron.n - 3):
        if not cut_tick(i):
            continue
        time.sleep(max(0.0, cron.tick(i) + 1.0 - time.time()))
        proxy = c.proxies[c.api_ports[0]]
        proxy.set_cut(True)
        time.sleep(max(0.0, cron.tick(i) + 5.0 - time.time()))         # the outage under test
        proxy.set_cut(False)
        notes["injected"] += 1


def leader_partition(c, cron, notes):
    """Every other beat cycle: cut the leader's link to Redis (its proxy) just before a beat
    deadline, until the other replica holds mon:leader, then 2 s more; then mend it. The cut-off
    replica must stop on its own clock and page nothing; the other pages the miss once."""
    while_leader_isolated(c, cron, notes, "partitioned_s", lambda v: c.proxies[v.port].set_cut(True),
                          lambda v: c.proxies[v.port].set_cut(False), linger=2.0)


def redlock_minority_cut(c, cron, notes):
    """Cut every host off one Redlock master for 8 s (4 ticks): alternately the first (where
    jobmond keeps its state: reports go to the second and are relayed) and the third. Two of
    three masters still grant: no occurrence may be missed, so no outage window is declared."""
    every = cron.n if cron.n < 40 else 20
    for n, i in enumerate(range(cron.n // 4, cron.n - 6, every)):
        cron.wait_tick(i)
        time.sleep(max(0.0, cron.tick(i) + 0.5 - time.time()))
        victim = 0 if n % 2 == 0 else 2
        c.host_proxies[victim].set_cut(True)
        time.sleep(max(0.0, cron.tick(i) + 8.5 - time.time()))
        c.host_proxies[victim].set_cut(False)
        notes["cuts"].append(f"m{victim + 1}")
        notes["injected"] += 1


def redlock_majority_down(c, cron, notes):
    """kill -9 the second and third Redlock masters mid-interval, restart them empty 8 s later
    (once, or every 30 ticks). With on_redis_down: skip every host refuses to run (exit 201, a
    stderr line saying so): the misses page once, and runs resume with fences still rising."""
    every = cron.n if cron.n < 60 else 30
    for i in range(cron.n // 3, cron.n - 8, every):
        cron.wait_tick(i)
        time.sleep(max(0.0, cron.tick(i) + 1.0 - time.time()))
        t0 = time.time()
        for port in c.masters[1:]:
            os.kill(c.nodes[port].pid, signal.SIGKILL)
            c.nodes[port].wait(timeout=5)
        time.sleep(8.0)                                              # the outage under test
        for port in c.masters[1:]:
            c.start_redis(port)
        notes["outages"].append((t0, time.time() + 3))                # + a jobrun still retrying its connects
        notes["injected"] += 1


def no_fault(c, cron, notes):
    pass


# ---------------------------------------------------------------------------------------------
# Scenarios and their verdicts.

@dataclass
class Scenario:
    name: str
    short: int                         # ticks in the short form
    fault: Callable = no_fault
    in_short: bool = True              # part of --short (else --full, or --only in the short form)
    topology: str = "single"
    replicas: int = 2                  # Sentinel: replicas behind the master
    hosts: int = 3
    monitors: int = 1
    beat_cycle: int = 3                # beat: one run, then beat_cycle-1 skipped occurrences
    tick_env: Callable = lambda c, i: {}   # extra environment for work's jobrun on tick i
    skip_work: Callable = lambda i: False  # ticks on which nobody runs work (a miss that must page)
    monitor_proxy: bool = False            # each jobmond reaches Redis through its own CutProxy
    skews: dict = field(default_factory=dict)  # host -> clock offset in seconds (faketime)
    fail_open: bool = False                    # hosts run with on_redis_down: run
    receiver_script: Optional[dict] = None
    max_delay: float = 5.0
    max_exit: Optional[float] = None   # graylog: bound on max_jobrun_exit_s
    expected: dict = field(default_factory=dict)
    full: int = 190                    # >= 200 occurrences (work on most ticks, beat on some)


SCENARIOS = [
    Scenario("baseline", 16),
    Scenario("wrapper-sigkill", 16, wrapper_sigkill, tick_env=sleep_on_kill_ticks),
    Scenario("sentinel-kill-master", 20, failover_between_ticks, topology="sentinel", max_delay=15),
    Scenario("sentinel-one-replica", 30, failover_then_rejoin, in_short=False, topology="sentinel", replicas=1,
             max_delay=15, expected={"runs_stop_until_a_replica_returns": "yes"}),
    Scenario("sentinel-claim-storm", 24, failover_during_tick, in_short=False, topology="sentinel", hosts=6, max_delay=15),
    Scenario("jobmond-leader-sigkill", 32, leader_sigkill, monitors=2, beat_cycle=6, max_delay=20),
    Scenario("jobmond-leader-sigstop", 40, leader_sigstop, in_short=False, monitors=2, beat_cycle=7, max_delay=20),
    Scenario("alert-endpoint-429", 16, rearm_429, receiver_script=FAILING_HOOK, max_delay=75),
    Scenario("graylog-refused", 16, tick_env=gelf_refused, max_exit=2.0),
    Scenario("graylog-blackholed", 16, in_short=False, tick_env=gelf_blackholed, max_exit=2.0),
    Scenario("jobmond-redis-cut", 24, cut_monitor_from_redis, in_short=False, skip_work=cut_tick,
             monitor_proxy=True, max_delay=10),
    Scenario("redis-restart-nopersist", 24, redis_restart, in_short=False, expected={"open_incidents_page_again": "yes"}),
    Scenario("jobmond-leader-partitioned", 40, leader_partition, in_short=False, monitors=2, beat_cycle=7,
             monitor_proxy=True, max_delay=20),
    Scenario("redlock-minority-cut", 24, redlock_minority_cut, in_short=False, topology="redlock"),
    Scenario("redlock-majority-down", 24, redlock_majority_down, in_short=False, topology="redlock", max_delay=10,
             expected={"runs_stop_while_a_majority_is_down": "yes"}),
    Scenario("redlock-majority-down-open", 24, redlock_majority_down, in_short=False, topology="redlock", fail_open=True,
             max_delay=10, expected={"double_runs_while_a_majority_is_down": "yes"}),
    Scenario("clock-skew", 20, in_short=False, hosts=4, skews={"h2": 300, "h3": -300, "h4": 600}),
]


@dataclass
class Counts:
    occurrences: int = 0
    runs: int = 0
    double_runs: int = 0
    double_runs_in_fault: int = 0
    lost_reports: int = 0
    alerts_expected: int = 0
    alerts_expected_min: int = 0              # differs only around a wipe (WIPE_BLIND_S)
    alerts_sent: int = 0
    duplicate_alerts: int = 0
    max_alert_delay_s: float = 0.0
    fence_monotonic: bool = True
    missed: int = 0
    missed_in_fault: int = 0
    killed_runs: Optional[int] = None
    max_jobrun_exit_s: Optional[float] = None
    refused_runs: Optional[int] = None        # jobruns that exited 201 saying on_redis_down: skip
    reclaimed_runs: Optional[int] = None      # jobruns that chose the occurrence by Redis's clock
    relayed_reports: Optional[int] = None     # reports jobmond moved from another Redlock master


    def line(self, sc, result):
        s = (f"scenario={sc.name} occurrences={self.occurrences} runs={self.runs} double_runs={self.double_runs} "
             f"lost_reports={self.lost_reports} alerts_expected={self.alerts_expected} alerts_sent={self.alerts_sent} "
             f"duplicate_alerts={self.duplicate_alerts} max_alert_delay_s={self.max_alert_delay_s:.1f} "
             f"fence_monotonic={'yes' if self.fence_monotonic else 'no'} missed={self.missed} missed_in_fault={self.missed_in_fault}")
        if self.killed_runs is not None:
            s += f" killed_runs={self.killed_runs}"
        if self.max_jobrun_exit_s is not None:
            s += f" max_jobrun_exit_s={self.max_jobrun_exit_s:.2f}"
        if self.refused_runs is not None:
            s += f" refused_runs={self.refused_runs}"
        if self.alerts_expected_min != self.alerts_expected:
            s += f" alerts_expected_min={self.alerts_expected_min}"
        if self.double_runs_in_fault:
            s += f" double_runs_in_fault={self.double_runs_in_fault}"
        if self.reclaimed_runs is not None:
            s += f" reclaimed_runs={self.reclaimed_runs}"
        if self.relayed_reports is not None:
            s += f" relayed_reports={self.relayed_reports}"
        if sc.expected:
            s += " expected=" + ",".join(f"{k}:{v}" for k, v in sc.expected.items())
        return s + f" result={result}"


def lost_at(started, died):
    """When jobmond finds a run whose jobrun died at `died` lost: it looks at start + lock_ttl +
    2 s, and again 2 s after the lease's end while the lock is still there."""
    renewed = started + (died - started) // (LOCK_TTL / 3) * (LOCK_TTL / 3)
    first_look = started + LOCK_TTL + LEASE_GRACE
    return first_look if renewed + LOCK_TTL <= first_look else renewed + LOCK_TTL + LEASE_GRACE


WIPE_BLIND_S = 5.0   # after a wipe, the leader re-learns each job within this long: occurrences
                     # due until then are not awaited by the wiped monitor (it knows nothing)


def expected_incidents(job, start, end, ran, wipes=(), miss_blind=True):
    """Incidents a correct monitor opens for `job`, replayed as a timeline over its occurrences
    in [start, end): a missed occurrence raises at occurrence + grace; a run that failed raises
    at its end; a run whose jobrun died without a finish raises `lost` (see lost_at); a
    successful run resolves at its end; a wipe of the monitor's state (Redis restarted empty)
    forgets the open incident. A raise while one is open joins it (one incident per job).
    ran[(job, t)] lists (outcome, started, ended) with outcome "ok" / "failed" / "died".
    An occurrence missed from just before a wipe until the monitor re-learned the job (see
    WIPE_BLIND_S) may or may not page: `miss_blind` says whether this count assumes it does."""
    period, grace, _ = JOBS[job]
    events = [(w, "resolve") for w in wipes]
    for t in range(math.ceil(start / period) * period, math.ceil(end), period):
        if t >= end:
            break
        runs = ran.get((job, t), [])
        blind = any(w - grace < t <= w + WIPE_BLIND_S for w in wipes)
        if not runs and (miss_blind or not blind):
            events.append((t + grace, "raise"))
        for outcome, started, ended in runs:
            events.append((lost_at(started, ended), "raise") if outcome == "died" else
                          (ended, "resolve" if outcome == "ok" else "raise"))
    n, open_ = 0, False
    for _, what in sorted(events):
        if what == "raise" and not open_:
            n, open_ = n + 1, True
        elif what == "resolve":
            open_ = False
    return n


def evaluate(c: Cluster, cron: Cron, notes) -> Counts:
    k = Counts()
    lines = c.read_log("work") + c.read_log("beat")
    by_id = {r.run_id: r for r in cron.runs if r.run_id}
    by_pid = {r.popen.pid: r for r in cron.runs}
    per_occ, ran = defaultdict(list), defaultdict(list)
    for l in lines:
        r = by_id.get(l.run_id) or by_pid.get(l.jobrun_pid)
        occ = (r.claimed if r.claimed is not None else r.tick) if r else int(l.t // JOBS[l.job][0] * JOBS[l.job][0])
        per_occ[(l.job, occ)].append(l)
        died = l.run_id in notes["killed"] or r is None or r.rc is None or r.rc < 0
        ended = r.t_end if r and r.t_end else l.t
        ran[(l.job, occ)].append(("died" if died else "ok" if r.rc == 0 else "failed", l.t, ended))
    k.occurrences, k.runs = len(cron.fired), len(lines)
    k.double_runs = sum(1 for v in per_occ.values() if len(v) > 1)
    k.double_runs_in_fault = sum(1 for (_, t), v in per_occ.items()
                                 if len(v) > 1 and any(a <= t <= b for a, b in notes["outages"]))
    misses = [t for key in cron.fired if not per_occ.get(key) for t in [key[1]]]
    k.missed = len(misses)
    k.missed_in_fault = sum(1 for t in misses if any(a <= t <= b for a, b in notes["outages"]))
    for job in ("work", "beat"):
        # A run without a lease (on_redis_down: run) has no token (0): nothing to order.
        fences = [l.fence for l in sorted((l for l in lines if l.job == job and l.fence), key=lambda l: l.t)]
        k.fence_monotonic &= all(a < b for a, b in zip(fences, fences[1:]))
    if c.sc.fault is wrapper_sigkill:
        k.killed_runs = len(notes["killed"])
    if c.sc.fault is redlock_majority_down:
        k.refused_runs = sum(1 for r in cron.runs if r.rc == 201 and "(on_redis_down: skip)" in r.last_words)
    if c.sc.skews:
        k.reclaimed_runs = sum(1 for r in cron.runs if r.reclaimed)
    if c.sc.topology == "redlock":
        k.relayed_reports = sum(int(m.group(1)) for log in c.dir.glob("jobmond-*.log")
                                for m in re.finditer(r"relayed (\d+) report", log.read_text(errors="replace")))
    if c.sc.max_exit is not None:
        exits = [r.t_end - r.t_spawn - JOBS[r.job][2] for r in cron.runs if r.run_id and r.t_end]
        k.max_jobrun_exit_s = max(exits, default=0.0)

    # Lost reports: flush every host's spool, then wait (bounded) for every finish to be applied.
    wanted = {l.run_id: l.job for l in lines if l.run_id not in notes["killed"] and l.t > notes["lost_since"]}
    c.flush_spools()
    missing = dict(wanted)

    def applied():
        for job in ("work", "beat"):
            for r in (c.api(f"/api/v1/jobs/{job}/runs?limit=10000") or {}).get("runs", []):
                if r.get("finished_at") is not None:
                    missing.pop(r.get("run_id"), None)
        return not missing
    try:
        wait_for("every run's finish in the monitor", applied, 10, 0.5)
    except Timeout:
        pass
    k.lost_reports = len(missing)
    notes["lost_ids"] = sorted(missing)[:5]

    # Alerts: expected incidents from the log, sent ones from the webhook's record.
    per_job = {job: expected_incidents(job, cron.t_launch if job == "hb" else cron.first, cron.end, ran, notes["wipes"])
               for job in JOBS}
    k.alerts_expected = sum(per_job.values())
    k.alerts_expected_min = sum(expected_incidents(job, cron.t_launch if job == "hb" else cron.first, cron.end, ran,
                                                   notes["wipes"], miss_blind=False) for job in JOBS)

    def incidents():
        got = defaultdict(list)
        for r in c.triggers():
            b = r["body"]
            occ = epoch(b.get("occurrence"))
            if b.get("job") in JOBS and (occ is None or cron.t_launch <= occ < cron.end):
                got[(b["job"], b.get("since"))].append(r)
        return got
    settle = cron.end + 2 + 1.5                       # the last in-window deadline, and a little
    try:
        wait_for("the expected triggers", lambda: time.time() >= settle and len(incidents()) >= k.alerts_expected,
                 max(1.0, settle + c.sc.max_delay - time.time()), 0.2)
        time.sleep(2.0)                               # a quiet period in which duplicates would show
    except Timeout:
        pass
    got = incidents()
    k.alerts_sent = len(got)
    k.duplicate_alerts = sum(len(v) - 1 for v in got.values())
    delays = [v[0]["t"] - (epoch(v[0]["body"].get("occurrence")) + JOBS[job][1])
              for (job, _), v in got.items() if v[0]["body"].get("kind") == "missed" and epoch(v[0]["body"].get("occurrence"))]
    k.max_alert_delay_s = max(delays, default=0.0)
    if k.alerts_sent != k.alerts_expected or k.duplicate_alerts:
        notes["incidents_expected"] = per_job
        notes["incidents_sent"] = sorted((job, v[0]["body"].get("occurrence", "")[11:19], len(v)) for (job, _), v in got.items())
    if os.environ.get("FAULTS_DEBUG"):
        for (job, since), v in sorted(got.items()):
            b = v[0]["body"]
            print(f"  # trigger {job} kind={b.get('kind')} occurrence={b.get('occurrence')} since={since} "
                  f"received={v[0]['t'] - cron.first:.1f}s x{len(v)}", file=sys.stderr)
        print(f"  # window first={cron.first} end={cron.end} beat_start={cron.beat_start}", file=sys.stderr)
        for job in ("work", "beat"):
            rcs = defaultdict(list)
            for r in cron.runs:
                rcs[(r.job, r.tick)].append(r.rc)
            print(f"  # {job}: " + " ".join(f"{t - cron.first}:{','.join(o for o, _, _ in ran.get((job, t), [])) or '-'}"
                                           + ("" if ran.get((job, t)) or (job, t) not in rcs else str(rcs[(job, t)]))
                                           for t in range(math.ceil(cron.first / JOBS[job][0]) * JOBS[job][0], cron.end, JOBS[job][0])), file=sys.stderr)
        for rc in sorted({r.rc for r in cron.runs if r.rc not in (0, 200, None)}):
            print(f"  # exit {rc}: " + next(r.last_words for r in cron.runs if r.rc == rc)[:300], file=sys.stderr)
        if os.environ.get("FAULTS_DEBUG") == "2":
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cron.t_launch))
            report = c.api(f"/api/v1/report?from={since}") or {}
            print("  # report: " + json.dumps([(j["job"], j["expected"], j["runs"], j["missed"]) for j in report.get("jobs", [])]), file=sys.stderr)
            for log in sorted(c.dir.glob("*.log")):
                print(f"  # ==== {log.name}\n" + log.read_text(errors="replace")[-6000:], file=sys.stderr)
    return k


def verdict(sc, k: Counts):
    checks = {
        "double_runs": k.double_runs == (k.double_runs_in_fault if "double_runs_while_a_majority_is_down" in sc.expected else 0),
        "lost_reports": k.lost_reports == 0,
        "alerts_sent": min(k.alerts_expected_min, k.alerts_expected) <= k.alerts_sent <= max(k.alerts_expected_min, k.alerts_expected),
        "duplicate_alerts": k.duplicate_alerts == 0,
        "max_alert_delay_s": k.max_alert_delay_s <= sc.max_delay,
        "fence_monotonic": k.fence_monotonic,
        "missed": k.missed == k.missed_in_fault,
        "runs": k.runs > 0,
    }
    if sc.max_exit is not None:
        checks["max_jobrun_exit_s"] = k.max_jobrun_exit_s <= sc.max_exit
    for name, want in sc.expected.items():
        if name == "fence_monotonic":
            checks[name] = ("yes" if k.fence_monotonic else "no") == want
        elif name == "runs_stop_until_a_replica_returns":
            checks[name] = ("yes" if k.missed_in_fault else "no") == want
        elif name == "double_runs_while_a_majority_is_down":
            checks[name] = ("yes" if k.double_runs_in_fault else "no") == want
        elif name == "runs_stop_while_a_majority_is_down":
            checks[name] = ("yes" if k.missed_in_fault and k.refused_runs else "no") == want
        elif name == "open_incidents_page_again":
            pass                      # part of alerts_expected (expected_incidents' wipes)
        else:
            checks[name] = str(getattr(k, name)) == str(want)
    return [name for name, ok in checks.items() if not ok]


def run_scenario(sc, ticks, root, bins):
    c = Cluster(sc, root, bins)
    notes = {"killed": set(), "failovers": [], "leader_kills": {}, "stopped_s": [], "partitioned_s": [], "cuts": [], "outages_s": [], "lost_since": 0.0, "injected": 0, "wipes": [], "outages": []}
    cron = None
    t0 = time.time()
    try:
        c.start_topology()
        c.start_receiver(sc.receiver_script)
        c.write_config()
        for port in c.api_ports:
            c.start_monitor(port)
        cron = Cron(c, sc, ticks)          # fires from the first tick after jobmond's launch: nothing is
        cron.start()                       # due between the monitor first seeing a job and the first run
        c.wait_monitor_ready()
        ready = time.time()
        beat = JOBS["beat"][0]
        cron.beat_start = (math.floor((ready + 1) / beat) + 1) * beat
        try:
            sc.fault(c, cron, notes)
        except Timeout as e:                   # the fault could not be injected as designed
            notes["fault_error"] = str(e)
        if sc.fault not in (no_fault, rearm_429) and not notes["injected"]:
            notes["fault_error"] = "no fault injected: the window is too short"
        cron.join(timeout=max(0.0, cron.end - time.time()) + 30)
        for r in cron.runs:
            r.done.wait(timeout=max(0.1, r.t_spawn + 30 - time.time()))
        if cron.error:
            raise cron.error
        k = evaluate(c, cron, notes)
        failed = verdict(sc, k) + (["fault"] if notes.get("fault_error") else [])
        print(k.line(sc, "FAIL" if failed else "PASS"), flush=True)
        extras = {key: v for key, v in notes.items() if v and key not in ("killed", "lost_since", "injected", "wipes", "outages")}
        print(f"  # {time.time() - t0:.0f}s" + "".join(f" {key}={v}" for key, v in extras.items())
              + (f" failed_checks={','.join(failed)}" if failed else ""), file=sys.stderr, flush=True)
        if failed:
            for text in c.problems()[-8:]:
                print(f"  # {text[:300]}", file=sys.stderr)
        return not failed
    except (Timeout, OSError, subprocess.SubprocessError, ValueError) as e:
        print(Counts().line(sc, "FAIL"), flush=True)
        print(f"  # {sc.name}: {e}", file=sys.stderr, flush=True)
        for text in c.problems()[-8:]:
            print(f"  # {text[:300]}", file=sys.stderr)
        return False
    finally:
        if cron:
            cron.stopping.set()
            cron.join(timeout=5)
        c.close()


def copy_binaries(src: Path, dest: Path):
    """Copies jobrun, jobctl and jobmond once none of them has changed for 2 s (a rebuild may be
    writing them), then checks the copies start."""
    names = ("jobrun", "jobctl", "jobmond")

    def settled():
        try:
            return all(time.time() - (src / n).stat().st_mtime > 2 and os.access(src / n, os.X_OK) for n in names)
        except OSError:
            return False
    wait_for(f"{', '.join(names)} in {src}", settled, 300, 1.0)
    dest.mkdir()
    for n in names:
        shutil.copy2(src / n, dest / n)
    for n in ("jobrun", "jobctl"):
        subprocess.run([str(dest / n), "--version"], env=BASE_ENV, capture_output=True, timeout=30, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--short", action="store_true", help="the cheap subset, 16-32 ticks each (default)")
    mode.add_argument("--full", action="store_true", help="every scenario, 190 ticks each (about 110 minutes)")
    ap.add_argument("--bin", default=os.environ.get("JOBWATCH_BIN") or str(REPO / ".build/debug"))
    ap.add_argument("--only", default="", help="comma-separated scenario names")
    args = ap.parse_args()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    atexit.register(cleanup)
    chosen = [s for s in SCENARIOS if (args.full or s.in_short)]
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {s.name for s in SCENARIOS}
        if unknown:
            ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
        chosen = [s for s in SCENARIOS if s.name in names]
    for tool in ("redis-server", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"faults: {tool} not found (apt-get install redis-server)")

    passed = failed = 0
    try:
        root = Path(tempfile.mkdtemp(prefix="jobwatch-faults."))
        STATE["root"] = root
        copy_binaries(Path(args.bin).resolve(), root / "bin")
        for sc in chosen:
            ticks = sc.full if args.full else sc.short
            if run_scenario(sc, ticks, root, root / "bin"):
                passed += 1
            else:
                failed += 1
    finally:
        cleanup()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
