//! Every number of the cardiovascular model in one place: name, default, unit, range and
//! source (the risk equations' own coefficients live in [`super::equations`]).
//!
//! Tags: [V] read in the cited source (search excerpt of the paper or a primary page, see
//! docs/sources/cvd_research_2026-11.md); [D] derived here by arithmetic from [V] values (the
//! arithmetic is stated); [A] an assumption (no published value found; the range is for
//! sensitivity analysis); [C] calibrated by healthtwin to the targets of
//! `shared/science/diabetes_cvd.md` §5 named in docs/validation.md.

use crate::params::param_block;

param_block! {
    /// Parameters of the cardiovascular model.
    pub struct CvdParams {
        // --- risk-factor trajectories ------------------------------------------------------
        sbp_fluct_sd: "cvd.sbp.fluctuation_sd" = 7.0, "mmHg", (0.0, 30.0),
            "[A] stationary SD of the within-person (year-to-year) part of usual SBP; about a \
             sixth of the cross-sectional variance (SD 16-19, japan_population.md §2.3)";
        ldl_fluct_sd: "cvd.ldl.fluctuation_sd" = 12.0, "mg/dL", (0.0, 60.0),
            "[A] stationary SD of the within-person part of LDL cholesterol (cross-sectional SD \
             30.7, Ningen-dock FY2014 [V via cohort/src/japan.rs])";
        fluct_autocorr: "cvd.fluctuation.annual_autocorrelation" = 0.6, "ratio", (0.0, 0.99),
            "[A] year-to-year correlation of the within-person parts of SBP and LDL";
        dbp_per_sbp: "cvd.dbp.per_sbp_fluctuation" = 0.5, "mmHg/mmHg", (0.0, 1.0),
            "[A] DBP moves with SBP's within-person part: SD ratio 11.6/17 (NHNS 2023 [D]) times \
             r(SBP, DBP) about 0.7";
        sbp_measure_sd: "cvd.measure.sbp_sd" = 5.0, "mmHg", (0.0, 20.0),
            "[A] SD of a single check-up SBP reading around the usual level";
        ldl_measure_cv: "cvd.measure.ldl_cv" = 0.05, "ratio", (0.0, 0.3),
            "[A] CV of a single LDL measurement (biological and analytical)";
        // --- smoking -------------------------------------------------------------------------
        quit: "cvd.smoking.quit_per_year" = 0.031, "probability/y", (0.0, 0.5),
            "[D] Hagimoto 2010 Addiction 105:164 (Japanese smokers, 1-year follow-up): 23.0% \
             tried to quit and 13.5% of them were abstinent 6 months later [V]: 0.230 x 0.135";
        relapse: "cvd.smoking.relapse_per_year" = 0.10, "probability/y", (0.0, 1.0),
            "[A] relapse of people who quit during the run, in the first years after quitting";
        relapse_years: "cvd.smoking.relapse_window_years" = 5.0, "y", (0.0, 50.0),
            "[A] years after quitting during which relapse is possible";
        start: "cvd.smoking.start_per_year" = 0.001, "probability/y", (0.0, 0.2),
            "[A] (re)start among non-smokers aged 40+ (initiation after 40 is rare)";
        // --- check-ups and treatment decisions ----------------------------------------------
        checkup_male: "cvd.checkup.attendance_male" = 0.615, "probability/y", (0.0, 1.0),
            "MHLW 特定健診 実施状況 FY2021: men 61.5% (ages 40-74) [V, as dm.checkup.attendance_male]";
        checkup_female: "cvd.checkup.attendance_female" = 0.515, "probability/y", (0.0, 1.0),
            "MHLW 特定健診 FY2021: women 51.5% (ages 40-74) [V]";
        checkup_75plus: "cvd.checkup.attendance_75plus" = 0.25, "probability/y", (0.0, 1.0),
            "[A] 後期高齢者健診 attendance (as dm.checkup.attendance_75plus)";
        checkup_persistence: "cvd.checkup.persistence" = 0.5, "share of variance", (0.0, 1.0),
            "[A] share of the latent attendance propensity that is the person's own (the same \
             latent propensity as the diabetes check-up: one 特定健診 measures both)";
        bp_threshold: "cvd.care.bp_threshold_sbp" = 140.0, "mmHg", (100.0, 200.0),
            "[A] JSH 2019 definition of hypertension, SBP >= 140 or DBP >= 90 (not re-read here)";
        ldl_threshold: "cvd.care.ldl_threshold" = 140.0, "mg/dL", (60.0, 250.0),
            "[A] 特定健診 referral level for LDL cholesterol (140 mg/dL)";
        ldl_threshold_dm: "cvd.care.ldl_threshold_diabetes" = 120.0, "mg/dL", (60.0, 250.0),
            "[A] JAS 2017 primary-prevention LDL target for people with diabetes (< 120 mg/dL)";
        start_bp_checkup: "cvd.care.start_bp_after_checkup" = 0.10, "probability", (0.0, 1.0),
            "[C] a check-up reading above the threshold leads to treatment (referral, visit, \
             prescription); NHNS antihypertensive use by age (japan_population.md §2.4)";
        start_bp_care: "cvd.care.start_bp_in_care" = 0.10, "probability/y", (0.0, 1.0),
            "[C] yearly chance that a person already in care (diabetes, statin, CVD history) with \
             high readings starts treatment; same target";
        intensify_bp: "cvd.care.intensify_bp" = 0.1, "probability/y", (0.0, 1.0),
            "[A] yearly chance that a treated person above the threshold gets another drug (up to 3)";
        start_statin_checkup: "cvd.care.start_statin_after_checkup" = 0.035, "probability", (0.0, 1.0),
            "[C] a check-up LDL above the threshold leads to a statin; lipid-lowering use by age \
             (cohort/src/japan.rs LIPID_LOWERING proxies)";
        start_statin_care: "cvd.care.start_statin_in_care" = 0.035, "probability/y", (0.0, 1.0),
            "[C] yearly statin start among people in care above their threshold; same target";
        post_event_statin: "cvd.care.statin_after_event" = 0.8, "probability", (0.0, 1.0),
            "[A] statin started after a non-fatal MI or ischaemic stroke (secondary prevention)";
        post_event_bp: "cvd.care.bp_drug_after_event" = 0.7, "probability", (0.0, 1.0),
            "[A] blood-pressure drug started after a non-fatal MI, stroke or heart failure";
        adherent_share: "cvd.care.adherent_share" = 0.70, "probability", (0.0, 1.0),
            "[A] share adherent (PDC >= 80%), as the diabetes model's Japanese claims figure \
             (67-74% for DPP-4 inhibitors [V dm.care.adherent_share]); no Japanese \
             antihypertensive/statin figure read";
        adherence_low: "cvd.care.adherence_low" = 0.5, "ratio", (0.0, 1.0),
            "[A] drug effect in non-adherent people relative to full adherence (0.95 when adherent)";
        // --- drug mechanisms ---------------------------------------------------------------
        bp_drug_sbp: "cvd.rx.bp.sbp_per_drug" = 9.1, "mmHg", (0.0, 30.0),
            "Law 2003 BMJ 326:1427 (354 trials): one drug at standard dose lowers SBP 9.1 mmHg; \
             effects of drugs add [V]";
        bp_drug_sbp_slope: "cvd.rx.bp.sbp_per_10_mmhg" = 1.0, "mmHg per 10 mmHg", (0.0, 5.0),
            "Law 2003: 1.0 mmHg more SBP lowering per 10 mmHg higher pretreatment SBP [V]";
        bp_ref_sbp: "cvd.rx.bp.reference_sbp" = 154.0, "mmHg", (100.0, 200.0),
            "[A] pretreatment SBP at which Law 2003's 9.1 mmHg applies (its trials' mean, not re-read)";
        bp_drug_dbp: "cvd.rx.bp.dbp_per_drug" = 5.5, "mmHg", (0.0, 20.0),
            "Law 2003: 5.5 mmHg DBP per drug at standard dose [V]";
        bp_drug_dbp_slope: "cvd.rx.bp.dbp_per_10_mmhg" = 1.1, "mmHg per 10 mmHg", (0.0, 5.0),
            "Law 2003: 1.1 mmHg more DBP lowering per 10 mmHg higher pretreatment DBP [V]";
        bp_ref_dbp: "cvd.rx.bp.reference_dbp" = 97.0, "mmHg", (60.0, 130.0),
            "[A] pretreatment DBP of Law 2003's 5.5 mmHg (not re-read)";
        statin_ldl: "cvd.rx.statin.ldl_reduction" = 0.40, "ratio", (0.0, 0.8),
            "Law 2003 BMJ 326:1423 (164 trials): atorvastatin 10 mg/day (the Japanese standard \
             dose), simvastatin 40 or rosuvastatin 5 lower LDL 40% (1.8 of 4.8 mmol/L) [V]";
        rr_sbp_chd: "cvd.effect.rr_chd_per_10_mmhg" = 0.83, "RR", (0.3, 1.0),
            "Ettehad 2016 Lancet 387:957: CHD RR 0.83 (0.78-0.88) per 10 mmHg SBP lowering [V]";
        rr_sbp_stroke: "cvd.effect.rr_stroke_per_10_mmhg" = 0.73, "RR", (0.3, 1.0),
            "Ettehad 2016: stroke RR 0.73 (0.68-0.77) per 10 mmHg [V]";
        rr_sbp_hf: "cvd.effect.rr_hf_per_10_mmhg" = 0.72, "RR", (0.3, 1.0),
            "Ettehad 2016: heart failure RR 0.72 (0.67-0.78) per 10 mmHg [V]";
        rr_ldl_chd: "cvd.effect.rr_chd_per_mmol" = 0.77, "RR", (0.3, 1.0),
            "CTT 2005 Lancet 366:1267: MI or coronary death RR 0.77 (0.74-0.80) per 1.0 mmol/L \
             LDL lowering [V]; CTT 2010 Lancet 376:1670, major vascular events 0.78 [V]";
        rr_ldl_stroke: "cvd.effect.rr_ischaemic_stroke_per_mmol" = 0.83, "RR", (0.3, 1.0),
            "CTT 2005: fatal or non-fatal stroke RR 0.83 (0.78-0.88) per 1.0 mmol/L [V], applied \
             to ischaemic stroke; haemorrhagic stroke and heart failure not lowered [A]";
        // --- event hazards -----------------------------------------------------------------
        chd_share: "cvd.hisayama.mi_factor" = 0.21, "ratio", (0.0, 5.0),
            "[C] MI hazard per unit of the Hisayama ASCVD hazard (CHD or atherothrombotic \
             infarction): stroke:MI ratio 3-4:1 (diabetes_cvd.md §5; JPHC 2016 ischaemic \
             stroke:CAD 552:192 [V])";
        is_factor: "cvd.hisayama.ischaemic_stroke_factor" = 0.716, "ratio", (0.0, 10.0),
            "[C] ischaemic stroke hazard per unit of the Hisayama ASCVD hazard: cerebral \
             infarction 5.5 (men) and 3.8 (women) per 1,000/y, Hisayama 1974-83 (§5)";
        female_stroke: "cvd.hisayama.female_stroke_factor" = 1.59, "ratio", (0.1, 10.0),
            "[C] women's stroke hazards relative to the Hisayama score's sex term (7 points, built \
             on CHD and atherothrombotic infarction, where men dominate): women:men cerebral \
             infarction 3.8:5.5 in Hisayama 1974-83 (§5)";
        hs_share: "cvd.stroke.haemorrhagic_share" = 0.241, "ratio", (0.0, 0.9),
            "[D] haemorrhagic share of strokes in the Japan Standard Stroke Registry 1999-2012 \
             (101,160 acute cases: infarction 71.9%, ICH 17.5%, SAH 5.3%, TIA 5.3% [V]): \
             22.8/94.7. (Kyoto registry 1999-2009: 34.4% [V], a hospital series with fewer mild \
             infarctions)";
        hf_factor: "cvd.hf.factor" = 0.34, "ratio", (0.0, 10.0),
            "[C] heart-failure hazard per unit of the Hisayama ASCVD hazard: first \
             hospitalisation for HF 129/100,000 PY all ages in Nobeoka (Marume 2021 Circ Rep \
             [V]), about 2.1/1,000 PY at 40+ [D: population share 40+ taken as 0.6, A]";
        hr_mi_after_stroke: "cvd.history.hr_mi_after_stroke" = 1.565, "HR", (1.0, 10.0),
            "UKPDS OM2 first-MI equation (men), stroke history coefficient 0.448 [V shared §1.8]: \
             exp(0.448), applied to people without diabetes [A]";
        hr_stroke_after_mi: "cvd.history.hr_stroke_after_mi" = 1.618, "HR", (1.0, 10.0),
            "UKPDS OM2 first-stroke equation, IHD history coefficient 0.481 [V shared §1.8]: exp(0.481)";
        hr_hf_after_mi: "cvd.history.hr_hf_after_mi" = 2.0, "HR", (1.0, 10.0),
            "[A] heart failure after MI (OM2's CHF equation has no MI term)";
        rec_mi: "cvd.recurrence.mi_per_year" = 0.015, "1/y", (0.0, 0.5),
            "[A] reinfarction after a first MI under Japanese usual care";
        rec_after_is: "cvd.recurrence.stroke_after_ischaemic" = 0.035, "1/y", (0.0, 0.5),
            "[D] Shiga Stroke Registry 2011 (Takashima 2020 Circ J 84:943): 2-year cumulative \
             recurrence 6.8% after ischaemic stroke [V]: -ln(1-0.068)/2";
        rec_after_hs: "cvd.recurrence.stroke_after_haemorrhagic" = 0.019, "1/y", (0.0, 0.5),
            "[D] Shiga 2011: 3.8% in 2 years after haemorrhagic stroke [V]: -ln(1-0.038)/2";
        typical_dsbp: "cvd.recurrence.typical_sbp_lowering" = 7.0, "mmHg", (0.0, 40.0),
            "[A] SBP lowering of the registries' usual post-event care (one drug, 80% adherence); \
             a person's recurrence rate scales by their own treatment relative to this";
        typical_dldl: "cvd.recurrence.typical_ldl_lowering" = 1.0, "mmol/L", (0.0, 4.0),
            "[A] LDL lowering of usual post-event care (statin 40% of ~3.2 mmol/L at 80% adherence)";
        recal_chd: "cvd.om2.recalibration_chd" = 0.30, "ratio", (0.0, 2.0),
            "JJ risk engine (Tanaka 2013 Diabetes Care 36:1193): UKPDS observed/predicted CHD 0.30 \
             in Japanese type 2 diabetes [V shared §1.6]; applied to the OM2 MI equations";
        recal_stroke: "cvd.om2.recalibration_stroke" = 0.72, "ratio", (0.0, 2.0),
            "JJ risk engine: UKPDS observed/predicted stroke 0.72 [V shared §1.6]; applied to OM2 stroke";
        recal_hf: "cvd.om2.recalibration_hf" = 1.0, "ratio", (0.0, 2.0),
            "[A] OM2 CHF used as is (no Japanese recalibration found)";
        exercise_steps: "cvd.hisayama.exercise_steps" = 8000.0, "steps/day", (0.0, 40000.0),
            "[A] walking at least this much counts as the Hisayama score's regular exercise \
             (>= 3 times a week); about 30% of the cohort";
        proteinuria_share: "cvd.proteinuria_share" = 0.0536, "probability", (0.0, 1.0),
            "J-SHC 2008 特定健診 (n=442,185): A3 5.36% [V japan_population.md §4], the dipstick \
             proteinuria of people without diabetic macroalbuminuria";
        om2_heart_rate: "cvd.om2.heart_rate" = 72.0, "bpm", (40.0, 120.0),
            "[A] as dm.om2.heart_rate";
        om2_wbc: "cvd.om2.wbc" = 6.6, "10^9/L", (2.0, 20.0),
            "[A] as dm.om2.wbc";
        // --- case fatality (death within the step of the event, ~28 days) -------------------
        cf_mi_male: "cvd.fatality.mi_male" = 0.343, "probability", (0.0, 1.0),
            "Takashima Stroke and AMI Registry 1989-2005 (Rumana 2014 Int J Stroke 9:69): \
             age-adjusted 28-day case fatality of first AMI, men 34.3% [V]; taken at age 70 [A]";
        cf_mi_female: "cvd.fatality.mi_female" = 0.433, "probability", (0.0, 1.0),
            "Takashima registry: women 43.3% [V]; at age 70 [A]";
        cf_is: "cvd.fatality.ischaemic_stroke" = 0.097, "probability", (0.0, 1.0),
            "[D] JSSRS in-hospital mortality, infarction 5.1% vs all strokes 7.6% (1999-2012 [V]), \
             scaled to Takashima's population 28-day stroke case fatality 15.3% (14.9 men, 15.7 \
             women [V]) by the ratio of all-stroke fatality 15.3/8.0 (JSSRS mix); at age 70 [A]";
        cf_hs: "cvd.fatality.haemorrhagic_stroke" = 0.326, "probability", (0.0, 1.0),
            "[D] JSSRS in-hospital ICH 15.1%, SAH 23.5% [V], weighted 17.5:5.3 (17.1%), times \
             the same 15.3/8.0; at age 70 [A]";
        cf_hf: "cvd.fatality.heart_failure" = 0.08, "probability", (0.0, 1.0),
            "[A] in-hospital mortality of a first heart-failure admission in Japan (~8%); at age 80";
        cf_age_mi: "cvd.fatality.mi_log_odds_per_decade" = 0.5, "log OR/decade", (0.0, 2.0),
            "[A] rise of MI case fatality with age";
        cf_age_stroke: "cvd.fatality.stroke_log_odds_per_decade" = 0.32, "log OR/decade", (0.0, 2.0),
            "[D] JSSRS: in-hospital mortality 10.2% at 75+ vs 7.6% overall [V]: odds ratio 1.38 \
             over about ten years of age";
        cf_age_hf: "cvd.fatality.hf_log_odds_per_decade" = 0.3, "log OR/decade", (0.0, 2.0),
            "[A] rise of HF case fatality with age";
        // --- mortality after the acute phase ------------------------------------------------
        hr_post_stroke: "cvd.mortality.hr_after_stroke" = 2.5, "HR", (1.0, 10.0),
            "[D] Shiga Stroke Registry 2011 (Takashima 2020 J Stroke 22:336): 5-year survival \
             65.9% after non-fatal first stroke [V] vs about 85% expected at the registry's ages \
             (MHLW life table, ~73 y [A]): ln 0.659 / ln 0.85";
        hr_post_mi: "cvd.mortality.hr_after_mi" = 1.8, "HR", (1.0, 10.0),
            "[A] all-cause mortality after surviving an MI, relative to the population";
        hr_post_hf: "cvd.mortality.hr_after_hf" = 2.5, "HR", (1.0, 10.0),
            "[A] all-cause mortality after a first HF admission (UKPDS OM2 CHF-history log HR \
             0.632 in diabetes, HR 1.88 [V shared §1.8])";
        explicit: "cvd.mortality.explicit" = 1.0, "switch", (0.0, 1.0),
            "1: cardiovascular deaths are modelled (case fatality and post-event excess) and the \
             population's CVD death rate is taken out of the life table (docs/model.md); 0: \
             events are non-fatal and the life table is used as published (truth tests)";
    }
}

