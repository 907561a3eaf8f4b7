//! Cohort files: the CSV and the Parquet that `healthtwin cohort synth` writes hold the same
//! people, bit for bit; a bad file is refused with the file, the place and the column named,
//! and never a text from the file.

use std::fs;
use std::path::{Path, PathBuf};

use cohort::file;
use cohort::{Generator, SyntheticSpec};
use engine::Baseline;
use report::outputs::cohort_table;
use report::{write_csv, write_parquet};

fn synthetic(n: u64, seed: u64) -> Vec<Baseline> {
    Generator::new(SyntheticSpec {
        n,
        seed,
        ..Default::default()
    })
    .unwrap()
    .generate()
}

/// Writes `people` as `cohort synth` does (same table, same writer) to `dir/name`.
fn write(dir: &Path, name: &str, people: &[Baseline]) -> PathBuf {
    let path = dir.join(name);
    let table = cohort_table(people, &|id| format!("syn-1-{id}"));
    if name.to_ascii_lowercase().ends_with(".csv") {
        write_csv(&table, &path).unwrap();
    } else {
        write_parquet(&table, &path).unwrap();
    }
    path
}

#[test]
fn csv_and_parquet_of_one_synthetic_cohort_read_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let people = synthetic(500, 1);
    let csv = file::read(&write(dir.path(), "cohort.csv", &people)).unwrap();
    let parquet = file::read(&write(dir.path(), "cohort.parquet", &people)).unwrap();
    assert_eq!(csv.len(), 500);
    assert_eq!(csv, parquet);
    // Floats are written in shortest round-trip form: the bits survive the text.
    assert_eq!(csv, people);
    let upper = file::read(&write(dir.path(), "COHORT.CSV", &people)).unwrap();
    assert_eq!(upper, people);
}

/// Two people as `cohort synth` writes them; lines 2 and 3 are the data rows.
fn valid_csv() -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::read_to_string(write(dir.path(), "c.csv", &synthetic(2, 3))).unwrap()
}

