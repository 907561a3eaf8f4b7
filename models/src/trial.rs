//! Virtual trials inside the coupled model: who is eligible at entry ([`Eligibility`], on
//! any baseline quantity the model holds, including the 2-hour glucose of an OGTT, glucose
//! categories, a risk equation's predicted risk, eGFR, frailty phenotype, Kihon Checklist
//! score, care level and diabetes duration), how outcomes are ascertained during follow-up
//! ([`Ascertainment`]: the trial's schedule and test for diabetes, its frailty assessments),
//! and the compact per-person record of first-event months ([`TrialRecord`]) from which a
//! study reads each person's time to event at the end of a run (with `Patient::death`).
//!
//! The record is a module part of its own: written only here, from what the other modules'
//! states show at the end of each step's events (a new MI, stroke, heart failure,
//! certification, an onset) and at the trial's visits (diabetes by the trial's criteria,
//! the phenotype against its value at entry). Runs without a trial never call it.
//!
//! Must never: draw except from its own keyed ascertainment stream, or change another
//! module's state except through its verbs (a participant found with diabetes is told:
//! `Diabetes::diagnose`).

use engine::rng::Process;
use engine::{Patient, StepCtx};

use crate::cvd::equations::{Equation, RiskInput};
use crate::cvd::HasCvd;
use crate::diabetes::{Diabetes, HasDm, FPG_DIABETES, HBA1C_DIABETES};
use crate::filter::{CovariateFilter, Range};
use crate::frailty::kcl::Phenotype;
use crate::frailty::HasFrailty;
use crate::interventions::{FrailtyState, Intervention};

const ASCERTAIN: Process = Process::named("trial.ascertainment");

/// A month that never comes (no event recorded).
pub const NEVER: u16 = u16::MAX;

/// What the record holds, in [`TrialRecord::month`] order.
pub mod event {
    /// Diabetes by the trial's ascertainment (test, schedule, confirmation).
    pub const T2D: usize = 0;
    /// True onset (the model's chronic hyperglycaemia, whether or not anyone tests).
    pub const T2D_ONSET: usize = 1;
    pub const MI: usize = 2;
    pub const ISCHAEMIC_STROKE: usize = 3;
    pub const HAEMORRHAGIC_STROKE: usize = 4;
    pub const HEART_FAILURE: usize = 5;
    /// First long-term-care certification (of people not certified at entry).
    pub const CERTIFICATION: usize = 6;
    /// J-CHS phenotype one category better than at entry, at a frailty assessment.
    pub const FRAILTY_IMPROVED: usize = 7;
    /// One category worse than at entry.
    pub const FRAILTY_WORSE: usize = 8;
    pub const N: usize = 9;
}

/// The first month (of the run, at the end of the step) of each recorded event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrialRecord {
    pub month: [u16; event::N],
    /// J-CHS phenotype at entry (0 robust, 1 prefrail, 2 frail).
    pub baseline_phenotype: u8,
    pub baseline_certified: bool,
}

impl Default for TrialRecord {
    fn default() -> Self {
        TrialRecord {
            month: [NEVER; event::N],
            baseline_phenotype: 0,
            baseline_certified: false,
        }
    }
}

/// A person state that holds a trial record (see [`crate::diabetes::HasDm`]).
pub trait HasTrial {
    fn trial(&self) -> &TrialRecord;
    fn trial_mut(&mut self) -> &mut TrialRecord;
}

impl HasTrial for TrialRecord {
    fn trial(&self) -> &TrialRecord {
        self
    }
    fn trial_mut(&mut self) -> &mut TrialRecord {
        self
    }
}

fn phenotype_rank(p: Phenotype) -> u8 {
    match p {
        Phenotype::Robust => 0,
        Phenotype::Prefrail => 1,
        Phenotype::Frail => 2,
    }
}

