//! `healthtwin bench`: throughput of the full `run` model on the synthetic cohort, without
//! writing outputs. Targets (issue 2): >= 250,000 patient-years/s per core, and 1,000,000
//! patients x 30 years in under 60 s on 2 cores with peak RSS under 1 GiB.

use std::time::Instant;

use engine::{init_patients, simulate, RunKey, RunSettings};
use models::mortality::LifeTable;
use models::HealthModel;

use crate::{with_threads, BenchArgs, PopulationArgs};

/// Peak resident set size of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let pop = PopulationArgs {
        age_min: 40,
        age_max: 89,
    };
    let generator = crate::run::generator(args.patients, args.seed, &pop)?;
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let settings = RunSettings {
        seed: args.seed,
        years: args.years,
        step_months: args.step_months,
        chunk_size: 1024,
        trace_patients: 0,
    };
    let (threads, gen_s, sim_s, person_years) = with_threads(args.threads, || {
        let t0 = Instant::now();
        let cohort = generator.generate();
        let gen_s = t0.elapsed().as_secs_f64();
        let run = RunKey {
            seed: args.seed,
            replicate: 0,
        };
        let t1 = Instant::now();
        let mut patients = init_patients(&model, run, &cohort);
        let out = simulate(&model, &settings, run, &mut patients, &|_| {});
        let sim_s = t1.elapsed().as_secs_f64();
        let py = engine::summary::collapse(
            &out.aggregate,
            0,
            engine::summary::SexLevel::All,
            engine::summary::BandLevel::All,
            engine::observe::builtin::PERSON_YEARS,
        );
        let mut total_py = py.num;
        for y in 1..out.aggregate.years() {
            total_py += engine::summary::collapse(
                &out.aggregate,
                y,
                engine::summary::SexLevel::All,
                engine::summary::BandLevel::All,
                engine::observe::builtin::PERSON_YEARS,
            )
            .num;
        }
        (
            rayon::current_num_threads(),
            gen_s,
            sim_s,
            total_py as f64 / engine::observe::FIXED_POINT,
        )
    })?;
    let per_s = person_years / sim_s;
    let per_core = per_s / threads as f64;
    println!(
        "healthtwin bench: {} patients x {} years, step {} month(s), {threads} thread(s)",
        args.patients, args.years, args.step_months
    );
    println!("  model: background mortality (MHLW 2024 life table)");
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
