//! QRISK3-2017: 10-year risk of cardiovascular disease (CHD, stroke or TIA) in England
//! (Hippisley-Cox J, Coupland C, Brindle P, BMJ 2017;357:j2099), the full algorithm.
//!
//! Coefficients, centring values and baseline survival were transcribed from ClinRisk's
//! open-source C implementation (LGPL; github sisuhealthgroup/qrisk3 `src/original/qrisk3.c`,
//! functions `cvd_female_raw` and `cvd_male_raw`) and compared with the R port validated
//! against that code (cran/QRISK3 `R/QRISK3-2017ver9.R`) [V]. ClinRisk asks that anyone
//! using a re-implementation check it reproduces qrisk.org: the tests reproduce the 21
//! published outputs of sisuhealthgroup/qrisk3 `src/qrisk3.test.js` (which were checked
//! against the ClinRisk code); the binary conditions (AF, SLE, …) are transcribed but not
//! covered by an independent output. This is not the official QRISK3 calculator.
//!
//! A Cox model: risk = 1 − S0^exp(a), with a the sum of ethnicity and smoking terms,
//! fractional polynomials of age (women: (age/10)^−2 and age/10; men: (age/10)^−1 and
//! (age/10)^3) and BMI ((BMI/10)^−2 and (BMI/10)^−2·ln(BMI/10)), the TC/HDL ratio, SBP, the
//! SBP standard deviation, the Townsend score (all centred), 12–13 binary conditions and
//! their interactions with the two age terms. The ClinRisk code takes age in whole years;
//! this takes it as given (the simulator's ages are continuous).

use super::{push_range, Field, RiskInput, SmokingCategory, Warning};
use engine::math::DetMath;

/// Interaction coefficients with one of the two age terms (0 where the sex's model has no
/// such term).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AgeInteractions {
    /// Ex, light, moderate, heavy smoker.
    pub smoking: [f64; 4],
    pub atrial_fibrillation: f64,
    pub corticosteroids: f64,
    pub erectile_dysfunction: f64,
    pub migraine: f64,
    pub ckd: f64,
    pub sle: f64,
    pub treated_hypertension: f64,
    pub type1: f64,
    pub type2: f64,
    pub bmi_1: f64,
    pub bmi_2: f64,
    pub family_history: f64,
    pub sbp: f64,
    pub townsend: f64,
}

/// One sex's QRISK3 model [V].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Qrisk3Coefficients {
    /// Baseline survival at 10 years.
    pub survivor_10y: f64,
    /// By ClinRisk `ethrisk` 1–9 (index 0 unused).
    pub ethnicity: [f64; 10],
    /// Non, ex, light, moderate, heavy.
    pub smoking: [f64; 5],
    /// Powers of age/10 for the two age terms (0 means ln, not used here).
    pub age_powers: (f64, f64),
    /// Centring values: age_1, age_2, bmi_1, bmi_2, ratio, SBP, SBP SD, Townsend.
    pub centre: [f64; 8],
    /// Coefficients of the same eight centred terms.
    pub continuous: [f64; 8],
    pub atrial_fibrillation: f64,
    pub atypical_antipsychotic: f64,
    pub corticosteroids: f64,
    pub erectile_dysfunction: f64,
    pub migraine: f64,
    pub rheumatoid_arthritis: f64,
    pub ckd: f64,
    pub severe_mental_illness: f64,
    pub sle: f64,
    pub treated_hypertension: f64,
    pub type1: f64,
    pub type2: f64,
    pub family_history: f64,
    pub age_1_x: AgeInteractions,
    pub age_2_x: AgeInteractions,
}

