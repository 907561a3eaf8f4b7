//! FHIR R4 input: Bulk Data NDJSON (one resource per line, any mix of types; a line may
//! also hold a Bundle) and Bundle JSON files. Resources read: Patient, Observation (labs,
//! vital signs, body measurements, questionnaire items, BP panels with components),
//! Condition, MedicationStatement / MedicationRequest / MedicationDispense, Encounter,
//! Consent. Other resource types are counted and ignored.
//!
//! Only the fields listed in the typed structs below are deserialised; names, addresses,
//! identifiers other than the reference used for linking, narrative text and notes are
//! skipped by the parser and never held.
//!
//! Must never: echo a JSON value in an error (serde's messages can contain values, so only
//! the error category and column are reported).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use engine::Sex;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::codes::{Mapping, System, Target};
use super::date::{self, Stamp};
use super::measure::ClinicalMeasure;
use super::{io_err, At, Format, ImportError, Importer, InputName, Val};

type S<'a> = Cow<'a, str>;

#[derive(Deserialize, Default)]
struct Coding<'a> {
    #[serde(borrow, default)]
    system: Option<S<'a>>,
    #[serde(borrow, default)]
    code: Option<S<'a>>,
}

#[derive(Deserialize, Default)]
struct CodeableConcept<'a> {
    #[serde(borrow, default)]
    coding: Vec<Coding<'a>>,
}

#[derive(Deserialize, Default)]
struct Reference<'a> {
    #[serde(borrow, default)]
    reference: Option<S<'a>>,
}

#[derive(Deserialize, Default)]
struct Period<'a> {
    #[serde(borrow, default)]
    start: Option<S<'a>>,
    #[serde(borrow, default)]
    end: Option<S<'a>>,
}

#[derive(Deserialize, Default)]
struct FhirQuantity<'a> {
    #[serde(default)]
    value: Option<f64>,
    #[serde(borrow, default)]
    unit: Option<S<'a>>,
    #[serde(borrow, default)]
    code: Option<S<'a>>,
}

#[derive(Deserialize, Default)]
struct Component<'a> {
    #[serde(borrow, default)]
    code: CodeableConcept<'a>,
    #[serde(borrow, default, rename = "valueQuantity")]
    value_quantity: Option<FhirQuantity<'a>>,
}

#[derive(Deserialize, Default)]
struct Provision<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<S<'a>>,
}

/// The union of the fields read from any resource type.
#[derive(Deserialize, Default)]
struct Resource<'a> {
    #[serde(borrow, default, rename = "resourceType")]
    resource_type: Option<S<'a>>,
    #[serde(borrow, default)]
    id: Option<S<'a>>,
    #[serde(borrow, default)]
    status: Option<S<'a>>,
    // Patient
    #[serde(borrow, default)]
    gender: Option<S<'a>>,
    #[serde(borrow, default, rename = "birthDate")]
    birth_date: Option<S<'a>>,
    #[serde(borrow, default, rename = "deceasedDateTime")]
    deceased_date_time: Option<S<'a>>,
    // Observation, Condition, Medication*, Encounter
    #[serde(borrow, default)]
    code: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    subject: Option<Reference<'a>>,
    #[serde(borrow, default)]
    patient: Option<Reference<'a>>,
    #[serde(borrow, default, rename = "effectiveDateTime")]
    effective_date_time: Option<S<'a>>,
    #[serde(borrow, default, rename = "effectiveInstant")]
    effective_instant: Option<S<'a>>,
    #[serde(borrow, default, rename = "effectivePeriod")]
    effective_period: Option<Period<'a>>,
    #[serde(borrow, default)]
    issued: Option<S<'a>>,
    #[serde(borrow, default, rename = "valueQuantity")]
    value_quantity: Option<FhirQuantity<'a>>,
    #[serde(borrow, default, rename = "valueCodeableConcept")]
    value_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(default, rename = "valueInteger")]
    value_integer: Option<i64>,
    #[serde(default, rename = "valueBoolean")]
    value_boolean: Option<bool>,
    #[serde(borrow, default)]
    component: Vec<Component<'a>>,
    #[serde(borrow, default, rename = "verificationStatus")]
    verification_status: Option<CodeableConcept<'a>>,
    #[serde(borrow, default, rename = "onsetDateTime")]
    onset_date_time: Option<S<'a>>,
    #[serde(borrow, default, rename = "onsetPeriod")]
    onset_period: Option<Period<'a>>,
    #[serde(borrow, default, rename = "recordedDate")]
    recorded_date: Option<S<'a>>,
    #[serde(borrow, default, rename = "medicationCodeableConcept")]
    medication_codeable_concept: Option<CodeableConcept<'a>>,
    #[serde(borrow, default, rename = "dateAsserted")]
    date_asserted: Option<S<'a>>,
    #[serde(borrow, default, rename = "authoredOn")]
    authored_on: Option<S<'a>>,
    #[serde(borrow, default, rename = "whenHandedOver")]
    when_handed_over: Option<S<'a>>,
    #[serde(borrow, default, rename = "whenPrepared")]
    when_prepared: Option<S<'a>>,
    #[serde(borrow, default)]
    period: Option<Period<'a>>,
    // Consent
    #[serde(borrow, default)]
    scope: Option<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    category: Vec<CodeableConcept<'a>>,
    #[serde(borrow, default)]
    provision: Option<Provision<'a>>,
    // Bundle
    #[serde(borrow, default)]
    entry: Vec<BundleEntry<'a>>,
}

