//! What a plan reports per fiscal year, read from one run's exact aggregates and put on the
//! town's scale: residents by frailty state and care level, facility residents, new
//! certifications by level, frailty onsets, deaths, care-months, person-years, spending
//! (long-term care, medical, programmes; undiscounted yen), QALYs, and per programme the
//! people reached (new enrolments) and the participants.
//!
//! Every value is kept per 5-year band and for ages 65+ (the category-1 insured of the
//! long-term-care insurance, whom the plan is about). Counts are the simulated ones times
//! the residents each simulated person stands for ([`Weights`]).
//!
//! Must never: discount (fiscal-year tables are undiscounted; the economic summary
//! discounts), or mix two runs.

use engine::observe::{builtin, metric_defs, MetricDef, FIXED_POINT, N_AGE_BANDS};
use engine::{Aggregator, Model, Sex};
use models::HealthModel;

/// Band slots: the 21 bands and ages 65+ (last).
pub const SLOTS: usize = N_AGE_BANDS + 1;
pub const AGE_65_PLUS: usize = N_AGE_BANDS;
/// The band 65-69.
pub const BAND_65: usize = 13;

/// What a measure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// People (subject to the disclosure threshold).
    People,
    Yen,
    /// Person-months.
    Months,
    PersonYears,
    Qalys,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::People => "people",
            Unit::Yen => "yen (undiscounted)",
            Unit::Months => "person-months",
            Unit::PersonYears => "person-years",
            Unit::Qalys => "QALYs (undiscounted)",
        }
    }
}

/// A measure: its name in the tables, unit, whether it is counted over the year (a flow)
/// or at its start (a census), and labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub name: String,
    pub unit: Unit,
    pub flow: bool,
    pub ja: String,
    pub en: String,
}

fn m(name: &str, unit: Unit, flow: bool, ja: &str, en: &str) -> Measure {
    Measure {
        name: name.into(),
        unit,
        flow,
        ja: ja.into(),
        en: en.into(),
    }
}

pub const RESIDENTS: usize = 0;
pub const ROBUST: usize = 1;
pub const PREFRAIL: usize = 2;
pub const FRAIL: usize = 3;
pub const CERTIFIED: usize = 4;
/// Seven levels follow: support 1, 2, care 1-5.
pub const LEVEL: usize = 5;
pub const FACILITY: usize = 12;
pub const NEW_CERTIFICATIONS: usize = 13;
/// Seven levels follow.
pub const NEW_LEVEL: usize = 14;
pub const FRAILTY_ONSETS: usize = 21;
pub const DEATHS: usize = 22;
pub const CARE_MONTHS: usize = 23;
pub const PERSON_YEARS: usize = 24;
pub const LTC_COST: usize = 25;
pub const MEDICAL_COST: usize = 26;
pub const PROGRAMME_COST: usize = 27;
pub const QALYS: usize = 28;
/// Per programme of the plan, two measures from here: reached, participants.
pub const PROGRAMMES: usize = 29;

/// Level names: 要支援1-2, 要介護1-5.
pub const LEVELS_JA: [&str; 7] = [
    "要支援1",
    "要支援2",
    "要介護1",
    "要介護2",
    "要介護3",
    "要介護4",
    "要介護5",
];
pub const LEVELS_EN: [&str; 7] = [
    "support 1",
    "support 2",
    "care 1",
    "care 2",
    "care 3",
    "care 4",
    "care 5",
];

