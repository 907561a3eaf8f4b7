//! Small numerical helpers used in hot loops (no allocation, no IO).

/// Piecewise-linear interpolation of `values` over increasing `points`, flat outside them
/// (tables of published rates by age-band midpoint).
#[inline]
pub fn interpolate(points: &[f64], values: &[f64], x: f64) -> f64 {
    let last = points.len() - 1;
    if x <= points[0] {
        return values[0];
    }
    for i in 0..last {
        if x <= points[i + 1] {
            let w = (x - points[i]) / (points[i + 1] - points[i]);
            return values[i] + w * (values[i + 1] - values[i]);
        }
    }
    values[last]
}

/// `(x as usize).min(max)`: the floor of `x` as a table index, NaN and negative `x` at 0,
/// at most `max` (below 2^63). The same value for every `x`, through the signed conversion,
/// which takes about half the instructions of the saturating unsigned one on x86-64.
#[inline]
pub fn floor_index(x: f64, max: usize) -> usize {
    (x as i64).clamp(0, max as i64) as usize
}

/// `x.round() as i64` (halves away from zero) without the library call: on the baseline
/// x86-64 target `f64::round` is a software routine, and it ran in every step. Exact for
/// every finite `x`: the truncation and the remainder are exact below 2^52, and above it
/// `x` is already an integer; out-of-range values saturate as the `as` cast does.
#[inline]
pub fn round_to_i64(x: f64) -> i64 {
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t.saturating_add(1)
    } else if frac <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// 2^(j/64), j = 0..63: the double nearest (`EXP_TABLE_HI`) and the remainder (`EXP_TABLE_LO`),
