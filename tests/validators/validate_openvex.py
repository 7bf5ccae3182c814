"""Validates an OpenVEX document against the OpenVEX project's own JSON schema
(openvex_json_schema.json beside this file, copied from github.com/openvex/spec at
d29fab0, CC0 1.0) with the `jsonschema` package.

usage: python validate_openvex.py FILE    (exit 0 valid, 1 invalid)
"""
import json
import pathlib
import sys

import jsonschema

path = sys.argv[1]
schema = json.loads((pathlib.Path(__file__).parent / "openvex_json_schema.json").read_text())
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
if errors:
    for e in errors:
        print(f"{path}: invalid OpenVEX 0.2 at {list(e.path)}: {e.message}")
    sys.exit(1)
print(f"{path}: valid OpenVEX 0.2")