#[allow(clippy::excessive_precision)]
pub const WOMEN: Qrisk3Coefficients = Qrisk3Coefficients {
    survivor_10y: 0.988876402378082,
    ethnicity: [
        0.0,
        0.0,
        0.2804031433299542500,
        0.5629899414207539800,
        0.2959000085111651600,
        0.0727853798779825450,
        -0.1707213550885731700,
        -0.3937104331487497100,
        -0.3263249528353027200,
        -0.1712705688324178400,
    ],
    smoking: [
        0.0,
        0.1338683378654626200,
        0.5620085801243853700,
        0.6674959337750254700,
        0.8494817764483084700,
    ],
    age_powers: (-2.0, 1.0),
    centre: [
        0.053274843841791,
        4.332503318786621,
        0.154946178197861,
        0.144462317228317,
        3.476326465606690,
        123.130012512207030,
        9.002537727355957,
        0.392308831214905,
    ],
    continuous: [
        -8.1388109247726188,
        0.7973337668969909800,
        0.2923609227546005200,
        -4.1513300213837665,
        0.1533803582080255400,
        0.0131314884071034240,
        0.0078894541014586095,
        0.0772237905885901080,
    ],
    atrial_fibrillation: 1.5923354969269663,
    atypical_antipsychotic: 0.2523764207011555700,
    corticosteroids: 0.5952072530460185100,
    erectile_dysfunction: 0.0,
    migraine: 0.3012672608703450,
    rheumatoid_arthritis: 0.2136480343518194200,
    ckd: 0.6519456949384583300,
    severe_mental_illness: 0.1255530805882017800,
    sle: 0.7588093865426769300,
    treated_hypertension: 0.5093159368342300400,
    type1: 1.7267977510537347,
    type2: 1.0688773244615468,
    family_history: 0.4544531902089621300,
    age_1_x: AgeInteractions {
        smoking: [
            -4.7057161785851891,
            -2.7430383403573337,
            -0.8660808882939218200,
            0.9024156236971064800,
        ],
        atrial_fibrillation: 19.938034889546561,
        corticosteroids: -0.9840804523593628100,
        erectile_dysfunction: 0.0,
        migraine: 1.7634979587872999,
        ckd: -3.5874047731694114,
        sle: 19.690303738638292,
        treated_hypertension: 11.872809733921812,
        type1: -1.2444332714320747,
        type2: 6.8652342000009599,
        bmi_1: 23.802623412141742,
        bmi_2: -71.184947692087007,
        family_history: 0.9946780794043512700,
        sbp: 0.0341318423386154850,
        townsend: -1.0301180802035639,
    },
    age_2_x: AgeInteractions {
        smoking: [
            -0.0755892446431930260,
            -0.1195119287486707400,
            -0.1036630639757192300,
            -0.1399185359171838900,
        ],
        atrial_fibrillation: -0.0761826510111625050,
        corticosteroids: -0.1200536494674247200,
        erectile_dysfunction: 0.0,
        migraine: -0.0655869178986998590,
        ckd: -0.2268887308644250700,
        sle: 0.0773479496790162730,
        treated_hypertension: 0.0009685782358817443600,
        type1: -0.2872406462448894900,
        type2: -0.0971122525906954890,
        bmi_1: 0.5236995893366442900,
        bmi_2: 0.0457441901223237590,
        family_history: -0.0768850516984230380,
        sbp: -0.0015082501423272358,
        townsend: -0.0315934146749623290,
    },
};