/// computed with 60-digit decimal arithmetic (Python `decimal`), as bit patterns.
const EXP_TABLE_HI: [u64; 64] = [
    0x3ff0000000000000,
    0x3ff02c9a3e778061,
    0x3ff059b0d3158574,
    0x3ff0874518759bc8,
    0x3ff0b5586cf9890f,
    0x3ff0e3ec32d3d1a2,
    0x3ff11301d0125b51,
    0x3ff1429aaea92de0,
    0x3ff172b83c7d517b,
    0x3ff1a35beb6fcb75,
    0x3ff1d4873168b9aa,
    0x3ff2063b88628cd6,
    0x3ff2387a6e756238,
    0x3ff26b4565e27cdd,
    0x3ff29e9df51fdee1,
    0x3ff2d285a6e4030b,
    0x3ff306fe0a31b715,
    0x3ff33c08b26416ff,
    0x3ff371a7373aa9cb,
    0x3ff3a7db34e59ff7,
    0x3ff3dea64c123422,
    0x3ff4160a21f72e2a,
    0x3ff44e086061892d,
    0x3ff486a2b5c13cd0,
    0x3ff4bfdad5362a27,
    0x3ff4f9b2769d2ca7,
    0x3ff5342b569d4f82,
    0x3ff56f4736b527da,
    0x3ff5ab07dd485429,
    0x3ff5e76f15ad2148,
    0x3ff6247eb03a5585,
    0x3ff6623882552225,
    0x3ff6a09e667f3bcd,
    0x3ff6dfb23c651a2f,
    0x3ff71f75e8ec5f74,
    0x3ff75feb564267c9,
    0x3ff7a11473eb0187,
    0x3ff7e2f336cf4e62,
    0x3ff82589994cce13,
    0x3ff868d99b4492ed,
    0x3ff8ace5422aa0db,
    0x3ff8f1ae99157736,
    0x3ff93737b0cdc5e5,
    0x3ff97d829fde4e50,
    0x3ff9c49182a3f090,
    0x3ffa0c667b5de565,
    0x3ffa5503b23e255d,
    0x3ffa9e6b5579fdbf,
    0x3ffae89f995ad3ad,
    0x3ffb33a2b84f15fb,
    0x3ffb7f76f2fb5e47,
    0x3ffbcc1e904bc1d2,
    0x3ffc199bdd85529c,
    0x3ffc67f12e57d14b,
    0x3ffcb720dcef9069,
    0x3ffd072d4a07897c,
    0x3ffd5818dcfba487,
    0x3ffda9e603db3285,
    0x3ffdfc97337b9b5f,
    0x3ffe502ee78b3ff6,
    0x3ffea4afa2a490da,
    0x3ffefa1bee615a27,
    0x3fff50765b6e4540,
    0x3fffa7c1819e90d8,
];
const EXP_TABLE_LO: [u64; 64] = [
    0x0000000000000000,
    0xbc719083535b085d,
    0x3c8d73e2a475b465,
    0x3c6186be4bb284ff,
    0x3c98a62e4adc610b,
    0x3c403a1727c57b53,
    0xbc96c51039449b3a,
    0xbc932fbf9af1369e,
    0xbc819041b9d78a76,
    0x3c8e5b4c7b4968e4,
    0x3c9e016e00a2643c,
    0x3c8dc775814a8495,
    0x3c99b07eb6c70573,
    0x3c82bd339940e9d9,
    0x3c8612e8afad1255,
    0x3c90024754db41d5,
    0x3c86f46ad23182e4,
    0x3c932721843659a6,
    0xbc963aeabf42eae2,
    0xbc75e436d661f5e3,
    0x3c8ada0911f09ebc,
    0xbc5ef3691c309278,
    0x3c489b7a04ef80d0,
    0x3c73c1a3b69062f0,
    0x3c7d4397afec42e2,
    0xbc94b309d25957e3,
    0xbc807abe1db13cad,
    0x3c99bb2c011d93ad,
    0x3c96324c054647ad,
    0x3c9ba6f93080e65e,
    0xbc9383c17e40b497,
    0xbc9bb60987591c34,
    0xbc9bdd3413b26456,
    0xbc6bbe3a683c88ab,
    0xbc816e4786887a99,
    0xbc90245957316dd3,
    0xbc841577ee04992f,
    0x3c705d02ba15797e,
    0xbc9d4c1dd41532d8,
    0xbc9fc6f89bd4f6ba,
    0x3c96e9f156864b27,
    0x3c85cc13a2e3976c,
    0xbc675fc781b57ebc,
    0xbc9d185b7c1b85d1,
    0x3c7c7c46b071f2be,
    0xbc9359495d1cd533,
    0xbc9d2f6edb8d41e1,
    0x3c90fac90ef7fd31,
    0x3c97a1cd345dcc81,
    0xbc62805e3084d708,
    0xbc75584f7e54ac3b,
    0x3c823dd07a2d9e84,
    0x3c811065895048dd,
    0x3c92884dff483cad,
    0x3c7503cbd1e949db,
    0xbc9cbc3743797a9c,
    0x3c82ed02d75b3707,
    0x3c9c2300696db532,
    0xbc91a5cd4f184b5c,
    0x3c839e8980a9cc8f,
    0xbc9e9c23179c2893,
    0x3c9dc7f486a4b6b0,
    0x3c99d3e12dd8a18b,
    0x3c874853f3a5931e,
];
/// e^x, the same bits on every machine, and cheap enough to inline in the step loop.
///
/// `f64::exp` calls the platform's libm, whose result may differ in the last bit between
/// libm versions and between the FMA and non-FMA code paths that glibc picks at run time:
/// a run would then not reproduce bit for bit on another machine. This is Tang's table
/// method (ACM TOMS 15:144, 1989) in plain IEEE arithmetic (no FMA): x = (64·m + j)·ln2/64 + r
/// with |r| ≤ ln2/128 (Cody–Waite reduction with fdlibm's two-part ln 2), e^r − 1 by its
/// degree-6 Taylor polynomial (truncation below 2e-20), and 2^(j/64) from a two-part table.
/// Error below one unit in the last place (the test `exp_matches_the_platform` measures it
/// against libm over 10^6 arguments); `NaN` in, `NaN` out; overflow gives `inf`, underflow
/// subnormals then 0, as `f64::exp` does.
#[inline]
pub fn exp(x: f64) -> f64 {
    // fdlibm's ln 2 split: the high part has 32 significant bits, so k·LN2_HI is exact for
    // |k| < 2^21 (|x| < 745 gives |k| < 2^16).
    // (fdlibm e_exp.c: ln2HI = 0x3fe62e42fee00000, ln2LO = 0x3dea39ef35793c76.)
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000) / 64.0;
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76) / 64.0;
    const INV_LN2_64: f64 = 64.0 / std::f64::consts::LN_2;
    // 1.5 · 2^52: adding and subtracting it rounds to the nearest integer (ties to even).
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    if x.is_nan() {
        return x;
    }
    if x > 709.782_712_893_384 {
        return f64::INFINITY;
    }
    if x < -745.133_219_101_941_1 {
        return 0.0;
    }
    let kd = (x * INV_LN2_64 + SHIFT) - SHIFT;
    let k = kd as i64;
    let r = (x - kd * LN2_HI) - kd * LN2_LO;
    let p = r + r
        * r
        * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0)))));
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

/// Method syntax for [`exp`]: `x.exp_det()` is `exp(x)`, e^x with the same bits on every
/// machine (use it in simulation code instead of `f64::exp`).
pub trait ExpDet {
    fn exp_det(self) -> f64;
}

impl ExpDet for f64 {
    #[inline]
    fn exp_det(self) -> f64 {
        exp(self)
    }
}

