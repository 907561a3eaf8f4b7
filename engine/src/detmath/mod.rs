//! Transcendental functions with the same bits on every machine: e^x, e^x − 1, ln x,
//! ln(1 + x) and x^y in plain IEEE 754 double arithmetic.
//!
//! `f64::exp`, `ln`, `powf`, … call the platform's libm, whose last bit differs between libm
//! versions and operating systems, and within glibc between the FMA and non-FMA code paths it
//! picks at run time by CPU: a run would then not reproduce bit for bit on another machine.
//! These functions use only `+ − × ÷`, comparisons and bit operations on doubles and integers
//! (each correctly rounded by IEEE 754, so the same on every conforming machine; Rust never
//! contracts `a * b + c` into an FMA), tables computed once with 60-digit arithmetic
//! (`tables.py`), and no platform call. Simulation code must use them (through [`DetMath`]:
//! `x.ln_det()`, …); `clippy.toml` rejects the platform methods, and `.ci/same-bits.sh`
//! checks that a build with FMA instructions, and glibc's non-FMA code paths, write the same
//! output bytes.
//!
//! Accuracy: below one unit in the last place (ulp) everywhere, about half an ulp in practice
//! (the tests check correctly rounded reference values and 2·10^6 arguments per function
//! against the platform libm; `accuracy.py` measures the error against 60-digit arithmetic;
//! `docs/validation.md` gives the figures). Special
//! values (NaN, ±0, ±∞, overflow, underflow, subnormals) follow C99 Annex F as `f64`'s
//! methods do.
//!
//! Methods: exp is Tang's table method (ACM TOMS 15:144, 1989); ln a table of 128 reciprocals
//! with the reduced argument z·(1/c) − 1 computed exactly by splitting z (Tang, ACM TOMS
//! 16:378, 1990, without FMA); ln(1 + x) the same with the rounding of 1 + x carried; e^x − 1
//! a Taylor polynomial near 0 and exp's reduction with the subtraction of 1 made exact
//! elsewhere; x^y = e^(y·ln x) with ln x and the product carried in double-double.

mod tables;

use tables::{EXP_TABLE_HI, EXP_TABLE_LO, LN_INVC, LN_LOGC_HI, LN_LOGC_LO};

/// Method syntax for the functions of this module: `x.ln_det()` is [`ln`]`(x)`, and so on.
/// Use these in simulation code instead of `f64::exp`, `ln`, `ln_1p`, `exp_m1` and `powf`.
pub trait DetMath {
    /// e^x ([`exp`]).
    fn exp_det(self) -> f64;
    /// e^x − 1 ([`exp_m1`]).
    fn exp_m1_det(self) -> f64;
    /// ln x ([`ln`]).
    fn ln_det(self) -> f64;
    /// ln(1 + x) ([`ln_1p`]).
    fn ln_1p_det(self) -> f64;
    /// x^y ([`powf`]).
    fn powf_det(self, y: f64) -> f64;
}

impl DetMath for f64 {
    #[inline]
    fn exp_det(self) -> f64 {
        exp(self)
    }
    #[inline]
    fn exp_m1_det(self) -> f64 {
        exp_m1(self)
    }
    #[inline]
    fn ln_det(self) -> f64 {
        ln(self)
    }
    #[inline]
    fn ln_1p_det(self) -> f64 {
        ln_1p(self)
    }
    #[inline]
    fn powf_det(self, y: f64) -> f64 {
        powf(self, y)
    }
}

// ---------------------------------------------------------------------------------------
// Exact building blocks.

