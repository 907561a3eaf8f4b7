//! healthtwin's disease models: one module per process, each a set of pure functions of
//! patient state and named, sourced parameters; the engine owns time, randomness and
//! parallelism. This release holds background mortality (the MHLW 2024 life table), type 2
//! diabetes ([`diabetes`]), cardiovascular disease ([`cvd`]) and frailty with long-term care
//! ([`frailty`]), coupled in [`HealthModel`].
//!
//! Must never: do IO at run time (data is embedded), print, or draw random numbers except
//! through the engine's keyed streams.

pub mod cvd;
pub mod diabetes;
pub mod economics;
pub mod frailty;
pub mod interventions;
pub mod mortality;
pub mod params;

use cvd::params::CvdParams;
use cvd::{Cvd, CvdState, DmLink, HasCvd};
use diabetes::params::DiabetesParams;
use diabetes::{Diabetes, DmState, HasDm};
use engine::observe::{MetricDef, Recorder};
use engine::{Baseline, Model, Patient, RunKey, StepCtx, MAX_CAUSES};
use frailty::params::FrailtyParams;
use frailty::{FrState, Frailty, HasFrailty};
use mortality::LifeTable;
use params::{Param, ParamSet};

/// The coupled model run by `healthtwin run`.
#[derive(Clone, Debug)]
pub struct HealthModel {
    life_table: LifeTable,
    params: ParamSet,
    background_hr: f64,
    diabetes: Diabetes,
    frailty: Frailty,
    cvd: Cvd,
    econ: economics::EconParams,
    /// The scenario's intervention programmes (empty: none).
    ix: interventions::Plan,
}

/// Per-person state of the coupled model: one part per disease module. Each module's
/// functions are generic over a `Has…` trait, so they also run on their own part alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PersonState {
    pub dm: DmState,
    pub fr: FrState,
    pub cvd: CvdState,
    pub ix: interventions::IxState,
    pub econ: economics::EconState,
}

impl HasDm for PersonState {
    #[inline]
    fn dm(&self) -> &DmState {
        &self.dm
    }
    #[inline]
    fn dm_mut(&mut self) -> &mut DmState {
        &mut self.dm
    }
}

impl HasCvd for PersonState {
    #[inline]
    fn cvd(&self) -> &CvdState {
        &self.cvd
    }
    #[inline]
    fn cvd_mut(&mut self) -> &mut CvdState {
        &mut self.cvd
    }
}

impl HasFrailty for PersonState {
    #[inline]
    fn fr(&self) -> &FrState {
        &self.fr
    }
    #[inline]
    fn fr_mut(&mut self) -> &mut FrState {
        &mut self.fr
    }
}

/// Causes of death, in output order: the life table's rate (net of the conditions modelled
/// explicitly), the excess mortality of diabetes, the excess of the frailty index, and
/// cardiovascular deaths (within the step of an MI, stroke or heart failure, and the excess
/// after one).
pub const CAUSES: [&str; 4] = ["background", "diabetes", "frailty", "cardiovascular"];

impl HealthModel {
    pub fn new(life_table: LifeTable) -> Self {
        let mut all = vec![Param {
            name: "mortality.background.hazard_ratio",
            value: 1.0,
            unit: "ratio",
            source: "calibration handle, not a published number: 1 = the MHLW 2024 life table as published",
            range: (0.0, 10.0),
        }];
        all.extend(DiabetesParams::params());
        all.extend(FrailtyParams::params());
        all.extend(CvdParams::params());
        all.extend(economics::EconParams::params());
        all.extend(interventions::mechanisms::IxParams::params());
        let params = ParamSet::new(all);
        let diabetes =
            Diabetes::new(DiabetesParams::from_set(&params).expect("defaults are complete"));
        let frailty = Frailty::new(
            FrailtyParams::from_set(&params).expect("defaults are complete"),
            diabetes::metric::COUNT,
        );
        let cvd = Cvd::new(
            CvdParams::from_set(&params).expect("defaults are complete"),
            diabetes::metric::COUNT + frailty::metric::COUNT,
        );
        HealthModel {
            life_table,
            background_hr: 1.0,
            diabetes,
            frailty,
            cvd,
            econ: economics::EconParams::from_set(&params).expect("defaults are complete"),
            params,
            ix: interventions::Plan::default(),
        }
    }

    /// Sets the scenario's intervention programmes (replacing any set before), after
    /// validating them: unique names, uptake and adherence in [0, 1], dropout, effect scale
    /// and cost ≥ 0, stop after start, at most [`interventions::MAX_PROGRAMMES`].
    pub fn set_interventions(
        &mut self,
        plan: Vec<interventions::Intervention>,
    ) -> Result<(), interventions::InterventionError> {
        let fx = interventions::mechanisms::IxParams::from_set(&self.params)
            .expect("the model's parameter set holds every ix.* parameter");
        self.ix = interventions::Plan::new(plan, fx)?;
        Ok(())
    }

    pub fn interventions(&self) -> &interventions::Plan {
        &self.ix
    }

