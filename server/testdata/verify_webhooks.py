#!/usr/bin/env python3
"""Verify Standard Webhooks deliveries, independently of shopscore's Go code.

Reads JSON lines from stdin, one delivery each:
  {"secret": "whsec_...", "id": ..., "timestamp": ..., "signature": ..., "body_b64": ...}
and prints one line per delivery: "ok <webhook-id>" when a v1 signature
matches HMAC-SHA256 over "id.timestamp.body" under the secret and the
timestamp is within five minutes of now, "bad <webhook-id> <why>" otherwise.
Only the standard library is used (hmac, hashlib, base64).
"""
import base64
import hashlib
import hmac
import json
import sys
import time

TOLERANCE = 5 * 60


def verify(d):
    secret = d["secret"]
    if not secret.startswith("whsec_"):
        return "secret without whsec_ prefix"
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id, ts = d["id"], d["timestamp"]
    if not ts.isdigit():
        return "timestamp is not Unix seconds"
    if abs(time.time() - int(ts)) > TOLERANCE:
        return "stale timestamp"
    body = base64.b64decode(d["body_b64"])
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in d["signature"].split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig, want):
            return None
    return "no signature matches"


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        d = json.loads(line)
        why = verify(d)
        if why is None:
            print("ok", d["id"])
        else:
            print("bad", d["id"], why)


if __name__ == "__main__":
    main()
