//! Type 2 diabetes: per-person glucose physiology (Topp 2000 with limited adaptive capacity,
//! [`physiology`]), true onset by the Japan Diabetes Society criteria, diagnosis through
//! annual check-ups (特定健診) and routine care, a treatment ladder driven by HbA1c with
//! adherence, and complications (albuminuria stages, eGFR decline, UKPDS OM2 blindness,
//! ulcer, amputation and renal failure; severe hypoglycaemia).
//!
//! Couplings exported to the other models: [`DmState::hba1c`], [`DmState::duration_years`],
//! [`DmState::albuminuria`], the eGFR kept in `Patient::now`, and the complication flags.

pub mod dpp;
pub mod params;
pub mod physiology;
pub mod topp;
pub mod ukpds_om2;

use engine::math::rate_to_probability;
use engine::math::ExpDet;
use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::patient::{Conditions, Covariates, Treatments};
use engine::rng::{Process, Stream};
use engine::{Baseline, Patient, RunKey, StepCtx};

use params::DiabetesParams;
use physiology::{Inputs, Physiology, StepWeights};
use topp::TOPP_2000;

const INIT: Process = Process::named("dm.init");
const FLUCTUATION: Process = Process::named("dm.si_fluctuation");
const CHECKUP: Process = Process::named("dm.checkup");
const CARE: Process = Process::named("dm.care");
/// The Exp(1) hazard budget of the next severe hypoglycaemia (keyed by the step of the
/// last one; 0 at entry).
const HYPO: Process = Process::named("dm.hypoglycaemia.clock");
/// The Exp(1) hazard budget of the next albuminuria transition (keyed by the stage left).
const KIDNEY: Process = Process::named("dm.kidney.clock");
const COMPLICATIONS: Process = Process::named("dm.complications");

/// Fasting glucose (mg/dL) and HbA1c (%) thresholds of diabetes (Japan Diabetes Society
/// 2010 criteria; the same values are ADA/WHO's).
pub const FPG_DIABETES: f64 = 126.0;
pub const HBA1C_DIABETES: f64 = 6.5;
/// Days in a quarter of a year.
const QUARTER_DAYS: f64 = 365.25 / 4.0;
/// Largest β-cell relaxation over one quarter (rate × quarter,
/// [`Physiology::beta_relaxation_rate`]) for which a person steps quarterly: beyond 1 an
/// explicit second-order step over the quarter is no longer accurate (its error grows like
/// the cube of rate × step), so the person steps monthly. In a 30-year run of the default
/// cohort under 0.1% of person-months are this stiff (a mass held tightly near capacity).
const STIFF_QUARTER: f64 = 1.0;

/// Albuminuria stage (UKPDS 64 definitions: micro 50–299 mg/L, macro ≥ 300 mg/L).
pub const NORMO: u8 = 0;
pub const MICRO: u8 = 1;
pub const MACRO: u8 = 2;

/// Treatment ladder (Japanese first-line practice: a DPP-4 inhibitor in 65% of new users,
/// Bouchi 2022 J Diabetes Investig 13:280 [V]): 1 = DPP-4 inhibitor, 2 = + metformin,
/// 3 = + basal insulin.
pub const RX_NONE: u8 = 0;
pub const RX_DPP4: u8 = 1;
pub const RX_METFORMIN: u8 = 2;
pub const RX_INSULIN: u8 = 3;

/// A person state that holds a diabetes part: the diabetes functions are generic over it, so
/// they run on the coupled model's [`crate::PersonState`] and, alone, on a bare [`DmState`]
/// (the DPP virtual trial, unit tests).
pub trait HasDm {
    fn dm(&self) -> &DmState;
    fn dm_mut(&mut self) -> &mut DmState;
}

impl HasDm for DmState {
    #[inline]
    fn dm(&self) -> &DmState {
        self
    }
    #[inline]
    fn dm_mut(&mut self) -> &mut DmState {
        self
    }
}

/// The diabetes part of a person's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DmState {
    // Physiology (slow states and the person's parameters).
    pub beta: f64,
    pub capacity: f64,
    pub hba1c: f64,
    pub glucose: f64,
    pub insulin: f64,
    pub efficiency: f64,
    pub si_person: f64,
    pub r0: f64,
    pub glycation: f64,
    /// Within-person fluctuation of log insulin sensitivity (an Ornstein–Uhlenbeck process:
    /// weight swings, illness, season, activity not captured by the covariates), constant
    /// within each calendar quarter of the run.
    pub si_fluctuation: f64,
    /// The fluctuation's innovation for the next quarter when it was drawn with this one
    /// (two quarters share one draw of the stream); infinite when not drawn (not NaN, so
    /// states still compare equal).
    pub si_z_next: f64,
    /// Months of the run the slow physiology has been integrated to.
    pub physiology_month: u32,
    /// β-cell mass is held tightly near its equilibrium (relaxation rate × one quarter above
    /// [`STIFF_QUARTER`]): the physiology steps monthly.
    pub stiff: bool,
    /// Age at true onset.
    pub onset_age: Option<f64>,
    pub diagnosed: bool,
    pub rx: u8,
    pub adherence: f64,
    pub insulin_dose: f64,
    /// The month (0–11) of the person's annual check-up.
    pub checkup_month: u8,
    /// The person's own part of the latent check-up attendance propensity.
    pub checkup_z: f64,
    pub albuminuria: u8,
    /// Cumulative hazard left before the next albuminuria transition (an Exp(1) budget, as
    /// for mortality: exact for hazards constant within a step, one draw per transition).
    pub kidney_clock: f64,
    /// Cumulative hazard left before the next severe hypoglycaemia (Exp(1) budget).
    pub hypo_clock: f64,
    pub blind: bool,
    pub ulcer: bool,
    pub amputations: u8,
    pub esrd: bool,
    /// Prevention arm effects active for this person (the DPP virtual trial).
    pub prevention: dpp::Arm,
    /// Share of the arm's metformin effect the person receives (1 in the DPP trial; an
    /// intervention programme's adherence × effect scale).
    pub prevention_scale: f64,
    /// A health-check programme brings the person to this year's check-up.
    pub checkup_assured: bool,
}

