//! Every number of the frailty and long-term-care model in one place: name, default, unit,
//! range and source.
//!
//! Tags: [V] read in the cited source (../shared/science/frailty_japan.md, keys [Sx] at its
//! end, or a page found with the search tool and named here); [D] derived here by arithmetic
//! from [V] values (method stated); [A] an assumption (no published value found; the range is
//! for sensitivity analysis); [C] calibrated by healthtwin to the targets named (docs/validation.md,
//! `calibration/scripts/frailty_targets.py`).

use crate::params::param_block;
use engine::math::interpolate;
use engine::math::DetMath;

param_block! {
    /// Parameters of the frailty and long-term-care model.
    pub struct FrailtyParams {
        // --- deficit accumulation (Mitnitski-type birth-death process) ------------------
        acquisition: "fr.deficits.acquisition_per_year" = 0.485, "deficits/y", (0.0, 20.0),
            "[C] stressor intensity lambda (new deficits per year for an average person with \
             none, before the ceiling): holds the cohort's mean FI by age (docs/validation.md) (since issue 19: the point estimate of the ABC-SMC benchmark fit, docs/validation.md, Frailty: the ABC benchmark point)";
        recovery_time_growth: "fr.deficits.recovery_time_growth" = 0.045, "1/y", (0.0, 0.2),
            "Mitnitski & Rockwood 2016 Biogerontology 17:199: mean FI grows 4.5% (+-0.75) per \
             year longitudinally, doubling in 15.4 y; N = lambda*W with the mean recovery time \
             W doubling (Mitnitski 2013 [S5]) [V]: every repair rate falls by this much per year \
             of age";
        acquisition_growth: "fr.deficits.acquisition_growth" = 0.0329, "1/y", (0.0, 0.2),
            "[C] growth of lambda per year of age (exp(g*(age - 70))): with most deficits \
             repaired slowly the process is acquisition-dominated at old ages, so the published \
             log-linear growth of the mean (3-4.5%/y [V S1-S3]) needs the stressor intensity to \
             grow too; target: cross-sectional slope of ln(mean FI) on age and the longitudinal \
             4.5%/y (since issue 19: the ABC benchmark fit's point, docs/validation.md)";
        growth_floor_age: "fr.deficits.growth_floor_age" = 58.0, "y", (0.0, 100.0),
            "[A] below this age lambda and the repair rates keep their values at this age: the \
             reference FI is nearly flat before 60 (UK Biobank 0.111 at <50, 0.123 at 50-59, \
             Williams 2019 [V])";
        repair_other: "fr.deficits.repair_other_at_70" = 0.05, "1/y", (0.0, 5.0),
            "[C] repair rate of one non-phenotype deficit at age 70: Fallah 2011 JAGS 59:524, \
             20.6-32.4% of people 70+ had the same or fewer deficits 54 months later [V]";
        repair_jchs: "fr.deficits.repair_jchs_at_70" = 0.294, "1/y", (0.0, 10.0),
            "[C] repair rate of one J-CHS criterion at age 70: Kojima 2019 Ageing Res Rev 50:81 \
             robust-row transitions over 3.9 y (54.0 / 40.6 / 4.5%) and prefrail->robust 23.1% [V] (since issue 19: the point estimate of the ABC-SMC benchmark fit, docs/validation.md, Frailty: the ABC benchmark point)";
        jchs_weight: "fr.deficits.jchs_weight" = 1.52, "ratio", (0.0, 20.0),
            "[C] chance that a new deficit is a given J-CHS criterion rather than a given other \
             item, at FI 0: Kojima 2017 J Epidemiol 27:347 frailty by age [V] (since issue 19: the point estimate of the ABC-SMC benchmark fit, docs/validation.md, Frailty: the ABC benchmark point)";
        jchs_weight_per_fi: "fr.deficits.jchs_weight_per_fi" = 6.0, "1/FI", (0.0, 30.0),
            "[C] growth of that weight with the FI (exp(g*FI)): late, network-hub-like items \
             (Farrell 2016 generic network model [S10]) are damaged when much else is; same \
             target (frailty rises 18-fold from 65-69 to 85+ while the FI doubles)";
        jchs_weight_per_year: "fr.deficits.jchs_weight_per_year" = 0.05, "1/y", (0.0, 0.5),
            "[C] growth of that weight with age (exp(d*(age - 75))): grip strength and gait speed \
             decline with age beyond the count of other deficits (Makizako 2017 JCSM 8:607, \
             cross-sectional Japanese norms [V, direction only]); same target";
        init_jchs_factor: "fr.init.jchs_factor" = 0.5, "ratio", (0.0, 10.0),
            "[C] weight of J-CHS criteria when a baseline FI is turned into items (relative to \
             the stationary composition acquisition/repair per class): makes year 0 agree with \
             the process's own composition (same frailty-by-age in year 0 and later years)";
        heterogeneity_shape: "fr.deficits.heterogeneity_shape" = 10.0, "count", (0.1, 1000.0),
            "[A] gamma prior shape of the person's stressor exposure; the exposure is its \
             posterior mean given the baseline deficit count, so a person's baseline frailty \
             persists instead of regressing to the age mean";
        ceiling: "fr.deficits.ceiling" = 0.7, "FI", (0.3, 1.0),
            "Mitnitski, Song, Rockwood 2013 Biogerontology 14:709: universal sub-maximal limit \
             FI ~0.7 [V S5]; acquisition stops there (count floor(0.7*32) = 22)";
        // --- drivers of deficit acquisition (multipliers of lambda) ------------------------
        driver_diabetes: "fr.driver.diabetes" = 1.3, "ratio", (0.5, 5.0),
            "[A] diabetes (true onset); held-out check: frailty OR 1.61 (1.47-1.77) with vs \
             without diabetes (Int J Nurs Stud 2021;119:103952, PMID 34022743 [V])";
        driver_diabetes_per_decade: "fr.driver.diabetes_per_decade" = 1.1, "ratio", (0.5, 3.0),
            "[A] per 10 years of diabetes duration";
        driver_complication: "fr.driver.diabetes_complication" = 1.5, "ratio", (0.5, 5.0),
            "[A] each of blindness, amputation, renal failure";
        driver_mi: "fr.driver.mi_history" = 1.3, "ratio", (0.5, 5.0),
            "[A] history of myocardial infarction";
        driver_stroke: "fr.driver.stroke_history" = 1.6, "ratio", (0.5, 5.0),
            "[A] history of stroke";
        driver_hf: "fr.driver.heart_failure_history" = 1.5, "ratio", (0.5, 5.0),
            "[A] history of heart failure";
        stroke_deficits: "fr.event.stroke_deficits" = 2.0, "deficits", (0.0, 10.0),
            "[A] deficits acquired at once at a new stroke";
        mi_deficits: "fr.event.mi_deficits" = 1.0, "deficits", (0.0, 10.0),
            "[A] deficits acquired at once at a new myocardial infarction";
        hf_deficits: "fr.event.heart_failure_deficits" = 1.0, "deficits", (0.0, 10.0),
            "[A] deficits acquired at once at new heart failure";
        steps_log_per_1000: "fr.driver.steps_log_per_1000" = 0.10, "log ratio per 1000 steps/d", (0.0, 1.0),
            "[A] slope taken from Paluch 2022 Lancet Public Health 7:e219 mortality (Q1->Q4 HR \
             0.47 over 7,348 steps: ~-1.0e-4 per step/d [D, shared §3]) and applied to deficit \
             acquisition, below the cap";
        steps_reference: "fr.driver.steps_reference" = 6000.0, "steps/d", (0.0, 20000.0),
            "[A] steps/d at which the steps multiplier is 1";
        steps_cap: "fr.driver.steps_cap" = 8000.0, "steps/d", (0.0, 30000.0),
            "Paluch 2022: at age >= 60 the benefit plateaus at 6,000-8,000 steps/d [V]";
        driver_underweight: "fr.driver.underweight" = 1.5, "ratio", (0.5, 5.0),
            "[A] BMI < 18.5 (under-nutrition; also Kihon Checklist item 12 itself)";
        driver_obese: "fr.driver.obese" = 1.2, "ratio", (0.5, 5.0),
            "[A] BMI >= 30";
        driver_social: "fr.driver.social_participation" = 0.9, "ratio", (0.1, 2.0),
            "[A] taking part in community groups (kayoi-no-ba etc.); held-out check: 1-y frailty \
             prevalence -3.9 pp (Mori 2025 [S41])";
        social_share: "fr.social.share" = 0.642, "probability", (0.0, 1.0),
            "[D] Cabinet Office 令和7年版高齢社会白書 図1-2-3-2 (令和5年度高齢社会対策総合調査): \
             65+ who took part in any social activity in the past year n=1,692 vs none n=944 \
             [V] -> 1692/2636";
        // --- mortality ---------------------------------------------------------------------
        hr_per_001: "fr.mortality.hr_per_0.01_fi" = 1.039, "HR", (1.0, 1.2),
            "Kojima 2018 Age Ageing 47:193: all-cause mortality HR 1.039 (1.033-1.044) per 0.01 \
             FI [V S19]";
        // --- long-term-care certification (kaigo) -----------------------------------------------
        score_sd: "fr.ltc.need_sd" = 2.0, "deficits", (0.0, 10.0),
            "[A] SD of a persistent person effect added to the deficit count to give the care \
             need score (care need is not a function of the FI alone)";
        level_spread: "fr.ltc.level_spread" = 0.92, "ratio", (0.1, 5.0),
            "[C] spread of the level thresholds above the first, relative to those derived from \
             the reference population (the thresholds cut the reference certified population's \
             care-need scores at the MHLW FY2022 level mix [V S33]); target: that mix in the \
             simulated population";
        cert_log_rate: "fr.ltc.certification_log_rate" = -3.1, "log(1/y)", (-15.0, 3.0),
            "[C] log hazard of certification at age 80 and care-need score 8: MHLW certification \
             rate by age, Sep 2020 [V S35]";
        cert_per_deficit: "fr.ltc.certification_per_deficit" = 0.25, "log HR per deficit", (0.0, 2.0),
            "[C] same target; also the slope of certification at baseline";
        cert_per_year: "fr.ltc.certification_per_year_of_age" = 0.115, "log HR per year", (0.0, 1.0),
            "[C] same target";
        cert_social_hr: "fr.ltc.social_participation_hr" = 0.82, "HR", (0.1, 2.0),
            "Takahashi 2019 BMJ Open 9:e030500 (AGES, 9.4 y): need for LTC AOR 0.82 (0.69-0.97) \
             with social participation [V S42], used as a hazard ratio";
        inst_care1: "fr.ltc.institution_rate_care1" = 0.005, "1/y", (0.0, 5.0),
            "[C] entry to a care facility at care level 1: facility share 3.6% [D] (介護給付費等 \
             実態統計月報 令和4年5月審査分 表2 facility recipients 50.8k [V] / certified 要介護1 \
             1,424,784 [V S33])";
        inst_care2: "fr.ltc.institution_rate_care2" = 0.008, "1/y", (0.0, 5.0),
            "[C] facility share 7.5% [D] (84.7k / 1,133,865)";
        inst_care3: "fr.ltc.institution_rate_care3" = 0.07, "1/y", (0.0, 5.0),
            "[C] facility share 26.4% [D] (238.2k / 901,502)";
        inst_care4: "fr.ltc.institution_rate_care4" = 0.08, "1/y", (0.0, 5.0),
            "[C] facility share 39.9% [D] (347.3k / 869,867)";
        inst_care5: "fr.ltc.institution_rate_care5" = 0.06, "1/y", (0.0, 5.0),
            "[C] facility share 43.4% [D] (248.0k / 571,435)";
        local_cert_log_odds: "fr.ltc.local_log_odds" = 0.0, "log OR", (-5.0, 5.0),
            "[A] planning handle, not a published number: 0 = the national certification \
             rates. A municipal plan (docs/planning.md) sets it so that its residents' simulated \
             certification rate equals the town's own; added to the log-odds of certification \
             at baseline and at 65 and to the log-hazard of new certification (the town \
             certifies more or less readily at the same care need)";
        local_level_shift: "fr.ltc.local_level_shift" = 0.0, "deficits", (-10.0, 10.0),
            "[A] planning handle, not a published number: 0 = the national level mix (MHLW \
             FY2022). Lowers every care-level threshold of the care-need score by this many \
             deficits (positive: heavier levels); a municipal plan sets it to the town's share \
             of care levels 1-5 among the certified (docs/planning.md)";
        // --- LTC cost per certified person-month (yen) -------------------------------------------
        cost_support1: "fr.ltc.cost_support1" = 7409.0, "yen/month", (0.0, 1.0e7),
            "[D] cost per preventive-service recipient (Apr 2023 ¥27,900 [V S58]) split over \
             要支援1/2 in proportion to their benefit ceilings (5,032 / 10,531 units [V S57]) with \
             the May 2022 recipient mix (336.7k / 507.2k [V, 月報 表1]), times the share of \
             support-certified who use services (843.9k / 1,912,891 = 44.1% [D])";
        cost_support2: "fr.ltc.cost_support2" = 15507.0, "yen/month", (0.0, 1.0e7),
            "[D] as fr.ltc.cost_support1";
        cost_care1: "fr.ltc.cost_care1" = 130456.0, "yen/month", (0.0, 1.0e7),
            "[D] cost per care-service recipient (Apr 2023 ¥203,100 [V S58]) split over 要介護1-5 \
             in proportion to their ceilings (16,765 / 19,705 / 27,048 / 30,938 / 36,217 units \
             [V S57]) with the May 2022 recipient mix (1,215.6 / 1,089.4 / 887.7 / 838.6 / \
             546.8k [V]), times the share of care-certified who use services (4,578.1k / \
             4,901,453 = 93.4% [D]); facility and home care are not costed apart. Check: \
             FY2022 certified counts x these costs = ¥11.30 trillion/y vs ¥11.19 trillion [V S58]";
        cost_care2: "fr.ltc.cost_care2" = 153333.0, "yen/month", (0.0, 1.0e7),
            "[D] as fr.ltc.cost_care1";
        cost_care3: "fr.ltc.cost_care3" = 210472.0, "yen/month", (0.0, 1.0e7),
            "[D] as fr.ltc.cost_care1";
        cost_care4: "fr.ltc.cost_care4" = 240742.0, "yen/month", (0.0, 1.0e7),
            "[D] as fr.ltc.cost_care1";
        cost_care5: "fr.ltc.cost_care5" = 281820.0, "yen/month", (0.0, 1.0e7),
            "[D] as fr.ltc.cost_care1";
    }
}

