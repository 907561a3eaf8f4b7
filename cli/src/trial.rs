//! `healthtwin trial dpp`: the Diabetes Prevention Program as a virtual trial.

use cohort::synth::{Generator, SyntheticSpec};
use models::diabetes::dpp::eligible;
use report::table::{write_csv, Table, Values};

use report::disclosure::Policy;
use serde::Serialize;

use crate::args::DppArgs;
use crate::common::{input_error, model_with, output_dir, DisclosureManifest, StudyBar};
use crate::memory::{self, Footprint};

/// DPP's published incidence per 100 person-years (Knowler 2002 NEJM 346:393 [V]): the
/// calibration target of the metformin and lifestyle mechanisms.
const TARGETS: [(&str, f64); 3] = [("placebo", 11.0), ("metformin", 7.8), ("lifestyle", 4.8)];

/// The files `trial dpp` writes besides manifest.json.
pub const TRIAL_FILES: [&str; 1] = ["dpp_arms.csv"];

/// `trial dpp`'s manifest.json (written last).
#[derive(Serialize)]
struct TrialManifest {
    healthtwin_version: &'static str,
    git_commit: &'static str,
    trial: &'static str,
    seed: u64,
    screened: u64,
    years: u32,
    parameters: Vec<String>,
    threads: usize,
    wall_time_seconds: f64,
    files: Vec<&'static str>,
    disclosure: DisclosureManifest,
}

pub fn dpp(args: &DppArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let model = model_with(&args.set)?;
    memory::check(&Footprint {
        size_flag: "--screened",
        people: args.screened,
        bytes_per_person: memory::SCREENED_PERSON_BYTES,
        other_bytes: memory::FIXED_BYTES,
        threads: rayon::current_num_threads(),
    })?;
    let generator = Generator::new(SyntheticSpec {
        n: args.screened,
        seed: args.seed,
        age_min: 40,
        age_max: 74,
    })
    .map_err(|e| input_error(e.to_string()))?;
    let people: Vec<_> = generator.generate().into_iter().filter(eligible).collect();
    if people.is_empty() {
        return Err(input_error(format!(
            "--screened {}: nobody eligible; screen more people",
            args.screened
        )));
    }
    let n = people.len() as f64;
    let mean = |f: &dyn Fn(&engine::Baseline) -> f64| people.iter().map(f).sum::<f64>() / n;
    eprintln!(
        "DPP virtual trial: {} eligible of {} screened (ages 40-74); mean age {:.1}, BMI {:.1}, FPG {:.1} mg/dL, HbA1c {:.2}%, women {:.0}%",
        people.len(),
        args.screened,
        mean(&|b| b.age_years),
        mean(&|b| b.covariates.bmi_kg_m2),
        mean(&|b| b.covariates.fpg_mg_dl),
        mean(&|b| b.covariates.hba1c_pct),
        100.0 * mean(&|b| f64::from(b.sex.index() as u8)),
    );
    // Locked and writable before the trial runs (synthetic people: no disclosure control).
    let out = output_dir(&args.out, &TRIAL_FILES)?;
    let screened = people.len();
    let bar = StudyBar::new(screened as u64 * u64::from(args.years) * 3, false);
    let results = study::trial::dpp(&model, people, args.seed, args.years, &bar)?;
    bar.finish();
    let placebo = results[0].incidence_per_100py;
    println!(
        "{:<10} {:>8} {:>7} {:>12} {:>10} {:>8} {:>10} {:>10}",
        "arm", "people", "cases", "per 100 PY", "DPP", "RRR %", "DPP RRR %", "cum. %"
    );
    let mut table = Table::new("dpp_arms");
    let mut cols: [Vec<Option<f64>>; 7] = Default::default();
    let mut names = Vec::new();
    for r in &results {
        let target = TARGETS
            .iter()
            .find(|(a, _)| *a == r.arm.name())
            .map(|t| t.1)
            .unwrap_or(f64::NAN);
        let rrr = 100.0 * (1.0 - r.incidence_per_100py / placebo);
        let target_rrr = 100.0 * (1.0 - target / TARGETS[0].1);
        let cum = r.cumulative_pct.last().copied().unwrap_or(f64::NAN);
        println!(
            "{:<10} {:>8} {:>7} {:>12.2} {:>10.1} {:>8.1} {:>10.1} {:>10.1}",
            r.arm.name(),
            r.participants,
            r.cases,
            r.incidence_per_100py,
            target,
            rrr,
            target_rrr,
            cum
        );
        names.push(Some(r.arm.name().to_string()));
        for (c, v) in cols.iter_mut().zip([
            r.participants as f64,
            r.cases as f64,
            r.person_years,
            r.incidence_per_100py,
            target,
            rrr,
            target_rrr,
        ]) {
            c.push(Some(v));
        }
    }
    table.push("arm", Values::Text(names));
    for (name, c) in [
        "participants",
        "cases",
        "person_years",
        "incidence_per_100py",
        "dpp_incidence_per_100py",
        "rrr_pct",
        "dpp_rrr_pct",
    ]
    .into_iter()
    .zip(cols)
    {
        table.push(name, Values::Float(c));
    }
    let dest = out.join("dpp_arms.csv");
    write_csv(&table, &dest)?;
    let manifest = TrialManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        trial: "dpp",
        seed: args.seed,
        screened: args.screened,
        years: args.years,
        parameters: args.set.clone(),
        threads: rayon::current_num_threads(),
        wall_time_seconds: started.elapsed().as_secs_f64(),
        files: TRIAL_FILES.to_vec(),
        disclosure: Policy::off().record(0).into(),
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    eprintln!("wrote {}", dest.display());
    Ok(())
}
