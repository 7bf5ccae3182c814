"""Verifies DSSE envelopes of in-toto statements (one per line, as in
*.intoto.jsonl) with a public key, by the in-toto project's own libraries:
securesystemslib's DSSE Envelope and in-toto 3.x's Envelope each verify every
signature over DSSE's PAE with the key read from an OpenSSH public key file; then
in-toto-attestation's bindings validate each Statement v1 and parse an SLSA
Provenance v1 predicate into its protobuf message, refusing unknown fields.

usage: python validate_dsse.py ENVELOPES.jsonl KEY.pub
  exit 0 and one JSON line per envelope ({keyid, predicateType, subjects}) when
  every envelope verifies and validates; exit 1 with the reason otherwise.
"""
import json
import sys

from cryptography.hazmat.primitives import serialization
from google.protobuf import json_format
from in_toto.models.metadata import Envelope as InTotoEnvelope
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

path, pub = sys.argv[1], sys.argv[2]
with open(pub, "rb") as f:
    crypto_key = serialization.load_ssh_public_key(f.read())

with open(path, encoding="utf-8") as f:
    lines = [l for l in f.read().split("\n") if l]
if not lines:
    print(f"{path}: no envelopes")
    sys.exit(1)
for n, line in enumerate(lines, 1):
    data = json.loads(line)
    if data.get("payloadType") != "application/vnd.in-toto+json":
        print(f"{path}:{n}: payloadType is {data.get('payloadType')!r}")
        sys.exit(1)
    keyid = data["signatures"][0]["keyid"]
    # The keyid only pairs a signature with a key here; the key is the trust.
    key = SSlibKey.from_crypto(crypto_key, keyid=keyid)
    try:
        Envelope.from_dict(json.loads(line)).verify([key], 1)
        InTotoEnvelope.from_dict(json.loads(line)).verify_signature(key.to_dict() | {"keyid": keyid})
    except Exception as e:  # noqa: BLE001 - any failure is a verdict
        print(f"{path}:{n}: the signature does not verify: {type(e).__name__}: {e}")
        sys.exit(1)
    env = Envelope.from_dict(json.loads(line))
    stmt_json = json.loads(env.payload)
    pb = json_format.ParseDict(stmt_json, statement_pb2.Statement())
    try:
        Statement.copy_from_pb(pb).validate()
    except ValueError as e:
        print(f"{path}:{n}: invalid in-toto Statement v1: {e}")
        sys.exit(1)
    if stmt_json["predicateType"] == "https://slsa.dev/provenance/v1":
        try:
            json_format.ParseDict(stmt_json["predicate"], provenance_pb2.Provenance())
        except json_format.ParseError as e:
            print(f"{path}:{n}: invalid SLSA Provenance v1: {e}")
            sys.exit(1)
    print(json.dumps({
        "keyid": keyid,
        "predicateType": stmt_json["predicateType"],
        "subjects": [s["name"] for s in stmt_json["subject"]],
    }))
