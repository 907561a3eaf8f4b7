//! Intervention programmes: the typed specification ([`spec`]) a scenario hands to the
//! model, its validation ([`Plan::new`]), the yearly allocation of places among eligible
//! people ([`Plan::start_of_year`]) and the mechanisms by which a participant's model inputs
//! change ([`mechanisms`]).
//!
//! Allocation (docs/model.md, "Interventions and health economics"): at the start of each
//! year, over the whole population (in parallel where no person's outcome depends on
//! another's; the result never depends on thread count), participants whose time is up leave
//! (duration, programme stop); each remaining participant draws the year's exponential
//! dropout time; then the eligible people who never took part are ranked by the programme's
//! priority (ties and `Random` broken by a keyed lottery) and offered the free places in rank
//! order (sequentially); each offer is accepted with probability `uptake`. Without a
//! capacity every candidate is offered a place, in one parallel pass. `capacity_per_year` counts
//! **concurrent places**: participants at the start of the year never exceed it.
//!
//! Must never: draw except through keyed streams of its own processes (named after the
//! programme, so adding or removing a programme shifts no other draw), allocate in the step
//! functions, or change a person's state while the programme's strength (adherence × effect
//! scale) is zero.

pub mod mechanisms;
pub mod spec;

pub use spec::*;

use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::rng::{Process, Stream, StreamKey};
use engine::{Patient, RunKey};
use rayon::prelude::*;

use crate::cvd::{Cvd, DmLink};
use crate::frailty::kcl::Phenotype;
use crate::PersonState;

/// Most programmes one scenario may run (the per-person state holds one bit per programme
/// in a `u8` and two `u16` months per programme).
pub const MAX_PROGRAMMES: usize = 8;

/// A month that never comes (no exit scheduled).
pub const NEVER: u16 = u16::MAX;

/// The programme part of a person's state (36 bytes, no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IxState {
    /// Currently enrolled, one bit per programme (plan order).
    pub enrolled: u8,
    /// The programme's mechanism has started acting on the person (set in the first step
    /// after enrolment, cleared when the participant leaves).
    pub started: u8,
    /// The programme changed a treatment or trait the person did not have (a statin, a
    /// blood-pressure drug, metformin, social participation): undone when they leave.
    pub owns: u8,
    /// Ever enrolled: people who left are not offered a place again.
    pub ever: u8,
    /// Month of the run the person enrolled, per programme.
    pub since_month: [u16; MAX_PROGRAMMES],
    /// Month of the run the person leaves (at the start of that month's step), per programme;
    /// [`NEVER`] for a programme the person is not enrolled in, so the earliest exit of all
    /// programmes is one minimum ([`IxState::next_exit`]).
    pub exit_month: [u16; MAX_PROGRAMMES],
}

impl Default for IxState {
    fn default() -> Self {
        IxState {
            enrolled: 0,
            started: 0,
            owns: 0,
            ever: 0,
            since_month: [0; MAX_PROGRAMMES],
            exit_month: [NEVER; MAX_PROGRAMMES],
        }
    }
}

impl IxState {
    #[inline]
    pub fn is_enrolled(&self, k: usize) -> bool {
        self.enrolled >> k & 1 == 1
    }

    /// The earliest month at which the person leaves a programme ([`NEVER`] if none).
    #[inline]
    pub fn next_exit(&self) -> u16 {
        self.exit_month.iter().fold(NEVER, |m, &e| m.min(e))
    }

    /// The person leaves programme `k` (bit `bit`).
    #[inline]
    pub fn leave(&mut self, k: usize, bit: u8) {
        self.enrolled &= !bit;
        self.exit_month[k] = NEVER;
    }
}

/// A programme specification the model cannot run, naming the programme and the field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("intervention `{intervention}`, field `{field}`: {message}")]
pub struct InterventionError {
    pub intervention: String,
    pub field: &'static str,
    pub message: String,
}

/// One validated programme with its keyed processes.
#[derive(Clone, Debug)]
pub struct Programme {
    pub spec: Intervention,
    /// adherence × effect_scale: the share of the cited effect a participant receives.
    pub strength: f64,
    /// Programme cost per participant-year, thousand yen.
    pub cost_kyen_per_year: f64,
    lottery: Process,
    uptake: Process,
    dropout: Process,
    /// Yearly draws of a participant's behaviour within the programme (attendance).
    pub(crate) yearly: Process,
    /// Draws at the programme's visits (glucose intensification).
    pub(crate) visit: Process,
    /// The mechanisms' effect sizes (named parameters `ix.*`).
    pub(crate) fx: mechanisms::IxParams,
}

/// A limited programme's ranking entry: score, second score, lottery bits (drawn only where
/// they decide; until then the person's identifier, which keys the draw), patient index.
type Ranked = (f64, f64, u64, usize);