#[derive(Deserialize)]
struct BundleEntry<'a> {
    #[serde(borrow, default, rename = "fullUrl")]
    full_url: Option<S<'a>>,
    #[serde(borrow, default)]
    resource: Option<&'a RawValue>,
}

/// Per-file reference aliases (Bundle `fullUrl` of a Patient → its id).
type Aliases = HashMap<String, String>;

/// Reads a FHIR file: a Bundle if its name ends in `.json` (or `.json.gz`), else NDJSON.
/// Gzip (Bulk Data exports usually arrive as `.ndjson.gz`) is recognised by its magic bytes
/// and decompressed as a stream. `position` names it (`fhir input #position`).
pub fn read_file(imp: &mut Importer, path: &Path, position: u32) -> Result<(), ImportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".json") {
        read_bundle(imp, path, position)
    } else {
        read_ndjson(imp, path, position)
    }
}

/// Opens a file, transparently decompressing gzip (by magic bytes; multi-member streams, as
/// concatenated `.gz` files are, read whole). Returns the reader and whether it was gzip.
fn open_maybe_gzip(path: &Path) -> std::io::Result<(Box<dyn BufRead>, bool)> {
    let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
    let gzip = f.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        let d = flate2::bufread::MultiGzDecoder::new(f);
        (Box::new(BufReader::with_capacity(1 << 20, d)), true)
    } else {
        (Box::new(f), false)
    })
}

/// Reads one NDJSON file (plain or gzip) line by line; `position` names it.
pub fn read_ndjson(imp: &mut Importer, path: &Path, position: u32) -> Result<(), ImportError> {
    let name = InputName::new(Format::Fhir, position);
    let (r, gzip) = open_maybe_gzip(path).map_err(|e| io_err(name, &e))?;
    let input = imp.add_input(name, super::file_len(path));
    imp.set_compressed(input, gzip);
    read_ndjson_from(imp, r, input)
}

/// A read error that is the data's fault (a corrupt or truncated gzip stream), not the
/// system's: one refused record, and the rest of the input is skipped.
fn is_data_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
    matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof)
}

