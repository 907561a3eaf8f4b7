//! A person's cardiovascular state at entry, consistent with their baseline readings
//! (treated readings turned back into untreated levels, deviations split into a persistent
//! level and the current fluctuation).
//!
//! Must never: draw except from the person's `cvd.init` stream.

use engine::patient::{Conditions, Treatments};
use engine::rng::{Stream, StreamKey};
use engine::{Baseline, RunKey};

use super::params::{self, at_age};
use super::{Cvd, CvdState, INIT, NON_SMOKER, N_EVENTS, SMOKER};

impl Cvd {
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
            sbp_slope: 0.0,
            ldl_slope: 0.0,
            bmi_slope: 0.0,
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
}

/// A personal twin's cardiovascular traits at entry (`twin` crate): the untreated SBP and
/// LDL split into persistent level and current fluctuation from the person's whole history
/// (instead of from the index reading alone), the person's own yearly slopes, and the drug
/// adherence read from prescriptions. NaN fields keep the model's own value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CvdTraits {
    pub sbp_level: f64,
    pub sbp_fluct: f64,
    pub ldl_level: f64,
    pub ldl_fluct: f64,
    pub sbp_slope: f64,
    pub ldl_slope: f64,
    pub bmi_slope: f64,
    pub adherence: f64,
}

impl Default for CvdTraits {
    fn default() -> Self {
        CvdTraits {
            sbp_level: f64::NAN,
            sbp_fluct: f64::NAN,
            ldl_level: f64::NAN,
            ldl_fluct: f64::NAN,
            sbp_slope: f64::NAN,
            ldl_slope: f64::NAN,
            bmi_slope: f64::NAN,
            adherence: f64::NAN,
        }
    }
}

impl Cvd {
    /// Replaces the person's levels, fluctuations, slopes and adherence at entry by a twin's
    /// (NaN fields kept). DBP keeps its untreated value at entry and follows the new SBP
    /// fluctuation as in [`Cvd::init`]. Draws nothing.
    pub fn personalise(&self, st: &mut CvdState, t: &CvdTraits) {
        if t.sbp_level.is_finite() && t.sbp_fluct.is_finite() {
            let dbp_nat = st.dbp_level + self.p.dbp_per_sbp * st.sbp_fluct;
            st.sbp_level = t.sbp_level;
            st.sbp_fluct = t.sbp_fluct;
            st.dbp_level = dbp_nat - self.p.dbp_per_sbp * t.sbp_fluct;
        }
        if t.ldl_level.is_finite() && t.ldl_fluct.is_finite() {
            st.ldl_level = t.ldl_level;
            st.ldl_fluct = t.ldl_fluct;
        }
        let slope = |v: f64, x: &mut f32| {
            if v.is_finite() {
                *x = v as f32;
            }
        };
        slope(t.sbp_slope, &mut st.sbp_slope);
        slope(t.ldl_slope, &mut st.ldl_slope);
        slope(t.bmi_slope, &mut st.bmi_slope);
        if t.adherence.is_finite() {
            st.adherence = t.adherence.clamp(0.0, 1.0);
        }
    }
}
