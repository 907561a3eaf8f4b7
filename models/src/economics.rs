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
//! Functions are generic over the state traits ([`HasEcon`] for the bookkeeping, and the
//! disease parts they read), like the disease modules.
//!
//! Must never: draw random numbers, allocate, or change anything but its own bookkeeping.

use engine::observe::{age_band, MetricDef, MetricKind, Recorder, N_AGE_BANDS};
use engine::{Patient, StepCtx};

use crate::cvd::HasCvd;
use crate::diabetes::{dpp, HasDm, MACRO, RX_INSULIN, RX_NONE};
use crate::frailty::HasFrailty;
use crate::layout::MetricBlock;

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EconState {
    pub mi_seen: u8,
    pub amputations_seen: u8,
    /// Bits: [`EVER_FRAIL`], [`IS_SEEN`], [`HS_SEEN`], [`HF_SEEN`], [`BLIND_SEEN`].
    pub flags: u8,
}

/// A person state that holds the economic bookkeeping (see [`crate::diabetes::HasDm`] for
/// the pattern).
pub trait HasEcon {
    fn econ(&self) -> &EconState;
    fn econ_mut(&mut self) -> &mut EconState;
}

impl HasEcon for EconState {
    #[inline]
    fn econ(&self) -> &EconState {
        self
    }
    #[inline]
    fn econ_mut(&mut self) -> &mut EconState {
        self
    }
}

/// What a person state must hold to be costed: the bookkeeping and the disease parts whose
/// conditions carry utilities and costs.
pub trait Costed: HasEcon + HasDm + HasCvd + HasFrailty {}

