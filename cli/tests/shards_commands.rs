//! Shards of `twin --cohort`, `plan` and `trial` and their merge (docs/shards.md): split
//! into 1, 2 and 4 shards they merge into exactly the files of the unsharded command
//! (manifest.json apart from its times and thread count); more shards than whole parts (a
//! cohort's batches, a plan's or trial's replicates) is refused with the limit named; shards
//! of another run, a shard given twice or a missing shard are refused, naming the folder or
//! the shard, and nothing is written.

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

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Removes the times (and the thread count) from a manifest: the keys `wall_time_seconds`,
/// `threads`, `seconds` (twin's wall time; plan's per-arm simulation seconds), wherever
/// they are.
fn without_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            for k in ["wall_time_seconds", "threads", "seconds"] {
                o.remove(k);
            }
            o.values_mut().for_each(without_times);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(without_times),
        _ => {}
    }
}

fn manifest_without_times(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("manifest.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    without_times(&mut v);
    v
}

/// Every file of `a` and `b` is the same, byte for byte (manifest.json: but for times).
fn assert_same_outputs(a: &Path, b: &Path) {
    let names = |d: &Path| {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let files = names(a);
    assert_eq!(files, names(b), "{} and {}", a.display(), b.display());
    assert!(files.iter().any(|f| f == "manifest.json"));
    assert!(files.len() > 3, "{files:?}");
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

/// Runs `args` (a command and its flags, without --out) as shard `i/n` into `dir/tag-n-i`.
fn shard(dir: &Path, tag: &str, args: &[String], i: u32, n: u32) -> String {
    let out = s(&dir.join(format!("{tag}-{n}-{i}")));
    let sh = format!("{i}/{n}");
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--shard", &sh, "--out", &out, "--threads", "1", "-q"]);
    ok(&a);
    out
}

/// Runs `args` as `n` shards, merges them in reverse order and returns the merged folder.
fn shard_and_merge(dir: &Path, args: &[String], n: u32) -> PathBuf {
    let folders: Vec<String> = (0..n).map(|i| shard(dir, "s", args, i, n)).collect();
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

/// `args` as shard `i/n` is refused (exit 2) with a message containing `needle`.
fn shard_refused(dir: &Path, args: &[String], i: u32, n: u32, needle: &str) {
    let out = s(&dir.join("refused"));
    let sh = format!("{i}/{n}");
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--shard", &sh, "--out", &out, "-q"]);
    let o = healthtwin(&a);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "{err}");
    assert!(!dir.join("refused").join("manifest.json").exists());
}

/// `merge` of `dirs` is refused (exit 2) with a message containing every `needles`, and
/// writes nothing.
fn merge_refused(dir: &Path, dirs: &[&str], needles: &[&str]) {
    let out = dir.join("refused-merge");
    let out_s = s(&out);
    let mut a = vec!["merge"];
    a.extend(dirs);
    a.extend(["--out", &out_s, "-q"]);
    let o = healthtwin(&a);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n} not in: {err}");
    }
    assert!(!out.exists(), "merge wrote {}", out.display());
}

/// A shard of another run (other seed), a shard twice and a missing shard are refused.
fn refuses_what_is_not_one_run(dir: &Path, args: &[String], seed_flag: &str) {
    let a = shard(dir, "r", args, 0, 2);
    let b = shard(dir, "r", args, 1, 2);
    let mut other = args.to_vec();
    other.extend([seed_flag.to_string(), "99".into()]);
    let c = shard(dir, "o", &other, 1, 2);
    merge_refused(dir, &[&a, &c], &[&c, "another run", "seed"]);
    merge_refused(dir, &[&a, &a], &["given twice"]);
    merge_refused(dir, &[&a], &["1/2 missing"]);
    merge_refused(dir, &[&b, &a, &a], &["given twice"]);
}

/// A cohort folder of `people` synthetic people imported as `cohort import` writes it.
fn cohort(dir: &Path, people: &str) -> String {
    let csv = s(&dir.join("csv"));
    ok(&["twin", "validate", "--people", people, "--write-csv", &csv]);
    let cohort = s(&dir.join("cohort"));
    ok(&[
        "cohort",
        "import",
        "--csv",
        &csv,
        "--index-date",
        "2024-04-01",
        "--demo",
        "-q",
        "--out",
        &cohort,
    ]);
    cohort
}

fn twin_args(cohort: &str) -> Vec<String> {
    strings(&[
        "twin",
        "--cohort",
        cohort,
        "-k",
        "4",
        "--particles",
        "40",
        "--batch",
        "3",
        "--trial",
        "t2d:5:0.02:0.8",
        "--disclosure-threshold",
        "3",
    ])
}

#[test]
fn twin_cohort_shards_of_whole_batches_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = cohort(dir.path(), "14");
    let args = twin_args(&cohort);
    let whole = unsharded(dir.path(), &args);
    for n in [1, 2, 4] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
    // 14 people in batches of 3 are 5 batches: a shard holds whole batches.
    shard_refused(dir.path(), &args, 6, 7, "use at most 5 shards");
}

