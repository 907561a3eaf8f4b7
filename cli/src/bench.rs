//! `healthtwin bench`: throughput of the full `run` model on the synthetic cohort, without
//! writing outputs. Targets (issue 2): >= 250,000 patient-years/s per core, and 1,000,000
//! patients x 30 years in under 60 s on 2 cores with peak RSS under 1 GiB.
//!
//! `healthtwin bench topp`: the stiff ODE path alone, on the full three-state Topp (2000)
//! model with declining insulin sensitivity, one solve per patient over the whole horizon.
//! `cli/benches/topp_lsoda.py` (SciPy) and `cli/benches/topp_lsoda.R` (deSolve) run the
//! same workload with LSODA for comparison.

use engine::math::DetMath;
use std::path::Path;
use std::time::Instant;

use engine::ode::{IntegrationStats, OdeError};
use engine::stiff::Rodas4;
use engine::{Process, RunKey, Stream, StreamKey};
use models::diabetes::topp::{ToppDecliningSi, ToppParams, G, TOPP_2000};
use models::mortality::LifeTable;
use models::HealthModel;
use rayon::prelude::*;
use study::{Arm, Settings, Study};

use crate::args::{BenchArgs, PopulationArgs, ToppBenchArgs};
use crate::common::{peak_rss_bytes, with_threads};

pub fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let pop = PopulationArgs {
        age_min: 40,
        age_max: 89,
    };
    let generator = crate::flags::generator(args.patients, args.seed, &pop)?;
    crate::memory::check(&crate::memory::Footprint {
        size_flag: "--patients",
        people: args.patients,
        bytes_per_person: crate::memory::SIMULATED_PERSON_BYTES,
        other_bytes: crate::memory::FIXED_BYTES,
        threads: crate::memory::threads(args.threads),
    })?;
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let (threads, gen_s, sim_s, person_years) = with_threads(args.threads, || {
        let t0 = Instant::now();
        let cohort = generator.generate();
        let gen_s = t0.elapsed().as_secs_f64();
        let study = Study {
            arms: vec![Arm {
                name: "bench".into(),
                model,
            }],
            population: cohort,
            settings: Settings {
                seed: args.seed,
                years: args.years,
                step_months: args.step_months,
                replicates: 1,
                ..Settings::default()
            },
            draws: Vec::new(),
            allocation: study::Allocation::Paired,
        };
        let out = study::run_aggregates(&study, &())?;
        let arm = &out.arms[0];
        let aggregate = &arm.replicates[0];
        let total_py: i64 = (0..aggregate.years())
            .map(|y| {
                engine::summary::collapse(
                    aggregate,
                    y,
                    engine::summary::SexLevel::All,
                    engine::summary::BandLevel::All,
                    engine::observe::builtin::PERSON_YEARS,
                )
                .num
            })
            .sum();
        Ok::<_, study::StudyError>((
            rayon::current_num_threads(),
            gen_s,
            arm.seconds,
            total_py as f64 / engine::observe::FIXED_POINT,
        ))
    })??;
    let per_s = person_years / sim_s;
    let per_core = per_s / threads as f64;
    println!(
        "healthtwin bench: {} patients x {} years, step {} month(s), {threads} thread(s)",
        args.patients, args.years, args.step_months
    );
    println!("  model: the coupled model of `healthtwin run` (MHLW 2024 life table, type 2 diabetes, cardiovascular disease, frailty and long-term care)");
    println!("  cohort generation      {gen_s:>9.3} s");
    println!("  simulation             {sim_s:>9.3} s  ({person_years:.0} patient-years lived)");
    println!("  throughput             {per_s:>12.0} patient-years/s  ({per_core:.0} per core)");
    match peak_rss_bytes() {
        Some(b) => println!(
            "  peak RSS               {:>9.1} MiB",
            b as f64 / (1024.0 * 1024.0)
        ),
        None => println!("  peak RSS               unknown (no /proc/self/status)"),
    }
    println!(
        "  target >= 250,000 patient-years/s per core: {}",
        if per_core >= 250_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}