impl<T: HasEcon + HasDm + HasCvd + HasFrailty> Costed for T {}

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
crate::params::param_block! {
    /// Utility decrements (EQ-5D scale) and medical costs (thousand yen) of the modelled
    /// conditions: named, so calibration and probabilistic sensitivity analysis can set them.
    pub struct EconParams {
        // Decrements: JJCEM (Tanaka 2021 BMJ Open Diabetes Res Care 9:e002177, Table 1 [V]).
        u_mi: "econ.utility.mi" = 0.064, "EQ-5D decrement", (0.0, 1.0),
            "JJCEM Table 1: coronary heart disease -0.064 (Shiroiwa) [V]";
        u_stroke: "econ.utility.stroke" = 0.129, "EQ-5D decrement", (0.0, 1.0),
            "JJCEM Table 1: stroke -0.129 [V]";
        u_amputation: "econ.utility.amputation" = 0.216, "EQ-5D decrement", (0.0, 1.0),
            "JJCEM Table 1: amputation -0.216 [V]";
        u_blind: "econ.utility.blindness" = 0.054, "EQ-5D decrement", (0.0, 1.0),
            "JJCEM Table 1: retinopathy -0.054, used for blindness [V]";
        u_macroalbuminuria: "econ.utility.macroalbuminuria" = 0.026, "EQ-5D decrement",
            (0.0, 1.0), "JJCEM Table 1: overt nephropathy -0.026 [V]";
        u_esrd: "econ.utility.esrd" = 0.065, "EQ-5D decrement", (0.0, 1.0),
            "JJCEM Table 1: end-stage renal disease -0.065 [V]";
        u_diabetes: "econ.utility.diabetes" = 0.03, "EQ-5D decrement", (0.0, 1.0),
            "[A] diagnosed diabetes without complications: Shiroiwa 2016 found -0.061 \
             (EQ-5D-5L) for any self-reported disease [V]; half of it is assumed";
        u_hf: "econ.utility.heart_failure" = 0.10, "EQ-5D decrement", (0.0, 1.0),
            "[A] heart failure (no Japanese EQ-5D figure read)";
        u_prefrail: "econ.utility.prefrail" = 0.03, "EQ-5D decrement", (0.0, 1.0),
            "[A] J-CHS prefrail (no Japanese EQ-5D-by-phenotype figure read)";
        u_frail: "econ.utility.frail" = 0.10, "EQ-5D decrement", (0.0, 1.0),
            "[A] J-CHS frail (no Japanese EQ-5D-by-phenotype figure read)";
        u_ltc_support: "econ.utility.ltc_support" = 0.08, "EQ-5D decrement", (0.0, 1.0),
            "[A] long-term care support levels 1-2 (no figure read)";
        u_ltc_care12: "econ.utility.ltc_care1_2" = 0.18, "EQ-5D decrement", (0.0, 1.0),
            "[A] long-term care levels 1-2 (no figure read)";
        u_ltc_care35: "econ.utility.ltc_care3_5" = 0.35, "EQ-5D decrement", (0.0, 1.0),
            "[A] long-term care levels 3-5 (no figure read)";
        // Medical costs: JJCEM Table 1 (2019 yen [V]).
        c_diabetes: "econ.cost.diabetes_kyen" = 76.363, "kyen/y", (0.0, 1e5),
            "JJCEM Table 1: diabetes care without events 76,363 yen/y (Saito) [V]";
        c_mi_acute: "econ.cost.mi_acute_kyen" = 2232.727, "kyen", (0.0, 1e5),
            "JJCEM Table 1: coronary heart disease, event year 2,232,727 yen (Onishi) [V]";
        c_mi_follow: "econ.cost.mi_follow_kyen" = 254.618, "kyen/y", (0.0, 1e5),
            "JJCEM Table 1: coronary heart disease, later years 254,618 yen/y [V]";
        c_stroke_acute: "econ.cost.stroke_acute_kyen" = 3516.727, "kyen", (0.0, 1e5),
            "JJCEM Table 1: stroke, event year 3,516,727 yen (Fukuda) [V]";
        c_stroke_follow: "econ.cost.stroke_follow_kyen" = 109.391, "kyen/y", (0.0, 1e5),
            "JJCEM Table 1: stroke, later years 109,391 yen/y [V]";
        c_amputation: "econ.cost.amputation_kyen" = 941.617, "kyen", (0.0, 1e5),
            "JJCEM Table 1: amputation 941,617 yen [V]";
        c_blind: "econ.cost.blindness_kyen" = 379.887, "kyen", (0.0, 1e5),
            "JJCEM Table 1: retinopathy 379,887 yen, used for blindness [V]";
        c_macroalbuminuria: "econ.cost.macroalbuminuria_kyen" = 85.214, "kyen/y", (0.0, 1e5),
            "JJCEM Table 1: overt nephropathy 85,214 yen/y [V]";
        c_esrd: "econ.cost.esrd_kyen" = 5954.466, "kyen/y", (0.0, 1e5),
            "JJCEM Table 1: haemodialysis 5,954,466 yen/y, used for ESRD [V]";
        c_hf_acute: "econ.cost.hf_acute_kyen" = 1200.0, "kyen", (0.0, 1e5),
            "[A] heart-failure hospitalisation (no Japanese figure read)";
        c_hf_follow: "econ.cost.hf_follow_kyen" = 300.0, "kyen/y", (0.0, 1e5),
            "[A] heart-failure yearly follow-up (no Japanese figure read)";
        c_insulin: "econ.cost.insulin_kyen" = 60.0, "kyen/y", (0.0, 1e5),
            "[A] basal insulin beyond the oral care in econ.cost.diabetes_kyen (drug, devices)";
        c_statin: "econ.cost.statin_kyen" = 25.0, "kyen/y", (0.0, 1e5),
            "[A] a generic statin: NHI price about 20-40 yen/day with dispensing, plus visits";
        c_bp_drug: "econ.cost.bp_drug_kyen" = 20.0, "kyen/y", (0.0, 1e5),
            "[A] one standard-dose blood-pressure drug (generic NHI price, dispensing)";
        c_metformin_prevention: "econ.cost.metformin_prevention_kyen" = 15.0, "kyen/y",
            (0.0, 1e5), "[A] metformin for prevention (generic NHI price, dispensing)";
    }
}

impl EconParams {
    /// Decrement of a long-term-care level (0 = none, 1-2 support, 3-4 care 1-2, 5-7 care 3-5).
    #[inline]
    fn u_ltc(&self, level: u8) -> f64 {
        match level {
            0 => 0.0,
            1 | 2 => self.u_ltc_support,
            3 | 4 => self.u_ltc_care12,
            _ => self.u_ltc_care35,
        }
    }
}

/// Utility of a person now (EQ-5D scale, floor 0).
#[inline]
pub fn utility<S: Costed>(e: &EconParams, p: &Patient<S>) -> f64 {
    utility_with(e, p, p.state.fr().jchs_count())
}

#[inline]
fn utility_with<S: Costed>(e: &EconParams, p: &Patient<S>, jchs: u32) -> f64 {
    let st = &p.state;
    let mut u = UTILITY_BY_BAND[age_band(p.age_years)];
    let (dm, cvd, fr) = (st.dm(), st.cvd(), st.fr());
    if dm.diagnosed {
        u -= e.u_diabetes;
    }
    if dm.has_diabetes() {
        if dm.albuminuria >= MACRO {
            u -= e.u_macroalbuminuria;
        }
        if dm.esrd {
            u -= e.u_esrd;
        }
        if dm.amputations > 0 {
            u -= e.u_amputation;
        }
        if dm.blind {
            u -= e.u_blind;
        }
    }
    if cvd.mi_count > 0 {
        u -= e.u_mi;
    }
    if cvd.stroke_history() {
        u -= e.u_stroke;
    }
    if cvd.heart_failure {
        u -= e.u_hf;
    }
    u -= match jchs {
        0 => 0.0,
        1 | 2 => e.u_prefrail,
        _ => e.u_frail,
    };
    u -= e.u_ltc(fr.ltc);
    u.max(0.0)
}