/// `a + b` as `s + e` exactly (Dekker's Fast2Sum), when `|a| ≥ |b|` or `a = 0`.
#[inline(always)]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a + b` as `s + e` exactly, whatever their magnitudes (Knuth's TwoSum).
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `x = h + l` exactly, `h` keeping the leading 26 significant bits (the low 27 bits of the
/// significand cleared), `l` at most 27 bits: products of such halves with numbers of at most
/// 26 bits are exact.
#[inline(always)]
fn split(x: f64) -> (f64, f64) {
    let h = f64::from_bits(x.to_bits() & 0xffff_ffff_f800_0000);
    (h, x - h)
}

// ---------------------------------------------------------------------------------------
// e^x

/// fdlibm's ln 2 split, over 64: the high part has 32 significant bits, so k·LN2_HI is exact
/// for |k| < 2^21 (|x| < 746 gives |k| < 2^16). (fdlibm e_exp.c: ln2HI = 0x3fe62e42fee00000,
/// ln2LO = 0x3dea39ef35793c76.)
const EXP_LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000) / 64.0;
const EXP_LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76) / 64.0;
const INV_LN2_64: f64 = 64.0 / std::f64::consts::LN_2;
/// 1.5 · 2^52: adding and subtracting it rounds to the nearest integer (ties to even).
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// Above this e^x overflows (the largest x with a finite e^x is 709.782712893383973).
const EXP_OVERFLOW: f64 = 709.782_712_893_384;
/// Below this e^x rounds to 0 (e^x < 2^-1075).
const EXP_UNDERFLOW: f64 = -745.133_219_101_941_1;

/// The reduction x = (64·m + j)·ln2/64 + r of exp: (k = 64·m + j, r, e^r − 1).
/// `xlo` is a low-order addend of the argument (−0.0 for none: `r + (−0.0)` is `r`, and the
/// compiler removes it).
#[inline(always)]
fn exp_reduce(x: f64, xlo: f64) -> (i64, f64, f64) {
    let kd = (x * INV_LN2_64 + SHIFT) - SHIFT;
    let k = kd as i64;
    let r = ((x - kd * EXP_LN2_HI) - kd * EXP_LN2_LO) + xlo;
    // e^r − 1 by its degree-6 Taylor polynomial: |r| ≤ ln2/128, truncation below 2e-20.
    let p = r + r
        * r
        * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0)))));
    (k, r, p)
}

/// e^(x + xlo) for x within [EXP_UNDERFLOW − 1, EXP_OVERFLOW + 1] (not NaN); overflow gives
/// ∞ and underflow subnormals then 0.
#[inline(always)]
fn exp_core(x: f64, xlo: f64) -> f64 {
    let (k, _, p) = exp_reduce(x, xlo);
    let j = (k & 63) as usize;
    let m = k >> 6;
    let t_hi = f64::from_bits(EXP_TABLE_HI[j]);
    let t_lo = f64::from_bits(EXP_TABLE_LO[j]);
    // 2^(j/64)·(1 + p) with the table's remainder carried: one rounding at the end.
    let y = t_hi + (t_lo + t_hi * p + t_lo * p);
    if (-1021..=1022).contains(&m) {
        y * f64::from_bits(((m + 1023) as u64) << 52)
    } else if m > 1022 {
        // y < 2, so y·2^1023·2^(m−1023) with m ≤ 1024.
        y * f64::from_bits(((m - 1 + 1023) as u64) << 52) * 2.0
    } else {
        // Subnormal results: scale in two steps so the first product stays normal.
        y * f64::from_bits(((m + 100 + 1023) as u64) << 52)
            * f64::from_bits(((1023 - 100) as u64) << 52)
    }
}

/// e^x, the same bits on every machine, and cheap enough to inline in the step loop.
///
/// Tang's table method (ACM TOMS 15:144, 1989) in plain IEEE arithmetic (no FMA):
/// x = (64·m + j)·ln2/64 + r with |r| ≤ ln2/128 (Cody–Waite reduction with fdlibm's two-part
/// ln 2), e^r − 1 by its degree-6 Taylor polynomial (truncation below 2e-20), and 2^(j/64)
/// from a two-part table. Error below one ulp (about 0.5); `NaN` in, `NaN` out; overflow
/// gives `inf`, underflow subnormals then 0, as `f64::exp` does.
#[inline]
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > EXP_OVERFLOW {
        return f64::INFINITY;
    }
    if x < EXP_UNDERFLOW {
        return 0.0;
    }
    exp_core(x, -0.0)
}