#[allow(clippy::excessive_precision)]
pub const MEN: Qrisk3Coefficients = Qrisk3Coefficients {
    survivor_10y: 0.977268040180206,
    ethnicity: [
        0.0,
        0.0,
        0.2771924876030827900,
        0.4744636071493126800,
        0.5296172991968937100,
        0.0351001591862990170,
        -0.3580789966932791900,
        -0.4005648523216514000,
        -0.4152279288983017300,
        -0.2632134813474996700,
    ],
    smoking: [
        0.0,
        0.1912822286338898300,
        0.5524158819264555200,
        0.6383505302750607200,
        0.7898381988185801900,
    ],
    age_powers: (-1.0, 3.0),
    centre: [
        0.234766781330109,
        77.284080505371094,
        0.149176135659218,
        0.141913309693336,
        4.300998687744141,
        128.571578979492190,
        8.756621360778809,
        0.526304900646210,
    ],
    continuous: [
        -17.839781666005575,
        0.0022964880605765492,
        2.4562776660536358,
        -8.3011122314711354,
        0.1734019685632711100,
        0.0129101265425533050,
        0.0102519142912904560,
        0.0332682012772872950,
    ],
    atrial_fibrillation: 0.8820923692805465700,
    atypical_antipsychotic: 0.1304687985517351300,
    corticosteroids: 0.4548539975044554300,
    erectile_dysfunction: 0.2225185908670538300,
    migraine: 0.2558417807415991300,
    rheumatoid_arthritis: 0.2097065801395656700,
    ckd: 0.7185326128827438400,
    severe_mental_illness: 0.1213303988204716400,
    sle: 0.4401572174457522,
    treated_hypertension: 0.5165987108269547400,
    type1: 1.2343425521675175,
    type2: 0.8594207143093222100,
    family_history: 0.5405546900939015600,
    age_1_x: AgeInteractions {
        smoking: [
            -0.2101113393351634600,
            0.7526867644750319100,
            0.9931588755640579100,
            2.1331163414389076,
        ],
        atrial_fibrillation: 3.4896675530623207,
        corticosteroids: 1.1708133653489108,
        erectile_dysfunction: -1.5064009857454310,
        migraine: 2.3491159871402441,
        ckd: -0.5065671632722369400,
        sle: 0.0,
        treated_hypertension: 6.5114581098532671,
        type1: 5.3379864878006531,
        type2: 3.6461817406221311,
        bmi_1: 31.004952956033886,
        bmi_2: -111.29157184391643,
        family_history: 2.7808628508531887,
        sbp: 0.0188585244698658530,
        townsend: -0.1007554870063731,
    },
    age_2_x: AgeInteractions {
        smoking: [
            -0.0004985487027532612100,
            -0.0007987563331738541400,
            -0.0008370618426625129600,
            -0.0007840031915563728900,
        ],
        atrial_fibrillation: -0.0003499560834063604900,
        corticosteroids: -0.0002496045095297166,
        erectile_dysfunction: -0.0011058218441227373,
        migraine: 0.0001989644604147863100,
        ckd: -0.0018325930166498813,
        sle: 0.0,
        treated_hypertension: 0.0006383805310416501300,
        type1: 0.0006409780808752897,
        type2: -0.0002469569558886831500,
        bmi_1: 0.0050380102356322029,
        bmi_2: -0.0130744830025243190,
        family_history: -0.0002479180990739603700,
        sbp: -0.0000127187419158845700,
        townsend: -0.0000932996423232728880,
    },
};

/// ClinRisk `ethrisk` code (1–9) of an ethnic group.
#[inline]
fn ethrisk(x: &RiskInput) -> usize {
    use super::Ethnicity::*;
    match x.ethnicity {
        WhiteOrNotStated => 1,
        Indian => 2,
        Pakistani => 3,
        Bangladeshi => 4,
        OtherAsian => 5,
        BlackCaribbean => 6,
        BlackAfrican => 7,
        Chinese => 8,
        Other => 9,
    }
}

/// The smoking category used: the detailed one if given, else current smoker → moderate.
#[inline]
pub fn smoking_category(x: &RiskInput) -> SmokingCategory {
    match x.qrisk.smoking {
        Some(s) => s,
        None if x.smoker => SmokingCategory::Moderate,
        None => SmokingCategory::Non,
    }
}

#[inline]
fn smoke_index(s: SmokingCategory) -> usize {
    match s {
        SmokingCategory::Non => 0,
        SmokingCategory::Ex => 1,
        SmokingCategory::Light => 2,
        SmokingCategory::Moderate => 3,
        SmokingCategory::Heavy => 4,
    }
}

#[inline]
fn b(v: bool) -> f64 {
    super::indicator(v)
}

/// Sum of one age term's interactions.
#[inline]
fn interactions(
    c: &AgeInteractions,
    x: &RiskInput,
    smoke: usize,
    bmi_1: f64,
    bmi_2: f64,
    sbp: f64,
    town: f64,
) -> f64 {
    let q = &x.qrisk;
    let type1 = q.type1_diabetes;
    let type2 = x.diabetes && !type1;
    let smoking = if smoke == 0 {
        0.0
    } else {
        c.smoking[smoke - 1]
    };
    smoking
        + c.atrial_fibrillation * b(x.atrial_fibrillation)
        + c.corticosteroids * b(q.corticosteroids)
        + c.erectile_dysfunction * b(q.erectile_dysfunction && x.male())
        + c.migraine * b(q.migraine)
        + c.ckd * b(q.ckd_3_to_5)
        + c.sle * b(q.systemic_lupus)
        + c.treated_hypertension * b(x.bp_treated)
        + c.type1 * b(type1)
        + c.type2 * b(type2)
        + c.bmi_1 * bmi_1
        + c.bmi_2 * bmi_2
        + c.family_history * b(q.family_history_chd)
        + c.sbp * sbp
        + c.townsend * town
}

