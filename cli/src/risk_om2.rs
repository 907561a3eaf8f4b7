//! `healthtwin risk --equation ukpds-om2-…`: the UKPDS Outcomes Model 2 equations the
//! simulator itself runs (Hayes 2013 Diabetologia 56:1925; `models::diabetes::ukpds_om2`),
//! for one person with diabetes: the probability of the event in the next year at the
//! person's current diabetes duration and age.
//!
//! Inputs come from the same flags and patient file as the other equations (validated by
//! `risk::to_risk_input`), plus the OM2-only flags of [`Om2Flags`]. A covariate an equation
//! needs but that was not given is an input error naming its flag.

use std::fmt::Write as _;

use anyhow::Result;
use engine::units;
use models::diabetes::ukpds_om2::{
    self, annual_probability, Covariate, Om2Covariates, Om2Equation,
};

use crate::input_error;
use crate::risk::{Om2Flags, Patient};

/// The OM2 equations by command-line name (`ukpds-om2-<event>`); `mi`, `stroke` and
/// `amputation` pick the first-event or subsequent-event equation from the history, `mi`
/// also by sex, `death` by history (Gompertz without an event this year).
pub const NAMES: [&str; 9] = [
    "ukpds-om2-chf",
    "ukpds-om2-ihd",
    "ukpds-om2-mi",
    "ukpds-om2-stroke",
    "ukpds-om2-blindness",
    "ukpds-om2-ulcer",
    "ukpds-om2-amputation",
    "ukpds-om2-renal-failure",
    "ukpds-om2-death",
];

pub fn is_om2(name: &str) -> bool {
    name.starts_with("ukpds-om2")
}

/// The flag that gives each continuous covariate.
fn flag_of(c: Covariate) -> &'static str {
    match c {
        Covariate::AgeAtDiagnosis | Covariate::CurrentAge => "--age and --years-since-dm-dx",
        Covariate::DiabetesDuration => "--years-since-dm-dx",
        Covariate::Hba1c => "--hba1c",
        Covariate::Sbp => "--sbp",
        Covariate::Ldl | Covariate::LdlSplineAbove3p5 => "--ldl",
        Covariate::Hdl => "--hdl",
        Covariate::Bmi | Covariate::BmiUnderweight | Covariate::BmiOverweight => "--bmi",
        Covariate::Egfr | Covariate::EgfrSplineBelow60 | Covariate::EgfrSplineAbove60 => "--egfr",
        Covariate::HeartRate => "--heart-rate",
        Covariate::Wbc => "--wbc",
        Covariate::Haemoglobin => "--haemoglobin",
        _ => "a flag",
    }
}

/// The OM2 covariates of a person (continuous values not given are NaN).
pub fn covariates(p: &Patient, flags: &Om2Flags) -> Result<Om2Covariates> {
    let x = &p.input;
    let duration = x.years_since_dm_dx;
    let mut c = Om2Covariates {
        age_at_diagnosis_years: x.age_years - duration,
        diabetes_duration_years: duration,
        female: !x.male(),
        afro_caribbean: x.ethnicity.is_black(),
        asian_indian: x.ethnicity == models::cvd::equations::Ethnicity::Indian,
        smoker: x.smoker,
        atrial_fibrillation: x.atrial_fibrillation,
        pvd: flags.pvd.unwrap_or(false),
        albuminuria: flags.albuminuria.unwrap_or(false),
        hba1c_pct: x.hba1c_pct,
        sbp_mmhg_div10: x.sbp_mmhg / 10.0,
        ldl_mmol_l_x10: units::cholesterol_mmol_l(x.ldl_mg_dl) * 10.0,
        hdl_mmol_l_x10: units::cholesterol_mmol_l(x.hdl_mg_dl) * 10.0,
        bmi_kg_m2: x.bmi_kg_m2,
        egfr_div10: x.egfr_ml_min / 10.0,
        heart_rate_bpm_div10: flags.heart_rate.map_or(f64::NAN, |v| v / 10.0),
        wbc_10e9_per_l: flags.wbc.unwrap_or(f64::NAN),
        haemoglobin_g_dl: flags.haemoglobin.unwrap_or(f64::NAN),
        ..Om2Covariates::default()
    };
    for (key, v, lo, hi) in [
        ("heart_rate", flags.heart_rate, 20.0, 250.0),
        ("wbc", flags.wbc, 0.5, 100.0),
        ("haemoglobin", flags.haemoglobin, 3.0, 25.0),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && (lo..=hi).contains(&v)) {
                return Err(input_error(format!(
                    "--{} = {v} is implausible (accepted {lo}–{hi})",
                    key.replace('_', "-")
                )));
            }
        }
    }
    if duration.is_finite() && duration < 0.0 || duration > x.age_years {
        return Err(input_error(
            "--years-since-dm-dx must be between 0 and the person's age",
        ));
    }
    for h in &flags.history {
        match h.as_str() {
            "amputation" => c.amputation_history = true,
            "blindness" => c.blindness_history = true,
            "chf" => c.chf_history = true,
            "ihd" => c.ihd_history = true,
            "mi" => c.mi_history = true,
            "stroke" => c.stroke_history = true,
            "ulcer" => c.ulcer_history = true,
            "renal-failure" => c.esrd_history = true,
            other => {
                return Err(input_error(format!(
                    "--history {other}: not one of amputation, blindness, chf, ihd, mi, \
                     stroke, ulcer, renal-failure"
                )))
            }
        }
    }
    Ok(c)
}

