#!/usr/bin/env python3
"""Redis helpers for benchmarks/jobmond-load.sh, over raw sockets (no client library).

  stream.py load PORT KEY JOBS EVENTS   pipelined XADD of EVENTS start/finish events for JOBS
                                        jobs in RunEvent.swift's field order, then wait until
                                        group `jobmond` has applied them all; prints JSON
  stream.py wait PORT KEY [TIMEOUT]     wait until the group has caught up with the stream
  stream.py reports PORT KEY JOBS...    one start+finish for each job, scheduled_for the
                                        latest 10 s occurrence (resolves a missed incident)
"""
import json, socket, sys, time, threading


def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(1 << 16)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+": return rest.decode()
        if t == b"-": raise RuntimeError(rest.decode())
        if t == b":": return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0: return None
            while len(self.buf) < n + 2: self.buf += self.s.recv(1 << 16)
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def cmd(self, *args):
        self.s.sendall(resp(args))
        return self.reply()


def ts(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def xadd(key, kind, job, run_id, now_ms, scheduled=""):
    head = ["XADD", key, "MAXLEN", "~", "1000000", "*", "type", kind, "job", job, "run_id", run_id,
            "host", "loader", "ts", ts(now_ms)]
    if kind == "start":
        body = ["pid", "4242", "started_at", ts(now_ms), "scheduled_for", scheduled, "fence", "1", "command", "true"]
    else:
        body = ["finished_at", ts(now_ms), "exit_code", "0", "signal", "", "duration_ms", "12",
                "outcome", "success", "output_tail", ""]
    return resp(head + body)


def group_info(c, key):
    for g in c.cmd("XINFO", "GROUPS", key) or []:
        d = dict(zip(g[::2], g[1::2]))
        if d.get("name") == "jobmond": return d
    return {}


def caught_up(c, key, last_id):
    d = group_info(c, key)
    return d.get("last-delivered-id") == last_id and d.get("pending") == 0, d


def wait(port, key, timeout=600.0):
    c = Conn(port)
    last = c.cmd("XINFO", "STREAM", key)
    last_id = dict(zip(last[::2], last[1::2]))["last-generated-id"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        ok, d = caught_up(c, key, last_id)
        if ok: return True
        time.sleep(0.01)
    return False


def load(port, key, jobs, events):
    rounds = events // (2 * jobs)
    now = int(time.time() * 1000)
    chunks = []
    for r in range(rounds):   # every job starts, then every job finishes, round after round
        chunks.append(b"".join(xadd(key, "start", "stream-%d" % j, "s%d-%d" % (r, j), now + r) for j in range(jobs)))
        chunks.append(b"".join(xadd(key, "finish", "stream-%d" % j, "s%d-%d" % (r, j), now + r + 1) for j in range(jobs)))
    n = rounds * jobs * 2
    data = b"".join(chunks)
    c = Conn(port)
    poll = Conn(port)
    t0 = time.perf_counter()
    sender = threading.Thread(target=c.s.sendall, args=(data,))
    sender.start()
    last_id = None
    errors = 0
    for _ in range(n):
        try: last_id = c.reply()
        except RuntimeError: errors += 1
    t_accepted = time.perf_counter()
    sender.join()
    polls = 0
    while True:
        ok, d = caught_up(poll, key, last_id)
        polls += 1
        if ok: break
        time.sleep(0.005)
    t_applied = time.perf_counter()
    print(json.dumps({"events": n, "errors": errors, "bytes": len(data), "accept_s": t_accepted - t0,
                      "apply_s": t_applied - t0, "last_id": last_id, "polls": polls}))


def reports(port, key, jobs):
    now = int(time.time() * 1000)
    occurrence = now // 10000 * 10000
    c = Conn(port)
    data = b"".join(xadd(key, "start", j, "r%d-%s" % (now, j), now, ts(occurrence)) +
                    xadd(key, "finish", j, "r%d-%s" % (now, j), now + 1) for j in jobs)
    c.s.sendall(data)
    for _ in range(2 * len(jobs)): c.reply()
    print(occurrence)


if __name__ == "__main__":
    cmd, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if cmd == "load": load(port, key, int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "wait": sys.exit(0 if wait(port, key, float(sys.argv[4]) if len(sys.argv) > 4 else 600) else 1)
    elif cmd == "reports": reports(port, key, sys.argv[4:])
