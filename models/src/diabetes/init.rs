//! A person's diabetes state at entry, consistent with their baseline fasting glucose,
//! HbA1c, diagnosis and treatment.
//!
//! Must never: draw except from the person's `dm.init`, kidney and hypoglycaemia streams.

use engine::math::ExpDet;
use engine::patient::{Conditions, Treatments};
use engine::rng::Stream;
use engine::{Baseline, RunKey};

use super::topp::TOPP_2000;
use super::{dpp, params, Diabetes, DmState, FPG_DIABETES, HBA1C_DIABETES, HYPO, INIT, KIDNEY};
use super::{NORMO, RX_DPP4, RX_NONE};

impl Diabetes {
    /// The diabetes state of a person at the start of the run, consistent with their
    /// baseline fasting glucose, HbA1c, diagnosis and treatment.
    pub fn init(&self, run: RunKey, b: &Baseline) -> DmState {
        self.init_with(run, b, true)
    }

    /// As `init`, with the insulin-sensitivity fluctuation at 0 (its mean): the personal
    /// twin's particles, whose likelihood carries the fluctuation as process noise rather
    /// than as a state frozen over the history.
    pub fn init_mean_fluctuation(&self, run: RunKey, b: &Baseline) -> DmState {
        self.init_with(run, b, false)
    }

    fn init_with(&self, run: RunKey, b: &Baseline, fluctuate: bool) -> DmState {
        let p = &self.p;
        let c = &b.covariates;
        let mut s = Stream::new(engine::rng::StreamKey::new(run, INIT), b.id, 0);
        let (z_si, z_r0, z_cap, u_onset, u_adh, u_month, z_att) = (
            s.std_normal(),
            s.std_normal(),
            s.std_normal(),
            s.uniform(),
            s.uniform(),
            s.uniform(),
            s.std_normal(),
        );
        // The person's own drift of ε before onset (drawn after every earlier draw of the
        // stream, so adding it moved none of them).
        let (u_prog, z_prog) = (s.uniform(), s.std_normal());
        // The fluctuation of insulin sensitivity at entry, from its stationary distribution
        // (a cohort enters mid-fluctuation; started at 0, every person's first year would
        // fluctuate less than the later ones and incidence would rise over the first years).
        let z_fluct = if fluctuate { s.std_normal() } else { 0.0 };
        // The measured baseline reading (floored where the physiology has no solution).
        let baseline_fpg_mg_dl = c.fpg_mg_dl.max(40.0);
        let hba1c_pct = c.hba1c_pct;
        let diagnosed = c.conditions.contains(Conditions::DIABETES);
        let treated = c.treatments.contains(Treatments::GLUCOSE_LOWERING);
        let dm = diagnosed
            || treated
            || hba1c_pct >= HBA1C_DIABETES
            || baseline_fpg_mg_dl >= FPG_DIABETES;
        // Without diabetes, the drift given the age and glucose at entry; with it, the
        // drift no longer acts (onset has happened) and the prior draw is kept.
        let efficiency_drift = if dm {
            self.progressor_drift(b.sex.index(), u_prog, z_prog)
        } else {
            self.progressor_drift_at_entry(
                b.sex.index(),
                b.age_years,
                baseline_fpg_mg_dl,
                u_prog,
                z_prog,
            )
        };
        let onset_age = dm.then(|| b.age_years - self.duration_at_baseline(b, u_onset));
        let mut st = DmState {
            beta: 0.0,
            capacity: 0.0,
            fpg_mg_dl: baseline_fpg_mg_dl,
            insulin_uu_ml: 0.0,
            efficiency: 1.0,
            efficiency_drift,
            si_person: (p.si_sd_log * z_si).exp_det(),
            r0: TOPP_2000.r0 * (p.r0_sd_log * z_r0).exp_det(),
            glycation: 0.0,
            si_fluctuation: p.si_fluctuation_sd * z_fluct,
            si_z_next: f64::INFINITY,
            physiology_month: 0,
            stiff: false,
            onset_age,
            diagnosed: diagnosed || treated,
            rx: if treated { RX_DPP4 } else { RX_NONE },
            adherence: if u_adh < p.adherent_share {
                0.95
            } else {
                p.adherence_low
            },
            insulin_dose: 0.0,
            checkup_month: ((u_month * 12.0) as u8).min(11),
            checkup_z: z_att,
            albuminuria: NORMO,
            kidney_clock: Stream::new(
                engine::rng::StreamKey::new(run, KIDNEY),
                b.id,
                u32::from(NORMO),
            )
            .exp1(),
            hypo_clock: Stream::new(engine::rng::StreamKey::new(run, HYPO), b.id, 0).exp1(),
            blind: false,
            ulcer: false,
            amputations: 0,
            esrd: false,
            prevention: dpp::Arm::None,
            prevention_scale: 1.0,
            checkup_assured: false,
        };
        let inputs = self.inputs(&st, b.age_years, c);
        // The mass that produces the observed glucose; if treatment alone would already
        // push glucose below the observed value, a small residual mass.
        st.beta = self
            .phys
            .beta_for_glucose(&inputs, baseline_fpg_mg_dl)
            .unwrap_or(1.0)
            .max(1.0);
        // Capacity relative to the mass the person needs now (headroom at age 40), less the
        // loss at normal glucose since 40, so a cohort starts in the state its age implies
        // rather than everyone with a 40-year-old's reserve.
        st.capacity = st.beta
            * p.capacity_headroom
            * (p.capacity_sd_log * z_cap - p.capacity_loss * (b.age_years - 40.0)).exp_det();
        let growth = if dm { -p.decline_at_onset / 365.0 } else { 0.0 };
        st.efficiency = self
            .phys
            .efficiency_for(st.beta, st.capacity, baseline_fpg_mg_dl, growth)
            .max(1e-3);
        (st.fpg_mg_dl, st.insulin_uu_ml) = self.phys.fasting(
            &self.inputs(&st, b.age_years, c),
            st.beta,
            baseline_fpg_mg_dl,
        );
        st.glycation = (hba1c_pct - self.phys.hba1c_target(st.fpg_mg_dl, 0.0)).clamp(-2.0, 2.0);
        st.stiff = self.is_stiff(&self.inputs(&st, b.age_years, c), &st);
        st
    }

