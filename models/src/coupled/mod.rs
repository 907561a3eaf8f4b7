//! The coupled model run by `healthtwin run`: background mortality, type 2 diabetes,
//! cardiovascular disease, frailty and long-term care, intervention programmes and health
//! economics, each a module of its own, registered here. This is the one place that knows
//! all modules: it owns their parameters, lays out their metrics ([`MetricLayout`]), holds
//! the per-person state with one part per module ([`PersonState`], `state`), and calls
//! their phases in order with the couplings between them (`phases`).
//!
//! Adding a disease module touches: its own folder; [`PersonState`] (a field and a `part!`
//! line); here, its parameters in `new`, its metric block in `Layout::new`, its
//! construction in `new` (and `set_param`); and in `phases`, the calls of its phase
//! functions, its causes of death and hazards.
//!
//! Must never: hold model logic of its own beyond the couplings between modules (what one
//! module passes to another), or let a module write another module's state.

mod personal;
mod phases;
mod state;
#[cfg(test)]
mod tests;

pub use personal::PersonalTraits;
pub use phases::CAUSES;
pub use state::PersonState;

use std::sync::Arc;

use engine::RunKey;

use crate::cvd::params::CvdParams;
use crate::cvd::{self, Cvd};
use crate::diabetes::params::DiabetesParams;
use crate::diabetes::{self, Diabetes};
use crate::economics::{self, EconParams, Economics};
use crate::frailty::params::FrailtyParams;
use crate::frailty::{self, Frailty};
use crate::interventions::effects::IxParams;
use crate::interventions::{Intervention, InterventionError, ProgrammeSet};
use crate::layout::{MetricBlock, MetricLayout};
use crate::mortality::LifeTable;
use crate::params::{self, Param, ParamSet};
use crate::trial::Ascertainment;

/// Step lengths (months) the coupled model is validated for. The diabetes physiology steps
/// monthly or quarterly on an error-controlled cadence (docs/model.md); with other steps
/// onsets are mistimed: a 12-month step gave a year-0 T2D incidence of 0.57 per 1,000
/// person-years against 18.1 with monthly steps, and 2-month steps ran about 30% low in
/// every year (`healthtwin run -n 20000 -y 6 -r 2 --step-months M`, 2026-12-06).
pub const STEP_MONTHS: [u32; 2] = [1, 3];

/// Every module of the coupled model, as run manifests name them.
pub const MODULES: [&str; 5] = [
    "background_mortality (MHLW 2024 life table, net of the causes modelled explicitly)",
    "type_2_diabetes (Topp 2000 physiology with limited beta-cell capacity, JDS onset, check-up diagnosis, treatment ladder, UKPDS OM2 complications)",
    "cardiovascular_disease (risk-factor trajectories, check-ups and treatment, Hisayama / UKPDS OM2 MI, ischaemic and haemorrhagic stroke, heart failure, case fatality)",
    "frailty_and_long_term_care (32-item deficit accumulation, Kihon Checklist, J-CHS phenotype, LTC certification support 1 - care 5)",
    "health_economics (EQ-5D utilities, medical, long-term-care and programme costs in yen)",
];

/// The coupled model run by `healthtwin run`.
#[derive(Clone, Debug)]
pub struct HealthModel {
    life_table: LifeTable,
    params: ParamSet,
    background_hr: f64,
    diabetes: Diabetes,
    frailty: Frailty,
    cvd: Cvd,
    economics: Economics,
    /// The scenario's intervention programmes (empty: none).
    programmes: ProgrammeSet,
    /// A virtual trial's ascertainment (`None` outside trials).
    trial: Option<Ascertainment>,
    layout: Layout,
    /// Per-person traits of personal twins, by person id (`None`: everyone from the
    /// population draws, as in every population run).
    personal: Option<Arc<[PersonalTraits]>>,
}

/// Where each module records: the model's metric list laid out from the metrics each
/// module declares, in output order.
#[derive(Clone, Debug)]
struct Layout {
    list: MetricLayout,
    diabetes: MetricBlock,
    frailty: MetricBlock,
    cvd: MetricBlock,
    economics: MetricBlock,
    /// The optional long-term-care detail metrics (`None`: not laid out, the default).
    ltc_detail: Option<MetricBlock>,
    programmes: MetricBlock,
}