/// The measures of a plan whose programmes are `programmes` (names, labels), in index order.
pub fn measures(programmes: &[(String, String, String)]) -> Vec<Measure> {
    use Unit::*;
    let mut v = vec![
        m("residents", People, false, "65歳以上人口", "residents 65+"),
        m("robust", People, false, "健常（ロバスト）", "robust"),
        m("prefrail", People, false, "プレフレイル", "prefrail"),
        m("frail", People, false, "フレイル", "frail"),
        m(
            "certified",
            People,
            false,
            "要支援・要介護認定者",
            "certified (any level)",
        ),
    ];
    for (k, name) in models::frailty::level::NAMES.iter().enumerate() {
        v.push(m(
            &format!("certified_{name}"),
            People,
            false,
            LEVELS_JA[k],
            LEVELS_EN[k],
        ));
    }
    v.push(m(
        "facility_residents",
        People,
        false,
        "施設入所者",
        "in a care facility",
    ));
    v.push(m(
        "new_certifications",
        People,
        true,
        "新規認定者",
        "new certifications",
    ));
    for (k, name) in models::frailty::level::NAMES.iter().enumerate() {
        v.push(m(
            &format!("new_certifications_{name}"),
            People,
            true,
            &format!("新規認定（{}）", LEVELS_JA[k]),
            &format!("new certifications, {}", LEVELS_EN[k]),
        ));
    }
    v.extend([
        m(
            "frailty_onsets",
            People,
            true,
            "フレイル新規発生",
            "frailty onsets",
        ),
        m("deaths", People, true, "死亡", "deaths"),
        m("care_months", Months, true, "要介護等の人月", "care-months"),
        m("person_years", PersonYears, true, "人年", "person-years"),
        m(
            "ltc_cost_yen",
            Yen,
            true,
            "介護費用額",
            "long-term-care cost",
        ),
        m("medical_cost_yen", Yen, true, "医療費", "medical spending"),
        m(
            "programme_cost_yen",
            Yen,
            true,
            "事業費",
            "programme spending",
        ),
        m("qalys", Qalys, true, "QALY", "QALYs"),
    ]);
    debug_assert_eq!(v.len(), PROGRAMMES);
    for (name, ja, en) in programmes {
        v.push(m(
            &format!("reached_{name}"),
            People,
            true,
            &format!("新規参加者（{ja}）"),
            &format!("people reached, {en}"),
        ));
        v.push(m(
            &format!("participants_{name}"),
            People,
            false,
            &format!("参加者（{ja}）"),
            &format!("participants, {en}"),
        ));
    }
    v
}

/// Where a measure comes from in one arm's metric list.
#[derive(Clone, Debug)]
pub struct Sources {
    census: Vec<(usize, usize)>,
    events: Vec<(usize, usize)>,
    /// (measure, metric, factor): mean per recorded step × person-years × factor.
    rates: Vec<(usize, usize, f64)>,
    measures: usize,
}

/// Why an arm's model cannot be read (a programming error, never the user's).
#[derive(Debug, thiserror::Error)]
#[error("metric `{0}` is missing from the model's metric list")]
pub struct MissingMetric(pub String);

impl Sources {
    /// The sources of `model` (whose programmes are some of the plan's `programmes`, by
    /// name).
    pub fn new(model: &HealthModel, programmes: &[String]) -> Result<Sources, MissingMetric> {
        let defs: Vec<MetricDef> = metric_defs(model.causes_of_death(), &model.metrics());
        let find = |name: &str| {
            defs.iter()
                .position(|d| d.name == name)
                .ok_or_else(|| MissingMetric(name.to_string()))
        };
        let mut census = vec![
            (ROBUST, find("fr_robust")?),
            (PREFRAIL, find("fr_prefrail")?),
            (FRAIL, find("fr_frail")?),
            (CERTIFIED, find("ltc_certified")?),
            (FACILITY, find("ltc_institution")?),
        ];
        let mut events = vec![
            (NEW_CERTIFICATIONS, find("ltc_certification_incidence")?),
            (FRAILTY_ONSETS, find("fr_frail_incidence")?),
            (DEATHS, builtin::DEATHS),
        ];
        for (k, name) in models::frailty::level::NAMES.iter().enumerate() {
            census.push((LEVEL + k, find(&format!("ltc_{name}"))?));
            events.push((NEW_LEVEL + k, find(&format!("ltc_new_{name}"))?));
        }
        let rates = vec![
            (CARE_MONTHS, find("ltc_certified_time")?, 12.0),
            (LTC_COST, find("ltc_cost_kyen")?, 1000.0),
            (MEDICAL_COST, find("medical_cost_kyen")?, 1000.0),
            (PROGRAMME_COST, find("programme_cost_kyen")?, 1000.0),
            (QALYS, find("qaly_weight")?, 1.0),
        ];
        for (k, name) in programmes.iter().enumerate() {
            if let Ok(i) = find(&format!("ix_{name}_enrolments")) {
                events.push((PROGRAMMES + 2 * k, i));
            }
            if let Ok(i) = find(&format!("ix_{name}_participants")) {
                census.push((PROGRAMMES + 2 * k + 1, i));
            }
        }
        Ok(Sources {
            census,
            events,
            rates,
            measures: PROGRAMMES + 2 * programmes.len(),
        })
    }
}

