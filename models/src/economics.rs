//! Health economics: utility weights (QALYs) and annual medical costs of the modelled
//! conditions, recorded every step as per-person-year rates like `ltc_cost_kyen` (mean over
//! person-steps; total = value × person_years), plus the programme cost and the incidence of
//! first entry into the J-CHS frail state.
//!
//! Medical costs are those of the modelled conditions only (diabetes care, complications,
//! cardiovascular events and follow-up, preventive drugs), not total medical expenditure.
//! A one-off (acute) cost C in a step of length dt is recorded as the rate C/dt for that
//! step, so value × person-years counts it once. Every number has its source and tag here
//! and in docs/model.md ("Interventions and health economics").
//!
//! Must never: draw random numbers, allocate, or change anything but its own bookkeeping.

use engine::observe::{age_band, MetricDef, MetricKind, Recorder, N_AGE_BANDS};
use engine::{Patient, StepCtx};

use crate::diabetes::{MACRO, RX_INSULIN, RX_NONE};
use crate::PersonState;

/// Indices of the economic metrics, relative to the block's base.
pub mod metric {
    pub const QALY_WEIGHT: usize = 0;
    pub const MEDICAL_COST: usize = 1;
    pub const PROGRAMME_COST: usize = 2;
    pub const FRAIL_INCIDENCE: usize = 3;
    pub const COUNT: usize = 4;
}

pub fn metric_defs() -> Vec<MetricDef> {
    use MetricKind::*;
    vec![
        MetricDef::new(
            "qaly_weight",
            Mean,
            "mean utility (EQ-5D scale) per person-year: QALYs = value x person_years",
        ),
        MetricDef::new(
            "medical_cost_kyen",
            Mean,
            "medical cost of the modelled conditions, thousand yen per person-year (total = \
             value x person_years)",
        ),
        MetricDef::new(
            "programme_cost_kyen",
            Mean,
            "intervention programme cost, thousand yen per person-year (total = value x \
             person_years)",
        ),
        MetricDef::new(
            "fr_frail_incidence",
            Incidence,
            "first entry into the J-CHS frail state (3+ criteria) per 1,000 person-years never \
             frail in the run",
        ),
    ]
}

/// The economic bookkeeping of a person: what has already been costed as an acute event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EconState {
    pub mi_seen: u8,
    pub amputations_seen: u8,
    /// Bits: [`EVER_FRAIL`], [`IS_SEEN`], [`HS_SEEN`], [`HF_SEEN`], [`BLIND_SEEN`].
    pub flags: u8,
}

pub const EVER_FRAIL: u8 = 1;
pub const IS_SEEN: u8 = 2;
pub const HS_SEEN: u8 = 4;
pub const HF_SEEN: u8 = 8;
pub const BLIND_SEEN: u8 = 16;

// --- Utility weights -------------------------------------------------------------------------
/// EQ-5D-5L population norms (Japanese value set) by 5-year age band. [A] shape: Shiroiwa
/// 2016 (Qual Life Res 25:707) report Japanese norms that are significantly lower over 60
/// [V], but their table by age was not read: the values here are assumptions (0.94 to 50,
/// falling to 0.78 at 90+), to be replaced by the table.
const UTILITY_BY_BAND: [f64; N_AGE_BANDS] = [
    0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, // 0-49
    0.93, 0.92, 0.91, 0.90, 0.89, 0.87, 0.85, 0.82, 0.80, 0.78, 0.78, // 50-100+
];
/// Decrements. JJCEM (Tanaka 2021 BMJ Open Diabetes Res Care 9:e002177, Table 1 [V]):
/// coronary heart disease −0.064 (Shiroiwa), stroke −0.129, amputation −0.216,
/// retinopathy −0.054 (used for blindness), overt nephropathy −0.026, end-stage renal
/// disease −0.065.
pub const U_MI: f64 = 0.064;
pub const U_STROKE: f64 = 0.129;
pub const U_AMPUTATION: f64 = 0.216;
pub const U_BLIND: f64 = 0.054;
pub const U_MACROALBUMINURIA: f64 = 0.026;
pub const U_ESRD: f64 = 0.065;
/// [A] diagnosed diabetes without complications: Shiroiwa 2016 found −0.061 (EQ-5D-5L) for
/// any self-reported disease [V]; half of it is assumed for uncomplicated diabetes.
pub const U_DIABETES: f64 = 0.03;
/// [A] heart failure (no Japanese EQ-5D figure read).
pub const U_HF: f64 = 0.10;
/// [A] J-CHS prefrail and frail (no Japanese EQ-5D-by-phenotype figure read).
pub const U_PREFRAIL: f64 = 0.03;
pub const U_FRAIL: f64 = 0.10;
/// [A] long-term-care levels: support 1–2, care 1–2, care 3–5 (no figure read).
pub const U_LTC: [f64; 8] = [0.0, 0.08, 0.08, 0.18, 0.18, 0.35, 0.35, 0.35];