/// `text` with the cell of `column` on `line` (1-based, the header is line 1) replaced.
fn with_cell(text: &str, line: usize, column: &str, value: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let k = lines[0].split(',').position(|c| c == column).unwrap();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i + 1 == line {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells[k] = value;
            out.push_str(&cells.join(","));
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    out
}

/// Reading `bytes` as `bad.csv` fails with an error containing `expected`, and none of the
/// `withheld` texts.
fn check(bytes: &[u8], expected: &str, withheld: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    fs::write(&path, bytes).unwrap();
    let e = file::read(&path).unwrap_err().to_string();
    assert!(e.contains(expected), "`{e}` does not contain `{expected}`");
    let after_path = e.strip_prefix(&path.display().to_string()).unwrap();
    for w in withheld {
        assert!(!after_path.contains(w), "`{e}` echoes `{w}`");
    }
}

#[test]
fn csv_errors_name_file_line_and_column_and_withhold_the_text() {
    let ok = valid_csv();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.csv");
    fs::write(&path, &ok).unwrap();
    assert_eq!(file::read(&path).unwrap(), synthetic(2, 3));
    // As a spreadsheet saves it: a byte-order mark, CRLF line ends, blanks around cells.
    let saved = format!("\u{feff}{}", ok.replace(',', " , ").replace('\n', "\r\n"));
    fs::write(&path, saved).unwrap();
    assert_eq!(file::read(&path).unwrap(), synthetic(2, 3));

    let name = "山田太郎";
    check(
        with_cell(&ok, 3, "sex", name).as_bytes(),
        "bad.csv, line 3: column `sex`: must be `male` or `female`",
        &[name],
    );
    check(
        with_cell(&ok, 2, "sbp_mmhg", "MRN-4471").as_bytes(),
        "bad.csv, line 2: column `sbp_mmhg`: must be a number",
        &["MRN-4471"],
    );
    check(
        with_cell(&ok, 2, "sbp_mmhg", "900").as_bytes(),
        "line 2: column `sbp_mmhg`: 900 is outside the plausible range 60–300",
        &[],
    );
    check(
        with_cell(&ok, 3, "smoker", "").as_bytes(),
        "line 3: column `smoker`: value is missing",
        &[],
    );
    check(
        with_cell(&ok, 2, "dx_diabetes", "yes since 2019").as_bytes(),
        "line 2: column `dx_diabetes`: must be true/false or 0/1",
        &["2019"],
    );
    // A flag column the model does not use is still checked, and named.
    let extra: String = ok
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l},{}\n", if i == 0 { "dx_gout" } else { "false" }))
        .collect();
    check(
        with_cell(&extra, 3, "dx_gout", "ja").as_bytes(),
        "line 3: column `dx_gout`: must be true/false or 0/1",
        &[],
    );

    // Structure: a short line, the header alone, a missing or a repeated column.
    let short: String = ok
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            2 => format!("{}\n", &l[..l.rfind(',').unwrap()]),
            _ => format!("{l}\n"),
        })
        .collect();
    check(short.as_bytes(), "line 3: column `-`: the line has", &[]);
    let header = format!("{}\n", ok.lines().next().unwrap());
    check(
        header.as_bytes(),
        "column `-`: the cohort file has no rows",
        &[],
    );
    check(
        ok.replace("hdl_mg_dl", "hdl").as_bytes(),
        "column `hdl_mg_dl`: required column is missing",
        &[],
    );
    check(
        ok.replacen("patient_id", "tc_mg_dl", 1).as_bytes(),
        "column `tc_mg_dl`: the column appears more than once",
        &[],
    );

    // Not UTF-8 (Shift_JIS) in a column we read.
    let mut sjis = with_cell(&ok, 2, "sex", "@@").into_bytes();
    let at = sjis.windows(2).position(|w| w == b"@@").unwrap();
    sjis.splice(at..at + 2, [0x8e, 0x52, 0x93, 0x63]);
    check(&sjis, "line 2: column `sex`: not valid UTF-8", &[]);

    // Free text in a column we do not read is fine, and a quoted line break moves the
    // next record to line 4.
    let note = with_cell(&ok, 3, "sbp_mmhg", "oops");
    let note = with_cell(
        &note,
        2,
        "pseudo_id",
        "\"a note, with \"\"quotes\"\"\nand a break\"",
    );
    check(
        note.as_bytes(),
        "line 4: column `sbp_mmhg`: must be a number",
        &["oops", "note"],
    );
}

#[test]
fn parquet_errors_name_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut people = synthetic(3, 4);
    people[1].covariates.sbp_mmhg = 900.0;
    let path = write(dir.path(), "bad.parquet", &people);
    let e = file::read(&path).unwrap_err().to_string();
    assert!(
        e.contains("bad.parquet, row 2: column `sbp_mmhg`: 900 is outside the plausible range"),
        "{e}"
    );
    // A CSV under a Parquet name is read as Parquet, and refused naming the file.
    let csv = write(dir.path(), "c.csv", &synthetic(2, 4));
    let renamed = dir.path().join("c.parquet");
    fs::rename(&csv, &renamed).unwrap();
    let e = file::read(&renamed).unwrap_err().to_string();
    assert!(
        e.contains("c.parquet: column `-`: not a readable Parquet file"),
        "{e}"
    );
}

/// Found by fuzzing (`fuzz/`, target `cohort_parquet`): a footer whose column chunk has a
/// negative offset made the parquet crate's row reader panic.
#[test]
fn parquet_with_a_negative_column_offset_is_refused_not_a_panic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/broken/negative_column_offset.parquet");
    let e = file::read(&path).unwrap_err().to_string();
    assert!(
        e.contains("negative_column_offset.parquet: column `-`: not a readable Parquet file"),
        "{e}"
    );
}

/// Found by fuzzing (`fuzz/`, target `cohort_parquet`): a data page that is dictionary-encoded
/// in a column chunk without a dictionary page made the parquet crate panic while reading
/// rows. Such panics of the crate are contained: the file is refused, named.
#[test]
fn parquet_with_a_page_missing_its_dictionary_is_refused_not_a_panic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/broken/missing_dictionary.parquet");
    let e = file::read(&path).unwrap_err().to_string();
    assert!(
        e.contains("missing_dictionary.parquet, row 1: column `-`: not a readable Parquet file: its pages are damaged"),
        "{e}"
    );
}