    /// A person's own yearly decline of ε before onset from a uniform `u` and a standard
    /// normal `z`: with probability `dm.beta.progressor_share` (times
    /// `dm.beta.progressor_share_female_ratio` for women, `sex` index 1) a glycaemic
    /// progressor's N(`dm.beta.progressor_drift_mean`, `dm.beta.progressor_drift_sd`²)
    /// draw, otherwise 0. The population's draw at entry and the personal twin's prior.
    pub fn progressor_drift(&self, sex: usize, u: f64, z: f64) -> f64 {
        let p = &self.p;
        let share = if sex == 1 {
            (p.progressor_share * p.progressor_share_female_ratio).min(1.0)
        } else {
            p.progressor_share
        };
        if u < share {
            p.progressor_drift_mean + p.progressor_drift_sd * z
        } else {
            0.0
        }
    }

    /// A person's own yearly decline of ε before onset, given that they are `age_years`
    /// old, without diabetes, with fasting glucose `fpg_mg_dl` (docs/model.md, "Glycaemic
    /// progressors at entry"), from a uniform `u` and a standard normal `z`.
    ///
    /// A progressor's drift `d` has acted since `dm.beta.progression_start_age`, Δ years,
    /// so their log glucose is the reference distribution at 40-49
    /// (`dm.init.fpg_reference_*`, log-normal with variance σ²) shifted by `d·Δ`; a
    /// non-progressor's is not shifted. With `y` the person's log glucose less the
    /// reference's log mean, the likelihood ratio of a progressor with drift `d` is
    /// exp((d·Δ·y − d²Δ²/2)/σ²). Averaged over the prior N(m, s²) of `d` it has a closed
    /// form, which gives the posterior probability of being a progressor (`u` below it:
    /// a progressor), and the posterior of `d` is normal with precision B + 1/s², B = Δ²/σ²,
    /// and mean (A + m/s²)/(B + 1/s²), A = Δ·y/σ² (`z` draws from it). At Δ = 0 this is
    /// `progressor_drift`: the prior. A 65-year-old at 100 mg/dL is rarely a fast progressor
    /// (25 years of drift would have taken them past the threshold), so the cohort's
    /// non-diabetic people at older ages are not a fresh pool of progressors that all
    /// convert in the first years of the run.
    pub fn progressor_drift_at_entry(
        &self,
        sex: usize,
        age_years: f64,
        fpg_mg_dl: f64,
        u: f64,
        z: f64,
    ) -> f64 {
        let p = &self.p;
        let share = if sex == 1 {
            (p.progressor_share * p.progressor_share_female_ratio).min(1.0)
        } else {
            p.progressor_share
        };
        let delta = (age_years - p.progression_start_age).max(0.0);
        if share <= 0.0 || delta == 0.0 {
            return self.progressor_drift(sex, u, z);
        }
        let reference = if sex == 1 {
            p.fpg_reference_female
        } else {
            p.fpg_reference_male
        };
        let cv = p.fpg_reference_sd / reference;
        let var = (1.0 + cv * cv).ln_det();
        let y = fpg_mg_dl.max(1.0).ln_det() - (reference.ln_det() - 0.5 * var);
        let a = delta * y / var;
        let b = delta * delta / var;
        let (m, s) = (p.progressor_drift_mean, p.progressor_drift_sd);
        // log E[likelihood ratio] over the prior of d, and the posterior of d.
        let (log_lr, post_mean, post_sd) = if s > 0.0 {
            let s2 = s * s;
            let precision = b + 1.0 / s2;
            let num = a + m / s2;
            (
                -0.5 * (1.0 + b * s2).ln_det() + num * num / (2.0 * precision) - m * m / (2.0 * s2),
                num / precision,
                (1.0 / precision).sqrt(),
            )
        } else {
            (a * m - 0.5 * b * m * m, m, 0.0)
        };
        // P(progressor | glucose) = share·LR / (share·LR + 1 − share), in logs.
        let odds_log = log_lr + share.ln_det() - (1.0 - share).max(1e-300).ln_det();
        let posterior = if odds_log > 0.0 {
            1.0 / (1.0 + (-odds_log).exp_det())
        } else {
            let e = odds_log.exp_det();
            e / (1.0 + e)
        };
        if u < posterior {
            post_mean + post_sd * z
        } else {
            0.0
        }
    }

