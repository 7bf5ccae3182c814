"""Validates a CycloneDX JSON file with cyclonedx-python-lib's JsonStrictValidator.

usage: python validate_cyclonedx.py FILE SPEC_VERSION    (exit 0 valid, 1 invalid)
"""
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

path, version = sys.argv[1], sys.argv[2]
schema = {"1.7": SchemaVersion.V1_7, "1.6": SchemaVersion.V1_6, "1.5": SchemaVersion.V1_5}[version]
with open(path, encoding="utf-8") as f:
    error = JsonStrictValidator(schema).validate_str(f.read())
if error is not None:
    print(f"{path}: invalid CycloneDX {version}: {error}")
    sys.exit(1)
print(f"{path}: valid CycloneDX {version}")