impl DmState {
    pub fn has_diabetes(&self) -> bool {
        self.onset_age.is_some()
    }
    /// Years since true onset at age `age` (0 without diabetes).
    pub fn duration_years(&self, age: f64) -> f64 {
        self.onset_age.map_or(0.0, |o| (age - o).max(0.0))
    }
    /// "Strongly suspected" diabetes as the National Health and Nutrition Survey counts it:
    /// HbA1c ≥ 6.5% or on glucose-lowering treatment.
    pub fn strongly_suspected(&self) -> bool {
        self.hba1c >= HBA1C_DIABETES || self.rx > RX_NONE
    }
}

/// Indices of the diabetes metrics within the model's metric list.
pub mod metric {
    pub const PREVALENCE: usize = 0;
    pub const NHNS_PREVALENCE: usize = 1;
    pub const INCIDENCE: usize = 2;
    pub const DIAGNOSED_SHARE: usize = 3;
    pub const TREATED_SHARE: usize = 4;
    pub const HBA1C_DM: usize = 5;
    pub const HBA1C_BELOW_7: usize = 6;
    pub const HBA1C_7_TO_8: usize = 7;
    pub const HBA1C_8_PLUS: usize = 8;
    pub const DURATION: usize = 9;
    pub const RX_INSULIN: usize = 10;
    pub const MICRO: usize = 11;
    pub const MACRO: usize = 12;
    pub const BLIND: usize = 13;
    pub const AMPUTATION: usize = 14;
    pub const ESRD: usize = 15;
    pub const DIAGNOSES: usize = 16;
    pub const BLINDNESS_INC: usize = 17;
    pub const ULCER_INC: usize = 18;
    pub const AMPUTATION_INC: usize = 19;
    pub const ESRD_INC: usize = 20;
    pub const MACRO_INC: usize = 21;
    pub const HYPO_INC: usize = 22;
    pub const HOMA_IR: usize = 23;
    pub const HOMA_BETA: usize = 24;
    pub const COUNT: usize = 25;
}

/// Metric definitions in [`metric`] order.
pub fn metric_defs() -> Vec<MetricDef> {
    use MetricKind::*;
    let d = |n: &str, k, s: &str| MetricDef::new(n, k, s);
    vec![
        d(
            "dm_prevalence",
            Prevalence,
            "share with diabetes (true onset: HbA1c >= 6.5% or two-month mean FPG >= 126, JDS)",
        ),
        d(
            "dm_strongly_suspected",
            Prevalence,
            "share with HbA1c >= 6.5% or on treatment (the NHNS definition)",
        ),
        d(
            "dm_incidence",
            Incidence,
            "true onsets per 1,000 person-years without diabetes",
        ),
        d(
            "dm_diagnosed_share",
            Prevalence,
            "of people with diabetes, the share diagnosed",
        ),
        d(
            "dm_treated_share",
            Prevalence,
            "of people diagnosed, the share on glucose-lowering treatment",
        ),
        d("dm_hba1c", Mean, "mean HbA1c (%) of people with diabetes"),
        d(
            "dm_hba1c_below_7",
            Prevalence,
            "of people with diabetes, share with HbA1c < 7%",
        ),
        d(
            "dm_hba1c_7_to_8",
            Prevalence,
            "of people with diabetes, share with HbA1c 7-8%",
        ),
        d(
            "dm_hba1c_8_plus",
            Prevalence,
            "of people with diabetes, share with HbA1c >= 8%",
        ),
        d(
            "dm_duration",
            Mean,
            "mean years since onset, people with diabetes",
        ),
        d(
            "dm_on_insulin",
            Prevalence,
            "of people treated, share on insulin",
        ),
        d(
            "dm_microalbuminuria",
            Prevalence,
            "of people with diabetes, share with microalbuminuria",
        ),
        d(
            "dm_macroalbuminuria",
            Prevalence,
            "of people with diabetes, share with macroalbuminuria",
        ),
        d(
            "dm_blind",
            Prevalence,
            "of people with diabetes, share blind in one eye",
        ),
        d(
            "dm_amputation",
            Prevalence,
            "of people with diabetes, share with an amputation",
        ),
        d(
            "dm_esrd",
            Prevalence,
            "of people with diabetes, share with renal failure (ESRD)",
        ),
        d(
            "dm_diagnoses",
            Incidence,
            "diagnoses per 1,000 person-years of undiagnosed diabetes",
        ),
        d(
            "dm_blindness_incidence",
            Incidence,
            "blindness per 1,000 person-years with diabetes",
        ),
        d(
            "dm_ulcer_incidence",
            Incidence,
            "first foot ulcer per 1,000 person-years with diabetes",
        ),
        d(
            "dm_amputation_incidence",
            Incidence,
            "amputations per 1,000 person-years with diabetes",
        ),
        d(
            "dm_esrd_incidence",
            Incidence,
            "renal failure per 1,000 person-years with diabetes",
        ),
        d(
            "dm_macroalbuminuria_incidence",
            Incidence,
            "progression to macroalbuminuria per 1,000 person-years with diabetes",
        ),
        d(
            "dm_severe_hypoglycaemia",
            Incidence,
            "severe hypoglycaemia per 1,000 person-years treated",
        ),
        d("homa_ir", Mean, "HOMA-IR (FPG mg/dL x insulin uU/mL / 405)"),
        d(
            "homa_beta",
            Mean,
            "HOMA-beta % (360 x insulin / (FPG - 63)), FPG > 63",
        ),
    ]
}

