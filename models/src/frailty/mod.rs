//! Frailty and long-term care: a frailty index built from 32 named deficit items that are
//! acquired and repaired stochastically (Mitnitski-type deficit accumulation), the J-CHS
//! phenotype and the Kihon Checklist read from those items, long-term-care (kaigo)
//! certification with its seven levels, institutionalisation and monthly cost, and the
//! frailty hazard ratio on mortality.
//!
//! Design (docs/model.md, "Frailty"): a person's state is the set of deficits present, a bit
//! mask over [`items`]; the FI is their count over 32. New deficits arrive at rate
//! λ·(1 − n/n_max) (λ = stressor intensity times the drivers: diabetes and its complications,
//! cardiovascular history, steps, BMI, social participation; n_max = the 0.7 ceiling) and
//! each present deficit is repaired at a rate that falls 4.5% per year of age (N = λW with
//! the recovery time W doubling every 15.4 years). Which item is acquired is drawn among the
//! absent ones; J-CHS criteria weigh more as the FI grows. The 25 Kihon Checklist items and
//! the 5 J-CHS criteria are items of the mask, so screening answers enter and leave exactly
//! ([`kcl`]).
//!
//! Couplings read: [`HasDm`] (true onset, duration, blindness, amputation, renal failure),
//! `Conditions::{MI, STROKE, HEART_FAILURE}` (new flags are acute events), steps and BMI from
//! `Patient::now`. Exported: `Patient::now.frailty_index`, [`FrState`].
//!
//! Per person-month the module draws one Philox block (two uniforms) and does a few
//! multiplications and one or two `exp`; slow terms are refreshed once a year or when the
//! deficits change. It never allocates.

pub mod kcl;
pub mod params;

use engine::math::ExpDet;
use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::patient::Conditions;
use engine::rng::{Process, Stream, StreamKey};
use engine::{Baseline, Patient, RunKey, StepCtx};

use crate::diabetes::HasDm;
use kcl::{KclAnswers, KclScore, Phenotype};
use params::FrailtyParams;

const INIT: Process = Process::named("fr.init");
const DEFICITS: Process = Process::named("fr.deficits");
const ACUTE: Process = Process::named("fr.acute_events");
/// Long-term-care transitions (certification, institutionalisation) at the steps they occur.
const LTC: Process = Process::named("fr.ltc");
/// The initial Exp(1) budgets of the two event clocks.
const CLOCKS: Process = Process::named("fr.clocks");

/// The deficit items of the frailty index: bit `i` of [`FrState::deficits`].
pub mod items {
    /// Number of items: the FI is the count present over this.
    pub const N: u32 = 32;
    /// Kihon Checklist item `k` (1–25) is bit `k − 1`, present when answered in the
    /// direction that scores a point.
    pub const fn kcl(k: u32) -> u32 {
        k - 1
    }
    /// KCL 11: lost ≥ 2 kg in 6 months (= J-CHS shrinking).
    pub const WEIGHT_LOSS: u32 = 10;
    /// KCL 12: BMI < 18.5, read from the person's BMI (not a stochastic item).
    pub const LOW_BMI: u32 = 11;
    /// KCL 16: does not go out at least once a week (housebound).
    pub const HOUSEBOUND: u32 = 15;
    /// KCL 25: felt tired without a reason in the last 2 weeks (= J-CHS exhaustion).
    pub const EXHAUSTION: u32 = 24;
    /// J-CHS weakness: grip < 28 kg (men), < 18 kg (women).
    pub const WEAKNESS: u32 = 25;
    /// J-CHS slowness: usual gait speed < 1.0 m/s.
    pub const SLOWNESS: u32 = 26;
    /// J-CHS low activity: neither light exercise nor sport weekly.
    pub const LOW_ACTIVITY: u32 = 27;
    /// Further FI items [A] (common in published FIs; not in either instrument).
    pub const POOR_SELF_RATED_HEALTH: u32 = 28;
    pub const HEARING: u32 = 29;
    pub const INCONTINENCE: u32 = 30;
    pub const BATHING_HELP: u32 = 31;

    /// The 25 Kihon Checklist items.
    pub const KCL_MASK: u32 = (1 << 25) - 1;
    /// The five J-CHS criteria.
    pub const JCHS_MASK: u32 =
        1 << WEIGHT_LOSS | 1 << EXHAUSTION | 1 << WEAKNESS | 1 << SLOWNESS | 1 << LOW_ACTIVITY;
    /// Items set from other state rather than drawn.
    pub const EXTERNAL_MASK: u32 = 1 << LOW_BMI;
    /// Drawn items that are not J-CHS criteria.
    pub const OTHER_MASK: u32 = !JCHS_MASK & !EXTERNAL_MASK;
    /// Item names, bit order (for reports and tests).
    pub const NAMES: [&str; N as usize] = [
        "kcl01_no_bus_or_train_alone",
        "kcl02_no_shopping",
        "kcl03_no_banking",
        "kcl04_no_visiting_friends",
        "kcl05_no_advising_family",
        "kcl06_no_stairs_without_rail",
        "kcl07_no_standing_without_support",
        "kcl08_no_walking_15_minutes",
        "kcl09_fell_past_year",
        "kcl10_fear_of_falling",
        "kcl11_lost_2kg_6_months",
        "kcl12_bmi_below_18_5",
        "kcl13_hard_foods_harder",
        "kcl14_choking",
        "kcl15_dry_mouth",
        "kcl16_not_out_weekly",
        "kcl17_out_less_than_last_year",
        "kcl18_told_forgetful",
        "kcl19_no_looking_up_phone_numbers",
        "kcl20_unsure_of_date",
        "kcl21_no_fulfilment",
        "kcl22_no_joy",
        "kcl23_easy_things_hard",
        "kcl24_feel_useless",
        "kcl25_tired_without_reason",
        "jchs_weak_grip",
        "jchs_slow_gait",
        "jchs_low_activity",
        "poor_self_rated_health",
        "hearing_difficulty",
        "urinary_incontinence",
        "needs_help_bathing",
    ];
}

