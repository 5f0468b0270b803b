"""Validates SARIF files against the OASIS SARIF 2.1.0 JSON schema with jsonschema (PyPI).

The schema is the one Microsoft ships in the npm package @microsoft/sarif-multitool-linux;
scripts/test fetches it into tests/sarif/sarif-2.1.0.json (ignored by git).
Usage: python validate.py FILE...  — prints each error and exits 1 when any file has one.
"""

import json
import pathlib
import sys

import jsonschema

SCHEMA = pathlib.Path(__file__).with_name("sarif-2.1.0.json")


def main(paths: list[str]) -> int:
    if not SCHEMA.exists():
        print(f"{SCHEMA} is missing: run scripts/test, which fetches it", file=sys.stderr)
        return 2
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    bad = 0
    for p in paths:
        doc = json.loads(pathlib.Path(p).read_text())
        for e in validator.iter_errors(doc):
            bad += 1
            where = "/".join(str(x) for x in e.absolute_path)
            print(f"{p}: {where}: {e.message}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
