//! Patient state: the covariates every module may read, plus a model-defined dynamic state.
//!
//! A patient is one contiguous plain struct (array of structs): the step loop keeps one
//! patient in L1 cache while it runs all phases for a block of steps, which matters more
//! here than SIMD across patients because the phases branch per person.

/// Sex as recorded in the source data (the life tables and survey tables are by sex).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[repr(u8)]
pub enum Sex {
    Male = 0,
    Female = 1,
}

impl Sex {
    pub const ALL: [Sex; 2] = [Sex::Male, Sex::Female];
    pub const fn index(self) -> usize {
        self as usize
    }
    pub const fn name(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim().to_ascii_lowercase().as_str() {
            "male" | "m" => Some(Sex::Male),
            "female" | "f" => Some(Sex::Female),
            _ => None,
        }
    }
}

macro_rules! flag_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $flag:ident = $bit:expr, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name(pub u16);
        impl $name {
            $($(#[$fdoc])* pub const $flag: $name = $name(1 << $bit);)*
            /// Every flag with its column name, in a fixed order.
            pub const ALL: &'static [($name, &'static str)] = &[$(($name::$flag, $label)),*];
            #[inline] pub const fn contains(self, other: $name) -> bool { self.0 & other.0 == other.0 }
            #[inline] pub fn insert(&mut self, other: $name) { self.0 |= other.0 }
            #[inline] pub fn remove(&mut self, other: $name) { self.0 &= !other.0 }
            #[inline] pub fn set(&mut self, other: $name, on: bool) { if on { self.insert(other) } else { self.remove(other) } }
        }
    };
}

flag_set! {
    /// Diagnoses and histories a person carries (diagnosed, i.e. known to the health system).
    Conditions {
        DIABETES = 0, "dx_diabetes";
        HYPERTENSION = 1, "dx_hypertension";
        DYSLIPIDAEMIA = 2, "dx_dyslipidaemia";
        MI = 3, "hx_myocardial_infarction";
        STROKE = 4, "hx_stroke";
        HEART_FAILURE = 5, "hx_heart_failure";
    }
}

flag_set! {
    /// Current drug treatments.
    Treatments {
        GLUCOSE_LOWERING = 0, "rx_glucose_lowering";
        ANTIHYPERTENSIVE = 1, "rx_antihypertensive";
        LIPID_LOWERING = 2, "rx_lipid_lowering";
    }
}

/// Risk factors and clinical measurements. Units are in the names.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Covariates {
    pub bmi_kg_m2: f64,
    pub fpg_mg_dl: f64,
    pub hba1c_pct: f64,
    pub sbp_mmhg: f64,
    pub dbp_mmhg: f64,
    pub tc_mg_dl: f64,
    pub hdl_mg_dl: f64,
    pub ldl_mg_dl: f64,
    pub egfr_ml_min: f64,
    pub steps_per_day: f64,
    pub frailty_index: f64,
    pub smoker: bool,
    pub conditions: Conditions,
    pub treatments: Treatments,
}

impl Covariates {
    /// The continuous covariates with their column names, in a fixed order (outputs use it).
    pub const CONTINUOUS: [&'static str; 11] = [
        "bmi_kg_m2",
        "fpg_mg_dl",
        "hba1c_pct",
        "sbp_mmhg",
        "dbp_mmhg",
        "tc_mg_dl",
        "hdl_mg_dl",
        "ldl_mg_dl",
        "egfr_ml_min",
        "steps_per_day",
        "frailty_index",
    ];

    pub fn continuous(&self) -> [f64; 11] {
        [
            self.bmi_kg_m2,
            self.fpg_mg_dl,
            self.hba1c_pct,
            self.sbp_mmhg,
            self.dbp_mmhg,
            self.tc_mg_dl,
            self.hdl_mg_dl,
            self.ldl_mg_dl,
            self.egfr_ml_min,
            self.steps_per_day,
            self.frailty_index,
        ]
    }

    /// Covariates from the continuous values in [`Self::CONTINUOUS`] order and the flags.
    pub fn from_parts(
        v: [f64; 11],
        smoker: bool,
        conditions: Conditions,
        treatments: Treatments,
    ) -> Self {
        let [bmi_kg_m2, fpg_mg_dl, hba1c_pct, sbp_mmhg, dbp_mmhg, tc_mg_dl, hdl_mg_dl, ldl_mg_dl, egfr_ml_min, steps_per_day, frailty_index] =
            v;
        Covariates {
            bmi_kg_m2,
            fpg_mg_dl,
            hba1c_pct,
            sbp_mmhg,
            dbp_mmhg,
            tc_mg_dl,
            hdl_mg_dl,
            ldl_mg_dl,
            egfr_ml_min,
            steps_per_day,
            frailty_index,
            smoker,
            conditions,
            treatments,
        }
    }
}

/// One person at entry: who they are and what they bring.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    /// Dense index within the cohort (0..n). Draws are keyed by it.
    pub id: u64,
    pub sex: Sex,
    pub age_years: f64,
    pub covariates: Covariates,
}

/// How and when a person died.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Death {
    /// Years since the start of the simulation.
    pub time_years: f64,
    /// Index into the model's `causes_of_death()`.
    pub cause: u8,
}

/// A person during the run: baseline, current covariates, and the model's own state.
/// Serialisable (every float by its bits in a binary format) for the year checkpoints.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Patient<S> {
    pub baseline: Baseline,
    pub age_years: f64,
    pub now: Covariates,
    pub death: Option<Death>,
    /// Cumulative mortality hazard the person has left to live through: an Exp(1) draw at
    /// entry, spent by each step's total hazard × step length; death comes in the step that
    /// exhausts it (inversion of the survival function, exact for hazards constant within a
    /// step). One draw per life instead of one per step, and with common random numbers a
    /// scenario that lowers a person's hazard can only postpone their death.
    /// `f64::INFINITY` for a patient that is never to die (unit tests of single phases).
    pub hazard_left: f64,
    pub state: S,
}

impl<S> Patient<S> {
    #[inline]
    pub fn id(&self) -> u64 {
        self.baseline.id
    }
    #[inline]
    pub fn sex(&self) -> Sex {
        self.baseline.sex
    }
    #[inline]
    pub fn alive(&self) -> bool {
        self.death.is_none()
    }
}