/// How the trial finds its outcomes during follow-up. Months count from entry (the start of
/// the run); 0 switches a test off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ascertainment {
    /// Fasting plasma glucose every this many months (DPP: 6).
    pub fpg_every_months: u32,
    /// A 75-g OGTT (fasting and 2-hour glucose) every this many months (DPP: 12).
    pub ogtt_every_months: u32,
    /// HbA1c every this many months.
    pub hba1c_every_months: u32,
    /// A positive visit counts only if a repeat test (a second, independent measurement of
    /// the same tests) is positive too (DPP's confirmation).
    pub confirm: bool,
    /// A participant found with diabetes is told: diagnosed, usual care from then on.
    pub diagnose: bool,
    /// J-CHS phenotype assessed every this many months (frailty-state change outcomes).
    pub frailty_every_months: u32,
}

impl Default for Ascertainment {
    /// DPP's schedule: semi-annual FPG, annual OGTT, confirmation; yearly frailty
    /// assessment.
    fn default() -> Self {
        Ascertainment {
            fpg_every_months: 6,
            ogtt_every_months: 12,
            hba1c_every_months: 0,
            confirm: true,
            diagnose: true,
            frailty_every_months: 12,
        }
    }
}

/// Glucose categories of a 75-g OGTT (WHO 1999 / Japan Diabetes Society 2010: impaired
/// fasting glucose 110–125 mg/dL, impaired glucose tolerance 2-hour 140–199 mg/dL, diabetes
/// FPG ≥ 126 or 2-hour ≥ 200 mg/dL [V JDS criteria]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlucoseCategory {
    Normal,
    /// Isolated impaired fasting glucose.
    Ifg,
    /// Isolated impaired glucose tolerance.
    Igt,
    /// Both.
    IfgIgt,
    Diabetes,
}

impl GlucoseCategory {
    pub const ALL: [GlucoseCategory; 5] = [
        GlucoseCategory::Normal,
        GlucoseCategory::Ifg,
        GlucoseCategory::Igt,
        GlucoseCategory::IfgIgt,
        GlucoseCategory::Diabetes,
    ];
    pub fn name(self) -> &'static str {
        match self {
            GlucoseCategory::Normal => "normal",
            GlucoseCategory::Ifg => "ifg",
            GlucoseCategory::Igt => "igt",
            GlucoseCategory::IfgIgt => "ifg_igt",
            GlucoseCategory::Diabetes => "diabetes",
        }
    }
    pub fn of(fpg_mg_dl: f64, glucose_2h_mg_dl: f64) -> GlucoseCategory {
        if fpg_mg_dl >= FPG_DIABETES || glucose_2h_mg_dl >= 200.0 {
            GlucoseCategory::Diabetes
        } else {
            match (fpg_mg_dl >= 110.0, glucose_2h_mg_dl >= 140.0) {
                (false, false) => GlucoseCategory::Normal,
                (true, false) => GlucoseCategory::Ifg,
                (false, true) => GlucoseCategory::Igt,
                (true, true) => GlucoseCategory::IfgIgt,
            }
        }
    }
}

/// A baseline quantity a trial may select on (read from the person's state at entry).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantity {
    /// The 2-hour glucose of a 75-g OGTT (mg/dL), from the person's physiology.
    Glucose2h,
    /// Fasting glucose of the model's state (mg/dL).
    Fpg,
    HbA1c,
    EgfrMlMin,
    HdlMgDl,
    DbpMmhg,
    /// Kihon Checklist total (0–25).
    KclScore,
    /// Years since true diabetes onset (0 without diabetes).
    DiabetesDurationYears,
    /// A risk equation's predicted risk over its horizon, as a fraction.
    Risk(Equation),
}

impl Quantity {
    pub fn name(self) -> String {
        match self {
            Quantity::Glucose2h => "glucose_2h_mg_dl".into(),
            Quantity::Fpg => "fpg_mg_dl".into(),
            Quantity::HbA1c => "hba1c_pct".into(),
            Quantity::EgfrMlMin => "egfr_ml_min".into(),
            Quantity::HdlMgDl => "hdl_mg_dl".into(),
            Quantity::DbpMmhg => "dbp_mmhg".into(),
            Quantity::KclScore => "kcl_score".into(),
            Quantity::DiabetesDurationYears => "diabetes_duration_years".into(),
            Quantity::Risk(e) => format!("risk.{}", e.name()),
        }
    }
}