    /// Index of the first economic metric within the model's metric list.
    fn econ_metric_base(&self) -> usize {
        diabetes::metric::COUNT + frailty::metric::COUNT + cvd::metric::COUNT
    }

    /// Index of the first intervention metric within the model's metric list.
    fn ix_metric_base(&self) -> usize {
        self.econ_metric_base() + economics::metric::COUNT
    }

    pub fn diabetes(&self) -> &Diabetes {
        &self.diabetes
    }

    pub fn frailty(&self) -> &Frailty {
        &self.frailty
    }

    pub fn cvd(&self) -> &Cvd {
        &self.cvd
    }

    pub fn params(&self) -> &ParamSet {
        &self.params
    }

    /// Sets a named parameter (calibration, PSA draws, per-patient twins use this).
    pub fn set_param(&mut self, name: &str, value: f64) -> Result<(), params::ParamError> {
        self.params.set(name, value)?;
        self.background_hr = self.params.get("mortality.background.hazard_ratio")?;
        self.econ = economics::EconParams::from_set(&self.params)?;
        self.ix
            .set_effects(interventions::mechanisms::IxParams::from_set(&self.params)?);
        self.diabetes = Diabetes::new(DiabetesParams::from_set(&self.params)?);
        self.cvd = Cvd::new(
            CvdParams::from_set(&self.params)?,
            diabetes::metric::COUNT + frailty::metric::COUNT,
        );
        if name.starts_with("fr.") {
            // The frailty tables take ~0.25 s to build: only when a frailty number moved.
            self.frailty = Frailty::new(
                FrailtyParams::from_set(&self.params)?,
                diabetes::metric::COUNT,
            );
        }
        Ok(())
    }

    /// The model of one replicate: `draws` redrawn from their uncertainty (the hook for
    /// probabilistic sensitivity analysis; an empty list keeps every parameter fixed).
    pub fn for_replicate(
        &self,
        run: RunKey,
        draws: &[params::ParamDraw],
    ) -> Result<HealthModel, params::ParamError> {
        let drawn = self.params.drawn(run, draws)?;
        let mut out = self.clone();
        for d in draws {
            out.set_param(&d.name, drawn.get(&d.name)?)?;
        }
        Ok(out)
    }

    pub fn life_table(&self) -> &LifeTable {
        &self.life_table
    }

    /// Canonical text of everything the model's results depend on (for the parameter hash).
    pub fn canonical(&self) -> String {
        format!(
            "{}{}{}",
            self.params.canonical(),
            self.life_table.canonical(),
            self.ix.canonical()
        )
    }
}

impl Model for HealthModel {
    type State = PersonState;
    type YearPrep = interventions::YearPrep;

    fn causes_of_death(&self) -> &[&'static str] {
        &CAUSES
    }

    fn metrics(&self) -> Vec<MetricDef> {
        let mut m = diabetes::metric_defs();
        m.extend(frailty::metric_defs());
        m.extend(cvd::metric_defs());
        m.extend(economics::metric_defs());
        m.extend(self.ix.metric_defs());
        m
    }

    fn init(&self, run: RunKey, baseline: &Baseline) -> Self::State {
        let mut st = PersonState {
            dm: self.diabetes.init(run, baseline),
            fr: self.frailty.init(run, baseline),
            cvd: self.cvd.init(run, baseline),
            ix: interventions::IxState::default(),
            econ: economics::EconState::default(),
        };
        st.econ = economics::init(&st);
        st
    }

    /// Risk factors: the cardiovascular trajectories (BMI moves by the yearly age drift),
    /// then a prevention arm, whose weight change (set from baseline each month) acts on the
    /// drifted BMI: one BMI trajectory, (baseline + drift) × the arm's factor (docs/model.md).
    #[inline]
    fn risk_factors(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        // Intervention programmes: leavers, starts (treatments before the CVD hazards).
        let programmes = p.state.ix.enrolled | p.state.ix.started != 0;
        if programmes {
            self.ix.before_risk_factors(
                ctx,
                p,
                &self.cvd,
                &self.diabetes,
                self.ix_metric_base() + 1,
                rec,
            );
        }
        // The diabetes link only in the (yearly) steps where the CVD phase uses it.
        if Cvd::risk_factors_due(ctx, p, p.state.dm.checkup_month) {
            let link = DmLink::from_dm(&p.state.dm);
            self.cvd.risk_factors(ctx, p, &link, rec);
        }
        if p.state.dm.prevention != diabetes::dpp::Arm::None {
            diabetes::dpp::apply_arm(ctx, p);
            let base = p.baseline.covariates.bmi_kg_m2;
            p.now.bmi_kg_m2 *= (base + p.state.cvd.bmi_drift) / base;
        }
        if programmes {
            // Programme weight and activity, from the person's own trajectory (replaces
            // the trial arm's clock-from-run-start weight for programme metformin).
            self.ix.after_risk_factors(ctx, p);
        }
    }

