// The platform libm is the independent reference here.
#![allow(clippy::disallowed_methods)]

use super::tables::{
    EXP_M1_REFERENCE, EXP_REFERENCE, LN_1P_REFERENCE, LN_REFERENCE, POWF_REFERENCE,
};
use super::*;

/// Position of a double on the line of all doubles (−0 and +0 both at 0), so that the
/// difference of two positions counts the doubles between them: the distance in ulps.
fn ordinal(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    if b < 0 {
        -(b & i64::MAX)
    } else {
        b
    }
}

/// Distance in units in the last place; 0 for two NaNs, `u64::MAX` for NaN against a number.
fn ulps(a: f64, b: f64) -> u64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => 0,
        (false, false) => (ordinal(a) - ordinal(b)).unsigned_abs(),
        _ => u64::MAX,
    }
}

/// A fixed SplitMix64 sequence of uniforms on [0, 1).
struct Uniforms(u64);

impl Uniforms {
    fn next(&mut self) -> f64 {
        self.0 = crate::rng::splitmix64(self.0);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Log-uniform on [lo, hi].
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.next()).exp()
    }
}

/// The reference values of `tables.rs` (correctly rounded, 60-digit mpmath): every result
/// within one ulp, and nearly all exactly the correctly rounded one.
fn check_reference<const N: usize>(
    name: &str,
    table: &[([u64; N], u64)],
    f: impl Fn(&[f64]) -> f64,
) {
    let mut exact = 0;
    for (args, want) in table {
        let args: Vec<f64> = args.iter().map(|&b| f64::from_bits(b)).collect();
        let (got, want) = (f(&args), f64::from_bits(*want));
        let d = ulps(got, want);
        assert!(
            d <= 1,
            "{name}{args:?} = {got:e}, correctly rounded {want:e}: {d} ulps"
        );
        exact += usize::from(d == 0);
    }
    println!(
        "{name}: {exact} of {} reference values correctly rounded, the rest within 1 ulp",
        table.len()
    );
    assert!(
        exact * 10 >= table.len() * 9,
        "{name}: only {exact} of {} correctly rounded",
        table.len()
    );
}

#[test]
fn reference_values() {
    check_reference("exp", &EXP_REFERENCE, |a| exp(a[0]));
    check_reference("exp_m1", &EXP_M1_REFERENCE, |a| exp_m1(a[0]));
    check_reference("ln", &LN_REFERENCE, |a| ln(a[0]));
    check_reference("ln_1p", &LN_1P_REFERENCE, |a| ln_1p(a[0]));
    check_reference("powf", &POWF_REFERENCE, |a| powf(a[0], a[1]));
}

/// Runs `f` and the platform's `g` on `n` arguments from `arg`, asserts they are at most
/// one ulp apart, and reports the largest distance and the share of equal results.
fn against_platform(
    name: &str,
    n: usize,
    mut arg: impl FnMut(&mut Uniforms, usize) -> (f64, f64),
    f: impl Fn(f64, f64) -> f64,
    g: impl Fn(f64, f64) -> f64,
) {
    let mut u = Uniforms(0x5eed_f00d_u64 ^ name.len() as u64);
    let (mut worst, mut equal) = (0u64, 0usize);
    for i in 0..n {
        let (x, y) = arg(&mut u, i);
        let (a, b) = (f(x, y), g(x, y));
        let d = ulps(a, b);
        assert!(
            d <= 1,
            "{name}({x:e}, {y:e}) = {a:e}, platform {b:e}: {d} ulps apart"
        );
        worst = worst.max(d);
        equal += usize::from(d == 0);
    }
    println!(
        "{name}: {n} arguments, at most {worst} ulp from the platform libm, {:.4}% equal",
        100.0 * equal as f64 / n as f64
    );
    // glibc's log1p and expm1 (fdlibm's) are not as close to correctly rounded as its exp,
    // log and pow (96–98% equal here); a systematic bias within one ulp would show below 90%.
    assert!(
        equal * 10 >= n * 9,
        "{name}: only {equal} of {n} equal to the platform"
    );
}

const N: usize = 2_000_000;

#[test]
fn exp_against_platform() {
    against_platform(
        "exp",
        N,
        |u, i| {
            let x = match i % 4 {
                0 => -745.0 + 1454.0 * u.next(),
                1 => -1.0 + 2.0 * u.next(),
                2 => (-1.0 + 2.0 * u.next()) * 1e-9,
                _ => -40.0 + 50.0 * u.next(),
            };
            (x, 0.0)
        },
        |x, _| exp(x),
        |x, _| x.exp(),
    );
}