// --- Medical costs, thousand yen -------------------------------------------------------------
/// JJCEM Table 1 (2019 yen [V]): diabetes care without events ¥76,363/y (Saito); coronary
/// heart disease ¥2,232,727 in the event year, ¥254,618/y after (Onishi); stroke ¥3,516,727
/// and ¥109,391/y (Fukuda); amputation ¥941,617; retinopathy ¥379,887 (used for
/// blindness); overt nephropathy ¥85,214/y; haemodialysis ¥5,954,466/y (used for ESRD).
pub const C_DIABETES: f64 = 76.363;
pub const C_MI_ACUTE: f64 = 2232.727;
pub const C_MI_FOLLOW: f64 = 254.618;
pub const C_STROKE_ACUTE: f64 = 3516.727;
pub const C_STROKE_FOLLOW: f64 = 109.391;
pub const C_AMPUTATION: f64 = 941.617;
pub const C_BLIND: f64 = 379.887;
pub const C_MACROALBUMINURIA: f64 = 85.214;
pub const C_ESRD: f64 = 5954.466;
/// [A] heart-failure hospitalisation and yearly follow-up (no Japanese figure read).
pub const C_HF_ACUTE: f64 = 1200.0;
pub const C_HF_FOLLOW: f64 = 300.0;
/// [A] basal insulin beyond the oral care in C_DIABETES (drug and devices).
pub const C_INSULIN: f64 = 60.0;
/// [A] a statin, a standard-dose blood-pressure drug, prevention metformin: generic NHI
/// prices (≈ ¥20–40/day with dispensing) plus a share of visits.
pub const C_STATIN: f64 = 25.0;
pub const C_BP_DRUG: f64 = 20.0;
pub const C_METFORMIN_PREVENTION: f64 = 15.0;

/// Utility of a person now (EQ-5D scale, floor 0).
#[inline]
pub fn utility(p: &Patient<PersonState>) -> f64 {
    utility_with(p, p.state.fr.jchs_count())
}

#[inline]
fn utility_with(p: &Patient<PersonState>, jchs: u32) -> f64 {
    let st = &p.state;
    let mut u = UTILITY_BY_BAND[age_band(p.age_years)];
    let (dm, cvd, fr) = (&st.dm, &st.cvd, &st.fr);
    if dm.diagnosed {
        u -= U_DIABETES;
    }
    if dm.has_diabetes() {
        if dm.albuminuria >= MACRO {
            u -= U_MACROALBUMINURIA;
        }
        if dm.esrd {
            u -= U_ESRD;
        }
        if dm.amputations > 0 {
            u -= U_AMPUTATION;
        }
        if dm.blind {
            u -= U_BLIND;
        }
    }
    if cvd.mi_count > 0 {
        u -= U_MI;
    }
    if cvd.stroke_history() {
        u -= U_STROKE;
    }
    if cvd.heart_failure {
        u -= U_HF;
    }
    u -= match jchs {
        0 => 0.0,
        1 | 2 => U_PREFRAIL,
        _ => U_FRAIL,
    };
    u -= U_LTC[fr.ltc as usize & 7];
    u.max(0.0)
}

