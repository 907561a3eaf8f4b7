//! The cardiovascular metrics: their indices within the module's block of the model's
//! metric list, their definitions, and the yearly census.
//!
//! Must never: change the state (the census reads it).

use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::patient::Covariates;
use engine::Patient;

use super::equations::{japan, RiskInput};
use super::{Cvd, DmLink, HasCvd};

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

impl Cvd {
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