impl Layout {
    fn new(programmes: &ProgrammeSet, ltc_detail: bool) -> Layout {
        let mut list = MetricLayout::default();
        Layout {
            diabetes: list.add(diabetes::metric_defs()),
            frailty: list.add(frailty::metric_defs()),
            cvd: list.add(cvd::metric_defs()),
            economics: list.add(economics::metric_defs()),
            ltc_detail: ltc_detail.then(|| list.add(frailty::detail_metric_defs())),
            programmes: list.add(programmes.metric_defs()),
            list,
        }
    }
}

impl HealthModel {
    pub fn new(life_table: LifeTable) -> Self {
        let mut all = vec![Param {
            name: "mortality.background.hazard_ratio",
            value: 1.0,
            unit: "ratio",
            source: "calibration handle, not a published number: 1 = the MHLW 2024 life table as published",
            range: (0.0, 10.0),
        }];
        all.extend(DiabetesParams::params());
        all.extend(FrailtyParams::params());
        all.extend(CvdParams::params());
        all.extend(EconParams::params());
        all.extend(IxParams::params());
        let params = ParamSet::new(all);
        let programmes = ProgrammeSet::default();
        let layout = Layout::new(&programmes, false);
        let defaults = "defaults are complete";
        HealthModel {
            life_table,
            background_hr: 1.0,
            diabetes: Diabetes::new(
                DiabetesParams::from_set(&params).expect(defaults),
                layout.diabetes,
            ),
            frailty: Frailty::new(
                FrailtyParams::from_set(&params).expect(defaults),
                layout.frailty,
            ),
            cvd: Cvd::new(CvdParams::from_set(&params).expect(defaults), layout.cvd),
            economics: Economics::new(
                EconParams::from_set(&params).expect(defaults),
                layout.economics,
            ),
            params,
            programmes,
            trial: None,
            layout,
            personal: None,
        }
    }

    /// Runs the model as a virtual trial with this ascertainment (records each person's
    /// first-event months, `PersonState::trial`); `None`: an ordinary run.
    pub fn set_trial(&mut self, ascertainment: Option<Ascertainment>) {
        self.trial = ascertainment;
    }

    /// The trial's ascertainment, if the model runs as a trial.
    pub fn trial(&self) -> Option<&Ascertainment> {
        self.trial.as_ref()
    }

    /// Per-person traits for the people of a run, indexed by person id: a personal twin's
    /// copies, each set from the posterior particle it was drawn from (`twin` crate). People
    /// with an id past the end, or fields left NaN, get the population draws.
    pub fn set_personal_traits(&mut self, traits: Arc<[PersonalTraits]>) {
        self.personal = Some(traits);
    }

    /// The per-person traits set with [`Self::set_personal_traits`].
    pub fn personal_traits(&self) -> Option<&[PersonalTraits]> {
        self.personal.as_deref()
    }

    /// Sets the scenario's intervention programmes (replacing any set before), after
    /// validating them: unique names, uptake and adherence in [0, 1], dropout, effect scale
    /// and cost ≥ 0, stop after start, at most [`crate::interventions::MAX_PROGRAMMES`].
    pub fn set_interventions(&mut self, plan: Vec<Intervention>) -> Result<(), InterventionError> {
        let fx = IxParams::from_set(&self.params)
            .expect("the model's parameter set holds every ix.* parameter");
        let mut programmes = ProgrammeSet::new(plan, fx)?;
        // The programme metrics come last: the blocks of the other modules stay where their
        // modules record.
        let layout = Layout::new(&programmes, self.layout.ltc_detail.is_some());
        debug_assert_eq!(
            (
                layout.diabetes,
                layout.frailty,
                layout.cvd,
                layout.economics
            ),
            (
                self.layout.diabetes,
                self.layout.frailty,
                self.layout.cvd,
                self.layout.economics
            )
        );
        programmes.set_metrics(layout.programmes);
        self.frailty.set_detail_metrics(layout.ltc_detail);
        self.programmes = programmes;
        self.layout = layout;
        Ok(())
    }

