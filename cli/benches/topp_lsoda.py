#!/usr/bin/env python3
"""The `healthtwin bench topp` workload with SciPy's LSODA, for comparison.

Same model, parameters, start, horizon and tolerances as `cli/src/bench.rs` (`topp`):
full three-state Topp et al. (2000) model, TOPP_2000 base parameters, per patient
SI0 = 0.72*LogNormal(0, 0.3), R0 = 864*LogNormal(0, 0.1), delta ~ Uniform(0, 0.2)/year,
SI(t) = SI0*exp(-delta*t/365), start (G, I, beta) = (100, 10, 300), t in days over
[0, 365*years], rtol 1e-6, atol 1e-9. The draws come from numpy's generator, not from
healthtwin's Philox streams, so compare mean final glucose statistically (within a few
standard errors), not digit by digit.

Runs three variants, one process, one core:
  solve_ivp(method="LSODA") without and with the analytic Jacobian (the usual Python way),
  odeint (the same ODEPACK LSODA, driven from Fortran instead of a Python step loop) with
  the analytic Jacobian.

Usage: python3 cli/benches/topp_lsoda.py [--patients 200] [--years 30] [--seed 1]
Needs numpy and scipy (pip install numpy scipy).
"""

import argparse
import math
import time

import numpy as np
from scipy.integrate import odeint, solve_ivp

# Topp et al. 2000, Table 1 (models/src/diabetes/topp.rs, TOPP_2000).
EG0, SIGMA, ALPHA, K, D0, R1, R2 = 1.44, 43.2, 20000.0, 432.0, 0.06, 0.84e-3, 0.24e-5
SI_BASE, R0_BASE = 0.72, 864.0
START = (100.0, 10.0, 300.0)
RTOL, ATOL = 1e-6, 1e-9


def draw(rng, n):
    si0 = SI_BASE * np.exp(0.3 * rng.standard_normal(n))
    r0 = R0_BASE * np.exp(0.1 * rng.standard_normal(n))
    delta = 0.2 * rng.uniform(size=n)
    return si0, r0, delta


def make(si0, r0, delta):
    rate = delta / 365.0

    def rhs(t, y):
        g, i, b = y
        si = si0 * math.exp(-rate * t)
        g2 = g * g
        return [
            r0 - (EG0 + si * i) * g,
            b * SIGMA * g2 / (ALPHA + g2) - K * i,
            (-D0 + R1 * g - R2 * g2) * b,
        ]

    def jac(t, y):
        g, i, b = y
        si = si0 * math.exp(-rate * t)
        g2 = g * g
        den = ALPHA + g2
        dsec = SIGMA * 2.0 * g * ALPHA / (den * den)
        return [
            [-(EG0 + si * i), -si * g, 0.0],
            [b * dsec, -K, SIGMA * g2 / den],
            [(R1 - 2.0 * R2 * g) * b, 0.0, -D0 + R1 * g - R2 * g2],
        ]

    return rhs, jac


def run(variant, params, t_end):
    finals, nfev = [], 0
    t0 = time.perf_counter()
    for si0, r0, delta in zip(*params):
        rhs, jac = make(si0, r0, delta)
        if variant == "odeint+jac":
            y, info = odeint(rhs, START, [0.0, t_end], Dfun=jac, tfirst=True,
                             rtol=RTOL, atol=ATOL, mxstep=100_000, full_output=True)
            finals.append(y[-1, 0])
            nfev += int(info["nfe"][-1])
        else:
            sol = solve_ivp(rhs, (0.0, t_end), START, method="LSODA", rtol=RTOL, atol=ATOL,
                            jac=jac if variant == "solve_ivp+jac" else None)
            if not sol.success:
                raise RuntimeError(sol.message)
            finals.append(sol.y[0, -1])
            nfev += sol.nfev
    wall = time.perf_counter() - t0
    g = np.array(finals)
    n = len(g)
    print(f"  {variant:<15} {wall:8.3f} s  {n / wall:9.1f} patients/s  "
          f"mean final glucose {g.mean():.10f} (sd {g.std(ddof=1):.4f}, se "
          f"{g.std(ddof=1) / math.sqrt(n):.4f})  share >= 126 {np.mean(g >= 126.0):.4f}  "
          f"{nfev / n:.0f} rhs evals/patient")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--years", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variants", default="solve_ivp,solve_ivp+jac,odeint+jac")
    args = ap.parse_args()
    params = draw(np.random.default_rng(args.seed), args.patients)
    print(f"topp_lsoda.py: {args.patients} patients x {args.years} years, 1 core, "
          f"rtol {RTOL} atol {ATOL}")
    for variant in args.variants.split(","):
        run(variant, params, 365.0 * args.years)


if __name__ == "__main__":
    main()
