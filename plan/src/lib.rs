//! Municipal frailty-prevention plans (docs/planning.md): a town's residents, the options it
//! can fund and a capacity sweep, run as one [`study::Study`] on the same residents with
//! common random numbers, and reported per fiscal year on the town's scale: residents by
//! frailty state and care level, new certifications by level, facility demand, long-term-care
//! benefit (total, insurer, municipal and premium shares), medical and programme spending,
//! people reached, what each option averts and costs, with intervals over replicates (and
//! parameter draws with `--psa`).
//!
//! - [`town`]: residents by sex and 5-year band (register CSV, national or scaled structure);
//! - [`residents`]: the simulated residents, a stratified sample drawn at each age;
//! - [`local`]: local prevalences as documented adjustments;
//! - [`projection`]: an IPSS-style projected population (reweighting);
//! - [`measures`]: what a run reports, on the town's scale;
//! - [`sweep`]: the marginal value of each block of places, and which to fund first;
//! - [`disclosure`]: the one function every people count goes through;
//! - [`report`]: tables (CSV, Parquet), charts, the HTML report and the terminal text;
//! - [`fiscal`]: fiscal years and insurance periods.
//!
//! Must never: print, read flags, or loop over replicates and arms itself (the study runner
//! is the only loop); show a people count that has not been through [`disclosure`].

pub mod disclosure;
pub mod fiscal;
pub mod local;
pub mod measures;
pub mod projection;
pub mod report;
pub mod residents;
pub mod sweep;
pub mod town;

use std::collections::HashMap;
use std::path::PathBuf;

use engine::observe::{age_band_label, N_AGE_BANDS};
use engine::{Aggregator, Baseline, Patient};
use models::mortality::LifeTable;
use models::{HealthModel, PersonState};
use scenarios::plan::{Future, PlanFile, Structure};
use scenarios::ScenarioError;
use study::{Arm, Progress, RunCheckpoint, Settings, Streams, Study, StudyError};

use measures::{RunValues, Sources, Weights};
use residents::{strata, Sampler, Stratum};
use town::Town;

/// Why a plan cannot be made or run.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A data file the plan names (residents, structure, projection).
    #[error("{file}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
    Input {
        file: String,
        line: u64,
        message: String,
    },
    #[error(transparent)]
    Plan(#[from] ScenarioError),
    /// The plan asks for something the model cannot give (a local rate out of reach).
    #[error("{0}")]
    Spec(String),
    #[error(transparent)]
    Study(#[from] StudyError),
    #[error("{0}")]
    Model(String),
    #[error(transparent)]
    Report(#[from] ::report::ReportError),
}

impl PlanError {
    /// Whether the user's input caused it (exit code 2), not a failure while running.
    pub fn is_input(&self) -> bool {
        match self {
            PlanError::Input { .. } | PlanError::Plan(_) | PlanError::Spec(_) => true,
            PlanError::Study(StudyError::Draw { .. }) => true,
            PlanError::Study(_) | PlanError::Model(_) | PlanError::Report(_) => false,
        }
    }
}

/// What the caller may override of the plan file (every field optional).
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// The resident register's counts (CSV), replacing the plan's `[town]` structure.
    pub residents: Option<PathBuf>,
    pub replicates: Option<u32>,
    pub years: Option<u32>,
    pub seed: Option<u64>,
    /// Parameter uncertainty: K draws from the plan's `[uncertainty]`, one per replicate.
    pub psa: Option<u32>,
    /// Most people simulated.
    pub sample: Option<u64>,
    /// Disclosure threshold.
    pub threshold: Option<u64>,
}

/// The role of an arm (one arm may have several: an option equal to a sweep point).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Baseline,
    Option(usize),
    /// Programme `programme` alone at `blocks` blocks of places.
    Sweep {
        programme: usize,
        blocks: u32,
    },
}

/// One arm of the plan's study.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmInfo {
    pub name: String,
    /// Places per programme (index into the plan's programmes), real and simulated.
    pub places: Vec<(usize, u64)>,
    pub simulated_places: Vec<(usize, u64)>,
    pub roles: Vec<Role>,
}

/// A plan ready to run: the town, its simulated residents, the adjustments and the study.
pub struct Plan {
    pub file: PlanFile,
    pub town: Town,
    pub strata: Vec<Stratum>,
    /// Residents per simulated person.
    pub weight: f64,
    /// First band simulated (people who reach 65 within the horizon).
    pub first_band: usize,
    pub local: local::LocalFit,
    pub weights: Weights,
    pub study: Study<HealthModel>,
    pub arms: Vec<ArmInfo>,
    pub programme_names: Vec<String>,
    pub threshold: u64,
    /// What the user should know about how the town was simulated.
    pub notes: Vec<Note>,
}