/// The per-person pass of a year's allocation, merged over people: each programme's
/// participants who stay, and the scored candidates of the limited programmes.
#[derive(Debug, Default)]
pub struct YearPrep {
    /// The year's programme keys (made by the first person a worker prepares).
    years: Vec<(usize, ProgrammeYear)>,
    participants: [u64; MAX_PROGRAMMES],
    candidates: Vec<(u8, Ranked)>,
}

impl YearPrep {
    /// Adds the preparation of other people.
    pub fn merge(&mut self, other: YearPrep) {
        for (a, b) in self.participants.iter_mut().zip(other.participants) {
            *a += b;
        }
        if self.candidates.is_empty() {
            self.candidates = other.candidates;
        } else {
            self.candidates.extend(other.candidates);
        }
        if self.years.is_empty() {
            self.years = other.years;
        }
    }
}

/// The programme clock's month at the start of run year `year`.
fn month_of(year: u32) -> u16 {
    year.saturating_mul(12).min(u32::from(NEVER) - 1) as u16
}

/// One programme in one year of the allocation.
#[derive(Debug)]
struct ProgrammeYear {
    bit: u8,
    running: bool,
    dropout: StreamKey,
    yearly: StreamKey,
    uptake: StreamKey,
    lottery: StreamKey,
}

/// The programmes of a scenario, validated, in plan order (bit `k` of [`IxState`] masks).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub programmes: Vec<Programme>,
    /// Programmes whose mechanism acts in every step of a participant (metformin, glucose
    /// intensification), one bit each: the others act only at start, stop and yearly.
    monthly_mask: u8,
    /// Programmes that set weight or activity each step (lifestyle, metformin).
    weight_mask: u8,
    /// The yearly allocation may do all programmes' per-person work in one pass (no two
    /// programmes of a kind that writes a trait another programme of that kind reads).
    one_pass: bool,
    /// Programme cost per year, kyen, of a person enrolled in the programmes of mask `m`, at
    /// index `m` (empty without programmes).
    cost_by_mask: Vec<f64>,
    /// The engine makes the allocation's per-person pass at the end of each person's year
    /// ([`Self::prepare`]); off only in a test that checks it changes nothing.
    prepare_in_engine: bool,
}

fn check(
    ok: bool,
    iv: &Intervention,
    field: &'static str,
    message: String,
) -> Result<(), InterventionError> {
    if ok {
        Ok(())
    } else {
        Err(InterventionError {
            intervention: iv.name.clone(),
            field,
            message,
        })
    }
}

fn check_range(iv: &Intervention, field: &'static str, r: &Range) -> Result<(), InterventionError> {
    for v in [r.lo, r.hi].into_iter().flatten() {
        check(
            v.is_finite(),
            iv,
            field,
            format!("bound {v} is not a finite number"),
        )?;
    }
    if let (Some(lo), Some(hi)) = (r.lo, r.hi) {
        check(
            lo <= hi,
            iv,
            field,
            format!("lower bound {lo} is above upper bound {hi}"),
        )?;
    }
    Ok(())
}