/// DBP at or above which blood pressure counts as high (JSH 2019, with `bp_threshold` for
/// SBP).
pub const DBP_THRESHOLD: f64 = 90.0;

impl CvdParams {
    /// Whether readings are above the blood-pressure treatment threshold (the care path's
    /// decision; the twin offers an antihypertensive on the same rule).
    pub fn high_bp(&self, sbp_mmhg: f64, dbp_mmhg: f64) -> bool {
        sbp_mmhg >= self.bp_threshold || dbp_mmhg >= DBP_THRESHOLD
    }

    /// The LDL treatment threshold of a person with or without diagnosed diabetes.
    pub fn ldl_threshold_for(&self, diagnosed_diabetes: bool) -> f64 {
        if diagnosed_diabetes {
            self.ldl_threshold_dm
        } else {
            self.ldl_threshold
        }
    }
}

/// Midpoints of the 10-year bands of the tables below (as `cohort/src/japan.rs`).
pub const BAND_MIDPOINTS: [f64; 5] = [45.0, 55.0, 65.0, 75.0, 85.0];

/// A table by sex (male, female) and 10-year band 40-49 … 80-89.
pub type ByAge = [[f64; 5]; 2];

/// Mean *untreated* (natural) SBP, mmHg, by sex and band [D]: the NHNS means the synthetic
/// cohort is drawn from (incl. people on drugs: men 125.8/131.7/138.1/141.5, women
/// 114.3/123.7/137.1/140.1; cohort/src/japan.rs SBP [2]) plus the treated share
/// (5.1/17.8/33.9/53.8%, japan.rs ANTIHYPERTENSIVE) times the mean effect of one drug at 81.5%
/// mean adherence (Law 2003 at ~150 mmHg: 8.7 × 0.815 = 7.1 mmHg). 80-89 repeats 70+ (NHNS).
/// The age drift of a person's SBP is the slope of this curve.
pub const SBP_NATURAL: ByAge = [
    [126.2, 133.0, 140.5, 145.3, 145.3],
    [114.7, 125.0, 139.5, 143.9, 143.9],
];
/// Cross-sectional SD of SBP (cohort/src/japan.rs SBP: men [D] from NHNS 2012 bins, women
/// proxies [V]).
pub const SBP_SD: ByAge = [
    [16.0, 16.8, 17.5, 16.6, 16.6],
    [16.5, 16.5, 18.9, 18.9, 18.9],
];
/// Mean untreated DBP, mmHg [D]: NHNS means (men 81.3/82.0/84.0/79.9, women
/// 71.2/75.4/81.6/76.6; japan.rs DBP [2]) plus treated share × 3.4 mmHg (Law 2003 at ~85 mmHg,
/// 81.5% adherence).
pub const DBP_NATURAL: ByAge = [
    [81.5, 82.6, 85.2, 81.7, 81.7],
    [71.4, 76.0, 82.8, 78.4, 78.4],
];
/// Mean untreated LDL, mg/dL [D]: japan.rs LDL means (men 130/130/125/125, women
/// 120/137.5/142.5/142.5; weak, [unconfirmed] source) divided by 1 − 0.326·s, s the
/// lipid-lowering share (7.0/14.9/21.7/29.0%), 0.326 = 40% × 81.5% adherence.
pub const LDL_NATURAL: ByAge = [
    [133.0, 136.7, 134.5, 138.1, 138.1],
    [122.8, 144.6, 153.4, 157.5, 157.5],
];
/// Cross-sectional SD of LDL (Ningen-dock FY2014, 30.7 mg/dL [V via japan.rs]).
pub const LDL_SD: f64 = 30.7;
/// Mean HDL, mg/dL (japan.rs HDL [2], NHNS; not changed by the drugs modelled).
pub const HDL_MEAN: ByAge = [
    [57.8, 59.6, 61.6, 57.5, 57.5],
    [69.8, 73.1, 68.7, 64.1, 64.1],
];
/// Mean BMI, kg/m² (japan.rs BMI [D] from NHNS 2017). Its slope is the BMI drift.
pub const BMI_MEAN: ByAge = [
    [24.03, 23.70, 23.75, 23.19, 23.19],
    [22.21, 22.56, 23.01, 22.91, 22.91],
];

