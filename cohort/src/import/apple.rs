//! Apple Health `export.xml` (one person per file), read with a streaming pull parser
//! (quick-xml), so a multi-gigabyte export needs memory only for its daily aggregates.
//!
//! Kept: `<Me>` date of birth and biological sex; `<Record>`s of
//! - `HKQuantityTypeIdentifierStepCount`: summed per source and hour; each hour takes the
//!   largest source total, each day sums its hours. An iPhone and a Watch count the same
//!   steps, so adding sources would double-count; taking the per-hour maximum keeps the
//!   better-worn device for each hour. (Apple merges by a user-set source priority that the
//!   export does not contain; this is the documented stand-in.) → `steps_per_day`
//! - `BodyMass` (kg or lb) → `weight_kg`; `BodyMassIndex` → `bmi_kg_m2`; `Height` →
//!   `height_cm`
//! - `HeartRate` → daily mean `heart_rate_bpm`; `WalkingSpeed` → daily mean
//!   `walking_speed_m_s` (thousands of samples a day would swamp the history)
//! - `BloodPressureSystolic` / `Diastolic`, inside `<Correlation
//!   type="HKCorrelationTypeIdentifierBloodPressure">` or alone; a reading present both ways
//!   is kept once.
//!
//! Other record types are counted and ignored. Source names and device strings (which often
//! hold the owner's name) are never kept or written: sources are told apart by a 64-bit hash
//! of the name. Without `--apple-id` the person is a keyed hash of the file's content
//! ([`ApplePerson::Content`]), never the file name.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use engine::Sex;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use sha2::{Digest, Sha256};

use super::date::{self, Stamp};
use super::measure::ClinicalMeasure;
use super::{io_err, At, Format, ImportError, Importer, InputName};

/// Counts newlines in what the XML parser has consumed, for line numbers in errors.
struct LineCounter<R> {
    inner: R,
    lines: u64,
}

impl<R: BufRead> std::io::Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(b) = self.inner.fill_buf() {
            let amt = amt.min(b.len());
            self.lines += b[..amt].iter().filter(|&&c| c == b'\n').count() as u64;
        }
        self.inner.consume(amt);
    }
}

/// Whose export a file is.
#[derive(Clone, Copy, Debug)]
pub enum ApplePerson<'a> {
    /// `--apple-id`: the person's raw id, linking the export with their records in other
    /// inputs.
    Id(&'a str),
    /// No id given: the person is named by a keyed hash of the file's content, so distinct
    /// files are distinct people (two `export.xml` are not merged), a byte-identical copy is
    /// the same person, and the same file gets the same pseudonym in every import with the
    /// same key. Never the file name: it is often the person's name or patient number.
    Content,
}

