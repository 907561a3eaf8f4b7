//! Cardiovascular disease: per-person risk-factor trajectories (SBP/DBP, LDL/HDL/total
//! cholesterol, BMI, smoking), check-ups and treatment (antihypertensives, statins) acting
//! mechanistically on the risk factors, and events (myocardial infarction, ischaemic and
//! haemorrhagic stroke, heart failure) with case fatality, recurrence and excess mortality
//! after an event.
//!
//! Hazards come from published equations ([`equations`]): the Hisayama ASCVD score for people
//! without diabetes, the UKPDS Outcomes Model 2 with the JJ-engine recalibration for people
//! with diabetes. Both are evaluated on the *untreated* (natural) risk factors; treatment then
//! multiplies the hazards by the trial relative risks for the mmHg and mmol/L it lowers
//! (Ettehad 2016, CTT 2005/2010). Equation risks become annual hazards with [`hazard`], are
//! computed once a year (at the person's check-up month) or when an event changes the person,
//! and are cached in the state with an exponential clock to the next event (drawn at each
//! refresh, valid because the hazard is constant until the next refresh), so an ordinary
//! month costs a subtraction and no draw. docs/model.md explains every choice; every number
//! is in [`params`] with its source.
//!
//! Couplings: reads the diabetes state ([`DmLink`]: onset, HbA1c, albuminuria, complications,
//! check-up month) and eGFR, steps and BMI from `Patient::now`; writes SBP, DBP, TC, HDL, LDL,
//! BMI, smoking, the `MI`, `STROKE`, `HEART_FAILURE`, `HYPERTENSION`, `DYSLIPIDAEMIA` flags and
//! the `ANTIHYPERTENSIVE`, `LIPID_LOWERING` treatments (the frailty model reads the event flags).
//!
//! Must never: allocate or do IO in the step functions, or draw random numbers except through
//! the engine's keyed streams (processes named `cvd.*`).

pub mod equations;
pub mod hazard;
pub mod params;

use engine::math::norm_inv;
use engine::math::ExpDet;
use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::patient::{Conditions, Covariates, Treatments};
use engine::rng::{Process, Stream, StreamKey};
use engine::{Baseline, Patient, RunKey, Sex, StepCtx};

use crate::diabetes::ukpds_om2 as om2;
use crate::diabetes::DmState;
use engine::units::cholesterol_mmol_l;
use equations::{japan, RiskInput};
use params::{at_age, slope_per_year, CvdParams};

const INIT: Process = Process::named("cvd.init");
const TRAJECTORY: Process = Process::named("cvd.trajectory");
const CHECKUP: Process = Process::named("cvd.checkup");
const EVENTS: Process = Process::named("cvd.events");
/// The exponential clock to the next event, redrawn whenever the hazards are recomputed.
const CLOCK: Process = Process::named("cvd.event_clock");
const CLOCK_AFTER_EVENT: Process = Process::named("cvd.event_clock_after_event");
/// The clock redrawn when an intervention programme changes a treatment.
const CLOCK_AFTER_TREATMENT: Process = Process::named("cvd.event_clock_after_treatment");

/// Event types, in the order of [`CvdState::hazard`].
pub const MI: usize = 0;
pub const ISCHAEMIC_STROKE: usize = 1;
pub const HAEMORRHAGIC_STROKE: usize = 2;
pub const HEART_FAILURE: usize = 3;
pub const N_EVENTS: usize = 4;
pub const EVENT_NAMES: [&str; N_EVENTS] = [
    "myocardial infarction",
    "ischaemic stroke",
    "haemorrhagic stroke",
    "heart failure",
];

/// Smoking status.
pub const NON_SMOKER: u8 = 0;
pub const SMOKER: u8 = 1;
/// Quit during the run (may relapse within the relapse window).
pub const QUITTER: u8 = 2;

/// The death hazard (per year) that makes a fatal event's death certain within its step.
pub const FATAL_HAZARD: f64 = 1e6;

/// A person state that holds a cardiovascular part (see [`crate::diabetes::HasDm`]).
pub trait HasCvd {
    fn cvd(&self) -> &CvdState;
    fn cvd_mut(&mut self) -> &mut CvdState;
}

impl HasCvd for CvdState {
    #[inline]
    fn cvd(&self) -> &CvdState {
        self
    }
    #[inline]
    fn cvd_mut(&mut self) -> &mut CvdState {
        self
    }
}

/// What the cardiovascular model reads from the diabetes model (copied each step; the
/// default is a person without diabetes whose check-up is in the first month).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DmLink {
    /// Age at true onset, if the person has diabetes.
    pub onset_age: Option<f64>,
    pub diagnosed: bool,
    pub hba1c_pct: f64,
    /// Micro- or macroalbuminuria (UKPDS definitions).
    pub albuminuria: bool,
    pub macroalbuminuria: bool,
    pub esrd: bool,
    pub amputation: bool,
    pub blind: bool,
    pub ulcer: bool,
    /// Month (0–11) of the person's annual check-up (特定健診 measures glucose, blood pressure
    /// and lipids at the same visit).
    pub checkup_month: u8,
    /// A health-check programme brings the person to this year's check-up.
    pub checkup_assured: bool,
    /// The person's own part of the latent check-up attendance propensity.
    pub checkup_z: f64,
}

impl Default for DmLink {
    fn default() -> Self {
        DmLink {
            onset_age: None,
            diagnosed: false,
            hba1c_pct: 5.5,
            albuminuria: false,
            macroalbuminuria: false,
            esrd: false,
            amputation: false,
            blind: false,
            ulcer: false,
            checkup_month: 0,
            checkup_assured: false,
            checkup_z: 0.0,
        }
    }
}