impl Plan {
    /// Validates the programmes and derives their keyed processes.
    /// Validates `plan`; `fx` holds the mechanisms' effect sizes (from the model's named
    /// parameters `ix.*`).
    pub fn new(
        plan: Vec<Intervention>,
        fx: mechanisms::IxParams,
    ) -> Result<Plan, InterventionError> {
        if plan.len() > MAX_PROGRAMMES {
            return Err(InterventionError {
                intervention: plan[MAX_PROGRAMMES].name.clone(),
                field: "name",
                message: format!(
                    "a scenario may run at most {MAX_PROGRAMMES} interventions, this is number {}",
                    plan.len()
                ),
            });
        }
        let mut programmes = Vec::with_capacity(plan.len());
        for (i, iv) in plan.iter().enumerate() {
            check(
                !iv.name.is_empty()
                    && iv
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                iv,
                "name",
                "must be non-empty and use only ASCII letters, digits, '_' or '-' (it names output \
                 columns)"
                    .into(),
            )?;
            check(
                plan[..i].iter().all(|o| o.name != iv.name),
                iv,
                "name",
                "two interventions have this name; names must be unique".into(),
            )?;
            let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
            check(
                unit(iv.uptake),
                iv,
                "uptake",
                format!("must be in [0, 1], got {}", iv.uptake),
            )?;
            check(
                unit(iv.adherence),
                iv,
                "adherence",
                format!("must be in [0, 1], got {}", iv.adherence),
            )?;
            let nonneg = |x: f64| x.is_finite() && x >= 0.0;
            check(
                nonneg(iv.dropout_per_year),
                iv,
                "dropout_per_year",
                format!("must be a finite number >= 0, got {}", iv.dropout_per_year),
            )?;
            check(
                nonneg(iv.effect_scale),
                iv,
                "effect_scale",
                format!("must be a finite number >= 0, got {}", iv.effect_scale),
            )?;
            check(
                nonneg(iv.cost_per_participant_year_yen),
                iv,
                "cost_per_participant_year_yen",
                format!(
                    "must be a finite number >= 0, got {}",
                    iv.cost_per_participant_year_yen
                ),
            )?;
            if let Some(stop) = iv.stop_year {
                check(
                    stop > iv.start_year,
                    iv,
                    "stop_year",
                    format!("must be after start_year {}, got {stop}", iv.start_year),
                )?;
            }
            check(
                iv.start_year < 5000,
                iv,
                "start_year",
                format!("must be below 5000, got {}", iv.start_year),
            )?;
            if let Some(d) = iv.duration_years {
                check(
                    d.is_finite() && (1.0 / 12.0..=5000.0).contains(&d),
                    iv,
                    "duration_years",
                    format!("must be between one month (0.0833) and 5000 years, got {d}"),
                )?;
            }
            let e = &iv.eligibility;
            for (field, r) in [
                ("eligibility.age", &e.age),
                ("eligibility.bmi", &e.bmi),
                ("eligibility.fpg_mg_dl", &e.fpg_mg_dl),
                ("eligibility.hba1c_pct", &e.hba1c_pct),
                ("eligibility.sbp_mmhg", &e.sbp_mmhg),
                ("eligibility.ldl_mg_dl", &e.ldl_mg_dl),
            ] {
                check_range(iv, field, r)?;
            }
            let named = |what: &str| Process::named(&format!("ix.{}.{what}", iv.name));
            programmes.push(Programme {
                strength: iv.adherence * iv.effect_scale,
                cost_kyen_per_year: iv.cost_per_participant_year_yen / 1000.0,
                lottery: named("lottery"),
                uptake: named("uptake"),
                dropout: named("dropout"),
                yearly: named("yearly"),
                visit: named("visit"),
                fx,
                spec: iv.clone(),
            });
        }
        let mask = |f: &dyn Fn(Kind) -> bool| {
            programmes
                .iter()
                .enumerate()
                .filter(|(_, p)| p.strength > 0.0 && f(p.spec.kind))
                .fold(0u8, |m, (k, _)| m | 1 << k)
        };
        let monthly_mask = mask(&|k| matches!(k, Kind::Metformin | Kind::GlucoseIntensification));
        let weight_mask = mask(&|k| matches!(k, Kind::Metformin | Kind::IntensiveLifestyle));
        let count = |kind: Kind| programmes.iter().filter(|p| p.spec.kind == kind).count();
        let one_pass = count(Kind::CommunitySalon) <= 1 && count(Kind::HealthCheck) <= 1;
        let cost_by_mask = if programmes.is_empty() {
            Vec::new()
        } else {
            (0..=u8::MAX)
                .map(|mask| {
                    programmes
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| mask >> k & 1 == 1)
                        .map(|(_, p)| p.cost_kyen_per_year)
                        .sum()
                })
                .collect()
        };
        Ok(Plan {
            programmes,
            monthly_mask,
            weight_mask,
            one_pass,
            cost_by_mask,
            prepare_in_engine: true,
        })
    }

    /// New effect sizes for every programme (after a parameter change).
    pub fn set_effects(&mut self, fx: mechanisms::IxParams) {
        for pr in &mut self.programmes {
            pr.fx = fx;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.programmes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.programmes.len()
    }

    /// Per programme: `ix_<name>_participants` (share enrolled at the yearly census) and
    /// `ix_<name>_enrolments` (new enrolments in the year, a count).
    pub fn metric_defs(&self) -> Vec<MetricDef> {
        let mut v = Vec::with_capacity(2 * self.len());
        for pr in &self.programmes {
            let n = &pr.spec.name;
            v.push(MetricDef::new(
                format!("ix_{n}_participants"),
                MetricKind::Prevalence,
                format!("share enrolled in programme {n} at the start of the year"),
            ));
            v.push(MetricDef::new(
                format!("ix_{n}_enrolments"),
                MetricKind::Total,
                format!("new enrolments in programme {n} during the year (count)"),
            ));
        }
        v
    }

    /// Canonical text of the plan (for the parameter hash); empty without programmes.
    pub fn canonical(&self) -> String {
        self.programmes
            .iter()
            .map(|p| format!("intervention={:?}\n", p.spec))
            .collect()
    }

    /// Whether `p` meets programme `pr`'s eligibility now.
    pub fn eligible(pr: &Programme, p: &Patient<PersonState>) -> bool {
        let e = &pr.spec.eligibility;
        let now = &p.now;
        let st = &p.state;
        let opt = |want: Option<bool>, have: bool| want.is_none_or(|w| w == have);
        e.age.contains(p.age_years)
            && e.bmi.contains(now.bmi_kg_m2)
            && e.fpg_mg_dl.contains(now.fpg_mg_dl)
            && e.hba1c_pct.contains(now.hba1c_pct)
            && e.sbp_mmhg.contains(now.sbp_mmhg)
            && e.ldl_mg_dl.contains(now.ldl_mg_dl)
            && (e.frailty_states.is_empty()
                || e.frailty_states.contains(&match st.fr.phenotype() {
                    Phenotype::Robust => FrailtyState::Robust,
                    Phenotype::Prefrail => FrailtyState::Prefrail,
                    Phenotype::Frail => FrailtyState::Frail,
                }))
            && opt(e.has_diabetes, st.dm.has_diabetes())
            && opt(e.diagnosed_diabetes, st.dm.diagnosed)
            && opt(
                e.hypertension,
                st.cvd.bp_drugs > 0 || now.sbp_mmhg >= 140.0 || now.dbp_mmhg >= 90.0,
            )
            && opt(e.cvd_history, st.cvd.any_history())
            && opt(e.smoker, now.smoker)
            && opt(e.ltc_certified, st.fr.certified())
    }

    /// The priority score of an eligible person (higher first).
    fn score(pr: &Programme, cvd: &Cvd, p: &Patient<PersonState>) -> (f64, f64) {
        match pr.spec.priority {
            Priority::Random => (0.0, 0.0),
            // Annual hazard of MI, stroke and heart failure on the current (treated) risk
            // factors, from the same equations the model runs: monotone in the 10-year risk.
            Priority::CardiovascularRisk => {
                let h = cvd.hazards(p, &DmLink::from_dm(&p.state.dm));
                (h.iter().sum(), 0.0)
            }
            Priority::DiabetesRisk => (p.state.dm.hba1c, p.state.dm.glucose),
            Priority::FrailtyIndex => (f64::from(p.state.fr.count()), 0.0),
            Priority::Age => (p.age_years, 0.0),
        }
    }

    /// A participant's year: this year's dropout time, then the programme's yearly
    /// decisions (attendance), each from its own keyed draws.
    fn participant_year(
        pr: &Programme,
        k: usize,
        month: u16,
        year: u32,
        dropout_key: StreamKey,
        yearly_key: StreamKey,
        p: &mut Patient<PersonState>,
    ) {
        let id = p.baseline.id;
        schedule_year(
            pr,
            &mut p.state.ix,
            k,
            month,
            Stream::new(dropout_key, id, year),
        );
        mechanisms::yearly(pr, k, &mut p.state, Stream::new(yearly_key, id, year));
    }

    /// The year's keys and state of programme `k` (see [`Self::start_of_year`]).
    fn year_of(&self, k: usize, run: RunKey, year: u32) -> ProgrammeYear {
        let pr = &self.programmes[k];
        let spec = &pr.spec;
        ProgrammeYear {
            bit: 1u8 << k,
            running: year >= spec.start_year && spec.stop_year.is_none_or(|s| year < s),
            dropout: StreamKey::new(run, pr.dropout),
            yearly: StreamKey::new(run, pr.yearly),
            uptake: StreamKey::new(run, pr.uptake),
            lottery: StreamKey::new(run, pr.lottery),
        }
    }

    /// A participant at the start of the year: leaves (time up, or the programme stopped),
    /// or draws the year. Returns whether they stay.
    #[inline]
    fn keep_participant(
        pr: &Programme,
        k: usize,
        y: &ProgrammeYear,
        month: u16,
        year: u32,
        p: &mut Patient<PersonState>,
    ) -> bool {
        let ix = &mut p.state.ix;
        if !y.running || ix.exit_month[k] <= month {
            ix.leave(k, y.bit);
            return false;
        }
        Self::participant_year(pr, k, month, year, y.dropout, y.yearly, p);
        true
    }

    /// A candidate offered a place: the uptake draw, then enrolment and the year.
    #[inline]
    fn enrol(
        pr: &Programme,
        k: usize,
        y: &ProgrammeYear,
        month: u16,
        year: u32,
        p: &mut Patient<PersonState>,
    ) -> bool {
        let spec = &pr.spec;
        if Stream::new(y.uptake, p.baseline.id, year).uniform() >= spec.uptake {
            return false;
        }
        let ix = &mut p.state.ix;
        ix.enrolled |= y.bit;
        ix.ever |= y.bit;
        ix.since_month[k] = month;
        ix.exit_month[k] = NEVER;
        if let Some(d) = spec.duration_years {
            let end = u32::from(month) + (engine::math::round_to_i64(d * 12.0) as u32).max(1);
            ix.exit_month[k] = end.min(u32::from(NEVER) - 1) as u16;
        }
        Self::participant_year(pr, k, month, year, y.dropout, y.yearly, p);
        true
    }

    /// Alive, never took part, eligible now.
    #[inline]
    fn candidate(pr: &Programme, bit: u8, p: &Patient<PersonState>) -> bool {
        p.alive() && p.state.ix.ever & bit == 0 && Self::eligible(pr, p)
    }

    /// The ranking entry of a candidate of a limited programme (the lottery is drawn later,
    /// only where it decides: [`Self::fill`]).
    #[inline]
    fn rank_entry(pr: &Programme, cvd: &Cvd, i: usize, p: &Patient<PersonState>) -> Ranked {
        let (s1, s2) = Self::score(pr, cvd, p);
        (s1, s2, p.baseline.id, i)
    }

    /// Places of a limited programme go down the ranking (highest score first, a keyed
    /// lottery breaking ties, the index making the order total), each to a candidate who
    /// takes it up: sequential, because whether the next candidate gets a place depends on
    /// the uptake of those above.
    ///
    /// The lottery only matters inside a group of equal scores that has more candidates
    /// than places left: a group with enough places is offered in full whatever its order
    /// (each candidate's uptake is their own draw). So it is drawn only for such a group,
    /// which gives the same places as drawing it for everyone. The order of `ranked` on
    /// entry does not matter.
    ///
    /// Only as much of the ranking is ordered as the places need ([`sort_prefix`]): the
    /// candidates are offered in exactly the order of a full sort (the order is total), but
    /// a salon with 6,000 places and 300,000 candidates orders a few thousand of them.
    /// Entries arrive with the person's identifier in the lottery slot ([`Self::rank_entry`]),
    /// so drawing the lottery reads no patient.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        pr: &Programme,
        k: usize,
        y: &ProgrammeYear,
        month: u16,
        year: u32,
        places: u64,
        ranked: &mut [Ranked],
        patients: &mut [Patient<PersonState>],
    ) {
        use std::cmp::Ordering::{self, Equal};
        if places == 0 {
            return;
        }
        if (ranked.len() as u64) <= places {
            // A place for every candidate.
            for &(_, _, _, i) in ranked.iter() {
                Self::enrol(pr, k, y, month, year, &mut patients[i]);
            }
            return;
        }
        // Highest score first, then the index.
        let by_score = |a: &Ranked, b: &Ranked| -> Ordering {
            b.0.total_cmp(&a.0)
                .then(b.1.total_cmp(&a.1))
                .then(a.3.cmp(&b.3))
        };
        let same_score =
            |a: &Ranked, b: &Ranked| a.0.total_cmp(&b.0) == Equal && a.1.total_cmp(&b.1) == Equal;
        // Lowest lottery number first, then the index.
        let by_lottery = |a: &Ranked, b: &Ranked| a.2.cmp(&b.2).then(a.3.cmp(&b.3));
        // Candidates to order for `left` places: enough for the expected uptake, with room.
        let batch = |left: u64| (left as f64 / pr.spec.uptake.max(0.01) * 1.25) as usize + 64;
        let mut filled = 0u64;
        // ranked[..start] has been offered; ranked[start..sorted] is in order and comes
        // before all of ranked[sorted..] (which is in no order).
        let (mut start, mut sorted) = (0, 0);
        let mut want = batch(places);
        while start < ranked.len() && filled < places {
            if sorted == start {
                sorted = start + sort_prefix(&mut ranked[start..], want, by_score);
                want = want.saturating_mul(2);
            }
            let first = ranked[start];
            let mut end = start
                + ranked[start..sorted]
                    .iter()
                    .take_while(|e| same_score(e, &first))
                    .count();
            if end == sorted {
                // The group may go on in the unordered rest, where its members are the first
                // in order: gather them (their order within the group does not matter: see
                // below).
                end += partition_front(&mut ranked[sorted..], |e| same_score(e, &first));
                sorted = end;
            }
            let group = &mut ranked[start..end];
            start = end;
            let left = places - filled;
            if (group.len() as u64) <= left {
                // Enough places for the group: everyone in it is offered one.
                for &(_, _, _, i) in group.iter() {
                    if Self::enrol(pr, k, y, month, year, &mut patients[i]) {
                        filled += 1;
                    }
                }
                continue;
            }
            // Not enough places for the group: the lottery orders it.
            let draw = |e: &mut Ranked| e.2 = Stream::new(y.lottery, e.2, year).uniform().to_bits();
            if group.len() >= 4096 {
                group.par_iter_mut().for_each(draw);
            } else {
                group.iter_mut().for_each(draw);
            }
            let (mut g_start, mut g_sorted) = (0, 0);
            let mut g_want = batch(left);
            while g_start < group.len() && filled < places {
                if g_sorted == g_start {
                    g_sorted = g_start + sort_prefix(&mut group[g_start..], g_want, by_lottery);
                    g_want = g_want.saturating_mul(2);
                }
                let i = group[g_start].3;
                g_start += 1;
                if Self::enrol(pr, k, y, month, year, &mut patients[i]) {
                    filled += 1;
                }
            }
        }
    }

    /// Yearly allocation (see the module doc), programme by programme in plan order: its
    /// participants leave or draw the year; without a capacity every candidate may take a
    /// place; with one, candidates are ranked and places filled down the ranking.
    ///
    /// All the per-person work (participants, uncapped enrolment, scoring) of all programmes
    /// is done in one parallel pass over the people, then the places of the limited
    /// programmes are filled in plan order. That is the same as going programme by programme
    /// whenever filling programme k cannot change what a later programme reads of the
    /// same person: true unless two programmes of the same kind write the same trait
    /// (community salon: social participation; health check: the check-up), for which the
    /// programme-by-programme order is kept ([`Self::allocate_in_order`]). `year` is the
    /// run's year index (months are the programme clock).
    pub fn start_of_year(
        &self,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<PersonState>],
        prepared: Option<YearPrep>,
    ) {
        if self.is_empty() {
            return;
        }
        if !self.one_pass {
            self.allocate_in_order(cvd, run, year, patients);
            return;
        }
        match prepared {
            // The engine made the pass at the end of each person's previous year (only
            // when `prepares`).
            Some(prep) => {
                let years = self.years_of(0..self.programmes.len(), run, year);
                self.fill_places(&years, year, prep, patients);
            }
            _ => self.allocate(0..self.programmes.len(), cvd, run, year, patients),
        }
    }

    /// Whether the engine makes the per-person pass of the yearly allocation
    /// ([`Self::prepare`]): with programmes, in the one-pass order.
    pub fn prepares(&self) -> bool {
        !self.is_empty() && self.one_pass && self.prepare_in_engine
    }

    /// One person's part of the allocation of `year` (all programmes), called by the engine
    /// right after the person's last step of the year before.
    #[inline]
    pub fn prepare(
        &self,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        i: usize,
        p: &mut Patient<PersonState>,
        acc: &mut YearPrep,
    ) {
        if acc.years.is_empty() {
            acc.years = self.years_of(0..self.programmes.len(), run, year);
        }
        let YearPrep {
            years,
            participants,
            candidates,
        } = acc;
        self.prepare_person(years, cvd, year, i, p, participants, candidates);
    }

    /// [`Self::start_of_year`] programme by programme: each programme's pass over the
    /// people and its filling of places before the next programme's pass.
    fn allocate_in_order(
        &self,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<PersonState>],
    ) {
        for k in 0..self.programmes.len() {
            self.allocate(k..k + 1, cvd, run, year, patients);
        }
    }

    /// The keys and state of the programmes `ks` in `year`.
    fn years_of(
        &self,
        ks: std::ops::Range<usize>,
        run: RunKey,
        year: u32,
    ) -> Vec<(usize, ProgrammeYear)> {
        ks.map(|k| (k, self.year_of(k, run, year))).collect()
    }

    /// The allocation of the programmes `ks` (in plan order): one parallel pass over the
    /// people doing each programme's per-person work ([`Self::prepare_person`]), then the
    /// places of the limited programmes filled in plan order.
    fn allocate(
        &self,
        ks: std::ops::Range<usize>,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<PersonState>],
    ) {
        let years = self.years_of(ks, run, year);
        let prep = patients
            .par_iter_mut()
            .enumerate()
            .fold(YearPrep::default, |mut acc, (i, p)| {
                self.prepare_person(
                    &years,
                    cvd,
                    year,
                    i,
                    p,
                    &mut acc.participants,
                    &mut acc.candidates,
                );
                acc
            })
            .reduce(YearPrep::default, |mut a, b| {
                a.merge(b);
                a
            });
        self.fill_places(&years, year, prep, patients);
    }

    /// One person's work for the programmes of `years` at the start of `year`, in plan
    /// order: a participant leaves or draws the year (counted in `participants`); a
    /// candidate of an unlimited programme may enrol; a candidate of a limited one is
    /// scored into `candidates` (programme, entry). Participants and candidates of a
    /// programme are disjoint (a participant has taken part).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn prepare_person(
        &self,
        years: &[(usize, ProgrammeYear)],
        cvd: &Cvd,
        year: u32,
        i: usize,
        p: &mut Patient<PersonState>,
        participants: &mut [u64; MAX_PROGRAMMES],
        candidates: &mut Vec<(u8, Ranked)>,
    ) {
        if !p.alive() {
            return;
        }
        let month = month_of(year);
        for &(k, ref y) in years {
            let pr = &self.programmes[k];
            if p.state.ix.enrolled & y.bit != 0 {
                if Self::keep_participant(pr, k, y, month, year, p) {
                    participants[k] += 1;
                }
            } else if y.running && Self::candidate(pr, y.bit, p) {
                if pr.spec.capacity_per_year.is_some() {
                    candidates.push((k as u8, Self::rank_entry(pr, cvd, i, p)));
                } else {
                    Self::enrol(pr, k, y, month, year, p);
                }
            }
        }
    }

    /// The places of the limited programmes of `years`, in plan order, from the pass's
    /// participants and candidates. (The order candidates were collected in does not
    /// matter: `fill` orders them.)
    fn fill_places(
        &self,
        years: &[(usize, ProgrammeYear)],
        year: u32,
        prep: YearPrep,
        patients: &mut [Patient<PersonState>],
    ) {
        let month = month_of(year);
        let mut ranked: Vec<Ranked> = Vec::new();
        for (k, y) in years {
            let pr = &self.programmes[*k];
            let Some(capacity) = pr.spec.capacity_per_year.filter(|_| y.running) else {
                continue;
            };
            ranked.clear();
            ranked.extend(
                prep.candidates
                    .iter()
                    .filter(|&&(kk, _)| usize::from(kk) == *k)
                    .map(|&(_, e)| e),
            );
            let places = capacity.saturating_sub(prep.participants[*k]);
            Self::fill(pr, *k, y, month, year, places, &mut ranked, patients);
        }
    }

    /// Programme cost per year of a person enrolled in the programmes of `mask`, kyen.
    #[inline]
    pub fn cost_kyen_per_year(&self, mask: u8) -> f64 {
        self.cost_by_mask
            .get(usize::from(mask))
            .copied()
            .unwrap_or(0.0)
    }

    /// Census: the participation flags.
    #[inline]
    pub fn census(&self, st: &IxState, base: usize, rec: &mut Recorder) {
        for k in 0..self.len() {
            rec.flag(base + 2 * k, st.is_enrolled(k));
        }
    }
}

