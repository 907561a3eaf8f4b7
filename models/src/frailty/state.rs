//! The frailty part of a person's state: the deficit items (a bit mask), long-term-care
//! levels, and the trait through which the frailty functions reach the state.
//!
//! Must never: hold anything but plain per-person values (the state is copied freely).

use super::kcl::{self, KclAnswers, KclScore, Phenotype};

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

/// A person state that holds a frailty part (see [`HasDm`](crate::diabetes::HasDm) for the pattern).
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
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