impl DmLink {
    #[inline]
    pub fn from_dm(dm: &DmState) -> DmLink {
        use crate::diabetes::{MACRO, MICRO};
        DmLink {
            onset_age: dm.onset_age,
            diagnosed: dm.diagnosed,
            hba1c_pct: dm.hba1c,
            albuminuria: dm.albuminuria >= MICRO,
            macroalbuminuria: dm.albuminuria >= MACRO,
            esrd: dm.esrd,
            amputation: dm.amputations > 0,
            blind: dm.blind,
            ulcer: dm.ulcer,
            checkup_month: dm.checkup_month,
            checkup_assured: dm.checkup_assured,
            checkup_z: dm.checkup_z,
        }
    }
}

/// The cardiovascular part of a person's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CvdState {
    // Untreated ("natural") risk factors: a persistent level that drifts with age plus a
    // within-person fluctuation (AR(1) from year to year).
    pub sbp_level: f64,
    pub sbp_fluct: f64,
    pub dbp_level: f64,
    pub ldl_level: f64,
    pub ldl_fluct: f64,
    pub hdl: f64,
    /// TC − LDL − HDL at baseline (mostly VLDL), held constant.
    pub tc_rest: f64,
    /// BMI change since baseline (kg/m²).
    pub bmi_drift: f64,
    pub smoking: u8,
    pub years_since_quit: f64,
    /// Blood-pressure drugs at standard dose (0–3).
    pub bp_drugs: u8,
    pub statin: bool,
    /// Share of the drugs' effect the person gets (0.95 adherent, lower otherwise).
    pub adherence: f64,
    /// Multipliers of the statin and blood-pressure drug effects and of the quit rate set by
    /// an intervention programme (1 otherwise).
    pub statin_scale: f32,
    pub bp_scale: f32,
    pub quit_factor: f32,
    /// Dipstick proteinuria independent of diabetes (a person trait).
    pub proteinuria: bool,
    pub mi_count: u8,
    pub ischaemic_stroke: bool,
    pub haemorrhagic_stroke: bool,
    pub heart_failure: bool,
    /// Age at the first event of the run (NaN if none yet).
    pub first_event_age: f64,
    /// Cached hazards per year, in event order ([`MI`] …).
    pub hazard: [f64; N_EVENTS],
    /// Years to the next event at the cached hazards (+∞ if they are all zero), drawn when
    /// the hazards were last computed.
    pub event_clock: f64,
    /// The hazards have been computed for this person.
    pub refreshed: bool,
    /// An event this step was fatal: the mortality phase makes the death certain.
    pub fatal: bool,
}

impl CvdState {
    #[inline]
    pub fn stroke_history(&self) -> bool {
        // `|`: both flags are plain loads, no branch needed.
        self.ischaemic_stroke | self.haemorrhagic_stroke
    }
    pub fn any_history(&self) -> bool {
        self.mi_count > 0 || self.stroke_history() || self.heart_failure
    }
    /// Effect share of the statin and of the blood-pressure drugs (adherence × programme).
    #[inline]
    pub fn statin_adherence(&self) -> f64 {
        self.adherence * f64::from(self.statin_scale)
    }
    #[inline]
    pub fn bp_adherence(&self) -> f64 {
        self.adherence * f64::from(self.bp_scale)
    }
    pub fn natural_sbp(&self) -> f64 {
        self.sbp_level + self.sbp_fluct
    }
    pub fn natural_ldl(&self) -> f64 {
        (self.ldl_level + self.ldl_fluct).max(20.0)
    }
}

/// Indices of the cardiovascular metrics within the model's metric list (after diabetes).
pub mod metric {
    pub const MI_INC: usize = 0;
    pub const IS_INC: usize = 1;
    pub const HS_INC: usize = 2;
    pub const STROKE_INC: usize = 3;
    pub const HF_INC: usize = 4;
    pub const FIRST_MI: usize = 5;
    pub const FIRST_STROKE: usize = 6;
    pub const ACUTE_DEATHS: usize = 7;
    pub const HISTORY: usize = 8;
    pub const HYPERTENSION: usize = 9;
    pub const BP_TREATED: usize = 10;
    pub const BP_CONTROLLED: usize = 11;
    pub const STATIN_HIGH_LDL: usize = 12;
    pub const SBP_NATURAL: usize = 13;
    pub const LDL_NATURAL: usize = 14;
    pub const BP_STARTS: usize = 15;
    pub const STATIN_STARTS: usize = 16;
    pub const HISAYAMA_RISK: usize = 17;
    pub const QUITS: usize = 18;
    pub const COUNT: usize = 19;
}

/// Metric definitions in [`metric`] order.
pub fn metric_defs() -> Vec<MetricDef> {
    use MetricKind::*;
    let d = |n: &str, k, s: &str| MetricDef::new(n, k, s);
    vec![
        d(
            "cvd_mi_incidence",
            Incidence,
            "myocardial infarctions (first or recurrent, fatal or not) per 1,000 person-years",
        ),
        d(
            "cvd_ischaemic_stroke_incidence",
            Incidence,
            "ischaemic strokes (first or recurrent) per 1,000 person-years",
        ),
        d(
            "cvd_haemorrhagic_stroke_incidence",
            Incidence,
            "haemorrhagic strokes (intracerebral and subarachnoid) per 1,000 person-years",
        ),
        d(
            "cvd_stroke_incidence",
            Incidence,
            "strokes of any type per 1,000 person-years",
        ),
        d(
            "cvd_hf_incidence",
            Incidence,
            "first heart failure per 1,000 person-years without heart failure",
        ),
        d(
            "cvd_first_mi_incidence",
            Incidence,
            "first myocardial infarction per 1,000 person-years without one",
        ),
        d(
            "cvd_first_stroke_incidence",
            Incidence,
            "first-ever stroke per 1,000 person-years without stroke history",
        ),
        d(
            "cvd_acute_deaths",
            Incidence,
            "deaths within the step of an MI, stroke or heart failure per 1,000 person-years",
        ),
        d(
            "cvd_history",
            Prevalence,
            "share with a history of MI, stroke or heart failure",
        ),
        d(
            "cvd_hypertension",
            Prevalence,
            "share with untreated SBP >= 140 or DBP >= 90 mmHg, or treated",
        ),
        d(
            "cvd_bp_treated_share",
            Prevalence,
            "of people with hypertension (as cvd_hypertension), the share on drugs",
        ),
        d(
            "cvd_bp_controlled_share",
            Prevalence,
            "of people on blood-pressure drugs, the share below 140/90 mmHg",
        ),
        d(
            "cvd_statin_share_high_ldl",
            Prevalence,
            "of people with untreated LDL >= 140 mg/dL or on a statin, the share on a statin",
        ),
        d(
            "cvd_sbp_untreated",
            Mean,
            "mean untreated (natural) SBP, mmHg",
        ),
        d(
            "cvd_ldl_untreated",
            Mean,
            "mean untreated (natural) LDL cholesterol, mg/dL",
        ),
        d(
            "cvd_bp_drug_starts",
            Incidence,
            "blood-pressure drug initiations per 1,000 person-years untreated",
        ),
        d(
            "cvd_statin_starts",
            Incidence,
            "statin initiations per 1,000 person-years without a statin",
        ),
        d(
            "cvd_hisayama_risk",
            Mean,
            "mean Hisayama 10-year ASCVD risk (%) on current factors, ages 40-84 without \
             diabetes or CVD history",
        ),
        d(
            "cvd_smoking_quits",
            Incidence,
            "smokers quitting per 1,000 smoker-years",
        ),
    ]
}

