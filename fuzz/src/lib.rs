//! Shared harness of the fuzz targets (`fuzz_targets/`): a scratch folder per process, the
//! import driven as `healthtwin cohort import` drives it (files in a folder, then the
//! format's reader, then `Importer::finish` and every output the CLI writes as text), and the
//! checks every import target makes besides "no panic":
//!
//! - only an input-level error (`ImportError::Input`: a missing file or header) may stop a
//!   default (non-strict) import; every record read is filed under exactly one outcome;
//! - every included person's baseline lies within `cohort::file::PLAUSIBLE`, and the history
//!   can be read back;
//! - no temporary file is left behind;
//! - no identifier from the input reaches an error or an output: an alphanumeric run of at
//!   least 6 characters with a letter and a digit, taken from an identifier position (FHIR
//!   `id`, references, `identifier`, names…; a CSV `person_id`; an Apple export's file
//!   stem), must not be a run of the returned error or of `quality.json`/`.csv`/`.md` —
//!   unless the same run also occurs somewhere else in the input (a code or unit may be
//!   echoed).
//!
//! Must never: be linked by the product; it lives outside the workspace.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cohort::import::{
    codes::CodeMap, date, pseudo::Pseudonymiser, ImportError, ImportOptions, ImportResult, Importer,
};

/// A folder of this process (tmpfs where there is one: every import writes a spill file).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("healthtwin-fuzz-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

/// An empty sub-folder of the scratch folder (emptied on every call).
pub fn fresh_dir(name: &str) -> PathBuf {
    let d = scratch().join(name);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("scratch sub-folder");
    d
}

fn code_map() -> CodeMap {
    static MAP: OnceLock<CodeMap> = OnceLock::new();
    MAP.get_or_init(CodeMap::embedded).clone()
}

fn key() -> Pseudonymiser {
    Pseudonymiser::new(b"fuzz-key-0123456789-0123456789-0123456789").expect("key")
}

/// The CLI's default options, as `cohort import --index-date 2024-04-01` sets them.
pub fn options(spill: PathBuf) -> ImportOptions {
    let mut o = ImportOptions::new(date::parse("2024-04-01").expect("date").day, spill);
    o.age_min = 18.0;
    o.age_max = 110.0;
    // Small runs so the external merge of the history is exercised, not only one run.
    o.sort_run_records = 64;
    o
}

/// Runs one import: `feed` reads the inputs into the importer, then it is finished, and the
/// result is checked (module docs). `private` and `public` are the input's alphanumeric runs
/// in identifier and in other positions ([`Tokens`]).
pub fn import_and_check(
    feed: impl FnOnce(&mut Importer) -> Result<(), ImportError>,
    tokens: &Tokens,
) {
    let spill = fresh_dir("spill");
    let mut imp = Importer::new(options(spill.clone()), code_map(), key()).expect("importer");
    let fed = feed(&mut imp);
    match fed.and_then(|()| imp.finish()) {
        Ok(r) => {
            check_result(&r, tokens);
            drop(r);
        }
        Err(ImportError::Input(m)) => tokens.assert_not_in(&m, "an input error"),
        Err(e) => panic!("a default import stopped on a non-input error: {e}"),
    }
    let left: Vec<_> = fs::read_dir(&spill).expect("spill folder").collect();
    assert!(left.is_empty(), "temporary files left: {}", left.len());
}

