//! The glucose physiology of one person over the run: the inputs the covariates, treatment
//! and prevention give the reduced Topp model, and its multi-rate step (monthly where inputs
//! change or onset is near, quarterly otherwise), with the insulin-sensitivity fluctuation.
//!
//! Must never: draw except from the quarter-keyed fluctuation stream (the same path for a
//! person whatever their cadence and scenario).

use engine::math::ExpDet;
use engine::patient::Covariates;
use engine::{Patient, StepCtx};

use super::physiology::{Inputs, BETA, CAPACITY, HBA1C};
use super::{dpp, Diabetes, DmState, HasDm, FLUCTUATION, QUARTER_DAYS, RX_DPP4, RX_INSULIN};
use super::{RX_METFORMIN, RX_NONE, STIFF_QUARTER};

impl Diabetes {
    /// Insulin sensitivity of a person now.
    #[inline]
    pub fn insulin_sensitivity(&self, st: &DmState, age: f64, now: &Covariates) -> f64 {
        let p = &self.p;
        let steps = now.steps_per_day.clamp(0.0, 20_000.0);
        // One exponential of the summed log effects.
        p.si_reference
            * st.si_person
            * (st.si_fluctuation - p.si_per_bmi * (now.bmi_kg_m2 - 22.0)
                + p.si_per_1000_steps * (steps - 8000.0) / 1000.0
                - p.si_per_decade * (age - 50.0) / 10.0)
                .exp_det()
    }

    /// The physiology inputs of a person now (treatment and prevention included).
    #[inline]
    pub fn inputs(&self, st: &DmState, age: f64, now: &Covariates) -> Inputs {
        let p = &self.p;
        let on_metformin = st.rx >= RX_METFORMIN;
        let mut r0_factor = 1.0
            - if on_metformin {
                p.metformin_r0 * st.adherence
            } else {
                0.0
            };
        if st.prevention == dpp::Arm::Metformin && !on_metformin {
            // Without diagnosed diabetes the DPP arm's effect; with it, metformin as a drug.
            let effect = if st.diagnosed {
                p.metformin_r0 * st.adherence
            } else {
                p.metformin_prevention_r0 * dpp::METFORMIN_ADHERENCE
            };
            r0_factor = 1.0 - effect * st.prevention_scale;
        }
        let secretion = 1.0
            + if st.rx >= RX_DPP4 {
                p.dpp4_secretion * st.adherence
            } else {
                0.0
            };
        let insulin_extra = if st.rx >= RX_INSULIN {
            st.insulin_dose * st.adherence
        } else {
            0.0
        };
        Inputs {
            si: self.insulin_sensitivity(st, age, now),
            r0: st.r0 * r0_factor,
            secretion,
            insulin_extra,
            efficiency: st.efficiency,
            glycation: st.glycation,
        }
    }