/// The raw id of an export without `--apple-id`: SHA-256 of its bytes (the pseudonym is then
/// HMAC(key, this), a keyed hash of the content). Costs one extra streaming read of the file.
pub fn content_id(r: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut r = r;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    let mut s = String::from("apple-export-sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

/// Reads one export; `position` names it (`apple input #position`).
pub fn read_file(
    imp: &mut Importer,
    path: &Path,
    position: u32,
    who: ApplePerson,
) -> Result<(), ImportError> {
    let name = InputName::new(Format::Apple, position);
    let raw_id = match who {
        ApplePerson::Id(id) => id.to_string(),
        ApplePerson::Content => File::open(path)
            .and_then(content_id)
            .map_err(|e| io_err(name, &e))?,
    };
    let f = File::open(path).map_err(|e| io_err(name, &e))?;
    let input = imp.add_input(name, super::file_len(path));
    imp.apple_person_from(input, matches!(who, ApplePerson::Content), &raw_id);
    read_from(imp, BufReader::with_capacity(1 << 20, f), input, &raw_id)
}

#[derive(Default)]
struct Daily {
    /// Steps per (source, day, hour); a source is a 64-bit hash of its name (names are not
    /// kept, and no count of sources can wrap: a 16-bit index once merged source 65,537
    /// with source 1).
    steps: HashMap<(u64, i32, u8), f64>,
    heart: HashMap<i32, (f64, u32)>,
    speed: HashMap<i32, (f64, u32)>,
    bp_seen: HashSet<(bool, i32, u16, u64)>,
}

struct Rec {
    kind: Vec<u8>,
    unit: String,
    value: Option<String>,
    source: Vec<u8>,
    start: Option<String>,
}

/// An export from any reader (tests, fuzzing).
pub fn read_from(
    imp: &mut Importer,
    r: impl BufRead,
    input: usize,
    raw_id: &str,
) -> Result<(), ImportError> {
    let person = imp.person(raw_id);
    let mut reader = Reader::from_reader(LineCounter { inner: r, lines: 0 });
    reader.config_mut().trim_text(true);
    let mut buf = Vec::with_capacity(4096);
    let mut daily = Daily::default();
    loop {
        buf.clear();
        let ev = reader.read_event_into(&mut buf);
        let line = reader.get_ref().lines + 1;
        let at = At {
            input,
            what: "line",
            line,
        };
        match ev {
            Ok(Event::Eof) => break,
            // Records inside a blood-pressure Correlation are read like any other; the
            // de-duplication in `record` keeps a reading present twice once.
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match e.name().as_ref() {
                b"Record" => element(imp, at, person, &e, &mut daily)?,
                b"Me" => me(imp, at, person, &e)?,
                _ => {}
            },
            Ok(_) => {}
            Err(_) => {
                imp.read(at, "(unreadable)");
                imp.error(
                    at,
                    "-",
                    "xml_error",
                    format!(
                        "malformed or truncated XML near byte {}; the rest of the file is skipped",
                        reader.error_position()
                    ),
                    Some(person),
                )?;
                imp.end(at);
                break;
            }
        }
    }
    let last_line = reader.get_ref().lines + 1;
    emit_daily(imp, input, last_line, person, daily)
}

fn attr(e: &BytesStart, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn me(imp: &mut Importer, at: At, person: u32, e: &BytesStart) -> Result<(), ImportError> {
    imp.read(at, "Me");
    let sex = match attr(e, b"HKCharacteristicTypeIdentifierBiologicalSex").as_deref() {
        Some("HKBiologicalSexMale") => Some(Sex::Male),
        Some("HKBiologicalSexFemale") => Some(Sex::Female),
        _ => None,
    };
    let birth = attr(e, b"HKCharacteristicTypeIdentifierDateOfBirth");
    let birth_day = match birth.as_deref().filter(|s| !s.is_empty()) {
        Some(b) => match date::birth_day(b) {
            Some(d) => Some(d),
            None => {
                let out = imp.error(
                    at,
                    "HKCharacteristicTypeIdentifierDateOfBirth",
                    "bad_date",
                    "date of birth is not a date",
                    Some(person),
                );
                imp.end(at);
                return out;
            }
        },
        None => None,
    };
    imp.demographics(at, person, Format::Apple, sex, birth_day, None)?;
    imp.mark_mapped();
    imp.end(at);
    Ok(())
}

fn read_rec(e: &BytesStart) -> Result<Rec, ()> {
    let mut r = Rec {
        kind: Vec::new(),
        unit: String::new(),
        value: None,
        source: Vec::new(),
        start: None,
    };
    for a in e.attributes() {
        let a = a.map_err(|_| ())?;
        match a.key.as_ref() {
            b"type" => r.kind = a.value.to_vec(),
            b"sourceName" => r.source = a.value.to_vec(),
            b"unit" => r.unit = a.unescape_value().map_err(|_| ())?.into_owned(),
            b"value" => r.value = Some(a.unescape_value().map_err(|_| ())?.into_owned()),
            b"startDate" => r.start = Some(a.unescape_value().map_err(|_| ())?.into_owned()),
            _ => {}
        }
    }
    Ok(r)
}

fn element(
    imp: &mut Importer,
    at: At,
    person: u32,
    e: &BytesStart,
    daily: &mut Daily,
) -> Result<(), ImportError> {
    let rec = match read_rec(e) {
        Ok(r) => r,
        Err(()) => {
            imp.read(at, "(unreadable)");
            let out = imp.error(
                at,
                "-",
                "wrong_encoding",
                "unreadable attribute (bad escape or not UTF-8)",
                Some(person),
            );
            imp.end(at);
            return out;
        }
    };
    let kind = std::str::from_utf8(&rec.kind)
        .unwrap_or("(not UTF-8)")
        .to_string();
    imp.read(at, kind_name(&kind));
    let out = record(imp, at, person, &kind, rec, daily);
    imp.end(at);
    out
}

/// Record types the report names (those read, and common ones that are not); any other
/// `type` text is counted as one kind, as it could be anything.
const KNOWN_TYPES: &[&str] = &[
    "HKQuantityTypeIdentifierStepCount",
    "HKQuantityTypeIdentifierBodyMass",
    "HKQuantityTypeIdentifierBodyMassIndex",
    "HKQuantityTypeIdentifierHeight",
    "HKQuantityTypeIdentifierHeartRate",
    "HKQuantityTypeIdentifierWalkingSpeed",
    "HKQuantityTypeIdentifierBloodPressureSystolic",
    "HKQuantityTypeIdentifierBloodPressureDiastolic",
    "HKQuantityTypeIdentifierActiveEnergyBurned",
    "HKQuantityTypeIdentifierBasalEnergyBurned",
    "HKQuantityTypeIdentifierDistanceWalkingRunning",
    "HKQuantityTypeIdentifierDistanceCycling",
    "HKQuantityTypeIdentifierFlightsClimbed",
    "HKQuantityTypeIdentifierAppleExerciseTime",
    "HKQuantityTypeIdentifierAppleStandTime",
    "HKQuantityTypeIdentifierRestingHeartRate",
    "HKQuantityTypeIdentifierWalkingHeartRateAverage",
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
    "HKQuantityTypeIdentifierOxygenSaturation",
    "HKQuantityTypeIdentifierRespiratoryRate",
    "HKQuantityTypeIdentifierBodyFatPercentage",
    "HKQuantityTypeIdentifierLeanBodyMass",
    "HKQuantityTypeIdentifierBloodGlucose",
    "HKQuantityTypeIdentifierBodyTemperature",
    "HKQuantityTypeIdentifierVO2Max",
    "HKQuantityTypeIdentifierWalkingStepLength",
    "HKQuantityTypeIdentifierWalkingDoubleSupportPercentage",
    "HKQuantityTypeIdentifierWalkingAsymmetryPercentage",
    "HKQuantityTypeIdentifierHeadphoneAudioExposure",
    "HKQuantityTypeIdentifierEnvironmentalAudioExposure",
    "HKQuantityTypeIdentifierDietaryEnergyConsumed",
    "HKCategoryTypeIdentifierSleepAnalysis",
    "HKCategoryTypeIdentifierAppleStandHour",
    "HKCategoryTypeIdentifierMindfulSession",
];

fn kind_name(kind: &str) -> &str {
    KNOWN_TYPES
        .iter()
        .copied()
        .find(|k| *k == kind)
        .unwrap_or("(other record type)")
}

fn record(
    imp: &mut Importer,
    at: At,
    person: u32,
    kind: &str,
    rec: Rec,
    daily: &mut Daily,
) -> Result<(), ImportError> {
    let short = kind.strip_prefix("HKQuantityTypeIdentifier").unwrap_or("");
    let measure = match short {
        "StepCount" => ClinicalMeasure::StepsPerDay,
        "BodyMass" => ClinicalMeasure::WeightKg,
        "BodyMassIndex" => ClinicalMeasure::BmiKgM2,
        "Height" => ClinicalMeasure::HeightCm,
        "HeartRate" => ClinicalMeasure::HeartRateBpm,
        "WalkingSpeed" => ClinicalMeasure::WalkingSpeedMS,
        "BloodPressureSystolic" => ClinicalMeasure::SbpMmhg,
        "BloodPressureDiastolic" => ClinicalMeasure::DbpMmhg,
        _ => {
            imp.mark_ignored();
            return Ok(());
        }
    };
    let Some(when) = rec.start.as_deref().and_then(date::parse) else {
        return imp.error(
            at,
            "startDate",
            "bad_date",
            "startDate missing or not a date",
            Some(person),
        );
    };
    if !imp.check_date(at, "startDate", when.day, Some(person))? {
        return Ok(());
    }
    let Some(value) = rec
        .value
        .as_deref()
        .and_then(|v| v.trim().parse::<f64>().ok())
    else {
        return imp.error(
            at,
            "value",
            "bad_number",
            "value missing or not a number",
            Some(person),
        );
    };
    match measure {
        ClinicalMeasure::StepsPerDay => {
            if !(value.is_finite() && (0.0..=100_000.0).contains(&value)) {
                return imp.error(
                    at,
                    "value",
                    "implausible_value",
                    "step count outside 0–100,000",
                    Some(person),
                );
            }
            let src = source_key(&rec.source);
            *daily
                .steps
                .entry((src, when.day, (when.minute / 60) as u8))
                .or_insert(0.0) += value;
            imp.mark_mapped();
            Ok(())
        }
        ClinicalMeasure::HeartRateBpm | ClinicalMeasure::WalkingSpeedMS => {
            // Convert and check one sample, then fold it into the daily mean.
            let mut u = String::new();
            super::units::normalise_unit(&rec.unit, &mut u);
            match super::units::convert(measure, value, &u) {
                super::units::Converted::Ok(v) => {
                    let map = if measure == ClinicalMeasure::HeartRateBpm {
                        &mut daily.heart
                    } else {
                        &mut daily.speed
                    };
                    let e = map.entry(when.day).or_insert((0.0, 0));
                    e.0 += v;
                    e.1 += 1;
                    imp.mark_mapped();
                    Ok(())
                }
                _ => imp
                    .measure(at, Format::Apple, person, measure, value, &rec.unit, when)
                    .map(|_| ()),
            }
        }
        ClinicalMeasure::SbpMmhg | ClinicalMeasure::DbpMmhg => {
            let key = (
                measure == ClinicalMeasure::SbpMmhg,
                when.day,
                when.minute,
                value.to_bits(),
            );
            if !daily.bp_seen.insert(key) {
                // The same reading inside its Correlation and alone: kept once.
                imp.mark_ignored();
                return Ok(());
            }
            imp.measure(at, Format::Apple, person, measure, value, &rec.unit, when)
                .map(|_| ())
        }
        _ => imp
            .measure(at, Format::Apple, person, measure, value, &rec.unit, when)
            .map(|_| ()),
    }
}

/// A source name's key: SipHash (fixed keys, so the same on every run) of its bytes.
fn source_key(name: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

fn emit_daily(
    imp: &mut Importer,
    input: usize,
    line: u64,
    person: u32,
    daily: Daily,
) -> Result<(), ImportError> {
    let at = At {
        input,
        what: "line",
        line,
    };
    // Steps: per (day, hour) the largest source, then per day the sum of hours.
    let mut per_hour: HashMap<(i32, u8), f64> = HashMap::new();
    for ((_, day, hour), v) in daily.steps {
        let e = per_hour.entry((day, hour)).or_insert(0.0);
        *e = e.max(v);
    }
    let mut per_day: HashMap<i32, f64> = HashMap::new();
    for ((day, _), v) in per_hour {
        *per_day.entry(day).or_insert(0.0) += v;
    }
    let mut days: Vec<(i32, f64)> = per_day.into_iter().collect();
    days.sort_by_key(|d| d.0);
    for (day, total) in days {
        imp.read(at, "StepCount daily total (derived)");
        let out = imp.measure(
            at,
            Format::Apple,
            person,
            ClinicalMeasure::StepsPerDay,
            total,
            "/d",
            day_stamp(day),
        );
        imp.end(at);
        out?;
    }
    for (m, map) in [
        (ClinicalMeasure::HeartRateBpm, daily.heart),
        (ClinicalMeasure::WalkingSpeedMS, daily.speed),
    ] {
        let mut days: Vec<(i32, (f64, u32))> = map.into_iter().collect();
        days.sort_by_key(|d| d.0);
        for (day, (sum, n)) in days {
            imp.read(at, &format!("{} daily mean (derived)", m.name()));
            let out = imp.measure(
                at,
                Format::Apple,
                person,
                m,
                sum / f64::from(n),
                m.unit(),
                day_stamp(day),
            );
            imp.end(at);
            out?;
        }
    }
    Ok(())
}

fn day_stamp(day: i32) -> Stamp {
    Stamp {
        day,
        minute: 0,
        precision: date::Precision::Day,
    }
}