/// NDJSON from any reader (tests, fuzzing, benchmarks). Lines longer than
/// `ImportOptions::max_line_bytes` are refused and skipped without being held.
pub fn read_ndjson_from(
    imp: &mut Importer,
    mut r: impl BufRead,
    input: usize,
) -> Result<(), ImportError> {
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    let mut mappings = Vec::new();
    let max_line = imp.opts.max_line_bytes.max(1) as u64;
    loop {
        buf.clear();
        let read = (&mut r).take(max_line + 1).read_until(b'\n', &mut buf);
        let at = At {
            input,
            what: "line",
            line: line_no + 1,
        };
        let n = match read {
            Ok(n) => n,
            Err(e) if is_data_error(&e) => {
                imp.read(at, "(unreadable)");
                imp.error(
                    at,
                    "-",
                    "bad_compression",
                    "the compressed stream is corrupt or truncated; the rest of the input is \
                     skipped",
                    None,
                )?;
                imp.end(at);
                break;
            }
            Err(e) => return Err(io_err(imp.input_name(input), &e)),
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.len() as u64 > max_line && buf.last() != Some(&b'\n') {
            // Too long to hold: skip to the end of the line, reading but not keeping it.
            let skipped = skip_line(&mut r);
            imp.read(at, "(unreadable)");
            imp.error(
                at,
                "-",
                "line_too_long",
                format!(
                    "the line is longer than {} MiB (after decompression); refused unread",
                    max_line >> 20
                ),
                None,
            )?;
            imp.end(at);
            match skipped {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) if is_data_error(&e) => break,
                Err(e) => return Err(io_err(imp.input_name(input), &e)),
            }
        }
        let mut line: &[u8] = &buf;
        if line_no == 1 {
            if line.starts_with(&[0xEF, 0xBB, 0xBF]) {
                line = &line[3..];
            } else if line.starts_with(&[0xFF, 0xFE]) || line.starts_with(&[0xFE, 0xFF]) {
                let at = At {
                    input,
                    what: "line",
                    line: 1,
                };
                imp.read(at, "(unreadable)");
                imp.error(
                    at,
                    "-",
                    "wrong_encoding",
                    "the file is UTF-16; FHIR NDJSON must be UTF-8 (convert it first)",
                    None,
                )?;
                imp.end(at);
                return Ok(());
            }
        }
        while let Some((&last, rest)) = line.split_last() {
            if last == b'\n' || last == b'\r' || last == b' ' || last == b'\t' {
                line = rest;
            } else {
                break;
            }
        }
        if line.is_empty() {
            continue;
        }
        let at = At {
            input,
            what: "line",
            line: line_no,
        };
        if std::str::from_utf8(line).is_err() {
            imp.read(at, "(unreadable)");
            imp.error(
                at,
                "-",
                "wrong_encoding",
                "the line is not valid UTF-8 (FHIR NDJSON must be UTF-8)",
                None,
            )?;
            imp.end(at);
            continue;
        }
        match serde_json::from_slice::<Resource>(line) {
            Ok(res) => {
                let aliases = Aliases::new();
                resource(imp, at, &res, &aliases, &mut mappings, 0)?;
            }
            Err(e) => {
                imp.read(at, "(unreadable)");
                json_error(imp, at, &e)?;
                imp.end(at);
            }
        }
    }
    Ok(())
}

/// Consumes the rest of a line without keeping it; `Ok(false)` at the end of the input.
fn skip_line(r: &mut impl BufRead) -> std::io::Result<bool> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                r.consume(i + 1);
                return Ok(true);
            }
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

/// Reads a Bundle (JSON) file, plain or gzip; `position` names it (`fhir input #position`).
/// A Bundle is parsed whole, so one larger than `ImportOptions::max_bundle_bytes` (after
/// decompression) is refused.
pub fn read_bundle(imp: &mut Importer, path: &Path, position: u32) -> Result<(), ImportError> {
    let name = InputName::new(Format::Fhir, position);
    let (r, gzip) = open_maybe_gzip(path).map_err(|e| io_err(name, &e))?;
    let input = imp.add_input(name, super::file_len(path));
    imp.set_compressed(input, gzip);
    let limit = imp.opts.max_bundle_bytes as u64;
    let mut bytes = Vec::new();
    let whole = At {
        input,
        what: "entry",
        line: 0,
    };
    match r.take(limit + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 > limit => {
            drop(bytes);
            imp.read(whole, "(unreadable)");
            imp.error(
                whole,
                "-",
                "bundle_too_large",
                format!(
                    "the Bundle is larger than {} MiB (after decompression); split it or use NDJSON",
                    limit >> 20
                ),
                None,
            )?;
            imp.end(whole);
            Ok(())
        }
        Ok(_) => read_bundle_bytes(imp, &bytes, input),
        Err(e) if is_data_error(&e) => {
            imp.read(whole, "(unreadable)");
            imp.error(
                whole,
                "-",
                "bad_compression",
                "the compressed stream is corrupt or truncated",
                None,
            )?;
            imp.end(whole);
            Ok(())
        }
        Err(e) => Err(io_err(name, &e)),
    }
}