#[test]
fn ln_against_platform() {
    against_platform(
        "ln",
        N,
        |u, i| {
            let x = match i % 5 {
                // every binade, subnormals included
                0 => f64::from_bits(1 + (u.next() * (0x7fef_ffff_ffff_ffff_u64 as f64)) as u64),
                1 => u.next().max(f64::MIN_POSITIVE), // the engine's uniforms
                2 => 1.0 + (u.next() - 0.5) * 0.03,   // around 1
                3 => 0.5 + 1.5 * u.next(),
                _ => 1.0 + 300.0 * u.next(), // ages, blood pressures, lipids
            };
            (x, 0.0)
        },
        |x, _| ln(x),
        |x, _| x.ln(),
    );
}

#[test]
fn ln_1p_against_platform() {
    against_platform(
        "ln_1p",
        N,
        |u, i| {
            let x = match i % 5 {
                0 => -u.next(), // −p, p a probability
                1 => -u.log_uniform(1e-20, 0.999_999),
                2 => u.log_uniform(1e-20, 1e6),
                3 => (u.next() - 0.5) * 0.04,
                _ => -1.0 + u.log_uniform(1e-15, 0.5),
            };
            (x, 0.0)
        },
        |x, _| ln_1p(x),
        |x, _| x.ln_1p(),
    );
}

#[test]
fn exp_m1_against_platform() {
    against_platform(
        "exp_m1",
        N,
        |u, i| {
            let x = match i % 5 {
                0 => -u.log_uniform(1e-20, 50.0), // −hazard
                1 => u.log_uniform(1e-20, 709.0),
                2 => (u.next() - 0.5) * 0.3, // both sides of the 1/8 switch
                3 => (u.next() - 0.5) * 3.0,
                _ => (u.next() - 0.5) * 100.0,
            };
            (x, 0.0)
        },
        |x, _| exp_m1(x),
        |x, _| x.exp_m1(),
    );
}

#[test]
fn powf_against_platform() {
    against_platform(
        "powf",
        N,
        |u, i| match i % 5 {
            // hazard ratios to covariate powers
            0 => (u.log_uniform(0.05, 20.0), (u.next() - 0.5) * 100.0),
            1 => (u.log_uniform(1e-3, 1e3), (u.next() - 0.5) * 6.0),
            2 => (1.0 + (u.next() - 0.5) * 1e-3, (u.next() - 0.5) * 1e6),
            3 => (u.log_uniform(1e-300, 1e300), (u.next() - 0.5) * 4.0),
            // results over the whole range, overflow and underflow included
            _ => (u.log_uniform(0.5, 2.0), (u.next() - 0.5) * 3000.0),
        },
        powf,
        |x, y| x.powf(y),
    );
}

#[test]
fn special_values_match_the_platform() {
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        3.0,
        -3.0,
        2.5,
        -2.5,
        1e-310,
        -1e-310,
        f64::MIN_POSITIVE,
        f64::MAX,
        -f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e300,
        -1e300,
        9007199254740993.0,
        -9007199254740991.0,
        0.999_999_999_999,
        1.000_000_000_001,
        710.0,
        -710.0,
        -746.0,
        -40.0,
        -39.0,
        701.0,
    ];
    let same = |name: &str, x: f64, y: f64, a: f64, b: f64| {
        // Bit for bit (the sign of zero too), NaN for NaN.
        assert!(
            (a.is_nan() && b.is_nan())
                || a.to_bits() == b.to_bits()
                || ulps(a, b) <= 1 && a != 0.0 && a.is_finite(),
            "{name}({x:e}, {y:e}) = {a:e}, platform {b:e}"
        );
    };
    for &x in &specials {
        same("exp", x, 0.0, exp(x), x.exp());
        same("exp_m1", x, 0.0, exp_m1(x), x.exp_m1());
        same("ln", x, 0.0, ln(x), x.ln());
        same("ln_1p", x, 0.0, ln_1p(x), x.ln_1p());
        for &y in &specials {
            same("powf", x, y, powf(x, y), x.powf(y));
        }
    }
}

