//! ABC-SMC calibration in rounds that survive a kill (`calibrate --checkpoint`, `--resume`)
//! and that shard over machines (`calibrate --shard i/n`, then `calibrate --merge-round`;
//! docs/shards.md, "Sharding a calibration").
//!
//! ABC-SMC is a sequence of rounds ([`calibration::abc::Sampler`]): each round is a list of
//! numbered candidate parameter sets, a pure function of the sampler's state, whose
//! simulations are independent (common random numbers: every candidate simulates the same
//! people with the same seed). Round 0 also holds the model defaults (the report's
//! "before"). The state after every round is in `OUT/checkpoint/state.bin` (exact: floats
//! by their bits), with the calibration's identity (`identity.json`: every setting and
//! input file that changes the result, by SHA-256).
//!
//! - `--checkpoint` / `--resume`: one process runs the rounds and writes the state after
//!   each; a resumed run continues from the last state and gives the uninterrupted bytes.
//!   The checkpoint is removed when the outputs are written.
//! - `--shard i/n`: simulates the candidates `⌊L·i/n⌋ … ⌊L·(i+1)/n⌋` of the current round's
//!   L and writes them to `round-RRRRRR-shard-IIIII-of-NNNNN.bin`; `--merge-round` checks
//!   that every shard of the round is there and of this calibration, feeds them to the
//!   sampler in candidate order and writes the next state; after the last round it writes
//!   the outputs, the same files as an unsharded calibration (the same writer). The state
//!   stays (so that a shard task run again finds the calibration complete and does
//!   nothing); the round files are removed once merged.
//!
//! Must never: mix rounds or calibrations (every round file names the identity's hash and
//! its round and range), or change what an uninterrupted calibration computes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use calibration::abc::{
    AbcOptions, AbcProgress, AbcResult, Generation, Open, Particle, Phase, Round, Sampler,
    SamplerState,
};
use calibration::distance::Distance;
use calibration::simulate::Simulator;

use crate::calibrate::cal_err;
use crate::common::input_error;
use crate::shard::{identity_hash, Dec, Enc, Shard};

pub const DIR: &str = "checkpoint";
const IDENTITY: &str = "identity.json";
const STATE: &str = "state.bin";
/// The first record of a state file and of a round file.
const STATE_KIND: &str = "healthtwin calibrate: ABC-SMC state";
const ROUND_KIND: &str = "healthtwin calibrate: round results";

/// The sampler's state with the defaults' targets and the work done.
pub struct State {
    /// Rounds merged so far (the next round's number).
    pub round: u64,
    /// The model defaults' simulated targets (round 0).
    pub before: Option<Vec<f64>>,
    pub simulations: u64,
    pub patient_years: u64,
    pub sampler: Sampler,
}

/// What a finished calibration hands to the writer.
pub struct Finished {
    pub before: Vec<f64>,
    pub result: AbcResult,
    pub simulations: u64,
    pub patient_years: u64,
}

/// The candidates of the next round: the sampler's, after the defaults in round 0.
pub struct NextRound {
    pub round: Round,
    /// Whether `thetas[0]` is the defaults (round 0).
    pub with_defaults: bool,
    pub thetas: Vec<Vec<f64>>,
}

impl State {
    pub fn new(opts: AbcOptions, d: usize) -> State {
        State {
            round: 0,
            before: None,
            simulations: 0,
            patient_years: 0,
            sampler: Sampler::new(opts, d),
        }
    }

    pub fn is_done(&self) -> bool {
        self.sampler.is_done()
    }

    /// The next round's candidates (None when the calibration is complete).
    pub fn next(&mut self, sim: &Simulator) -> anyhow::Result<Option<NextRound>> {
        let Some(round) = self.sampler.pending(sim).map_err(cal_err)? else {
            return Ok(None);
        };
        let with_defaults = self.before.is_none();
        let mut thetas = Vec::with_capacity(round.thetas.len() + 1);
        if with_defaults {
            thetas.push(sim.defaults());
        }
        thetas.extend(round.thetas.iter().cloned());
        Ok(Some(NextRound {
            round,
            with_defaults,
            thetas,
        }))
    }

