//! Checkpoints (`run`, `compare`, `trial`, `plan` with `--checkpoint`, `--resume`;
//! docs/shards.md): a run killed after any replicate's or block's checkpoint (inside a
//! replicate too), or by `kill -9` at a timed moment, and then resumed, writes the bytes of
//! an uninterrupted run (manifest.json apart from its times and thread count).

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
}

fn healthtwin(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn ok(args: &[&str]) {
    let o = healthtwin(args);
    assert!(
        o.status.success(),
        "healthtwin {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Removes the times (and the thread count) from a manifest: the keys `wall_time_seconds`,
/// `threads`, `seconds` (plan's per-arm simulation seconds), wherever they are.
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

/// The same files under `a` and `b`, byte for byte (manifest.json: but for times).
fn assert_same_outputs(a: &Path, b: &Path) {
    let files = tree(a);
    assert_eq!(files, tree(b), "{} and {}", a.display(), b.display());
    for f in &files {
        if f == "manifest.json" {
            assert_eq!(manifest_without_times(a), manifest_without_times(b));
        } else {
            assert!(
                fs::read(a.join(f)).unwrap() == fs::read(b.join(f)).unwrap(),
                "{f} differs between {} and {}",
                a.display(),
                b.display()
            );
        }
    }
}

const RUN: [&str; 9] = ["run", "-n", "1200", "-y", "3", "-r", "3", "--trace", "3"];

fn with_out<'a>(base: &[&'a str], out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = base.to_vec();
    a.extend(["--out", out, "-q"]);
    a.extend(extra);
    a
}

#[test]
fn resumed_after_each_replicate_gives_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let whole_s = whole.display().to_string();
    ok(&with_out(&RUN, &whole_s, &[]));
    for k in 0..3 {
        let out = dir.path().join(format!("killed-{k}"));
        let out_s = out.display().to_string();
        let o = bin()
            .args(with_out(&RUN, &out_s, &["--checkpoint"]))
            .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", k.to_string())
            .output()
            .unwrap();
        assert!(!o.status.success(), "aborted after replicate {k}");
        assert!(!out.join("manifest.json").exists());
        // RUN has one block of people (1,200): replicate k's block is done.
        assert!(out
            .join(format!("checkpoint/block-r000{k}-b00000.bin"))
            .exists());
        ok(&with_out(&RUN, &out_s, &["--resume"]));
        assert!(
            !out.join("checkpoint").exists(),
            "checkpoint removed when done"
        );
        assert_same_outputs(&whole, &out);
    }
}

