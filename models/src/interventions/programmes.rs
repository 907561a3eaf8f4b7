//! A scenario's programmes validated into a [`ProgrammeSet`]: each programme with its keyed
//! processes, its strength (adherence × effect scale) and cost, the masks of what acts when,
//! the programme metrics and their census.
//!
//! Must never: accept a programme the model cannot run (every error names the programme and
//! the field), or key a draw by anything but the programme's name (adding or removing a
//! programme shifts no other draw).

use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::rng::Process;

use super::effects;
use super::{Intervention, IxState, Kind, MAX_PROGRAMMES};
use crate::layout::MetricBlock;

/// Indices of a programme's metrics within its pair of the programmes' block (programme `k`
/// records at `PER_PROGRAMME * k + …`).
pub mod metric {
    /// Share enrolled at the yearly census.
    pub const PARTICIPANTS: usize = 0;
    /// New enrolments in the year.
    pub const ENROLMENTS: usize = 1;
    pub const PER_PROGRAMME: usize = 2;
}

/// A programme specification the model cannot run, naming the programme and the field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("intervention `{intervention}`, field `{field}`: {message}")]
pub struct InterventionError {
    pub intervention: String,
    /// The key within the programme (`uptake`, `eligibility.ldl_mg_dl.min`).
    pub field: String,
    pub message: String,
}

/// One programme of a scenario after validation, with what it derives: its strength, cost
/// per participant-year and keyed processes.
#[derive(Clone, Debug)]
pub struct ValidatedProgramme {
    pub spec: Intervention,
    /// adherence × effect_scale: the share of the cited effect a participant receives.
    pub strength: f64,
    /// Programme cost per participant-year, thousand yen.
    pub cost_kyen_per_year: f64,
    pub(super) lottery: Process,
    pub(super) uptake: Process,
    pub(super) dropout: Process,
    /// Yearly draws of a participant's behaviour within the programme (attendance).
    pub(super) yearly: Process,
    /// Draws at the programme's visits (glucose intensification).
    pub(super) visit: Process,
    /// The mechanisms' effect sizes (named parameters `ix.*`).
    pub(super) fx: effects::IxParams,
}

/// The programmes of a scenario, validated, in plan order (bit `k` of [`IxState`] masks).
#[derive(Clone, Debug, Default)]
pub struct ProgrammeSet {
    pub programmes: Vec<ValidatedProgramme>,
    /// Programmes whose mechanism acts in every step of a participant (metformin, glucose
    /// intensification), one bit each: the others act only at start, stop and yearly.
    pub(super) monthly_mask: u8,
    /// Programmes that set weight or activity each step (lifestyle, diet, exercise,
    /// metformin, a frailty programme with added steps).
    pub(super) weight_mask: u8,
    /// The yearly allocation may do all programmes' per-person work in one pass (no two
    /// programmes of a kind that writes a trait another programme of that kind reads).
    pub(super) one_pass: bool,
    /// Programme cost per year, kyen, of a person enrolled in the programmes of mask `m`, at
    /// index `m` (empty without programmes).
    cost_by_mask: Vec<f64>,
    /// The engine makes the allocation's per-person pass at the end of each person's year
    /// ([`Self::prepare`]); off only in a test that checks it changes nothing.
    pub(crate) prepare_in_engine: bool,
    /// Where the programme metrics sit in the model's metric list.
    metrics: MetricBlock,
}

fn check(
    ok: bool,
    iv: &Intervention,
    field: &str,
    message: String,
) -> Result<(), InterventionError> {
    if ok {
        Ok(())
    } else {
        Err(InterventionError {
            intervention: iv.name.clone(),
            field: field.to_string(),
            message,
        })
    }
}