/// `healthtwin bench merge`: makes `--shards` N shard folders of a `run` of N × `--people`
/// people (each a separate `healthtwin run --shard i/N` process; a folder that already has
/// a manifest.json is reused), then times `healthtwin merge` of them as a separate process,
/// as a user runs it.
pub fn merge(args: &crate::args::MergeBenchArgs) -> anyhow::Result<()> {
    use std::process::Command;
    let exe = std::env::current_exe()?;
    let total = u64::from(args.shards) * args.people;
    if total > 100_000_000 {
        return Err(crate::common::input_error(format!(
            "--shards {} x --people {}: {total} people, more than a run's 100,000,000",
            args.shards, args.people
        )));
    }
    let threads = args.threads.map(|t| t.to_string());
    let shards_dir = args.dir.join("shards");
    std::fs::create_dir_all(&shards_dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", shards_dir.display()))?;
    let run_args = |i: u32| -> Vec<String> {
        let mut a: Vec<String> = [
            "run",
            "-n",
            &total.to_string(),
            "-y",
            &args.years.to_string(),
            "-r",
            &args.replicates.to_string(),
            "--shard",
            &format!("{i}/{}", args.shards),
            "--out",
            &shards_dir.join(i.to_string()).display().to_string(),
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some(t) = &threads {
            a.extend(["--threads".to_string(), t.clone()]);
        }
        a
    };
    let t0 = Instant::now();
    let mut made = 0;
    for i in 0..args.shards {
        let folder = shards_dir.join(i.to_string());
        if folder.join("manifest.json").exists() {
            continue;
        }
        let status = Command::new(&exe).args(run_args(i)).status()?;
        if !status.success() {
            anyhow::bail!("shard {i}/{}: `healthtwin run` failed", args.shards);
        }
        made += 1;
    }
    let make_s = t0.elapsed().as_secs_f64();
    let folders: Vec<String> = (0..args.shards)
        .map(|i| shards_dir.join(i.to_string()).display().to_string())
        .collect();
    let shard_bytes: u64 = folders.iter().map(|f| folder_bytes(Path::new(f)).0).sum();
    let merged = args.dir.join("merged");
    let mut merge_args = vec!["merge".to_string()];
    merge_args.extend(folders);
    merge_args.extend(["--out".into(), merged.display().to_string(), "-q".into()]);
    if let Some(t) = &threads {
        merge_args.extend(["--threads".to_string(), t.clone()]);
    }
    let t1 = Instant::now();
    let status = Command::new(&exe).args(&merge_args).status()?;
    let merge_s = t1.elapsed().as_secs_f64();
    if !status.success() {
        anyhow::bail!("`healthtwin merge` failed");
    }
    let (patients, files) = folder_bytes(&merged.join(crate::run::PATIENTS_DIR));
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "healthtwin bench merge: {} shards x {} people ({total} people), {} year(s), {} replicate(s)",
        args.shards, args.people, args.years, args.replicates
    );
    println!(
        "  shard folders          {made} made, {} reused, {:.1} s; {:.1} MiB in all",
        args.shards - made,
        make_s,
        mib(shard_bytes)
    );
    println!(
        "  merge                  {merge_s:>9.2} s  (patients/: {files} files, {:.1} MiB, placed by hard link where the file system allows)",
        mib(patients),
    );
    println!(
        "  target: 100 shards of 1,000,000 people in under 10 s ({})",
        if args.shards >= 100 && args.people >= 1_000_000 {
            if merge_s < 10.0 {
                "met"
            } else {
                "NOT met"
            }
        } else {
            "this bench is smaller: not measured"
        }
    );
    Ok(())
}

/// The bytes and the number of the files under `dir` (sub-folders included).
fn folder_bytes(dir: &Path) -> (u64, u64) {
    let (mut bytes, mut files) = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => {
                let (b, f) = folder_bytes(&e.path());
                bytes += b;
                files += f;
            }
            Ok(m) => {
                bytes += m.len();
                files += 1;
            }
            Err(_) => {}
        }
    }
    (bytes, files)
}

/// Patients per work unit of `bench topp`; per-unit sums are added in unit order, so the
/// printed checksum does not depend on the thread count.
const TOPP_CHUNK: u64 = 1024;

