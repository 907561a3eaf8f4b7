//! Shards and their merge (docs/shards.md): `run` and `compare` split into 1, 2, 4 and 7
//! shards merge into exactly the bytes of the unsharded run (manifest.json apart from its
//! `wall_time_seconds` and `threads`); PSA shards by draw; folders that are not one complete
//! set of one run are refused with the folder named, and nothing is written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn healthtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn ok(args: &[&str]) {
    let o = healthtwin(args);
    assert!(
        o.status.success(),
        "healthtwin {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn library(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/library")
        .join(name)
        .display()
        .to_string()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The manifest without the fields that may differ between a run and its merge.
fn manifest_without_times(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("manifest.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let o = v.as_object_mut().unwrap();
    assert!(o.remove("wall_time_seconds").is_some());
    assert!(o.remove("threads").is_some());
    v
}

/// The files under `d` (sub-folders included, as `patients/part-….parquet`), sorted.
fn tree(d: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in fs::read_dir(d).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            v.extend(tree(&e.path()).into_iter().map(|f| format!("{name}/{f}")));
        } else {
            v.push(name);
        }
    }
    v.sort();
    v
}

/// Copies the folder `from` (and its sub-folders) to `to`.
fn copy_tree(from: &Path, to: &Path) {
    for f in tree(from) {
        let dest = to.join(&f);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(from.join(&f), dest).unwrap();
    }
}

/// Every file of the trees `a` and `b` is the same, byte for byte (manifest.json: but for
/// times).
fn assert_same_outputs(a: &Path, b: &Path) {
    let files = tree(a);
    assert_eq!(files, tree(b), "{} and {}", a.display(), b.display());
    assert!(files.iter().any(|f| f == "manifest.json"));
    for f in &files {
        if f == "manifest.json" {
            assert_eq!(manifest_without_times(a), manifest_without_times(b));
        } else {
            let (x, y) = (fs::read(a.join(f)).unwrap(), fs::read(b.join(f)).unwrap());
            assert!(
                x == y,
                "{f} differs between {} and {}",
                a.display(),
                b.display()
            );
        }
    }
}

/// Runs `args` (a command and its flags, without --out) as `n` shards into `dir/n-i`, merges
/// them in reverse order and returns the merged folder.
fn shard_and_merge(dir: &Path, args: &[String], n: u32) -> PathBuf {
    let mut folders = Vec::new();
    for i in 0..n {
        let out = dir.join(format!("{n}-{i}"));
        let shard = format!("{i}/{n}");
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out_s = s(&out);
        a.extend(["--shard", &shard, "--out", &out_s, "--threads", "1", "-q"]);
        ok(&a);
        folders.push(out_s);
    }
    let merged = dir.join(format!("merged-{n}"));
    let merged_s = s(&merged);
    let mut a = vec!["merge"];
    a.extend(folders.iter().rev().map(String::as_str));
    a.extend(["--out", &merged_s, "-q"]);
    ok(&a);
    merged
}

fn unsharded(dir: &Path, args: &[String]) -> PathBuf {
    let out = dir.join("whole");
    let out_s = s(&out);
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--out", &out_s, "--threads", "2", "-q"]);
    ok(&a);
    out
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn run_shards_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let args = strings(&[
        "run", "-n", "1500", "-y", "3", "-r", "2", "--trace", "4", "--seed", "7",
    ]);
    let whole = unsharded(dir.path(), &args);
    for n in [1, 2, 4, 7] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
}