/// Inverse of the standard normal CDF: Acklam's rational approximation
/// (relative error below 1.15e-9 over (0, 1)), which is far below Monte Carlo error.
pub fn norm_inv(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < P_LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -norm_inv(1.0 - p)
    }
}

/// Probability of at least one event in `dt` years at a constant `rate` per year.
#[inline]
pub fn rate_to_probability(rate_per_year: f64, dt_years: f64) -> f64 {
    -(-rate_per_year * dt_years).exp_m1()
}

/// Constant hazard (per year) that gives probability `p` over `horizon_years`.
#[inline]
pub fn probability_to_rate(p: f64, horizon_years: f64) -> f64 {
    -(-p).ln_1p() / horizon_years
}

#[cfg(test)]
mod floor_index_tests {
    use super::floor_index;

    /// The same index as the saturating unsigned cast it replaces, for special, negative,
    /// huge and ordinary values.
    #[test]
    fn floor_index_is_the_unsigned_cast() {
        let mut xs = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            -0.5,
            -1.0,
            -1e300,
            1e300,
            9.3e18,
            1.9e19,
            4e19,
            f64::MIN_POSITIVE,
        ];
        for i in 0..20_000u32 {
            let x = f64::from(i) * 0.0137 - 20.0;
            xs.extend([x, f64::from_bits(x.to_bits() + 1)]);
        }
        for max in [0usize, 1, 4, 20, 100, 120, 1 << 40] {
            for &x in &xs {
                assert_eq!(
                    floor_index(x, max),
                    (x as usize).min(max),
                    "x {x:e}, max {max}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_reference_values() {
        // Reference quantiles (Abramowitz & Stegun 26.2; R qnorm) to 1e-8.
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.001, -3.090_232_306_167_813),
            (0.9, 1.281_551_565_544_601),
            (1e-10, -6.361_340_902_404_056),
        ] {
            let got = norm_inv(p);
            assert!(
                (got - z).abs() < 1e-8 * (1.0 + z.abs()),
                "p={p}: {got} vs {z}"
            );
        }
    }

    /// Distance in units in the last place between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_matches_the_platform() {
        // 10^6 arguments over the whole normal range, the unit interval and tiny values,
        // from a fixed SplitMix sequence; against the platform libm (itself < 1 ulp).
        let mut state = 0x1234_5678_9abc_def0_u64;
        let mut uniform = || {
            state = crate::rng::splitmix64(state);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut worst, mut equal, n) = (0u64, 0u32, 1_000_000);
        for i in 0..n {
            let x = match i % 4 {
                0 => -708.0 + 1417.0 * uniform(),
                1 => -1.0 + 2.0 * uniform(),
                2 => (-1.0 + 2.0 * uniform()) * 1e-9,
                _ => -40.0 + 50.0 * uniform(),
            };
            let (a, b) = (exp(x), x.exp());
            let d = ulps(a, b);
            worst = worst.max(d);
            equal += u32::from(d == 0);
            assert!(d <= 1, "exp({x:e}) = {a:e}, libm {b:e}: {d} ulps apart");
        }
        // Most results are the correctly rounded value both ways.
        assert!(
            f64::from(equal) > 0.99 * f64::from(n),
            "{equal} of {n} equal"
        );
        assert!(worst <= 1);
    }

    #[test]
    fn exp_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(-746.0), 0.0);
        for x in [
            709.0, 709.78, -708.5, -720.0, -740.0, -745.0, 1.0, -1.0, 1e-300,
        ] {
            let (a, b) = (exp(x), x.exp());
            assert!(
                ulps(a, b) <= 1 || (a - b).abs() <= f64::from_bits(1),
                "exp({x}) = {a:e}, libm {b:e}"
            );
        }
    }

    #[test]
    fn round_to_i64_is_f64_round() {
        let mut state = 7u64;
        for i in 0..200_000 {
            state = crate::rng::splitmix64(state);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let x = match i % 3 {
                0 => (u - 0.5) * 1e7,
                1 => (u - 0.5) * 10.0,
                _ => ((state >> 40) as f64 - 8_388_608.0) * 0.5, // exact halves
            };
            assert_eq!(round_to_i64(x), x.round() as i64, "{x}");
        }
        for x in [
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            0.5,
            -0.5,
            2.5,
            -2.5,
            4_503_599_627_370_497.0,
            1e300,
            -1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(round_to_i64(x), x.round() as i64, "{x}");
        }
    }

    #[test]
    fn rate_probability_round_trip() {
        for p in [1e-9, 0.001, 0.1, 0.5, 0.99] {
            let r = probability_to_rate(p, 10.0);
            assert!((rate_to_probability(r, 10.0) - p).abs() < 1e-14);
        }
    }
}