/// Patient `id` of the `bench topp` workload (the issue's fixed definition): base
/// parameters [`TOPP_2000`], SI0 = 0.72·LogNormal(0, 0.3), R0 = 864·LogNormal(0, 0.1),
/// δ ~ Uniform(0, 0.2) per year, drawn in that order from the patient's own stream.
pub fn topp_patient(key: StreamKey, id: u64) -> ToppDecliningSi {
    let mut draws = Stream::new(key, id, 0);
    let si0 = TOPP_2000.si * (0.3 * draws.std_normal()).exp_det();
    let r0 = TOPP_2000.r0 * (0.1 * draws.std_normal()).exp_det();
    let delta_per_year = 0.2 * draws.uniform();
    ToppDecliningSi {
        params: ToppParams { r0, ..TOPP_2000 },
        si0,
        delta_per_year,
    }
}

/// Start of every patient: the published physiological equilibrium (G, I, β).
pub const TOPP_START: [f64; 3] = [100.0, 10.0, 300.0];

/// The integrator of `bench topp`: RODAS4 at rtol 1e-6, atol 1e-9.
pub fn topp_solver() -> Rodas4 {
    Rodas4 {
        rtol: 1e-6,
        atol: 1e-9,
        max_steps: 100_000,
        ..Rodas4::default()
    }
}

/// Sums over one work unit of `bench topp`.
#[derive(Debug, Default)]
struct ToppSums {
    patients: u64,
    glucose: f64,
    glucose_sq: f64,
    diabetic: u64,
    accepted: u64,
    rejected: u64,
    rhs_evaluations: u64,
    max_steps: u32,
    first_error: Option<(u64, OdeError)>,
}