fn check_result(r: &ImportResult, tokens: &Tokens) {
    let q = &r.quality;
    for i in &q.inputs {
        assert_eq!(
            i.records_read,
            i.mapped + i.ignored + i.unmapped + i.errors,
            "{i:?}"
        );
        assert_eq!(i.records_read, i.kinds.values().sum::<u64>(), "{i:?}");
    }
    assert_eq!(
        q.persons.seen,
        q.persons.included + q.persons.excluded.values().sum::<u64>()
    );
    assert_eq!(q.persons.included as usize, r.people.len());
    for p in &r.people {
        let b = &p.baseline;
        let c = b.covariates.continuous();
        let plausible = |name: &str, v: f64| {
            let (_, lo, hi) = cohort::file::PLAUSIBLE
                .iter()
                .find(|c| c.0 == name)
                .expect("a PLAUSIBLE column");
            assert!(v >= *lo && v <= *hi, "{name} = {v} outside {lo}–{hi}");
        };
        plausible("age_years", b.age_years);
        for (k, name) in engine::Covariates::CONTINUOUS.iter().enumerate() {
            plausible(name, c[k]);
        }
    }
    let rows = r.history_rows().expect("history reads back");
    assert!(rows
        .iter()
        .all(|h| (h.patient_id as usize) < r.people.len()));
    for (what, text) in [
        ("quality.json", q.to_json()),
        ("quality.csv", q.to_csv()),
        ("quality.md", q.to_markdown()),
    ] {
        tokens.assert_not_in(&text, what);
    }
}

/// The alphanumeric runs of an input that look like identifiers (at least 6 ASCII letters
/// and digits, with at least one of each), split by where they were found.
#[derive(Default, Debug)]
pub struct Tokens {
    private: HashSet<String>,
    public: HashSet<String>,
}

impl Tokens {
    /// Adds the runs of a value in an identifier position.
    pub fn private(&mut self, s: &str) {
        for_each_run(s, |t| {
            self.private.insert(t.to_string());
        });
    }

    /// Adds the runs of any other text of the input (a code, a unit, a key, a header).
    pub fn public(&mut self, s: &str) {
        for_each_run(s, |t| {
            self.public.insert(t.to_string());
        });
    }

    /// Panics if an identifier (a private run that is not also public) is a run of `text`.
    /// Whole runs are compared: an echoed value is copied whole, and a code such as
    /// `icd1234567` may contain a person id `1234567` by chance.
    pub fn assert_not_in(&self, text: &str, what: &str) {
        if self.private.is_empty() {
            return;
        }
        for_each_run(text, |t| {
            if self.private.contains(t) && !self.public.contains(t) {
                panic!("identifier `{t}` from the input appears in {what}:\n{text}");
            }
        });
    }
}

fn for_each_run(s: &str, mut f: impl FnMut(&str)) {
    for run in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        if run.len() >= 6
            && run.bytes().any(|b| b.is_ascii_digit())
            && run.bytes().any(|b| b.is_ascii_alphabetic())
        {
            f(run);
        }
    }
}

/// FHIR keys whose values identify a person or a record (or are free text that may): the
/// importer reads the references for linking and must never echo any of them.
pub const FHIR_PRIVATE_KEYS: [&str; 11] = [
    "id",
    "reference",
    "fullUrl",
    "identifier",
    "name",
    "telecom",
    "address",
    "text",
    "note",
    "contact",
    "display",
];

/// Sorts the strings of a JSON document into private (under a [`FHIR_PRIVATE_KEYS`] key at
/// any depth) and public runs. A document that does not parse counts as public text.
pub fn json_tokens(bytes: &[u8], tokens: &mut Tokens) {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => walk_json(&v, false, tokens),
        Err(_) => tokens.public(&String::from_utf8_lossy(bytes)),
    }
}

fn walk_json(v: &serde_json::Value, private: bool, tokens: &mut Tokens) {
    use serde_json::Value;
    match v {
        Value::String(s) if private => tokens.private(s),
        Value::String(s) => tokens.public(s),
        Value::Array(a) => a.iter().for_each(|x| walk_json(x, private, tokens)),
        Value::Object(o) => {
            for (k, x) in o {
                tokens.public(k);
                walk_json(
                    x,
                    private || FHIR_PRIVATE_KEYS.contains(&k.as_str()),
                    tokens,
                );
            }
        }
        _ => {}
    }
}