/// Economic metrics of one step (the interventions phase, after the step's events).
#[inline]
pub fn record(
    ctx: &StepCtx,
    p: &mut Patient<PersonState>,
    programme_kyen: Option<f64>,
    base: usize,
    rec: &mut Recorder,
) {
    let dt = ctx.dt_years;
    let jchs = p.state.fr.jchs_count();
    rec.value(base + metric::QALY_WEIGHT, utility_with(p, jchs));

    let st = &p.state;
    let (dm, cvd) = (&st.dm, &st.cvd);
    let mut cost = 0.0;
    if dm.diagnosed {
        cost += C_DIABETES;
        if dm.rx >= RX_INSULIN {
            cost += C_INSULIN;
        }
    } else if dm.prevention != crate::diabetes::dpp::Arm::None && dm.rx == RX_NONE {
        cost += C_METFORMIN_PREVENTION;
    }
    if dm.esrd {
        cost += C_ESRD;
    } else if dm.albuminuria >= MACRO {
        cost += C_MACROALBUMINURIA;
    }
    if cvd.statin {
        cost += C_STATIN;
    }
    cost += C_BP_DRUG * f64::from(cvd.bp_drugs);
    let mut e = st.econ;
    let mut acute = 0.0;
    if cvd.mi_count > 0 {
        cost += C_MI_FOLLOW;
        if cvd.mi_count > e.mi_seen {
            acute += C_MI_ACUTE * f64::from(cvd.mi_count - e.mi_seen);
            e.mi_seen = cvd.mi_count;
        }
    }
    if cvd.stroke_history() {
        cost += C_STROKE_FOLLOW;
        for (on, bit) in [
            (cvd.ischaemic_stroke, IS_SEEN),
            (cvd.haemorrhagic_stroke, HS_SEEN),
        ] {
            if on && e.flags & bit == 0 {
                acute += C_STROKE_ACUTE;
                e.flags |= bit;
            }
        }
    }
    if cvd.heart_failure {
        cost += C_HF_FOLLOW;
        if e.flags & HF_SEEN == 0 {
            acute += C_HF_ACUTE;
            e.flags |= HF_SEEN;
        }
    }
    if dm.amputations > e.amputations_seen {
        acute += C_AMPUTATION * f64::from(dm.amputations - e.amputations_seen);
        e.amputations_seen = dm.amputations;
    }
    if dm.blind && e.flags & BLIND_SEEN == 0 {
        acute += C_BLIND;
        e.flags |= BLIND_SEEN;
    }
    rec.value(base + metric::MEDICAL_COST, cost + acute / dt);
    if let Some(c) = programme_kyen {
        rec.value(base + metric::PROGRAMME_COST, c);
    }

    // First entry into the J-CHS frail state.
    if e.flags & EVER_FRAIL == 0 {
        rec.at_risk(base + metric::FRAIL_INCIDENCE, dt);
        if jchs >= 3 {
            rec.event(base + metric::FRAIL_INCIDENCE);
            e.flags |= EVER_FRAIL;
        }
    }
    p.state.econ = e;
}

/// The bookkeeping of a person at entry: histories present at baseline are not events.
pub fn init(st: &PersonState) -> EconState {
    let mut flags = 0;
    if st.fr.jchs_count() >= 3 {
        flags |= EVER_FRAIL;
    }
    if st.cvd.ischaemic_stroke {
        flags |= IS_SEEN;
    }
    if st.cvd.haemorrhagic_stroke {
        flags |= HS_SEEN;
    }
    if st.cvd.heart_failure {
        flags |= HF_SEEN;
    }
    if st.dm.blind {
        flags |= BLIND_SEEN;
    }
    EconState {
        mi_seen: st.cvd.mi_count,
        amputations_seen: st.dm.amputations,
        flags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utility_norms_fall_with_age_and_stay_in_the_unit_interval() {
        for w in UTILITY_BY_BAND.windows(2) {
            assert!(w[1] <= w[0]);
        }
        assert!(UTILITY_BY_BAND.iter().all(|u| (0.0..=1.0).contains(u)));
    }
}