    /// Years since onset for a person with diabetes at baseline: onset ages follow the
    /// cross-sectional NHNS 2016 prevalence curve, P(onset ≤ x | diabetic at age a) =
    /// prev(x)/prev(a) (stationarity and no differential survival assumed).
    fn duration_at_baseline(&self, b: &Baseline, u: f64) -> f64 {
        let sex = b.sex.index();
        let target = u * params::nhns_prevalence(sex, b.age_years);
        // prev is non-decreasing: bisection on [20, age].
        let (mut lo, mut hi) = (20.0, b.age_years.max(20.0));
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if params::nhns_prevalence(sex, mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (b.age_years - 0.5 * (lo + hi)).max(0.0)
    }
}

/// A personal twin's glycaemic state at entry: the slow physiology of one posterior particle
/// at the index date (`twin` crate), replacing what [`Diabetes::init`] would derive from the
/// baseline readings and population draws. Fields set to NaN keep the model's own value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DmTraits {
    pub beta: f64,
    pub capacity: f64,
    pub efficiency: f64,
    /// The person's own yearly decline of ε ([`DmState::efficiency_drift`]).
    pub efficiency_drift: f64,
    pub si_person: f64,
    pub r0: f64,
    pub glycation: f64,
    /// Age at true onset when the particle's history crossed the JDS threshold (NaN: the
    /// model's rule at entry).
    pub onset_age: f64,
    /// Share of the drug effect the person gets (NaN: the model's draw).
    pub adherence: f64,
}

impl Default for DmTraits {
    fn default() -> Self {
        DmTraits {
            beta: f64::NAN,
            capacity: f64::NAN,
            efficiency: f64::NAN,
            efficiency_drift: f64::NAN,
            si_person: f64::NAN,
            r0: f64::NAN,
            glycation: f64::NAN,
            onset_age: f64::NAN,
            adherence: f64::NAN,
        }
    }
}

impl Diabetes {
    /// Replaces the person's slow physiology and traits at entry by a twin's (`t`, NaN
    /// fields kept), then recomputes what follows from them: the quasi-steady fasting
    /// glucose and insulin and the cadence. Draws nothing: the state's clocks and check-up
    /// month stay those of [`Diabetes::init`], so common random numbers hold across arms.
    pub fn personalise(&self, st: &mut DmState, b: &Baseline, t: &DmTraits) {
        let set = |x: &mut f64, v: f64| {
            if v.is_finite() {
                *x = v;
            }
        };
        set(&mut st.beta, t.beta);
        set(&mut st.capacity, t.capacity);
        set(&mut st.efficiency, t.efficiency);
        set(&mut st.efficiency_drift, t.efficiency_drift);
        set(&mut st.si_person, t.si_person);
        set(&mut st.r0, t.r0);
        set(&mut st.glycation, t.glycation);
        set(&mut st.adherence, t.adherence);
        if t.onset_age.is_finite() {
            st.onset_age = Some(t.onset_age.min(b.age_years));
        }
        let c = &b.covariates;
        (st.fpg_mg_dl, st.insulin_uu_ml) = self.phys.fasting(
            &self.inputs(st, b.age_years, c),
            st.beta,
            c.fpg_mg_dl.max(40.0),
        );
        st.stiff = self.is_stiff(&self.inputs(st, b.age_years, c), st);
    }
}