/// The cardiovascular model: resolved parameters and derived constants.
#[derive(Clone, Debug)]
pub struct Cvd {
    pub p: CvdParams,
    /// Index of the first cardiovascular metric within the model's metric list.
    metric_base: usize,
    /// Attendance thresholds Φ⁻¹(p) of the check-up: men, women, 75+.
    att_threshold: [f64; 3],
}

impl Cvd {
    pub fn new(p: CvdParams, metric_base: usize) -> Cvd {
        let thr = |q: f64| norm_inv(q.clamp(1e-9, 1.0 - 1e-9));
        Cvd {
            att_threshold: [
                thr(p.checkup_male),
                thr(p.checkup_female),
                thr(p.checkup_75plus),
            ],
            p,
            metric_base,
        }
    }

    #[inline]
    fn m(&self, i: usize) -> usize {
        self.metric_base + i
    }

    /// SBP and DBP lowering (mmHg) of `drugs` standard-dose drugs at adherence `adherence`,
    /// from untreated levels: Law 2003, additive per drug, larger from higher pressures.
    #[inline]
    pub fn bp_lowering(&self, sbp_nat: f64, dbp_nat: f64, drugs: u8, adherence: f64) -> (f64, f64) {
        let p = &self.p;
        let n = f64::from(drugs) * adherence;
        let per_s =
            (p.bp_drug_sbp + p.bp_drug_sbp_slope * (sbp_nat - p.bp_ref_sbp) / 10.0).max(0.0);
        let per_d =
            (p.bp_drug_dbp + p.bp_drug_dbp_slope * (dbp_nat - p.bp_ref_dbp) / 10.0).max(0.0);
        (n * per_s, n * per_d)
    }

    /// LDL lowering (mg/dL) of a statin at `adherence`: Law 2003, a share of untreated LDL.
    #[inline]
    pub fn ldl_lowering(&self, ldl_nat: f64, statin: bool, adherence: f64) -> f64 {
        if statin {
            ldl_nat * self.p.statin_ldl * adherence
        } else {
            0.0
        }
    }

    /// Untreated SBP from a reading on one drug (the inverse of [`Cvd::bp_lowering`]).
    fn untreated_sbp(&self, observed: f64, adherence: f64) -> f64 {
        let p = &self.p;
        let k = p.bp_drug_sbp_slope / 10.0;
        ((observed + adherence * (p.bp_drug_sbp - k * p.bp_ref_sbp)) / (1.0 - k * adherence))
            .max(observed)
    }

    fn untreated_dbp(&self, observed: f64, adherence: f64) -> f64 {
        let p = &self.p;
        let k = p.bp_drug_dbp_slope / 10.0;
        ((observed + adherence * (p.bp_drug_dbp - k * p.bp_ref_dbp)) / (1.0 - k * adherence))
            .max(observed)
    }

