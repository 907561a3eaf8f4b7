//! The diabetes part of a person's state, and the trait through which the diabetes
//! functions reach it (so they run on the coupled state and, alone, on a bare [`DmState`]).
//!
//! Must never: hold anything but plain per-person values (the state is copied freely).

use super::dpp;
use super::HBA1C_DIABETES;

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
///
/// HbA1c has one stored value, `Patient::now.hba1c_pct`, which the physiology advances and
/// every module reads. Fasting glucose has two: [`DmState::fpg_mg_dl`], the model's
/// quasi-steady-state value (the physiology's warm start), and `Patient::now.fpg_mg_dl`, the
/// covariate; they differ only before the person's first physiology step, when the
/// covariate is still the measured baseline reading (which the model's value matches to the
/// solver's tolerance, or not at all for a treated person the model cannot bring that low).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DmState {
    // Physiology (slow states and the person's parameters).
    pub beta: f64,
    pub capacity: f64,
    /// Fasting glucose of the model's quasi-steady state (mg/dL).
    pub fpg_mg_dl: f64,
    /// Endogenous fasting insulin of the model's quasi-steady state (μU/mL).
    pub insulin_uu_ml: f64,
    pub efficiency: f64,
    /// The person's own yearly rate of decline of the replication efficiency ε before onset
    /// (the drift of their glycaemic set point), on top of the common
    /// `dm.beta.efficiency_loss_per_year`: 0 for most people, drawn for the share
    /// `dm.beta.progressor_share` of glycaemic progressors, or a personal twin's fit.
    pub efficiency_drift: f64,
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
    /// `STIFF_QUARTER`): the physiology steps monthly.
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
    /// HbA1c (`hba1c_pct`, the person's current value) ≥ 6.5% or on glucose-lowering
    /// treatment.
    pub fn strongly_suspected(&self, hba1c_pct: f64) -> bool {
        hba1c_pct >= HBA1C_DIABETES || self.rx > RX_NONE
    }
}
