//! Counter-based random streams.
//!
//! Every random number in a run is a pure function of
//! `(master seed, replicate, process name, patient id, step, draw index)`:
//! Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11)
//! keyed by `(seed, replicate, process)` and counted by `(draw index, step, patient)`.
//! Nothing depends on call order, thread count or chunk size, and a patient sees the same
//! luck in every scenario (common random numbers), because an intervention that changes the
//! control flow of one process cannot shift the draws of another.
//!
//! This module must never hold global or thread-local generator state.

use std::convert::Infallible;

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// The Philox4x32 bijection with `rounds` rounds (10 is the standard, crush-resistant choice).
#[inline]
pub fn philox4x32(rounds: u32, mut ctr: [u32; 4], mut key: [u32; 2]) -> [u32; 4] {
    for r in 0..rounds {
        if r > 0 {
            key[0] = key[0].wrapping_add(PHILOX_W0);
            key[1] = key[1].wrapping_add(PHILOX_W1);
        }
        let (hi0, lo0) = mulhilo(PHILOX_M0, ctr[0]);
        let (hi1, lo1) = mulhilo(PHILOX_M1, ctr[2]);
        ctr = [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0];
    }
    ctr
}

/// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mixer.
#[inline]
pub const fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A named random process ("mortality", "cohort.age", ...). The id is the FNV-1a hash of the
/// name, so adding a process never shifts the streams of the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Process(u64);

impl Process {
    pub const fn named(name: &str) -> Self {
        let bytes = name.as_bytes();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        while i < bytes.len() {
            h ^= bytes[i] as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        Process(h)
    }
    pub const fn id(self) -> u64 {
        self.0
    }
}

/// Which replicate of which run: everything a stream key depends on besides the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunKey {
    pub seed: u64,
    pub replicate: u32,
}

/// The Philox key of one process in one replicate of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamKey([u32; 2]);

impl StreamKey {
    pub const fn new(run: RunKey, process: Process) -> Self {
        let k = splitmix64(run.seed ^ splitmix64(process.id() ^ splitmix64(run.replicate as u64)));
        StreamKey([k as u32, (k >> 32) as u32])
    }
}

/// The draws of one process for one patient at one step. Cheap to create (no state besides
/// a 16-byte counter and a 16-byte buffer), so make a new one wherever it is needed.
#[derive(Clone, Debug)]
pub struct Stream {
    key: [u32; 2],
    ctr: [u32; 4],
    buf: [u32; 4],
    /// Next unread word of `buf`; 4 means empty.
    pos: u8,
}

impl Stream {
    #[inline]
    pub fn new(key: StreamKey, patient: u64, step: u32) -> Self {
        Stream {
            key: key.0,
            ctr: [0, step, patient as u32, (patient >> 32) as u32],
            buf: [0; 4],
            pos: 4,
        }
    }

    #[inline]
    fn refill(&mut self) {
        self.buf = philox4x32(10, self.ctr, self.key);
        self.ctr[0] = self.ctr[0].wrapping_add(1);
        self.pos = 0;
    }

    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= 4 {
            self.refill();
        }
        let w = self.buf[self.pos as usize];
        self.pos += 1;
        w
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        if self.pos > 2 {
            self.refill();
        }
        let lo = self.buf[self.pos as usize];
        let hi = self.buf[self.pos as usize + 1];
        self.pos += 2;
        u64::from(lo) | (u64::from(hi) << 32)
    }

    /// Uniform on the open interval (0, 1): never 0, never 1, so `ln(u)` is always finite.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by inversion (Acklam's rational approximation, relative error below
    /// 1.15e-9), one uniform per draw so draw indices stay predictable.
    #[inline]
    pub fn std_normal(&mut self) -> f64 {
        crate::math::norm_inv(self.uniform())
    }

    /// Exp(1) by inversion: a budget of cumulative hazard for an event clock.
    #[inline]
    pub fn exp1(&mut self) -> f64 {
        -crate::detmath::ln(self.uniform())
    }

    /// `true` with probability `p` (clamped to [0, 1]).
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

/// Spends `hazard` (rate × time) from an Exp(1) event clock: `true` when the clock runs out
/// within the step (the event happens, and the clock is redrawn from `stream`). Exact for
/// hazards constant within a step, one draw per event.
#[inline]
pub fn spend_clock(clock: &mut f64, hazard: f64, stream: impl FnOnce() -> Stream) -> bool {
    if hazard < *clock {
        *clock -= hazard;
        false
    } else {
        *clock = stream().exp1();
        true
    }
}

impl rand::TryRng for Stream {
    type Error = Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(Stream::next_u32(self))
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(Stream::next_u64(self))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(4) {
            let w = Stream::next_u32(self).to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known-answer vectors from Random123's kat_vectors file (D. E. Shaw Research).
    #[test]
    fn philox_known_answers() {
        assert_eq!(
            philox4x32(10, [0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32(10, [u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32(
                10,
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn draws_depend_only_on_their_coordinates() {
        let run = RunKey {
            seed: 7,
            replicate: 0,
        };
        let key = StreamKey::new(run, Process::named("mortality"));
        let mut a = Stream::new(key, 12345, 17);
        let first: Vec<u64> = (0..9).map(|_| a.next_u64()).collect();
        // Interleave other streams: nothing they do changes `b`.
        let mut other = Stream::new(StreamKey::new(run, Process::named("other")), 12345, 17);
        let _ = other.uniform();
        let mut b = Stream::new(key, 12345, 17);
        let again: Vec<u64> = (0..9).map(|_| b.next_u64()).collect();
        assert_eq!(first, again);
        // A different patient, step, process, replicate or seed gives different draws.
        let differs = |mut s: Stream| s.next_u64() != first[0];
        assert!(differs(Stream::new(key, 12346, 17)));
        assert!(differs(Stream::new(key, 12345, 18)));
        assert!(differs(Stream::new(
            StreamKey::new(run, Process::named("mortalitx")),
            12345,
            17
        )));
        assert!(differs(Stream::new(
            StreamKey::new(
                RunKey {
                    seed: 7,
                    replicate: 1
                },
                Process::named("mortality")
            ),
            12345,
            17
        )));
        assert!(differs(Stream::new(
            StreamKey::new(
                RunKey {
                    seed: 8,
                    replicate: 0
                },
                Process::named("mortality")
            ),
            12345,
            17
        )));
    }

    #[test]
    fn uniform_moments() {
        let key = StreamKey::new(
            RunKey {
                seed: 1,
                replicate: 0,
            },
            Process::named("test"),
        );
        let n = 200_000;
        let (mut sum, mut sumsq) = (0.0, 0.0);
        for i in 0..n {
            let u = Stream::new(key, i, 0).uniform();
            assert!(u > 0.0 && u < 1.0);
            sum += u;
            sumsq += u * u;
        }
        let mean = sum / n as f64;
        let var = sumsq / n as f64 - mean * mean;
        // SE of the mean is 0.29/sqrt(n) = 6.5e-4; 5 SE bounds.
        assert!((mean - 0.5).abs() < 3.3e-3, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 2e-3, "var {var}");
    }
}
