//! The frailty and long-term-care metrics: their indices within the module's block of the
//! model's metric list, their definitions, and the yearly census.
//!
//! Must never: change the state (the census reads it).

use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::Patient;

use super::kcl::Phenotype;
use super::{level, Frailty, HasFrailty};

/// Indices of the frailty metrics within the module's block of the model's metric list.
pub mod metric {
    pub const ROBUST: usize = 0;
    pub const PREFRAIL: usize = 1;
    pub const FRAIL: usize = 2;
    pub const KCL_SCORE: usize = 3;
    pub const KCL_PREFRAIL: usize = 4;
    pub const KCL_FRAIL: usize = 5;
    pub const SOCIAL: usize = 6;
    pub const LTC_CERTIFIED: usize = 7;
    /// Seven level metrics follow, support 1 … care 5.
    pub const LTC_LEVEL: usize = 8;
    pub const LTC_INSTITUTION: usize = 15;
    pub const LTC_CERTIFICATION: usize = 16;
    pub const LTC_COST: usize = 17;
    pub const COUNT: usize = 18;
}

/// Indices of the optional long-term-care detail metrics within their own block: recorded
/// only when the coupled model lays them out (`HealthModel::record_ltc_detail`, used by
/// municipal plans), so the default metric list and its outputs do not change.
pub mod detail {
    /// Seven incidence metrics follow: new certifications at level support 1 … care 5 (the
    /// level at certification), with the person-time at risk of
    /// [`super::metric::LTC_CERTIFICATION`].
    pub const NEW_LEVEL: usize = 0;
    /// Certified (any level) over person-time: the mean of a 0/1 value over the person-months
    /// lived, so value × person-years = certified person-years.
    pub const CERTIFIED_TIME: usize = 7;
    pub const COUNT: usize = 8;
}

/// Metric definitions in [`metric`] order.
pub fn metric_defs() -> Vec<MetricDef> {
    use MetricKind::*;
    let d = |n: &str, k, s: &str| MetricDef::new(n, k, s);
    let mut v = vec![
        d("fr_robust", Prevalence, "J-CHS robust (0 of 5 criteria)"),
        d(
            "fr_prefrail",
            Prevalence,
            "J-CHS prefrail (1-2 of 5 criteria)",
        ),
        d("fr_frail", Prevalence, "J-CHS frail (3-5 of 5 criteria)"),
        d("fr_kcl_score", Mean, "Kihon Checklist total score (0-25)"),
        d("fr_kcl_prefrail", Prevalence, "Kihon Checklist 4-7 points"),
        d(
            "fr_kcl_frail",
            Prevalence,
            "Kihon Checklist 8 or more points",
        ),
        d(
            "fr_social_participation",
            Prevalence,
            "takes part in community groups (not housebound, not in a facility)",
        ),
        d(
            "ltc_certified",
            Prevalence,
            "certified for long-term care (any level)",
        ),
    ];
    for name in level::NAMES {
        v.push(MetricDef::new(
            format!("ltc_{name}"),
            Prevalence,
            format!("certified at level {name}"),
        ));
    }
    v.extend([
        d(
            "ltc_institution",
            Prevalence,
            "living in a long-term-care facility",
        ),
        d(
            "ltc_certification_incidence",
            Incidence,
            "new certifications per 1,000 person-years uncertified, ages 65+",
        ),
        d(
            "ltc_cost_kyen",
            Mean,
            "long-term-care cost, thousand yen per person-year (mean over person-months; \
             total = value x person_years)",
        ),
    ]);
    debug_assert_eq!(v.len(), metric::COUNT);
    v
}

/// Definitions of the optional detail metrics in [`detail`] order.
pub fn detail_metric_defs() -> Vec<MetricDef> {
    let mut v: Vec<MetricDef> = level::NAMES
        .iter()
        .map(|name| {
            MetricDef::new(
                format!("ltc_new_{name}"),
                MetricKind::Incidence,
                format!(
                    "new certifications at level {name} per 1,000 person-years uncertified, ages 65+"
                ),
            )
        })
        .collect();
    v.push(MetricDef::new(
        "ltc_certified_time",
        MetricKind::Mean,
        "certified at any level, share of person-months (certified person-years = value x \
         person_years)",
    ));
    debug_assert_eq!(v.len(), detail::COUNT);
    v
}

impl Frailty {
    /// The yearly census.
    pub fn census<S: HasFrailty>(&self, p: &Patient<S>, rec: &mut Recorder) {
        let m = self.metrics;
        let st = p.state.fr();
        let ph = st.phenotype();
        rec.flag(m.at(metric::ROBUST), ph == Phenotype::Robust);
        rec.flag(m.at(metric::PREFRAIL), ph == Phenotype::Prefrail);
        rec.flag(m.at(metric::FRAIL), ph == Phenotype::Frail);
        let kcl = st.kcl_total();
        rec.value(m.at(metric::KCL_SCORE), f64::from(kcl));
        rec.flag(m.at(metric::KCL_PREFRAIL), (4..8).contains(&kcl));
        rec.flag(m.at(metric::KCL_FRAIL), kcl >= 8);
        rec.flag(m.at(metric::SOCIAL), Self::social_active(st));
        rec.flag(m.at(metric::LTC_CERTIFIED), st.certified());
        for k in 0..7u8 {
            rec.flag(m.at(metric::LTC_LEVEL + k as usize), st.ltc == k + 1);
        }
        rec.flag(m.at(metric::LTC_INSTITUTION), st.institution);
    }
}
