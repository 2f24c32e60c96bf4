#!/usr/bin/env python3
"""Loopback Graylog stand-in for jobrun's end-to-end GELF tests.

  gelf_capture.py udp OUT        record every datagram (4-byte big-endian length + bytes)
  gelf_capture.py tcp OUT        record the raw TCP stream
  gelf_capture.py tcp-stall OUT  accept connections and never read from them

Prints the bound port on its first line, then runs until SIGTERM. Decoding and validation
are left to Tests/GELFTests/gelf_decode.py, which is written from the GELF spec.
"""
import signal
import socket
import struct
import sys
import threading

mode, out_path = sys.argv[1], sys.argv[2]
out = open(out_path, "wb")
lock = threading.Lock()
stop = threading.Event()
held = []


def finish(*_):
    stop.set()
    with lock:
        out.flush()
        out.close()
    sys.stdout.flush()
    raise SystemExit(0)


signal.signal(signal.SIGTERM, finish)

if mode == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1], flush=True)
    while True:
        data = s.recv(65536)
        with lock:
            out.write(struct.pack(">I", len(data)) + data)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)

    def drain(conn):
        while not stop.is_set():
            data = conn.recv(1 << 20)
            if not data:
                return
            with lock:
                if not out.closed:
                    out.write(data)

    while True:
        conn, _ = s.accept()
        if mode == "tcp-stall":
            held.append(conn)  # keep it open, read nothing
        else:
            threading.Thread(target=drain, args=(conn,), daemon=True).start()