/// The linear predictor a (the model's sum; risk = 1 − S0^exp(a)).
#[inline]
pub fn linear_predictor(x: &RiskInput) -> f64 {
    let c = if x.male() { &MEN } else { &WOMEN };
    let q = &x.qrisk;
    let dage = x.age_years / 10.0;
    let age_1 = dage.powf_det(c.age_powers.0) - c.centre[0];
    let age_2 = dage.powf_det(c.age_powers.1) - c.centre[1];
    let dbmi = x.bmi_kg_m2 / 10.0;
    let bmi_m2 = 1.0 / (dbmi * dbmi);
    let bmi_1 = bmi_m2 - c.centre[2];
    let bmi_2 = bmi_m2 * dbmi.ln_det() - c.centre[3];
    let ratio = x.tc_mg_dl / x.hdl_mg_dl - c.centre[4];
    let sbp = x.sbp_mmhg - c.centre[5];
    // Missing SBP variability and Townsend score: see `warnings`.
    let sbp_sd = if q.sbp_sd_mmhg.is_nan() {
        0.0
    } else {
        q.sbp_sd_mmhg - c.centre[6]
    };
    let town = if q.townsend.is_nan() { 0.0 } else { q.townsend } - c.centre[7];
    let smoke = smoke_index(smoking_category(x));
    let type1 = q.type1_diabetes;
    let type2 = x.diabetes && !type1;
    let terms = [age_1, age_2, bmi_1, bmi_2, ratio, sbp, sbp_sd, town];
    let continuous: f64 = terms
        .iter()
        .zip(c.continuous.iter())
        .map(|(t, k)| t * k)
        .sum();
    c.ethnicity[ethrisk(x)]
        + c.smoking[smoke]
        + continuous
        + c.atrial_fibrillation * b(x.atrial_fibrillation)
        + c.atypical_antipsychotic * b(q.atypical_antipsychotic)
        + c.corticosteroids * b(q.corticosteroids)
        + c.erectile_dysfunction * b(q.erectile_dysfunction && x.male())
        + c.migraine * b(q.migraine)
        + c.rheumatoid_arthritis * b(q.rheumatoid_arthritis)
        + c.ckd * b(q.ckd_3_to_5)
        + c.severe_mental_illness * b(q.severe_mental_illness)
        + c.sle * b(q.systemic_lupus)
        + c.treated_hypertension * b(x.bp_treated)
        + c.type1 * b(type1)
        + c.type2 * b(type2)
        + c.family_history * b(q.family_history_chd)
        + age_1 * interactions(&c.age_1_x, x, smoke, bmi_1, bmi_2, sbp, town)
        + age_2 * interactions(&c.age_2_x, x, smoke, bmi_1, bmi_2, sbp, town)
}

/// QRISK3 10-year CVD risk (fraction).
#[inline]
pub fn cvd_10y(x: &RiskInput) -> f64 {
    let c = if x.male() { &MEN } else { &WOMEN };
    super::cox_risk(c.survivor_10y, linear_predictor(x))
}

/// The R port's accepted ranges: age 25–84 (checked by the caller), cholesterol ratio 1–11
/// [V cran/QRISK3]; the SBP (70–210 mmHg) and BMI (20–40) limits are the qrisk.org form's
/// [A: from memory]. Missing SBP variability is taken at the cohort mean and a missing
/// Townsend score at 0, the national average [A].
pub(super) fn warnings(x: &RiskInput, out: &mut Vec<Warning>) {
    let ratio = x.tc_mg_dl / x.hdl_mg_dl;
    if !(1.0..=11.0).contains(&ratio) {
        out.push(Warning::Caveat(
            "TC/HDL ratio outside 1–11, the range QRISK3 accepts: extrapolated",
        ));
    }
    push_range(out, Field::Sbp, x.sbp_mmhg, 70.0, 210.0);
    push_range(out, Field::Bmi, x.bmi_kg_m2, 20.0, 40.0);
    if x.qrisk.smoking.is_none() && x.smoker {
        out.push(Warning::Assumed(
            "a moderate smoker (10–19 a day): smoking amount not given",
        ));
    }
    if x.qrisk.sbp_sd_mmhg.is_nan() {
        out.push(Warning::Assumed(
            "average SBP variability (SD of SBP readings not given)",
        ));
    }
    if x.qrisk.townsend.is_nan() {
        out.push(Warning::Assumed(
            "Townsend deprivation score 0 (the English average; not given)",
        ));
    }
}