/// The diabetes model: resolved parameters and the physiology constants.
#[derive(Clone, Debug)]
pub struct Diabetes {
    pub p: DiabetesParams,
    pub phys: Physiology,
    /// Per-step constants that depend only on parameters and the step length, computed once
    /// (each is used only while the parameter it was computed from is unchanged).
    cache: StepConstants,
}

#[derive(Clone, Copy, Debug)]
struct StepConstants {
    /// τ of the HbA1c lag and κ of the capacity loss the weights were computed for.
    tau_hba1c_days: f64,
    capacity_loss: f64,
    /// Step weights for steps of 1, 2 and 3 months (index = months).
    lag: [StepWeights; 4],
    /// Fluctuation time constant (years) the quarter's OU factors were computed for.
    fluctuation_years: f64,
    /// OU factors over one quarter: a = e^{−0.25/τ} and √(1 − a²).
    ou_quarter: (f64, f64),
}

impl StepConstants {
    fn new(p: &DiabetesParams, phys: &Physiology) -> Self {
        let a = (-0.25 / p.si_fluctuation_years).exp_det();
        StepConstants {
            tau_hba1c_days: phys.tau_hba1c_days,
            capacity_loss: phys.capacity_loss,
            lag: std::array::from_fn(|m| phys.step_weights(m as f64 * (365.25 / 12.0))),
            fluctuation_years: p.si_fluctuation_years,
            ou_quarter: (a, (1.0 - a * a).sqrt()),
        }
    }
}

impl Diabetes {
    pub fn new(p: DiabetesParams) -> Self {
        let phys = Physiology {
            topp: TOPP_2000,
            time_scale: p.beta_time_scale,
            hill: p.capacity_hill,
            capacity_loss: p.capacity_loss,
            glucotoxicity: p.capacity_glucotoxicity,
            g_ref: 100.0,
            tau_hba1c_days: p.hba1c_tau_days,
            mean_minus_fasting: p.mean_minus_fasting,
        };
        let cache = StepConstants::new(&p, &phys);
        Diabetes { p, phys, cache }
    }

    /// Insulin sensitivity of a person now.
    #[inline]
    pub fn insulin_sensitivity(&self, st: &DmState, age: f64, now: &Covariates) -> f64 {
        let p = &self.p;
        let steps = now.steps_per_day.clamp(0.0, 20_000.0);
        // One exponential of the summed log effects.
        p.si_reference
            * st.si_person
            * (st.si_fluctuation - p.si_per_bmi * (now.bmi_kg_m2 - 22.0)
                + p.si_per_1000_steps * (steps - 8000.0) / 1000.0
                - p.si_per_decade * (age - 50.0) / 10.0)
                .exp_det()
    }

    /// The physiology inputs of a person now (treatment and prevention included).
    #[inline]
    pub fn inputs(&self, st: &DmState, age: f64, now: &Covariates) -> Inputs {
        let p = &self.p;
        let on_metformin = st.rx >= RX_METFORMIN;
        let mut r0_factor = 1.0
            - if on_metformin {
                p.metformin_r0 * st.adherence
            } else {
                0.0
            };
        if st.prevention == dpp::Arm::Metformin && !on_metformin {
            // Without diagnosed diabetes the DPP arm's effect; with it, metformin as a drug.
            let effect = if st.diagnosed {
                p.metformin_r0 * st.adherence
            } else {
                p.metformin_prevention_r0 * dpp::METFORMIN_ADHERENCE
            };
            r0_factor = 1.0 - effect * st.prevention_scale;
        }
        let secretion = 1.0
            + if st.rx >= RX_DPP4 {
                p.dpp4_secretion * st.adherence
            } else {
                0.0
            };
        let insulin_extra = if st.rx >= RX_INSULIN {
            st.insulin_dose * st.adherence
        } else {
            0.0
        };
        Inputs {
            si: self.insulin_sensitivity(st, age, now),
            r0: st.r0 * r0_factor,
            secretion,
            insulin_extra,
            efficiency: st.efficiency,
            glycation: st.glycation,
        }
    }

