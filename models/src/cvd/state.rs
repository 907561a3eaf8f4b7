//! The cardiovascular part of a person's state, the trait through which the cardiovascular
//! functions reach it, and what they read of the diabetes state ([`DmLink`]).
//!
//! Must never: hold anything but plain per-person values (the state is copied freely).

use engine::Patient;

use crate::diabetes::HasDm;

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
    /// The link of a person now (their diabetes state and current HbA1c).
    #[inline]
    pub fn of<S: HasDm>(p: &Patient<S>) -> DmLink {
        use crate::diabetes::{MACRO, MICRO};
        let dm = p.state.dm();
        DmLink {
            onset_age: dm.onset_age,
            diagnosed: dm.diagnosed,
            hba1c_pct: p.now.hba1c_pct,
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
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// A personal twin's own yearly slopes of the untreated SBP (mmHg/y) and LDL (mg/dL/y)
    /// levels and of BMI (kg/m²/y), added to the population's age drift (0 for everyone
    /// else: the population model has no person-specific slopes).
    pub sbp_slope: f32,
    pub ldl_slope: f32,
    pub bmi_slope: f32,
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