impl ToppSums {
    fn add(&mut self, other: ToppSums) {
        self.patients += other.patients;
        self.glucose += other.glucose;
        self.glucose_sq += other.glucose_sq;
        self.diabetic += other.diabetic;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.rhs_evaluations += other.rhs_evaluations;
        self.max_steps = self.max_steps.max(other.max_steps);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

fn topp_chunk(key: StreamKey, ids: std::ops::Range<u64>, t_end_days: f64) -> ToppSums {
    let solver = topp_solver();
    let mut sums = ToppSums::default();
    for id in ids {
        let system = topp_patient(key, id);
        let mut y = TOPP_START;
        match solver.integrate_stiff(&system, 0.0, t_end_days, &mut y) {
            Ok(IntegrationStats {
                rhs_evaluations,
                accepted_steps,
                rejected_steps,
            }) => {
                let g = y[G];
                sums.patients += 1;
                sums.glucose += g;
                sums.glucose_sq += g * g;
                // Fasting plasma glucose >= 126 mg/dL: the diagnostic threshold of diabetes.
                sums.diabetic += u64::from(g >= 126.0);
                sums.accepted += u64::from(accepted_steps);
                sums.rejected += u64::from(rejected_steps);
                sums.rhs_evaluations += u64::from(rhs_evaluations);
                sums.max_steps = sums.max_steps.max(accepted_steps + rejected_steps);
            }
            Err(e) => {
                if sums.first_error.is_none() {
                    sums.first_error = Some((id, e));
                }
            }
        }
    }
    sums
}

/// Solves patients `0..patients` over `years` in parallel on the current rayon pool; sums
/// are added in work-unit order, so they do not depend on the thread count.
fn topp_sums(key: StreamKey, patients: u64, years: u32) -> ToppSums {
    let t_end_days = 365.0 * f64::from(years);
    let chunks: Vec<ToppSums> = (0..patients.div_ceil(TOPP_CHUNK))
        .into_par_iter()
        .map(|c| {
            let start = c * TOPP_CHUNK;
            let end = (start + TOPP_CHUNK).min(patients);
            topp_chunk(key, start..end, t_end_days)
        })
        .collect();
    let mut total = ToppSums::default();
    for c in chunks {
        total.add(c);
    }
    total
}

pub fn topp(args: &ToppBenchArgs) -> anyhow::Result<()> {
    let key = StreamKey::new(
        RunKey {
            seed: args.seed,
            replicate: 0,
        },
        Process::named("bench.topp"),
    );
    let (threads, wall_s, total) = with_threads(args.threads, || {
        let t0 = Instant::now();
        let total = topp_sums(key, args.patients, args.years);
        (
            rayon::current_num_threads(),
            t0.elapsed().as_secs_f64(),
            total,
        )
    })?;
    if let Some((id, e)) = &total.first_error {
        anyhow::bail!(
            "patient {id} failed: {e} ({} of {} patients failed to integrate)",
            args.patients - total.patients,
            args.patients
        );
    }
    let n = total.patients as f64;
    let mean = total.glucose / n;
    let sd = ((total.glucose_sq / n - mean * mean).max(0.0) * n / (n - 1.0).max(1.0)).sqrt();
    let per_s = n / wall_s;
    let per_core = per_s / threads as f64;
    println!(
        "healthtwin bench topp: {} patients x {} years, {threads} thread(s)",
        args.patients, args.years
    );
    println!(
        "  model: Topp 2000 (G, I, beta), SI(t) = SI0 exp(-delta t/365), RODAS4 rtol 1e-6 atol 1e-9"
    );
    println!("  wall time              {wall_s:>12.3} s");
    println!("  throughput             {per_s:>12.0} patients/s  ({per_core:.0} per core)");
    println!(
        "  mean final glucose     {mean:>16.10} mg/dL  (sd {sd:.4}, se {:.4})",
        sd / n.sqrt()
    );
    println!(
        "  final glucose >= 126   {:>12.4} share",
        total.diabetic as f64 / n
    );
    println!(
        "  steps                  {:>12} accepted, {} rejected ({:.1} per patient, max {}); {} rhs evaluations",
        total.accepted,
        total.rejected,
        (total.accepted + total.rejected) as f64 / n,
        total.max_steps,
        total.rhs_evaluations
    );
    match peak_rss_bytes() {
        Some(b) => println!(
            "  peak RSS               {:>12.1} MiB",
            b as f64 / (1024.0 * 1024.0)
        ),
        None => println!("  peak RSS               unknown (no /proc/self/status)"),
    }
    println!(
        "  target >= 8,000 patients/s per core: {}",
        if per_core >= 8_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod tests {
    use super::*;

    fn topp_key(seed: u64) -> StreamKey {
        StreamKey::new(RunKey { seed, replicate: 0 }, Process::named("bench.topp"))
    }

    #[test]
    fn topp_sums_do_not_depend_on_the_thread_count() {
        let key = topp_key(7);
        // 2,500 patients: three work units, the last one partial.
        let one = with_threads(Some(1), || topp_sums(key, 2_500, 5)).unwrap();
        let three = with_threads(Some(3), || topp_sums(key, 2_500, 5)).unwrap();
        assert!(one.first_error.is_none());
        assert_eq!(one.patients, 2_500);
        assert_eq!(one.glucose.to_bits(), three.glucose.to_bits());
        assert_eq!(
            (one.accepted, one.rejected, one.rhs_evaluations),
            (three.accepted, three.rejected, three.rhs_evaluations)
        );
    }

    /// The per-patient draws follow the workload's distributions.
    #[test]
    fn topp_patients_follow_the_workload_distributions() {
        let key = topp_key(1);
        let n = 20_000;
        let (mut ln_si, mut ln_si_sq, mut ln_r0_sq, mut delta_sum) = (0.0, 0.0, 0.0, 0.0);
        for id in 0..n {
            let p = topp_patient(key, id);
            let a = (p.si0 / 0.72).ln();
            let b = (p.params.r0 / 864.0).ln();
            ln_si += a;
            ln_si_sq += a * a;
            ln_r0_sq += b * b;
            assert!(p.delta_per_year > 0.0 && p.delta_per_year < 0.2);
            delta_sum += p.delta_per_year;
            assert_eq!(
                ToppParams {
                    r0: 864.0,
                    ..p.params
                },
                TOPP_2000,
                "only R0 varies"
            );
        }
        let n = n as f64;
        assert!((ln_si / n).abs() < 0.01);
        assert!(((ln_si_sq / n).sqrt() - 0.3).abs() < 0.01);
        assert!(((ln_r0_sq / n).sqrt() - 0.1).abs() < 0.003);
        assert!((delta_sum / n - 0.1).abs() < 0.002);
        // Different patients, different draws; same patient, same draws.
        assert_ne!(topp_patient(key, 0).si0, topp_patient(key, 1).si0);
        assert_eq!(topp_patient(key, 5).si0, topp_patient(key, 5).si0);
    }
}