/// More people than one block of patients/ (65,536): shards of whole blocks
/// (n ≤ 4 here; the merge links their part files) and shards that cut
/// blocks (7 shards of 4 blocks; the merge joins the cut blocks) both give the bytes.
#[test]
fn run_shards_of_whole_row_groups_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let people = (3 * 65_536 + 5_000).to_string();
    let args = strings(&["run", "-n", &people, "-y", "1", "-r", "2", "--seed", "3"]);
    let whole = unsharded(dir.path(), &args);
    for n in [1, 3, 4, 7] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
    let parts = tree(&whole.join("patients"));
    assert_eq!(parts.len(), 8, "{parts:?}");
    assert_eq!(parts[0], "part-r0000-b00000.parquet");
    assert_eq!(parts[7], "part-r0001-b00003.parquet");
    // Whole blocks are placed by hard link: the merged file is the shard's file.
    {
        use std::os::unix::fs::MetadataExt;
        let ino = |p: PathBuf| fs::metadata(p).unwrap().ino();
        for (i, part) in ["part-r0000-b00001.parquet", "part-r0001-b00003.parquet"]
            .iter()
            .enumerate()
        {
            let shard = dir.path().join(format!("4-{}/patients", 2 * i + 1));
            let merged = dir.path().join("merged-4/patients");
            assert_eq!(ino(shard.join(part)), ino(merged.join(part)), "{part}");
        }
    }
    let shards: Vec<PathBuf> = (0..4).map(|i| dir.path().join(format!("4-{i}"))).collect();
    let refs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let out = dir.path().join("bad");
    let part = |i: u32, r: u32| {
        dir.path()
            .join(format!("4-{i}/patients/part-r000{r}-b0000{i}.parquet"))
    };
    // A shard's part file swapped for another's, truncated, or changed in its footer is
    // refused, naming the folder and the file; nothing is written.
    let keep = fs::read(part(1, 0)).unwrap();
    fs::remove_file(part(1, 0)).unwrap();
    fs::copy(part(0, 0), part(1, 0)).unwrap();
    let e = refused(&refs, &out);
    assert!(e.contains("4-1: patients/part-r0000-b00001.parquet"), "{e}");
    fs::write(part(1, 0), &keep[..keep.len() - 100]).unwrap();
    let e = refused(&refs, &out);
    assert!(e.contains("4-1: patients/part-r0000-b00001.parquet"), "{e}");
    let mut changed = keep.clone();
    let at = changed.len() - 200;
    changed[at] ^= 1;
    fs::write(part(1, 0), &changed).unwrap();
    let e = refused(&refs, &out);
    assert!(e.contains("4-1: patients/part-r0000-b00001.parquet"), "{e}");
    // A missing part file.
    fs::remove_file(part(2, 1)).unwrap();
    fs::write(part(1, 0), &keep).unwrap();
    let e = refused(&refs, &out);
    assert!(e.contains("4-2: patients/part-r0001-b00002.parquet"), "{e}");
}

#[test]
fn run_shards_of_a_cohort_file_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = dir.path().join("cohort.csv");
    ok(&[
        "cohort",
        "synth",
        "-n",
        "900",
        "--seed",
        "3",
        "-o",
        &s(&cohort),
    ]);
    let args = vec![
        "run".to_string(),
        "--cohort".into(),
        s(&cohort),
        "-y".into(),
        "2".into(),
        "-r".into(),
        "1".into(),
    ];
    let whole = unsharded(dir.path(), &args);
    assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, 4));
}

#[test]
fn compare_shards_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["compare".to_string()];
    for f in [
        "baseline.toml",
        "bp_lipid_control.toml",
        "dpp_virtual_trial.toml",
    ] {
        args.push(library(f));
    }
    args.extend(strings(&["-n", "700", "-y", "3", "-r", "2"]));
    let whole = unsharded(dir.path(), &args);
    for n in [1, 2, 4, 7] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
}

/// A PSA splits its draws, so capacity-limited programmes (which couple people) shard too.
#[test]
fn psa_shards_by_draw_even_with_capacities() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "compare".to_string(),
        library("baseline.toml"),
        library("municipal_frailty_prevention.toml"),
    ];
    args.extend(strings(&["-n", "500", "-y", "2", "--psa", "4"]));
    let whole = unsharded(dir.path(), &args);
    for n in [1, 2, 4] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
    // More shards than draws: refused.
    let out = s(&dir.path().join("too-many"));
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--shard", "0/7", "--out", &out, "-q"]);
    let o = healthtwin(&a);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("more shards than PSA draws"));
}

#[test]
fn people_shards_of_capacity_limited_programmes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let o = healthtwin(&[
        "compare",
        &library("baseline.toml"),
        &library("municipal_frailty_prevention.toml"),
        "-n",
        "300",
        "-y",
        "1",
        "--shard",
        "0/2",
        "--out",
        &s(&out),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("capacity_per_year"), "{err}");
    assert!(err.contains("municipal_frailty_prevention.toml"), "{err}");
    assert!(!out.exists(), "nothing written");
}