    /// The 2-hour plasma glucose (mg/dL) of a 75-g oral glucose tolerance test for a person
    /// now: the fast glucose–insulin system of the Topp model (glucose and insulin as
    /// states, β-cell mass fixed over two hours) from the person's fasting state, with oral
    /// glucose appearing as R_a(t) = L t/τ² e^(−t/τ) and insulin secretion raised by the
    /// incretin effect (`dm.ogtt.*`). Classical RK4 in 1-minute steps (insulin's time
    /// constant is 1/k ≈ 3.3 min). Pure: no draw, no state change.
    pub fn glucose_2h_mg_dl(&self, st: &DmState, age: f64, now: &Covariates) -> f64 {
        let inp = self.inputs(st, age, now);
        let t = &self.phys.topp;
        let p = &self.p;
        let tau = p.ogtt_tau_min / 1440.0;
        let load = p.ogtt_load_mg_dl;
        let secretion = p.ogtt_incretin * inp.secretion * st.beta.max(0.0);
        let uptake = |i: f64| t.eg0 + inp.si * (i + inp.insulin_extra);
        let rhs = |time: f64, g: f64, i: f64| {
            let ra = load * time / (tau * tau) * (-time / tau).exp_det();
            (
                inp.r0 + ra - uptake(i) * g,
                secretion * t.secretion(g) - t.k * i,
            )
        };
        let h = 1.0 / 1440.0;
        let (mut g, mut i) = (st.fpg_mg_dl, st.insulin_uu_ml);
        for n in 0..120 {
            let time = f64::from(n) * h;
            let (a1, b1) = rhs(time, g, i);
            let (a2, b2) = rhs(time + 0.5 * h, g + 0.5 * h * a1, i + 0.5 * h * b1);
            let (a3, b3) = rhs(time + 0.5 * h, g + 0.5 * h * a2, i + 0.5 * h * b2);
            let (a4, b4) = rhs(time + h, g + h * a3, i + h * b3);
            g += h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4);
            i += h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4);
        }
        g
    }

    /// Whether the person's β-cell mass relaxes fast enough that a quarterly step would lose
    /// accuracy (see [`DmState::stiff`]).
    #[inline]
    pub(super) fn is_stiff(&self, inputs: &Inputs, st: &DmState) -> bool {
        let slope = self.phys.topp.qss_glucose_slope(
            inputs.si,
            st.beta,
            inputs.secretion,
            inputs.insulin_extra,
            st.fpg_mg_dl,
        );
        self.phys
            .beta_relaxation_rate(st.efficiency, st.beta, st.capacity, st.fpg_mg_dl, slope)
            * QUARTER_DAYS
            > STIFF_QUARTER
    }

    /// Whether the person's physiology steps every month rather than every quarter:
    /// diagnosed, treated or in a prevention arm (inputs change at visits); HbA1c, or its
    /// glucose-driven part (HbA1c less the glycation offset), ≥ 6.0%, so onset (6.5%) is
    /// read from a current state; or β-cell mass stiff enough that a quarterly step would
    /// lose accuracy ([`DmState::stiff`]). Error-controlled, replacing a fixed fasting-glucose
    /// threshold of 100 mg/dL: the reduction test holds its tolerances either way, and 47% of
    /// person-months stepped monthly under the threshold against 27% now (30-year run).
    #[inline]
    fn physiology_active(st: &DmState, hba1c_pct: f64) -> bool {
        st.diagnosed
            || st.rx > RX_NONE
            || st.prevention != dpp::Arm::None
            || st.stiff
            || hba1c_pct.max(hba1c_pct - st.glycation) >= 6.0
    }

    /// Physiology over one step: integrates the slow variables with inputs held constant.
    ///
    /// Multi-rate: the slow state of most people moves on a time scale of years, so it is
    /// integrated once per calendar quarter (at the quarter's end, over the quarter); a
    /// person diagnosed, treated, in a prevention arm, with HbA1c ≥ 6.0% or a stiff β-cell
    /// mass is integrated every step (`physiology_active`). The insulin-sensitivity
    /// fluctuation is constant within each quarter and updated at its end with the exact
    /// Ornstein–Uhlenbeck transition, from a
    /// draw keyed by the quarter (by the half-year and the quarter's place in it): the same
    /// path for every person whichever cadence their glucose puts them on, and in every
    /// scenario (common random numbers).
    pub fn physiology<S: HasDm>(&self, ctx: &StepCtx, p: &mut Patient<S>) {
        let end = ctx.end_month();
        let quarter_end = end.is_multiple_of(3);
        let st = p.state.dm();
        if end > st.physiology_month
            && (quarter_end || Self::physiology_active(st, p.now.hba1c_pct))
        {
            let inputs = self.inputs(st, p.age_years, &p.now);
            let dt_days = f64::from(end - st.physiology_month) * (365.25 / 12.0);
            let st = p.state.dm_mut();
            let mut y = [st.beta, st.capacity, p.now.hba1c_pct];
            let months = (end - st.physiology_month) as usize;
            let lag = if months < 4
                && self.cache.tau_hba1c_days == self.phys.tau_hba1c_days
                && self.cache.capacity_loss == self.phys.capacity_loss
            {
                self.cache.lag[months]
            } else {
                self.phys.step_weights(dt_days)
            };
            let step = self
                .phys
                .step_slow_with(&inputs, &mut y, st.fpg_mg_dl, dt_days, lag);
            st.beta = y[BETA].max(0.0);
            st.capacity = y[CAPACITY].max(0.0);
            st.fpg_mg_dl = step.fpg_mg_dl;
            st.insulin_uu_ml = step.insulin_uu_ml;
            st.physiology_month = end;
            // The relaxation at the start of this step sets the cadence of the next.
            st.stiff = step.relaxation * QUARTER_DAYS > STIFF_QUARTER;
            // Age-related decline of β-cell function (Szoke 2008; 0 by default), plus the
            // person's own drift before onset (a progressor's draw or a personal twin's fit;
            // after onset the model's own dynamics and treatment take over).
            let drift = if st.onset_age.is_none() {
                st.efficiency_drift
            } else {
                0.0
            };
            let loss = self.p.efficiency_loss + drift;
            if loss != 0.0 {
                st.efficiency *= (-loss * dt_days / 365.25).exp_det();
            }
            p.now.fpg_mg_dl = step.fpg_mg_dl;
            p.now.hba1c_pct = y[HBA1C];
        }
        if quarter_end {
            // The fluctuation for the quarter that starts now (exact OU over one quarter; a
            // step longer than a quarter advances it over the whole step).
            let dt_years = ctx.dt_years.max(0.25);
            let (a, innov) = if dt_years == 0.25
                && self.cache.fluctuation_years == self.p.si_fluctuation_years
            {
                self.cache.ou_quarter
            } else {
                let a = (-dt_years / self.p.si_fluctuation_years).exp_det();
                (a, (1.0 - a * a).sqrt())
            };
            // The innovation of quarter q is normal number q mod 2 of the stream keyed by the
            // half-year q/2: one stream for two quarters, the second normal kept for the next
            // quarter (the same number whether kept or drawn again).
            let q = end / 3;
            let st = p.state.dm_mut();
            let z = if q % 2 == 1 && st.si_z_next.is_finite() {
                st.si_z_next
            } else {
                let mut s = ctx.stream_at(FLUCTUATION, p.baseline.id, q / 2);
                let (z0, z1) = (s.std_normal(), s.std_normal());
                if q.is_multiple_of(2) {
                    st.si_z_next = z1;
                    z0
                } else {
                    z1
                }
            };
            if q % 2 == 1 {
                st.si_z_next = f64::INFINITY;
            }
            st.si_fluctuation = a * st.si_fluctuation + self.p.si_fluctuation_sd * innov * z;
        }
    }
}