/// Long-term-care level: 0 none, 1–2 要支援1–2 (support), 3–7 要介護1–5 (care).
pub mod level {
    pub const NONE: u8 = 0;
    pub const SUPPORT1: u8 = 1;
    pub const SUPPORT2: u8 = 2;
    pub const CARE1: u8 = 3;
    pub const CARE5: u8 = 7;
    /// Names in level order 1–7.
    pub const NAMES: [&str; 7] = [
        "support1", "support2", "care1", "care2", "care3", "care4", "care5",
    ];
}

const CVD_FLAGS: [Conditions; 3] = [
    Conditions::MI,
    Conditions::STROKE,
    Conditions::HEART_FAILURE,
];

/// A person state that holds a frailty part (see [`HasDm`] for the pattern).
pub trait HasFrailty {
    fn fr(&self) -> &FrState;
    fn fr_mut(&mut self) -> &mut FrState;
}

impl HasFrailty for FrState {
    #[inline]
    fn fr(&self) -> &FrState {
        self
    }
    #[inline]
    fn fr_mut(&mut self) -> &mut FrState {
        self
    }
}

/// The frailty part of a person's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrState {
    /// Deficit items present (bit `i` = [`items`] `i`).
    pub deficits: u32,
    /// The person's stressor exposure relative to the average (multiplies λ).
    pub exposure: f64,
    /// Persistent person effect on the care-need score (standard normal).
    pub need_z: f64,
    /// Takes part in community groups (effective only while not housebound or in a facility).
    pub social: bool,
    /// Long-term-care level ([`level`]).
    pub ltc: u8,
    pub institution: bool,
    /// Cardiovascular history flags already seen (new flags are acute events).
    pub cvd_seen: u16,
    // Caches, refreshed once a year or when the deficits change.
    /// Year of the last yearly refresh (`u32::MAX` before the first).
    pub cache_year: u32,
    /// λ times the drivers, deficits per year.
    pub acquisition: f64,
    /// exp(−growth·(age − 70)): the age factor of every repair rate.
    pub repair_scale: f64,
    /// exp(d·(age − 75)): the age factor of the J-CHS acquisition weight.
    pub jchs_age: f64,
    /// Certification hazard at score 0 (age, social participation), per year.
    pub cert_base: f64,
    /// Mortality hazard ratio of the current FI.
    pub hazard_ratio: f64,
    /// Event clocks: the cumulative hazard left before the next deficit acquisition or
    /// repair, and before the next long-term-care transition (certification, then
    /// institutionalisation). Each is an Exp(1) budget spent by rate × time and redrawn when
    /// it runs out, so a month without an event needs no random draw; exact for rates that
    /// are constant between events and refreshes.
    pub deficit_clock: f64,
    pub ltc_clock: f64,
    /// Memo of the acquisition and repair rates for (deficits, acquisition, repair scale)
    /// (they change only at events and refreshes; NaN = none yet).
    pub rates_deficits: u32,
    pub rates_acquisition: f64,
    pub rates_repair_scale: f64,
    pub rate_acq: f64,
    pub rate_rep: f64,
    /// Memo of the certification hazard for (score, base hazard) (NaN = none yet).
    pub cert_score: f64,
    pub cert_base_key: f64,
    pub cert_h: f64,
    /// Multipliers of deficit acquisition and of every repair rate set by an exercise and
    /// nutrition programme (1 otherwise; applied at the refresh).
    pub acq_factor: f32,
    pub repair_factor: f32,
}

