//! The two instruments Japanese municipalities screen older people with, as pure functions:
//! the Kihon Checklist (基本チェックリスト, MHLW, 25 yes/no items) and the revised Japanese
//! Cardiovascular Health Study criteria (J-CHS 2020) of the frailty phenotype. Both map to
//! and from the frailty model's deficit items ([`super::items`]), so screening data can enter
//! the model and leave it in the form municipalities use.
//!
//! Item rules [V]: the MHLW form as printed by municipalities (久留米市 基本チェックリスト;
//! medicalalgorithms.com KCL page, shared frailty_japan.md §2.1 [S23]): items 1–8, 16 and 19
//! score 1 for "no", every other item scores 1 for "yes"; item 12 is BMI < 18.5 kg/m². Domain
//! flags (MHLW 介護予防 candidates, read in Kamasaki-type protocol text, bio-protocol r9853728 [V]):
//! items 1–20 ≥ 10; physical (6–10) ≥ 3; nutrition (11–12) both; oral (13–15) ≥ 2;
//! housebound: item 16; cognition (18–20) ≥ 1; depressive mood (21–25) ≥ 2. Total-score
//! categories 0–3 robust, 4–7 prefrail, ≥ 8 frail (Satake 2016 GGI, PMID 26171645 [V]).
//!
//! Revised J-CHS [V] (Satake & Arai 2020 GGI 20:992, as reproduced by NCGG and clinical
//! pages found by search): weight loss ≥ 2 kg in 6 months (= KCL item 11); grip strength
//! men < 28 kg, women < 18 kg; exhaustion "in the last 2 weeks felt tired without a reason"
//! (= KCL item 25); usual gait speed < 1.0 m/s; neither light exercise nor regular sport even
//! once a week. 3–5 frail, 1–2 prefrail, 0 robust.
//!
//! Must never: allocate, or panic on any input.

use engine::Sex;

/// Number of Kihon Checklist items.
pub const KCL_ITEMS: usize = 25;

/// KCL item numbers (1-based) that score 1 when the answer is "no".
pub const KCL_SCORED_ON_NO: [usize; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 16, 19];

/// The 25 answers as given: `yes[i]` is true when item `i + 1` was answered "yes" (item 12:
/// when BMI < 18.5 kg/m²).
pub type KclAnswers = [bool; KCL_ITEMS];

/// Whether item `item` (1-based) scores on "no".
#[inline]
pub const fn scored_on_no(item: usize) -> bool {
    matches!(item, 1..=8 | 16 | 19)
}

/// Score of one item (1-based `item`) given its answer.
#[inline]
pub const fn item_point(item: usize, yes: bool) -> u8 {
    (yes != scored_on_no(item)) as u8
}

/// KCL total-score category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KclCategory {
    /// 0–3 points.
    Robust,
    /// 4–7 points.
    Prefrail,
    /// 8 or more points.
    Frail,
}

/// Total-score category: 0–3 robust, 4–7 prefrail, ≥ 8 frail (Satake 2016).
#[inline]
pub const fn kcl_category(total: u8) -> KclCategory {
    if total >= 8 {
        KclCategory::Frail
    } else if total >= 4 {
        KclCategory::Prefrail
    } else {
        KclCategory::Robust
    }
}

/// A scored Kihon Checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KclScore {
    /// Points per item (0 or 1), item `i + 1` at index `i`.
    pub points: [u8; KCL_ITEMS],
    /// Sum of all 25 points.
    pub total: u8,
    /// Items 1–20 (everything except mood): ≥ 10 is the MHLW overall risk flag.
    pub items_1_20: u8,
    pub iadl: u8,
    pub physical: u8,
    pub nutrition: u8,
    pub oral: u8,
    pub housebound: u8,
    pub cognition: u8,
    pub mood: u8,
}