    /// The diabetes state of a person at the start of the run, consistent with their
    /// baseline fasting glucose, HbA1c, diagnosis and treatment.
    pub fn init(&self, run: RunKey, b: &Baseline) -> DmState {
        let p = &self.p;
        let c = &b.covariates;
        let mut s = Stream::new(engine::rng::StreamKey::new(run, INIT), b.id, 0);
        let (z_si, z_r0, z_cap, u_onset, u_adh, u_month, z_att) = (
            s.std_normal(),
            s.std_normal(),
            s.std_normal(),
            s.uniform(),
            s.uniform(),
            s.uniform(),
            s.std_normal(),
        );
        let g0 = c.fpg_mg_dl.max(40.0);
        let a0 = c.hba1c_pct;
        let diagnosed = c.conditions.contains(Conditions::DIABETES);
        let treated = c.treatments.contains(Treatments::GLUCOSE_LOWERING);
        let dm = diagnosed || treated || a0 >= HBA1C_DIABETES || g0 >= FPG_DIABETES;
        let onset_age = dm.then(|| b.age_years - self.duration_at_baseline(b, u_onset));
        let mut st = DmState {
            beta: 0.0,
            capacity: 0.0,
            hba1c: a0,
            glucose: g0,
            insulin: 0.0,
            efficiency: 1.0,
            si_person: (p.si_sd_log * z_si).exp_det(),
            r0: TOPP_2000.r0 * (p.r0_sd_log * z_r0).exp_det(),
            glycation: 0.0,
            si_fluctuation: 0.0,
            si_z_next: f64::INFINITY,
            physiology_month: 0,
            stiff: false,
            onset_age,
            diagnosed: diagnosed || treated,
            rx: if treated { RX_DPP4 } else { RX_NONE },
            adherence: if u_adh < p.adherent_share {
                0.95
            } else {
                p.adherence_low
            },
            insulin_dose: 0.0,
            checkup_month: ((u_month * 12.0) as u8).min(11),
            checkup_z: z_att,
            albuminuria: NORMO,
            kidney_clock: Stream::new(
                engine::rng::StreamKey::new(run, KIDNEY),
                b.id,
                u32::from(NORMO),
            )
            .exp1(),
            hypo_clock: Stream::new(engine::rng::StreamKey::new(run, HYPO), b.id, 0).exp1(),
            blind: false,
            ulcer: false,
            amputations: 0,
            esrd: false,
            prevention: dpp::Arm::None,
            prevention_scale: 1.0,
            checkup_assured: false,
        };
        let inputs = self.inputs(&st, b.age_years, c);
        // The mass that produces the observed glucose; if treatment alone would already
        // push glucose below the observed value, a small residual mass.
        st.beta = self
            .phys
            .beta_for_glucose(&inputs, g0)
            .unwrap_or(1.0)
            .max(1.0);
        // Capacity relative to the mass the person needs now (headroom at age 40), less the
        // loss at normal glucose since 40, so a cohort starts in the state its age implies
        // rather than everyone with a 40-year-old's reserve.
        st.capacity = st.beta
            * p.capacity_headroom
            * (p.capacity_sd_log * z_cap - p.capacity_loss * (b.age_years - 40.0)).exp_det();
        let growth = if dm { -p.decline_at_onset / 365.0 } else { 0.0 };
        st.efficiency = self
            .phys
            .efficiency_for(st.beta, st.capacity, g0, growth)
            .max(1e-3);
        let (g, i) = self
            .phys
            .fasting(&self.inputs(&st, b.age_years, c), st.beta, g0);
        st.glucose = g;
        st.insulin = i;
        st.glycation = (a0 - self.phys.hba1c_target(g, 0.0)).clamp(-2.0, 2.0);
        st.stiff = self.is_stiff(&self.inputs(&st, b.age_years, c), &st);
        st
    }

    /// Whether the person's β-cell mass relaxes fast enough that a quarterly step would lose
    /// accuracy (see [`DmState::stiff`]).
    #[inline]
    fn is_stiff(&self, inputs: &Inputs, st: &DmState) -> bool {
        let slope = self.phys.topp.qss_glucose_slope(
            inputs.si,
            st.beta,
            inputs.secretion,
            inputs.insulin_extra,
            st.glucose,
        );
        self.phys
            .beta_relaxation_rate(st.efficiency, st.beta, st.capacity, st.glucose, slope)
            * QUARTER_DAYS
            > STIFF_QUARTER
    }