/// The participant's exit month within the year starting at `month`: the earlier of the
/// scheduled end (duration) and an exponential dropout time drawn for this year (memoryless,
/// so a fresh draw each year gives the same hazard as one draw at enrolment).
fn schedule_year(pr: &Programme, ix: &mut IxState, k: usize, month: u16, mut s: Stream) {
    let d = pr.spec.dropout_per_year;
    if d <= 0.0 {
        return;
    }
    let t_years = s.exp1() / d;
    if t_years < 1.0 {
        let m = u32::from(month) + (t_years * 12.0).round() as u32;
        ix.exit_month[k] = ix.exit_month[k].min(m as u16);
    }
}

/// Puts the `n` first elements of `v` in `cmp` order (a total order) at its front, in
/// order, every other element after them; returns how many (`n`, or fewer if `v` is shorter).
/// The same front as a full sort, in O(len + n log n).
fn sort_prefix<T>(v: &mut [T], n: usize, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> usize {
    if v.is_empty() {
        return 0;
    }
    let n = n.clamp(1, v.len());
    if n < v.len() {
        v.select_nth_unstable_by(n - 1, &cmp);
    }
    v[..n].sort_unstable_by(&cmp);
    n
}

/// Moves the elements of `v` for which `pred` holds to its front (in no particular order);
/// returns how many.
fn partition_front<T>(v: &mut [T], pred: impl Fn(&T) -> bool) -> usize {
    let mut front = 0;
    for i in 0..v.len() {
        if pred(&v[i]) {
            v.swap(front, i);
            front += 1;
        }
    }
    front
}

#[cfg(test)]
mod tests {
    /// `sort_prefix` and `partition_front` give the order of a full sort, ties included.
    #[test]
    fn sort_prefix_is_the_front_of_a_full_sort() {
        use super::{partition_front, sort_prefix};
        let mut s = engine::rng::Stream::new(
            engine::rng::StreamKey::new(
                engine::RunKey {
                    seed: 3,
                    replicate: 0,
                },
                engine::rng::Process::named("test"),
            ),
            0,
            0,
        );
        for len in [1usize, 2, 7, 100, 1000] {
            let v: Vec<(u32, usize)> = (0..len).map(|i| ((s.uniform() * 5.0) as u32, i)).collect();
            let mut full = v.clone();
            full.sort();
            for n in [0usize, 1, 3, len / 2, len, len + 5] {
                let mut w = v.clone();
                let got = sort_prefix(&mut w, n, |a, b| a.cmp(b));
                assert_eq!(got, n.clamp(1, len));
                assert_eq!(w[..got], full[..got]);
                let mut rest = w[got..].to_vec();
                rest.sort();
                assert_eq!(rest, full[got..]);
            }
            let mut w = v.clone();
            let front = partition_front(&mut w, |e| e.0 == 2);
            assert_eq!(front, v.iter().filter(|e| e.0 == 2).count());
            assert!(w[..front].iter().all(|e| e.0 == 2) && w[front..].iter().all(|e| e.0 != 2));
        }
    }

    use super::spec::{Eligibility, Intervention, Kind, Priority, Range};
    use crate::mortality::LifeTable;
    use crate::HealthModel;
    use cohort::{Generator, SyntheticSpec};
    use engine::{init_patients, simulate, RunKey, RunSettings};

    fn programme(
        name: &str,
        kind: Kind,
        priority: Priority,
        capacity: Option<u64>,
    ) -> Intervention {
        Intervention {
            name: name.into(),
            kind,
            eligibility: Eligibility::default(),
            priority,
            uptake: 0.6,
            adherence: 0.8,
            dropout_per_year: 0.3,
            start_year: 0,
            stop_year: Some(5),
            duration_years: Some(2.0),
            capacity_per_year: capacity,
            cost_per_participant_year_yen: 0.0,
            effect_scale: 1.0,
        }
    }

    /// The one-pass allocation is the programme-by-programme allocation: the same people
    /// enrolled, with the same draws, for a plan of limited and unlimited programmes of
    /// every priority (ties included: frailty counts), over years in which programmes run,
    /// fill, lose participants and stop.
    #[test]
    fn one_pass_allocation_equals_programme_by_programme() {
        let mut older = programme("salon", Kind::CommunitySalon, Priority::Random, Some(150));
        older.eligibility.age = Range {
            lo: Some(65.0),
            hi: None,
        };
        let plan = vec![
            programme(
                "bp",
                Kind::Antihypertensive,
                Priority::CardiovascularRisk,
                Some(200),
            ),
            programme("statin", Kind::Statin, Priority::CardiovascularRisk, None),
            older,
            programme(
                "exercise",
                Kind::ExerciseNutrition,
                Priority::FrailtyIndex,
                Some(120),
            ),
            programme("check", Kind::HealthCheck, Priority::Random, None),
            programme(
                "lifestyle",
                Kind::IntensiveLifestyle,
                Priority::DiabetesRisk,
                Some(90),
            ),
        ];
        let mut m = HealthModel::new(LifeTable::mhlw_2024());
        m.set_interventions(plan).unwrap();
        assert!(m.ix.one_pass);
        let people = Generator::new(SyntheticSpec {
            n: 3000,
            seed: 5,
            age_min: 40,
            age_max: 89,
        })
        .unwrap()
        .generate();
        let run = RunKey {
            seed: 9,
            replicate: 0,
        };
        let mut a = init_patients(&m, run, &people);
        let settings = RunSettings {
            seed: 9,
            years: 2,
            step_months: 1,
            chunk_size: 256,
            trace_patients: 0,
        };
        simulate(&m, &settings, run, &mut a, &|_| {});
        let mut b = a.clone();
        let enrolled = |ps: &[engine::Patient<crate::PersonState>]| {
            ps.iter()
                .filter(|p| p.alive())
                .map(|p| p.state.ix.enrolled.count_ones())
                .sum::<u32>()
        };
        let mut seen = Vec::new();
        for year in 2..7 {
            m.ix.start_of_year(&m.cvd, run, year, &mut a, None);
            m.ix.allocate_in_order(&m.cvd, run, year, &mut b);
            for (p, q) in a.iter().zip(&b) {
                // Debug text: NaN fields (no event yet) compare unequal as floats.
                assert_eq!(
                    format!("{:?}", p.state),
                    format!("{:?}", q.state),
                    "year {year}"
                );
            }
            seen.push(enrolled(&a));
        }
        // Programmes ran (participants) and stopped at year 5 (nobody living enrolled).
        assert!(seen[0] > 300, "{seen:?}");
        assert_eq!(seen[4], 0, "{seen:?}");
    }

    /// The allocation's per-person pass made by the engine at the end of each person's year
    /// (`Model::prepare`) gives the run of the allocation's own pass at the start of the
    /// year: the same people, states and aggregates, with limited programmes that fill.
    #[test]
    fn allocation_prepared_in_the_engine_changes_nothing() {
        let mut salon = programme("salon", Kind::CommunitySalon, Priority::Random, Some(100));
        salon.eligibility.age = Range {
            lo: Some(65.0),
            hi: None,
        };
        salon.stop_year = None;
        let mut bp = programme(
            "bp",
            Kind::Antihypertensive,
            Priority::CardiovascularRisk,
            Some(80),
        );
        bp.stop_year = None;
        let mut statin = programme("statin", Kind::Statin, Priority::Random, None);
        statin.stop_year = None;
        let plan = vec![bp, statin, salon];
        let mut m = HealthModel::new(LifeTable::mhlw_2024());
        m.set_interventions(plan).unwrap();
        assert!(m.ix.prepares());
        let people = Generator::new(SyntheticSpec {
            n: 2000,
            seed: 11,
            age_min: 40,
            age_max: 89,
        })
        .unwrap()
        .generate();
        let run = RunKey {
            seed: 4,
            replicate: 1,
        };
        let settings = RunSettings {
            seed: 4,
            years: 4,
            step_months: 1,
            chunk_size: 64,
            trace_patients: 0,
        };
        let mut a = init_patients(&m, run, &people);
        let out_a = simulate(&m, &settings, run, &mut a, &|_| {});
        let mut own = m.clone();
        own.ix.prepare_in_engine = false;
        assert!(!own.ix.prepares());
        let mut b = init_patients(&own, run, &people);
        let out_b = simulate(&own, &settings, run, &mut b, &|_| {});
        assert_eq!(out_a.aggregate, out_b.aggregate);
        for (p, q) in a.iter().zip(&b) {
            assert_eq!(format!("{:?}", p.state), format!("{:?}", q.state));
        }
        let ever = a.iter().filter(|p| p.state.ix.ever != 0).count();
        assert!(ever > 300, "{ever}");
    }
}