/// Who a trial enrols, judged on the person's state at entry (after the model's
/// initialisation, so model quantities such as the 2-hour glucose are those the run starts
/// from). `None` or empty means no condition.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Eligibility {
    /// Sex, age and the covariates (baseline values).
    pub covariates: CovariateFilter,
    /// Ranges on model quantities.
    pub ranges: Vec<(Quantity, Range)>,
    pub glucose_categories: Vec<GlucoseCategory>,
    pub frailty_states: Vec<FrailtyState>,
    /// Care levels (0 none, 1 support 1 … 7 care 5).
    pub care_levels: Vec<u8>,
    pub has_diabetes: Option<bool>,
    pub diagnosed_diabetes: Option<bool>,
    pub hypertension: Option<bool>,
    pub cvd_history: Option<bool>,
}

/// The risk-equation input of a person now (the simulator's current values).
pub fn risk_input<S: HasDm + HasCvd>(p: &Patient<S>) -> RiskInput {
    let now = &p.now;
    let dm = p.state.dm();
    let cvd = p.state.cvd();
    let mut x = RiskInput::new(p.sex(), p.age_years);
    x.sbp_mmhg = now.sbp_mmhg;
    x.dbp_mmhg = now.dbp_mmhg;
    x.tc_mg_dl = now.tc_mg_dl;
    x.hdl_mg_dl = now.hdl_mg_dl;
    x.ldl_mg_dl = now.ldl_mg_dl;
    x.bmi_kg_m2 = now.bmi_kg_m2;
    x.egfr_ml_min = now.egfr_ml_min;
    x.hba1c_pct = now.hba1c_pct;
    x.diabetes = dm.diagnosed;
    if dm.diagnosed {
        x.years_since_dm_dx = dm.duration_years(p.age_years);
    }
    x.smoker = now.smoker;
    x.bp_treated = cvd.bp_drugs > 0;
    x.statin = cvd.statin;
    x.proteinuria = cvd.proteinuria;
    x.regular_exercise = now.steps_per_day >= 8000.0;
    x
}

impl Eligibility {
    /// The value of `q` for a person at entry (NaN where it cannot be computed: a risk
    /// equation outside its range).
    pub fn value<S: HasDm + HasCvd + HasFrailty>(
        q: Quantity,
        dm: &Diabetes,
        p: &Patient<S>,
    ) -> f64 {
        let st = p.state.dm();
        match q {
            Quantity::Glucose2h => dm.glucose_2h_mg_dl(st, p.age_years, &p.now),
            Quantity::Fpg => st.fpg_mg_dl,
            Quantity::HbA1c => p.now.hba1c_pct,
            Quantity::EgfrMlMin => p.now.egfr_ml_min,
            Quantity::HdlMgDl => p.now.hdl_mg_dl,
            Quantity::DbpMmhg => p.now.dbp_mmhg,
            Quantity::KclScore => f64::from(p.state.fr().kcl_total()),
            Quantity::DiabetesDurationYears => st.duration_years(p.age_years),
            Quantity::Risk(e) => e.risk(&risk_input(p)).unwrap_or(f64::NAN),
        }
    }