    /// Years since onset for a person with diabetes at baseline: onset ages follow the
    /// cross-sectional NHNS 2016 prevalence curve, P(onset ≤ x | diabetic at age a) =
    /// prev(x)/prev(a) (stationarity and no differential survival assumed).
    fn duration_at_baseline(&self, b: &Baseline, u: f64) -> f64 {
        let sex = b.sex.index();
        let target = u * params::nhns_prevalence(sex, b.age_years);
        // prev is non-decreasing: bisection on [20, age].
        let (mut lo, mut hi) = (20.0, b.age_years.max(20.0));
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if params::nhns_prevalence(sex, mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (b.age_years - 0.5 * (lo + hi)).max(0.0)
    }

    /// Whether the person's physiology steps every month rather than every quarter:
    /// diagnosed, treated or in a prevention arm (inputs change at visits); HbA1c, or its
    /// glucose-driven part (HbA1c less the glycation offset), ≥ 6.0%, so onset (6.5%) is
    /// read from a current state; or β-cell mass stiff enough that a quarterly step would
    /// lose accuracy ([`DmState::stiff`]). Error-controlled, replacing a fixed fasting-glucose
    /// threshold of 100 mg/dL: the reduction test holds its tolerances either way, and 47% of
    /// person-months stepped monthly under the threshold against 27% now (30-year run).
    #[inline]
    fn physiology_active(st: &DmState) -> bool {
        st.diagnosed
            || st.rx > RX_NONE
            || st.prevention != dpp::Arm::None
            || st.stiff
            || st.hba1c.max(st.hba1c - st.glycation) >= 6.0
    }

    /// Physiology over one step: integrates the slow variables with inputs held constant.
    ///
    /// Multi-rate: the slow state of most people moves on a time scale of years, so it is
    /// integrated once per calendar quarter (at the quarter's end, over the quarter); a
    /// person diagnosed, treated, in a prevention arm, with HbA1c ≥ 6.0% or a stiff β-cell
    /// mass is integrated every step ([`Self::physiology_active`]). The insulin-sensitivity fluctuation is constant within each
    /// quarter and updated at its end with the exact Ornstein–Uhlenbeck transition, from a
    /// draw keyed by the quarter (by the half-year and the quarter's place in it): the same
    /// path for every person whichever cadence their glucose puts them on, and in every
    /// scenario (common random numbers).
    pub fn physiology<S: HasDm>(&self, ctx: &StepCtx, p: &mut Patient<S>) {
        let end = ctx.end_month();
        let quarter_end = end % 3 == 0;
        let st = p.state.dm();
        if end > st.physiology_month && (quarter_end || Self::physiology_active(st)) {
            let inputs = self.inputs(st, p.age_years, &p.now);
            let dt_days = f64::from(end - st.physiology_month) * (365.25 / 12.0);
            let st = p.state.dm_mut();
            let mut y = [st.beta, st.capacity, st.hba1c];
            let months = (end - st.physiology_month) as usize;
            let lag = if months < 4
                && self.cache.tau_hba1c_days == self.phys.tau_hba1c_days
                && self.cache.capacity_loss == self.phys.capacity_loss
            {
                self.cache.lag[months]
            } else {
                self.phys.step_weights(dt_days)
            };
            let step = self
                .phys
                .step_slow_with(&inputs, &mut y, st.glucose, dt_days, lag);
            let g = step.glucose;
            st.beta = y[0].max(0.0);
            st.capacity = y[1].max(0.0);
            st.hba1c = y[2];
            st.glucose = g;
            st.insulin = step.insulin;
            st.physiology_month = end;
            // The relaxation at the start of this step sets the cadence of the next.
            st.stiff = step.relaxation * QUARTER_DAYS > STIFF_QUARTER;
            // Age-related decline of β-cell function (Szoke 2008); 0 by default (no exp).
            if self.p.efficiency_loss != 0.0 {
                st.efficiency *= (-self.p.efficiency_loss * dt_days / 365.25).exp_det();
            }
            p.now.fpg_mg_dl = g;
            p.now.hba1c_pct = y[2];
        }
        if quarter_end {
            // The fluctuation for the quarter that starts now (exact OU over one quarter; a
            // step longer than a quarter advances it over the whole step).
            let dt_years = ctx.dt_years.max(0.25);
            let (a, innov) = if dt_years == 0.25
                && self.cache.fluctuation_years == self.p.si_fluctuation_years
            {
                self.cache.ou_quarter
            } else {
                let a = (-dt_years / self.p.si_fluctuation_years).exp_det();
                (a, (1.0 - a * a).sqrt())
            };
            // The innovation of quarter q is normal number q mod 2 of the stream keyed by the
            // half-year q/2: one stream for two quarters, the second normal kept for the next
            // quarter (the same number whether kept or drawn again).
            let q = end / 3;
            let st = p.state.dm_mut();
            let z = if q % 2 == 1 && st.si_z_next.is_finite() {
                st.si_z_next
            } else {
                let mut s = ctx.stream_at(FLUCTUATION, p.baseline.id, q / 2);
                let (z0, z1) = (s.std_normal(), s.std_normal());
                if q % 2 == 0 {
                    st.si_z_next = z1;
                    z0
                } else {
                    z1
                }
            };
            if q % 2 == 1 {
                st.si_z_next = f64::INFINITY;
            }
            st.si_fluctuation = a * st.si_fluctuation + self.p.si_fluctuation_sd * innov * z;
        }
    }

    fn measure(&self, s: &mut Stream, st: &DmState) -> (f64, f64) {
        let fpg = st.glucose * (1.0 + self.p.fpg_cv * s.std_normal());
        let a1c = st.hba1c * (1.0 + self.p.hba1c_cv * s.std_normal());
        (fpg, a1c)
    }

    fn screen_positive(fpg: f64, a1c: f64) -> bool {
        fpg >= FPG_DIABETES || a1c >= HBA1C_DIABETES
    }

    /// Onset, diagnosis, treatment, complications and hypoglycaemia over one step.
    pub fn events<S: HasDm>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        let prm = &self.p;
        let dt = ctx.dt_years;
        let id = p.id();
        let age = p.age_years;
        let female = p.sex().index() == 1;

        // True onset.
        if !p.state.dm().has_diabetes() {
            rec.at_risk(metric::INCIDENCE, dt);
            // Chronic hyperglycaemia: HbA1c ≥ 6.5%, or a two-month mean fasting glucose
            // ≥ 126 mg/dL (read from the HbA1c lag without the person's glycation offset; a
            // single day's glucose is not diabetes).
            let a = p.state.dm().hba1c;
            if a >= HBA1C_DIABETES || a - p.state.dm().glycation >= HBA1C_DIABETES {
                p.state.dm_mut().onset_age = Some(age + dt);
                rec.event(metric::INCIDENCE);
            }
        }

        // Month of the year this step covers: [m0, m0 + months).
        let months = engine::math::round_to_i64(dt * 12.0) as u32;
        let m0 = (ctx.step * months) % 12;
        let checkup_now = (u32::from(p.state.dm().checkup_month) + 12 - m0) % 12 < months.max(1);

        // Diagnosis.
        let screened = checkup_now && age >= 40.0;
        let in_care = p.now.treatments.contains(Treatments::ANTIHYPERTENSIVE)
            || p.now.treatments.contains(Treatments::LIPID_LOWERING);
        let symptomatic = p.state.dm().hba1c >= 9.0;
        if p.state.dm().has_diabetes() && !p.state.dm().diagnosed {
            rec.at_risk(metric::DIAGNOSES, dt);
        }
        // The draws are made only in a step where a route to diagnosis is open.
        if p.state.dm().has_diabetes()
            && !p.state.dm().diagnosed
            && (screened || in_care || symptomatic)
        {
            let mut s = ctx.stream(CHECKUP, id);
            let (u_attend, u_follow, u_clinic, u_sympt) =
                (s.std_normal(), s.uniform(), s.uniform(), s.uniform());
            let (fpg, a1c) = self.measure(&mut s, p.state.dm());
            let mut diagnose = false;
            if screened {
                let pr = if age >= 75.0 {
                    prm.checkup_75plus
                } else if female {
                    prm.checkup_female
                } else {
                    prm.checkup_male
                };
                let rho = prm.checkup_persistence.sqrt();
                let z = rho * p.state.dm().checkup_z + (1.0 - rho * rho).sqrt() * u_attend;
                let attends = z < engine::math::norm_inv(pr.clamp(1e-9, 1.0 - 1e-9))
                    || p.state.dm().checkup_assured;
                if attends && Self::screen_positive(fpg, a1c) {
                    let visit = if a1c >= 8.0 {
                        prm.followup_8_plus
                    } else if a1c >= 7.0 {
                        prm.followup_7_to_8
                    } else {
                        prm.followup_below_7
                    };
                    diagnose = u_follow < visit;
                }
            }
            if !diagnose && in_care && u_clinic < rate_to_probability(prm.clinical_testing, dt) {
                diagnose = Self::screen_positive(fpg, a1c);
            }
            if !diagnose && symptomatic {
                diagnose = u_sympt < rate_to_probability(prm.symptomatic, dt);
            }
            if diagnose {
                rec.event(metric::DIAGNOSES);
                p.state.dm_mut().diagnosed = true;
                p.state.dm_mut().prevention = dpp::Arm::None;
                if s.uniform() < prm.treat_at_diagnosis {
                    p.state.dm_mut().rx = RX_DPP4;
                }
            }
        }

        // Treatment: quarterly visits for people treated; a yearly review of the untreated.
        // Measurements and decisions are drawn only at visits.
        let st = p.state.dm_mut();
        let visit = if st.rx == RX_NONE {
            checkup_now
        } else {
            (ctx.step * months) % 3 < months.max(1)
        };
        if st.diagnosed && visit {
            let mut s = ctx.stream(CARE, id);
            let (_, a1c) = self.measure(&mut s, st);
            let u = s.uniform();
            if st.rx == RX_NONE {
                if a1c >= prm.target_hba1c + 1.0 && u < prm.treat_at_diagnosis {
                    st.rx = RX_DPP4;
                }
            } else if a1c >= prm.target_hba1c && u < prm.intensify_per_visit {
                if st.rx < RX_INSULIN {
                    // Oral agents above target; insulin only a point above it (JDS practice
                    // of starting insulin when oral agents clearly fail).
                    if st.rx + 1 < RX_INSULIN || a1c >= prm.target_hba1c + 1.0 {
                        st.rx += 1;
                        if st.rx == RX_INSULIN {
                            st.insulin_dose = prm.insulin_start;
                        }
                    }
                } else {
                    st.insulin_dose =
                        (st.insulin_dose + prm.insulin_titration).min(prm.insulin_max);
                }
            }
        }
        p.now
            .conditions
            .set(Conditions::DIABETES, p.state.dm().diagnosed);
        p.now
            .treatments
            .set(Treatments::GLUCOSE_LOWERING, p.state.dm().rx > RX_NONE);

        // Severe hypoglycaemia (treated people).
        if p.state.dm().rx > RX_NONE {
            rec.at_risk(metric::HYPO_INC, dt);
            let rate = if p.state.dm().rx >= RX_INSULIN {
                prm.hypo_insulin
            } else {
                prm.hypo_oral
            };
            // At most one event per step, as the per-step probability had it; the budget
            // restarts at the event.
            let next = || ctx.stream_at(HYPO, id, ctx.step + 1);
            if engine::rng::spend_clock(&mut p.state.dm_mut().hypo_clock, rate * dt, next) {
                rec.event(metric::HYPO_INC);
            }
        }

        self.kidney(ctx, p, rec);
        if p.state.dm().has_diabetes() {
            self.complications(ctx, p, rec);
        }
    }

