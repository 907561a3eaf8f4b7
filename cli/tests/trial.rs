//! End-to-end tests of `healthtwin trial`: every library trial file runs and writes its
//! tables and charts; a bad trial file is an input error naming the file, line and key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn healthtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn library(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/trials")
        .join(name)
}

#[test]
fn every_library_trial_runs_and_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    for (file, screened) in [
        ("dpp.toml", "6000"),
        ("lifestyle_factorial.toml", "3000"),
        ("bp_target.toml", "3000"),
        ("frailty_programme.toml", "2000"),
        ("bench_two_arm.toml", "400"),
    ] {
        let out = dir.path().join(file);
        let o = healthtwin(&[
            "trial",
            library(file).to_str().unwrap(),
            "--screened",
            screened,
            "-r",
            "2",
            "-q",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for f in [
            "trial_recruitment.csv",
            "trial_baseline.csv",
            "trial_results.csv",
            "trial_replicates.parquet",
            "trial_events.csv",
            "trial_events.parquet",
        ] {
            assert!(out.join(f).exists(), "{file}: no {f}");
        }
        let charts = std::fs::read_dir(&out)
            .unwrap()
            .filter(|e| {
                let n = e.as_ref().unwrap().file_name();
                let n = n.to_string_lossy();
                n.starts_with("km_") && (n.ends_with(".png") || n.ends_with(".svg"))
            })
            .count();
        assert!(charts >= 2, "{file}: {charts} charts");
    }
}

#[test]
fn a_bad_trial_file_names_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\nfollow_up_months = 12\n\n[[arm]]\nname = \"a\"\n\n[[outcome]]\nname = \"x\"\nevents = [\"t2d\", \"heart_attack\"]\n",
    )
    .unwrap();
    let o = healthtwin(&["trial", path.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:9")
            && err.contains("outcome[0].events[1]")
            && err.contains("heart_attack"),
        "{err}"
    );
    // A mechanism key that does not apply to the programme's type.
    std::fs::write(
        &path,
        "name = \"bad\"\nfollow_up_months = 12\n\n[[arm]]\nname = \"a\"\n\n[[arm.intervention]]\nname = \"s\"\ntype = \"statin\"\ntarget_sbp_mmhg = 120\n\n[[outcome]]\nname = \"x\"\nevents = [\"mi\"]\n",
    )
    .unwrap();
    let o = healthtwin(&["trial", path.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("arm[0].intervention[0].target_sbp_mmhg"),
        "{err}"
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(threads);
        let o = healthtwin(&[
            "trial",
            "dpp",
            "--screened",
            "8000",
            "-r",
            "2",
            "-q",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (a, b) = (run("1"), run("2"));
    for f in [
        "trial_events.csv",
        "trial_replicates.csv",
        "trial_baseline.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
}