/// The exit code and message of `merge DIRS --out OUT`; asserts OUT was not created.
fn refused(dirs: &[&Path], out: &Path) -> String {
    let mut a = vec!["merge".to_string()];
    a.extend(dirs.iter().map(|d| s(d)));
    a.extend(["--out".to_string(), s(out)]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = healthtwin(&a);
    assert_eq!(o.status.code(), Some(2), "{a:?}");
    assert!(!out.exists(), "nothing written for {a:?}");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn merge_refuses_what_is_not_one_complete_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shard = |name: &str, i: u32, n: u32, seed: &str| {
        let out = d.join(name);
        ok(&[
            "run",
            "-n",
            "300",
            "-y",
            "1",
            "-r",
            "1",
            "--seed",
            seed,
            "--shard",
            &format!("{i}/{n}"),
            "--out",
            &s(&out),
            "-q",
        ]);
        out
    };
    let a0 = shard("a0", 0, 3, "1");
    let a1 = shard("a1", 1, 3, "1");
    let a2 = shard("a2", 2, 3, "1");
    let other = shard("other", 2, 3, "2");
    let two = shard("two", 1, 2, "1");
    let out = d.join("merged");

    let e = refused(&[&a0, &a2], &out);
    assert!(e.contains("1/3 missing"), "{e}");
    let e = refused(&[&a0, &a1, &a2, &a1], &out);
    assert!(e.contains("given twice") && e.contains("a1"), "{e}");
    let e = refused(&[&a0, &a1, &other], &out);
    assert!(e.contains("other") && e.contains("seed"), "{e}");
    let e = refused(&[&a0, &a1, &two], &out);
    assert!(e.contains("two"), "{e}");

    // A shard folder without its manifest (killed before it finished).
    let unfinished = d.join("unfinished");
    copy_tree(&a2, &unfinished);
    fs::remove_file(unfinished.join("manifest.json")).unwrap();
    let e = refused(&[&a0, &a1, &unfinished], &out);
    assert!(
        e.contains("unfinished") && e.contains("manifest.json"),
        "{e}"
    );

    // A changed partials file.
    let changed = d.join("changed");
    copy_tree(&a2, &changed);
    let mut bytes = fs::read(changed.join("partials.bin")).unwrap();
    let last = bytes.len() - 1;
    bytes[last / 2] ^= 1;
    fs::write(changed.join("partials.bin"), bytes).unwrap();
    let e = refused(&[&a0, &a1, &changed], &out);
    assert!(e.contains("changed") && e.contains("partials.bin"), "{e}");

    // An output folder of an unsharded run is no shard.
    let whole = d.join("whole");
    ok(&[
        "run",
        "-n",
        "300",
        "-y",
        "1",
        "-r",
        "1",
        "--out",
        &s(&whole),
        "-q",
    ]);
    let e = refused(&[&a0, &a1, &whole], &out);
    assert!(e.contains("whole") && e.contains("not a shard"), "{e}");

    // The complete set merges.
    ok(&["merge", &s(&a0), &s(&a1), &s(&a2), "--out", &s(&out), "-q"]);
    assert!(out.join("manifest.json").exists());
}

/// Four municipalities, each with its own places of two capacity-limited programmes.
const REGIONS: &str = r#"
name = "regional_frailty_prevention"
description = "Four municipalities, each with its own salon and exercise places."
years = 2
replicates = 2
[population]
n = 1200
age_min = 65
age_max = 89
represents = 6000

[[intervention]]
name = "salon"
type = "community_salon"
priority = "random"
uptake = 0.5
capacity_per_year = 1000
cost_per_participant_year_yen = 10000
cost_source = "[A] test"
[intervention.eligibility]
age = { min = 65.0 }

[[intervention]]
name = "exercise_nutrition"
type = "exercise_nutrition"
priority = "frailty_index"
uptake = 0.6
capacity_per_year = 300
cost_per_participant_year_yen = 60000
cost_source = "[A] test"
[intervention.eligibility]
age = { min = 65.0 }
frailty_states = ["prefrail", "frail"]

[[region]]
name = "north"
people = 200
capacity_per_year = { salon = 100, exercise_nutrition = 60 }
[[region]]
name = "east"
people = 350
capacity_per_year = { salon = 400, exercise_nutrition = 90 }
[[region]]
name = "south"
people = 400
capacity_per_year = { salon = 300, exercise_nutrition = 0 }
[[region]]
name = "west"
people = 250
capacity_per_year = { salon = 200, exercise_nutrition = 150 }
"#;

/// A run whose population is several regions with their own places shards by region: 1,
/// 2 and 4 shards (of 4 regions) merge into the unsharded bytes; 7 shards (more than the
/// regions) are refused, as is a programme with places for the whole population next to
/// regional ones.
#[test]
fn region_shards_of_capacity_limited_programmes_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let regional = dir.path().join("regional.toml");
    fs::write(&regional, REGIONS).unwrap();
    let args = vec![
        "compare".to_string(),
        library("baseline.toml"),
        s(&regional),
        "--population-from".into(),
        "2".into(),
    ];
    let whole = unsharded(dir.path(), &args);
    for n in [1, 2, 4] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
    let out = dir.path().join("seven");
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out_s = s(&out);
    a.extend(["--shard", "6/7", "--out", &out_s, "-q"]);
    let o = healthtwin(&a);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("4 regions"), "{err}");
    assert!(!out.exists(), "nothing written");
    // A third scenario whose places are the whole population's cannot run on regions.
    let a = [
        "compare",
        &library("baseline.toml"),
        &s(&regional),
        &library("municipal_frailty_prevention.toml"),
        "--population-from",
        "2",
        "--out",
        &out_s,
        "-q",
    ];
    let o = healthtwin(&a);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("municipal_frailty_prevention.toml"), "{err}");
    assert!(err.contains("regions"), "{err}");
}