    /// Albuminuria stage transitions (UKPDS 64, scaled by HbA1c as in JDCS) and eGFR decline.
    fn kidney<S: HasDm>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        let prm = &self.p;
        let dt = ctx.dt_years;
        let id = p.baseline.id;
        let st = p.state.dm_mut();
        let mut slope = prm.egfr_decline;
        if st.has_diabetes() {
            slope += prm.egfr_decline_dm;
            let m = (prm.albuminuria_per_hba1c * (st.hba1c - 8.0))
                .exp_det()
                .clamp(0.1, 10.0);
            let rate = match st.albuminuria {
                NORMO => prm.normo_to_micro * m,
                MICRO => {
                    rec.at_risk(metric::MACRO_INC, dt);
                    prm.micro_to_macro * m
                }
                _ => 0.0,
            };
            // The budget of the next stage's transition is keyed by that stage.
            let stage = st.albuminuria + 1;
            let next = || ctx.stream_at(KIDNEY, id, u32::from(stage));
            if rate > 0.0 && engine::rng::spend_clock(&mut st.kidney_clock, rate * dt, next) {
                st.albuminuria = stage;
                if stage == MACRO {
                    rec.event(metric::MACRO_INC);
                }
            }
            slope += match st.albuminuria {
                MICRO => prm.egfr_decline_micro,
                MACRO => prm.egfr_decline_micro + prm.egfr_decline_macro,
                _ => 0.0,
            };
        }
        let floor: f64 = if st.esrd { 3.0 } else { 15.0 };
        p.now.egfr_ml_min = (p.now.egfr_ml_min - slope * dt).max(floor.min(p.now.egfr_ml_min));
    }

    /// Mortality hazard ratio of the person relative to someone without diabetes.
    #[inline]
    pub fn hazard_ratio<S: HasDm>(&self, p: &Patient<S>) -> f64 {
        let st = p.state.dm();
        if !st.has_diabetes() {
            return 1.0;
        }
        let prm = &self.p;
        let hr = if p.sex().index() == 0 {
            prm.hr_dm_male
        } else {
            prm.hr_dm_female
        };
        let mut lhr = 0.0;
        if st.esrd {
            lhr += prm.lhr_esrd;
        }
        if st.amputations > 0 {
            lhr += prm.lhr_amputation;
        }
        if st.albuminuria >= MICRO {
            lhr += prm.lhr_albuminuria;
        }
        hr * lhr.exp_det()
    }

    /// Expected diabetes hazard ratio in the population the life table describes (NHNS 2016
    /// prevalence): dividing by it keeps the population's all-cause mortality at the life
    /// table's (docs/model.md, "excess hazards without double counting").
    #[inline]
    pub fn population_hazard_ratio(&self, sex: usize, age: f64) -> f64 {
        let hr = if sex == 0 {
            self.p.hr_dm_male
        } else {
            self.p.hr_dm_female
        };
        1.0 + params::nhns_prevalence(sex, age) * (hr - 1.0)
    }

    /// The yearly census.
    pub fn census<S: HasDm>(&self, p: &Patient<S>, rec: &mut Recorder) {
        let st = p.state.dm();
        let dm = st.has_diabetes();
        rec.flag(metric::PREVALENCE, dm);
        rec.flag(metric::NHNS_PREVALENCE, st.strongly_suspected());
        if dm {
            rec.flag(metric::DIAGNOSED_SHARE, st.diagnosed);
            rec.value(metric::HBA1C_DM, st.hba1c);
            rec.value(metric::DURATION, st.duration_years(p.age_years));
            rec.flag(metric::HBA1C_BELOW_7, st.hba1c < 7.0);
            rec.flag(metric::HBA1C_7_TO_8, (7.0..8.0).contains(&st.hba1c));
            rec.flag(metric::HBA1C_8_PLUS, st.hba1c >= 8.0);
            rec.flag(metric::MICRO, st.albuminuria == MICRO);
            rec.flag(metric::MACRO, st.albuminuria == MACRO);
            rec.flag(metric::BLIND, st.blind);
            rec.flag(metric::AMPUTATION, st.amputations > 0);
            rec.flag(metric::ESRD, st.esrd);
        }
        if st.diagnosed {
            rec.flag(metric::TREATED_SHARE, st.rx > RX_NONE);
        }
        if st.rx > RX_NONE {
            rec.flag(metric::RX_INSULIN, st.rx >= RX_INSULIN);
        }
        rec.value(metric::HOMA_IR, st.glucose * st.insulin / 405.0);
        if st.glucose > 63.0 {
            rec.value(metric::HOMA_BETA, 360.0 * st.insulin / (st.glucose - 63.0));
        }
    }
}

