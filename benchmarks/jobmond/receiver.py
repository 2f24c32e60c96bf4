#!/usr/bin/env python3
"""Loopback webhook receiver: answers 200 at once and appends one JSON line per request
(arrival time, job, event, occurrence) to RECORD. Writes its port to PORTFILE."""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, record = sys.argv[1], sys.argv[2]
out = open(record, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        t = time.time()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        try: o = json.loads(body)
        except Exception: o = {}
        out.write(json.dumps({"t": t, "path": self.path, "job": o.get("job"), "event": o.get("event"),
                              "occurrence": o.get("occurrence")}) + "\n")

    def log_message(self, *a): pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f: f.write(str(server.server_address[1]))
import os; os.rename(portfile + ".tmp", portfile)
server.serve_forever()