#[test]
fn twin_cohort_merge_refuses_what_is_not_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = cohort(dir.path(), "8");
    refuses_what_is_not_one_run(dir.path(), &twin_args(&cohort), "--seed");
}

fn plan_args() -> Vec<String> {
    strings(&[
        "plan",
        &repo("scenarios/library/example_town_plan.toml"),
        "-r",
        "4",
        "-y",
        "2",
        "--sample",
        "300",
    ])
}

#[test]
fn plan_shards_of_replicates_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let args = plan_args();
    let whole = unsharded(dir.path(), &args);
    for n in [1, 2, 4] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
    shard_refused(dir.path(), &args, 0, 7, "use at most 4 shards");
}

#[test]
fn plan_merge_refuses_what_is_not_one_run() {
    let dir = tempfile::tempdir().unwrap();
    refuses_what_is_not_one_run(dir.path(), &plan_args(), "--seed");
    refuses_a_file_changed_since_the_shards(dir.path(), &plan_args(), 1);
}

/// The merge reads the command's file (argument `at` of `args`) again: a file changed since
/// the shards ran is refused, named, and nothing is written.
fn refuses_a_file_changed_since_the_shards(dir: &Path, args: &[String], at: usize) {
    let copy = dir.join("changed.toml");
    fs::copy(&args[at], &copy).unwrap();
    let mut args = args.to_vec();
    args[at] = s(&copy);
    let a = shard(dir, "c", &args, 0, 2);
    let b = shard(dir, "c", &args, 1, 2);
    let mut text = fs::read_to_string(&copy).unwrap();
    text.push_str("\n# edited after the shards ran\n");
    fs::write(&copy, text).unwrap();
    merge_refused(
        dir,
        &[&a, &b],
        &["changed.toml", "changed since the shards ran"],
    );
}

fn trial_args() -> Vec<String> {
    strings(&[
        "trial",
        &repo("scenarios/trials/bench_two_arm.toml"),
        "--screened",
        "400",
        "-r",
        "4",
    ])
}

#[test]
fn trial_shards_of_replicates_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let args = trial_args();
    let whole = unsharded(dir.path(), &args);
    for n in [1, 2, 4] {
        assert_same_outputs(&whole, &shard_and_merge(dir.path(), &args, n));
    }
    shard_refused(dir.path(), &args, 0, 7, "use at most 4 shards");
}

#[test]
fn trial_merge_refuses_what_is_not_one_run() {
    let dir = tempfile::tempdir().unwrap();
    refuses_what_is_not_one_run(dir.path(), &trial_args(), "--seed");
    refuses_a_file_changed_since_the_shards(dir.path(), &trial_args(), 1);
}

/// `healthtwin slurm` writes job scripts for a trial's shards; run by hand (the task id
/// given as Slurm would), they merge into the unsharded bytes. More shards than replicates
/// (plan) or batches (twin --cohort) are refused when the scripts are written.
#[test]
fn slurm_scripts_of_trial_shards_merge_into_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let args = trial_args();
    let whole = unsharded(dir.path(), &args);
    let jobs = s(&dir.path().join("jobs"));
    let merged = s(&dir.path().join("merged"));
    let mut a = vec![
        "slurm", "--shards", "3", "--cpus", "1", "--jobs", &jobs, "--",
    ];
    a.extend(args.iter().map(String::as_str));
    a.extend(["--out", &merged]);
    ok(&a);
    let bash = |script: &str, task: Option<u32>| {
        let mut c = Command::new("bash");
        c.arg(Path::new(&jobs).join(script));
        if let Some(t) = task {
            c.env("SLURM_ARRAY_TASK_ID", t.to_string());
        }
        let o = c.output().expect("bash runs");
        assert!(
            o.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    for t in 0..3 {
        bash("shards.sbatch", Some(t));
    }
    bash("merge.sbatch", None);
    assert_same_outputs(&whole, Path::new(&merged));

    let refused = |command: &[String], needle: &str| {
        let jobs = s(&dir.path().join("refused-jobs"));
        let mut a = vec![
            "slurm", "--shards", "7", "--cpus", "1", "--jobs", &jobs, "--",
        ];
        a.extend(command.iter().map(String::as_str));
        a.extend(["--out", &merged]);
        let o = healthtwin(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{err}");
    };
    refused(&plan_args(), "use at most 4 shards");
    let cohort = cohort(dir.path(), "14");
    refused(&twin_args(&cohort), "use at most 5 shards");
}