impl Diabetes {
    /// The UKPDS OM2 covariates of a person with diabetes now. OM2's time axis is years since
    /// diagnosis; healthtwin knows the true onset, which it uses (complications start
    /// accruing from onset, whether or not diabetes has been diagnosed).
    pub fn om2_covariates<S: HasDm>(&self, p: &Patient<S>) -> ukpds_om2::Om2Covariates {
        let st = p.state.dm();
        let c = &p.now;
        let onset = st.onset_age.unwrap_or(p.age_years);
        ukpds_om2::Om2Covariates {
            age_at_diagnosis_years: onset,
            diabetes_duration_years: (p.age_years - onset).max(0.0),
            female: p.sex().index() == 1,
            smoker: c.smoker,
            albuminuria: st.albuminuria >= MICRO,
            hba1c_pct: st.hba1c,
            sbp_mmhg_div10: c.sbp_mmhg / 10.0,
            ldl_mmol_l_x10: engine::units::cholesterol_mmol_l(c.ldl_mg_dl) * 10.0,
            hdl_mmol_l_x10: engine::units::cholesterol_mmol_l(c.hdl_mg_dl) * 10.0,
            bmi_kg_m2: c.bmi_kg_m2,
            egfr_div10: c.egfr_ml_min / 10.0,
            heart_rate_bpm_div10: self.p.om2_heart_rate / 10.0,
            wbc_10e9_per_l: self.p.om2_wbc,
            haemoglobin_g_dl: self.p.om2_haemoglobin,
            amputation_history: st.amputations > 0,
            blindness_history: st.blind,
            chf_history: c.conditions.contains(Conditions::HEART_FAILURE),
            ihd_history: c.conditions.contains(Conditions::MI),
            mi_history: c.conditions.contains(Conditions::MI),
            stroke_history: c.conditions.contains(Conditions::STROKE),
            ulcer_history: st.ulcer,
            esrd_history: st.esrd,
            ..Default::default()
        }
    }