    /// The cardiovascular state of a person at the start of the run, consistent with their
    /// baseline readings (treated readings are turned back into untreated levels).
    pub fn init(&self, run: RunKey, b: &Baseline) -> CvdState {
        let p = &self.p;
        let c = &b.covariates;
        let sex = b.sex.index();
        let age = b.age_years;
        let mut s = Stream::new(StreamKey::new(run, INIT), b.id, 0);
        let (z_sbp, z_ldl, u_adh, u_prot, u_type) = (
            s.std_normal(),
            s.std_normal(),
            s.uniform(),
            s.uniform(),
            s.uniform(),
        );
        let adherence = if u_adh < p.adherent_share {
            0.95
        } else {
            p.adherence_low
        };
        let on_bp = c.treatments.contains(Treatments::ANTIHYPERTENSIVE);
        let statin = c.treatments.contains(Treatments::LIPID_LOWERING);
        let (sbp_nat, dbp_nat) = if on_bp {
            (
                self.untreated_sbp(c.sbp_mmhg, adherence),
                self.untreated_dbp(c.dbp_mmhg, adherence),
            )
        } else {
            (c.sbp_mmhg, c.dbp_mmhg)
        };
        let ldl_nat = if statin {
            c.ldl_mg_dl / (1.0 - p.statin_ldl * adherence)
        } else {
            c.ldl_mg_dl
        };
        // Split each deviation from the age-sex mean into a persistent part and the current
        // within-person fluctuation, drawn from its conditional distribution given the
        // deviation, so the cross-sectional spread stays that of the data as people age.
        let split = |dev: f64, total_sd: f64, fluct_sd: f64, z: f64| {
            let k = (fluct_sd * fluct_sd / (total_sd * total_sd)).min(1.0);
            k * dev + fluct_sd * (1.0 - k).sqrt() * z
        };
        let sbp_fluct = split(
            sbp_nat - at_age(&params::SBP_NATURAL[sex], age),
            at_age(&params::SBP_SD[sex], age),
            p.sbp_fluct_sd,
            z_sbp,
        );
        let ldl_fluct = split(
            ldl_nat - at_age(&params::LDL_NATURAL[sex], age),
            params::LDL_SD,
            p.ldl_fluct_sd,
            z_ldl,
        );
        let mi = c.conditions.contains(Conditions::MI);
        let stroke = c.conditions.contains(Conditions::STROKE);
        let haemorrhagic = stroke && u_type < p.hs_share;
        CvdState {
            sbp_level: sbp_nat - sbp_fluct,
            sbp_fluct,
            dbp_level: dbp_nat - p.dbp_per_sbp * sbp_fluct,
            ldl_level: ldl_nat - ldl_fluct,
            ldl_fluct,
            hdl: c.hdl_mg_dl,
            tc_rest: (c.tc_mg_dl - c.ldl_mg_dl - c.hdl_mg_dl).max(0.0),
            bmi_drift: 0.0,
            smoking: if c.smoker { SMOKER } else { NON_SMOKER },
            years_since_quit: 0.0,
            bp_drugs: u8::from(on_bp),
            statin,
            adherence,
            statin_scale: 1.0,
            bp_scale: 1.0,
            quit_factor: 1.0,
            proteinuria: u_prot < p.proteinuria_share,
            mi_count: u8::from(mi),
            ischaemic_stroke: stroke && !haemorrhagic,
            haemorrhagic_stroke: haemorrhagic,
            heart_failure: c.conditions.contains(Conditions::HEART_FAILURE),
            first_event_age: f64::NAN,
            hazard: [0.0; N_EVENTS],
            event_clock: f64::INFINITY,
            refreshed: false,
            fatal: false,
        }
    }

    /// Writes the person's current (treated) risk factors, flags and treatments into `now`.
    #[inline]
    fn apply<S: HasCvd>(&self, p: &mut Patient<S>) {
        let st = *p.state.cvd();
        let sbp_nat = st.natural_sbp();
        let dbp_nat = st.dbp_level + self.p.dbp_per_sbp * st.sbp_fluct;
        let ldl_nat = st.natural_ldl();
        let (ds, dd) = self.bp_lowering(sbp_nat, dbp_nat, st.bp_drugs, st.bp_adherence());
        let ldl = ldl_nat - self.ldl_lowering(ldl_nat, st.statin, st.statin_adherence());
        let now = &mut p.now;
        now.sbp_mmhg = (sbp_nat - ds).clamp(70.0, 260.0);
        now.dbp_mmhg = (dbp_nat - dd).clamp(35.0, 160.0).min(now.sbp_mmhg - 10.0);
        now.ldl_mg_dl = ldl.clamp(20.0, 400.0);
        now.hdl_mg_dl = st.hdl.clamp(15.0, 150.0);
        now.tc_mg_dl = now.ldl_mg_dl + now.hdl_mg_dl + st.tc_rest;
        now.smoker = st.smoking == SMOKER;
        Self::set_flags(&st, &mut now.conditions, &mut now.treatments);
    }

    #[inline]
    fn set_flags(st: &CvdState, conditions: &mut Conditions, treatments: &mut Treatments) {
        treatments.set(Treatments::ANTIHYPERTENSIVE, st.bp_drugs > 0);
        treatments.set(Treatments::LIPID_LOWERING, st.statin);
        if st.bp_drugs > 0 {
            conditions.insert(Conditions::HYPERTENSION);
        }
        if st.statin {
            conditions.insert(Conditions::DYSLIPIDAEMIA);
        }
        conditions.set(Conditions::MI, st.mi_count > 0);
        conditions.set(Conditions::STROKE, st.stroke_history());
        conditions.set(Conditions::HEART_FAILURE, st.heart_failure);
    }

