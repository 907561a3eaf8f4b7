//! The deficit process: acquisition at λ·(1 − n/n_max) and repair of present deficits, as
//! an exact event clock within each step; its drivers (diabetes, cardiovascular history,
//! steps, BMI, social participation) refreshed yearly; deficits added by acute
//! cardiovascular events.
//!
//! Must never: draw in a step without an event (the clock decides).

use engine::math::DetMath;
use engine::observe::Recorder;
use engine::patient::Conditions;
use engine::rng::Stream;
use engine::{Patient, StepCtx};

use super::{items, FrState, Frailty, HasFrailty, ACUTE, CVD_FLAGS, DEFICITS};
use crate::diabetes::HasDm;

/// The `k`-th (0-based) set bit of `mask` (`k` < popcount).
#[inline]
pub(super) fn nth_set_bit(mut mask: u32, k: u32) -> u32 {
    for _ in 0..k {
        mask &= mask - 1;
    }
    mask.trailing_zeros()
}

/// Picks one bit of `a ∪ b` with weight `wa` for each bit of `a` and `wb` for each of `b`,
/// by inverting the cumulative weight at `u·total` (one uniform). `None` if both are empty.
#[inline]
pub(super) fn pick(a: u32, wa: f64, b: u32, wb: f64, u: f64) -> Option<u32> {
    let (na, nb) = (a.count_ones(), b.count_ones());
    let (ta, tb) = (wa * f64::from(na), wb * f64::from(nb));
    if ta + tb <= 0.0 {
        return None;
    }
    let x = u * (ta + tb);
    if x < ta && na > 0 {
        Some(nth_set_bit(a, ((x / wa) as u32).min(na - 1)))
    } else if nb > 0 {
        Some(nth_set_bit(b, (((x - ta) / wb) as u32).min(nb - 1)))
    } else {
        Some(nth_set_bit(a, na - 1))
    }
}

impl Frailty {
    /// Deficit count ceiling (acquisition stops there).
    pub fn max_deficits(&self) -> u32 {
        self.n_max
    }

    /// Social participation in effect: not housebound, not in a facility.
    #[inline]
    pub(super) fn social_active(st: &FrState) -> bool {
        st.social && !st.institution && st.deficits >> items::HOUSEBOUND & 1 == 0
    }

    /// The yearly refresh of the slow terms: λ with its drivers, the age factor of repair,
    /// the age part of the certification hazard.
    fn refresh<S: HasFrailty + HasDm>(&self, p: &mut Patient<S>) {
        let prm = &self.p;
        let age = p.age_years;
        let now = p.now;
        let dm = p.state.dm();
        let mut m = 1.0;
        if dm.has_diabetes() {
            m *= prm.driver_diabetes
                * prm
                    .driver_diabetes_per_decade
                    .powf_det(dm.duration_years(age) / 10.0);
        }
        for on in [dm.blind, dm.amputations > 0, dm.esrd] {
            if on {
                m *= prm.driver_complication;
            }
        }
        for (flag, hr) in [
            (Conditions::MI, prm.driver_mi),
            (Conditions::STROKE, prm.driver_stroke),
            (Conditions::HEART_FAILURE, prm.driver_hf),
        ] {
            if now.conditions.contains(flag) {
                m *= hr;
            }
        }
        let steps = if now.steps_per_day.is_finite() {
            now.steps_per_day.clamp(0.0, prm.steps_cap)
        } else {
            prm.steps_reference
        };
        m *= (prm.steps_log_per_1000 * (prm.steps_reference - steps) / 1000.0).exp_det();
        if now.bmi_kg_m2 < 18.5 {
            m *= prm.driver_underweight;
        } else if now.bmi_kg_m2 >= 30.0 {
            m *= prm.driver_obese;
        }
        let st = p.state.fr_mut();
        let social = Self::social_active(st);
        if social {
            m *= prm.driver_social;
        }
        // Below the floor age the reference FI is nearly flat (UK Biobank): intensity and
        // recovery are held at their values there.
        let a = age.max(prm.growth_floor_age) - 70.0;
        st.acquisition = prm.acquisition
            * (prm.acquisition_growth * a).exp_det()
            * st.exposure
            * m
            * f64::from(st.acq_factor);
        st.repair_scale = (-prm.recovery_time_growth * a).exp_det() * f64::from(st.repair_factor);
        st.jchs_age = (prm.jchs_weight_per_year * (age - 75.0)).exp_det();
        st.cert_base = if age >= 65.0 {
            (prm.cert_log_rate
                + prm.cert_per_year * (age - 80.0)
                + prm.cert_per_deficit * -8.0
                + if social {
                    prm.cert_social_hr.ln_det()
                } else {
                    0.0
                })
            .exp_det()
        } else {
            0.0
        };
    }

    /// Acquires one deficit chosen among the absent drawn items (no-op at the ceiling).
    fn acquire(&self, st: &mut FrState, u: f64) {
        if st.count() >= self.n_max {
            return;
        }
        let absent = !st.deficits;
        let wj = self.p.jchs_weight * st.jchs_age * (self.p.jchs_weight_per_fi * st.fi()).exp_det();
        if let Some(bit) = pick(
            absent & items::JCHS_MASK,
            wj,
            absent & items::OTHER_MASK,
            1.0,
            u,
        ) {
            st.deficits |= 1 << bit;
        }
    }