/// e^x − 1, accurate near 0 (where `exp(x) − 1` loses the digits), the same bits on every
/// machine. Error below one ulp.
///
/// |x| < 1/8: x + x²/2 + x³·P(x), P the Taylor polynomial to x^11 (truncation below 2^-61
/// relative). Elsewhere exp's reduction e^x = 2^m·(t_hi + t_lo)·(1 + p) and
/// e^x − 1 = (2^m·t_hi − 1) + 2^m·(t_lo + t_hi·p + t_lo·p), the first difference made exact
/// with TwoSum. Above 700, e^x (the 1 is far below half an ulp); below −40, −1.
pub fn exp_m1(x: f64) -> f64 {
    let ax = x.abs();
    if ax < 0.125 {
        if x == 0.0 {
            return x; // keeps the sign of zero
        }
        // Horner from x^11/11! down to x^3/3! (exact rationals rounded once).
        let q = x
            * x
            * x
            * (1.0 / 6.0
                + x * (1.0 / 24.0
                    + x * (1.0 / 120.0
                        + x * (1.0 / 720.0
                            + x * (1.0 / 5_040.0
                                + x * (1.0 / 40_320.0
                                    + x * (1.0 / 362_880.0
                                        + x * (1.0 / 3_628_800.0 + x * (1.0 / 39_916_800.0)))))))));
        return x + (0.5 * x * x + q);
    }
    if x.is_nan() {
        return x;
    }
    if ax > 700.0 {
        return if x > 0.0 { exp(x) } else { -1.0 };
    }
    if x < -40.0 {
        return -1.0; // e^x < 2^-57: −1 + e^x rounds to −1
    }
    let (k, _, p) = exp_reduce(x, -0.0);
    let j = (k & 63) as usize;
    let m = k >> 6; // |m| ≤ 1010: 2^m is a normal double
    let scale = f64::from_bits(((m + 1023) as u64) << 52);
    let t_hi = f64::from_bits(EXP_TABLE_HI[j]);
    let t_lo = f64::from_bits(EXP_TABLE_LO[j]);
    let (s, e) = two_sum(scale * t_hi, -1.0);
    s + (e + scale * (t_lo + t_hi * p + t_lo * p))
}

// ---------------------------------------------------------------------------------------
// ln x

/// ln 2 for the logarithm: fdlibm's split (the high part has 32 significant bits, so k·LN2_HI
/// is exact for every exponent k).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// The reduced argument z lies in [0.6875, 1.375) = [OFF, 2·OFF).
const LN_OFF: u64 = 0x3fe6_0000_0000_0000;

/// One subinterval of the reduction: 1/c (20 significant bits) and ln c as hi + lo.
#[derive(Clone, Copy)]
struct LnEntry {
    invc: f64,
    logc_hi: f64,
    logc_lo: f64,
}

const LN_TABLE: [LnEntry; 128] = {
    let mut t = [LnEntry {
        invc: 0.0,
        logc_hi: 0.0,
        logc_lo: 0.0,
    }; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = LnEntry {
            invc: f64::from_bits(LN_INVC[i]),
            logc_hi: f64::from_bits(LN_LOGC_HI[i]),
            logc_lo: f64::from_bits(LN_LOGC_LO[i]),
        };
        i += 1;
    }
    t
};

/// x = 2^k·z for a positive normal x (by its bits), z in [0.6875, 1.375): (k, the
/// subinterval of z, z). Subinterval i is [0.6875 + i/256, +1/256) below 1 (i < 80) and
/// [1 + (i − 80)/128, +1/128) above.
#[inline(always)]
fn ln_reduce(ix: u64) -> (i64, usize, f64) {
    let tmp = ix.wrapping_sub(LN_OFF);
    let i = ((tmp >> 45) & 127) as usize;
    let k = (tmp as i64) >> 52;
    let iz = ix.wrapping_sub(tmp & (0xfff << 52));
    (k, i, f64::from_bits(iz))
}

/// z·invc − 1 as r + rlo: z = zh + zl with zh of 26 bits, so zh·invc is exact (26 + 20 bits),
/// zh·invc − 1 is exact (it lies in [0.5, 2]), zl·invc is exact, and one Fast2Sum adds them.
/// (When |zh·invc − 1| < |zl·invc| the sum is below 2^-25 and ln c ≥ 2^-8 dominates, so
/// rlo's tiny error does not matter.)
#[inline(always)]
fn ln_reduced_arg(z: f64, invc: f64) -> (f64, f64) {
    let (zh, zl) = split(z);
    fast_two_sum(zh * invc - 1.0, zl * invc)
}