    /// Risk-factor phase: once a year, at the person's check-up month, the risk factors move
    /// on by a year (age drift, fluctuation, smoking), the check-up or routine care may start
    /// or step up treatment, and the hazards are recomputed. Other months only keep BMI at
    /// baseline + drift (a prevention arm may have changed it; see `HealthModel`).
    pub fn risk_factors<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: &DmLink,
        rec: &mut Recorder,
    ) {
        if Self::checkup_step(ctx, link.checkup_month) {
            self.advance_year(ctx, p, rec);
            self.checkup(ctx, p, link, rec);
            self.apply(p);
            self.refresh(ctx, p, link, CLOCK);
        } else if !p.state.cvd().refreshed {
            self.refresh(ctx, p, link, CLOCK);
        }
    }

    /// Whether the risk-factor phase does anything for this person in this step (its
    /// check-up step, or hazards not yet computed): callers may skip building the
    /// [`DmLink`] otherwise.
    #[inline]
    pub fn risk_factors_due<S: HasCvd>(ctx: &StepCtx, p: &Patient<S>, checkup_month: u8) -> bool {
        Self::checkup_step(ctx, checkup_month) || !p.state.cvd().refreshed
    }

    /// The step holding the person's yearly check-up month (never the first step).
    #[inline]
    fn checkup_step(ctx: &StepCtx, checkup_month: u8) -> bool {
        let months = (engine::math::round_to_i64(ctx.dt_years * 12.0) as u32).max(1);
        let m0 = (ctx.step * months) % 12;
        ctx.step > 0 && (u32::from(checkup_month) + 12 - m0) % 12 < months
    }

    /// One year of age drift and within-person fluctuation, and smoking transitions.
    fn advance_year<S: HasCvd>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        let prm = &self.p;
        let sex = p.sex().index();
        let age = p.age_years;
        let mut s = ctx.stream(TRAJECTORY, p.id());
        let (z_sbp, z_ldl, u_smoke) = (s.std_normal(), s.std_normal(), s.uniform());
        let a = prm.fluct_autocorr;
        let innov = (1.0 - a * a).sqrt();
        let st = p.state.cvd_mut();
        st.sbp_level += slope_per_year(&params::SBP_NATURAL[sex], age);
        st.dbp_level += slope_per_year(&params::DBP_NATURAL[sex], age);
        st.ldl_level += slope_per_year(&params::LDL_NATURAL[sex], age);
        st.hdl += slope_per_year(&params::HDL_MEAN[sex], age);
        // BMI moves by the year's drift from wherever it is (so a change made elsewhere, an
        // intervention or a prevention arm, persists); `bmi_drift` keeps the total.
        let bmi_step = slope_per_year(&params::BMI_MEAN[sex], age);
        st.bmi_drift += bmi_step;
        p.now.bmi_kg_m2 = (p.now.bmi_kg_m2 + bmi_step).clamp(12.0, 70.0);
        st.sbp_fluct = a * st.sbp_fluct + prm.sbp_fluct_sd * innov * z_sbp;
        st.ldl_fluct = a * st.ldl_fluct + prm.ldl_fluct_sd * innov * z_ldl;
        match st.smoking {
            SMOKER => {
                rec.at_risk(self.m(metric::QUITS), 1.0);
                if u_smoke < prm.quit * f64::from(st.quit_factor) {
                    st.smoking = QUITTER;
                    st.years_since_quit = 0.0;
                    rec.event(self.m(metric::QUITS));
                }
            }
            QUITTER => {
                st.years_since_quit += 1.0;
                if st.years_since_quit <= prm.relapse_years && u_smoke < prm.relapse {
                    st.smoking = SMOKER;
                }
            }
            _ => {
                if u_smoke < prm.start {
                    st.smoking = SMOKER;
                }
            }
        }
    }

    /// The annual check-up (特定健診 for ages 40–74, 後期高齢者健診 after) and routine care of
    /// people already seeing a doctor: measured readings above the thresholds may start a
    /// blood-pressure drug or a statin, or add a drug.
    fn checkup<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: &DmLink,
        rec: &mut Recorder,
    ) {
        let prm = &self.p;
        let age = p.age_years;
        let mut s = ctx.stream(CHECKUP, p.id());
        let (z_att, z_bp, z_ldl, u_bp, u_statin) = (
            s.std_normal(),
            s.std_normal(),
            s.std_normal(),
            s.uniform(),
            s.uniform(),
        );
        let st = *p.state.cvd();
        let thr = if age >= 75.0 {
            self.att_threshold[2]
        } else {
            self.att_threshold[p.sex().index()]
        };
        let rho = prm.checkup_persistence.sqrt();
        let attends =
            rho * link.checkup_z + (1.0 - rho * rho).sqrt() * z_att < thr || link.checkup_assured;
        let in_care = link.diagnosed || st.bp_drugs > 0 || st.statin || st.any_history();
        if !attends && !in_care {
            return;
        }
        // Current (treated) readings with measurement error.
        let sbp_nat = st.natural_sbp();
        let dbp_nat = st.dbp_level + prm.dbp_per_sbp * st.sbp_fluct;
        let (ds, dd) = self.bp_lowering(sbp_nat, dbp_nat, st.bp_drugs, st.bp_adherence());
        let sbp = sbp_nat - ds + prm.sbp_measure_sd * z_bp;
        let dbp = dbp_nat - dd + 0.6 * prm.sbp_measure_sd * z_bp;
        let high_bp = sbp >= prm.bp_threshold || dbp >= 90.0;
        let p_start = |checkup: f64, care: f64| {
            1.0 - (1.0 - if attends { checkup } else { 0.0 })
                * (1.0 - if in_care { care } else { 0.0 })
        };
        let stm = p.state.cvd_mut();
        if high_bp {
            if stm.bp_drugs == 0 {
                if u_bp < p_start(prm.start_bp_checkup, prm.start_bp_care) {
                    stm.bp_drugs = 1;
                    rec.event(self.m(metric::BP_STARTS));
                }
            } else if stm.bp_drugs < 3 && u_bp < prm.intensify_bp {
                stm.bp_drugs += 1;
            }
        }
        let ldl_nat = st.natural_ldl();
        let ldl = (ldl_nat - self.ldl_lowering(ldl_nat, st.statin, st.statin_adherence()))
            * (1.0 + prm.ldl_measure_cv * z_ldl);
        let ldl_threshold = if link.diagnosed {
            prm.ldl_threshold_dm
        } else {
            prm.ldl_threshold
        };
        if !stm.statin
            && ldl >= ldl_threshold
            && u_statin < p_start(prm.start_statin_checkup, prm.start_statin_care)
        {
            stm.statin = true;
            rec.event(self.m(metric::STATIN_STARTS));
        }
    }

    /// An intervention programme changed a treatment (statin, blood-pressure drugs): the
    /// current risk factors and the cached hazards follow now.
    pub fn treatment_changed<S: HasCvd>(&self, ctx: &StepCtx, p: &mut Patient<S>, link: &DmLink) {
        self.apply(p);
        self.refresh(ctx, p, link, CLOCK_AFTER_TREATMENT);
    }

    /// Annual hazards of the four events for the person now, before the step-probability
    /// conversion (exposed for tests and the calibration scripts).
    pub fn hazards<S: HasCvd>(&self, p: &Patient<S>, link: &DmLink) -> [f64; N_EVENTS] {
        let prm = &self.p;
        let st = p.state.cvd();
        let age = p.age_years;
        let sbp_nat = st.natural_sbp();
        let dbp_nat = st.dbp_level + prm.dbp_per_sbp * st.sbp_fluct;
        let ldl_nat = st.natural_ldl();
        let (dsbp, _) = self.bp_lowering(sbp_nat, dbp_nat, st.bp_drugs, st.bp_adherence());
        let dldl = cholesterol_mmol_l(self.ldl_lowering(ldl_nat, st.statin, st.statin_adherence()));
        // Trial relative risks of the person's treatment (Ettehad 2016; CTT).
        // x^0 = 1^y = 1 exactly (IEEE 754 pow), so untreated people skip the libm call.
        let pow = |x: f64, y: f64| if y == 0.0 || x == 1.0 { 1.0 } else { x.powf(y) };
        let rr = |per10: f64, per_mmol: f64, dsbp: f64, dldl: f64| {
            pow(per10, dsbp / 10.0) * pow(per_mmol, dldl)
        };
        let rr_mi = rr(prm.rr_sbp_chd, prm.rr_ldl_chd, dsbp, dldl);
        let rr_is = rr(prm.rr_sbp_stroke, prm.rr_ldl_stroke, dsbp, dldl);
        let rr_hs = rr(prm.rr_sbp_stroke, 1.0, dsbp, dldl);
        let rr_hf = rr(prm.rr_sbp_hf, 1.0, dsbp, dldl);
        let hs_odds = prm.hs_share / (1.0 - prm.hs_share);
        let mut h = [0.0; N_EVENTS];
        if let Some(onset) = link.onset_age {
            // UKPDS OM2 (its own first/subsequent equations carry recurrence), recalibrated
            // to Japanese type 2 diabetes with the JJ engine's observed/predicted ratios.
            let c = om2::Om2Covariates {
                age_at_diagnosis_years: onset,
                diabetes_duration_years: (age - onset).max(0.0),
                female: p.sex() == Sex::Female,
                smoker: st.smoking == SMOKER,
                albuminuria: link.albuminuria,
                hba1c_pct: link.hba1c_pct,
                sbp_mmhg_div10: sbp_nat / 10.0,
                ldl_mmol_l_x10: cholesterol_mmol_l(ldl_nat) * 10.0,
                hdl_mmol_l_x10: cholesterol_mmol_l(st.hdl) * 10.0,
                bmi_kg_m2: p.now.bmi_kg_m2,
                egfr_div10: p.now.egfr_ml_min / 10.0,
                heart_rate_bpm_div10: prm.om2_heart_rate / 10.0,
                wbc_10e9_per_l: prm.om2_wbc,
                amputation_history: link.amputation,
                blindness_history: link.blind,
                chf_history: st.heart_failure,
                ihd_history: st.mi_count > 0,
                mi_history: st.mi_count > 0,
                stroke_history: st.stroke_history(),
                ulcer_history: link.ulcer,
                esrd_history: link.esrd,
                ..Default::default()
            };
            let annual = |eq: &om2::Om2Equation| {
                hazard::constant_hazard(hazard::om2_step_probability(eq, &c, 0.0, 1.0), 1.0)
            };
            let mi_eq = if st.mi_count > 0 {
                &om2::MI_SUBSEQUENT
            } else {
                om2::mi_first_equation(c.female)
            };
            let stroke_eq = if st.stroke_history() {
                &om2::STROKE_SUBSEQUENT
            } else {
                &om2::STROKE_FIRST
            };
            let stroke = annual(stroke_eq) * prm.recal_stroke;
            h[MI] = annual(mi_eq) * prm.recal_chd * rr_mi;
            h[ISCHAEMIC_STROKE] = stroke * (1.0 - prm.hs_share) * rr_is;
            h[HAEMORRHAGIC_STROKE] = stroke * prm.hs_share * rr_hs;
            h[HEART_FAILURE] = if st.heart_failure {
                0.0
            } else {
                annual(&om2::CHF) * prm.recal_hf * rr_hf
            };
        } else {
            // Hisayama ASCVD (CHD or atherothrombotic infarction), split into the four events.
            // Evaluated at the midpoint age so its 10-year constant hazard estimates today's
            // hazard, not the average over the next ten years (hazard::midpoint_age).
            let mut x = RiskInput::new(p.sex(), hazard::midpoint_age(age, 10.0));
            x.sbp_mmhg = sbp_nat;
            x.dbp_mmhg = dbp_nat;
            x.hdl_mg_dl = st.hdl;
            x.ldl_mg_dl = ldl_nat;
            x.smoker = st.smoking == SMOKER;
            x.proteinuria = st.proteinuria;
            x.regular_exercise = p.now.steps_per_day >= prm.exercise_steps;
            let base = hazard::constant_hazard(japan::hisayama_ascvd_10y(&x), 10.0);
            let mut mi = prm.chd_share * base;
            let stroke_sex = if p.sex() == Sex::Female {
                prm.female_stroke
            } else {
                1.0
            };
            let mut is = prm.is_factor * stroke_sex * base;
            let mut hf = prm.hf_factor * base;
            if st.stroke_history() {
                mi *= prm.hr_mi_after_stroke;
            }
            if st.mi_count > 0 {
                is *= prm.hr_stroke_after_mi;
                hf *= prm.hr_hf_after_mi;
            }
            let mut hs = is * hs_odds * rr_hs;
            mi *= rr_mi;
            is *= rr_is;
            hf *= rr_hf;
            // Recurrence after an event, as observed under Japanese usual care, scaled by the
            // person's treatment relative to that care; never below the first-event hazard.
            let typical =
                |per10: f64, per_mmol: f64| rr(per10, per_mmol, prm.typical_dsbp, prm.typical_dldl);
            if st.mi_count > 0 {
                mi = mi.max(prm.rec_mi * rr_mi / typical(prm.rr_sbp_chd, prm.rr_ldl_chd));
            }
            if st.stroke_history() {
                let rate = if st.ischaemic_stroke {
                    prm.rec_after_is
                } else {
                    prm.rec_after_hs
                };
                is = is.max(
                    rate * (1.0 - prm.hs_share) * rr_is
                        / typical(prm.rr_sbp_stroke, prm.rr_ldl_stroke),
                );
                hs = hs.max(rate * prm.hs_share * rr_hs / typical(prm.rr_sbp_stroke, 1.0));
            }
            h[MI] = mi;
            h[ISCHAEMIC_STROKE] = is;
            h[HAEMORRHAGIC_STROKE] = hs;
            h[HEART_FAILURE] = if st.heart_failure { 0.0 } else { hf };
        }
        for v in h.iter_mut() {
            if !v.is_finite() || *v < 0.0 {
                *v = if v.is_nan() || *v < 0.0 {
                    0.0
                } else {
                    FATAL_HAZARD
                };
            }
        }
        h
    }

    /// Recomputes and caches the person's hazards, and draws the time to the next event at
    /// them (an exponential with the total hazard, from `clock`'s draw for this step).
    fn refresh<S: HasCvd>(&self, ctx: &StepCtx, p: &mut Patient<S>, link: &DmLink, clock: Process) {
        let h = self.hazards(p, link);
        let total: f64 = h.iter().sum();
        let id = p.id();
        let st = p.state.cvd_mut();
        st.hazard = h;
        st.event_clock = if total > 0.0 {
            ctx.stream(clock, id).exp1() / total
        } else {
            f64::INFINITY
        };
        st.refreshed = true;
    }

    /// Case fatality (death within the step of the event) for an event at `age`.
    pub fn case_fatality(&self, event: usize, sex: Sex, age: f64) -> f64 {
        let prm = &self.p;
        let (at_ref, slope, ref_age) = match event {
            MI => (
                if sex == Sex::Male {
                    prm.cf_mi_male
                } else {
                    prm.cf_mi_female
                },
                prm.cf_age_mi,
                70.0,
            ),
            ISCHAEMIC_STROKE => (prm.cf_is, prm.cf_age_stroke, 70.0),
            HAEMORRHAGIC_STROKE => (prm.cf_hs, prm.cf_age_stroke, 70.0),
            _ => (prm.cf_hf, prm.cf_age_hf, 80.0),
        };
        let at_ref = at_ref.clamp(1e-9, 1.0 - 1e-9);
        let logit = (at_ref / (1.0 - at_ref)).ln() + slope * (age - ref_age) / 10.0;
        1.0 / (1.0 + (-logit).exp_det())
    }

    /// Event phase: at most one event per step, when the event clock runs out within it
    /// (probability 1 − e^(−hΔt) per step at total hazard h, as [`hazard::step_probability`]);
    /// the type is drawn in proportion to the hazards; fatal events end the person's life in
    /// the mortality phase; survivors carry the history (flags), may start secondary
    /// prevention, and get new hazards and a new clock.
    pub fn events<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: &DmLink,
        rec: &mut Recorder,
    ) {
        self.events_with(ctx, p, |_| *link, rec);
    }

    /// [`Cvd::events`] with the diabetes link built by `link` only in a step with an event
    /// (most steps have none and need no link).
    #[inline]
    pub fn events_with<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: impl FnOnce(&Patient<S>) -> DmLink,
        rec: &mut Recorder,
    ) {
        let dt = ctx.dt_years;
        let st = p.state.cvd();
        {
            let mut at_risk = rec.at_risk_block::<{ metric::COUNT }>(self.metric_base, dt);
            for m in [
                metric::MI_INC,
                metric::IS_INC,
                metric::HS_INC,
                metric::STROKE_INC,
                metric::ACUTE_DEATHS,
            ] {
                at_risk.add(m);
            }
            at_risk.add_if(metric::HF_INC, !st.heart_failure);
            at_risk.add_if(metric::FIRST_MI, st.mi_count == 0);
            at_risk.add_if(metric::FIRST_STROKE, !st.stroke_history());
            at_risk.add_if(metric::BP_STARTS, st.bp_drugs == 0);
            at_risk.add_if(metric::STATIN_STARTS, !st.statin);
        }
        if st.event_clock > dt {
            p.state.cvd_mut().event_clock -= dt;
            return;
        }
        let mut s = ctx.stream(EVENTS, p.id());
        let u_type = s.uniform();
        let total: f64 = st.hazard.iter().sum();
        let pick = u_type * total;
        let mut event = 0;
        let mut acc = st.hazard[0];
        while acc <= pick && event + 1 < N_EVENTS {
            event += 1;
            acc += st.hazard[event];
        }
        let age = p.age_years;
        let (u_fatal, u_statin, u_bp) = (s.uniform(), s.uniform(), s.uniform());
        let fatal = self.p.explicit >= 0.5 && u_fatal < self.case_fatality(event, p.sex(), age);
        let first = [
            st.mi_count == 0,
            !st.stroke_history(),
            !st.stroke_history(),
            !st.heart_failure,
        ][event];
        match event {
            MI => {
                rec.event(self.m(metric::MI_INC));
                if first {
                    rec.event(self.m(metric::FIRST_MI));
                }
            }
            ISCHAEMIC_STROKE | HAEMORRHAGIC_STROKE => {
                rec.event(self.m(if event == ISCHAEMIC_STROKE {
                    metric::IS_INC
                } else {
                    metric::HS_INC
                }));
                rec.event(self.m(metric::STROKE_INC));
                if first {
                    rec.event(self.m(metric::FIRST_STROKE));
                }
            }
            _ => rec.event(self.m(metric::HF_INC)),
        }
        let prm = &self.p;
        let st = p.state.cvd_mut();
        if st.first_event_age.is_nan() {
            st.first_event_age = age;
        }
        match event {
            MI => st.mi_count = st.mi_count.saturating_add(1),
            ISCHAEMIC_STROKE => st.ischaemic_stroke = true,
            HAEMORRHAGIC_STROKE => st.haemorrhagic_stroke = true,
            _ => st.heart_failure = true,
        }
        if fatal {
            st.fatal = true;
            rec.event(self.m(metric::ACUTE_DEATHS));
            return;
        }
        // Secondary prevention.
        if (event == MI || event == ISCHAEMIC_STROKE)
            && !st.statin
            && u_statin < prm.post_event_statin
        {
            st.statin = true;
            rec.event(self.m(metric::STATIN_STARTS));
        }
        if st.bp_drugs == 0 && u_bp < prm.post_event_bp {
            st.bp_drugs = 1;
            rec.event(self.m(metric::BP_STARTS));
        }
        self.apply(p);
        let link = link(p);
        self.refresh(ctx, p, &link, CLOCK_AFTER_EVENT);
    }

    /// The person's cardiovascular death hazard per year: certain death after a fatal event,
    /// otherwise the excess after past events, (HR − 1) × the population hazard `mu`.
    #[inline]
    pub fn death_hazard<S: HasCvd>(&self, p: &Patient<S>, mu: f64) -> f64 {
        let prm = &self.p;
        if prm.explicit < 0.5 {
            return 0.0;
        }
        let st = p.state.cvd();
        if st.fatal {
            return FATAL_HAZARD;
        }
        let mut hr = 1.0;
        if st.mi_count > 0 {
            hr *= prm.hr_post_mi;
        }
        if st.stroke_history() {
            hr *= prm.hr_post_stroke;
        }
        if st.heart_failure {
            hr *= prm.hr_post_hf;
        }
        (hr - 1.0) * mu
    }

    /// The population's cardiovascular death hazard at `age` implied by the model (a share of
    /// the life-table hazard `mu_lt`, [`params::MODEL_CVD_DEATH_SHARE`]), which the background
    /// hazard leaves out when CVD deaths are explicit (docs/model.md).
    #[inline]
    pub fn population_death_rate(&self, sex: usize, age: f64, mu_lt: f64) -> f64 {
        if self.p.explicit < 0.5 {
            0.0
        } else {
            params::model_cvd_death_share(sex, age) * mu_lt
        }
    }

    /// The yearly census.
    pub fn census<S: HasCvd>(&self, p: &Patient<S>, link: &DmLink, rec: &mut Recorder) {
        let prm = &self.p;
        let st = p.state.cvd();
        let sbp_nat = st.natural_sbp();
        let dbp_nat = st.dbp_level + prm.dbp_per_sbp * st.sbp_fluct;
        let ldl_nat = st.natural_ldl();
        rec.flag(self.m(metric::HISTORY), st.any_history());
        let hypertension = st.bp_drugs > 0 || sbp_nat >= 140.0 || dbp_nat >= 90.0;
        rec.flag(self.m(metric::HYPERTENSION), hypertension);
        if hypertension {
            rec.flag(self.m(metric::BP_TREATED), st.bp_drugs > 0);
        }
        if st.bp_drugs > 0 {
            let now = &p.now;
            rec.flag(
                self.m(metric::BP_CONTROLLED),
                now.sbp_mmhg < 140.0 && now.dbp_mmhg < 90.0,
            );
        }
        if st.statin || ldl_nat >= 140.0 {
            rec.flag(self.m(metric::STATIN_HIGH_LDL), st.statin);
        }
        rec.value(self.m(metric::SBP_NATURAL), sbp_nat);
        rec.value(self.m(metric::LDL_NATURAL), ldl_nat);
        if link.onset_age.is_none() && !st.any_history() && p.age_years < 85.0 {
            let now: &Covariates = &p.now;
            let mut x = RiskInput::new(p.sex(), p.age_years);
            x.sbp_mmhg = now.sbp_mmhg;
            x.hdl_mg_dl = now.hdl_mg_dl;
            x.ldl_mg_dl = now.ldl_mg_dl;
            x.smoker = now.smoker;
            x.proteinuria = st.proteinuria;
            x.regular_exercise = now.steps_per_day >= prm.exercise_steps;
            rec.value(
                self.m(metric::HISAYAMA_RISK),
                100.0 * japan::hisayama_ascvd_10y(&x),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamSet;

    fn model() -> Cvd {
        Cvd::new(
            CvdParams::from_set(&ParamSet::new(CvdParams::params())).unwrap(),
            0,
        )
    }

    #[test]
    fn one_drug_lowers_bp_by_law_2003_and_a_statin_ldl_by_40_percent() {
        let m = model();
        // At the reference pretreatment level, full adherence: 9.1 / 5.5 mmHg per drug.
        let (ds, dd) = m.bp_lowering(154.0, 97.0, 1, 1.0);
        assert!((ds - 9.1).abs() < 1e-12 && (dd - 5.5).abs() < 1e-12);
        // 10 mmHg higher: 1.0 / 1.1 mmHg more; drugs add.
        let (ds, dd) = m.bp_lowering(164.0, 107.0, 2, 1.0);
        assert!((ds - 2.0 * 10.1).abs() < 1e-12 && (dd - 2.0 * 6.6).abs() < 1e-12);
        // Adherence scales the effect.
        let (ds, _) = m.bp_lowering(154.0, 97.0, 1, 0.5);
        assert!((ds - 4.55).abs() < 1e-12);
        assert!((m.ldl_lowering(150.0, true, 1.0) - 60.0).abs() < 1e-12);
        assert_eq!(m.ldl_lowering(150.0, false, 1.0), 0.0);
        // Inversion of a treated reading.
        for obs in [120.0, 140.0, 175.0] {
            let nat = m.untreated_sbp(obs, 0.95);
            let (ds, _) = m.bp_lowering(nat, 90.0, 1, 0.95);
            assert!((nat - ds - obs).abs() < 1e-9, "{obs}: {nat} {ds}");
        }
    }

    #[test]
    fn case_fatality_is_the_registry_value_at_the_reference_age_and_rises_with_age() {
        let m = model();
        assert!((m.case_fatality(MI, Sex::Male, 70.0) - 0.343).abs() < 1e-12);
        assert!((m.case_fatality(MI, Sex::Female, 70.0) - 0.433).abs() < 1e-12);
        assert!((m.case_fatality(ISCHAEMIC_STROKE, Sex::Male, 70.0) - 0.097).abs() < 1e-12);
        for e in 0..N_EVENTS {
            let mut prev = 0.0;
            for age in (40..=100).step_by(5) {
                let cf = m.case_fatality(e, Sex::Female, f64::from(age));
                assert!(cf > prev && cf < 1.0);
                prev = cf;
            }
        }
    }
}