    /// Whether the person meets every condition at entry.
    pub fn accepts<S: HasDm + HasCvd + HasFrailty>(&self, dm: &Diabetes, p: &Patient<S>) -> bool {
        let b = &p.baseline;
        if !self.covariates.accepts(b.sex, b.age_years, &b.covariates) {
            return false;
        }
        let st = p.state.dm();
        let cvd = p.state.cvd();
        let fr = p.state.fr();
        let opt = |want: Option<bool>, have: bool| want.is_none_or(|w| w == have);
        let hypertension = cvd.bp_drugs > 0 || p.now.sbp_mmhg >= 140.0 || p.now.dbp_mmhg >= 90.0;
        if !(opt(self.has_diabetes, st.has_diabetes())
            && opt(self.diagnosed_diabetes, st.diagnosed)
            && opt(self.hypertension, hypertension)
            && opt(self.cvd_history, cvd.any_history()))
        {
            return false;
        }
        if !self.frailty_states.is_empty() {
            let s = match fr.phenotype() {
                Phenotype::Robust => FrailtyState::Robust,
                Phenotype::Prefrail => FrailtyState::Prefrail,
                Phenotype::Frail => FrailtyState::Frail,
            };
            if !self.frailty_states.contains(&s) {
                return false;
            }
        }
        if !self.care_levels.is_empty() && !self.care_levels.contains(&fr.ltc) {
            return false;
        }
        if !self.glucose_categories.is_empty() {
            let g2 = dm.glucose_2h_mg_dl(st, p.age_years, &p.now);
            if !self
                .glucose_categories
                .contains(&GlucoseCategory::of(st.fpg_mg_dl, g2))
            {
                return false;
            }
        }
        self.ranges.iter().all(|(q, r)| {
            let v = Self::value(*q, dm, p);
            v.is_finite() && r.lo.is_none_or(|lo| v >= lo) && r.hi.is_none_or(|hi| v <= hi)
        })
    }
}

impl Ascertainment {
    /// The record at entry (the phenotype and certification the changes are measured from).
    pub fn start<S: HasTrial + HasFrailty>(st: &mut S) {
        let phenotype = phenotype_rank(st.fr().phenotype());
        let certified = st.fr().certified();
        let r = st.trial_mut();
        *r = TrialRecord::default();
        r.baseline_phenotype = phenotype;
        r.baseline_certified = certified;
    }

    /// After the step's events: first events, and the trial's visits due at the end of the
    /// step.
    pub fn record<S: HasTrial + HasDm + HasCvd + HasFrailty>(
        &self,
        ctx: &StepCtx,
        dm: &Diabetes,
        p: &mut Patient<S>,
    ) {
        let end = ctx.end_month();
        let month = end.min(u32::from(NEVER) - 1) as u16;
        let cvd = *p.state.cvd();
        let onset = p.state.dm().has_diabetes();
        let certified = p.state.fr().certified();
        let r = p.state.trial_mut();
        let mut set = |i: usize, happened: bool| {
            if happened && r.month[i] == NEVER {
                r.month[i] = month;
            }
        };
        set(event::MI, cvd.mi_count > 0);
        set(event::ISCHAEMIC_STROKE, cvd.ischaemic_stroke);
        set(event::HAEMORRHAGIC_STROKE, cvd.haemorrhagic_stroke);
        set(event::HEART_FAILURE, cvd.heart_failure);
        set(event::T2D_ONSET, onset);
        set(event::CERTIFICATION, certified && !r.baseline_certified);
        let due = |every: u32| every > 0 && end.is_multiple_of(every);
        if due(self.frailty_every_months) {
            let now = phenotype_rank(p.state.fr().phenotype());
            let r = p.state.trial_mut();
            if now < r.baseline_phenotype && r.month[event::FRAILTY_IMPROVED] == NEVER {
                r.month[event::FRAILTY_IMPROVED] = month;
            }
            if now > r.baseline_phenotype && r.month[event::FRAILTY_WORSE] == NEVER {
                r.month[event::FRAILTY_WORSE] = month;
            }
        }
        let (fpg, ogtt, hba1c) = (
            due(self.fpg_every_months),
            due(self.ogtt_every_months),
            due(self.hba1c_every_months),
        );
        if !(fpg || ogtt || hba1c) || p.state.trial().month[event::T2D] != NEVER {
            return;
        }
        let mut s = ctx.stream(ASCERTAIN, p.id());
        let st = *p.state.dm();
        let g2 = if ogtt {
            dm.glucose_2h_mg_dl(&st, p.age_years, &p.now)
        } else {
            f64::NAN
        };
        let prm = &dm.p;
        let mut positive = || {
            let z = (s.std_normal(), s.std_normal(), s.std_normal());
            ((fpg || ogtt) && st.fpg_mg_dl * (1.0 + prm.fpg_cv * z.0) >= FPG_DIABETES)
                || (ogtt && g2 * (1.0 + prm.ogtt_cv_2h * z.1) >= 200.0)
                || (hba1c && p.now.hba1c_pct * (1.0 + prm.hba1c_cv * z.2) >= HBA1C_DIABETES)
        };
        if positive() && (!self.confirm || positive()) {
            p.state.trial_mut().month[event::T2D] = month;
            if self.diagnose {
                Diabetes::diagnose(&mut p.state, p.age_years + ctx.dt_years);
            }
        }
    }
}