/// Coefficients of ln(1 + r) − r + r²/2 = r³/3 − r⁴/4 + … − r^8/8 + r^9/9: |r| ≤ 2^-7, so
/// the truncation r^10/10 is below 2^-66·|r|.
#[inline(always)]
fn ln_poly3(r: f64) -> f64 {
    let r2 = r * r;
    r * r2
        * (1.0 / 3.0
            + r * (-0.25
                + r * (0.2 + r * (-1.0 / 6.0 + r * (1.0 / 7.0 + r * (-0.125 + r * (1.0 / 9.0)))))))
}

/// ln x = hi + lo from the reduction (k, i, r + rlo), |lo| about an ulp of hi.
///
/// ln x = k·ln2 + ln c + ln(1 + r + rlo). k·LN2_HI + logc_hi is exact (a multiple of 2^-32
/// and one of 2^-42, below 2^10); adding r is made exact with Fast2Sum (|k·ln2 + ln c| ≥
/// 2^-7.4 > |r| unless k = 0 and c = 1, where it is 0); the errors and the small terms are
/// collected in lo (ln(1 + r + rlo) = ln(1 + r) + rlo·(1 − r + …), and r·rlo < 2^-67 is
/// dropped). With `DD` the r²/2 term is split exactly too, for x^y (relative error of
/// hi + lo about 2^-67); without, the error is about 2^-62 relative, and hi + lo rounds to
/// within 0.5 + 2^-9 ulp.
#[inline(always)]
fn ln_sum<const DD: bool>(k: f64, e: &LnEntry, r: f64, rlo: f64) -> (f64, f64) {
    let w = k * LN2_HI + e.logc_hi;
    let (s, e2) = fast_two_sum(w, r);
    let small = e2 + (k * LN2_LO + e.logc_lo) + rlo;
    if DD {
        let (rh, rl) = split(r);
        let (hi, e3) = fast_two_sum(s, -0.5 * (rh * rh));
        (
            hi,
            e3 + (small + (-(rh * rl) - 0.5 * (rl * rl)) + ln_poly3(r)),
        )
    } else {
        (s, small + (ln_poly3(r) - 0.5 * (r * r)))
    }
}

/// ln(2^kadj·x) as hi + lo for a positive normal finite x given by its bits.
#[inline(always)]
fn ln_bits<const DD: bool>(ix: u64, kadj: i64) -> (f64, f64) {
    let (k, i, z) = ln_reduce(ix);
    let e = &LN_TABLE[i];
    let (r, rlo) = ln_reduced_arg(z, e.invc);
    ln_sum::<DD>((k + kadj) as f64, e, r, rlo)
}

/// ln x for positive finite x (normal or subnormal) as hi + lo.
#[inline(always)]
fn ln_positive<const DD: bool>(x: f64) -> (f64, f64) {
    if x < f64::MIN_POSITIVE {
        // ln(x·2^52) − 52·ln 2
        ln_bits::<DD>((x * f64::from_bits(0x4330_0000_0000_0000)).to_bits(), -52)
    } else {
        ln_bits::<DD>(x.to_bits(), 0)
    }
}

/// Natural logarithm, the same bits on every machine. Error below one ulp (about 0.5).
/// ln(±0) = −∞, ln(x < 0) = NaN, ln(∞) = ∞, as `f64::ln`.
pub fn ln(x: f64) -> f64 {
    // Positive normal and finite: the bits lie in [2^52, 0x7ff0 << 48).
    if x.to_bits().wrapping_sub(0x0010_0000_0000_0000) < 0x7fe0_0000_0000_0000 {
        let (hi, lo) = ln_bits::<false>(x.to_bits(), 0);
        return hi + lo;
    }
    ln_special(x)
}

#[cold]
fn ln_special(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        x
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else if x < 0.0 {
        f64::NAN
    } else {
        let (hi, lo) = ln_positive::<false>(x); // subnormal
        hi + lo
    }
}

