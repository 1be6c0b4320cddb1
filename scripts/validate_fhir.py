#!/usr/bin/env python3
"""Validate FHIR batches written by `accessline export --format fhir` (plaintext).

Each file holds one transaction Bundle per line (NDJSON). Every bundle is validated with the
independent `fhir.resources` package (8.x), using its R4B models (its default models are R5);
each entry's resource is validated again as its own type. That package checks structure,
cardinalities and value formats, not code values: the Rust tests check those.

Usage: validate_fhir.py FILE...   (exit 0: all valid; 1: some invalid; 2: bad usage)
"""
import json
import sys


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        from fhir.resources.R4B import get_fhir_model_class
        from fhir.resources.R4B.bundle import Bundle
    except ImportError as e:
        print(f"validate_fhir: fhir.resources is not installed ({e})", file=sys.stderr)
        return 2
    bundles = resources = 0
    errors = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    data = json.loads(line)
                    Bundle.model_validate(data)
                    for entry in data.get("entry", []):
                        resource = entry["resource"]
                        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
                        resources += 1
                    bundles += 1
                except Exception as e:  # report every invalid bundle, then fail
                    errors.append(f"{where}: {e}")
    for e in errors:
        print(e, file=sys.stderr)
    print(
        f"fhir.resources R4B: {bundles} bundles valid, {len(errors)} invalid"
        f" ({resources} resources checked)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