/// A Bundle from bytes (tests, fuzzing).
pub fn read_bundle_bytes(
    imp: &mut Importer,
    bytes: &[u8],
    input: usize,
) -> Result<(), ImportError> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let whole = At {
        input,
        what: "entry",
        line: 0,
    };
    if std::str::from_utf8(bytes).is_err() {
        imp.read(whole, "(unreadable)");
        imp.error(
            whole,
            "-",
            "wrong_encoding",
            "the file is not valid UTF-8",
            None,
        )?;
        imp.end(whole);
        return Ok(());
    }
    let res: Resource = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) => {
            imp.read(whole, "(unreadable)");
            json_error(imp, whole, &e)?;
            imp.end(whole);
            return Ok(());
        }
    };
    let mut mappings = Vec::new();
    if res.resource_type.as_deref() == Some("Bundle") {
        bundle(imp, input, &res, &mut mappings, 1)
    } else {
        // A single resource in a .json file.
        let at = At {
            input,
            what: "entry",
            line: 1,
        };
        resource(imp, at, &res, &Aliases::new(), &mut mappings, 0)
    }
}

/// Bundles nested in Bundle entries deeper than this are refused: each level is parsed and
/// read by a recursive call, so unbounded nesting would overflow the stack (and re-parse the
/// rest of the text at every level). Real exports nest one or two deep.
const MAX_BUNDLE_DEPTH: u32 = 8;

/// The entries of a Bundle; `depth` is its nesting (1 for an outermost Bundle).
fn bundle(
    imp: &mut Importer,
    input: usize,
    res: &Resource,
    mappings: &mut Vec<Mapping>,
    depth: u32,
) -> Result<(), ImportError> {
    // Pass 1: Patient fullUrls, so `urn:uuid:` references resolve to the patient's id.
    let mut aliases = Aliases::new();
    for e in &res.entry {
        let (Some(url), Some(raw)) = (&e.full_url, e.resource) else {
            continue;
        };
        #[derive(Deserialize)]
        struct Head<'a> {
            #[serde(borrow, default, rename = "resourceType")]
            resource_type: Option<S<'a>>,
            #[serde(borrow, default)]
            id: Option<S<'a>>,
        }
        if let Ok(h) = serde_json::from_str::<Head>(raw.get()) {
            if h.resource_type.as_deref() == Some("Patient") {
                let id = h.id.as_deref().unwrap_or(url).to_string();
                aliases.insert(url.to_string(), id);
            }
        }
    }
    for (i, e) in res.entry.iter().enumerate() {
        let at = At {
            input,
            what: "entry",
            line: i as u64 + 1,
        };
        let Some(raw) = e.resource else {
            imp.read(at, "(no resource)");
            imp.end(at);
            continue;
        };
        match serde_json::from_str::<Resource>(raw.get()) {
            Ok(r) => {
                let mut r = r;
                // A Patient without an id is known by its fullUrl.
                if r.resource_type.as_deref() == Some("Patient") && r.id.is_none() {
                    r.id = e.full_url.clone();
                }
                resource(imp, at, &r, &aliases, mappings, depth)?;
            }
            Err(err) => {
                imp.read(at, "(unreadable)");
                json_error(imp, at, &err)?;
                imp.end(at);
            }
        }
    }
    Ok(())
}

fn json_error(imp: &mut Importer, at: At, e: &serde_json::Error) -> Result<(), ImportError> {
    use serde_json::error::Category;
    let (kind, msg) = match e.classify() {
        Category::Eof => ("malformed_json", "truncated JSON"),
        Category::Syntax => ("malformed_json", "malformed JSON (syntax error)"),
        Category::Data => (
            "malformed_json",
            "a field has the wrong type or shape for FHIR R4",
        ),
        Category::Io => ("malformed_json", "unreadable"),
    };
    imp.error(
        at,
        "-",
        kind,
        format!("{msg} at column {}", e.column()),
        None,
    )
}

