//! The yearly allocation of programme places (docs/model.md, "Interventions and health
//! economics"): participants leave or draw their year; eligible people who never took part
//! are offered places, in priority order where places are limited. The per-person work runs
//! in parallel (or in the engine, [`ProgrammeSet::prepare`]); only the filling of limited
//! places goes sequentially down the ranking.
//!
//! Must never: let the result depend on the thread count, the chunking or the order people
//! are prepared in, or change a person other than the one being prepared.

use engine::rng::{Stream, StreamKey};
use engine::{Patient, RunKey};
use rayon::prelude::*;

use super::{mechanisms, FrailtyState, IxState, Participant, Priority, ProgrammeSet};
use super::{ValidatedProgramme, MAX_PROGRAMMES, NEVER};
use crate::cvd::{Cvd, DmLink};
use crate::frailty::kcl::Phenotype;

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

impl ProgrammeSet {
    /// Whether `p` meets programme `pr`'s eligibility now.
    pub fn eligible<S: Participant>(pr: &ValidatedProgramme, p: &Patient<S>) -> bool {
        let e = &pr.spec.eligibility;
        let now = &p.now;
        let st = &p.state;
        let (dm, cvd, fr) = (st.dm(), st.cvd(), st.fr());
        let opt = |want: Option<bool>, have: bool| want.is_none_or(|w| w == have);
        e.covariates.accepts(p.sex(), p.age_years, now)
            && (e.frailty_states.is_empty()
                || e.frailty_states.contains(&match fr.phenotype() {
                    Phenotype::Robust => FrailtyState::Robust,
                    Phenotype::Prefrail => FrailtyState::Prefrail,
                    Phenotype::Frail => FrailtyState::Frail,
                }))
            && opt(e.has_diabetes, dm.has_diabetes())
            && opt(e.diagnosed_diabetes, dm.diagnosed)
            && opt(
                e.hypertension,
                cvd.bp_drugs > 0 || now.sbp_mmhg >= 140.0 || now.dbp_mmhg >= 90.0,
            )
            && opt(e.cvd_history, cvd.any_history())
            && opt(e.ltc_certified, fr.certified())
    }

    /// The priority score of an eligible person (higher first).
    fn score<S: Participant>(pr: &ValidatedProgramme, cvd: &Cvd, p: &Patient<S>) -> (f64, f64) {
        match pr.spec.priority {
            Priority::Random => (0.0, 0.0),
            // Annual hazard of MI, stroke and heart failure on the current (treated) risk
            // factors, from the same equations the model runs: monotone in the 10-year risk.
            Priority::CardiovascularRisk => {
                let h = cvd.hazards(p, &DmLink::of(p));
                (h.iter().sum(), 0.0)
            }
            Priority::DiabetesRisk => (p.now.hba1c_pct, p.state.dm().fpg_mg_dl),
            Priority::FrailtyIndex => (f64::from(p.state.fr().count()), 0.0),
            Priority::Age => (p.age_years, 0.0),
        }
    }

    /// A participant's year: this year's dropout time, then the programme's yearly
    /// decisions (attendance), each from its own keyed draws.
    fn participant_year<S: Participant>(
        pr: &ValidatedProgramme,
        k: usize,
        month: u16,
        year: u32,
        dropout_key: StreamKey,
        yearly_key: StreamKey,
        p: &mut Patient<S>,
    ) {
        let id = p.baseline.id;
        schedule_year(
            pr,
            p.state.ix_mut(),
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
    fn keep_participant<S: Participant>(
        pr: &ValidatedProgramme,
        k: usize,
        y: &ProgrammeYear,
        month: u16,
        year: u32,
        p: &mut Patient<S>,
    ) -> bool {
        let ix = p.state.ix_mut();
        if !y.running || ix.exit_month[k] <= month {
            ix.leave(k, y.bit);
            return false;
        }
        Self::participant_year(pr, k, month, year, y.dropout, y.yearly, p);
        true
    }

    /// A candidate offered a place: the uptake draw, then enrolment and the year.
    #[inline]
    fn enrol<S: Participant>(
        pr: &ValidatedProgramme,
        k: usize,
        y: &ProgrammeYear,
        month: u16,
        year: u32,
        p: &mut Patient<S>,
    ) -> bool {
        let spec = &pr.spec;
        if Stream::new(y.uptake, p.baseline.id, year).uniform() >= spec.uptake {
            return false;
        }
        let ix = p.state.ix_mut();
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
    fn candidate<S: Participant>(pr: &ValidatedProgramme, bit: u8, p: &Patient<S>) -> bool {
        p.alive() && p.state.ix().ever & bit == 0 && Self::eligible(pr, p)
    }

    /// The ranking entry of a candidate of a limited programme (the lottery is drawn later,
    /// only where it decides: [`Self::fill`]).
    #[inline]
    fn rank_entry<S: Participant>(
        pr: &ValidatedProgramme,
        cvd: &Cvd,
        i: usize,
        p: &Patient<S>,
    ) -> Ranked {
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
    fn fill<S: Participant + Send>(
        pr: &ValidatedProgramme,
        k: usize,
        y: &ProgrammeYear,
        month: u16,
        year: u32,
        places: u64,
        ranked: &mut [Ranked],
        patients: &mut [Patient<S>],
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
    pub fn start_of_year<S: Participant + Send>(
        &self,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<S>],
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

    /// One person's part of the allocation of `year` (all programmes), called by the engine
    /// right after the person's last step of the year before.
    #[inline]
    pub fn prepare<S: Participant>(
        &self,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        i: usize,
        p: &mut Patient<S>,
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
    pub(crate) fn allocate_in_order<S: Participant + Send>(
        &self,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<S>],
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
    fn allocate<S: Participant + Send>(
        &self,
        ks: std::ops::Range<usize>,
        cvd: &Cvd,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<S>],
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
    fn prepare_person<S: Participant>(
        &self,
        years: &[(usize, ProgrammeYear)],
        cvd: &Cvd,
        year: u32,
        i: usize,
        p: &mut Patient<S>,
        participants: &mut [u64; MAX_PROGRAMMES],
        candidates: &mut Vec<(u8, Ranked)>,
    ) {
        if !p.alive() {
            return;
        }
        let month = month_of(year);
        for &(k, ref y) in years {
            let pr = &self.programmes[k];
            if p.state.ix().enrolled & y.bit != 0 {
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
    fn fill_places<S: Participant + Send>(
        &self,
        years: &[(usize, ProgrammeYear)],
        year: u32,
        prep: YearPrep,
        patients: &mut [Patient<S>],
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
}

/// The participant's exit month within the year starting at `month`: the earlier of the
/// scheduled end (duration) and an exponential dropout time drawn for this year (memoryless,
/// so a fresh draw each year gives the same hazard as one draw at enrolment).
fn schedule_year(pr: &ValidatedProgramme, ix: &mut IxState, k: usize, month: u16, mut s: Stream) {
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
}