#[test]
fn a_shard_resumes_to_the_same_shard_folder() {
    let dir = tempfile::tempdir().unwrap();
    let shard = ["--shard", "1/3"];
    let whole = dir.path().join("whole").display().to_string();
    ok(&with_out(&RUN, &whole, &shard));
    let out = dir.path().join("killed").display().to_string();
    let mut a = with_out(&RUN, &out, &shard);
    a.push("--checkpoint");
    let o = bin()
        .args(&a)
        .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", "1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let mut a = with_out(&RUN, &out, &shard);
    a.push("--resume");
    ok(&a);
    let (x, y) = (Path::new(&whole), Path::new(&out));
    let parts = tree(&x.join("patients"));
    assert_eq!(parts, tree(&y.join("patients")));
    assert!(!parts.is_empty());
    for f in ["partials.bin", "trace.parquet"]
        .into_iter()
        .map(String::from)
        .chain(parts.iter().map(|p| format!("patients/{p}")))
    {
        assert!(
            fs::read(x.join(&f)).unwrap() == fs::read(y.join(&f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_checkpoint_of_other_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    let o = bin()
        .args(with_out(&RUN, &out, &["--checkpoint"]))
        .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", "0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let o = healthtwin(&with_out(&RUN, &out, &["--resume", "--seed", "9"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another run"));
}

/// A real `kill -9` (SIGKILL) at timed moments, wherever the run is then (before any
/// checkpoint, between replicates, while writing a file, or done).
#[test]
fn kill_9_at_timed_moments_then_resume_gives_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let run = ["run", "-n", "3000", "-y", "4", "-r", "4", "--trace", "2"];
    let whole = dir.path().join("whole").display().to_string();
    ok(&with_out(&run, &whole, &[]));
    for (i, ms) in [50u64, 400, 900, 1600].into_iter().enumerate() {
        let out = dir.path().join(format!("k{i}")).display().to_string();
        let mut child = bin()
            .args(with_out(&run, &out, &["--checkpoint"]))
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
        ok(&with_out(&run, &out, &["--resume"]));
        assert_same_outputs(Path::new(&whole), Path::new(&out));
    }
}

/// Three blocks of people (65,536 each, the last 3,000), 2 replicates, a trace.
const BLOCKS: [&str; 9] = ["run", "-n", "134072", "-y", "1", "-r", "2", "--trace", "3"];

/// Killed after a block inside a replicate (and after a replicate's last block), a run
/// keeps the blocks done, runs only the others, and writes the uninterrupted bytes.
#[test]
fn resumed_after_a_block_inside_a_replicate_gives_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let whole_s = whole.display().to_string();
    ok(&with_out(&BLOCKS, &whole_s, &[]));
    let blocks = |out: &Path| {
        let mut v: Vec<String> = fs::read_dir(out.join("checkpoint"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.starts_with("block-"))
            .collect();
        v.sort();
        v
    };
    for (at, done) in [("0/0", 1), ("0/1", 2), ("1/0", 4), ("1/1", 5)] {
        let out = dir.path().join(format!("killed-{}", at.replace('/', "-")));
        let out_s = out.display().to_string();
        let o = bin()
            .args(with_out(&BLOCKS, &out_s, &["--checkpoint"]))
            .env("HEALTHTWIN_TEST_ABORT_AFTER_BLOCK", at)
            .output()
            .unwrap();
        assert!(!o.status.success(), "aborted after block {at}");
        assert!(!out.join("manifest.json").exists());
        let kept = blocks(&out);
        assert_eq!(kept.len(), done, "{kept:?}");
        let (r, b) = at.split_once('/').unwrap();
        assert_eq!(kept[done - 1], format!("block-r000{r}-b0000{b}.bin"));
        // Resumed (not quiet: it says what it kept).
        let o = healthtwin(&[&BLOCKS[..], &["--resume", "--out", &out_s]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            said.contains(&format!("resuming: {done} of 6 blocks")),
            "{said}"
        );
        assert!(!out.join("checkpoint").exists());
        assert_same_outputs(&whole, &out);
    }
}

/// A real `kill -9` at timed moments of a run of several blocks a replicate, then
/// `--resume`: the uninterrupted bytes, wherever the kill fell.
#[test]
fn kill_9_inside_replicates_of_several_blocks_then_resume_gives_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole").display().to_string();
    ok(&with_out(&BLOCKS, &whole, &[]));
    for (i, ms) in [700u64, 2000, 3500].into_iter().enumerate() {
        let out = dir.path().join(format!("k{i}")).display().to_string();
        let mut child = bin()
            .args(with_out(&BLOCKS, &out, &["--checkpoint"]))
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
        ok(&with_out(&BLOCKS, &out, &["--resume"]));
        assert_same_outputs(Path::new(&whole), Path::new(&out));
    }
}

/// A library scenario's file.
fn library(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/library")
        .join(name)
        .display()
        .to_string()
}

/// `compare` of two library scenarios with `extra` (small: 400 people, 3 years).
fn compare_args(extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "compare".to_string(),
        library("baseline.toml"),
        library("bp_lipid_control.toml"),
    ];
    a.extend(["-n", "400", "-y", "3"].map(String::from));
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `compare` killed after each replicate's (or PSA draw's) checkpoint of every scenario,
/// then `--resume`d, writes the bytes of an uninterrupted comparison; it says what it kept.
fn compare_resumes_to_the_uninterrupted_bytes(settings: &[&str], what: &str) {
    let base = compare_args(settings);
    resumes_to_the_uninterrupted_bytes(&base, 3, what, &[0, 1]);
}

/// The command `base` (without --out) of `total` replicates (or PSA draws), killed after
/// the checkpoint of each replicate in `kills`, then `--resume`d, writes the bytes of an
/// uninterrupted run; it says what it kept and removes its checkpoint.
fn resumes_to_the_uninterrupted_bytes(base: &[String], total: u32, what: &str, kills: &[u32]) {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let whole_s = whole.display().to_string();
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    ok(&with_out(&base, &whole_s, &[]));
    for &k in kills {
        let out = dir.path().join(format!("killed-{k}"));
        let out_s = out.display().to_string();
        let o = bin()
            .args(with_out(&base, &out_s, &["--checkpoint"]))
            .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", k.to_string())
            .output()
            .unwrap();
        assert!(!o.status.success(), "aborted after replicate {k}");
        assert!(!out.join("manifest.json").exists());
        assert!(out.join(format!("checkpoint/runs-r000{k}.bin")).exists());
        if k > 0 {
            assert!(out
                .join(format!("checkpoint/runs-r000{}.bin", k - 1))
                .exists());
        }
        assert!(!out
            .join(format!("checkpoint/runs-r000{}.bin", k + 1))
            .exists());
        let o = healthtwin(&[&base[..], &["--resume", "--out", &out_s]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            said.contains(&format!("resuming: {} of {total} {what} done", k + 1)),
            "{said}"
        );
        assert!(
            !out.join("checkpoint").exists(),
            "checkpoint removed when done"
        );
        assert_same_outputs(&whole, &out);
    }
}

#[test]
fn compare_resumed_after_each_replicate_gives_the_uninterrupted_bytes() {
    compare_resumes_to_the_uninterrupted_bytes(&["-r", "3"], "replicates");
}

#[test]
fn compare_psa_resumed_after_each_draw_gives_the_uninterrupted_bytes() {
    compare_resumes_to_the_uninterrupted_bytes(&["--psa", "3"], "PSA draws");
}

#[test]
fn a_compare_shard_resumes_to_the_same_shard_folder() {
    let dir = tempfile::tempdir().unwrap();
    let base = compare_args(&["--psa", "4", "--shard", "1/2"]);
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let whole = dir.path().join("whole");
    ok(&with_out(&base, &whole.display().to_string(), &[]));
    let out = dir.path().join("killed");
    let out_s = out.display().to_string();
    // Shard 1/2 of 4 draws holds draws 2 and 3: killed after draw 2.
    let o = bin()
        .args(with_out(&base, &out_s, &["--checkpoint"]))
        .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", "2")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(out.join("checkpoint/runs-r0002.bin").exists());
    ok(&with_out(&base, &out_s, &["--resume"]));
    assert!(!out.join("checkpoint").exists());
    assert!(
        fs::read(whole.join("partials.bin")).unwrap()
            == fs::read(out.join("partials.bin")).unwrap(),
        "partials.bin"
    );
}

#[test]
fn a_compare_checkpoint_of_other_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    let base = compare_args(&["-r", "3"]);
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let o = bin()
        .args(with_out(&base, &out, &["--checkpoint"]))
        .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", "0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let o = healthtwin(&with_out(&base, &out, &["--resume", "--seed", "9"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another run"));
    // Nor does `run` take a comparison's checkpoint.
    let o = healthtwin(&with_out(&RUN, &out, &["--resume"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another run"));
}

/// `healthtwin slurm` gives compare's shard tasks `--resume`: a task killed after a
/// replicate and requeued (run again) continues, and the merge is the unsharded bytes.
#[test]
fn slurm_compare_shards_resume_when_requeued() {
    slurm_shards_resume_when_requeued(&compare_args(&["-r", "2"]));
}

/// The Slurm scripts of 2 shards of `args` (2 replicates: one a shard): task 0 killed
/// after replicate 0's checkpoint, then requeued, resumes; the merge is the unsharded
/// bytes.
fn slurm_shards_resume_when_requeued(args: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let base: Vec<&str> = args.iter().map(String::as_str).collect();
    let whole = dir.path().join("whole");
    ok(&with_out(&base, &whole.display().to_string(), &[]));
    let jobs = dir.path().join("jobs");
    let jobs_s = jobs.display().to_string();
    let merged = dir.path().join("merged");
    let merged_s = merged.display().to_string();
    let mut a = vec![
        "slurm", "--shards", "2", "--cpus", "1", "--jobs", &jobs_s, "--",
    ];
    a.extend(&base);
    a.extend(["--out", &merged_s]);
    ok(&a);
    let script = fs::read_to_string(jobs.join("shards.sbatch")).unwrap();
    assert!(script.contains(" --resume"), "{script}");
    let bash = |script: &str, task: Option<u32>, abort: Option<&str>| {
        let mut c = Command::new("bash");
        c.arg(jobs.join(script));
        if let Some(t) = task {
            c.env("SLURM_ARRAY_TASK_ID", t.to_string());
        }
        if let Some(r) = abort {
            c.env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", r);
        }
        c.output().expect("bash runs")
    };
    // Task 0 killed after replicate 0's checkpoint, then requeued.
    assert!(!bash("shards.sbatch", Some(0), Some("0")).status.success());
    assert!(jobs.join("shards/0/checkpoint/runs-r0000.bin").exists());
    for t in 0..2 {
        let o = bash("shards.sbatch", Some(t), None);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(!jobs.join("shards/0/checkpoint").exists());
    let o = bash("merge.sbatch", None, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_outputs(&whole, &merged);
}

/// A real `kill -9` at timed moments of a comparison (before any checkpoint, between
/// replicates, while writing one, or done), then `--resume`: the uninterrupted bytes.
#[test]
fn kill_9_of_compare_at_timed_moments_then_resume_gives_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (library("baseline.toml"), library("bp_lipid_control.toml"));
    let base = ["compare", &a, &b, "-n", "3000", "-y", "4", "-r", "4"];
    let whole = dir.path().join("whole");
    ok(&with_out(&base, &whole.display().to_string(), &[]));
    for (i, ms) in [50u64, 300, 600, 1200].into_iter().enumerate() {
        let out = dir.path().join(format!("k{i}")).display().to_string();
        let mut child = bin()
            .args(with_out(&base, &out, &["--checkpoint"]))
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
        ok(&with_out(&base, &out, &["--resume"]));
        assert_same_outputs(&whole, Path::new(&out));
    }
}

/// A file of the repository.
fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

/// `trial` of the two-arm bench trial with `extra` (small: 400 people screened).
fn trial_args(extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "trial".to_string(),
        repo("scenarios/trials/bench_two_arm.toml"),
    ];
    a.extend(["--screened", "400"].map(String::from));
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `plan` of the example town with `extra` (small: 300 people simulated, 2 years).
fn plan_args(file: &str, extra: &[&str]) -> Vec<String> {
    let mut a = vec!["plan".to_string(), file.to_string()];
    a.extend(["-y", "2", "--sample", "300"].map(String::from));
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn example_plan() -> String {
    repo("scenarios/library/example_town_plan.toml")
}

/// The example town's plan with an [uncertainty] table (for `--psa`), in `dir`.
fn plan_with_uncertainty(dir: &Path) -> String {
    let mut text = fs::read_to_string(example_plan()).unwrap();
    text.push_str(
        "\n[uncertainty.\"fr.mortality.hr_per_0.01_fi\"]\ndist = \"lognormal\"\n\
         median = 1.039\nci95 = [1.033, 1.044]\nsource = \"test\"\n",
    );
    let path = dir.join("plan_psa.toml");
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn trial_resumed_after_each_replicate_gives_the_uninterrupted_bytes() {
    resumes_to_the_uninterrupted_bytes(&trial_args(&["-r", "4"]), 4, "replicates", &[0, 1, 2]);
}

#[test]
fn plan_resumed_after_each_replicate_gives_the_uninterrupted_bytes() {
    let base = plan_args(&example_plan(), &["-r", "3"]);
    resumes_to_the_uninterrupted_bytes(&base, 3, "replicates", &[0, 1]);
}

#[test]
fn plan_psa_resumed_after_each_draw_gives_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let base = plan_args(&plan_with_uncertainty(dir.path()), &["--psa", "3"]);
    resumes_to_the_uninterrupted_bytes(&base, 3, "PSA draws", &[0, 1]);
}

/// A real `kill -9` at timed moments of `base` (before any checkpoint, between replicates,
/// while writing one, or done), then `--resume`: the uninterrupted bytes.
fn kill_9_then_resume(base: &[String], moments_ms: &[u64]) {
    kill_9_then_resume_with(base, moments_ms, &[]);
}

/// [`kill_9_then_resume`] with `extra` flags for the checkpointed and the resumed runs.
fn kill_9_then_resume_with(base: &[String], moments_ms: &[u64], extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let whole = dir.path().join("whole");
    ok(&with_out(&base, &whole.display().to_string(), &[]));
    for (i, ms) in moments_ms.iter().enumerate() {
        let out = dir.path().join(format!("k{i}")).display().to_string();
        let mut child = bin()
            .args(with_out(
                &base,
                &out,
                &[&["--checkpoint"][..], extra].concat(),
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*ms));
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
        ok(&with_out(&base, &out, &[&["--resume"][..], extra].concat()));
        assert!(!Path::new(&out).join("checkpoint").exists());
        assert_same_outputs(&whole, Path::new(&out));
    }
}

#[test]
fn kill_9_of_trial_at_timed_moments_then_resume_gives_the_uninterrupted_bytes() {
    let mut base = vec![
        "trial".to_string(),
        repo("scenarios/trials/bench_two_arm.toml"),
    ];
    // About 1.3 s in all on two cores.
    base.extend(["--screened", "4000", "-r", "4"].map(String::from));
    kill_9_then_resume(&base, &[50, 400, 800, 1300]);
}

#[test]
fn kill_9_of_plan_at_timed_moments_then_resume_gives_the_uninterrupted_bytes() {
    let mut base = vec!["plan".to_string(), example_plan()];
    // About 1 s in all on two cores.
    base.extend(["-r", "4", "-y", "3", "--sample", "1000"].map(String::from));
    kill_9_then_resume(&base, &[50, 300, 600, 1000]);
}

/// A checkpoint of other settings is refused (exit 2), naming the folder and the setting.
fn other_settings_refused(base: &[String], other: &[&str], setting: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").display().to_string();
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let o = bin()
        .args(with_out(&base, &out, &["--checkpoint"]))
        .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", "0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let mut extra = vec!["--resume"];
    extra.extend(other);
    let o = healthtwin(&with_out(&base, &out, &extra));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let folder = Path::new(&out).join("checkpoint").display().to_string();
    for needle in ["another run", &folder, setting] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    // The checkpoint is left as it was.
    assert!(Path::new(&out).join("checkpoint/runs-r0000.bin").exists());
    // Nor does another command take it.
    let o = healthtwin(&with_out(&RUN, &out, &["--resume"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another command's"));
}

#[test]
fn a_trial_or_plan_checkpoint_of_other_settings_is_refused() {
    other_settings_refused(&trial_args(&["-r", "2"]), &["--seed", "9"], "trial.seed");
    other_settings_refused(
        &plan_args(&example_plan(), &["-r", "2"]),
        &["--seed", "9"],
        "plan.seed",
    );
}

/// Shard `1/2` of `base` killed after the checkpoint of replicate `kill` (its first), then
/// `--resume`d into the same folder: with shard 0/2 the merge is the unsharded bytes; with
/// `same_partials`, the shard's partials.bin is an uninterrupted shard's (a trial's records
/// hold each run's simulation seconds).
fn shard_resumes_and_merges(base: &[String], kill: u32, same_partials: bool) {
    let dir = tempfile::tempdir().unwrap();
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let whole = dir.path().join("whole");
    ok(&with_out(&base, &whole.display().to_string(), &[]));
    let s0 = dir.path().join("s0");
    let s0_s = s0.display().to_string();
    ok(&with_out(&base, &s0_s, &["--shard", "0/2"]));
    let s1 = dir.path().join("s1");
    let s1_s = s1.display().to_string();
    let clean = dir.path().join("s1-clean");
    ok(&with_out(
        &base,
        &clean.display().to_string(),
        &["--shard", "1/2"],
    ));
    let o = bin()
        .args(with_out(&base, &s1_s, &["--shard", "1/2", "--checkpoint"]))
        .env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE", kill.to_string())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(s1.join(format!("checkpoint/runs-r{kill:04}.bin")).exists());
    assert!(!s1.join("manifest.json").exists());
    ok(&with_out(&base, &s1_s, &["--shard", "1/2", "--resume"]));
    assert!(!s1.join("checkpoint").exists());
    assert!(
        !same_partials
            || fs::read(clean.join("partials.bin")).unwrap()
                == fs::read(s1.join("partials.bin")).unwrap(),
        "partials.bin"
    );
    let merged = dir.path().join("merged");
    ok(&[
        "merge",
        &s1_s,
        &s0_s,
        "--out",
        &merged.display().to_string(),
        "-q",
    ]);
    assert_same_outputs(&whole, &merged);
}

#[test]
fn a_trial_shard_resumes_to_the_same_shard_folder_and_merges_to_the_unsharded_bytes() {
    // Shard 1/2 of 4 replicates holds replicates 2 and 3: killed after replicate 2.
    shard_resumes_and_merges(&trial_args(&["-r", "4"]), 2, false);
}

#[test]
fn a_plan_shard_resumes_to_the_same_shard_folder_and_merges_to_the_unsharded_bytes() {
    shard_resumes_and_merges(&plan_args(&example_plan(), &["-r", "4"]), 2, true);
}

/// `healthtwin slurm` gives trial's and plan's shard tasks `--resume`: a task killed after
/// a replicate and requeued (run again) continues, and the merge is the unsharded bytes.
#[test]
fn slurm_trial_and_plan_shards_resume_when_requeued() {
    slurm_shards_resume_when_requeued(&trial_args(&["-r", "2"]));
    slurm_shards_resume_when_requeued(&plan_args(&example_plan(), &["-r", "2"]));
}

/// A capacity-limited comparison (places allocated over everyone each year): 600 people,
/// 4 years, 2 replicates (or `size`), with `extra`.
fn capacity_args(size: Option<[&str; 6]>, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "compare".to_string(),
        library("baseline.toml"),
        library("municipal_frailty_prevention.toml"),
    ];
    a.extend(
        size.unwrap_or(["-n", "600", "-y", "4", "-r", "2"])
            .map(String::from),
    );
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `base` killed after the year checkpoint `R/A/Y` (the end of year Y of arm A in
/// replicate R) for each of `points`, then `--resume`d: the bytes of an uninterrupted run;
/// the checkpoint held that arm's year and the arms finished before it.
fn resumes_from_years(base: &[String], points: &[(u32, u32, u32)]) {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    ok(&with_out(&base, &whole.display().to_string(), &[]));
    for &(r, a, y) in points {
        let out = dir.path().join(format!("killed-{r}-{a}-{y}"));
        let out_s = out.display().to_string();
        let every = ["--checkpoint", "--checkpoint-every", "0"];
        let o = bin()
            .args(with_out(&base, &out_s, &every))
            .env("HEALTHTWIN_TEST_ABORT_AFTER_YEAR", format!("{r}/{a}/{y}"))
            .output()
            .unwrap();
        assert!(!o.status.success(), "aborted after {r}/{a}/{y}");
        let ck = out.join("checkpoint");
        assert!(ck.join(format!("year-r000{r}-g0000-a0{a}.bin")).exists());
        assert_eq!(
            ck.join(format!("run-r000{r}-g0000-a00.bin")).exists(),
            a > 0,
            "the reference's run is finished before arm {a}"
        );
        assert_eq!(ck.join("runs-r0000.bin").exists(), r > 0);
        ok(&with_out(
            &base,
            &out_s,
            &["--resume", "--checkpoint-every", "0"],
        ));
        assert!(!ck.exists(), "checkpoint removed when done");
        assert_same_outputs(&whole, &out);
    }
}

/// Killed at year boundaries inside a replicate of a capacity-limited comparison (in the
/// reference and in the other arm, in both replicates), a comparison resumes from that
/// year of that arm and writes the uninterrupted bytes.
#[test]
fn compare_resumed_after_a_year_inside_a_replicate_gives_the_uninterrupted_bytes() {
    resumes_from_years(
        &capacity_args(None, &[]),
        &[(0, 0, 0), (0, 1, 2), (1, 0, 1), (1, 1, 0)],
    );
}

/// The same with a population in regions with their own places (each region a population
/// of its own, its arms one after the other): killed in the first region.
#[test]
fn compare_of_regions_resumed_after_a_year_gives_the_uninterrupted_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let regional = dir.path().join("regional.toml");
    fs::write(&regional, REGIONS).unwrap();
    let base = vec![
        "compare".to_string(),
        library("baseline.toml"),
        regional.display().to_string(),
        "--population-from".into(),
        "2".into(),
        "-y".into(),
        "3".into(),
    ];
    resumes_from_years(&base, &[(0, 1, 0), (1, 0, 1)]);
}

/// Four municipalities, each with its own places (as in cli/tests/shards.rs).
const REGIONS: &str = r#"
name = "regional_frailty_prevention"
description = "Four municipalities, each with its own salon and exercise places."
years = 2
replicates = 2
[population]
n = 800
age_min = 65
age_max = 89
represents = 6000

[[intervention]]
name = "salon"
type = "community_salon"
priority = "random"
uptake = 0.5
capacity_per_year = 600
cost_per_participant_year_yen = 10000
cost_source = "[A] test"
[intervention.eligibility]
age = { min = 65.0 }

[[intervention]]
name = "exercise_nutrition"
type = "exercise_nutrition"
priority = "frailty_index"
uptake = 0.6
capacity_per_year = 200
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
capacity_per_year = { salon = 300, exercise_nutrition = 90 }
[[region]]
name = "south"
people = 250
capacity_per_year = { salon = 200, exercise_nutrition = 50 }
"#;

/// A real `kill -9` at timed moments of a capacity-limited comparison saving every year
/// (before any checkpoint, inside an arm's years, while writing a year, between arms),
/// then `--resume`: the uninterrupted bytes.
#[test]
fn kill_9_of_a_capacity_limited_compare_saving_every_year_then_resume_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let base = capacity_args(Some(["-n", "8000", "-y", "8", "-r", "1"]), &[]);
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let whole = dir.path().join("whole");
    ok(&with_out(&base, &whole.display().to_string(), &[]));
    let every = ["--checkpoint-every", "0"];
    for (i, ms) in [150u64, 450, 800, 1100].into_iter().enumerate() {
        let out = dir.path().join(format!("k{i}")).display().to_string();
        let mut child = bin()
            .args(with_out(
                &base,
                &out,
                &[&["--checkpoint"][..], &every].concat(),
            ))
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
        ok(&with_out(
            &base,
            &out,
            &[&["--resume"][..], &every].concat(),
        ));
        assert_same_outputs(&whole, Path::new(&out));
    }
}

/// A year checkpoint written by another build (its git commit) or of another run (a file
/// of another seed put in its place) is refused with a message naming it, exit code 2.
#[test]
fn a_year_checkpoint_of_another_build_or_run_is_refused() {
    year_checkpoint_of_another_build_or_run_refused(|extra| capacity_args(None, extra));
}

/// [`a_year_checkpoint_of_another_build_or_run_is_refused`] for the command `args(extra)`
/// (killed after year 1 of arm 1 of replicate 0).
fn year_checkpoint_of_another_build_or_run_refused(args: impl Fn(&[&str]) -> Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let killed = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let base = args(extra);
        let base: Vec<&str> = base.iter().map(String::as_str).collect();
        let every = ["--checkpoint", "--checkpoint-every", "0"];
        let o = bin()
            .args(with_out(&base, &out.display().to_string(), &every))
            .env("HEALTHTWIN_TEST_ABORT_AFTER_YEAR", "0/1/1")
            .output()
            .unwrap();
        assert!(!o.status.success());
        out
    };
    let resume = |out: &Path| {
        let base = args(&[]);
        let base: Vec<&str> = base.iter().map(String::as_str).collect();
        healthtwin(&with_out(&base, &out.display().to_string(), &["--resume"]))
    };
    let year = "checkpoint/year-r0000-g0000-a01.bin";
    // Another build: the commit in the file's stamp (after the magic and the head's
    // length, a length byte and the commit's characters) changed.
    let a = killed("a", &[]);
    let mut bytes = fs::read(a.join(year)).unwrap();
    let first = 8 + 8 + 1;
    bytes[first] = if bytes[first] == b'0' { b'1' } else { b'0' };
    fs::write(a.join(year), bytes).unwrap();
    let o = resume(&a);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another build") && err.contains(year), "{err}");
    // Another run's year file (another seed) in this run's checkpoint.
    let b = killed("b", &[]);
    let c = killed("c", &["--seed", "9"]);
    fs::copy(c.join(year), b.join(year)).unwrap();
    let o = resume(&b);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another run") && err.contains(year), "{err}");
}

/// `plan` of the example town (14 arms) small enough to be killed inside its years: 300
/// residents simulated, 3 years, 2 replicates, with `extra`.
fn plan_year_args(extra: &[&str]) -> Vec<String> {
    let mut a = vec!["plan".to_string(), example_plan()];
    a.extend(["-y", "3", "--sample", "300", "-r", "2"].map(String::from));
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Killed at year boundaries inside a replicate of a plan (the residents share the
/// programmes' places within a run): in the baseline arm, in options and sweep arms, in
/// both replicates, a plan resumes from that year of that arm (its finished arms from
/// their files) and writes the uninterrupted bytes.
#[test]
fn plan_resumed_after_a_year_inside_a_replicate_gives_the_uninterrupted_bytes() {
    resumes_from_years(
        &plan_year_args(&[]),
        &[(0, 0, 0), (0, 3, 1), (1, 0, 1), (1, 9, 0)],
    );
}

/// A real `kill -9` at timed moments of a plan saving every year (before any checkpoint,
/// inside an arm's years, while writing a year, between arms and replicates), then
/// `--resume`: the uninterrupted bytes.
#[test]
fn kill_9_of_a_plan_saving_every_year_then_resume_gives_the_uninterrupted_bytes() {
    let mut base = vec!["plan".to_string(), example_plan()];
    // About 1.5 s in all on two cores.
    base.extend(["-r", "2", "-y", "4", "--sample", "1000"].map(String::from));
    kill_9_then_resume_with(&base, &[150, 500, 900, 1300], &["--checkpoint-every", "0"]);
}

/// A plan's year file of another build or of another run (seed) is refused, exit code 2.
#[test]
fn a_plan_year_checkpoint_of_another_build_or_run_is_refused() {
    year_checkpoint_of_another_build_or_run_refused(plan_year_args);
}
