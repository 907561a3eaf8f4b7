//! Every number of the diabetes model in one place: name, default, unit, range and source.
//!
//! Tags in the sources: [V] read in the cited source (see docs/sources/diabetes_research_2026-11.md
//! and ../shared/science/diabetes_cvd.md); [D] derived here by arithmetic from [V] values;
//! [A] an assumption (no published value found; range given for sensitivity analysis);
//! [C] calibrated by healthtwin to the targets named (see docs/validation.md).

use crate::params::param_block;

param_block! {
    /// Parameters of the diabetes model.
    pub struct DiabetesParams {
        // --- insulin sensitivity -------------------------------------------------------
        si_reference: "dm.si.reference" = 0.72, "mL/uU/day", (0.05, 5.0),
            "Topp 2000 J Theor Biol 206:605, SI [V]; taken at BMI 22, 8,000 steps/day, age 50";
        si_per_bmi: "dm.si.per_bmi" = 0.092, "1/(kg/m2)", (0.0, 0.3),
            "[D] ln(1.261)/(0.07*36): 7% weight loss at BMI 36 raised insulin-mediated glucose \
             uptake 26.1% (Klein group abstract, docs/sources/diabetes_research_2026-11.md §2) [V]";
        si_per_decade: "dm.si.per_decade" = 0.026, "1/decade", (0.0, 0.2),
            "Ferrannini 1996 Diabetes 45:947 (EGIR): clamp M -0.9 umol/min/kg per decade [V], \
             about 2.6%/decade of a mean M of ~35 [M]";
        si_per_1000_steps: "dm.si.per_1000_steps" = 0.01, "1/(1000 steps/day)", (0.0, 0.2),
            "[C] DPP lifestyle arm (Knowler 2002); plausible 0.01-0.06: AusDiab ~10% SI for \
             <1,000 to >=10,000 steps (Dwyer 2011 BMJ 342:c7249), training -14% fasting \
             insulin (Conn 2014) [V]";
        si_sd_log: "dm.si.sd_log" = 0.3, "log", (0.0, 1.5),
            "[A] between-person SD of log insulin sensitivity beyond BMI, age and steps";
        si_fluctuation_sd: "dm.si.fluctuation_sd" = 0.086, "log", (0.0, 1.0),
            "[C] stationary SD of within-person fluctuation of log insulin sensitivity; joint \
             diabetes fit (docs/validation.md, T2D by age): it sets how often people \
             near the threshold cross it (0.15 before, [A])";
        si_fluctuation_years: "dm.si.fluctuation_years" = 1.0, "y", (0.05, 20.0),
            "[A] correlation time of that fluctuation";
        r0_sd_log: "dm.r0.sd_log" = 0.1, "log", (0.0, 1.0),
            "[A] between-person SD of log glucose production (Topp R0 = 864 mg/dL/day [V])";
        // --- beta-cell dynamics ---------------------------------------------------------
        beta_time_scale: "dm.beta.time_scale" = 0.1, "ratio", (0.005, 1.0),
            "[A] human/rodent beta-cell turnover: Topp's d0, r1, r2 (rodent) scaled so mass \
             relaxes in ~2 y instead of ~70 d (Ha & Sherman 2016 Endocrinology 157:624: mass \
             on a time scale of years [M])";
        capacity_hill: "dm.capacity.hill" = 4.0, "exponent", (1.0, 12.0),
            "[A] steepness of the capacity limit on replication";
        capacity_headroom: "dm.capacity.headroom" = 3.44, "ratio", (1.0, 10.0),
            "[C] median capacity K at age 40 as a multiple of the mass the person needs at baseline; Japanese incidence 8.8/1000 PY \
             (Goto 2013) and NHNS prevalence by age (joint diabetes fit, docs/validation.md)";
        capacity_sd_log: "dm.capacity.sd_log" = 0.3, "log", (0.0, 1.5),
            "[A] between-person SD of log capacity";
        capacity_loss: "dm.capacity.loss_per_year" = 0.0094, "1/y", (0.0, 0.2),
            "[C] capacity lost per year at normal glucose; same targets as dm.capacity.headroom \
             (joint diabetes fit, docs/validation.md)";
        capacity_glucotoxicity: "dm.capacity.glucotoxicity" = 2.0, "ratio", (0.0, 20.0),
            "[A] extra capacity loss per unit relative glucose excess above 100 mg/dL";
        efficiency_loss: "dm.beta.efficiency_loss_per_year" = 0.0024, "1/y", (0.0, 0.1),
            "[C] common yearly decline of epsilon with age, joint diabetes fit (NHNS 2016 \
             prevalence, Goto 2013 incidence, stationarity of incidence within bands); inside \
             Szoke 2008 Diabetes Care 31:539, disposition index falling ~0.7%/y with age in \
             normal glucose tolerance [V abstract]";
        progressor_share: "dm.beta.progressor_share" = 0.13, "probability", (0.0, 1.0),
            "[C] share of people whose beta-cell replication efficiency drifts on their own \
             before onset (glycaemic progressors): people differ in how fast fasting glucose \
             rises in middle age, which one common rate cannot give (docs/validation.md, T2D \
             by age); NHNS 2016 prevalence at 50-59 and Goto 2013 incidence";
        progressor_share_female_ratio: "dm.beta.progressor_share_female_ratio" = 0.425, "ratio", (0.0, 5.0),
            "[C] women's share of glycaemic progressors relative to men's: Japanese men's \
             diabetes prevalence at 50-59 is twice women's (NHNS 2016, 12.6% vs 6.1%), more \
             than their baseline glucose explains; same targets";
        progressor_drift_mean: "dm.beta.progressor_drift_mean" = 0.0175, "1/y", (-0.1, 0.1),
            "[C] mean yearly decline of epsilon among progressors (same targets)";
        progressor_drift_sd: "dm.beta.progressor_drift_sd" = 0.024, "1/y", (0.0, 0.1),
            "[C] SD of the progressors' yearly decline of epsilon (same targets); the personal \
             twin's prior of a person's own drift is this distribution (docs/twin.md)";
        progression_start_age: "dm.beta.progression_start_age" = 41.5, "y", (0.0, 100.0),
            "[C] age from which a glycaemic progressor's own drift has acted: at entry, a \
             person of age a without diabetes is a progressor with the probability their \
             fasting glucose implies after a - this age years of drift (docs/model.md, \
             \"Glycaemic progressors at entry\"); joint diabetes fit (prior uniform 25-45 \
             around 40, the cohort's youngest age and the start of 特定健診)";
        fpg_reference_male: "dm.init.fpg_reference_male" = 97.0, "mg/dL", (50.0, 200.0),
            "Mean fasting glucose of men 40-49 without diabetes, the cohort's own marginal \
             (cohort::japan::FPG_NON_DIABETIC: weak, by decade, seijyou.net [unconfirmed]; \
             Ningen-dock FBG 97.1 at mean age 52 [V], JMAJ 2024-0328): the glucose a \
             progressor's drift starts from";
        fpg_reference_female: "dm.init.fpg_reference_female" = 90.0, "mg/dL", (50.0, 200.0),
            "Mean fasting glucose of women 40-49 without diabetes (same source as \
             dm.init.fpg_reference_male)";
        fpg_reference_sd: "dm.init.fpg_reference_sd" = 10.0, "mg/dL", (1.0, 50.0),
            "[A] SD of fasting glucose without diabetes at 40-49, the cohort's own \
             (cohort::japan::FPG_NON_DIABETIC)";
        decline_at_onset: "dm.beta.decline_at_baseline" = 0.04, "1/y", (0.0, 0.5),
            "UKPDS 16 (Diabetes 1995;44:1249): beta-cell function falls ~4%/y after diagnosis [M]; \
             sets the state of people with diabetes at baseline";
        // --- glycaemic readouts ----------------------------------------------------------
        hba1c_tau_days: "dm.hba1c.tau_days" = 49.9, "day", (10.0, 120.0),
            "[D] Tahara & Shima 1995 Diabetes Care 18:440: HbA1c half-time 34.6 d [V]; tau = 34.6/ln 2";
        mean_minus_fasting: "dm.hba1c.mean_minus_fasting" = 13.85, "mg/dL", (0.0, 60.0),
            "[D] JDS criteria equate FPG 126 mg/dL with HbA1c 6.5%; ADAG eAG(6.5%) = 139.85 \
             (Nathan 2008 Diabetes Care 31:1473 [V])";
        fpg_cv: "dm.measure.fpg_cv" = 0.05, "ratio", (0.0, 0.3),
            "Carlsen 2011 Clin Chem Lab Med 49:1501: within-person CV of FPG 4-5% [V]";
        hba1c_cv: "dm.measure.hba1c_cv" = 0.032, "ratio", (0.0, 0.2),
            "[D] sqrt(1.5%^2 + 2.8%^2): biological CV 1.2-1.9% (Carlsen 2011) and Japanese \
             inter-laboratory CV 2.4-3.3% (JDS 2015, Tonyobyo 58:45) [V]";
        // --- 75-g oral glucose tolerance test --------------------------------------------
        ogtt_load_mg_dl: "dm.ogtt.load_mg_dl" = 262.0, "mg/dL", (10.0, 3000.0),
            "[C] Glucose appearance of a 75-g load in the model's glucose space (75 g over the \
             distribution volume, bioavailability), calibrated so that Japanese people 40-55 \
             without known glucose intolerance have the mean 2-hour glucose of Circ J \
             2009;73:1062 (men 136.0, women 119.8 mg/dL [V abstract]); see docs/validation.md";
        ogtt_tau_min: "dm.ogtt.tau_min" = 40.0, "min", (5.0, 180.0),
            "[M] Time to peak of oral glucose appearance, R_a(t) = L t/tau^2 e^(-t/tau): the \
             appearance of oral glucose peaks 30-60 min after ingestion (Dalla Man 2007 IEEE \
             Trans Biomed Eng 54:1740, oral glucose model)";
        ogtt_incretin: "dm.ogtt.incretin" = 2.0, "ratio", (1.0, 5.0),
            "[M] Incretin effect: oral glucose releases about twice the insulin of the same \
             glycaemia given intravenously (Nauck 1986 J Clin Endocrinol Metab 63:492)";
        ogtt_cv_2h: "dm.measure.ogtt_cv_2h" = 0.167, "ratio", (0.0, 0.5),
            "[M] Within-person CV of the 2-hour OGTT glucose 16.7% (Mooy 1996 Diabetologia \
             39:298, Hoorn study)";
        // --- check-ups, diagnosis, care --------------------------------------------------
        checkup_male: "dm.checkup.attendance_male" = 0.615, "probability/y", (0.0, 1.0),
            "MHLW 特定健診 実施状況 FY2021: men 61.5% (ages 40-74) [V]";
        checkup_female: "dm.checkup.attendance_female" = 0.515, "probability/y", (0.0, 1.0),
            "MHLW 特定健診 実施状況 FY2021: women 51.5% (ages 40-74) [V]";
        checkup_75plus: "dm.checkup.attendance_75plus" = 0.25, "probability/y", (0.0, 1.0),
            "[A] 後期高齢者健診 attendance (no national figure read)";
        checkup_persistence: "dm.checkup.persistence" = 0.5, "share of variance", (0.0, 1.0),
            "[A] share of the latent attendance propensity that is the person's own";
        followup_below_7: "dm.referral.visit_below_7" = 0.17, "probability", (0.0, 1.0),
            "Matsumura 2023 J Diabetes Investig 14:695: visited a clinic within 6 months after \
             a check-up HbA1c <7.0% [V]";
        followup_7_to_8: "dm.referral.visit_7_to_8" = 0.26, "probability", (0.0, 1.0),
            "Matsumura 2023: HbA1c 7.0-7.4% 26.7%, 7.5-7.9% 25.4% [V]";
        followup_8_plus: "dm.referral.visit_8_plus" = 0.284, "probability", (0.0, 1.0),
            "Matsumura 2023: HbA1c >=8.0% 28.4% [V]";
        clinical_testing: "dm.diagnosis.clinical_testing_per_year" = 0.3, "1/y", (0.0, 5.0),
            "[A] glucose tested in routine care of people treated for hypertension or \
             dyslipidaemia";
        symptomatic: "dm.diagnosis.symptomatic_per_year" = 0.5, "1/y", (0.0, 12.0),
            "[A] diagnosis from symptoms once HbA1c >= 9%";
        treat_at_diagnosis: "dm.care.treat_at_diagnosis" = 0.674, "probability", (0.0, 1.0),
            "NHNS 2024: 67.4% of people told they have diabetes are treated [V shared §5]";
        target_hba1c: "dm.care.target_hba1c" = 7.0, "%", (5.5, 9.0),
            "Japan Diabetes Society treatment guide: HbA1c < 7.0% to prevent complications [V]";
        intensify_per_visit: "dm.care.intensify_per_visit" = 0.1, "probability", (0.0, 1.0),
            "[A] clinical inertia: chance a quarterly visit above target intensifies treatment";
        adherent_share: "dm.care.adherent_share" = 0.70, "probability", (0.0, 1.0),
            "Japanese claims, new DPP-4i users: PDC >= 80% in 67.2% (mono) / 74.4% (dual) [V]";
        adherence_low: "dm.care.adherence_low" = 0.5, "ratio", (0.0, 1.0),
            "[A] effect of treatment in non-adherent people, relative to full adherence \
             (mean PDC 76.6% [V] with 0.95 in adherent people)";
        // --- drug mechanisms ----------------------------------------------------------------
        metformin_r0: "dm.rx.metformin.r0_reduction" = 0.24, "ratio", (0.0, 0.8),
            "Hundal 2000 Diabetes 49:2063: metformin lowers endogenous glucose production 24% [V]";
        dpp4_secretion: "dm.rx.dpp4.secretion_gain" = 0.25, "ratio", (0.0, 3.0),
            "[C] gives about -0.9 %-points HbA1c in a typical treated person (Kim 2013 \
             Diabetologia 56:696: -0.92 in Asian-majority trials [V])";
        metformin_prevention_r0: "dm.prevention.metformin_r0_reduction" = 0.025, "ratio", (0.0, 0.8),
            "[C] DPP metformin arm (Knowler 2002: 7.8 vs 11.0 per 100 PY, RRR 31%): glucose \
             production lowered in people without diabetes (lower than Hundal's 24% in T2D)";
        insulin_start: "dm.rx.insulin.start" = 4.0, "uU/mL", (0.0, 50.0),
            "[A] basal insulin starting dose as plasma-insulin equivalent";
        insulin_titration: "dm.rx.insulin.titration" = 2.0, "uU/mL per visit", (0.0, 20.0),
            "[A] increase per quarterly visit above target";
        insulin_max: "dm.rx.insulin.max" = 40.0, "uU/mL", (0.0, 200.0),
            "[A] largest plasma-insulin equivalent dose";
        hypo_oral: "dm.hypo.oral_per_year" = 0.007, "1/y", (0.0, 0.5),
            "UKPDS 33 (Lancet 1998;352:837): major hypoglycaemia 0.7%/y in the diet arm [V] (oral \
             agents without sulfonylurea assumed similar)";
        hypo_insulin: "dm.hypo.insulin_per_year" = 0.018, "1/y", (0.0, 0.5),
            "UKPDS 33: major hypoglycaemia 1.8%/y on insulin [V]";
        // --- kidney ---------------------------------------------------------------------------
        normo_to_micro: "dm.kidney.normo_to_micro" = 0.020, "1/y", (0.0, 0.5),
            "UKPDS 64 (Adler 2003 Kidney Int 63:225) [V]";
        micro_to_macro: "dm.kidney.micro_to_macro" = 0.028, "1/y", (0.0, 0.5),
            "UKPDS 64 [V]";
        albuminuria_per_hba1c: "dm.kidney.per_hba1c" = 0.6, "log HR per %-point", (0.0, 2.0),
            "[D] JDCS (Katayama 2011 Diabetologia 54:1025): HR 2.72 for HbA1c 7-9% and 5.81 for \
             >=9% vs <7% [V]; centred at 8%";
        egfr_decline: "dm.kidney.egfr_decline" = 0.36, "mL/min/1.73m2/y", (0.0, 5.0),
            "Imai 2008 Hypertens Res 31:433: Japanese general population [V]";
        egfr_decline_dm: "dm.kidney.egfr_decline_diabetes" = 0.9, "mL/min/1.73m2/y", (0.0, 10.0),
            "[D] hypertensive T2D 3.3 vs non-diabetic 2.4 /y (Vasc Health Risk Manag 2017 [V shared §2])";
        egfr_decline_micro: "dm.kidney.egfr_decline_micro" = 0.66, "mL/min/1.73m2/y", (0.0, 10.0),
            "[D] JDCS microalbuminuria with retinopathy -1.92/y (Moriya 2013) minus 1.26";
        egfr_decline_macro: "dm.kidney.egfr_decline_macro" = 3.0, "mL/min/1.73m2/y", (0.0, 20.0),
            "[A] extra decline with macroalbuminuria";
        // --- UKPDS OM2 covariates not in the cohort -------------------------------------------
        om2_heart_rate: "dm.om2.heart_rate" = 72.0, "bpm", (40.0, 120.0),
            "[A] resting heart rate for the OM2 blindness and death equations";
        om2_wbc: "dm.om2.wbc" = 6.6, "10^9/L", (2.0, 20.0),
            "[A] white cell count (the OM2 worked example's value, shared §1.8)";
        om2_haemoglobin: "dm.om2.haemoglobin" = 14.0, "g/dL", (7.0, 20.0),
            "[A] haemoglobin for the OM2 renal-failure equation";
        // --- mortality ---------------------------------------------------------------------------
        hr_dm_male: "dm.mortality.hr_male" = 1.60, "HR", (1.0, 5.0),
            "JPHC (Kato 2015 BMJ Open 5:e007736): all-cause HR of diabetes, men 1.60 (95% CI 1.49-1.71) [V]";
        hr_dm_female: "dm.mortality.hr_female" = 1.98, "HR", (1.0, 5.0),
            "JPHC (Kato 2015): women 1.98 (95% CI 1.77-2.21) [V]";
        lhr_esrd: "dm.mortality.log_hr_esrd" = 1.150, "log HR", (0.0, 3.0),
            "UKPDS OM2 (Hayes 2013) death with history: ESRD 1.150 [V shared §1.8]";
        lhr_amputation: "dm.mortality.log_hr_amputation" = 0.539, "log HR", (0.0, 3.0),
            "UKPDS OM2 death with history: amputation 0.539 [V shared §1.8]";
        lhr_albuminuria: "dm.mortality.log_hr_albuminuria" = 0.348, "log HR", (0.0, 3.0),
            "UKPDS OM2 death with history: MMALB 0.348 [V shared §1.8]";
    }
}

/// NHNS 2016 diabetes ("strongly suspected") prevalence, % by age (shared
/// diabetes_cvd.md §5 [V]): men 30–39 1.3, 50–59 12.6, ≥70 23.2; women 0.7, 6.1, 16.8.
/// Points at band midpoints, 0 at 20, flat after 75.
pub const NHNS_2016_PREVALENCE: [[(f64, f64); 4]; 2] = [
    [(20.0, 0.0), (35.0, 1.3), (55.0, 12.6), (75.0, 23.2)],
    [(20.0, 0.0), (35.0, 0.7), (55.0, 6.1), (75.0, 16.8)],
];

/// NHNS 2016 prevalence (as a share) at `age` for sex index `sex`, linearly interpolated.
pub fn nhns_prevalence(sex: usize, age: f64) -> f64 {
    let pts = &NHNS_2016_PREVALENCE[sex];
    if age <= pts[0].0 {
        return pts[0].1 / 100.0;
    }
    for w in pts.windows(2) {
        let ((a0, p0), (a1, p1)) = (w[0], w[1]);
        if age <= a1 {
            return (p0 + (p1 - p0) * (age - a0) / (a1 - a0)) / 100.0;
        }
    }
    pts[pts.len() - 1].1 / 100.0
}
