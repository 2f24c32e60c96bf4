#!/usr/bin/env python3
"""Loopback stand-ins for PagerDuty Events v2, a Slack incoming webhook and a generic webhook.

    alert_receiver.py PORT_FILE RECORD_FILE SCRIPT_FILE

Serves POST /pd, /slack and /hook on a free 127.0.0.1 port (written to PORT_FILE). Every
request is validated strictly against what the real service accepts and appended to
RECORD_FILE as one JSON line: {"t", "path", "status", "body", "problems"}. An invalid request
is answered 400 with the problems, as the real services do.

SCRIPT_FILE (JSON, re-read on every request) scripts failures: {"/pd": [500, 500, "429:1"]}
answers the next three requests to /pd with 500, 500, then 429 with `Retry-After: 1`; the
list is consumed. {"/hook": {"until": EPOCH, "cycle": ["429:1", 500]}} answers every request
before EPOCH with the next answer of the cycle (an outage of a given length). Without a
script: PagerDuty 202, Slack 200 "ok", webhook 200.
"""
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
PD_ACTIONS = {"trigger", "acknowledge", "resolve"}
PD_SEVERITIES = {"critical", "error", "warning", "info"}
PD_TOP = {"routing_key", "event_action", "dedup_key", "payload", "links", "images", "client", "client_url"}
PD_PAYLOAD = {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SLACK_BLOCKS = {"header", "section", "context", "divider", "actions", "image", "rich_text"}
WEBHOOK_KEYS = {"event", "job", "state", "previous_state", "occurrence", "run", "monitor_url"}


def is_str(value, limit=None, empty=False):
    return isinstance(value, str) and (empty or value != "") and (limit is None or len(value) <= limit)


def check_pagerduty(body):
    p = []
    if not isinstance(body, dict):
        return ["body is not an object"]
    p += [f"unknown key {k}" for k in body if k not in PD_TOP]
    if not (is_str(body.get("routing_key")) and len(body["routing_key"]) == 32):
        p.append("routing_key must be a 32-character string")
    action = body.get("event_action")
    if action not in PD_ACTIONS:
        p.append(f"event_action {action!r} not in {sorted(PD_ACTIONS)}")
    if "dedup_key" in body and not is_str(body["dedup_key"], 255):
        p.append("dedup_key must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not is_str(body.get("dedup_key")):
        p.append(f"{action} needs dedup_key")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            return p + ["trigger needs payload"]
        p += [f"unknown payload key {k}" for k in payload if k not in PD_PAYLOAD]
        if not is_str(payload.get("summary"), 1024):
            p.append("payload.summary must be 1-1024 characters")
        if not is_str(payload.get("source"), 255):
            p.append("payload.source must be a non-empty string")
        if payload.get("severity") not in PD_SEVERITIES:
            p.append(f"payload.severity {payload.get('severity')!r} not in {sorted(PD_SEVERITIES)}")
        if "timestamp" in payload and not (is_str(payload["timestamp"]) and RFC3339.match(payload["timestamp"])):
            p.append("payload.timestamp must be ISO 8601")
        for key in ("component", "group", "class"):
            if key in payload and not is_str(payload[key], empty=True):
                p.append(f"payload.{key} must be a string")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            p.append("payload.custom_details must be an object")
    for link in body.get("links", []) or []:
        if not (isinstance(link, dict) and is_str(link.get("href")) and set(link) <= {"href", "text"}):
            p.append("links entries need href (and optional text) only")
    return p


def check_text(obj, where, limit, plain_only=False):
    if not isinstance(obj, dict):
        return [f"{where}: not a text object"]
    p = [f"{where}: unknown key {k}" for k in obj if k not in ("type", "text", "emoji", "verbatim")]
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        p.append(f"{where}: type {obj.get('type')!r} not in {kinds}")
    if not is_str(obj.get("text"), limit):
        p.append(f"{where}: text must be 1-{limit} characters")
    if "emoji" in obj and obj.get("type") != "plain_text":
        p.append(f"{where}: emoji is only valid on plain_text")
    return p


def check_slack(body):
    if not isinstance(body, dict):
        return ["body is not an object"]
    p = [f"unknown key {k}" for k in body if k not in ("text", "blocks")]
    if "text" in body and not is_str(body["text"], 40000, empty=True):
        p.append("text must be a string")
    blocks = body.get("blocks")
    if blocks is None:
        return p + ([] if is_str(body.get("text")) else ["no text and no blocks"])
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return p + ["blocks must be a list of 1-50 blocks"]
    for i, b in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(b, dict) or b.get("type") not in SLACK_BLOCKS:
            p.append(f"{where}: unknown block type")
            continue
        kind = b["type"]
        allowed = {"header": {"type", "text", "block_id"}, "section": {"type", "text", "fields", "accessory", "block_id"},
                   "context": {"type", "elements", "block_id"}, "divider": {"type", "block_id"}}.get(kind, set(b))
        p += [f"{where}: unknown key {k}" for k in b if k not in allowed]
        if kind == "header":
            p += check_text(b.get("text"), where + ".text", 150, plain_only=True)
        elif kind == "section":
            if "text" not in b and "fields" not in b:
                p.append(f"{where}: section needs text or fields")
            if "text" in b:
                p += check_text(b["text"], where + ".text", 3000)
            if "fields" in b:
                if not isinstance(b["fields"], list) or not 1 <= len(b["fields"]) <= 10:
                    p.append(f"{where}: fields must be 1-10 items")
                else:
                    for j, f in enumerate(b["fields"]):
                        p += check_text(f, f"{where}.fields[{j}]", 2000)
        elif kind == "context":
            elements = b.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                p.append(f"{where}: context needs 1-10 elements")
            else:
                for j, e in enumerate(elements):
                    p += check_text(e, f"{where}.elements[{j}]", 3000)
    return p


DIGEST_KEYS = {"event", "alert_event", "kind", "count", "jobs", "alerts", "part", "parts", "monitor_url"}


OUTAGE_KEYS = {"event", "action", "from", "to", "jobs", "summary", "monitor_url"}
HOST_SILENT_KEYS = {"event", "action", "host", "last_heard", "jobs_on_host", "jobs", "summary", "monitor_url"}


def check_webhook(body):
    if not isinstance(body, dict):
        return ["body is not an object"]
    if body.get("event") in ("monitor_down", "host_silent"):
        event = body["event"]
        keys = OUTAGE_KEYS if event == "monitor_down" else HOST_SILENT_KEYS
        p = [f"{event}: unknown key {k}" for k in body if k not in keys]
        if body.get("action") not in (("trigger",) if event == "monitor_down" else ("trigger", "resolve")):
            p.append(f"{event}: action {body.get('action')!r}")
        times = ("from", "to") if event == "monitor_down" else (("last_heard",) if "last_heard" in body else ())
        p += [f"{event}: {k} must be RFC 3339" for k in times if not (is_str(body.get(k)) and RFC3339.match(body[k]))]
        if event == "host_silent" and not (is_str(body.get("host")) and isinstance(body.get("jobs_on_host"), int)):
            p.append("host_silent: host and jobs_on_host are required")
        if not (isinstance(body.get("jobs"), list) and body["jobs"] and all(is_str(j) for j in body["jobs"])):
            p.append(f"{event}: jobs must be a non-empty list of names")
        if not is_str(body.get("summary")):
            p.append(f"{event}: summary must be a non-empty string")
        return p
    if body.get("event") == "digest":
        p = [f"digest: missing key {k}" for k in DIGEST_KEYS if k not in body]
        p += [f"digest: unknown key {k}" for k in body if k not in DIGEST_KEYS | {"host"}]
        alerts = body.get("alerts")
        if not isinstance(alerts, list) or not alerts or len(alerts) != body.get("count"):
            return p + ["digest: alerts must be a non-empty list of count alerts"]
        if [a.get("job") if isinstance(a, dict) else None for a in alerts] != body.get("jobs"):
            p.append("digest: jobs must name the alerts' jobs in order")
        for i, alert in enumerate(alerts):
            p += [f"alerts[{i}]: {x}" for x in check_webhook(alert)]
            if isinstance(alert, dict) and alert.get("event") != body.get("alert_event"):
                p.append(f"alerts[{i}]: event differs from alert_event")
        return p
    p = [f"missing key {k}" for k in WEBHOOK_KEYS if k not in body]
    if body.get("event") not in ("trigger", "repeat", "resolve"):
        p.append(f"event {body.get('event')!r} not trigger/repeat/resolve")
    if not is_str(body.get("job")) or not is_str(body.get("state")):
        p.append("job and state must be non-empty strings")
    if body.get("run") is not None and not isinstance(body["run"], dict):
        p.append("run must be an object or null")
    return p


CHECKS = {"/pd": check_pagerduty, "/slack": check_slack, "/hook": check_webhook}
DEFAULTS = {"/pd": (202, b'{"status":"success","message":"Event processed"}'), "/slack": (200, b"ok"), "/hook": (200, b"{}")}


def scripted(path):
    """The next scripted answer for path, consumed from SCRIPT_FILE, or None."""
    try:
        with open(SCRIPT) as f:
            script = json.load(f)
    except (OSError, ValueError):
        return None
    queue = script.get(path) or []
    if isinstance(queue, dict):
        if time.time() >= queue.get("until", 0) or not queue.get("cycle"):
            return None
        n = queue.get("n", 0)
        queue["n"] = n + 1
        answer = queue["cycle"][n % len(queue["cycle"])]
    elif not queue:
        return None
    else:
        answer = queue.pop(0)
    with open(SCRIPT + ".tmp", "w") as f:
        json.dump(script, f)
    os.replace(SCRIPT + ".tmp", SCRIPT)
    return answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle on, the body waits for the client's delayed
    # ACK (40 ms per request on a kept-alive connection).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        check = CHECKS.get(self.path)
        problems = []
        if check is None:
            problems.append(f"unknown path {self.path}")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            problems.append(f"Content-Type is {self.headers.get('Content-Type')!r}, not application/json")
        try:
            body = json.loads(raw)
        except ValueError as e:
            body, problems = raw.decode("utf-8", "replace"), problems + [f"invalid JSON: {e}"]
        else:
            if check:
                problems += check(body)
        with LOCK:
            answer = None if problems else scripted(self.path)
            status, reply, headers = 400, json.dumps({"errors": problems}).encode(), {}
            if not problems:
                status, reply = DEFAULTS[self.path]
                if answer is not None:
                    code, _, after = str(answer).partition(":")
                    status, reply = int(code), f'{{"scripted":{code}}}'.encode()
                    if after:
                        headers["Retry-After"] = after
            with open(RECORD, "a") as f:
                f.write(json.dumps({"t": time.time(), "path": self.path, "status": status, "body": body,
                                    "problems": problems}) + "\n")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


if __name__ == "__main__":
    PORT_FILE, RECORD, SCRIPT = sys.argv[1:4]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()