/// A note in both languages of the report (the terminal and the manifest use English).
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub ja: String,
    pub en: String,
}

/// Everything kept of a plan's runs.
#[derive(Clone, Debug)]
pub struct PlanResults {
    /// `[arm][replicate]`.
    pub runs: Vec<Vec<RunValues>>,
    /// Wall-clock seconds of simulation per arm.
    pub seconds: Vec<f64>,
    /// Simulated person-years over every run (people simulated, not residents).
    pub person_years: f64,
}

/// The first band simulated for a horizon of `years`: everyone who is 65 or older before
/// the last fiscal year ends, and at least 40.
pub fn first_band(years: u32) -> usize {
    let age = (65i64 - i64::from(years)).max(40) as usize;
    age / 5
}

impl Plan {
    /// Builds the plan: reads the town, draws and adjusts its residents, and lays out the
    /// arms (baseline, options, sweep points) on them.
    pub fn new(mut file: PlanFile, opts: &PlanOptions) -> Result<Plan, PlanError> {
        if let Some(r) = &opts.residents {
            file.structure = Structure::Residents(r.clone());
        }
        if let Some(y) = opts.years {
            file.years = y;
        }
        if let Some(s) = opts.seed {
            file.seed = s;
        }
        if let Some(s) = opts.sample {
            file.sample = s;
        }
        let threshold = opts.threshold.unwrap_or(file.threshold);
        let mut notes = Vec::new();

        let mut town = match &file.structure {
            Structure::Residents(p) => Town::read_register(p)?,
            Structure::National { population } => Town::national(*population),
            Structure::Scaled {
                path,
                population,
                all_ages,
            } => Town::read_scaled(path, *population, *all_ages)?,
        };
        let given_first = town.first_band;
        let first = first_band(file.years);
        if town.fill_below(first) {
            let men: f64 = town.filled.iter().map(|&b| town.counts[0][b]).sum();
            let women: f64 = town.filled.iter().map(|&b| town.counts[1][b]).sum();
            let (from, to, band) = (first * 5, given_first * 5 - 1, age_band_label(given_first));
            notes.push(Note {
                ja: format!(
                    "入力の人口は{band}歳から始まるため、計画期間中に65歳になる人（現在{from}〜{to}歳）は、全国の年齢構成を町の{band}歳の人数に合わせて補っています（男性{men:.0}人、女性{women:.0}人）。40歳以上の人数を入力すると町の値を使います。"
                ),
                en: format!(
                    "the residents start at {band}: the people who turn 65 within the plan (ages \
                     {from}-{to} today) are taken from the national structure scaled to the \
                     town's {band} band ({men:.0} men, {women:.0} women); give 40+ counts to use \
                     your own"
                ),
            });
        }
        if given_first < first {
            notes.push(Note {
                ja: format!(
                    "{}歳未満の住民は計画期間中に65歳にならないため、シミュレーションしていません。",
                    first * 5
                ),
                en: format!(
                    "residents under {} are not simulated: they do not reach 65 within the \
                     {}-year plan",
                    first * 5,
                    file.years
                ),
            });
        }
        let strata = strata(&town, first, file.sample);
        let simulated: u64 = strata.iter().map(|s| s.n).sum();
        let residents: f64 = strata.iter().map(|s| s.residents).sum();
        let weight = residents / simulated as f64;
        if weight > 1.0 + 1e-9 {
            let age = first * 5;
            notes.push(Note {
                ja: format!(
                    "{age}歳以上の住民{residents:.0}人を{simulated}人の標本で表しています（1人あたり{weight:.3}人）。town.sample または --sample で増やせます。"
                ),
                en: format!(
                    "{simulated} people are simulated for {residents:.0} residents aged {age}+ \
                     (each stands for {weight:.3}; raise town.sample or --sample to simulate \
                     more)"
                ),
            });
        }

        // The base model: the plan's parameters, then the local adjustments.
        let mut base = HealthModel::new(LifeTable::mhlw_2024());
        for (name, v) in &file.parameters {
            base.set_param(name, *v)
                .map_err(|e| PlanError::Spec(format!("parameters.{name}: {e}")))?;
        }
        let replicates = opts.psa.or(opts.replicates).unwrap_or(file.replicates);
        let settings = Settings {
            seed: file.seed,
            years: file.years,
            step_months: file.step_months,
            replicates,
            streams: Streams::Common,
            chunk_size: 1024,
            trace_patients: 0,
        };
        let mut sampler = Sampler::new(strata.clone(), file.seed)?;
        let (fit, people) = local::fit(
            &file.local,
            &town,
            &mut sampler,
            &base,
            settings.run_key(0, 0),
            file.seed,
        )?;
        base.set_param("fr.ltc.local_log_odds", fit.cert_log_odds)
            .and_then(|_| base.set_param("fr.ltc.local_level_shift", fit.level_shift))
            .map_err(|e| PlanError::Spec(format!("[local]: {e}")))?;
        base.record_ltc_detail();

        let weights = match &file.future {
            Future::Closed => Weights::Uniform(weight),
            Future::Projection(path) => {
                let p = projection::Projection::read(path)?;
                let mut target = Vec::new();
                for y in 0..file.years {
                    let fy = file.start_fiscal_year + i64::from(y);
                    let Some(t) = p.at(fy) else {
                        let (a, b) = p.span();
                        return Err(PlanError::Input {
                            file: path.display().to_string(),
                            line: 0,
                            message: format!(
                                "the projection covers {a}-{b}; the plan's fiscal years \
                                 {}-{} must be within it",
                                file.start_fiscal_year,
                                file.start_fiscal_year + i64::from(file.years) - 1
                            ),
                        });
                    };
                    target.push(t);
                }
                Weights::Projection {
                    uniform: weight,
                    target,
                }
            }
        };

        let programme_names: Vec<String> = file
            .programmes
            .iter()
            .map(|p| p.spec.name.clone())
            .collect();
        let to_simulated = |real: u64| -> u64 {
            if real == 0 {
                0
            } else {
                ((real as f64 / weight).round() as u64).max(1)
            }
        };
        let mut arms: Vec<ArmInfo> = Vec::new();
        let mut by_places: HashMap<Vec<(usize, u64)>, usize> = HashMap::new();
        let mut add =
            |name: String, places: Vec<(usize, u64)>, role: Role, arms: &mut Vec<ArmInfo>| {
                if let Some(&i) = by_places.get(&places) {
                    arms[i].roles.push(role);
                    return;
                }
                by_places.insert(places.clone(), arms.len());
                arms.push(ArmInfo {
                    name,
                    simulated_places: places.iter().map(|&(k, n)| (k, to_simulated(n))).collect(),
                    places,
                    roles: vec![role],
                });
            };
        add("baseline".into(), Vec::new(), Role::Baseline, &mut arms);
        for (i, o) in file.options.iter().enumerate() {
            add(o.name.clone(), o.places.clone(), Role::Option(i), &mut arms);
        }
        if let Some(sw) = &file.sweep {
            for &(k, block) in &sw.blocks {
                for j in 1..=sw.points {
                    let places = u64::from(j) * block;
                    add(
                        format!("sweep_{}_{places}", programme_names[k]),
                        vec![(k, places)],
                        Role::Sweep {
                            programme: k,
                            blocks: j,
                        },
                        &mut arms,
                    );
                }
            }
        }
        let mut study_arms = Vec::new();
        for a in &arms {
            let mut model = base.clone();
            model
                .set_interventions(file.interventions(&a.places, to_simulated))
                .map_err(|e| PlanError::Spec(format!("arm {}: {e}", a.name)))?;
            study_arms.push(Arm {
                name: a.name.clone(),
                model,
            });
        }
        let draws = if opts.psa.is_some() {
            let d = file.draws();
            if d.is_empty() {
                return Err(PlanError::Spec(format!(
                    "--psa: {} has no [uncertainty] table (docs/scenarios.md)",
                    file.file.display()
                )));
            }
            d
        } else {
            Vec::new()
        };
        let study = Study {
            arms: study_arms,
            population: people,
            allocation: study::Allocation::Paired,
            settings,
            draws,
        };
        Ok(Plan {
            file,
            town,
            strata,
            weight,
            first_band: first,
            local: fit,
            weights,
            study,
            arms,
            programme_names,
            threshold,
            notes,
        })
    }