/// The raw id of a patient reference: `Patient/123`, `https://…/Patient/123/_history/2`,
/// or a Bundle-local `urn:uuid:…` alias.
fn patient_ref<'a>(reference: &'a str, aliases: &'a Aliases) -> Option<&'a str> {
    if let Some(id) = aliases.get(reference) {
        return Some(id);
    }
    if let Some(pos) = reference.rfind("Patient/") {
        let rest = &reference[pos + "Patient/".len()..];
        let id = rest.split('/').next().unwrap_or("");
        return (!id.is_empty()).then_some(id);
    }
    if reference.starts_with("urn:uuid:") || reference.starts_with("urn:oid:") {
        return Some(reference);
    }
    None
}

fn stamp(s: Option<&S>) -> Option<Stamp> {
    s.and_then(|s| date::parse(s))
}

/// The first given date of several alternatives; `Err` if it is not a date.
/// The per-record error for a date field that is not a FHIR dateTime.
fn bad_date(imp: &mut Importer, at: At, field: &str, person: u32) -> Result<(), ImportError> {
    imp.error(
        at,
        field,
        "bad_date",
        "the date is not a FHIR dateTime",
        Some(person),
    )
}

fn first_stamp(opts: &[Option<&S>]) -> Result<Option<Stamp>, ()> {
    match opts.iter().flatten().next() {
        Some(s) => date::parse(s).map(Some).ok_or(()),
        None => Ok(None),
    }
}

/// One resource; `depth` is the number of Bundles around it (0 at the top of a file).
fn resource(
    imp: &mut Importer,
    at: At,
    r: &Resource,
    aliases: &Aliases,
    mappings: &mut Vec<Mapping>,
    depth: u32,
) -> Result<(), ImportError> {
    let rt = r.resource_type.as_deref().unwrap_or("(no resourceType)");
    if rt == "Bundle" {
        imp.read(at, "Bundle");
        if depth >= MAX_BUNDLE_DEPTH {
            imp.error(
                at,
                "entry",
                "nested_bundle",
                format!("a Bundle nested more than {MAX_BUNDLE_DEPTH} deep in Bundles: its entries are skipped"),
                None,
            )?;
            imp.end(at);
            return Ok(());
        }
        imp.mark_ignored();
        imp.end(at);
        return bundle(imp, at.input, r, mappings, depth + 1);
    }
    imp.read(at, kind_name(rt));
    let out = match rt {
        "Patient" => patient(imp, at, r),
        "Observation" => observation(imp, at, r, aliases, mappings),
        "Condition" => condition(imp, at, r, aliases, mappings),
        "MedicationStatement" | "MedicationRequest" | "MedicationDispense" => {
            medication(imp, at, r, aliases, mappings)
        }
        "Encounter" => encounter(imp, at, r, aliases),
        "Consent" => consent(imp, at, r, aliases),
        _ => {
            imp.mark_ignored();
            Ok(())
        }
    };
    imp.end(at);
    out
}