    /// Microvascular complications over one step, from the UKPDS Outcomes Model 2
    /// equations (Hayes 2013; [`ukpds_om2`]): blindness, first foot ulcer, amputation (first,
    /// then a second) and renal failure. OM2 is used rather than Japanese equations because
    /// no Japanese cohort publishes event equations for these outcomes; JDCS incidence is
    /// kept as validation (docs/validation.md).
    ///
    /// OM2 is an annual-cycle model of slowly moving risks: its probabilities are evaluated at
    /// the end of each calendar quarter of the run, over the quarter (or the part of it since
    /// onset), while person-time at risk accrues every step.
    fn complications<S: HasDm>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        use ukpds_om2 as om2;
        let st = p.state.dm();
        let dt = ctx.dt_years;
        rec.at_risk_if(metric::BLINDNESS_INC, dt, !st.blind);
        rec.at_risk_if(metric::ULCER_INC, dt, !st.ulcer);
        rec.at_risk_if(metric::AMPUTATION_INC, dt, st.amputations < 2);
        rec.at_risk_if(metric::ESRD_INC, dt, !st.esrd);
        let end = ctx.end_month();
        if end % 3 != 0 {
            return;
        }
        let since_onset = p.age_years + dt - st.onset_age.unwrap_or(p.age_years);
        let dt = dt.max(0.25).min(since_onset);
        if dt <= 0.0 {
            return;
        }
        let c = self.om2_covariates(p);
        let mut s = ctx.stream(COMPLICATIONS, p.baseline.id);
        let (u_blind, u_ulcer, u_amp, u_esrd) =
            (s.uniform(), s.uniform(), s.uniform(), s.uniform());
        let st = p.state.dm_mut();
        if !st.blind && u_blind < om2::interval_probability(&om2::BLINDNESS, &c, dt) {
            st.blind = true;
            rec.event(metric::BLINDNESS_INC);
        }
        if !st.ulcer && u_ulcer < om2::interval_probability(&om2::ULCER, &c, dt) {
            st.ulcer = true;
            rec.event(metric::ULCER_INC);
        }
        if st.amputations < 2 {
            let eq = if st.amputations == 0 {
                om2::amputation_first_equation(c.ulcer_history)
            } else {
                &om2::AMPUTATION_SUBSEQUENT
            };
            if u_amp < om2::interval_probability(eq, &c, dt) {
                st.amputations += 1;
                rec.event(metric::AMPUTATION_INC);
            }
        }
        if !st.esrd && u_esrd < om2::interval_probability(&om2::RENAL_FAILURE, &c, dt) {
            st.esrd = true;
            rec.event(metric::ESRD_INC);
            // Renal failure: eGFR below 15 (CKD stage 5).
            p.now.egfr_ml_min = p.now.egfr_ml_min.min(10.0);
        }
    }
}
