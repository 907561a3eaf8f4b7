//! End-to-end tests of `healthtwin compare`: every library scenario runs, common random
//! numbers narrow the interval of a difference, PSA writes an acceptability curve, bad
//! scenario files are refused with exit code 2 and their location.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `healthtwin compare ARGS`.
fn healthtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .arg("compare")
        .args(args)
        .output()
        .expect("binary runs")
}

fn library(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/library")
        .join(name)
        .display()
        .to_string()
}

/// (mean, lo95, hi95) of a whole-horizon row of compare_totals.csv.
fn total(dir: &Path, scenario: &str, comparison_prefix: &str, measure: &str) -> (f64, f64, f64) {
    let text = fs::read_to_string(dir.join("compare_totals.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f[col("scenario")] == scenario
            && f[col("comparison")].starts_with(comparison_prefix)
            && f[col("measure")] == measure
        {
            let v = |n: &str| f[col(n)].parse::<f64>().unwrap();
            return (v("mean"), v("lo95"), v("hi95"));
        }
    }
    panic!("no row {scenario} {comparison_prefix} {measure}");
}

#[test]
fn every_library_scenario_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all");
    let names = [
        "baseline.toml",
        "dpp_virtual_trial.toml",
        "municipal_frailty_prevention.toml",
        "bp_lipid_control.toml",
        "combined.toml",
    ];
    let files: Vec<String> = names.iter().map(|n| library(n)).collect();
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    let out_s = out.display().to_string();
    args.extend([
        "-n",
        "400",
        "-y",
        "3",
        "-r",
        "2",
        "-q",
        "--threads",
        "2",
        "-o",
        &out_s,
    ]);
    let o = healthtwin(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "manifest.json",
        "compare_totals.csv",
        "compare_totals.parquet",
        "compare_by_year.csv",
        "compare_by_age.parquet",
        "compare_economics.csv",
        "compare_replicates.csv",
        "cumulative_incidence_t2d.png",
        "cumulative_incidence_t2d.svg",
        "averted_by_year.png",
        "ce_plane.svg",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // Every programme enrols someone in its scenario (the interventions reached the model).
    for s in [
        "dpp_virtual_trial",
        "municipal_frailty_prevention",
        "bp_lipid_control",
        "combined",
    ] {
        let (enrol, _, _) = total(&out, s, "level", "programme_enrolments");
        assert!(enrol > 0.0, "{s}: no enrolments");
    }
    let (base_enrol, _, _) = total(&out, "baseline", "level", "programme_enrolments");
    assert_eq!(base_enrol, 0.0);
}

fn run_pair(dir: &Path, tag: &str, independent: bool) -> PathBuf {
    let out = dir.join(tag);
    let out_s = out.display().to_string();
    let a = library("baseline.toml");
    let b = library("bp_lipid_control.toml");
    let mut args = vec![
        a.as_str(),
        b.as_str(),
        "-n",
        "1500",
        "-y",
        "5",
        "-r",
        "8",
        "-q",
        "-o",
        &out_s,
    ];
    if independent {
        args.push("--independent");
    }
    let o = healthtwin(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn common_random_numbers_narrow_the_interval_of_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    let crn = run_pair(dir.path(), "crn", false);
    let ind = run_pair(dir.path(), "ind", true);
    for measure in ["t2d_cases", "life_years", "deaths"] {
        let (_, lo_c, hi_c) = total(&crn, "bp_lipid_control", "difference", measure);
        let (_, lo_i, hi_i) = total(&ind, "bp_lipid_control", "difference", measure);
        assert!(
            (hi_c - lo_c) < (hi_i - lo_i),
            "{measure}: CRN width {} is not below independent width {}",
            hi_c - lo_c,
            hi_i - lo_i
        );
    }
    // The reference is the same run in both (its seed is unchanged by --independent).
    assert_eq!(
        total(&crn, "baseline", "level", "t2d_cases"),
        total(&ind, "baseline", "level", "t2d_cases")
    );
}

#[test]
fn psa_writes_an_acceptability_curve() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("psa");
    let out_s = out.display().to_string();
    let a = library("baseline.toml");
    let b = library("bp_lipid_control.toml");
    let o = healthtwin(&[
        &a, &b, "-n", "300", "-y", "2", "--psa", "5", "-q", "-o", &out_s,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ceac = fs::read_to_string(out.join("ceac.csv")).unwrap();
    let probs: Vec<f64> = ceac
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(probs.len(), 101);
    assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
    assert!(out.join("ceac.png").exists() && out.join("ceac.svg").exists());
    // PSA needs an [uncertainty] table in the reference.
    let o = healthtwin(&[
        &b, &a, "-n", "300", "-y", "2", "--psa", "5", "-q", "-o", &out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[uncertainty]"));
}

#[test]
fn bad_scenario_files_exit_2_naming_file_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    fs::write(
        &bad,
        "name = \"x\"\n\n[[intervention]]\nname = \"a\"\ntype = \"statin\"\nuptake = 1.5\n",
    )
    .unwrap();
    let out_s = dir.path().join("o").display().to_string();
    let o = healthtwin(&[bad.to_str().unwrap(), "-q", "-o", &out_s]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:6:1") && err.contains("intervention[0].uptake"),
        "{err}"
    );
    // Nothing was written.
    assert!(!dir.path().join("o").join("manifest.json").exists());
}
