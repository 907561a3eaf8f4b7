//! FHIR R4 (4.0.1) output: the person (`Patient`, JP Core profile, the pseudonym as id and
//! identifier, no name or birth date), the readings the twin used (`Observation`, LOINC),
//! healthtwin as the `Device` that made the assessment, one `RiskAssessment` per outcome and
//! horizon (usual care as the first `prediction`; each counterfactual as a further
//! `prediction` with the intervention in `rationale` and in a healthtwin extension, and the
//! relative risk against usual care), and alerts as `Flag` resources (docs/twin.md says why
//! Flag and not DetectedIssue). As NDJSON (one resource per line, Bulk Data style, relative
//! references `Patient/<id>`) and as a transaction Bundle (PUT of each resource, so a
//! server resolves the same references).
//!
//! Must never: write a name, a raw identifier or free text from the input.

use cohort::import::date;
use serde_json::{json, Value};

use crate::alerts::Alert;
use crate::forecast::{kind_label, Outcome};
use crate::output::HORIZONS;
use crate::person::{Quantity, DAYS_PER_YEAR};
use crate::Twin;

/// JP Core Patient profile.
pub const JP_PATIENT: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";
/// Base of healthtwin's own code systems and extensions.
pub const HEALTHTWIN: &str = "urn:healthtwin";
/// The extension that names a counterfactual's interventions on a prediction.
pub const EXT_INTERVENTION: &str =
    "urn:healthtwin:fhir:StructureDefinition:counterfactual-intervention";
/// R4 core extension: the record a Flag is about.
pub const EXT_FLAG_DETAIL: &str = "http://hl7.org/fhir/StructureDefinition/flag-detail";

/// A FHIR id from a pseudonym or label: `[A-Za-z0-9.-]{1,64}`.
pub fn fhir_id(s: &str) -> String {
    let mut id: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if id.is_empty() {
        id.push('x');
    }
    id
}

fn day_string(index_day: Option<i32>, t_years: f64) -> Option<String> {
    index_day.map(|d| date::format_day(d + (t_years * DAYS_PER_YEAR).round() as i32))
}

