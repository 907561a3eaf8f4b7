//! Personalisation changes forecasts the way a history says it should.

use models::mortality::LifeTable;
use models::HealthModel;
use twin::person_file;
use twin::{CounterfactualPlan, ForecastSettings, Outcome, PersonaliseSettings, TwinSettings};

fn person(dir: &std::path::Path, name: &str, hba1c: [f64; 6], fpg: [f64; 6]) -> twin::PersonRecord {
    person_from(dir, name, &hba1c, &fpg)
}

/// A 55-year-old man with yearly readings ending at the index date (the last one).
fn person_from(
    dir: &std::path::Path,
    name: &str,
    hba1c: &[f64],
    fpg: &[f64],
) -> twin::PersonRecord {
    let mut text = String::from(
        "id = \"demo\"\nsex = \"male\"\nage = 55\nsmoker = false\nsteps_per_day = 6000\n",
    );
    let n = hba1c.len();
    for (i, (a, f)) in hba1c.iter().zip(fpg).enumerate() {
        let years = i as f64 - (n as f64 - 1.0);
        text.push_str(&format!(
            "\n[[visit]]\nyears = {years}\nhba1c = {a}\nfpg = {f}\nsbp = 132\nldl = 130\nhdl = 55\nbmi = 25.0\n"
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    person_file::read(&path).unwrap()
}

fn settings() -> TwinSettings {
    TwinSettings {
        personalise: PersonaliseSettings {
            particles: 1500,
            seed: 7,
            scores: true,
            one_step: true,
        },
        forecast: ForecastSettings {
            futures: 600,
            years: 10,
            seed: 3,
            step_months: 1,
        },
        counterfactuals: CounterfactualPlan::None,
        population_only: false,
    }
}

#[test]
fn a_rising_hba1c_history_gives_a_higher_diabetes_risk_than_a_flat_one() {
    let dir = tempfile::tempdir().unwrap();
    let flat = person(dir.path(), "flat", [6.0; 6], [108.0; 6]);
    let rising = person(
        dir.path(),
        "rising",
        [5.4, 5.5, 5.6, 5.75, 5.9, 6.0],
        [95.0, 97.0, 100.0, 103.0, 105.0, 108.0],
    );
    assert_eq!(flat.index, rising.index, "identical index-date values");
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let s = settings();
    let f = twin::run_twin(&model, &flat, &s).unwrap();
    let r = twin::run_twin(&model, &rising, &s).unwrap();
    let mut pop_s = s.clone();
    pop_s.population_only = true;
    let p = twin::run_twin(&model, &flat, &pop_s).unwrap();
    let one_visit = person_from(dir.path(), "one", &[6.0], &[108.0]);
    assert_eq!(one_visit.index, flat.index);
    let o = twin::run_twin(&model, &one_visit, &s).unwrap();
    let risk = |t: &twin::Twin, h| t.forecast.arms[0].risk(Outcome::T2d, h);
    for h in [5.0, 10.0] {
        eprintln!(
            "T2D risk by {h} y: flat {:.3}, rising {:.3}, population-only {:.3}; ESS flat {:.0}, rising {:.0}",
            risk(&f, h),
            risk(&r, h),
            risk(&p, h),
            f.posterior.glycaemia.as_ref().unwrap().ess,
            r.posterior.glycaemia.as_ref().unwrap().ess
        );
    }
    eprintln!("one visit: {:.3} / {:.3}", risk(&o, 5.0), risk(&o, 10.0));
    assert!(
        risk(&r, 5.0) > risk(&f, 5.0) + 0.05,
        "rising history must raise the 5-year risk"
    );
    // Not asserted at 10 years: there the order depends on the person (here rising 0.38 vs
    // flat 0.30; the library files twin/persons/{rising,flat}.toml: 0.24 vs 0.47, see
    // docs/validation.md, "Personal twin"): the rising person's progressing futures reach
    // onset early, the others sit further below the threshold than the flat person.
    // Not asserted: that five years of the same readings are reassuring next to one reading
    // at 10 years. It held before issue 19 made the entry state consistent and refitted the
    // common decline of ε to 0.24%/y (flat 0.075 vs one reading 0.135); now the flat history
    // has the higher 10-year risk (0.30 vs 0.17 at these seeds). Five readings of 6.0% pin
    // the person's usual HbA1c at 6.0% (the twin's fitted value at the index: flat 6.05,
    // rising 5.78), while one reading leaves room for a lower usual value; with every
    // person's glucose creeping up with age, a usual 6.0% reaches 6.5% within ten years
    // more often. docs/validation.md ("Personal twin") has the figures.
    // Posterior of the glycaemic drift: rising histories are progressors.
    let progressors = |t: &twin::Twin| {
        let g = t.posterior.glycaemia.as_ref().unwrap();
        g.weights
            .iter()
            .zip(&g.at_index)
            .filter(|(_, a)| a.traits.efficiency_drift != 0.0)
            .map(|(w, _)| w)
            .sum::<f64>()
    };
    assert!(progressors(&r) > 2.0 * progressors(&f));
}