/// The equation a command-line name selects for this person.
pub fn equation(name: &str, c: &Om2Covariates) -> Result<&'static Om2Equation> {
    let any_history = c.mi_history
        || c.ihd_history
        || c.chf_history
        || c.stroke_history
        || c.amputation_history
        || c.blindness_history
        || c.esrd_history;
    Ok(match name {
        "ukpds-om2-chf" => &ukpds_om2::CHF,
        "ukpds-om2-ihd" => &ukpds_om2::IHD,
        "ukpds-om2-mi" if c.mi_history => &ukpds_om2::MI_SUBSEQUENT,
        "ukpds-om2-mi" => ukpds_om2::mi_first_equation(c.female),
        "ukpds-om2-stroke" if c.stroke_history => &ukpds_om2::STROKE_SUBSEQUENT,
        "ukpds-om2-stroke" => &ukpds_om2::STROKE_FIRST,
        "ukpds-om2-blindness" => &ukpds_om2::BLINDNESS,
        "ukpds-om2-ulcer" => &ukpds_om2::ULCER,
        "ukpds-om2-amputation" if c.amputation_history => &ukpds_om2::AMPUTATION_SUBSEQUENT,
        "ukpds-om2-amputation" => ukpds_om2::amputation_first_equation(c.ulcer_history),
        "ukpds-om2-renal-failure" => &ukpds_om2::RENAL_FAILURE,
        "ukpds-om2-death" => ukpds_om2::death_equation(any_history, false),
        other => {
            return Err(input_error(format!(
                "unknown equation `{other}`; the UKPDS OM2 equations: {}",
                NAMES.join(", ")
            )))
        }
    })
}

/// One-year probability of `name`'s event, or an input error naming a missing flag.
pub fn probability(name: &str, c: &Om2Covariates) -> Result<(&'static Om2Equation, f64)> {
    let eq = equation(name, c)?;
    if !c.diabetes_duration_years.is_finite() {
        return Err(input_error(format!(
            "{name}: needs the years since diabetes was diagnosed (--years-since-dm-dx)"
        )));
    }
    for &(cov, _) in eq.terms {
        if !cov.value(c).is_finite() {
            return Err(input_error(format!(
                "{name}: needs {} ({})",
                cov.name(),
                flag_of(cov)
            )));
        }
    }
    let p = annual_probability(eq, c);
    if !p.is_finite() {
        return Err(input_error(format!(
            "{name}: the inputs give no probability"
        )));
    }
    Ok((eq, p))
}

/// The table of OM2 results.
pub fn render(names: &[String], c: &Om2Covariates) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "UKPDS Outcomes Model 2 (Hayes 2013 Diabetologia 56:1925), the simulator's own \
         equations: probability of the event in the next year at diabetes duration {:.1} y, \
         age {:.1}",
        c.diabetes_duration_years,
        c.current_age_years()
    );
    let _ = writeln!(
        out,
        "{:<26} {:<34} {:>10}",
        "equation", "OM2 equation", "1-year risk"
    );
    for name in names {
        let (eq, p) = probability(name, c)?;
        let _ = writeln!(out, "{:<26} {:<34} {:>8.4} %", name, eq.name, 100.0 * p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::{to_risk_input, PatientSpec, Quantity};

    #[test]
    fn reproduces_the_esm_worked_chf_example() {
        // Hayes 2013 ESM worked CHF example (reproduced by COMPAR-EU, "same as in the
        // paper"): a man of 70 diagnosed 8 years ago, LDL 3.0 mmol/L, BMI 32, eGFR 50,
        // albuminuria, an earlier amputation: annual probability 0.02673152.
        let spec = PatientSpec {
            sex: Some("male".into()),
            age: Some(70.0),
            years_since_dm_dx: Some(8.0),
            ldl: Some(Quantity::Text("3.0 mmol/L".into())),
            bmi: Some(32.0),
            egfr: Some(50.0),
            diabetes: Some(true),
            ..PatientSpec::default()
        };
        let p = to_risk_input(&spec).unwrap();
        let flags = Om2Flags {
            albuminuria: Some(true),
            history: vec!["amputation".into()],
            ..Om2Flags::default()
        };
        let c = covariates(&p, &flags).unwrap();
        let (_, prob) = probability("ukpds-om2-chf", &c).unwrap();
        assert!((prob - 0.02673152).abs() < 5e-8, "{prob}");
        // A needed covariate missing names its flag.
        let err = probability("ukpds-om2-blindness", &c)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--hba1c") || err.contains("--heart-rate"),
            "{err}"
        );
    }
}