/// Sorts the cells of a CSV table (read as the importers read it) into the `person_id`
/// column (private) and everything else (public).
pub fn csv_tokens(bytes: &[u8], tokens: &mut Tokens) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let mut id_col = None;
    if let Ok(h) = r.byte_headers() {
        for (i, cell) in h.iter().enumerate() {
            let name = String::from_utf8_lossy(cell);
            tokens.public(&name);
            let name = name
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase();
            if name == "person_id" && id_col.is_none() {
                id_col = Some(i);
            }
        }
    }
    let mut rec = csv::ByteRecord::new();
    loop {
        match r.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                // What the reader could not split is public: it cannot be a person_id.
                tokens.public(&String::from_utf8_lossy(bytes));
                break;
            }
        }
        for (i, cell) in rec.iter().enumerate() {
            let cell = String::from_utf8_lossy(cell);
            if Some(i) == id_col {
                tokens.private(&cell);
            } else {
                tokens.public(&cell);
            }
        }
    }
}

/// Splits a fuzz input holding a folder of files: a line `=== NAME` starts the file NAME;
/// text before the first such line belongs to `first`. Names are reduced to a safe file
/// name (letters, digits, `.`, `_`, `-`; at most 64 bytes). Returns (name, content) pairs.
pub fn folder_sections<'a>(data: &'a [u8], first: &str) -> Vec<(String, &'a [u8])> {
    const MARK: &[u8] = b"=== ";
    let mut out = Vec::new();
    let mut name = first.to_string();
    let mut start = 0;
    let mut line = 0;
    while line < data.len() {
        let end = data[line..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |p| line + p + 1);
        if data[line..end].starts_with(MARK) {
            out.push((name, &data[start..line]));
            let raw = &data[line + MARK.len()..end];
            name = raw
                .iter()
                .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                .take(64)
                .map(|&b| b as char)
                .collect();
            if name.is_empty() || name.chars().all(|c| c == '.') {
                name = "unnamed".into();
            }
            start = end;
        }
        line = end;
    }
    out.push((name, &data[start..]));
    out
}

/// Writes the sections into a fresh folder `name` (a later file of the same name replaces an
/// earlier one) and returns the folder.
pub fn write_folder(name: &str, sections: &[(String, &[u8])]) -> PathBuf {
    let dir = fresh_dir(name);
    for (file, content) in sections {
        fs::write(dir.join(file), content).expect("write input file");
    }
    dir
}

/// The tokens of a folder input: file names are public, and each CSV file's cells sorted as
/// [`csv_tokens`] does.
pub fn folder_tokens(sections: &[(String, &[u8])]) -> Tokens {
    let mut t = Tokens::default();
    for (name, content) in sections {
        t.public(name);
        csv_tokens(content, &mut t);
    }
    t
}

/// Reads a cohort file as `run --cohort` does and checks the outcome: accepted people have
/// dense ids and plausible values; an error's message (the part after the file, place and
/// column) holds no identifier-like run of the file's bytes.
pub fn check_cohort_file(path: &Path, data: &[u8]) {
    match cohort::file::read(path) {
        Ok(people) => {
            for (i, b) in people.iter().enumerate() {
                assert_eq!(b.id, i as u64);
                let c = b.covariates.continuous();
                for (name, v) in std::iter::once(("age_years", b.age_years))
                    .chain(engine::Covariates::CONTINUOUS.iter().copied().zip(c))
                {
                    let (_, lo, hi) = cohort::file::PLAUSIBLE
                        .iter()
                        .find(|p| p.0 == name)
                        .expect("a PLAUSIBLE column");
                    assert!(v >= *lo && v <= *hi, "{name} = {v}");
                }
            }
        }
        Err(cohort::CohortError::File { message, .. }) => {
            let mut t = Tokens::default();
            t.private(&String::from_utf8_lossy(data));
            t.assert_not_in(&message, "a cohort-file error");
        }
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}
