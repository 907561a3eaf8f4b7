"""Validates healthtwin's FHIR output against the FHIR R4 (4.0.1) resource models of the
`fhir.resources` package, version 6.1.0 (the last release whose default models are R4,
4.0.1; later releases default to R4B/R5). Each resource is parsed by its pydantic model,
which checks element names (no unknown elements), cardinalities, required elements,
primitive formats (id, dateTime, decimal, uri) and choice types; a Bundle is parsed with
every entry's resource. Usage: validate_r4.py FILE.ndjson|FILE.json ... ; exit 1 on any
invalid resource, printing the resource type, id and the validation error.
"""
import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element

assert fhir.resources.__fhir_version__ == "4.0.1", fhir.resources.__fhir_version__


def check(resource, where):
    try:
        construct_fhir_element(resource["resourceType"], resource)
        return 0
    except Exception as e:  # noqa: BLE001 - report every validation failure
        print(f"{where}: {resource.get('resourceType')}/{resource.get('id')}: {e}")
        return 1


def main(paths):
    bad = 0
    count = 0
    for p in paths:
        if p.endswith(".ndjson"):
            with open(p, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        count += 1
                        bad += check(json.loads(line), f"{p}:{n}")
        else:
            with open(p, encoding="utf-8") as f:
                doc = json.load(f)
            count += 1 + len(doc.get("entry", []))
            bad += check(doc, p)
    print(f"{count} resources checked against FHIR R4 4.0.1 (fhir.resources {fhir.resources.__version__}), {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
