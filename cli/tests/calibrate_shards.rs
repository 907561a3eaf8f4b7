//! A calibration's ABC-SMC in rounds (docs/shards.md, "Sharding a calibration"): shards of
//! every round (`--shard i/n`, then `--merge-round`) and a checkpointed run killed after any
//! round (`--checkpoint`, `--resume`) give the outputs of the uninterrupted, unsharded
//! calibration: the same posterior, point estimate, targets and charts, bit for bit (only
//! times differ: the generations' `seconds`, the manifest's rates, the report's command).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

/// A small calibration whose generation 1 takes two rounds of candidates.
fn fit(extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "calibrate".into(),
        repo("calibration/targets/diabetes.toml"),
        "--params".into(),
        repo("calibration/params/diabetes.toml"),
        "-n".into(),
        "400".into(),
        "--particles".into(),
        "8".into(),
        "--generations".into(),
        "3".into(),
        "-q".into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run(args: &[String]) -> Output {
    bin().args(args).output().unwrap()
}

fn ok(args: &[String]) {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn with_out(extra: &[&str], out: &Path) -> Vec<String> {
    let mut a = fit(extra);
    a.push("--out".into());
    a.push(out.display().to_string());
    a
}

/// The generations table without its `seconds` column (a time).
fn generations_without_seconds(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("generations.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

fn manifest_without_times(dir: &Path) -> serde_json::Value {
    let mut m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let o = m.as_object_mut().unwrap();
    for k in [
        "wall_time_seconds",
        "simulations_per_second",
        "patient_years_per_second",
        "threads",
        "command",
    ] {
        assert!(o.remove(k).is_some(), "manifest has {k}");
    }
    m
}

fn assert_same_outputs(a: &Path, b: &Path) {
    for f in [
        "posterior.parquet",
        "calibrated.toml",
        "targets.csv",
        "targets.parquet",
        "targets_z.png",
        "targets_z.svg",
        "generations.png",
        "generations.svg",
    ] {
        assert!(
            fs::read(a.join(f)).unwrap() == fs::read(b.join(f)).unwrap(),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    assert_eq!(
        generations_without_seconds(a),
        generations_without_seconds(b)
    );
    assert_eq!(manifest_without_times(a), manifest_without_times(b));
    assert!(b.join("report.html").exists());
}

/// Runs every round of a calibration in `n` shards into `out`: each shard of the round,
/// then the merge, until the outputs are complete. Returns the rounds.
fn sharded(n: u32, out: &Path) -> u32 {
    let mut rounds = 0;
    while !out.join("manifest.json").exists() {
        for i in 0..n {
            ok(&with_out(&["--shard", &format!("{i}/{n}")], out));
        }
        ok(&with_out(&["--merge-round"], out));
        rounds += 1;
        assert!(rounds < 50, "the calibration never ended");
    }
    rounds
}

#[test]
fn calibration_shards_1_2_4_and_7_give_the_unsharded_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    ok(&with_out(&[], &whole));
    let mut rounds = Vec::new();
    for n in [1, 2, 4, 7] {
        let out = dir.path().join(format!("shards-{n}"));
        rounds.push(sharded(n, &out));
        assert_same_outputs(&whole, &out);
        // The state stays (a task run again finds the calibration complete); the merged
        // rounds' files are gone.
        let left: Vec<String> = fs::read_dir(out.join("checkpoint"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            left.iter()
                .all(|f| f == "state.bin" || f == "identity.json"),
            "{left:?}"
        );
        let again = run(&with_out(&["--shard", "0/2"], &out));
        assert!(again.status.success());
        assert!(out.join("manifest.json").exists());
    }
    // Generation 0, generation 1 in two rounds, generation 2: the same rounds for every n.
    assert_eq!(rounds, [4, 4, 4, 4]);
}

#[test]
fn calibration_resumed_after_each_round_gives_the_uninterrupted_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    ok(&with_out(&[], &whole));
    // After round 3, the last, the state is complete and the outputs are not yet written.
    for k in 0..4 {
        let out = dir.path().join(format!("killed-{k}"));
        let o = bin()
            .args(with_out(&["--checkpoint"], &out))
            .env("HEALTHTWIN_TEST_ABORT_AFTER_ROUND", (k + 1).to_string())
            .output()
            .unwrap();
        assert!(!o.status.success(), "aborted after round {k}");
        assert!(!out.join("manifest.json").exists());
        assert!(out.join("checkpoint/state.bin").exists());
        ok(&with_out(&["--resume"], &out));
        assert!(
            !out.join("checkpoint").exists(),
            "checkpoint removed when done"
        );
        assert_same_outputs(&whole, &out);
    }
}

/// A real `kill -9` at timed moments (before any round is saved, between rounds, while
/// the outputs are written), then `--resume`: the uninterrupted outputs.
#[test]
fn kill_9_of_a_calibration_then_resume_gives_the_uninterrupted_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    ok(&with_out(&[], &whole));
    for (k, ms) in [50u64, 300, 700, 1200].into_iter().enumerate() {
        let out = dir.path().join(format!("kill-{k}"));
        let mut child = bin()
            .args(with_out(&["--checkpoint"], &out))
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
        ok(&with_out(&["--resume"], &out));
        assert_same_outputs(&whole, &out);
    }
}

fn state(out: &Path) -> Vec<u8> {
    fs::read(out.join("checkpoint/state.bin")).unwrap_or_default()
}

fn round_files(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(out.join("checkpoint"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("round-"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_round_with_a_missing_or_foreign_shard_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cal");
    // Round 0 of 3 shards, shard 1/3 missing.
    for i in [0, 2] {
        ok(&with_out(&["--shard", &format!("{i}/3")], &out));
    }
    let before = state(&out);
    let o = run(&with_out(&["--merge-round"], &out));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1/3") && err.contains("not finished"), "{err}");
    assert_eq!(state(&out), before, "nothing merged");
    assert_eq!(round_files(&out).len(), 2, "the shards' files stay");

    // A shard of another n in the same round.
    ok(&with_out(&["--shard", "1/2"], &out));
    let o = run(&with_out(&["--merge-round"], &out));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("same --shard i/n"), "{err}");
    assert_eq!(state(&out), before);

    // A shard of another calibration (another seed) into the same folder: refused, naming
    // the setting.
    let mut other = with_out(&["--shard", "1/3"], &out);
    other.extend(["--seed".into(), "2".into()]);
    let o = run(&other);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("another calibration") && err.contains("seed"),
        "{err}"
    );

    // A round file swapped for another shard's is refused, naming it.
    fs::remove_file(out.join("checkpoint/round-000000-shard-00001-of-00002.bin")).unwrap();
    ok(&with_out(&["--shard", "1/3"], &out));
    let files = round_files(&out);
    fs::copy(&files[0], &files[1]).unwrap();
    let o = run(&with_out(&["--merge-round"], &out));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("round-000000-shard-00001-of-00003.bin") && err.contains("expected"),
        "{err}"
    );
    assert_eq!(state(&out), before);

    // The shard again: the merge goes on.
    fs::remove_file(&files[1]).unwrap();
    ok(&with_out(&["--shard", "1/3"], &out));
    ok(&with_out(&["--merge-round"], &out));
    assert_ne!(state(&out), before);
    assert!(round_files(&out).is_empty());
}

#[test]
fn nelder_mead_does_not_shard_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nm");
    for flag in ["--shard=0/2", "--checkpoint", "--merge-round"] {
        let o = run(&with_out(&["--method", "nelder-mead", flag], &out));
        assert_eq!(o.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("one point after another"), "{err}");
    }
}

/// `healthtwin slurm -- calibrate …` writes one round's array and a merge that submits the
/// next round until the outputs exist; its tasks, run by hand, are the shards above.
#[test]
fn slurm_scripts_of_a_calibration_run_its_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("jobs");
    let out = dir.path().join("cal");
    let mut a: Vec<String> = vec![
        "slurm".into(),
        "--shards".into(),
        "3".into(),
        "--cpus".into(),
        "1".into(),
        "--jobs".into(),
        jobs.display().to_string(),
        "--".into(),
    ];
    a.extend(with_out(&[], &out));
    ok(&a);
    let shards = fs::read_to_string(jobs.join("shards.sbatch")).unwrap();
    assert!(shards.contains("#SBATCH --array=0-2") && shards.contains("--shard \"$i/3\""));
    let merge = fs::read_to_string(jobs.join("merge.sbatch")).unwrap();
    assert!(merge.contains("--merge-round") && merge.contains("submit.sh"));
    // The array's tasks by hand, then the merge's command: round 0 merged.
    for i in 0..3 {
        let o = Command::new("bash")
            .arg(jobs.join("shards.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(round_files(&out).len(), 3);
    ok(&with_out(&["--merge-round"], &out));
    assert!(round_files(&out).is_empty() && !state(&out).is_empty());

    // Nelder–Mead is refused.
    let mut nm = a.clone();
    nm.extend(["--method".into(), "nelder-mead".into()]);
    let o = run(&nm);
    assert_eq!(o.status.code(), Some(2));
}