impl FrState {
    /// Number of deficits present.
    #[inline]
    pub fn count(&self) -> u32 {
        self.deficits.count_ones()
    }
    /// The frailty index: deficits present over [`items::N`].
    #[inline]
    pub fn fi(&self) -> f64 {
        f64::from(self.count()) / f64::from(items::N)
    }
    /// Number of J-CHS criteria met.
    #[inline]
    pub fn jchs_count(&self) -> u32 {
        (self.deficits & items::JCHS_MASK).count_ones()
    }
    pub fn phenotype(&self) -> Phenotype {
        kcl::phenotype(self.jchs_count())
    }
    /// Kihon Checklist total (the KCL items present).
    #[inline]
    pub fn kcl_total(&self) -> u32 {
        (self.deficits & items::KCL_MASK).count_ones()
    }
    /// The 25 Kihon Checklist answers this state implies (leaving the model).
    pub fn kcl_answers(&self) -> KclAnswers {
        let mut yes = [false; kcl::KCL_ITEMS];
        for (i, y) in yes.iter_mut().enumerate() {
            let present = self.deficits >> i & 1 == 1;
            *y = present != kcl::scored_on_no(i + 1);
        }
        yes
    }
    pub fn kcl_score(&self) -> KclScore {
        kcl::score_kcl(&self.kcl_answers())
    }
    /// Replaces the Kihon Checklist items by a screening's answers (entering the model);
    /// the other items are kept. Item 12 follows the answers here and the BMI afterwards.
    pub fn set_kcl_answers(&mut self, yes: &KclAnswers) {
        let mut kcl_bits = 0u32;
        for (i, &y) in yes.iter().enumerate() {
            if kcl::item_point(i + 1, y) == 1 {
                kcl_bits |= 1 << i;
            }
        }
        self.deficits = (self.deficits & !items::KCL_MASK) | kcl_bits;
    }
    /// Sets the three J-CHS criteria that are not Kihon Checklist items (weakness, slowness,
    /// low activity) from measured J-CHS inputs, and the two that are (items 11 and 25).
    pub fn set_jchs(&mut self, x: &kcl::JchsInputs) {
        let c = kcl::jchs_criteria(x);
        let bits = [
            items::WEIGHT_LOSS,
            items::WEAKNESS,
            items::EXHAUSTION,
            items::SLOWNESS,
            items::LOW_ACTIVITY,
        ];
        for (on, bit) in c.iter().zip(bits) {
            if *on {
                self.deficits |= 1 << bit;
            } else {
                self.deficits &= !(1 << bit);
            }
        }
    }
    pub fn certified(&self) -> bool {
        self.ltc != level::NONE
    }
}

/// Indices of the frailty metrics, relative to [`Frailty::metric_base`].
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

/// The frailty model: resolved parameters and the tables derived from them.
#[derive(Clone, Debug)]
pub struct Frailty {
    pub p: FrailtyParams,
    /// Index of the first frailty metric within the model's metric list.
    pub metric_base: usize,
    n_max: u32,
    ln_hr_per_deficit: f64,
    /// Expected FI hazard ratio of the reference population by single year of age 0–120.
    population_hr: Vec<f64>,
    /// Baseline certification log-odds at score 0 by single year of age 0–120.
    init_cert_logit: Vec<f64>,
    /// Care-need score thresholds between the seven levels.
    level_thresholds: [f64; 6],
    cost_kyen_per_year: [f64; 8],
    inst_rate: [f64; 5],
    /// `normal_grid(REFERENCE_POINTS)`, computed once (every person's initial state
    /// integrates over it).
    reference_grid: Vec<(f64, f64)>,
    /// The reference population's mean deficit count by age on a grid of
    /// 1/`MEAN_COUNT_STEPS_PER_YEAR` years, 0–120 (linear interpolation between points
    /// differs from the integral by at most 3.5e-6 relative, at the kinks of the reference
    /// profile: test `mean_count_table_matches_the_integral`; the integral costs 121
    /// exponentials, and every person's initial state needs it).
    mean_count_by_age: Vec<f64>,
}

/// What [`Frailty::build_tables`] computes from the parameters.
#[derive(Clone)]
struct Tables {
    population_hr: Vec<f64>,
    init_cert_logit: Vec<f64>,
    level_thresholds: [f64; 6],
    mean_count_by_age: Vec<f64>,
}

/// Tables of the last few parameter sets (key: the parameters' `Debug` text, exact for
/// every f64).
static TABLES: std::sync::Mutex<Vec<(String, Tables)>> = std::sync::Mutex::new(Vec::new());
const TABLES_KEPT: usize = 8;

fn cached_tables(key: &str) -> Option<Tables> {
    let cache = TABLES.lock().ok()?;
    cache.iter().find(|(k, _)| k == key).map(|(_, t)| t.clone())
}

fn store_tables(key: String, t: Tables) {
    if let Ok(mut cache) = TABLES.lock() {
        if cache.len() >= TABLES_KEPT {
            cache.remove(0);
        }
        cache.push((key, t));
    }
}

const TABLE_AGES: usize = 121;
const REFERENCE_POINTS: usize = 121;
const MEAN_COUNT_STEPS_PER_YEAR: usize = 100;

/// Standard-normal grid for the reference-population integrals: midpoints on [−6, 6].
fn normal_grid(points: usize) -> impl Iterator<Item = (f64, f64)> {
    let h = 12.0 / points as f64;
    let norm = (2.0 * std::f64::consts::PI).sqrt();
    (0..points).map(move |i| {
        let x = -6.0 + (i as f64 + 0.5) * h;
        (x, h * (-0.5 * x * x).exp_det() / norm)
    })
}

/// Log-normal with the given mean and SD: (μ, σ) of its log.
fn lognormal(mean: f64, sd: f64) -> (f64, f64) {
    let s2 = (1.0 + (sd / mean).powi(2)).ln();
    (mean.ln() - 0.5 * s2, s2.sqrt())
}

#[inline]
fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp_det())
}

/// The `k`-th (0-based) set bit of `mask` (`k` < popcount).
#[inline]
fn nth_set_bit(mut mask: u32, k: u32) -> u32 {
    for _ in 0..k {
        mask &= mask - 1;
    }
    mask.trailing_zeros()
}