impl ProgrammeSet {
    /// Validates `plan` and derives each programme's keyed processes; `fx` holds the mechanisms' effect sizes (from the model's named
    /// parameters `ix.*`).
    pub fn new(
        plan: Vec<Intervention>,
        fx: effects::IxParams,
    ) -> Result<ProgrammeSet, InterventionError> {
        if plan.len() > MAX_PROGRAMMES {
            return Err(InterventionError {
                intervention: plan[MAX_PROGRAMMES].name.clone(),
                field: "name".into(),
                message: format!(
                    "a scenario may run at most {MAX_PROGRAMMES} interventions, this is number {}",
                    plan.len()
                ),
            });
        }
        let mut programmes = Vec::with_capacity(plan.len());
        for (i, iv) in plan.iter().enumerate() {
            check(
                !iv.name.is_empty()
                    && iv
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                iv,
                "name",
                "must be non-empty and use only ASCII letters, digits, '_' or '-' (it names output \
                 columns)"
                    .into(),
            )?;
            check(
                plan[..i].iter().all(|o| o.name != iv.name),
                iv,
                "name",
                "two interventions have this name; names must be unique".into(),
            )?;
            let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
            check(
                unit(iv.uptake),
                iv,
                "uptake",
                format!("must be in [0, 1], got {}", iv.uptake),
            )?;
            check(
                unit(iv.adherence),
                iv,
                "adherence",
                format!("must be in [0, 1], got {}", iv.adherence),
            )?;
            let nonneg = |x: f64| x.is_finite() && x >= 0.0;
            check(
                nonneg(iv.dropout_per_year),
                iv,
                "dropout_per_year",
                format!("must be a finite number >= 0, got {}", iv.dropout_per_year),
            )?;
            check(
                nonneg(iv.effect_scale),
                iv,
                "effect_scale",
                format!("must be a finite number >= 0, got {}", iv.effect_scale),
            )?;
            check(
                nonneg(iv.cost_per_participant_year_yen),
                iv,
                "cost_per_participant_year_yen",
                format!(
                    "must be a finite number >= 0, got {}",
                    iv.cost_per_participant_year_yen
                ),
            )?;
            if let Some(stop) = iv.stop_year {
                check(
                    stop > iv.start_year,
                    iv,
                    "stop_year",
                    format!("must be after start_year {}, got {stop}", iv.start_year),
                )?;
            }
            check(
                iv.start_year < 5000,
                iv,
                "start_year",
                format!("must be below 5000, got {}", iv.start_year),
            )?;
            if let Some(d) = iv.duration_years {
                check(
                    d.is_finite() && (1.0 / 12.0..=5000.0).contains(&d),
                    iv,
                    "duration_years",
                    format!("must be between one month (0.0833) and 5000 years, got {d}"),
                )?;
            }
            let m = &iv.mechanism;
            for (field, v, lo, hi) in [
                ("weight_loss_pct", m.weight_loss_pct, 0.0, 50.0),
                ("nadir_months", m.nadir_months, 1.0, 60.0),
                ("regain_pct_per_year", m.regain_pct_per_year, 0.0, 50.0),
                ("extra_steps_per_day", m.extra_steps_per_day, 0.0, 20_000.0),
                ("target_sbp_mmhg", m.target_sbp_mmhg, 90.0, 200.0),
                ("visit_months", f64::from(m.visit_months), 1.0, 24.0),
                ("max_drugs", f64::from(m.max_drugs), 1.0, 5.0),
            ] {
                check(
                    v.is_finite() && (lo..=hi).contains(&v),
                    iv,
                    field,
                    format!("must be in [{lo}, {hi}], got {v}"),
                )?;
            }
            if let Err(e) = iv.eligibility.covariates.check() {
                return Err(InterventionError {
                    intervention: iv.name.clone(),
                    field: format!("eligibility.{}", e.key),
                    message: e.message,
                });
            }
            let named = |what: &str| Process::named(&format!("ix.{}.{what}", iv.name));
            programmes.push(ValidatedProgramme {
                strength: iv.adherence * iv.effect_scale,
                cost_kyen_per_year: iv.cost_per_participant_year_yen / 1000.0,
                lottery: named("lottery"),
                uptake: named("uptake"),
                dropout: named("dropout"),
                yearly: named("yearly"),
                visit: named("visit"),
                fx,
                spec: iv.clone(),
            });
        }
        let mask = |f: &dyn Fn(Kind) -> bool| {
            programmes
                .iter()
                .enumerate()
                .filter(|(_, p)| p.strength > 0.0 && f(p.spec.kind))
                .fold(0u8, |m, (k, _)| m | 1 << k)
        };
        let monthly_mask = mask(&|k| {
            matches!(
                k,
                Kind::Metformin | Kind::GlucoseIntensification | Kind::BpTreatToTarget
            )
        });
        let weight_mask = programmes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.strength > 0.0 && p.spec.sets_weight_or_activity())
            .fold(0u8, |m, (k, _)| m | 1 << k);
        let count = |kind: Kind| programmes.iter().filter(|p| p.spec.kind == kind).count();
        let one_pass = count(Kind::CommunitySalon) <= 1 && count(Kind::HealthCheck) <= 1;
        let cost_by_mask = if programmes.is_empty() {
            Vec::new()
        } else {
            (0..=u8::MAX)
                .map(|mask| {
                    programmes
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| mask >> k & 1 == 1)
                        .map(|(_, p)| p.cost_kyen_per_year)
                        .sum()
                })
                .collect()
        };
        Ok(ProgrammeSet {
            programmes,
            monthly_mask,
            weight_mask,
            one_pass,
            cost_by_mask,
            prepare_in_engine: true,
            metrics: MetricBlock::default(),
        })
    }

    /// New effect sizes for every programme (after a parameter change).
    pub fn set_effects(&mut self, fx: effects::IxParams) {
        for pr in &mut self.programmes {
            pr.fx = fx;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.programmes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.programmes.len()
    }

    /// Per programme: `ix_<name>_participants` (share enrolled at the yearly census) and
    /// `ix_<name>_enrolments` (new enrolments in the year, a count).
    pub fn metric_defs(&self) -> Vec<MetricDef> {
        let mut v = Vec::with_capacity(2 * self.len());
        for pr in &self.programmes {
            let n = &pr.spec.name;
            v.push(MetricDef::new(
                format!("ix_{n}_participants"),
                MetricKind::Prevalence,
                format!("share enrolled in programme {n} at the start of the year"),
            ));
            v.push(MetricDef::new(
                format!("ix_{n}_enrolments"),
                MetricKind::Total,
                format!("new enrolments in programme {n} during the year (count)"),
            ));
        }
        v
    }

    /// Canonical text of the plan (for the parameter hash); empty without programmes.
    pub fn canonical(&self) -> String {
        self.programmes
            .iter()
            .map(|p| format!("intervention={:?}\n", p.spec))
            .collect()
    }

    /// Whether the engine makes the per-person pass of the yearly allocation
    /// ([`Self::prepare`]): with programmes, in the one-pass order.
    pub fn prepares(&self) -> bool {
        !self.is_empty() && self.one_pass && self.prepare_in_engine
    }

    /// Programme cost per year of a person enrolled in the programmes of `mask`, kyen.
    #[inline]
    pub fn cost_kyen_per_year(&self, mask: u8) -> f64 {
        self.cost_by_mask
            .get(usize::from(mask))
            .copied()
            .unwrap_or(0.0)
    }

    /// Census: the participation flags.
    #[inline]
    pub fn census(&self, st: &IxState, rec: &mut Recorder) {
        for k in 0..self.len() {
            rec.flag(self.metric(k, metric::PARTICIPANTS), st.is_enrolled(k));
        }
    }

    /// Places the programme metrics at `metrics` in the model's metric list (the block laid
    /// out for [`Self::metric_defs`]).
    pub fn set_metrics(&mut self, metrics: MetricBlock) {
        debug_assert_eq!(metrics.len(), metric::PER_PROGRAMME * self.len());
        self.metrics = metrics;
    }

    /// The model's index of metric `which` ([`metric`]) of programme `k`.
    #[inline]
    pub(super) fn metric(&self, k: usize, which: usize) -> usize {
        self.metrics.at(metric::PER_PROGRAMME * k + which)
    }

    /// Whether the yearly allocation does every programme's per-person work in one pass
    /// (see [`Self::start_of_year`]).
    pub fn one_pass(&self) -> bool {
        self.one_pass
    }
}