/// Linear interpolation between band midpoints, flat outside them.
pub fn at_age(table: &[f64; 5], age: f64) -> f64 {
    engine::math::interpolate(&BAND_MIDPOINTS, table, age)
}

/// Slope per year of the interpolated table at `age`: the segment's slope between 45 and 85,
/// the first segment's below 45, and 0 from 85 on (NHNS's 70+ band repeats there, so the
/// table has no information about change after 85).
pub fn slope_per_year(table: &[f64; 5], age: f64) -> f64 {
    if age >= BAND_MIDPOINTS[4] {
        return 0.0;
    }
    let i = if age < BAND_MIDPOINTS[1] {
        0
    } else {
        engine::math::floor_index((age - BAND_MIDPOINTS[0]) / 10.0, 3)
    };
    (table[i + 1] - table[i]) / 10.0
}

/// The population's cardiovascular death hazard implied by the model (deaths in the step of
/// an event plus the excess after one), as a share of the life table's all-cause hazard, by
/// sex and 10-year band 40-49 … 90-99 (interpolated linearly between the midpoints 45 … 95,
/// flat outside) [C]: from the reference run `healthtwin run --patients 200000 --years 10
/// --replicates 3` on the synthetic cohort (years 0-9 and replicates pooled), printed by
/// `calibration/scripts/cvd_death_table.py`. The background hazard leaves this rate out, so the
/// reference population's all-cause mortality stays the life table's (docs/model.md).
/// Regenerate it after changing event, case-fatality or post-event parameters.
pub const MODEL_CVD_DEATH_SHARE: [[f64; 6]; 2] = [
    [0.2007, 0.1884, 0.2337, 0.3001, 0.3106, 0.2240],
    [0.1733, 0.1544, 0.2242, 0.2583, 0.2274, 0.1499],
];