/// Picks one bit of `a ∪ b` with weight `wa` for each bit of `a` and `wb` for each of `b`,
/// by inverting the cumulative weight at `u·total` (one uniform). `None` if both are empty.
#[inline]
fn pick(a: u32, wa: f64, b: u32, wb: f64, u: f64) -> Option<u32> {
    let (na, nb) = (a.count_ones(), b.count_ones());
    let (ta, tb) = (wa * f64::from(na), wb * f64::from(nb));
    if ta + tb <= 0.0 {
        return None;
    }
    let x = u * (ta + tb);
    if x < ta && na > 0 {
        Some(nth_set_bit(a, ((x / wa) as u32).min(na - 1)))
    } else if nb > 0 {
        Some(nth_set_bit(b, (((x - ta) / wb) as u32).min(nb - 1)))
    } else {
        Some(nth_set_bit(a, na - 1))
    }
}

impl Frailty {
    pub fn new(p: FrailtyParams, metric_base: usize) -> Self {
        let n_max = (p.ceiling * f64::from(items::N)).floor() as u32;
        let ln_hr_per_deficit = p.hr_per_001.ln() * 100.0 / f64::from(items::N);
        let mut f = Frailty {
            p,
            metric_base,
            n_max,
            ln_hr_per_deficit,
            population_hr: Vec::new(),
            init_cert_logit: Vec::new(),
            level_thresholds: [0.0; 6],
            cost_kyen_per_year: [
                0.0,
                p.cost_support1,
                p.cost_support2,
                p.cost_care1,
                p.cost_care2,
                p.cost_care3,
                p.cost_care4,
                p.cost_care5,
            ]
            .map(|yen_per_month| yen_per_month * 12.0 / 1000.0),
            inst_rate: [
                p.inst_care1,
                p.inst_care2,
                p.inst_care3,
                p.inst_care4,
                p.inst_care5,
            ],
            reference_grid: normal_grid(REFERENCE_POINTS).collect(),
            mean_count_by_age: Vec::new(),
        };
        // The tables depend on the parameters only (and cost ~0.25 s): built once per
        // parameter set and process, then copied (every scenario of a comparison, every
        // replicate of a run without frailty draws).
        let key = format!("{:?}", f.p);
        match cached_tables(&key) {
            Some(t) => f.set_tables(t),
            None => {
                f.build_tables();
                store_tables(key, f.tables());
            }
        }
        f
    }

    fn tables(&self) -> Tables {
        Tables {
            population_hr: self.population_hr.clone(),
            init_cert_logit: self.init_cert_logit.clone(),
            level_thresholds: self.level_thresholds,
            mean_count_by_age: self.mean_count_by_age.clone(),
        }
    }

    fn set_tables(&mut self, t: Tables) {
        self.population_hr = t.population_hr;
        self.init_cert_logit = t.init_cert_logit;
        self.level_thresholds = t.level_thresholds;
        self.mean_count_by_age = t.mean_count_by_age;
    }

    /// The reference population's deficit-count distribution at `age` on a grid: (count as a
    /// real number, weight), capped at the ceiling.
    fn reference_counts(&self, age: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
        let (m, s) = params::reference_fi(age);
        let (mu, sigma) = lognormal(m, s);
        let cap = f64::from(self.n_max);
        self.reference_grid.iter().map(move |&(x, w)| {
            (
                ((mu + sigma * x).exp_det() * f64::from(items::N)).min(cap),
                w,
            )
        })
    }