/// Band midpoints of the reference FI tables (ages 40-49 ... 80-89).
pub const REFERENCE_MIDPOINTS: [f64; 5] = [45.0, 55.0, 65.0, 75.0, 85.0];

/// Reference FI distribution (mean, SD) by band midpoint: the population the life table
/// describes, against which the FI hazard ratio is normalised, and the baseline the deficit
/// process is calibrated to hold. The same numbers as the synthetic cohort's input
/// (`cohort::japan::FRAILTY_INDEX`): UK Biobank 49-item FI by age (Williams 2019 J Gerontol A
/// 74:582, Table 1 [V]) for < 60, 60-69 [D], 70+ extended at 3%/y [D]; no Japanese FI
/// distribution by age was found. Above 85 the mean grows 3.5%/y, the cross-sectional rate
/// of Mitnitski & Rockwood 2016 [V S3], at a constant coefficient of variation [A].
pub const REFERENCE_FI_MEAN: [f64; 5] = [0.111, 0.123, 0.134, 0.174, 0.235];
pub const REFERENCE_FI_SD: [f64; 5] = [0.070, 0.076, 0.076, 0.085, 0.090];
/// Cross-sectional growth of the mean FI above the last band (Mitnitski & Rockwood 2016 [V]).
pub const REFERENCE_GROWTH_ABOVE_85: f64 = 0.035;

