//! Anomaly alerts: every reading is scored against the twin's one-step-ahead predictive
//! distribution from the readings before it (`personalise::Posterior::one_step`: the
//! glycaemic particles' weights and the linear-Gaussian and frailty blocks taken
//! sequentially). A reading whose two-sided predictive p-value is below the threshold
//! (default 0.01), or the last of a run of readings of one quantity all on the same side of
//! the predictive distribution beyond a tail probability (a sustained drift: default three
//! in a row beyond the 10% tail, together p < 0.002 under the twin), raises an alert with the
//! quantity, the reading, the expected band and a suggested action.
//!
//! Must never: print; hold anything but pseudonyms and numbers.

use crate::person::Quantity;
use crate::personalise::Scored;

/// When a reading raises an alert.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlertRule {
    /// Two-sided predictive p-value below which one reading alerts.
    pub p_threshold: f64,
    /// Readings in a row beyond the tail that make a sustained drift (0: off).
    pub drift_run: usize,
    /// Tail probability of each reading of a drift run.
    pub drift_tail: f64,
    /// Only readings at or after this time (years from the index date) alert.
    pub since_years: f64,
}

impl Default for AlertRule {
    fn default() -> Self {
        AlertRule {
            p_threshold: 0.01,
            drift_run: 3,
            drift_tail: 0.10,
            since_years: f64::NEG_INFINITY,
        }
    }
}

/// Why a reading alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// One reading far outside the predictive distribution.
    Outlier,
    /// Several readings in a row on the same side.
    SustainedDrift,
}

impl AlertKind {
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::Outlier => "outlier",
            AlertKind::SustainedDrift => "sustained_drift",
        }
    }
}

/// One alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    pub reading: Scored,
    /// Above (true) or below the expected band.
    pub high: bool,
    /// Suggested action (English, Japanese).
    pub action_en: &'static str,
    pub action_ja: &'static str,
}

/// The alerts of a person's scored readings.
pub fn alerts(scored: &[Scored], rule: &AlertRule) -> Vec<Alert> {
    let mut out = Vec::new();
    for (i, s) in scored.iter().enumerate() {
        if s.t_years < rule.since_years || !s.pit.is_finite() {
            continue;
        }
        let high = s.pit > 0.5;
        if s.p_two_sided() < rule.p_threshold {
            out.push(alert(AlertKind::Outlier, *s, high));
            continue;
        }
        if rule.drift_run >= 2 {
            let same: Vec<&Scored> = scored[..=i]
                .iter()
                .filter(|x| x.quantity == s.quantity)
                .collect();
            if same.len() >= rule.drift_run {
                let tail = &same[same.len() - rule.drift_run..];
                let up = tail.iter().all(|x| x.pit > 1.0 - rule.drift_tail);
                let down = tail.iter().all(|x| x.pit < rule.drift_tail);
                // Alert once per run: at the reading that completes it.
                let before = same.len() > rule.drift_run && {
                    let prev = &same[same.len() - rule.drift_run - 1..same.len() - 1];
                    (up && prev.iter().all(|x| x.pit > 1.0 - rule.drift_tail))
                        || (down && prev.iter().all(|x| x.pit < rule.drift_tail))
                };
                if (up || down) && !before {
                    out.push(alert(AlertKind::SustainedDrift, *s, up));
                }
            }
        }
    }
    out
}

fn alert(kind: AlertKind, reading: Scored, high: bool) -> Alert {
    let (action_en, action_ja) = action(reading.quantity, high);
    Alert {
        kind,
        reading,
        high,
        action_en,
        action_ja,
    }
}

/// What to suggest for a quantity moving up or down beyond the twin's expectation.
pub fn action(q: Quantity, high: bool) -> (&'static str, &'static str) {
    match (q, high) {
        (Quantity::Hba1c | Quantity::Fpg, true) => (
            "Early check-up: repeat fasting glucose and HbA1c; assess for diabetes.",
            "早期の受診勧奨：空腹時血糖とHbA1cの再検査、糖尿病の評価。",
        ),
        (Quantity::Hba1c | Quantity::Fpg, false) => (
            "Review: check for hypoglycaemia, over-treatment or a measurement error.",
            "確認：低血糖、過剰治療、測定誤差の可能性。",
        ),
        (Quantity::Sbp, true) => (
            "Early check-up: repeat blood pressure (home readings); review treatment.",
            "早期の受診勧奨：血圧の再測定（家庭血圧）と治療の見直し。",
        ),
        (Quantity::Sbp, false) => (
            "Review: low blood pressure; check medication and symptoms.",
            "確認：血圧低下。服薬状況と症状の確認。",
        ),
        (Quantity::Ldl, true) => (
            "Check-up: repeat lipids; review diet and lipid-lowering treatment.",
            "受診勧奨：脂質の再検査、食事と脂質異常症治療の見直し。",
        ),
        (Quantity::Ldl, false) => (
            "Review: an unexpected fall in LDL; confirm the measurement.",
            "確認：LDLの予想外の低下。測定の確認。",
        ),
        (Quantity::Bmi, true) => (
            "Check-up: weight gain beyond the expected; lifestyle counselling.",
            "受診勧奨：予想を超える体重増加。生活習慣の相談。",
        ),
        (Quantity::Bmi, false) => (
            "Early check-up: unexpected weight loss (frailty, undernutrition, illness).",
            "早期の受診勧奨：予想外の体重減少（フレイル、低栄養、疾患）。",
        ),
        (Quantity::Fi, true) => (
            "Early frailty assessment (Kihon Checklist, community support).",
            "早期のフレイル評価（基本チェックリスト、介護予防の利用）。",
        ),
        (Quantity::Fi, false) => (
            "Note: frailty index lower than expected.",
            "参考：フレイル指数が予想より低い。",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: f64, pit: f64) -> Scored {
        Scored {
            quantity: Quantity::Hba1c,
            t_years: t,
            observed: 6.0,
            mean: 5.6,
            lo90: 5.3,
            hi90: 5.9,
            pit,
        }
    }

    #[test]
    fn outliers_and_drifts_alert_once() {
        let rule = AlertRule::default();
        let a = alerts(&[s(-2.0, 0.5), s(-1.0, 0.999), s(0.0, 0.6)], &rule);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].kind, AlertKind::Outlier);
        assert!(a[0].high);
        // Three readings in the upper 10% tail: one drift alert, at the third.
        let a = alerts(
            &[s(-3.0, 0.95), s(-2.0, 0.93), s(-1.0, 0.96), s(0.0, 0.97)],
            &rule,
        );
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].kind, a[0].reading.t_years),
            (AlertKind::SustainedDrift, -1.0)
        );
        // Nothing unusual: no alert.
        assert!(alerts(&[s(-1.0, 0.4), s(0.0, 0.7)], &rule).is_empty());
    }
}
