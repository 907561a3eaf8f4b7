//! Golden fixed-seed summaries: small runs of `run`, `compare` on every library scenario and
//! `trial dpp`, rounded to 6 significant digits and compared with the files checked in under
//! `cli/tests/golden/`. A refactoring must leave them unchanged; a change of the model that
//! moves results regenerates them on purpose, with the reason in the commit:
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test --release -p healthtwin --test golden
//! ```
//!
//! The rounding keeps the files short and readable and makes them robust to a last-bit
//! difference that a platform could still introduce; byte-for-byte identity of the full
//! outputs across thread counts is tested in `cli.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn healthtwin(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .args(args)
        .output()
        .expect("binary runs");
    assert!(
        o.status.success(),
        "healthtwin {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn library(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/library")
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A number rounded to 6 significant digits (integers stay integers); text unchanged.
fn round_field(field: &str) -> String {
    match field.parse::<f64>() {
        Ok(x) if x.is_finite() && field.chars().any(|c| c.is_ascii_digit()) => {
            if x == x.trunc() && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                let s = format!("{x:.5e}");
                // Back to a plain decimal where that is short.
                let v: f64 = s.parse().expect("formatted number parses");
                let plain = format!("{v}");
                if plain.len() <= s.len() + 2 {
                    plain
                } else {
                    s
                }
            }
        }
        _ => field.to_string(),
    }
}

/// The rows of a CSV file that `keep` accepts (header always kept), with the columns
/// `drop` removed and every number rounded.
fn rounded_csv(path: &Path, keep: impl Fn(&[&str], &[&str]) -> bool, drop: &[&str]) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let kept: Vec<usize> = (0..header.len())
        .filter(|&i| !drop.contains(&header[i]))
        .collect();
    let mut out = String::new();
    let join = |fields: &[&str], round: bool| {
        kept.iter()
            .map(|&i| {
                if round {
                    round_field(fields[i])
                } else {
                    fields[i].to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    out.push_str(&join(&header, false));
    out.push('\n');
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), header.len(), "{}: {line}", path.display());
        if keep(&header, &fields) {
            out.push_str(&join(&fields, true));
            out.push('\n');
        }
    }
    out
}

fn column<'a>(header: &[&str], fields: &[&'a str], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    fields[i]
}

/// Compares `actual` with the checked-in golden file `name` (or rewrites it under
/// `UPDATE_GOLDEN=1`). Returns a description of the difference, if any.
fn check(name: &str, actual: &str) -> Option<String> {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(golden_dir()).unwrap();
        fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (generate with UPDATE_GOLDEN=1 cargo test --release -p healthtwin --test golden)",
            path.display()
        )
    });
    if expected == actual {
        return None;
    }
    let first = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}:\n  golden: {a}\n  now:    {b}", i + 1))
        .unwrap_or_else(|| {
            format!(
                "{} lines golden, {} now",
                expected.lines().count(),
                actual.lines().count()
            )
        });
    Some(format!("{name} differs at {first}"))
}

fn all_ages_both_sexes(h: &[&str], f: &[&str]) -> bool {
    column(h, f, "sex") == "all" && column(h, f, "age_band") == "all"
}

#[test]
fn golden_summaries_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = |s: &str| dir.path().join(s).display().to_string();
    let mut diffs = Vec::new();

    // run: every metric by year, all ages and both sexes.
    healthtwin(&[
        "run",
        "-q",
        "--patients",
        "2000",
        "--years",
        "6",
        "--replicates",
        "2",
        "--seed",
        "11",
        "--out",
        &d("run"),
    ]);
    let summary = rounded_csv(
        &dir.path().join("run/summary.csv"),
        all_ages_both_sexes,
        &[],
    );
    diffs.extend(check("run_summary.csv", &summary));

    // compare: the baseline against each library scenario (whole-horizon totals and the
    // economic summary).
    for scenario in [
        "bp_lipid_control",
        "combined",
        "dpp_virtual_trial",
        "municipal_frailty_prevention",
    ] {
        let out = d(&format!("cmp_{scenario}"));
        healthtwin(&[
            "compare",
            "-q",
            &library("baseline"),
            &library(scenario),
            "-n",
            "2000",
            "-y",
            "6",
            "-r",
            "2",
            "-o",
            &out,
        ]);
        let mut text = rounded_csv(
            &Path::new(&out).join("compare_totals.csv"),
            |_, _| true,
            &[],
        );
        text.push_str(&rounded_csv(
            &Path::new(&out).join("compare_economics.csv"),
            |_, _| true,
            &[],
        ));
        diffs.extend(check(&format!("compare_{scenario}.csv"), &text));
    }

    // trial dpp: the library's DPP file (three randomised arms, one replicate).
    healthtwin(&[
        "trial",
        "dpp",
        "--screened",
        "12000",
        "-r",
        "2",
        "-q",
        "--out",
        &d("dpp"),
    ]);
    let arms = rounded_csv(&dir.path().join("dpp/trial_results.csv"), |_, _| true, &[]);
    diffs.extend(check("trial_dpp.csv", &arms));

    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}