/// MHLW certification rate (certified / population, %) by age band 65-69 ... 90+, Sep 2020
/// (介護保険部会 council slides [V S35]).
pub const CERTIFICATION_PCT: [f64; 6] = [2.8, 5.5, 12.4, 26.4, 48.1, 72.7];
/// Band midpoints of [`CERTIFICATION_PCT`] (90+ taken at 92).
pub const CERTIFICATION_MIDPOINTS: [f64; 6] = [67.0, 72.0, 77.0, 82.0, 87.0, 92.0];
/// Certified people aged 65+ by age band, millions, FY2022 year end (MHLW 介護保険事業状況報告
/// 年報 第4-1表 [V S33]): the weights of the bands in the certified population.
pub const CERTIFIED_MILLIONS: [f64; 6] = [0.20, 0.51, 0.84, 1.44, 1.86, 1.96];
/// Certified people aged 65+ by level (要支援1, 2, 要介護1-5), FY2022 year end, M+F summed
/// (MHLW 介護保険事業状況報告 [V S33]).
pub const LEVEL_COUNTS: [f64; 7] = [
    972_852.0,
    940_039.0,
    1_424_784.0,
    1_133_865.0,
    901_502.0,
    869_867.0,
    571_435.0,
];
/// Share of certified people in a care facility by care level 1-5 [D]: facility-service
/// recipients by level, May 2022 (介護給付費等実態統計月報 令和4年5月審査分 表2 [V]:
/// 50.8, 84.7, 238.2, 347.3, 248.0 thousand) over [`LEVEL_COUNTS`]. Support levels: 0
/// (facility care needs 要介護).
pub const FACILITY_SHARE: [f64; 7] = [0.0, 0.0, 0.0357, 0.0747, 0.2642, 0.3993, 0.4340];

/// Mean and SD of the reference FI at `age`.
pub fn reference_fi(age: f64) -> (f64, f64) {
    let mean = interpolate(&REFERENCE_MIDPOINTS, &REFERENCE_FI_MEAN, age);
    let sd = interpolate(&REFERENCE_MIDPOINTS, &REFERENCE_FI_SD, age);
    if age > 85.0 {
        let g = (REFERENCE_GROWTH_ABOVE_85 * (age - 85.0)).exp_det();
        (mean * g, sd * g)
    } else {
        (mean, sd)
    }
}

/// MHLW certification rate (share) at `age`: 0 below 65, interpolated between band midpoints.
pub fn certification_rate(age: f64) -> f64 {
    if age < 65.0 {
        return 0.0;
    }
    interpolate(&CERTIFICATION_MIDPOINTS, &CERTIFICATION_PCT, age) / 100.0
}
