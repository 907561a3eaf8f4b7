//! The coupled model's phases: each calls the modules' phase functions in their order, with
//! the couplings between modules (the diabetes link the cardiovascular model reads, a
//! prevention arm's weight on the drifted BMI, the programme cost economics records, the
//! population hazard ratios the background divides out).
//!
//! Must never: change a module's state except through that module's functions.

use engine::observe::{MetricDef, Recorder};
use engine::{Baseline, Model, Patient, RunKey, StepCtx, MAX_CAUSES};

use super::{HealthModel, PersonState};
use crate::cvd::{Cvd, DmLink};
use crate::diabetes::dpp;
use crate::economics;
use crate::interventions::{IxState, YearPrep};
use crate::trial::{Ascertainment, TrialRecord};

/// Causes of death, in output order: the life table's rate (net of the conditions modelled
/// explicitly), the excess mortality of diabetes, the excess of the frailty index, and
/// cardiovascular deaths (within the step of an MI, stroke or heart failure, and the excess
/// after one).
pub const CAUSES: [&str; 4] = ["background", "diabetes", "frailty", "cardiovascular"];

impl Model for HealthModel {
    type State = PersonState;
    type YearPrep = YearPrep;

    fn causes_of_death(&self) -> &[&'static str] {
        &CAUSES
    }

    fn metrics(&self) -> Vec<MetricDef> {
        self.layout.list.defs().to_vec()
    }

    fn init(&self, run: RunKey, baseline: &Baseline) -> Self::State {
        let mut st = PersonState {
            dm: self.diabetes.init(run, baseline),
            fr: self.frailty.init(run, baseline),
            cvd: self.cvd.init(run, baseline),
            ix: IxState::default(),
            econ: economics::EconState::default(),
            trial: TrialRecord::default(),
        };
        // A personal twin's copy: its traits replace the population draws (after them, so
        // every stream is read as for anyone else).
        if let Some(t) = self.personal_traits_of(baseline.id) {
            if let Some(d) = &t.dm {
                self.diabetes.personalise(&mut st.dm, baseline, d);
            }
            if let Some(c) = &t.cvd {
                self.cvd.personalise(&mut st.cvd, c);
            }
            if let Some(f) = &t.fr {
                self.frailty.personalise(&mut st.fr, f);
            }
        }
        st.econ = economics::init(&st);
        if self.trial.is_some() {
            Ascertainment::start(&mut st);
        }
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
            self.programmes
                .before_risk_factors(ctx, p, &self.cvd, &self.diabetes, rec);
        }
        // The diabetes link only in the (yearly) steps where the CVD phase uses it.
        if Cvd::risk_factors_due(ctx, p, p.state.dm.checkup_month) {
            let link = DmLink::of(p);
            self.cvd.risk_factors(ctx, p, &link, rec);
        }
        if p.state.dm.prevention != dpp::Arm::None {
            dpp::apply_arm(ctx, p);
            let base = p.baseline.covariates.bmi_kg_m2;
            p.now.bmi_kg_m2 *= (base + p.state.cvd.bmi_drift) / base;
        }
        if programmes || p.state.ix.carries() {
            // Programme weight and activity, from the person's own trajectory (replaces
            // the trial arm's clock-from-run-start weight for programme metformin), and what
            // programmes the person left still carry, fading.
            self.programmes.after_risk_factors(ctx, p);
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
        self.cvd.events_with(ctx, p, DmLink::of, rec);
        self.frailty.events(ctx, p, rec);
        if let Some(trial) = &self.trial {
            trial.record(ctx, &self.diabetes, p);
        }
    }

    /// Utility, medical and programme costs of the step, after its events.
    #[inline]
    fn accounting(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        // Without programmes the programme-cost metric stays empty (read as 0).
        let programme_kyen = if self.programmes.is_empty() {
            None
        } else if p.state.ix.enrolled == 0 {
            Some(0.0)
        } else {
            Some(self.programmes.cost_kyen_per_year(p.state.ix.enrolled))
        };
        self.economics.record(ctx, p, programme_kyen, rec);
    }

    /// Background hazard from the life table less the population's death rate from the
    /// cardiovascular causes modelled explicitly, divided by the population's expected hazard
    /// ratios of diabetes and the frailty index, so the population total stays the life
    /// table's; each condition's excess is its own cause (docs/model.md). The ratios multiply
    /// (diabetes and the FI act independently), so the population expectation is taken as the
    /// product of the two expectations.
    // Always inlined: called once per person-step from the step loop, whose body is large
    // enough that LLVM otherwise keeps it out of line (measured with callgrind: 0.7% more
    // instructions in `simulate`).
    #[inline(always)]
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
        self.cvd.census(p, &DmLink::of(p), rec);
        if !self.programmes.is_empty() {
            self.programmes.census(&p.state.ix, rec);
        }
    }

    /// The year's programme places (deterministic whatever the thread count).
    fn start_of_year(
        &self,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<PersonState>],
        prepared: Option<YearPrep>,
    ) {
        self.programmes
            .start_of_year(&self.cvd, run, year, patients, prepared);
    }

    fn prepares(&self) -> bool {
        self.programmes.prepares()
    }

    #[inline]
    fn prepare(
        &self,
        run: RunKey,
        year: u32,
        index: usize,
        p: &mut Patient<PersonState>,
        acc: &mut YearPrep,
    ) {
        self.programmes.prepare(&self.cvd, run, year, index, p, acc);
    }

    fn merge_prep(&self, into: &mut YearPrep, other: YearPrep) {
        into.merge(other);
    }
}