/// ln(1 + x), accurate near 0, the same bits on every machine. Error below one ulp.
///
/// |x| < 2^-7: x + (ln(1 + x) − x) by the polynomial [`ln`] uses next to 1. Elsewhere u = 1 + x
/// rounded and its rounding error du exactly (Fast2Sum); ln u by the method of [`ln`] with
/// du·2^-k/c added to the reduced argument, so ln(1 + x) is as accurate as ln.
pub fn ln_1p(x: f64) -> f64 {
    if x.abs() < 1.0 / 128.0 {
        // Near 0 (±0 included, with its sign), the polynomial of ln's subintervals next to 1
        // (c = 1) with r = x exactly.
        return x + (ln_poly3(x) - 0.5 * (x * x));
    }
    if !(x > -1.0 && x < 1e300) {
        return ln_1p_special(x);
    }
    let u = 1.0 + x;
    let du = if x.abs() <= 1.0 {
        (1.0 - u) + x
    } else {
        (x - u) + 1.0
    };
    // 2^-53 ≤ u < 2^997: normal, and so is 2^-k.
    let (k, i, z) = ln_reduce(u.to_bits());
    let e = &LN_TABLE[i];
    let (r, rlo) = ln_reduced_arg(z, e.invc);
    let scale = f64::from_bits(((1023 - k) as u64) << 52);
    let (hi, lo) = ln_sum::<false>(k as f64, e, r, rlo + du * scale * e.invc);
    hi + lo
}

#[cold]
fn ln_1p_special(x: f64) -> f64 {
    if x == -1.0 {
        f64::NEG_INFINITY
    } else if x < -1.0 {
        f64::NAN
    } else if x >= 1e300 {
        // ln(x) + ln(1 + 1/x), and 1/x < 2^-996 is far below half an ulp of ln x.
        ln(x)
    } else {
        x // NaN
    }
}

// ---------------------------------------------------------------------------------------
// x^y

/// x^y, the same bits on every machine. Error below one ulp (about 0.5).
///
/// e^(y·ln x): ln x as hi + lo (relative error about 2^-67), y·hi exactly as a double-double
/// (Dekker's product with split halves), and e^(p_hi + p_lo) by exp's method. Special values
/// as C99 Annex F (`f64::powf`): x^0 = 1 and 1^y = 1 even for NaN, negative x only with
/// integer y, and so on.
pub fn powf(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    let positive_normal = x.to_bits().wrapping_sub(0x0010_0000_0000_0000) < 0x7fe0_0000_0000_0000;
    if positive_normal && y.abs() < f64::INFINITY {
        return pow_positive(x, y);
    }
    powf_special(x, y)
}

/// x^y for finite x > 0 (normal or subnormal), x ≠ 1, finite y.
#[inline(always)]
fn pow_positive(x: f64, y: f64) -> f64 {
    let (lh, ll) = ln_positive::<true>(x);
    let ph = y * lh;
    if ph > EXP_OVERFLOW + 0.02 {
        return f64::INFINITY;
    }
    if ph < EXP_UNDERFLOW - 0.02 {
        return 0.0;
    }
    // y·lh − ph exactly (up to 2^-105·|ph|, from the last product of 27-bit halves).
    let (yh, yl) = split(y);
    let (hh, hl) = split(lh);
    let pe = (((yh * hh - ph) + yh * hl) + yl * hh) + yl * hl;
    exp_core(ph, pe + y * ll)
}

#[cold]
fn powf_special(x: f64, y: f64) -> f64 {
    // Here y ≠ 0, y ≠ 1, x ≠ 1, and x is not a positive normal number or y is not finite.
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if y.is_infinite() {
        let ax = x.abs();
        return if ax == 1.0 {
            1.0
        } else if (ax < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    // y finite: integer, odd integer (all doubles of magnitude ≥ 2^53 are even integers).
    let y_integer = y.floor() == y;
    let y_odd = y_integer && (0.5 * y).floor() != 0.5 * y;
    if x == 0.0 {
        return match (y < 0.0, y_odd) {
            (true, true) => 1.0 / x, // ±∞ with the sign of x
            (true, false) => f64::INFINITY,
            (false, true) => x,
            (false, false) => 0.0,
        };
    }
    if x.is_infinite() {
        let r = if y > 0.0 { f64::INFINITY } else { 0.0 };
        return if x < 0.0 && y_odd { -r } else { r };
    }
    if x < 0.0 {
        if !y_integer {
            return f64::NAN;
        }
        if x == -1.0 {
            return if y_odd { -1.0 } else { 1.0 };
        }
        let r = powf(-x, y);
        return if y_odd { -r } else { r };
    }
    pow_positive(x, y) // subnormal x
}

#[cfg(test)]
mod tests;
