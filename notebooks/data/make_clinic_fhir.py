"""Writes the clinician notebook's FHIR R4 / JP Core fixture (synthetic people, invented).

    python notebooks/data/make_clinic_fhir.py

clinic.ndjson: twelve invented patients of one clinic with yearly check-ups (特定健診) from
FY2019 to FY2024: HbA1c and fasting glucose (JLAC10), blood pressure (LOINC panel), BMI, lipids
and eGFR, diagnoses (ICD-10) and prescriptions (YJ codes), JP Core profiles in `meta`.
new_observation.ndjson: one later HbA1c and fasting glucose of the first patient, far above
the record: the reading the notebook's twin is asked to score. No name, address or free text:
nothing identifying, even invented (the importer drops such fields anyway).
"""

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
JLAC10 = "urn:oid:1.2.392.200119.4.504"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full"
YJ = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code"
PROFILE = "http://jpfhir.jp/fhir/core/StructureDefinition/"

# id, sex, birth date, HbA1c at FY2019 and its change per year, SBP, LDL, BMI, diagnoses, drugs
PATIENTS = [
    ("cl-0001", "male", "1962-07-14", 5.8, 0.10, 144, 152, 26.4, ["I10"], []),
    ("cl-0002", "female", "1955-03-02", 5.6, 0.02, 132, 138, 22.1, [], []),
    ("cl-0003", "male", "1949-11-21", 6.9, 0.05, 150, 118, 24.8, ["E11.9", "I10"], ["3962002F1029", "2171022F1020"]),
    ("cl-0004", "female", "1958-09-09", 5.4, 0.00, 122, 165, 21.0, ["E78.5"], ["2189015F1020"]),
    ("cl-0005", "male", "1966-01-30", 6.0, 0.08, 138, 141, 28.9, [], []),
    ("cl-0006", "female", "1947-05-17", 5.9, 0.03, 156, 127, 23.5, ["I10"], ["2171022F1020"]),
    ("cl-0007", "male", "1953-12-04", 7.4, 0.06, 136, 109, 25.2, ["E11.9"], ["3962002F1029"]),
    ("cl-0008", "female", "1961-08-26", 5.5, 0.01, 118, 133, 20.4, [], []),
    ("cl-0009", "male", "1957-02-11", 5.7, 0.04, 148, 158, 27.3, ["I10", "E78.5"], ["2171022F1020", "2189015F1020"]),
    ("cl-0010", "female", "1951-10-19", 6.2, 0.07, 141, 146, 25.9, [], []),
    ("cl-0011", "male", "1969-06-06", 5.5, 0.02, 128, 129, 23.0, [], []),
    ("cl-0012", "female", "1945-04-28", 6.4, 0.04, 152, 121, 22.7, ["E11.9", "I10"], ["3962002F1029"]),
]

_seq = 0


def rid(prefix):
    global _seq
    _seq += 1
    return f"{prefix}{_seq:05d}"


def quantity(value, unit, code):
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def lab(pid, date, jlac10, value, unit, ucum):
    return {
        "resourceType": "Observation", "id": rid("o"),
        "meta": {"profile": [PROFILE + "JP_Observation_LabResult"]},
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": JLAC10, "code": jlac10}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": f"{date}T09:10:00+09:00",
        "valueQuantity": quantity(value, unit, ucum),
    }


def vital(pid, date, loinc, value, unit, ucum):
    return {
        "resourceType": "Observation", "id": rid("o"),
        "meta": {"profile": [PROFILE + "JP_Observation_VitalSigns"]},
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": f"{date}T09:00:00+09:00",
        "valueQuantity": quantity(value, unit, ucum),
    }


def bp(pid, date, sbp, dbp):
    r = vital(pid, date, "85354-9", 0, "", "")
    del r["valueQuantity"]
    r["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": quantity(sbp, "mmHg", "mm[Hg]")},
        {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, "valueQuantity": quantity(dbp, "mmHg", "mm[Hg]")},
    ]
    return r


def checkup(pid, date, hba1c, fpg, sbp, dbp, ldl, hdl, bmi, egfr):
    return [
        lab(pid, date, "3D046000001906202", hba1c, "%", "%"),
        lab(pid, date, "3D010000001926101", fpg, "mg/dL", "mg/dL"),
        lab(pid, date, "3F077000002327101", ldl, "mg/dL", "mg/dL"),
        lab(pid, date, "3F070000002327101", hdl, "mg/dL", "mg/dL"),
        lab(pid, date, "8A065000002391901", egfr, "mL/min/{1.73_m2}", "mL/min/{1.73_m2}"),
        lab(pid, date, "9N011000000000001", bmi, "kg/m2", "kg/m2"),
        bp(pid, date, sbp, dbp),
    ]


def fpg_of(hba1c, rng):
    # An HbA1c-consistent fasting glucose (ADAG-like line) with noise: data, not a model.
    return round(28.7 * hba1c - 46.7 - 25 + rng.gauss(0, 5))


def main():
    rng = random.Random(23)
    lines = []
    for k, (pid, sex, birth, a1c0, a1c_slope, sbp0, ldl0, bmi0, dx, rx) in enumerate(PATIENTS):
        lines.append({
            "resourceType": "Patient", "id": pid,
            "meta": {"profile": [PROFILE + "JP_Patient"]},
            "gender": sex, "birthDate": birth,
        })
        for code in dx:
            lines.append({
                "resourceType": "Condition", "id": rid("c"),
                "meta": {"profile": [PROFILE + "JP_Condition"]},
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
                "code": {"coding": [{"system": ICD10, "code": code}]},
                "subject": {"reference": f"Patient/{pid}"},
                "onsetDateTime": "2017-04-01",
            })
        for code in rx:
            lines.append({
                "resourceType": "MedicationStatement", "id": rid("m"),
                "meta": {"profile": [PROFILE + "JP_MedicationStatement"]},
                "status": "active",
                "medicationCodeableConcept": {"coding": [{"system": YJ, "code": code}]},
                "subject": {"reference": f"Patient/{pid}"},
                "effectivePeriod": {"start": "2018-04-01"},
            })
        for year in range(2019, 2025):
            t = year - 2019
            date = f"{year}-{5 + k % 4:02d}-{10 + k:02d}"
            hba1c = round(a1c0 + a1c_slope * t + rng.gauss(0, 0.08), 1)
            sbp = round(sbp0 + 0.8 * t + rng.gauss(0, 5))
            lines += checkup(
                pid, date, hba1c, fpg_of(hba1c, rng), sbp, round(sbp * 0.6 + rng.gauss(0, 3)),
                round(ldl0 + rng.gauss(0, 8)), round(55 + rng.gauss(0, 6)),
                round(bmi0 + 0.05 * t + rng.gauss(0, 0.3), 1), round(78 - 0.8 * t + rng.gauss(0, 3)),
            )
    (HERE / "clinic.ndjson").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))

    # The new reading: the first patient's check-up of FY2025.
    pid, date = PATIENTS[0][0], "2025-05-12"
    new = [lab(pid, date, "3D046000001906202", 7.6, "%", "%"), lab(pid, date, "3D010000001926101", 158, "mg/dL", "mg/dL")]
    (HERE / "new_observation.ndjson").write_text("".join(json.dumps(r) + "\n" for r in new))


if __name__ == "__main__":
    main()
