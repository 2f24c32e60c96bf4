#!/usr/bin/env python3
"""A stand-in for Graylog's GELF HTTP input, for GELFTests.

Listens on 127.0.0.1 (port printed on the first line of stdout), answers every POST with
202 like Graylog does, and prints one JSON line per request: the decoded GELF message, its
Content-Encoding, and the client port (equal ports mean a reused keep-alive connection).
Exits after --count requests or 10 s.
"""
import gzip
import json
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
seen = []
done = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        print(json.dumps({"message": json.loads(body), "encoding": encoding,
                          "content_type": self.headers.get("Content-Type"),
                          "client_port": self.client_address[1]}), flush=True)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        seen.append(1)
        if len(seen) >= count:
            done.set()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
done.wait(10)
