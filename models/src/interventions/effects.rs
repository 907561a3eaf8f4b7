//! The effect sizes of the programme mechanisms that are not parameters of a disease module
//! (named, so calibration and probabilistic sensitivity analysis can set them), each with its
//! source. What the mechanisms do with them is in `mechanisms`.

crate::params::param_block! {
    /// Effect sizes of the programme mechanisms that are not parameters of a disease module
    /// (named, so calibration and probabilistic sensitivity analysis can set them).
    pub struct IxParams {
        intensive_hba1c_target: "ix.glucose_intensification.hba1c_target" = 6.2, "%",
            (4.0, 10.0),
            "Target HbA1c of the glucose-intensification programme: the J-DOIT3 intensive-arm \
             target (HbA1c < 6.2%; Ueki 2017 Lancet Diabetes Endocrinol 5:951, design [V]). \
             Usual care aims at < 7.0% (JDS) and steps up at 10% of visits above it [A]";
        cessation_quit_rr: "ix.smoking_cessation.quit_rr" = 1.83, "RR", (1.0, 10.0),
            "Relative quit rate with smoking-cessation support (behavioural support plus \
             pharmacotherapy vs brief advice or usual care): RR 1.83 (95% CI 1.68-1.98), \
             Stead 2016 Cochrane Database Syst Rev CD008286 [V]";
        exercise_acquisition: "ix.exercise_nutrition.acquisition_factor" = 0.735, "ratio",
            (0.05, 1.0),
            "[C] Exercise + nutrition programme: multiplier of the frailty deficit acquisition \
             rate at full strength (every repair rate is divided by it), calibrated so that \
             the model reproduces the Macdonald 2020 (Br J Gen Pract 70:e503) frailty RR 0.62 \
             (0.48-0.79) for resistance exercise plus nutrition supplementation: prefrail \
             people 65-89 without LTC certification, share frail (J-CHS >= 3) among \
             survivors after one year, programme vs none with common random numbers (RR \
             0.621 on the calibration cohort; 0.599 on the fresh cohort of \
             tests/interventions.rs)";
        exercise_share: "ix.exercise_nutrition.exercise_share" = 0.7, "share", (0.0, 1.0),
            "[A] Share of the exercise + nutrition effect on deficit acquisition a programme of \
             resistance exercise alone keeps (Macdonald 2020 pooled combined programmes; \
             exercise is taken as the larger part); nutrition alone keeps 1 - this share";
        weight_regain_years: "ix.weight.regain_years" = 2.82, "years", (0.1, 50.0),
            "Time constant of exponential weight regain after a structured weight-loss \
             programme ends: 5 years after programmes of hypoenergetic balanced diets, 17% \
             (13-22%) of the lost weight was still lost (Anderson 2001 Am J Clin Nutr 74:579, \
             meta-analysis of 29 US studies [V abstract]) -> tau = 5 / ln(1/0.17) = 2.82 y [C]";
        activity_relapse_years: "ix.activity.relapse_years" = 1.0, "years", (0.05, 50.0),
            "[A] Time constant of the fading of added daily activity after a lifestyle or \
             exercise programme ends (activity gains are known to fade within months to a \
             couple of years after support stops; no pooled time constant was found)";
    }
}