    #[inline]
    fn physiology(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, _rec: &mut Recorder) {
        self.diabetes.physiology(ctx, p);
    }

    #[inline]
    fn events(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        self.diabetes.events(ctx, p, rec);
        // Cardiovascular events before frailty: a new MI, stroke or heart failure adds
        // deficits in the same step.
        self.cvd
            .events_with(ctx, p, |p| DmLink::from_dm(&p.state.dm), rec);
        self.frailty.events(ctx, p, rec);
    }

    /// Utility, medical and programme costs of the step, after its events.
    #[inline]
    fn accounting(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        // Without programmes the programme-cost metric stays empty (read as 0).
        let programme_kyen = if self.ix.is_empty() {
            None
        } else if p.state.ix.enrolled == 0 {
            Some(0.0)
        } else {
            Some(self.ix.cost_kyen_per_year(p.state.ix.enrolled))
        };
        economics::record(
            &self.econ,
            ctx,
            p,
            programme_kyen,
            self.econ_metric_base(),
            rec,
        );
    }

    /// Background hazard from the life table less the population's death rate from the
    /// cardiovascular causes modelled explicitly, divided by the population's expected hazard
    /// ratios of diabetes and the frailty index, so the population total stays the life
    /// table's; each condition's excess is its own cause (docs/model.md). The ratios multiply
    /// (diabetes and the FI act independently), so the population expectation is taken as the
    /// product of the two expectations.
    #[inline]
    fn mortality_hazards(
        &self,
        ctx: &StepCtx,
        p: &Patient<PersonState>,
        hazards: &mut [f64; MAX_CAUSES],
    ) {
        // Age at the middle of the step selects the life-table row.
        let age = p.age_years + 0.5 * ctx.dt_years;
        let sex = p.sex().index();
        let mu_lt = self.background_hr * self.life_table.hazard(p.sex(), age);
        // Cardiovascular deaths are explicit only for people the cardiovascular model runs
        // on (its hazards are set from the first step); a model that runs only part of the
        // phases (the DPP trial) keeps the life table as published.
        let cvd_running = p.state.cvd.refreshed;
        let m_cvd = if cvd_running {
            self.cvd.population_death_rate(sex, age, mu_lt)
        } else {
            0.0
        };
        let mu = (mu_lt - m_cvd).max(0.0)
            / (self.diabetes.population_hazard_ratio(sex, age)
                * self.frailty.population_hazard_ratio(age));
        let hr_dm = self.diabetes.hazard_ratio(p);
        hazards[0] = mu;
        hazards[1] = mu * (hr_dm - 1.0);
        hazards[2] = mu * hr_dm * (self.frailty.hazard_ratio(p) - 1.0);
        hazards[3] = if cvd_running {
            self.cvd.death_hazard(p, mu_lt)
        } else {
            0.0
        };
    }

    #[inline]
    fn census(&self, p: &Patient<PersonState>, rec: &mut Recorder) {
        self.diabetes.census(p, rec);
        self.frailty.census(p, rec);
        self.cvd.census(p, &DmLink::from_dm(&p.state.dm), rec);
        if !self.ix.is_empty() {
            self.ix.census(&p.state.ix, self.ix_metric_base(), rec);
        }
    }

    /// The year's programme places (deterministic whatever the thread count).
    fn start_of_year(
        &self,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<PersonState>],
        prepared: Option<interventions::YearPrep>,
    ) {
        self.ix
            .start_of_year(&self.cvd, run, year, patients, prepared);
    }

    fn prepares(&self) -> bool {
        self.ix.prepares()
    }

    #[inline]
    fn prepare(
        &self,
        run: RunKey,
        year: u32,
        index: usize,
        p: &mut Patient<PersonState>,
        acc: &mut interventions::YearPrep,
    ) {
        self.ix.prepare(&self.cvd, run, year, index, p, acc);
    }

    fn merge_prep(&self, into: &mut interventions::YearPrep, other: interventions::YearPrep) {
        into.merge(other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use params::{ParamDraw, Uncertainty};

    #[test]
    fn a_replicate_model_carries_its_drawn_parameters() {
        let base = HealthModel::new(LifeTable::mhlw_2024());
        let run = RunKey {
            seed: 3,
            replicate: 4,
        };
        assert_eq!(
            base.for_replicate(run, &[]).unwrap().params(),
            base.params()
        );
        let draws = [ParamDraw {
            name: "mortality.background.hazard_ratio".into(),
            uncertainty: Uncertainty::Uniform { lo: 0.5, hi: 1.5 },
        }];
        let drawn = base.for_replicate(run, &draws).unwrap();
        let hr = drawn
            .params()
            .get("mortality.background.hazard_ratio")
            .unwrap();
        assert!((0.5..1.5).contains(&hr) && hr != 1.0);
        // The drawn value is what the mortality phase uses.
        assert_eq!(drawn.background_hr, hr);
        assert_eq!(
            base.for_replicate(run, &draws).unwrap().params(),
            drawn.params()
        );
    }
}