    /// Feeds the simulated targets of every candidate of `next`, in order.
    pub fn feed(
        &mut self,
        next: NextRound,
        mut stats: Vec<Vec<f64>>,
        patient_years: u64,
        seconds: f64,
        distance: &Distance,
        progress: &dyn AbcProgress,
    ) -> anyhow::Result<()> {
        self.simulations += stats.len() as u64;
        self.patient_years += patient_years;
        if next.with_defaults {
            if stats.is_empty() {
                anyhow::bail!("round 0 without the defaults' results");
            }
            self.before = Some(stats.remove(0));
        }
        self.sampler
            .feed(next.round, stats, distance, seconds, progress)
            .map_err(cal_err)?;
        self.round += 1;
        Ok(())
    }

    pub fn finished(self) -> Option<Finished> {
        if !self.sampler.is_done() {
            return None;
        }
        Some(Finished {
            before: self.before?,
            simulations: self.simulations,
            patient_years: self.patient_years,
            result: self.sampler.finish(),
        })
    }

    fn encode(&self, identity: &str) -> Enc {
        let mut e = Enc::default();
        e.str(STATE_KIND);
        e.str(identity);
        e.u64(self.round);
        e.u64(self.simulations);
        e.u64(self.patient_years);
        e.bool(self.before.is_some());
        if let Some(b) = &self.before {
            floats(&mut e, b);
        }
        let s = self.sampler.state();
        match &s.phase {
            Phase::Prior => e.u8(0),
            Phase::Generation(open) => {
                e.u8(1);
                e.u64(open.generation as u64);
                e.f64(open.tolerance);
                particles(&mut e, &open.accepted);
                e.u64(open.next as u64);
                e.u64(open.simulated as u64);
                e.f64(open.seconds);
            }
            Phase::Done => e.u8(2),
        }
        particles(&mut e, &s.prior);
        particles(&mut e, &s.current);
        e.u64(s.generations.len() as u64);
        for g in &s.generations {
            e.u64(g.index as u64);
            e.f64(g.tolerance);
            e.u64(g.simulated as u64);
            e.u64(g.accepted as u64);
            e.f64(g.acceptance);
            e.f64(g.ess);
            e.f64(g.seconds);
        }
        e.f64(s.accept_estimate);
        e.str(&s.stopped);
        e.bool(s.reached);
        e
    }

    fn decode(path: &Path, identity: &str, opts: AbcOptions, d: usize) -> anyhow::Result<State> {
        let mut r = Dec::open_file(path)?;
        if r.str()? != STATE_KIND {
            return Err(r.bad());
        }
        if r.str()? != identity {
            return Err(input_error(format!(
                "{}: the state of another calibration (other settings or inputs)",
                path.display()
            )));
        }
        let round = r.u64()?;
        let simulations = r.u64()?;
        let patient_years = r.u64()?;
        let before = if r.bool()? {
            Some(read_floats(&mut r)?)
        } else {
            None
        };
        let phase = match r.u8()? {
            0 => Phase::Prior,
            1 => Phase::Generation(Open {
                generation: r.u64()? as usize,
                tolerance: r.f64()?,
                accepted: read_particles(&mut r)?,
                next: r.u64()? as usize,
                simulated: r.u64()? as usize,
                seconds: r.f64()?,
            }),
            2 => Phase::Done,
            _ => return Err(r.bad()),
        };
        let prior = read_particles(&mut r)?;
        let current = read_particles(&mut r)?;
        let n = r.len(56)?;
        let mut generations = Vec::with_capacity(n);
        for _ in 0..n {
            generations.push(Generation {
                index: r.u64()? as usize,
                tolerance: r.f64()?,
                simulated: r.u64()? as usize,
                accepted: r.u64()? as usize,
                acceptance: r.f64()?,
                ess: r.f64()?,
                seconds: r.f64()?,
            });
        }
        let accept_estimate = r.f64()?;
        let stopped = r.str()?;
        let reached = r.bool()?;
        r.finish()?;
        let state = SamplerState {
            phase,
            prior,
            current,
            generations,
            accept_estimate,
            stopped,
            reached,
        };
        Ok(State {
            round,
            before,
            simulations,
            patient_years,
            sampler: Sampler::restore(opts, d, state),
        })
    }
}

fn floats(e: &mut Enc, v: &[f64]) {
    e.u64(v.len() as u64);
    for &x in v {
        e.f64(x);
    }
}

fn read_floats(r: &mut Dec) -> anyhow::Result<Vec<f64>> {
    let n = r.len(8)?;
    (0..n).map(|_| r.f64()).collect()
}

