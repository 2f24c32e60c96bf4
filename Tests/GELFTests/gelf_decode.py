#!/usr/bin/env python3
"""Independent GELF 1.1 decoder and validator, written from the Graylog GELF documentation
(not from the Swift sender), used by GELFTests as a second opinion.

  gelf_decode.py udp FILE     FILE holds datagrams, each prefixed by a 4-byte big-endian length,
                              in any order. Reassembles chunks, inflates by magic bytes.
  gelf_decode.py tcp FILE     FILE holds a raw TCP stream: NUL-terminated JSON frames.
  gelf_decode.py graypy       Sends records with graypy (chunked and not) to a local UDP socket
                              and decodes what arrives, checking the decoder against a
                              third-party sender. graypy writes GELF 1.0 with null fields, so
                              its spec violations are listed under "violations", not fatal.

Prints one JSON object per line: {"ok": true, "message": {...}, "compression": "gzip"}
or {"ok": false, "error": "..."}.
"""
import gzip
import json
import os
import re
import socket
import struct
import sys
import zlib

CHUNK_MAGIC = b"\x1e\x0f"
FIELD_NAME = re.compile(r"^[\w\.\-]*$", re.ASCII)


def inflate(payload):
    if payload[:2] == b"\x1f\x8b":
        return gzip.decompress(payload), "gzip"
    if payload[:1] == b"\x78":
        return zlib.decompress(payload), "zlib"
    return payload, "none"


def validate(message):
    """The GELF 1.1 payload rules; returns a list of violations."""
    errors = []
    if not isinstance(message, dict):
        return ["not a JSON object"]
    if message.get("version") != "1.1":
        errors.append("version must be \"1.1\", got %r" % message.get("version"))
    if not isinstance(message.get("host"), str) or not message["host"]:
        errors.append("host must be a non-empty string")
    if not isinstance(message.get("short_message"), str) or not message["short_message"]:
        errors.append("short_message must be a non-empty string")
    for key in ("timestamp", "level"):
        if key in message and (isinstance(message[key], bool) or not isinstance(message[key], (int, float))):
            errors.append("%s must be a number" % key)
    if "timestamp" not in message:
        errors.append("timestamp missing")
    if "level" not in message:
        errors.append("level missing")
    for key, value in message.items():
        if key in ("version", "host", "short_message", "full_message", "timestamp", "level",
                   "facility", "line", "file"):
            continue
        if not key.startswith("_"):
            errors.append("additional field %r lacks the leading underscore" % key)
        if not FIELD_NAME.match(key):
            errors.append("field name %r does not match ^[\\w\\.\\-]*$" % key)
        if key == "_id":
            errors.append("_id is not allowed")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors.append("field %r must be a string or a number" % key)
    return errors


def decode_payload(payload, strict=True):
    try:
        text, compression = inflate(payload)
        message = json.loads(text.decode("utf-8"))
    except Exception as error:  # report, never crash: the test reads the verdict
        return {"ok": False, "error": "undecodable payload: %s" % error}
    errors = validate(message)
    if errors and not strict:
        return {"ok": True, "message": message, "compression": compression, "violations": errors}
    if errors:
        return {"ok": False, "error": "; ".join(errors), "message": message}
    return {"ok": True, "message": message, "compression": compression, "size": len(payload)}


def decode_datagrams(datagrams, strict=True):
    results = []
    pending = {}
    for datagram in datagrams:
        if datagram[:2] != CHUNK_MAGIC:
            results.append(decode_payload(datagram, strict))
            continue
        if len(datagram) < 12:
            results.append({"ok": False, "error": "chunk shorter than its header"})
            continue
        message_id, sequence, count = datagram[2:10], datagram[10], datagram[11]
        if count == 0 or count > 128:
            results.append({"ok": False, "error": "sequence count %d outside 1...128" % count})
            continue
        if sequence >= count:
            results.append({"ok": False, "error": "sequence number %d >= count %d" % (sequence, count)})
            continue
        group = pending.setdefault(message_id, {"count": count, "chunks": {}})
        if group["count"] != count:
            results.append({"ok": False, "error": "inconsistent sequence count for one message id"})
            continue
        if sequence in group["chunks"]:
            results.append({"ok": False, "error": "duplicate chunk %d" % sequence})
            continue
        group["chunks"][sequence] = datagram[12:]
        if len(group["chunks"]) == count:
            del pending[message_id]
            result = decode_payload(b"".join(group["chunks"][i] for i in range(count)), strict)
            result["chunks"] = count
            results.append(result)
    for message_id, group in pending.items():
        results.append({"ok": False, "error": "incomplete message %s: %d of %d chunks" % (
            message_id.hex(), len(group["chunks"]), group["count"])})
    return results


def read_datagrams(path):
    data = open(path, "rb").read()
    datagrams, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        datagrams.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    return datagrams


def decode_tcp(path):
    frames = open(path, "rb").read().split(b"\0")
    if frames and frames[-1] == b"":
        frames.pop()
    else:
        return [decode_payload(frame) for frame in frames[:-1]] + [
            {"ok": False, "error": "stream does not end with NUL"}]
    return [decode_payload(frame) for frame in frames]


def graypy_round_trip():
    try:
        import graypy
    except ImportError:
        print(json.dumps({"skip": "graypy is not installed (pip install graypy)"}))
        return
    import logging
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2)
    port = receiver.getsockname()[1]
    logger = logging.getLogger("jobwatch-crosscheck")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    small = graypy.GELFUDPHandler("127.0.0.1", port, debugging_fields=False, extra_fields=True,
                                  localname="web-01")
    chunked = graypy.GELFUDPHandler(
        "127.0.0.1", port, debugging_fields=False, extra_fields=True, localname="web-01",
        gelf_chunker=graypy.handler.GELFWarningChunker(chunk_size=200))
    extra = {"job": "nightly-report", "line": 7, "stream": "stdout"}
    logger.addHandler(small)
    logger.info("crosscheck short", extra=extra)
    logger.removeHandler(small)
    logger.addHandler(chunked)
    logger.info("crosscheck long " + os.urandom(1500).hex(), extra=extra)
    datagrams = []
    try:
        while True:
            datagrams.append(receiver.recv(65536))
    except socket.timeout:
        pass
    datagrams.reverse()  # reassembly must not depend on arrival order
    for result in decode_datagrams(datagrams, strict=False):
        print(json.dumps(result))


def main():
    mode = sys.argv[1]
    if mode == "udp":
        results = decode_datagrams(read_datagrams(sys.argv[2]))
    elif mode == "tcp":
        results = decode_tcp(sys.argv[2])
    elif mode == "graypy":
        return graypy_round_trip()
    else:
        raise SystemExit("unknown mode %s" % mode)
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