    /// Repairs one present drawn deficit, chosen in proportion to its repair rate.
    fn repair(&self, st: &mut FrState, u: f64) {
        if let Some(bit) = pick(
            st.deficits & items::JCHS_MASK,
            self.p.repair_jchs,
            st.deficits & items::OTHER_MASK,
            self.p.repair_other,
            u,
        ) {
            st.deficits &= !(1 << bit);
        }
    }

    /// Deficit acquisition and repair, cardiovascular events, long-term care and its cost
    /// over one step (the events phase, after the diabetes events).
    pub fn events<S: HasFrailty + HasDm>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        rec: &mut Recorder,
    ) {
        let dt = ctx.dt_years;
        let id = p.id();
        let before = p.state.fr().deficits;
        let refreshed = p.state.fr().cache_year != ctx.year;
        if refreshed {
            p.state.fr_mut().cache_year = ctx.year;
            self.refresh(p);
        }

        // Acute cardiovascular events: a flag not seen before.
        let mut cvd_now = 0u16;
        for f in CVD_FLAGS {
            if p.now.conditions.contains(f) {
                cvd_now |= f.0;
            }
        }
        let new_cvd = cvd_now & !p.state.fr().cvd_seen;
        if new_cvd != 0 {
            let mut s = ctx.stream(ACUTE, id);
            let mut extra = 0.0;
            for (flag, k) in [
                (Conditions::MI, self.p.mi_deficits),
                (Conditions::STROKE, self.p.stroke_deficits),
                (Conditions::HEART_FAILURE, self.p.hf_deficits),
            ] {
                if new_cvd & flag.0 != 0 {
                    extra += k;
                }
            }
            // A fractional number of deficits is rounded stochastically.
            let k = (extra + s.uniform()).floor() as u32;
            let st = p.state.fr_mut();
            st.cvd_seen |= new_cvd;
            for _ in 0..k {
                self.acquire(st, s.uniform());
            }
            self.refresh(p);
        }

        // Item 12 follows the BMI; at the ceiling it displaces a drawn deficit. The step's
        // draws are made only in a step with an event (or this rare displacement).
        let low_bmi = p.now.bmi_kg_m2 < 18.5;
        let mut draws: Option<Stream> = None;
        {
            let st = p.state.fr_mut();
            let has = st.deficits >> items::LOW_BMI & 1 == 1;
            if low_bmi != has {
                st.deficits ^= 1 << items::LOW_BMI;
                if low_bmi && st.count() > self.n_max {
                    let s = draws.get_or_insert_with(|| ctx.stream(DEFICITS, id));
                    self.repair(st, s.uniform());
                }
            }
        }

        // Acquisition and repair: the event clock is spent by the total rate; when it runs
        // out within the step, the event happens there, the clock is redrawn and the rest of
        // the step is spent at the new rates (exact: Gillespie within the step).
        {
            let prm = &self.p;
            let st = p.state.fr_mut();
            let acq_rate = |st: &FrState| {
                let n = st.count();
                if n >= self.n_max {
                    0.0
                } else {
                    st.acquisition * (1.0 - f64::from(n) / f64::from(self.n_max))
                }
            };
            let rep_rate = |st: &FrState| {
                st.repair_scale
                    * (prm.repair_jchs * f64::from((st.deficits & items::JCHS_MASK).count_ones())
                        + prm.repair_other
                            * f64::from((st.deficits & items::OTHER_MASK).count_ones()))
            };
            let mut left = dt;
            for _ in 0..64 {
                if st.deficits != st.rates_deficits
                    || st.acquisition != st.rates_acquisition
                    || st.repair_scale != st.rates_repair_scale
                {
                    st.rate_acq = acq_rate(st);
                    st.rate_rep = rep_rate(st);
                    st.rates_deficits = st.deficits;
                    st.rates_acquisition = st.acquisition;
                    st.rates_repair_scale = st.repair_scale;
                }
                let (a, r) = (st.rate_acq, st.rate_rep);
                let total = a + r;
                if total <= 0.0 {
                    break;
                }
                let spent = total * left;
                if spent < st.deficit_clock {
                    st.deficit_clock -= spent;
                    break;
                }
                left -= st.deficit_clock / total;
                let s = draws.get_or_insert_with(|| ctx.stream(DEFICITS, id));
                let (u_kind, u_item, u_clock) = (s.uniform(), s.uniform(), s.uniform());
                if u_kind * total < a {
                    self.acquire(st, u_item);
                } else {
                    self.repair(st, u_item);
                }
                st.deficit_clock = -u_clock.ln_det();
            }
        }

        if refreshed || p.state.fr().deficits != before {
            let st = p.state.fr_mut();
            st.hazard_ratio = self.fi_hazard_ratio(st.count());
            p.now.frailty_index = p.state.fr().fi();
        }

        self.long_term_care(ctx, p, rec);
    }
}

/// What an intervention programme may change in the deficit process; each verb has the
/// drivers refreshed at the person's next step.
impl Frailty {
    /// Sets whether the person takes part in community groups (in effect while not
    /// housebound and not in a facility).
    pub fn set_social_participation<S: HasFrailty>(st: &mut S, takes_part: bool) {
        let fr = st.fr_mut();
        fr.social = takes_part;
        fr.cache_year = u32::MAX;
    }

    /// Multiplies the person's deficit acquisition rate by `acquisition` and every repair
    /// rate by `repair` (1 and 1: no programme).
    pub fn set_deficit_rate_factors<S: HasFrailty>(st: &mut S, acquisition: f32, repair: f32) {
        let fr = st.fr_mut();
        fr.acq_factor = acquisition;
        fr.repair_factor = repair;
        fr.cache_year = u32::MAX;
    }
}
