//! The diabetes metrics: their indices within the module's block of the model's metric list,
//! their definitions, and the yearly census.
//!
//! Must never: change the state (the census reads it).

use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::Patient;

use super::{Diabetes, HasDm, MACRO, MICRO, RX_INSULIN, RX_NONE};

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

impl Diabetes {
    /// The yearly census.
    pub fn census<S: HasDm>(&self, p: &Patient<S>, rec: &mut Recorder) {
        let st = p.state.dm();
        let hba1c_pct = p.now.hba1c_pct;
        let dm = st.has_diabetes();
        rec.flag(self.metrics.at(metric::PREVALENCE), dm);
        rec.flag(
            self.metrics.at(metric::NHNS_PREVALENCE),
            st.strongly_suspected(hba1c_pct),
        );
        if dm {
            rec.flag(self.metrics.at(metric::DIAGNOSED_SHARE), st.diagnosed);
            rec.value(self.metrics.at(metric::HBA1C_DM), hba1c_pct);
            rec.value(
                self.metrics.at(metric::DURATION),
                st.duration_years(p.age_years),
            );
            rec.flag(self.metrics.at(metric::HBA1C_BELOW_7), hba1c_pct < 7.0);
            rec.flag(
                self.metrics.at(metric::HBA1C_7_TO_8),
                (7.0..8.0).contains(&hba1c_pct),
            );
            rec.flag(self.metrics.at(metric::HBA1C_8_PLUS), hba1c_pct >= 8.0);
            rec.flag(self.metrics.at(metric::MICRO), st.albuminuria == MICRO);
            rec.flag(self.metrics.at(metric::MACRO), st.albuminuria == MACRO);
            rec.flag(self.metrics.at(metric::BLIND), st.blind);
            rec.flag(self.metrics.at(metric::AMPUTATION), st.amputations > 0);
            rec.flag(self.metrics.at(metric::ESRD), st.esrd);
        }
        if st.diagnosed {
            rec.flag(self.metrics.at(metric::TREATED_SHARE), st.rx > RX_NONE);
        }
        if st.rx > RX_NONE {
            rec.flag(self.metrics.at(metric::RX_INSULIN), st.rx >= RX_INSULIN);
        }
        rec.value(
            self.metrics.at(metric::HOMA_IR),
            st.fpg_mg_dl * st.insulin_uu_ml / 405.0,
        );
        if st.fpg_mg_dl > 63.0 {
            rec.value(
                self.metrics.at(metric::HOMA_BETA),
                360.0 * st.insulin_uu_ml / (st.fpg_mg_dl - 63.0),
            );
        }
    }
}