    /// Records the long-term-care detail metrics too (`frailty::detail`: new certifications
    /// by level, certified person-time), which a municipal plan reports. They come after
    /// the economics metrics, before the programmes'; without this call the metric list
    /// (and every output) is as before.
    pub fn record_ltc_detail(&mut self) {
        if self.layout.ltc_detail.is_some() {
            return;
        }
        let layout = Layout::new(&self.programmes, true);
        self.programmes.set_metrics(layout.programmes);
        self.frailty.set_detail_metrics(layout.ltc_detail);
        self.layout = layout;
    }

    /// The scenario's intervention programmes, validated.
    pub fn programmes(&self) -> &ProgrammeSet {
        &self.programmes
    }

    pub fn diabetes(&self) -> &Diabetes {
        &self.diabetes
    }

    pub fn frailty(&self) -> &Frailty {
        &self.frailty
    }

    pub fn cvd(&self) -> &Cvd {
        &self.cvd
    }

    pub fn params(&self) -> &ParamSet {
        &self.params
    }

    /// Sets a named parameter (calibration, PSA draws, per-patient twins use this).
    pub fn set_param(&mut self, name: &str, value: f64) -> Result<(), params::ParamError> {
        self.params.set(name, value)?;
        self.background_hr = self.params.get("mortality.background.hazard_ratio")?;
        self.economics = Economics::new(EconParams::from_set(&self.params)?, self.layout.economics);
        self.programmes
            .set_effects(IxParams::from_set(&self.params)?);
        self.diabetes = Diabetes::new(
            DiabetesParams::from_set(&self.params)?,
            self.layout.diabetes,
        );
        self.cvd = Cvd::new(CvdParams::from_set(&self.params)?, self.layout.cvd);
        if name.starts_with("fr.") {
            // The frailty tables take ~0.25 s to build: only when a frailty number moved.
            self.frailty =
                Frailty::new(FrailtyParams::from_set(&self.params)?, self.layout.frailty);
            self.frailty.set_detail_metrics(self.layout.ltc_detail);
        }
        Ok(())
    }

    /// Sets several named parameters at once and rebuilds each module once (a calibration
    /// particle or a posterior draw moves many parameters: one `set_param` per name would
    /// rebuild the frailty tables, ~0.25 s, once per frailty name). Nothing changes if any
    /// name or value is refused.
    pub fn set_params(&mut self, values: &[(&str, f64)]) -> Result<(), params::ParamError> {
        let mut set = self.params.clone();
        for &(name, value) in values {
            set.set(name, value)?;
        }
        let frailty_moved = values.iter().any(|(n, _)| n.starts_with("fr."));
        let mut out = self.clone();
        out.params = set;
        out.background_hr = out.params.get("mortality.background.hazard_ratio")?;
        out.economics = Economics::new(EconParams::from_set(&out.params)?, out.layout.economics);
        out.programmes.set_effects(IxParams::from_set(&out.params)?);
        out.diabetes = Diabetes::new(DiabetesParams::from_set(&out.params)?, out.layout.diabetes);
        out.cvd = Cvd::new(CvdParams::from_set(&out.params)?, out.layout.cvd);
        if frailty_moved {
            out.frailty = Frailty::new(FrailtyParams::from_set(&out.params)?, out.layout.frailty);
        }
        *self = out;
        Ok(())
    }

    /// The model of one replicate: `draws` redrawn from their uncertainty (the hook for
    /// probabilistic sensitivity analysis; an empty list keeps every parameter fixed).
    pub fn for_replicate(
        &self,
        run: RunKey,
        draws: &[params::ParamDraw],
    ) -> Result<HealthModel, params::ParamError> {
        let drawn = self.params.drawn(run, draws)?;
        let mut out = self.clone();
        for d in draws {
            out.set_param(&d.name, drawn.get(&d.name)?)?;
        }
        Ok(out)
    }

    pub fn life_table(&self) -> &LifeTable {
        &self.life_table
    }

    /// Canonical text of everything the model's results depend on (for the parameter hash).
    pub fn canonical(&self) -> String {
        let trial = self
            .trial
            .map(|t| format!("trial={t:?}\n"))
            .unwrap_or_default();
        format!(
            "{}{}{}{trial}",
            self.params.canonical(),
            self.life_table.canonical(),
            self.programmes.canonical()
        )
    }
}