/// The economics of the coupled model: the utility and cost parameters, and where its
/// metrics sit in the model's metric list.
#[derive(Clone, Debug)]
pub struct Economics {
    pub params: EconParams,
    metrics: MetricBlock,
}

impl Economics {
    pub fn new(params: EconParams, metrics: MetricBlock) -> Self {
        Economics { params, metrics }
    }

    /// Economic metrics of one step (the accounting phase, after the step's events);
    /// `programme_kyen`: the person's programme cost per year (`None` without programmes:
    /// the metric stays empty).
    #[inline]
    pub fn record<S: Costed>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        programme_kyen: Option<f64>,
        rec: &mut Recorder,
    ) {
        let (ep, m) = (&self.params, self.metrics);
        let dt = ctx.dt_years;
        let jchs = p.state.fr().jchs_count();
        rec.value(m.at(metric::QALY_WEIGHT), utility_with(ep, p, jchs));

        let st = &p.state;
        let (dm, cvd) = (st.dm(), st.cvd());
        let mut cost = 0.0;
        if dm.diagnosed {
            cost += ep.c_diabetes;
            if dm.rx >= RX_INSULIN {
                cost += ep.c_insulin;
            }
        } else if dm.prevention != dpp::Arm::None && dm.rx == RX_NONE {
            cost += ep.c_metformin_prevention;
        }
        if dm.esrd {
            cost += ep.c_esrd;
        } else if dm.albuminuria >= MACRO {
            cost += ep.c_macroalbuminuria;
        }
        if cvd.statin {
            cost += ep.c_statin;
        }
        cost += ep.c_bp_drug * f64::from(cvd.bp_drugs);
        let mut e = *st.econ();
        let mut acute = 0.0;
        if cvd.mi_count > 0 {
            cost += ep.c_mi_follow;
            if cvd.mi_count > e.mi_seen {
                acute += ep.c_mi_acute * f64::from(cvd.mi_count - e.mi_seen);
                e.mi_seen = cvd.mi_count;
            }
        }
        if cvd.stroke_history() {
            cost += ep.c_stroke_follow;
            for (on, bit) in [
                (cvd.ischaemic_stroke, IS_SEEN),
                (cvd.haemorrhagic_stroke, HS_SEEN),
            ] {
                if on && e.flags & bit == 0 {
                    acute += ep.c_stroke_acute;
                    e.flags |= bit;
                }
            }
        }
        if cvd.heart_failure {
            cost += ep.c_hf_follow;
            if e.flags & HF_SEEN == 0 {
                acute += ep.c_hf_acute;
                e.flags |= HF_SEEN;
            }
        }
        if dm.amputations > e.amputations_seen {
            acute += ep.c_amputation * f64::from(dm.amputations - e.amputations_seen);
            e.amputations_seen = dm.amputations;
        }
        if dm.blind && e.flags & BLIND_SEEN == 0 {
            acute += ep.c_blind;
            e.flags |= BLIND_SEEN;
        }
        rec.value(m.at(metric::MEDICAL_COST), cost + acute / dt);
        if let Some(c) = programme_kyen {
            rec.value(m.at(metric::PROGRAMME_COST), c);
        }

        // First entry into the J-CHS frail state.
        if e.flags & EVER_FRAIL == 0 {
            rec.at_risk(m.at(metric::FRAIL_INCIDENCE), dt);
            if jchs >= 3 {
                rec.event(m.at(metric::FRAIL_INCIDENCE));
                e.flags |= EVER_FRAIL;
            }
        }
        *p.state.econ_mut() = e;
    }
}

/// The bookkeeping of a person at entry: histories present at baseline are not events.
pub fn init<S: HasDm + HasCvd + HasFrailty>(st: &S) -> EconState {
    let (dm, cvd, fr) = (st.dm(), st.cvd(), st.fr());
    let mut flags = 0;
    if fr.jchs_count() >= 3 {
        flags |= EVER_FRAIL;
    }
    if cvd.ischaemic_stroke {
        flags |= IS_SEEN;
    }
    if cvd.haemorrhagic_stroke {
        flags |= HS_SEEN;
    }
    if cvd.heart_failure {
        flags |= HF_SEEN;
    }
    if dm.blind {
        flags |= BLIND_SEEN;
    }
    EconState {
        mi_seen: cvd.mi_count,
        amputations_seen: dm.amputations,
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