    /// The simulated residents.
    pub fn people(&self) -> &[Baseline] {
        &self.study.population
    }

    /// Runs every arm on the same residents (common random numbers) and keeps each run's
    /// values on the town's scale.
    pub fn run(&self, progress: &dyn Progress) -> Result<PlanResults, PlanError> {
        let sources = self.sources()?;
        let results = study::run(&self.study, progress, |ctx, out| {
            Ok::<_, PlanError>(self.reduce(&sources, ctx.arm, &out.aggregate))
        })?;
        Ok(Self::assemble(
            results
                .arms
                .into_iter()
                .map(|a| (a.replicates, a.seconds))
                .collect(),
        ))
    }

    /// Runs replicates `replicates` only (a shard of the replicates: each is keyed exactly
    /// as in the whole plan, and the residents' places are allocated within a run, so a
    /// replicate's run is the whole plan's) and keeps each run's exact aggregate: per arm,
    /// the runs in replicate order and the arm's simulation seconds.
    pub fn run_partial(
        &self,
        progress: &dyn Progress,
        replicates: std::ops::Range<u32>,
    ) -> Result<Vec<(Vec<engine::Aggregator>, f64)>, PlanError> {
        let results = study::run_replicates(&self.study, replicates, progress, |_, out| {
            Ok::<_, PlanError>(out.aggregate)
        })?;
        Ok(results
            .arms
            .into_iter()
            .map(|a| (a.replicates, a.seconds))
            .collect())
    }