/// Every resource of a twin (Patient, Device, Observations, RiskAssessments, Flags).
pub fn resources(t: &Twin, alerts: &[Alert]) -> Vec<Value> {
    let pid = fhir_id(&t.person.label);
    let patient_ref = format!("Patient/{pid}");
    let device_id = "healthtwin-twin";
    let mut out = vec![
        json!({
            "resourceType": "Patient",
            "id": pid,
            "meta": {"profile": [JP_PATIENT]},
            "identifier": [{"system": format!("{HEALTHTWIN}:pseudonym"), "value": t.person.label}],
            "gender": t.person.sex.name(),
        }),
        json!({
            "resourceType": "Device",
            "id": device_id,
            "deviceName": [{"name": "healthtwin personal digital twin", "type": "model-name"}],
            "version": [{"value": env!("CARGO_PKG_VERSION")}],
        }),
    ];
    // The readings used (at most the latest 200), as Observations the assessments cite.
    let mut obs_refs: Vec<Value> = Vec::new();
    let readings: Vec<_> = t
        .person
        .observations
        .iter()
        .filter(|o| o.t_years <= 1e-9)
        .collect();
    let skip = readings.len().saturating_sub(200);
    for (i, o) in readings.iter().enumerate().skip(skip) {
        let id = format!("{pid}-obs-{}", i + 1);
        let (code, display) = o.quantity.loinc();
        let system = if o.quantity == Quantity::Fi {
            HEALTHTWIN.to_string()
        } else {
            "http://loinc.org".to_string()
        };
        let category = match o.quantity {
            Quantity::Sbp | Quantity::Bmi => "vital-signs",
            Quantity::Fi => "survey",
            _ => "laboratory",
        };
        let (unit, ucum) = match o.quantity {
            Quantity::Hba1c => ("%", "%"),
            Quantity::Fpg | Quantity::Ldl => ("mg/dL", "mg/dL"),
            Quantity::Sbp => ("mmHg", "mm[Hg]"),
            Quantity::Bmi => ("kg/m2", "kg/m2"),
            Quantity::Fi => ("1", "1"),
        };
        let mut r = json!({
            "resourceType": "Observation",
            "id": id,
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}],
            "code": {"coding": [{"system": system, "code": code, "display": display}]},
            "subject": {"reference": patient_ref},
            "valueQuantity": {"value": round(o.value, 4), "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum},
        });
        if let Some(d) = day_string(t.person.index_day, o.t_years) {
            r["effectiveDateTime"] = json!(d);
        }
        obs_refs.push(json!({"reference": format!("Observation/{id}")}));
        out.push(r);
    }
    let fc = &t.forecast;
    let base = &fc.arms[0];
    let when = day_string(t.person.index_day, 0.0);
    for o in Outcome::ALL {
        for h in HORIZONS {
            if h > f64::from(fc.years) {
                continue;
            }
            let r0 = base.risk(o, h);
            if !r0.is_finite() {
                continue;
            }
            let (code, display) = o.snomed();
            let system = if code.starts_with("virtual") {
                HEALTHTWIN
            } else {
                "http://snomed.info/sct"
            };
            let when_range = json!({
                "low": {"value": 0, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"},
                "high": {"value": h, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"},
            });
            let outcome = json!({"coding": [{"system": system, "code": code, "display": display}], "text": o.label(false)});
            let mut predictions = vec![json!({
                "outcome": outcome,
                "probabilityDecimal": round(r0, 4),
                "whenRange": when_range,
                "rationale": "usual care (no intervention started at the index date)",
            })];
            for arm in &fc.arms[1..] {
                let r = arm.risk(o, h);
                if !r.is_finite() {
                    continue;
                }
                let names: Vec<&str> = arm
                    .counterfactual
                    .kinds
                    .iter()
                    .map(|k| kind_label(*k, false))
                    .collect();
                let mut p = json!({
                    "extension": arm.counterfactual.kinds.iter().map(|k| json!({
                        "url": EXT_INTERVENTION,
                        "valueCodeableConcept": {"coding": [{"system": format!("{HEALTHTWIN}:intervention"), "code": k.name(), "display": kind_label(*k, false)}]},
                    })).collect::<Vec<_>>(),
                    "outcome": outcome,
                    "probabilityDecimal": round(r, 4),
                    "whenRange": when_range,
                    "rationale": format!("counterfactual: {} started at the index date", names.join(" + ")),
                });
                if r0 > 0.0 {
                    p["relativeRisk"] = json!(round(r / r0, 4));
                }
                predictions.push(p);
            }
            let id = format!("{pid}-risk-{}-{}y", o.name().replace('_', "-"), h as u32);
            let mut basis = vec![json!({"reference": patient_ref})];
            basis.extend(obs_refs.iter().cloned());
            let mut ra = json!({
                "resourceType": "RiskAssessment",
                "id": id,
                "status": "final",
                "method": {"coding": [{"system": format!("{HEALTHTWIN}:method"), "code": "personal-digital-twin", "display": "healthtwin personal digital twin (Bayesian personalisation, Monte Carlo microsimulation)"}]},
                "code": {"text": format!("{} within {} years", o.label(false), h)},
                "subject": {"reference": patient_ref},
                "performer": {"reference": format!("Device/{device_id}")},
                "basis": basis,
                "prediction": predictions,
                "note": [{"text": format!("Simulation estimate from {} futures of this person; Monte Carlo standard error about {:.3}.", fc.futures, (r0 * (1.0 - r0) / fc.futures as f64).sqrt())}],
            });
            if let Some(d) = &when {
                ra["occurrenceDateTime"] = json!(d);
            }
            out.push(ra);
        }
    }
    for (i, a) in alerts.iter().enumerate() {
        let s = &a.reading;
        let d = s.quantity.decimals();
        let text = format!(
            "{}: {} {} {:.d$} outside the twin's expected 90% band {:.d$}–{:.d$} ({}). {}",
            a.kind.name(),
            s.quantity.name(),
            if a.high { "high" } else { "low" },
            s.observed,
            s.lo90,
            s.hi90,
            format_args!("predictive p = {:.4}", s.p_two_sided()),
            a.action_en,
        );
        let mut flag = json!({
            "resourceType": "Flag",
            "id": format!("{pid}-alert-{}", i + 1),
            "status": "active",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": "clinical", "display": "Clinical"}]}],
            "code": {"coding": [{"system": format!("{HEALTHTWIN}:alert"), "code": format!("{}-{}", a.kind.name(), s.quantity.name())}], "text": text},
            "subject": {"reference": patient_ref},
            "author": {"reference": format!("Device/{device_id}")},
        });
        if let Some(day) = day_string(t.person.index_day, s.t_years) {
            flag["period"] = json!({"start": day});
        }
        // The reading the flag is about, when it is one of the Observations written.
        if let Some(pos) = readings
            .iter()
            .position(|o| o.quantity == s.quantity && (o.t_years - s.t_years).abs() < 1e-9)
        {
            if pos >= skip {
                flag["extension"] = json!([{"url": EXT_FLAG_DETAIL, "valueReference": {"reference": format!("Observation/{pid}-obs-{}", pos + 1)}}]);
            }
        }
        out.push(flag);
    }
    out
}

fn round(x: f64, decimals: i32) -> f64 {
    // Rust formats floats exactly (no platform libm): the same bits on every machine.
    format!("{:.*}", decimals.max(0) as usize, x)
        .parse()
        .unwrap_or(x)
}

/// Resources as NDJSON (one per line).
pub fn ndjson(resources: &[Value]) -> String {
    let mut s = String::new();
    for r in resources {
        s.push_str(&r.to_string());
        s.push('\n');
    }
    s
}

/// Resources as a transaction Bundle (each a PUT to its type and id).
pub fn bundle(resources: &[Value]) -> Value {
    let entries: Vec<Value> = resources
        .iter()
        .map(|r| {
            let ty = r["resourceType"].as_str().unwrap_or("");
            let id = r["id"].as_str().unwrap_or("");
            json!({
                "fullUrl": format!("urn:uuid:{}", uuid_of(&format!("{ty}/{id}"))),
                "resource": r,
                "request": {"method": "PUT", "url": format!("{ty}/{id}")},
            })
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

/// A deterministic UUID (version-4 layout) from a name: two FNV-1a hashes.
fn uuid_of(name: &str) -> String {
    let h = |seed: u64| {
        let mut x = seed;
        for b in name.bytes() {
            x ^= u64::from(b);
            x = x.wrapping_mul(0x0100_0000_01b3);
        }
        engine::rng::splitmix64(x)
    };
    let (a, b) = (h(0xcbf2_9ce4_8422_2325), h(0x8422_2325_cbf2_9ce4));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        a as u16 & 0x0fff,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}