    fn build_tables(&mut self) {
        self.mean_count_by_age = (0..=(TABLE_AGES - 1) * MEAN_COUNT_STEPS_PER_YEAR)
            .map(|i| self.reference_mean_count(i as f64 / MEAN_COUNT_STEPS_PER_YEAR as f64))
            .collect();
        // Expected FI hazard ratio by age in the reference population.
        self.population_hr = (0..TABLE_AGES)
            .map(|a| {
                self.reference_counts(a as f64)
                    .map(|(n, w)| w * (self.ln_hr_per_deficit * n).exp_det())
                    .sum()
            })
            .collect();
        // Baseline certification: logit P = a(age) + β·score, with a(age) such that the
        // reference population's mean equals the MHLW rate at that age.
        let beta = self.p.cert_per_deficit;
        let sd = self.p.score_sd;
        let z_grid: Vec<(f64, f64)> = normal_grid(25).collect();
        self.init_cert_logit = (0..TABLE_AGES)
            .map(|a| {
                let target = params::certification_rate(a as f64);
                if target <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                let counts: Vec<(f64, f64)> = self.reference_counts(a as f64).collect();
                let mean_at = |icpt: f64| -> f64 {
                    let mut s = 0.0;
                    for &(n, wn) in &counts {
                        for &(z, wz) in &z_grid {
                            s += wn * wz * logistic(icpt + beta * (n + sd * z));
                        }
                    }
                    s
                };
                let (mut lo, mut hi) = (-40.0, 20.0);
                for _ in 0..50 {
                    let mid = 0.5 * (lo + hi);
                    if mean_at(mid) < target {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                0.5 * (lo + hi)
            })
            .collect();
        // Level thresholds: the score distribution of the certified reference population
        // (bands weighted by the MHLW certified counts) cut at the MHLW level mix.
        let mut pool: Vec<(f64, f64)> = Vec::new();
        for (b, &mid) in params::CERTIFICATION_MIDPOINTS.iter().enumerate() {
            let start = pool.len();
            let icpt = self.init_cert_logit[mid as usize];
            for (n, wn) in self.reference_counts(mid) {
                for &(z, wz) in &z_grid {
                    let s = n + sd * z;
                    pool.push((s, wn * wz * logistic(icpt + beta * s)));
                }
            }
            let mass: f64 = pool[start..].iter().map(|x| x.1).sum();
            let scale = params::CERTIFIED_MILLIONS[b] / mass.max(1e-300);
            for x in &mut pool[start..] {
                x.1 *= scale;
            }
        }
        pool.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = pool.iter().map(|x| x.1).sum();
        let level_total: f64 = params::LEVEL_COUNTS.iter().sum();
        let mut cum_target = 0.0;
        let mut raw = [0.0; 6];
        let mut acc = 0.0;
        let mut it = pool.iter();
        for (k, t) in raw.iter_mut().enumerate() {
            cum_target += params::LEVEL_COUNTS[k] / level_total * total;
            let mut last = f64::NEG_INFINITY;
            while acc < cum_target {
                match it.next() {
                    Some(&(s, w)) => {
                        acc += w;
                        last = s;
                    }
                    None => break,
                }
            }
            *t = last;
        }
        // The calibrated spread of the levels above support 1.
        for (t, r) in self.level_thresholds.iter_mut().zip(raw) {
            *t = raw[0] + (r - raw[0]) * self.p.level_spread;
        }
    }

    /// Care-need score: deficit count plus the person's persistent effect.
    #[inline]
    pub fn need_score(&self, st: &FrState) -> f64 {
        f64::from(st.count()) + self.p.score_sd * st.need_z
    }

    /// Certification level (1–7) for a care-need score.
    #[inline]
    pub fn level_for_score(&self, score: f64) -> u8 {
        1 + self
            .level_thresholds
            .iter()
            .filter(|&&t| score >= t)
            .count() as u8
    }

    pub fn level_thresholds(&self) -> &[f64; 6] {
        &self.level_thresholds
    }

    /// Monthly LTC cost (yen) of a level.
    pub fn monthly_cost_yen(&self, ltc: u8) -> f64 {
        self.cost_kyen_per_year[ltc.min(level::CARE5) as usize] * 1000.0 / 12.0
    }

    /// Deficit count ceiling (acquisition stops there).
    pub fn max_deficits(&self) -> u32 {
        self.n_max
    }

    #[inline]
    fn fi_hazard_ratio(&self, count: u32) -> f64 {
        (self.ln_hr_per_deficit * f64::from(count)).exp_det()
    }

    /// Mean deficit count of the reference population at `age`.
    fn reference_mean_count(&self, age: f64) -> f64 {
        self.reference_counts(age).map(|(n, w)| n * w).sum()
    }

    /// [`Self::reference_mean_count`] interpolated in the table built at construction.
    #[inline]
    fn reference_mean_count_fast(&self, age: f64) -> f64 {
        let t = &self.mean_count_by_age;
        let x = age.clamp(0.0, (TABLE_AGES - 1) as f64) * MEAN_COUNT_STEPS_PER_YEAR as f64;
        let i = engine::math::floor_index(x, t.len() - 2);
        let w = x - i as f64;
        t[i] * (1.0 - w) + t[i + 1] * w
    }

    /// The frailty state of a person at the start of the run, consistent with their
    /// baseline FI, BMI, age and (65+) the MHLW certification rate at their age.
    pub fn init(&self, run: RunKey, b: &Baseline) -> FrState {
        let p = &self.p;
        let c = &b.covariates;
        let mut s = Stream::new(StreamKey::new(run, INIT), b.id, 0);
        let (u_round, need_z, u_social, u_cert, u_inst) = (
            s.uniform(),
            s.std_normal(),
            s.uniform(),
            s.uniform(),
            s.uniform(),
        );
        let fi = if c.frailty_index.is_finite() {
            c.frailty_index.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Stochastic rounding keeps the cohort's mean FI.
        let target = ((fi * f64::from(items::N) + u_round).floor() as u32).min(self.n_max);
        let mut deficits: u32 = if c.bmi_kg_m2 < 18.5 {
            1 << items::LOW_BMI
        } else {
            0
        };
        // Which items: the stationary composition of the process (acquisition weight over
        // repair rate per class) at the person's FI.
        let wj = p.init_jchs_factor
            * p.jchs_weight
            * (p.jchs_weight_per_fi * fi + p.jchs_weight_per_year * (b.age_years - 75.0)).exp_det()
            / p.repair_jchs.max(1e-9);
        let wo = 1.0 / p.repair_other.max(1e-9);
        while deficits.count_ones() < target {
            let absent = !deficits;
            match pick(
                absent & items::JCHS_MASK,
                wj,
                absent & items::OTHER_MASK,
                wo,
                s.uniform(),
            ) {
                Some(bit) => deficits |= 1 << bit,
                None => break,
            }
        }
        let n0 = f64::from(deficits.count_ones());
        let k = p.heterogeneity_shape;
        let exposure = (k + n0) / (k + self.reference_mean_count_fast(b.age_years));
        let mut st = FrState {
            deficits,
            exposure,
            need_z,
            social: u_social < p.social_share,
            ltc: level::NONE,
            institution: false,
            cvd_seen: CVD_FLAGS
                .iter()
                .filter(|f| c.conditions.contains(**f))
                .fold(0, |acc, f| acc | f.0),
            cache_year: u32::MAX,
            acquisition: 0.0,
            repair_scale: 1.0,
            jchs_age: 1.0,
            cert_base: 0.0,
            hazard_ratio: 1.0,
            deficit_clock: 0.0,
            ltc_clock: 0.0,
            rates_deficits: 0,
            rates_acquisition: f64::NAN,
            rates_repair_scale: f64::NAN,
            rate_acq: 0.0,
            rate_rep: 0.0,
            cert_score: f64::NAN,
            cert_base_key: f64::NAN,
            cert_h: 0.0,
            acq_factor: 1.0,
            repair_factor: 1.0,
        };
        let mut clocks = Stream::new(StreamKey::new(run, CLOCKS), b.id, 0);
        st.deficit_clock = clocks.exp1();
        st.ltc_clock = clocks.exp1();
        st.hazard_ratio = self.fi_hazard_ratio(st.count());
        if b.age_years >= 65.0 {
            let a = (b.age_years.floor() as usize).min(TABLE_AGES - 1);
            let score = self.need_score(&st);
            if u_cert < logistic(self.init_cert_logit[a] + p.cert_per_deficit * score) {
                st.ltc = self.level_for_score(score);
                st.institution = u_inst < params::FACILITY_SHARE[st.ltc as usize - 1];
            }
        }
        st
    }

    /// Social participation in effect: not housebound, not in a facility.
    #[inline]
    fn social_active(st: &FrState) -> bool {
        st.social && !st.institution && st.deficits >> items::HOUSEBOUND & 1 == 0
    }

    /// The yearly refresh of the slow terms: λ with its drivers, the age factor of repair,
    /// the age part of the certification hazard.
    fn refresh<S: HasFrailty + HasDm>(&self, p: &mut Patient<S>) {
        let prm = &self.p;
        let age = p.age_years;
        let now = p.now;
        let dm = p.state.dm();
        let mut m = 1.0;
        if dm.has_diabetes() {
            m *= prm.driver_diabetes
                * prm
                    .driver_diabetes_per_decade
                    .powf(dm.duration_years(age) / 10.0);
        }
        for on in [dm.blind, dm.amputations > 0, dm.esrd] {
            if on {
                m *= prm.driver_complication;
            }
        }
        for (flag, hr) in [
            (Conditions::MI, prm.driver_mi),
            (Conditions::STROKE, prm.driver_stroke),
            (Conditions::HEART_FAILURE, prm.driver_hf),
        ] {
            if now.conditions.contains(flag) {
                m *= hr;
            }
        }
        let steps = if now.steps_per_day.is_finite() {
            now.steps_per_day.clamp(0.0, prm.steps_cap)
        } else {
            prm.steps_reference
        };
        m *= (prm.steps_log_per_1000 * (prm.steps_reference - steps) / 1000.0).exp_det();
        if now.bmi_kg_m2 < 18.5 {
            m *= prm.driver_underweight;
        } else if now.bmi_kg_m2 >= 30.0 {
            m *= prm.driver_obese;
        }
        let st = p.state.fr_mut();
        let social = Self::social_active(st);
        if social {
            m *= prm.driver_social;
        }
        // Below the floor age the reference FI is nearly flat (UK Biobank): intensity and
        // recovery are held at their values there.
        let a = age.max(prm.growth_floor_age) - 70.0;
        st.acquisition = prm.acquisition
            * (prm.acquisition_growth * a).exp_det()
            * st.exposure
            * m
            * f64::from(st.acq_factor);
        st.repair_scale = (-prm.recovery_time_growth * a).exp_det() * f64::from(st.repair_factor);
        st.jchs_age = (prm.jchs_weight_per_year * (age - 75.0)).exp_det();
        st.cert_base = if age >= 65.0 {
            (prm.cert_log_rate
                + prm.cert_per_year * (age - 80.0)
                + prm.cert_per_deficit * -8.0
                + if social { prm.cert_social_hr.ln() } else { 0.0 })
            .exp_det()
        } else {
            0.0
        };
    }

    /// Acquires one deficit chosen among the absent drawn items (no-op at the ceiling).
    fn acquire(&self, st: &mut FrState, u: f64) {
        if st.count() >= self.n_max {
            return;
        }
        let absent = !st.deficits;
        let wj = self.p.jchs_weight * st.jchs_age * (self.p.jchs_weight_per_fi * st.fi()).exp_det();
        if let Some(bit) = pick(
            absent & items::JCHS_MASK,
            wj,
            absent & items::OTHER_MASK,
            1.0,
            u,
        ) {
            st.deficits |= 1 << bit;
        }
    }

    /// Repairs one present drawn deficit, chosen in proportion to its repair rate.
    fn repair(&self, st: &mut FrState, u: f64) {
        if let Some(bit) = pick(
            st.deficits & items::JCHS_MASK,
            self.p.repair_jchs,
            st.deficits & items::OTHER_MASK,
            self.p.repair_other,
            u,
        ) {
            st.deficits &= !(1 << bit);
        }
    }

    /// Deficit acquisition and repair, cardiovascular events, long-term care and its cost
    /// over one step (the events phase, after the diabetes events).
    pub fn events<S: HasFrailty + HasDm>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        rec: &mut Recorder,
    ) {
        let dt = ctx.dt_years;
        let id = p.id();
        let before = p.state.fr().deficits;
        let refreshed = p.state.fr().cache_year != ctx.year;
        if refreshed {
            p.state.fr_mut().cache_year = ctx.year;
            self.refresh(p);
        }

        // Acute cardiovascular events: a flag not seen before.
        let mut cvd_now = 0u16;
        for f in CVD_FLAGS {
            if p.now.conditions.contains(f) {
                cvd_now |= f.0;
            }
        }
        let new_cvd = cvd_now & !p.state.fr().cvd_seen;
        if new_cvd != 0 {
            let mut s = ctx.stream(ACUTE, id);
            let mut extra = 0.0;
            for (flag, k) in [
                (Conditions::MI, self.p.mi_deficits),
                (Conditions::STROKE, self.p.stroke_deficits),
                (Conditions::HEART_FAILURE, self.p.hf_deficits),
            ] {
                if new_cvd & flag.0 != 0 {
                    extra += k;
                }
            }
            // A fractional number of deficits is rounded stochastically.
            let k = (extra + s.uniform()).floor() as u32;
            let st = p.state.fr_mut();
            st.cvd_seen |= new_cvd;
            for _ in 0..k {
                self.acquire(st, s.uniform());
            }
            self.refresh(p);
        }

        // Item 12 follows the BMI; at the ceiling it displaces a drawn deficit. The step's
        // draws are made only in a step with an event (or this rare displacement).
        let low_bmi = p.now.bmi_kg_m2 < 18.5;
        let mut draws: Option<Stream> = None;
        {
            let st = p.state.fr_mut();
            let has = st.deficits >> items::LOW_BMI & 1 == 1;
            if low_bmi != has {
                st.deficits ^= 1 << items::LOW_BMI;
                if low_bmi && st.count() > self.n_max {
                    let s = draws.get_or_insert_with(|| ctx.stream(DEFICITS, id));
                    self.repair(st, s.uniform());
                }
            }
        }

        // Acquisition and repair: the event clock is spent by the total rate; when it runs
        // out within the step, the event happens there, the clock is redrawn and the rest of
        // the step is spent at the new rates (exact: Gillespie within the step).
        {
            let prm = &self.p;
            let st = p.state.fr_mut();
            let acq_rate = |st: &FrState| {
                let n = st.count();
                if n >= self.n_max {
                    0.0
                } else {
                    st.acquisition * (1.0 - f64::from(n) / f64::from(self.n_max))
                }
            };
            let rep_rate = |st: &FrState| {
                st.repair_scale
                    * (prm.repair_jchs * f64::from((st.deficits & items::JCHS_MASK).count_ones())
                        + prm.repair_other
                            * f64::from((st.deficits & items::OTHER_MASK).count_ones()))
            };
            let mut left = dt;
            for _ in 0..64 {
                if st.deficits != st.rates_deficits
                    || st.acquisition != st.rates_acquisition
                    || st.repair_scale != st.rates_repair_scale
                {
                    st.rate_acq = acq_rate(st);
                    st.rate_rep = rep_rate(st);
                    st.rates_deficits = st.deficits;
                    st.rates_acquisition = st.acquisition;
                    st.rates_repair_scale = st.repair_scale;
                }
                let (a, r) = (st.rate_acq, st.rate_rep);
                let total = a + r;
                if total <= 0.0 {
                    break;
                }
                let spent = total * left;
                if spent < st.deficit_clock {
                    st.deficit_clock -= spent;
                    break;
                }
                left -= st.deficit_clock / total;
                let s = draws.get_or_insert_with(|| ctx.stream(DEFICITS, id));
                let (u_kind, u_item, u_clock) = (s.uniform(), s.uniform(), s.uniform());
                if u_kind * total < a {
                    self.acquire(st, u_item);
                } else {
                    self.repair(st, u_item);
                }
                st.deficit_clock = -u_clock.ln();
            }
        }

        if refreshed || p.state.fr().deficits != before {
            let st = p.state.fr_mut();
            st.hazard_ratio = self.fi_hazard_ratio(st.count());
            p.now.frailty_index = p.state.fr().fi();
        }

        self.long_term_care(ctx, p, rec);
    }

    /// Certification, level changes and institutionalisation over one step, and its cost.
    /// Certification and institutionalisation are hazards spent from the person's LTC clock;
    /// a draw is made only in the step of a transition (and at the 65th birthday).
    fn long_term_care<S: HasFrailty>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        let dt = ctx.dt_years;
        let base = self.metric_base;
        let age = p.age_years;
        let id = p.id();
        let st = p.state.fr_mut();
        if st.ltc == level::NONE {
            if age >= 65.0 {
                // The need score only where it is used (not before 65 without care).
                let score = self.need_score(st);
                rec.at_risk(base + metric::LTC_CERTIFICATION, dt);
                // Turning 65 (entry into category-1 insurance): the certification already
                // present at 65 (category-2 certification and need that predates it) is
                // drawn as at baseline; afterwards, the hazard.
                let certify = if age - dt < 65.0 {
                    let p0 = logistic(self.init_cert_logit[65] + self.p.cert_per_deficit * score);
                    ctx.stream(LTC, id).uniform() < p0
                } else {
                    if score != st.cert_score || st.cert_base != st.cert_base_key {
                        st.cert_h = st.cert_base * (self.p.cert_per_deficit * score).exp_det();
                        st.cert_score = score;
                        st.cert_base_key = st.cert_base;
                    }
                    engine::rng::spend_clock(&mut st.ltc_clock, st.cert_h * dt, || {
                        ctx.stream(LTC, id)
                    })
                };
                if certify {
                    st.ltc = self.level_for_score(score);
                    rec.event(base + metric::LTC_CERTIFICATION);
                }
            }
        } else {
            st.ltc = self.level_for_score(self.need_score(st));
            if !st.institution && st.ltc >= level::CARE1 {
                let h = self.inst_rate[(st.ltc - level::CARE1) as usize];
                if engine::rng::spend_clock(&mut st.ltc_clock, h * dt, || ctx.stream(LTC, id)) {
                    st.institution = true;
                }
            }
        }
        rec.value(
            base + metric::LTC_COST,
            self.cost_kyen_per_year[st.ltc as usize],
        );
    }

    /// Mortality hazard ratio of the person's FI (HR per 0.01 FI, Kojima 2018).
    #[inline]
    pub fn hazard_ratio<S: HasFrailty>(&self, p: &Patient<S>) -> f64 {
        p.state.fr().hazard_ratio
    }

    /// Expected FI hazard ratio of the reference population at `age`: dividing the
    /// background by it keeps the population's all-cause mortality at the life table's.
    #[inline]
    pub fn population_hazard_ratio(&self, age: f64) -> f64 {
        let x = age.clamp(0.0, (TABLE_AGES - 1) as f64);
        let i = engine::math::floor_index(x, TABLE_AGES - 2);
        let w = x - i as f64;
        self.population_hr[i] * (1.0 - w) + self.population_hr[i + 1] * w
    }

    /// The yearly census.
    pub fn census<S: HasFrailty>(&self, p: &Patient<S>, rec: &mut Recorder) {
        let b = self.metric_base;
        let st = p.state.fr();
        let ph = st.phenotype();
        rec.flag(b + metric::ROBUST, ph == Phenotype::Robust);
        rec.flag(b + metric::PREFRAIL, ph == Phenotype::Prefrail);
        rec.flag(b + metric::FRAIL, ph == Phenotype::Frail);
        let kcl = st.kcl_total();
        rec.value(b + metric::KCL_SCORE, f64::from(kcl));
        rec.flag(b + metric::KCL_PREFRAIL, (4..8).contains(&kcl));
        rec.flag(b + metric::KCL_FRAIL, kcl >= 8);
        rec.flag(b + metric::SOCIAL, Self::social_active(st));
        rec.flag(b + metric::LTC_CERTIFIED, st.certified());
        for k in 0..7u8 {
            rec.flag(b + metric::LTC_LEVEL + k as usize, st.ltc == k + 1);
        }
        rec.flag(b + metric::LTC_INSTITUTION, st.institution);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model built from cached tables has the tables a fresh build gives, bit for bit;
    /// another parameter set gets its own.
    #[test]
    fn cached_tables_are_the_built_tables() {
        let params = crate::params::ParamSet::new(FrailtyParams::params());
        let p = FrailtyParams::from_set(&params).unwrap();
        let a = Frailty::new(p, 0);
        let b = Frailty::new(p, 3);
        let mut fresh = Frailty::new(p, 0);
        fresh.build_tables();
        let bits = |f: &Frailty| {
            let t = f.tables();
            let mut v: Vec<u64> = Vec::new();
            for x in [
                &t.population_hr,
                &t.init_cert_logit,
                &t.mean_count_by_age,
                &t.level_thresholds.to_vec(),
            ] {
                v.extend(x.iter().map(|y| y.to_bits()));
            }
            v
        };
        assert_eq!(bits(&a), bits(&fresh));
        assert_eq!(bits(&b), bits(&fresh));
        let mut q = p;
        q.cert_per_deficit *= 1.1;
        let c = Frailty::new(q, 0);
        assert_ne!(bits(&c), bits(&fresh));
        let mut fresh_q = Frailty::new(q, 0);
        fresh_q.build_tables();
        assert_eq!(bits(&c), bits(&fresh_q));
    }

    /// The interpolated reference mean used for every person's initial exposure stays close
    /// to the integral it replaces, at ages on and between the table's points.
    #[test]
    fn mean_count_table_matches_the_integral() {
        let params = crate::params::ParamSet::new(FrailtyParams::params());
        let f = Frailty::new(FrailtyParams::from_set(&params).unwrap(), 0);
        let mut worst = 0.0f64;
        for i in 0..24_000 {
            let age = i as f64 * 0.005 + 0.0013 * (i % 7) as f64;
            let (exact, fast) = (
                f.reference_mean_count(age),
                f.reference_mean_count_fast(age),
            );
            worst = worst.max((fast - exact).abs() / exact.max(1e-9));
        }
        assert!(worst < 1e-5, "worst relative difference {worst:e}");
    }
}