/// How many residents a simulated person stands for in a (year, sex, band) cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Weights {
    /// The same for everyone: residents / people simulated.
    Uniform(f64),
    /// Reweighted to a projected population: `target[year][sex][band]` residents (NaN:
    /// not projected, the uniform weight applies).
    Projection {
        uniform: f64,
        target: Vec<[[f64; N_AGE_BANDS]; 2]>,
    },
}

impl Weights {
    fn at(&self, year: usize, sex: Sex, band: usize, alive: f64) -> f64 {
        match self {
            Weights::Uniform(w) => *w,
            Weights::Projection { uniform, target } => {
                let t = target.get(year).map_or(f64::NAN, |t| t[sex.index()][band]);
                if t.is_finite() && alive > 0.0 {
                    t / alive
                } else {
                    *uniform
                }
            }
        }
    }
}

/// One run's values on the town's scale: `[year][slot][measure]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunValues {
    pub years: usize,
    pub measures: usize,
    values: Vec<f64>,
}

impl RunValues {
    #[inline]
    fn idx(&self, year: usize, slot: usize, m: usize) -> usize {
        (year * SLOTS + slot) * self.measures + m
    }
    pub fn get(&self, year: usize, slot: usize, m: usize) -> f64 {
        self.values[self.idx(year, slot, m)]
    }
    /// Ages 65+, one year.
    pub fn year(&self, year: usize, m: usize) -> f64 {
        self.get(year, AGE_65_PLUS, m)
    }
    /// Ages 65+, summed over years `from..to`.
    pub fn sum(&self, years: std::ops::Range<usize>, m: usize) -> f64 {
        years.map(|y| self.year(y, m)).sum()
    }
    /// Ages 65+, whole horizon.
    pub fn total(&self, m: usize) -> f64 {
        self.sum(0..self.years, m)
    }
}

/// The values of one run's aggregate.
pub fn extract(agg: &Aggregator, src: &Sources, weights: &Weights) -> RunValues {
    let years = agg.years();
    let mut out = RunValues {
        years,
        measures: src.measures,
        values: vec![0.0; years * SLOTS * src.measures],
    };
    for year in 0..years {
        for sex in Sex::ALL {
            for band in 0..N_AGE_BANDS {
                let g = |metric: usize| agg.get(year, sex, band, metric);
                let alive = g(builtin::POPULATION).num as f64;
                let py = g(builtin::PERSON_YEARS).num as f64 / FIXED_POINT;
                if alive == 0.0 && py == 0.0 {
                    continue;
                }
                let w = weights.at(year, sex, band, alive);
                let mut add = |m: usize, v: f64| {
                    let i = out.idx(year, band, m);
                    out.values[i] += v * w;
                    if band >= BAND_65 {
                        let j = out.idx(year, AGE_65_PLUS, m);
                        out.values[j] += v * w;
                    }
                };
                add(RESIDENTS, alive);
                add(PERSON_YEARS, py);
                for &(m, metric) in &src.census {
                    add(m, g(metric).num as f64);
                }
                for &(m, metric) in &src.events {
                    add(m, g(metric).num as f64);
                }
                for &(m, metric, factor) in &src.rates {
                    let a = g(metric);
                    if a.den > 0 {
                        add(m, a.num as f64 / a.den as f64 / FIXED_POINT * py * factor);
                    }
                }
            }
        }
    }
    out
}

/// Person-years simulated in a run (people simulated, every age), for throughput.
pub fn simulated_person_years(agg: &Aggregator) -> f64 {
    let mut py = 0i64;
    for year in 0..agg.years() {
        for sex in Sex::ALL {
            for band in 0..N_AGE_BANDS {
                py += agg.get(year, sex, band, builtin::PERSON_YEARS).num;
            }
        }
    }
    py as f64 / FIXED_POINT
}