#[test]
fn exact_cases() {
    assert_eq!(ln(1.0), 0.0);
    assert_eq!(ln(2.0), std::f64::consts::LN_2);
    assert_eq!(ln_1p(0.0), 0.0);
    assert_eq!(exp_m1(0.0), 0.0);
    for x in [0.3, 1.7, 55.0, 1e-200, 3e250] {
        assert_eq!(powf(x, 1.0), x);
        assert_eq!(powf(x, 0.0), 1.0);
        assert_eq!(powf(x, 2.0), x * x, "{x}");
        assert_eq!(powf(x, 0.5), x.sqrt(), "{x}");
    }
    for (x, y, z) in [
        (2.0, 10.0, 1024.0),
        (10.0, 3.0, 1000.0),
        (2.0, -3.0, 0.125),
        (0.5, 1074.0, 5e-324),
    ] {
        assert_eq!(powf(x, y), z, "{x}^{y}");
    }
}

/// Writes arguments and results for `accuracy.py` (the check against 60-digit mpmath):
/// `DETMATH_DUMP=/tmp/dump.txt cargo test --release -p engine detmath::tests::dump -- --ignored`
#[test]
#[ignore]
fn dump() {
    use std::io::Write;
    let path = std::env::var("DETMATH_DUMP").expect("DETMATH_DUMP=<file>");
    let n: usize = std::env::var("DETMATH_DUMP_N").map_or(200_000, |s| s.parse().unwrap());
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut u = Uniforms(42);
    for i in 0..n {
        let x = match i % 4 {
            0 => -745.0 + 1454.0 * u.next(),
            1 => -1.0 + 2.0 * u.next(),
            2 => -40.0 + 50.0 * u.next(),
            _ => (u.next() - 0.5) * 1e-6,
        };
        writeln!(out, "exp {:x} 0 {:x}", x.to_bits(), exp(x).to_bits()).unwrap();
        writeln!(
            out,
            "exp.platform {:x} 0 {:x}",
            x.to_bits(),
            x.exp().to_bits()
        )
        .unwrap();
        let x = match i % 4 {
            0 => f64::from_bits(1 + (u.next() * (0x7fef_ffff_ffff_ffff_u64 as f64)) as u64),
            1 => u.next().max(f64::MIN_POSITIVE),
            2 => 1.0 + (u.next() - 0.5) * 0.03,
            _ => 1.0 + 300.0 * u.next(),
        };
        writeln!(out, "ln {:x} 0 {:x}", x.to_bits(), ln(x).to_bits()).unwrap();
        writeln!(
            out,
            "ln.platform {:x} 0 {:x}",
            x.to_bits(),
            x.ln().to_bits()
        )
        .unwrap();
        let x = match i % 4 {
            0 => -u.next(),
            1 => -u.log_uniform(1e-20, 0.999_999),
            2 => u.log_uniform(1e-20, 1e6),
            _ => (u.next() - 0.5) * 0.04,
        };
        writeln!(out, "ln_1p {:x} 0 {:x}", x.to_bits(), ln_1p(x).to_bits()).unwrap();
        writeln!(
            out,
            "ln_1p.platform {:x} 0 {:x}",
            x.to_bits(),
            x.ln_1p().to_bits()
        )
        .unwrap();
        let x = match i % 4 {
            0 => -u.log_uniform(1e-20, 50.0),
            1 => u.log_uniform(1e-20, 709.0),
            2 => (u.next() - 0.5) * 0.3,
            _ => (u.next() - 0.5) * 3.0,
        };
        writeln!(out, "exp_m1 {:x} 0 {:x}", x.to_bits(), exp_m1(x).to_bits()).unwrap();
        writeln!(
            out,
            "exp_m1.platform {:x} 0 {:x}",
            x.to_bits(),
            x.exp_m1().to_bits()
        )
        .unwrap();
        let (x, y) = match i % 4 {
            0 => (u.log_uniform(0.05, 20.0), (u.next() - 0.5) * 100.0),
            1 => (u.log_uniform(1e-3, 1e3), (u.next() - 0.5) * 6.0),
            2 => (1.0 + (u.next() - 0.5) * 1e-3, (u.next() - 0.5) * 1e6),
            _ => (u.log_uniform(0.5, 2.0), (u.next() - 0.5) * 2000.0),
        };
        writeln!(
            out,
            "powf {:x} {:x} {:x}",
            x.to_bits(),
            y.to_bits(),
            powf(x, y).to_bits()
        )
        .unwrap();
        writeln!(
            out,
            "powf.platform {:x} {:x} {:x}",
            x.to_bits(),
            y.to_bits(),
            x.powf(y).to_bits()
        )
        .unwrap();
    }
}