/// The resource types of FHIR R4 (4.0.1), sorted: the only `resourceType` values the report
/// shows (any other text is counted as one kind, as it could be anything).
const R4_RESOURCE_TYPES: [&str; 146] = [
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// How a `resourceType` is counted in the report: an R4 type by name, anything else as one
/// kind (the text could be anything).
fn kind_name(rt: &str) -> &str {
    // The types read come first: no search on the hot path.
    if matches!(
        rt,
        "Observation" | "Patient" | "Condition" | "MedicationStatement" | "Encounter"
    ) || rt == "(no resourceType)"
        || R4_RESOURCE_TYPES.binary_search(&rt).is_ok()
    {
        rt
    } else {
        "(not an R4 resource type)"
    }
}

fn patient(imp: &mut Importer, at: At, r: &Resource) -> Result<(), ImportError> {
    let Some(id) = r.id.as_deref().filter(|s| !s.trim().is_empty()) else {
        return imp.error(at, "id", "missing_subject", "Patient without an id", None);
    };
    let person = imp.person(id);
    let sex = match r.gender.as_deref() {
        Some("male") => Some(Sex::Male),
        Some("female") => Some(Sex::Female),
        _ => None,
    };
    let birth = match r.birth_date.as_deref() {
        Some(b) => match date::birth_day(b) {
            Some(d) => Some(d),
            None => {
                return imp.error(
                    at,
                    "birthDate",
                    "bad_date",
                    "birthDate is not a FHIR date",
                    Some(person),
                )
            }
        },
        None => None,
    };
    let death = r
        .deceased_date_time
        .as_deref()
        .and_then(|d| date::parse(d).map(|s| s.day));
    imp.demographics(at, person, Format::Fhir, sex, birth, death)?;
    imp.mark_mapped();
    Ok(())
}

fn subject(
    imp: &mut Importer,
    at: At,
    reference: Option<&Reference>,
    aliases: &Aliases,
) -> Result<Option<u32>, ImportError> {
    let raw = reference.and_then(|s| s.reference.as_deref());
    match raw.and_then(|s| patient_ref(s, aliases)) {
        Some(id) => Ok(Some(imp.person(id))),
        None => {
            imp.error(
                at,
                "subject",
                "missing_subject",
                "no Patient reference (subject)",
                None,
            )?;
            Ok(None)
        }
    }
}

/// Mappings of the first coding that maps; otherwise reports the first coding as unmapped.
/// Returns false when nothing mapped (already reported).
fn map_codes(
    imp: &mut Importer,
    at: At,
    cc: Option<&CodeableConcept>,
    mappings: &mut Vec<Mapping>,
    person: Option<u32>,
) -> Result<bool, ImportError> {
    mappings.clear();
    let Some(cc) = cc.filter(|c| !c.coding.is_empty()) else {
        imp.error(at, "code", "missing_code", "no coding", person)?;
        return Ok(false);
    };
    let mut tmp = Vec::new();
    for c in &cc.coding {
        let (Some(sys), Some(code)) = (c.system.as_deref(), c.code.as_deref()) else {
            continue;
        };
        let Some(system) = System::from_fhir_uri(sys) else {
            continue;
        };
        imp.lookup_into(system, code, &mut tmp);
        if !tmp.is_empty() {
            mappings.extend_from_slice(&tmp);
            return Ok(true);
        }
    }
    // Reported: the first coding of a known system, else the first coding. A system URI
    // outside the map is not shown (a URI can carry anything).
    let known = cc.coding.iter().find_map(|c| {
        c.system
            .as_deref()
            .and_then(System::from_fhir_uri)
            .map(|s| (s.name(), c))
    });
    let (sys, coding) = match known {
        Some(k) => k,
        None => {
            let first = &cc.coding[0];
            let sys = if first.system.is_some() {
                "(other system)"
            } else {
                "(no system)"
            };
            (sys, first)
        }
    };
    imp.unmapped(at, sys, coding.code.as_deref().unwrap_or(""))?;
    Ok(false)
}

fn observation(
    imp: &mut Importer,
    at: At,
    r: &Resource,
    aliases: &Aliases,
    mappings: &mut Vec<Mapping>,
) -> Result<(), ImportError> {
    if matches!(
        r.status.as_deref(),
        Some("entered-in-error" | "cancelled" | "registered")
    ) {
        imp.mark_ignored();
        return Ok(());
    }
    let Some(person) = subject(imp, at, r.subject.as_ref(), aliases)? else {
        return Ok(());
    };
    if !map_codes(imp, at, r.code.as_ref(), mappings, Some(person))? {
        return Ok(());
    }
    let when = match first_stamp(&[
        r.effective_date_time.as_ref(),
        r.effective_period.as_ref().and_then(|p| p.start.as_ref()),
        r.effective_instant.as_ref(),
        r.issued.as_ref(),
    ]) {
        Ok(w) => w,
        Err(()) => return bad_date(imp, at, "effectiveDateTime", person),
    };
    if mappings.iter().any(|m| m.target == Target::BpPanel) {
        return bp_panel(imp, at, r, person, when);
    }
    let (val, unit) = observation_value(r);
    let ms = std::mem::take(mappings);
    let out = imp.apply(at, Format::Fhir, person, &ms, val, unit, when, None);
    *mappings = ms;
    out
}

fn observation_value<'r>(r: &'r Resource) -> (Val<'r>, &'r str) {
    if let Some(q) = &r.value_quantity {
        let unit = q.code.as_deref().or(q.unit.as_deref()).unwrap_or("");
        return (q.value.map_or(Val::Missing, Val::Num), unit);
    }
    if let Some(cc) = &r.value_codeable_concept {
        if let Some(c) = cc.coding.iter().find(|c| c.code.is_some()) {
            let sys = c.system.as_deref().and_then(System::from_fhir_uri);
            return (Val::Code(sys, c.code.as_deref().unwrap_or("")), "");
        }
    }
    if let Some(i) = r.value_integer {
        return (Val::Num(i as f64), "");
    }
    if let Some(b) = r.value_boolean {
        return (Val::Bool(b), "");
    }
    (Val::Missing, "")
}