/// [`MODEL_CVD_DEATH_SHARE`] at `age` for sex index `sex`.
#[inline]
pub fn model_cvd_death_share(sex: usize, age: f64) -> f64 {
    let t = &MODEL_CVD_DEATH_SHARE[sex];
    let x = ((age - 45.0) / 10.0).clamp(0.0, 5.0);
    let i = engine::math::floor_index(x, 4);
    let w = x - i as f64;
    t[i] + w * (t[i + 1] - t[i])
}

/// Share of all deaths that are from the causes this model makes explicit (acute myocardial
/// infarction I21-I22, heart failure I50, cerebrovascular disease I60-I69), by sex and 5-year
/// age band 40-44 … 85-89, 90+ [D]:
///
/// - age profile: men's share of deaths from heart disease plus cerebrovascular disease by
///   5-year band, vital statistics 2003 (MHLW 人口動態統計特殊報告, 第2表 性・年齢(5歳階級)別にみた
///   死因順位, 平成15年 [V]): 21.8, 22.9, 23.5, 22.2, 22.5, 22.9, 23.7, 26.1, 28.4, 31.3,
///   31.2% (40-44 … 90+), 25.6% at all ages;
/// - level: vital statistics 2019 by sex (統計年鑑 表24-10 [V]): men AMI 18,146 + HF 33,678 +
///   cerebrovascular 51,768 = 103,592 of 707,421 deaths (14.64%); women 13,381 + 51,887 +
///   54,784 = 120,052 of 673,672 (17.82%);
/// - share(a, s) = profile(a) × level(s) / 25.6. Women's age profile is assumed to be men's
///   (no table by age was read for women) [A].
///
/// Not used by the simulation: it is the held-out comparison for the model's cardiovascular
/// deaths (docs/validation.md; the model also counts the all-cause excess after an event,
/// which vital statistics code to other causes).
pub const CVD_DEATH_SHARE: [[f64; 11]; 2] = [
    [
        0.1247, 0.1310, 0.1344, 0.1270, 0.1287, 0.1310, 0.1355, 0.1493, 0.1624, 0.1790, 0.1784,
    ],
    [
        0.1518, 0.1594, 0.1636, 0.1545, 0.1566, 0.1594, 0.1650, 0.1817, 0.1977, 0.2179, 0.2172,
    ],
];

