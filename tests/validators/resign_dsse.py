"""Replaces the payload of one DSSE envelope in a *.intoto.jsonl file and signs it
again with an OpenSSH Ed25519 private key, by the `cryptography` library: the
forger who holds the release key, or a test that needs a well-signed statement
saying something else.

usage: python resign_dsse.py IN.jsonl LINE PAYLOAD.json KEY OUT.jsonl
  LINE is 1-based; the other lines are copied unchanged.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import serialization

src, line_no, payload_path, key_path, out = sys.argv[1:6]
with open(key_path, "rb") as f:
    key = serialization.load_ssh_private_key(f.read(), password=None)
with open(payload_path, "rb") as f:
    payload = f.read()
with open(src, encoding="utf-8") as f:
    lines = [l for l in f.read().split("\n") if l]
n = int(line_no) - 1
env = json.loads(lines[n])
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
env["payload"] = base64.b64encode(payload).decode()
env["signatures"][0]["sig"] = base64.b64encode(key.sign(pae)).decode()
lines[n] = json.dumps(env, separators=(",", ":"))
with open(out, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