/// An event a trial outcome may count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Diabetes by the trial's ascertainment.
    T2d,
    /// True onset (the model's, whether tested or not).
    T2dOnset,
    Mi,
    IschaemicStroke,
    HaemorrhagicStroke,
    /// Either stroke type.
    Stroke,
    HeartFailure,
    CardiovascularDeath,
    Death,
    FrailtyImproved,
    FrailtyWorse,
    CareCertification,
}

impl EventKind {
    pub const ALL: [EventKind; 12] = [
        EventKind::T2d,
        EventKind::T2dOnset,
        EventKind::Mi,
        EventKind::IschaemicStroke,
        EventKind::HaemorrhagicStroke,
        EventKind::Stroke,
        EventKind::HeartFailure,
        EventKind::CardiovascularDeath,
        EventKind::Death,
        EventKind::FrailtyImproved,
        EventKind::FrailtyWorse,
        EventKind::CareCertification,
    ];
    pub fn name(self) -> &'static str {
        match self {
            EventKind::T2d => "t2d",
            EventKind::T2dOnset => "t2d_onset",
            EventKind::Mi => "mi",
            EventKind::IschaemicStroke => "ischaemic_stroke",
            EventKind::HaemorrhagicStroke => "haemorrhagic_stroke",
            EventKind::Stroke => "stroke",
            EventKind::HeartFailure => "heart_failure",
            EventKind::CardiovascularDeath => "cardiovascular_death",
            EventKind::Death => "death",
            EventKind::FrailtyImproved => "frailty_improved",
            EventKind::FrailtyWorse => "frailty_worse",
            EventKind::CareCertification => "care_certification",
        }
    }
    pub fn from_name(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == s)
    }
    /// Whether death from this cause is the event itself (else death censors).
    pub fn is_death(self) -> bool {
        matches!(self, EventKind::CardiovascularDeath | EventKind::Death)
    }
}

/// One outcome: the first of its events (a composite when several).
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeDef {
    pub name: String,
    pub events: Vec<EventKind>,
}

/// Follow-up: every person is followed `months` from entry, or, with staggered entry, a
/// time drawn uniformly in [`min_months`, `months`] per person (the trial's closing date
/// cuts later entrants short; the draw is the person's, the same in every arm and
/// replicate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FollowUp {
    pub months: u32,
    pub min_months: Option<u32>,
}

/// Recruitment: of the eligible, a share consents (a keyed draw per person); of those, at
/// most `target` are enrolled (in id order, which is random in the synthetic cohort).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recruitment {
    pub target: Option<usize>,
    pub consent: f64,
}

impl Default for Recruitment {
    fn default() -> Self {
        Recruitment {
            target: None,
            consent: 1.0,
        }
    }
}

/// One arm: its name and its programmes (the scenario programme schema).
#[derive(Clone, Debug, PartialEq)]
pub struct TrialArm {
    pub name: String,
    pub programmes: Vec<Intervention>,
}