fn bp_panel(
    imp: &mut Importer,
    at: At,
    r: &Resource,
    person: u32,
    when: Option<Stamp>,
) -> Result<(), ImportError> {
    let Some(when) = when else {
        return imp.error(
            at,
            "effectiveDateTime",
            "missing_date",
            "BP panel without a date",
            Some(person),
        );
    };
    let mut found = false;
    let mut tmp = Vec::new();
    for c in &r.component {
        let mut m: Option<ClinicalMeasure> = None;
        for coding in &c.code.coding {
            let (Some(sys), Some(code)) = (coding.system.as_deref(), coding.code.as_deref()) else {
                continue;
            };
            if let Some(system) = System::from_fhir_uri(sys) {
                imp.lookup_into(system, code, &mut tmp);
                m = tmp.iter().find_map(|x| match x.target {
                    Target::Measure(m @ (ClinicalMeasure::SbpMmhg | ClinicalMeasure::DbpMmhg)) => {
                        Some(m)
                    }
                    _ => None,
                });
                if m.is_some() {
                    break;
                }
            }
        }
        let Some(m) = m else { continue };
        found = true;
        match &c.value_quantity {
            Some(FhirQuantity {
                value: Some(v),
                unit,
                code,
            }) => {
                let u = code.as_deref().or(unit.as_deref()).unwrap_or("");
                imp.measure(at, Format::Fhir, person, m, *v, u, when)?;
            }
            _ => {
                imp.error(
                    at,
                    "component.valueQuantity",
                    "missing_value",
                    format!("{}: BP component without a value", m.name()),
                    Some(person),
                )?;
            }
        }
    }
    if !found {
        imp.error(
            at,
            "component",
            "missing_value",
            "BP panel without systolic or diastolic components",
            Some(person),
        )?;
    }
    Ok(())
}

fn condition(
    imp: &mut Importer,
    at: At,
    r: &Resource,
    aliases: &Aliases,
    mappings: &mut Vec<Mapping>,
) -> Result<(), ImportError> {
    let refuted = r.verification_status.as_ref().is_some_and(|v| {
        v.coding
            .iter()
            .any(|c| matches!(c.code.as_deref(), Some("refuted" | "entered-in-error")))
    });
    if refuted {
        imp.mark_ignored();
        return Ok(());
    }
    let Some(person) = subject(imp, at, r.subject.as_ref(), aliases)? else {
        return Ok(());
    };
    if !map_codes(imp, at, r.code.as_ref(), mappings, Some(person))? {
        return Ok(());
    }
    let when = match first_stamp(&[
        r.onset_date_time.as_ref(),
        r.onset_period.as_ref().and_then(|p| p.start.as_ref()),
        r.recorded_date.as_ref(),
    ]) {
        Ok(w) => w,
        Err(()) => return bad_date(imp, at, "onsetDateTime", person),
    };
    let ms = std::mem::take(mappings);
    let out = imp.apply(at, Format::Fhir, person, &ms, Val::Missing, "", when, None);
    *mappings = ms;
    out
}