impl KclScore {
    pub fn category(&self) -> KclCategory {
        kcl_category(self.total)
    }
    /// MHLW flag: 10 or more of items 1–20.
    pub fn overall_risk(&self) -> bool {
        self.items_1_20 >= 10
    }
    /// MHLW flag: 3 or more of the 5 physical items (6–10).
    pub fn physical_decline(&self) -> bool {
        self.physical >= 3
    }
    /// MHLW flag: both nutrition items (11 weight loss and 12 BMI < 18.5).
    pub fn undernutrition(&self) -> bool {
        self.nutrition >= 2
    }
    /// MHLW flag: 2 or more of the 3 oral items (13–15).
    pub fn oral_decline(&self) -> bool {
        self.oral >= 2
    }
    /// MHLW flag: item 16 ("goes out at least once a week") answered "no".
    pub fn housebound_flag(&self) -> bool {
        self.points[15] == 1
    }
    /// MHLW flag: 1 or more of the 3 cognition items (18–20).
    pub fn cognitive_decline(&self) -> bool {
        self.cognition >= 1
    }
    /// MHLW flag: 2 or more of the 5 mood items (21–25).
    pub fn depressive_mood(&self) -> bool {
        self.mood >= 2
    }
}

/// Scores a Kihon Checklist from its 25 answers (pure; every input is valid).
pub fn score_kcl(yes: &KclAnswers) -> KclScore {
    let mut points = [0u8; KCL_ITEMS];
    for (i, (p, &y)) in points.iter_mut().zip(yes.iter()).enumerate() {
        *p = item_point(i + 1, y);
    }
    let sum = |lo: usize, hi: usize| points[lo - 1..hi].iter().sum::<u8>();
    KclScore {
        points,
        total: sum(1, 25),
        items_1_20: sum(1, 20),
        iadl: sum(1, 5),
        physical: sum(6, 10),
        nutrition: sum(11, 12),
        oral: sum(13, 15),
        housebound: sum(16, 17),
        cognition: sum(18, 20),
        mood: sum(21, 25),
    }
}

/// Frailty phenotype state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phenotype {
    Robust,
    Prefrail,
    Frail,
}

/// Phenotype from the number of J-CHS criteria met: 0 robust, 1–2 prefrail, ≥ 3 frail.
#[inline]
pub const fn phenotype(criteria_met: u32) -> Phenotype {
    match criteria_met {
        0 => Phenotype::Robust,
        1 | 2 => Phenotype::Prefrail,
        _ => Phenotype::Frail,
    }
}

/// The measurements and answers the revised J-CHS criteria use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JchsInputs {
    pub sex: Sex,
    /// "Have you lost 2 kg or more in the past 6 months (unintentionally)?" (KCL item 11).
    pub weight_loss_2kg_6_months: bool,
    /// Dominant-hand (or best) grip strength, kg.
    pub grip_kg: f64,
    /// "In the last 2 weeks, have you felt tired without a reason?" (KCL item 25).
    pub exhausted: bool,
    /// Usual gait speed, m/s.
    pub gait_speed_m_s: f64,
    /// "Do you do light exercise or gymnastics at least once a week?"
    pub light_exercise_weekly: bool,
    /// "Do you do regular exercise or sport at least once a week?"
    pub sport_weekly: bool,
}

/// Revised J-CHS grip thresholds: weakness below 28 kg (men), 18 kg (women).
pub const fn grip_threshold_kg(sex: Sex) -> f64 {
    match sex {
        Sex::Male => 28.0,
        Sex::Female => 18.0,
    }
}

/// Revised J-CHS slowness threshold: usual gait speed below 1.0 m/s.
pub const GAIT_THRESHOLD_M_S: f64 = 1.0;

/// The five revised J-CHS criteria, in the order shrinking, weakness, exhaustion, slowness,
/// low activity. A missing (NaN) measurement does not meet its criterion.
pub fn jchs_criteria(x: &JchsInputs) -> [bool; 5] {
    [
        x.weight_loss_2kg_6_months,
        x.grip_kg < grip_threshold_kg(x.sex),
        x.exhausted,
        x.gait_speed_m_s < GAIT_THRESHOLD_M_S,
        !x.light_exercise_weekly && !x.sport_weekly,
    ]
}

/// Number of revised J-CHS criteria met (0–5).
pub fn jchs_count(x: &JchsInputs) -> u32 {
    jchs_criteria(x).iter().filter(|&&c| c).count() as u32
}
