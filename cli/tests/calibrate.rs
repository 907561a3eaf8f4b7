//! End-to-end tests of `healthtwin calibrate`: a small ABC-SMC run writes its posterior,
//! point estimate and report; `compare --psa --posterior` draws from the posterior and `run
//! --params` reads the point estimate; `calibrate summarize` writes only cells above the
//! threshold and a federated fit reads the sites' files; bad inputs exit with code 2.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn healthtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const PARAMS: &str = r#"[[parameter]]
name = "cvd.hisayama.ischaemic_stroke_factor"
prior = "log_normal"
median = 0.716
sigma = 0.25
source = "test"

[[parameter]]
name = "fr.ltc.certification_log_rate"
prior = "normal"
mean = -3.1
sd = 0.3
source = "test"
"#;

/// Every `<svg …>…</svg>` block of the page is balanced XML (a tag stack over the block).
fn svg_blocks_are_well_formed(html: &str) -> usize {
    let mut count = 0;
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("every svg is closed") + start + 6;
        let block = &rest[start..end];
        let mut stack: Vec<String> = Vec::new();
        let mut i = 0;
        while let Some(lt) = block[i..].find('<') {
            let at = i + lt;
            let gt = block[at..].find('>').expect("tag closed") + at;
            let tag = &block[at + 1..gt];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name.trim()), "in {block:.200}");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap().to_string());
            }
            i = gt + 1;
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
        count += 1;
        rest = &rest[end..];
    }
    count
}

#[test]
fn abc_calibration_feeds_compare_psa_and_run_params() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params.toml");
    fs::write(&params, PARAMS).unwrap();
    let out = dir.path().join("cal");
    let o = healthtwin(&[
        "calibrate",
        &repo("calibration/targets/cvd.toml"),
        &repo("calibration/targets/frailty.toml"),
        "--params",
        params.to_str().unwrap(),
        "-n",
        "600",
        "--particles",
        "6",
        "--generations",
        "2",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&o);
    for f in [
        "posterior.parquet",
        "calibrated.toml",
        "targets.csv",
        "generations.csv",
        "report.html",
        "targets_z.png",
        "generations.svg",
        "manifest.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(
        !html.contains(" src=") && !html.contains("<link"),
        "no external resource"
    );
    assert!(!html.contains("<script"), "the report is static");
    // Targets chart, one marginal per parameter, the pairs matrix, the generations.
    assert_eq!(svg_blocks_are_well_formed(&html), 1 + 2 + 1 + 1);
    let targets = fs::read_to_string(out.join("targets.csv")).unwrap();
    assert_eq!(targets.lines().count(), 1 + 8 + 35, "one row per target");

    // compare --psa draws the posterior's particles.
    let cmp = dir.path().join("cmp");
    let o = healthtwin(&[
        "compare",
        &repo("scenarios/library/baseline.toml"),
        "--psa",
        "3",
        "--posterior",
        out.join("posterior.parquet").to_str().unwrap(),
        "-n",
        "300",
        "-y",
        "2",
        "-q",
        "--out",
        cmp.to_str().unwrap(),
    ]);
    ok(&o);
    let manifest = fs::read_to_string(cmp.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("cvd.hisayama.ischaemic_stroke_factor"),
        "{manifest}"
    );
    assert!(manifest.contains("posterior.parquet"));

    // run --params reads the point estimate.
    let run = dir.path().join("run");
    let o = healthtwin(&[
        "run",
        "-n",
        "200",
        "-y",
        "1",
        "-r",
        "1",
        "-q",
        "--params",
        out.join("calibrated.toml").to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    ok(&o);
    let plain = dir.path().join("plain");
    ok(&healthtwin(&[
        "run",
        "-n",
        "200",
        "-y",
        "1",
        "-r",
        "1",
        "-q",
        "--out",
        plain.to_str().unwrap(),
    ]));
    let hash = |d: &PathBuf| {
        let m = fs::read_to_string(d.join("manifest.json")).unwrap();
        m.lines()
            .find(|l| l.contains("parameter_hash_sha256"))
            .unwrap()
            .to_string()
    };
    assert_ne!(
        hash(&run),
        hash(&plain),
        "the parameter file changed nothing"
    );
}

#[test]
fn sites_summarise_without_small_cells_and_a_federated_fit_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for s in 0..2u32 {
        let emr = dir.path().join(format!("emr{s}"));
        ok(&healthtwin(&[
            "calibrate",
            "synth-cohort",
            "-n",
            "800",
            "-y",
            "2",
            "-s",
            &(10 + s).to_string(),
            "--out",
            emr.to_str().unwrap(),
        ]));
        let file = dir.path().join(format!("site{s}.csv"));
        ok(&healthtwin(&[
            "calibrate",
            "summarize",
            "--cohort-dir",
            emr.to_str().unwrap(),
            "--site",
            &format!("site{s}"),
            "-y",
            "2",
            "--threshold",
            "20",
            "--out",
            file.to_str().unwrap(),
        ]));
        let text = fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let mut rows = 0;
        for l in lines {
            let f: Vec<&str> = l.split(',').collect();
            let n: u64 = f[col("n")].parse().unwrap();
            let events: u64 = f[col("events")].parse().unwrap();
            assert!(
                n >= 20 && (events == 0 || events >= 20),
                "small cell written: {l}"
            );
            rows += 1;
        }
        assert!(rows > 0);
        assert!(
            !text.contains("sim-"),
            "a pseudonym leaked into the summary"
        );
        files.push(file);
    }
    let params = dir.path().join("p.toml");
    fs::write(
        &params,
        "[[parameter]]\nname = \"cvd.care.start_bp_after_checkup\"\nprior = \"uniform\"\nlo = 0.02\nhi = 0.5\nsource = \"test\"\nsite_offset_sd = 0.3\n",
    )
    .unwrap();
    let out = dir.path().join("fed");
    let o = healthtwin(&[
        "calibrate",
        "--params",
        params.to_str().unwrap(),
        "--sites",
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "--site-offsets",
        "-n",
        "800",
        "--method",
        "nelder-mead",
        "--max-iterations",
        "5",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&o);
    let toml = fs::read_to_string(out.join("calibrated.toml")).unwrap();
    assert!(toml.contains("cvd.care.start_bp_after_checkup"));
    assert!(!toml.contains('@'), "site offsets are not model parameters");
}

#[test]
fn bad_inputs_exit_with_code_2_and_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("t.toml");
    fs::write(
        &bad,
        "[[target]]\nname = \"x\"\nstatistic = \"prevalence\"\nmetric = \"no_such_metric\"\nvalue = 1.0\nse = 1.0\nsource = \"s\"\n",
    )
    .unwrap();
    let params = dir.path().join("p.toml");
    fs::write(&params, PARAMS).unwrap();
    let o = healthtwin(&[
        "calibrate",
        bad.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
        "-n",
        "200",
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no_such_metric") && err.contains("`x`"),
        "{err}"
    );
    let o = healthtwin(&[
        "calibrate",
        &repo("calibration/targets/cvd.toml"),
        "--params",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("parameter"));
}