fn particles(e: &mut Enc, ps: &[Particle]) {
    e.u64(ps.len() as u64);
    for p in ps {
        floats(e, &p.theta);
        floats(e, &p.z);
        floats(e, &p.stats);
        e.f64(p.distance);
        e.f64(p.weight);
    }
}

fn read_particles(r: &mut Dec) -> anyhow::Result<Vec<Particle>> {
    let n = r.len(40)?;
    let mut ps = Vec::with_capacity(n);
    for _ in 0..n {
        ps.push(Particle {
            theta: read_floats(r)?,
            z: read_floats(r)?,
            stats: read_floats(r)?,
            distance: r.f64()?,
            weight: r.f64()?,
        });
    }
    Ok(ps)
}

/// The checkpoint folder of a calibration into `out`.
pub struct Rounds {
    dir: PathBuf,
    hash: String,
    opts: AbcOptions,
    d: usize,
}

impl Rounds {
    /// The folder of the calibration `identity` in `out`. `fresh`: start over (remove an
    /// earlier checkpoint, as `--checkpoint` without `--resume`); otherwise keep it,
    /// refusing one of another calibration, naming the settings that differ.
    pub fn open(
        out: &Path,
        identity: serde_json::Value,
        opts: AbcOptions,
        d: usize,
        fresh: bool,
    ) -> anyhow::Result<Rounds> {
        let dir = out.join(DIR);
        let hash = identity_hash(&identity);
        let text = serde_json::to_string_pretty(&identity)?;
        if fresh {
            match fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(anyhow::anyhow!("{}: {e}", dir.display())),
            }
        }
        fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        let id_path = dir.join(IDENTITY);
        if id_path.exists() {
            let old: serde_json::Value = fs::read_to_string(&id_path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(serde_json::Value::Null);
            if old != identity {
                return Err(input_error(format!(
                    "{} holds the rounds of another calibration ({}); \
                     use another --out, or start over with --checkpoint",
                    dir.display(),
                    crate::checkpoint::differences(&old, &identity)
                )));
            }
        } else {
            report::write_atomic(&id_path, text.as_bytes())?;
        }
        Ok(Rounds { dir, hash, opts, d })
    }

    /// The last saved state, or the start.
    pub fn load(&self) -> anyhow::Result<State> {
        let path = self.dir.join(STATE);
        if path.exists() {
            State::decode(&path, &self.hash, self.opts, self.d)
        } else {
            Ok(State::new(self.opts, self.d))
        }
    }

    /// Saves `state` atomically (it replaces the previous one whole).
    pub fn save(&self, state: &State) -> anyhow::Result<()> {
        state.encode(&self.hash).write_file(&self.dir.join(STATE))?;
        // Tests kill the calibration here (docs/shards.md).
        if std::env::var("HEALTHTWIN_TEST_ABORT_AFTER_ROUND")
            .ok()
            .and_then(|v| v.parse().ok())
            == Some(state.round)
        {
            std::process::abort();
        }
        Ok(())
    }

    fn round_file(&self, round: u64, s: Shard) -> PathBuf {
        self.dir.join(format!(
            "round-{round:06}-shard-{:05}-of-{:05}.bin",
            s.index, s.count
        ))
    }

    /// Simulates shard `s`'s part of the next round of `state` (nothing when a complete
    /// file of it is already there). Returns the candidates simulated.
    pub fn run_shard(
        &self,
        state: &mut State,
        sim: &Simulator,
        s: Shard,
    ) -> anyhow::Result<Option<(u64, std::ops::Range<u64>, usize)>> {
        let Some(next) = state.next(sim)? else {
            return Ok(None);
        };
        let range = s.range(next.thetas.len() as u64);
        let path = self.round_file(state.round, s);
        if self.read_round(&path, state.round, &range).is_ok() {
            return Ok(Some((state.round, range, 0)));
        }
        let thetas = &next.thetas[range.start as usize..range.end as usize];
        let t0 = std::time::Instant::now();
        let years_before = sim.patient_years();
        let stats = sim.evaluate_all(thetas).map_err(cal_err)?;
        let mut e = Enc::default();
        e.str(ROUND_KIND);
        e.str(&self.hash);
        e.u64(state.round);
        e.u64(range.start);
        e.u64(range.end);
        for st in &stats {
            floats(&mut e, st);
        }
        e.u64(sim.patient_years() - years_before);
        e.f64(t0.elapsed().as_secs_f64());
        e.write_file(&path)?;
        Ok(Some((state.round, range, stats.len())))
    }