/// The share of deaths from the modelled CVD causes at `age` for sex index `sex`.
#[inline]
pub fn cvd_death_share(sex: usize, age: f64) -> f64 {
    let band = if age < 40.0 {
        0
    } else {
        engine::math::floor_index((age - 40.0) / 5.0, 10)
    };
    CVD_DEATH_SHARE[sex][band]
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod tests {
    use super::*;

    #[test]
    fn defaults_are_within_their_ranges_and_named_once() {
        let all = CvdParams::params();
        for (i, p) in all.iter().enumerate() {
            assert!(
                p.value >= p.range.0 && p.value <= p.range.1,
                "{} = {} outside {:?}",
                p.name,
                p.value,
                p.range
            );
            assert!(p.name.starts_with("cvd."), "{}", p.name);
            assert!(
                all[..i].iter().all(|q| q.name != p.name),
                "{} twice",
                p.name
            );
        }
    }

    #[test]
    fn derived_tables_follow_their_stated_arithmetic() {
        // Natural SBP = observed + treated share × 7.1 mmHg (men 55: 131.7 + 0.178 × 7.1).
        assert!((SBP_NATURAL[0][1] - (131.7 + 0.178 * 7.1)).abs() < 0.05);
        // Natural LDL = observed / (1 − 0.326 s) (women 65: 142.5 / (1 − 0.326 × 0.217)).
        assert!((LDL_NATURAL[1][2] - 142.5 / (1.0 - 0.326 * 0.217)).abs() < 0.1);
        // Death shares: profile × level / 25.6.
        assert!((CVD_DEATH_SHARE[0][6] - 0.237 * 0.1464 / 0.256).abs() < 2e-4);
        assert!((CVD_DEATH_SHARE[1][9] - 0.313 * 0.1782 / 0.256).abs() < 2e-4);
        // Recurrence rates from 2-year cumulative risks.
        let p = CvdParams::params();
        let get = |n: &str| p.iter().find(|q| q.name == n).unwrap().value;
        assert!(
            (get("cvd.recurrence.stroke_after_ischaemic") - (-(1.0f64 - 0.068).ln() / 2.0)).abs()
                < 1e-3
        );
        assert!(
            (get("cvd.recurrence.stroke_after_haemorrhagic") - (-(1.0f64 - 0.038).ln() / 2.0))
                .abs()
                < 1e-3
        );
    }

    #[test]
    fn interpolation_and_slopes() {
        let t = [10.0, 20.0, 40.0, 40.0, 40.0];
        assert_eq!(at_age(&t, 30.0), 10.0);
        assert_eq!(at_age(&t, 50.0), 15.0);
        assert_eq!(at_age(&t, 60.0), 30.0);
        assert_eq!(slope_per_year(&t, 40.0), 1.0);
        assert_eq!(slope_per_year(&t, 55.0), 2.0);
        assert_eq!(slope_per_year(&t, 70.0), 0.0);
        assert_eq!(slope_per_year(&t, 90.0), 0.0);
        assert_eq!(cvd_death_share(0, 30.0), CVD_DEATH_SHARE[0][0]);
        assert_eq!(cvd_death_share(1, 101.0), CVD_DEATH_SHARE[1][10]);
        assert_eq!(cvd_death_share(0, 72.0), CVD_DEATH_SHARE[0][6]);
        assert_eq!(model_cvd_death_share(0, 40.0), MODEL_CVD_DEATH_SHARE[0][0]);
        assert_eq!(model_cvd_death_share(1, 99.0), MODEL_CVD_DEATH_SHARE[1][5]);
        let mid = model_cvd_death_share(0, 50.0);
        assert!(
            (mid - 0.5 * (MODEL_CVD_DEATH_SHARE[0][0] + MODEL_CVD_DEATH_SHARE[0][1])).abs() < 1e-12
        );
    }
}
