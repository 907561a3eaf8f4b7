//! `healthtwin plan`: the library's example town runs and writes its report, tables, charts
//! and manifest (last); a planner's register CSV replaces the structure; bad input exits
//! with code 2 before anything is written, naming the file and line, never echoing data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn healthtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
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

fn out_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn the_example_town_writes_its_report_with_the_manifest_last() {
    let dir = tempfile::tempdir().unwrap();
    let out = out_dir(dir.path(), "plan");
    let o = healthtwin(&[
        "plan",
        &library("example_town_plan.toml"),
        "-r",
        "2",
        "-y",
        "2",
        "--sample",
        "3000",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The terminal speaks the town's numbers: its 65+ residents, not the sample's.
    assert!(
        stdout.contains("Residents 65+ on 1 April 2027: 8,700"),
        "{stdout}"
    );
    assert!(stdout.contains("each stands for"), "{stdout}");
    for f in [
        "plan_report.html",
        "plan_by_year.csv",
        "plan_by_year.parquet",
        "plan_by_age.csv",
        "plan_options.csv",
        "plan_sweep.csv",
        "plan_residents.csv",
        "plan_pyramid.png",
        "plan_pyramid.svg",
        "plan_care_demand.png",
        "plan_sweep.svg",
        "manifest.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["arms"].as_array().unwrap().len(), 14);
    assert_eq!(manifest["disclosure_threshold"], 10);
    let newest = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().modified().unwrap())
        .max()
        .unwrap();
    let manifest_time = std::fs::metadata(out.join("manifest.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(newest, manifest_time, "manifest.json is written last");
    let html = std::fs::read_to_string(out.join("plan_report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"ja\">"));
    assert!(html.contains("例示町の介護予防計画"));
}

#[test]
fn bad_input_exits_with_code_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("register.csv");
    std::fs::write(
        &csv,
        "sex,age_band,count\nmale,65-69,120\nfemale,65-69,Tanaka Hanako\n",
    )
    .unwrap();
    let out = out_dir(dir.path(), "bad");
    let o = healthtwin(&[
        "plan",
        &library("example_town_plan.toml"),
        "--residents",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("register.csv:3") && err.contains("count"),
        "{err}"
    );
    assert!(!err.contains("Tanaka"), "input data is never echoed: {err}");
    assert!(
        !out.exists(),
        "nothing is written before the input is checked"
    );

    let plan = dir.path().join("p.toml");
    std::fs::write(
        &plan,
        "name = \"p\"\n[town]\nstructure = \"national\"\npopulation = 1000\n\
         [[programme]]\nname = \"salon\"\ntype = \"community_salon\"\nuptak = 0.5\n",
    )
    .unwrap();
    let o = healthtwin(&[
        "plan",
        plan.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("p.toml:") && err.contains("uptak"), "{err}");

    let o = healthtwin(&["plan", &library("example_town_plan.toml"), "--lang", "fr"]);
    assert_eq!(o.status.code(), Some(2));
}