    /// A round file's results: (stats, patient-years, seconds), checked to be this
    /// calibration's round `round`, candidates `range`.
    fn read_round(
        &self,
        path: &Path,
        round: u64,
        range: &std::ops::Range<u64>,
    ) -> anyhow::Result<(Vec<Vec<f64>>, u64, f64)> {
        let mut r = Dec::open_file(path)?;
        if r.str()? != ROUND_KIND || r.str()? != self.hash {
            return Err(input_error(format!(
                "{}: not a round of this calibration (other settings or inputs)",
                path.display()
            )));
        }
        let (got_round, a, b) = (r.u64()?, r.u64()?, r.u64()?);
        if got_round != round || a != range.start || b != range.end {
            return Err(input_error(format!(
                "{}: holds candidates {a}..{b} of round {got_round} where candidates {}..{} \
                 of round {round} were expected",
                path.display(),
                range.start,
                range.end
            )));
        }
        let stats = (a..b)
            .map(|_| read_floats(&mut r))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let years = r.u64()?;
        let seconds = r.f64()?;
        r.finish()?;
        Ok((stats, years, seconds))
    }

    /// Merges the shards' files of the next round into `state` (refusing, with nothing
    /// changed, when a shard is missing, of another `n` or of another calibration), saves
    /// the new state and removes the merged files. Returns the shards merged.
    pub fn merge_round(
        &self,
        state: &mut State,
        sim: &Simulator,
        distance: &Distance,
        progress: &dyn AbcProgress,
    ) -> anyhow::Result<Option<u32>> {
        let Some(next) = state.next(sim)? else {
            return Ok(None);
        };
        let round = state.round;
        let prefix = format!("round-{round:06}-shard-");
        let mut files: BTreeMap<u32, (u32, PathBuf)> = BTreeMap::new();
        let mut counts: BTreeMap<u32, PathBuf> = BTreeMap::new();
        for entry in
            fs::read_dir(&self.dir).map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))?
        {
            let entry = entry.map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(rest) = name
                .strip_prefix(&prefix)
                .and_then(|r| r.strip_suffix(".bin"))
            else {
                continue;
            };
            let Some((i, n)) = rest
                .split_once("-of-")
                .and_then(|(i, n)| Some((i.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
            else {
                continue;
            };
            if let Some((other, _)) = counts.iter().find(|(&m, _)| m != n) {
                return Err(input_error(format!(
                    "round {round}: shards of {other} and of {n} ({} and {}); every shard of a \
                     round must use the same --shard i/n",
                    counts[other].display(),
                    entry.path().display()
                )));
            }
            counts.entry(n).or_insert_with(|| entry.path());
            files.insert(i, (n, entry.path()));
        }
        let Some((&n, _)) = counts.iter().next() else {
            return Err(input_error(format!(
                "round {round}: no shard has finished it in {} (run `calibrate … --shard i/n` \
                 for every i first)",
                self.dir.display()
            )));
        };
        let missing: Vec<String> = (0..n)
            .filter(|i| !files.contains_key(i))
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !missing.is_empty() {
            return Err(input_error(format!(
                "round {round}: shard(s) {} not finished (nothing merged)",
                missing.join(", ")
            )));
        }
        let total = next.thetas.len() as u64;
        let mut stats = Vec::with_capacity(next.thetas.len());
        let mut years = 0;
        let mut seconds: f64 = 0.0;
        for (&i, (_, path)) in &files {
            let range = Shard { index: i, count: n }.range(total);
            let (s, y, sec) = self.read_round(path, round, &range)?;
            stats.extend(s);
            years += y;
            // The round's wall time when its shards run side by side.
            seconds = seconds.max(sec);
        }
        state.feed(next, stats, years, seconds, distance, progress)?;
        self.save(state)?;
        for (_, path) in files.values() {
            let _ = fs::remove_file(path);
        }
        Ok(Some(n))
    }

    /// Removes the checkpoint (the outputs are complete).
    pub fn remove(self) -> anyhow::Result<()> {
        fs::remove_dir_all(&self.dir).map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))
    }
}