fn medication(
    imp: &mut Importer,
    at: At,
    r: &Resource,
    aliases: &Aliases,
    mappings: &mut Vec<Mapping>,
) -> Result<(), ImportError> {
    if matches!(
        r.status.as_deref(),
        Some("entered-in-error" | "not-taken" | "cancelled" | "declined")
    ) {
        imp.mark_ignored();
        return Ok(());
    }
    let Some(person) = subject(imp, at, r.subject.as_ref(), aliases)? else {
        return Ok(());
    };
    if r.medication_codeable_concept.is_none() {
        // medicationReference: resolving Medication resources is not supported.
        imp.unmapped(at, "medicationReference", "")?;
        return Ok(());
    }
    if !map_codes(
        imp,
        at,
        r.medication_codeable_concept.as_ref(),
        mappings,
        Some(person),
    )? {
        return Ok(());
    }
    let period = r.effective_period.as_ref();
    let start = first_stamp(&[
        r.effective_date_time.as_ref(),
        period.and_then(|p| p.start.as_ref()),
        r.when_handed_over.as_ref(),
        r.when_prepared.as_ref(),
        r.authored_on.as_ref(),
        r.date_asserted.as_ref(),
    ]);
    let end = stamp(period.and_then(|p| p.end.as_ref()));
    let start = match start {
        Ok(Some(s)) => Some(s),
        Ok(None) if end.is_some() => None,
        Ok(None) => {
            return imp.error(
                at,
                "effective[x]",
                "missing_date",
                "medication without a date",
                Some(person),
            )
        }
        Err(()) => return bad_date(imp, at, "effective[x]", person),
    };
    // An open-ended active statement covers the index date.
    let end = if end.is_none() && period.is_some() && r.status.as_deref() == Some("active") {
        Some(Stamp {
            day: imp.opts.index_day,
            minute: 0,
            precision: date::Precision::Day,
        })
    } else {
        end
    };
    let ms = std::mem::take(mappings);
    let out = imp.apply(at, Format::Fhir, person, &ms, Val::Missing, "", start, end);
    *mappings = ms;
    out
}

fn encounter(
    imp: &mut Importer,
    at: At,
    r: &Resource,
    aliases: &Aliases,
) -> Result<(), ImportError> {
    let Some(person) = subject(imp, at, r.subject.as_ref(), aliases)? else {
        return Ok(());
    };
    let p = r.period.as_ref();
    let mut stamps = Vec::with_capacity(2);
    for s in [
        p.and_then(|p| p.start.as_ref()),
        p.and_then(|p| p.end.as_ref()),
    ]
    .into_iter()
    .flatten()
    {
        match date::parse(s) {
            Some(st) => stamps.push(st),
            None => return bad_date(imp, at, "period", person),
        }
    }
    for st in &stamps {
        if !imp.check_date(at, "period", st.day, Some(person))? {
            return Ok(());
        }
    }
    for st in &stamps {
        imp.contact(person, Format::Fhir, *st);
    }
    if !stamps.is_empty() {
        imp.mark_mapped();
        Ok(())
    } else {
        imp.error(
            at,
            "period",
            "missing_date",
            "Encounter without a period",
            Some(person),
        )
    }
}

fn consent(imp: &mut Importer, at: At, r: &Resource, aliases: &Aliases) -> Result<(), ImportError> {
    let research = r.scope.iter().chain(r.category.iter()).any(|cc| {
        cc.coding.iter().any(|c| {
            c.code
                .as_deref()
                .is_some_and(|s| s.to_ascii_lowercase().contains("research"))
        })
    });
    if !research || r.status.as_deref() != Some("active") {
        imp.mark_ignored();
        return Ok(());
    }
    let reference = r.patient.as_ref().or(r.subject.as_ref());
    let Some(person) = subject(imp, at, reference, aliases)? else {
        return Ok(());
    };
    if r.provision.as_ref().and_then(|p| p.kind.as_deref()) == Some("deny") {
        imp.opt_out(person);
    }
    imp.mark_mapped();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_are_sorted_and_free_text_is_one_kind() {
        assert!(R4_RESOURCE_TYPES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(kind_name("Observation"), "Observation");
        assert_eq!(kind_name("YamadaTaro"), "(not an R4 resource type)");
    }
}