    /// Replicate `replicate` of every arm, as [`Self::run_partial`] runs it, with a
    /// checkpoint inside the replicate (`plan --checkpoint`, docs/shards.md): the arms'
    /// runs it holds finished (their exact aggregates) are not run again, the run in
    /// progress starts from its last saved year, and each run's state is offered to it at
    /// year boundaries. A run's reduction needs nothing of the other arms' runs, so a
    /// finished run is its aggregate. The results are those of [`Self::run_partial`] (a
    /// finished run's simulation seconds count as 0).
    pub fn run_replicate_checkpointed<E: From<StudyError>>(
        &self,
        progress: &dyn Progress,
        replicate: u32,
        checkpoint: &mut dyn RunCheckpoint<PersonState, Patient<PersonState>, Aggregator, E>,
    ) -> Result<Vec<(Vec<Aggregator>, f64)>, E> {
        let key = |r| self.study.settings.draw_key(r);
        let results = study::run_drawn_checkpointed(
            &self.study,
            replicate..replicate + 1,
            progress,
            |arm: &HealthModel, r| arm.for_replicate(key(r), &self.study.draws),
            checkpoint,
            |_, out| Ok(out.aggregate),
        )?;
        Ok(results
            .arms
            .into_iter()
            .map(|a| (a.replicates, a.seconds))
            .collect())
    }

    /// Where each arm's values come from in its aggregates.
    pub fn sources(&self) -> Result<Vec<Sources>, PlanError> {
        self.study
            .arms
            .iter()
            .map(|a| Sources::new(&a.model, &self.programme_names))
            .collect::<Result<_, _>>()
            .map_err(|e| PlanError::Model(e.to_string()))
    }

    /// One run of arm `arm` reduced to its values on the town's scale and its simulated
    /// person-years, as [`Self::run`] reduces it.
    pub fn reduce(
        &self,
        sources: &[Sources],
        arm: usize,
        aggregate: &engine::Aggregator,
    ) -> (RunValues, f64) {
        (
            measures::extract(aggregate, &sources[arm], &self.weights),
            measures::simulated_person_years(aggregate),
        )
    }

    /// The results from every run's reduced values (per arm: the replicates in order and
    /// the arm's simulation seconds): what [`Self::run`] returns.
    pub fn assemble(arms: Vec<(Vec<(RunValues, f64)>, f64)>) -> PlanResults {
        let mut person_years = 0.0;
        let mut seconds = Vec::new();
        let mut runs = Vec::new();
        for (replicates, s) in arms {
            seconds.push(s);
            let mut v = Vec::new();
            for (values, py) in replicates {
                person_years += py;
                v.push(values);
            }
            runs.push(v);
        }
        PlanResults {
            runs,
            seconds,
            person_years,
        }
    }

    /// The arm with role `role`.
    pub fn arm_of(&self, role: &Role) -> Option<usize> {
        self.arms.iter().position(|a| a.roles.contains(role))
    }

    /// Fiscal year of simulated year `t`.
    pub fn fiscal_year(&self, t: usize) -> i64 {
        self.file.start_fiscal_year + t as i64
    }

    /// Residents of the town aged 65+ on 1 April of the first fiscal year.
    pub fn residents_65(&self) -> f64 {
        self.town.from_band(measures::BAND_65)
    }

    /// The bands shown in tables: 65-69 … 85-89 and 90+ (bands 18-20 summed).
    pub fn table_bands() -> Vec<(String, Vec<usize>)> {
        let mut v: Vec<(String, Vec<usize>)> =
            (13..18).map(|b| (age_band_label(b), vec![b])).collect();
        v.push(("90+".into(), (18..N_AGE_BANDS).collect()));
        v
    }
}
