#!/usr/bin/env python3
"""Joint hand-calibration aid for the J-CHS turnover parameters of the frailty module.

Runs the B calibration printout (`cargo test --release -p models --test frailty -- --ignored
--nocapture calibration`: 30,000 synthetic people 40-89, seed 11, 10 years) with FR_SET
overrides and scores it against the calibration targets of ../shared/science/frailty_japan.md
only: J-CHS frail prevalence by age (Kojima 2017), robust-state transitions and the overall
improved/worsened shares over 3.9 years (Kojima 2019), LTC certification by age (MHLW), and
the mean FI by age of the cohort input (docs/cohort.md: the FI the model must hold).

Usage: python3 calibration/scripts/frailty_fit.py name=value,name=value ...   (one score per set)
The score is a sum of squared standardised errors; the scale of each term is stated below.
"""
import os
import re
import subprocess
import sys

TARGET_FRAIL = [1.9, 3.8, 10.0, 20.4, 35.1]          # % at 65-69 ... 85+ (85-89 used)
TARGET_ROBUST = [54.0, 40.6, 4.5]                     # robust -> robust/prefrail/frail, %
TARGET_PREFRAIL_ROBUST = 23.1
TARGET_IMPROVED_WORSENED = [13.7, 29.1]
TARGET_CERT = [2.8, 5.5, 12.4, 26.4, 48.1, 72.7]      # % certified, 65-69 ... 90+
REFERENCE_FI = [0.144, 0.164, 0.184, 0.205, 0.235]    # mean FI 65-69 ... 85-89 (cohort input)


def nums(line):
    return [float(x) for x in re.findall(r'"([0-9.]+)"', line)]


def run(fr_set):
    env = dict(os.environ, FR_SET=fr_set)
    out = subprocess.run(
        ["cargo", "test", "--release", "-q", "-p", "models", "--test", "frailty", "--",
         "--ignored", "--nocapture", "calibration"],
        capture_output=True, text=True, env=env, check=True)
    out = out.stdout + out.stderr
    year9 = out.split("== year 9 ==")[1]
    frail = nums(re.search(r"frail %.*", year9).group(0))[:5]
    cert = nums(re.search(r"certified %.*", year9).group(0))[:6]
    fi = nums(re.search(r"mean FI 65-69.*", year9).group(0))[:5]
    robust = [float(x) for x in re.search(
        r"robust \(n=\d+\): -> robust ([0-9.]+)%, prefrail ([0-9.]+)%, frail ([0-9.]+)%",
        out).groups()]
    pre_rob = float(re.search(r"prefrail \(n=\d+\): -> robust ([0-9.]+)%", out).group(1))
    imp, wor = [float(x) for x in re.search(
        r"Simulated: improved ([0-9.]+), worsened ([0-9.]+)", out).groups()]
    return frail, cert, fi, robust, pre_rob, imp, wor


def score(res):
    frail, cert, fi, robust, pre_rob, imp, wor = res
    s = 0.0
    # Prevalence: 20% relative error = 1 unit (floor 1 point for the small bands).
    s += sum(((a - t) / max(0.2 * t, 1.0)) ** 2 for a, t in zip(frail, TARGET_FRAIL))
    s += sum(((a - t) / max(0.1 * t, 1.0)) ** 2 for a, t in zip(cert, TARGET_CERT))
    # Transitions: 3 percentage points = 1 unit (about Kojima 2019's CI half-width).
    s += sum(((a - t) / 3.0) ** 2 for a, t in zip(robust, TARGET_ROBUST))
    s += ((pre_rob - TARGET_PREFRAIL_ROBUST) / 3.0) ** 2
    s += sum(((a - t) / 3.0) ** 2 for a, t in zip([imp, wor], TARGET_IMPROVED_WORSENED))
    # Mean FI: 0.01 = 1 unit.
    s += sum(((a - t) / 0.01) ** 2 for a, t in zip(fi, REFERENCE_FI))
    return s


if __name__ == "__main__":
    for fr_set in sys.argv[1:] or [""]:
        res = run(fr_set)
        print(f"{score(res):8.1f}  {fr_set or '(defaults)'}")
        print("         frail", res[0], "cert", res[1], "FI", res[2])
        print("         robust->", res[3], "prefrail->robust", res[4], "impr/worse", res[5], res[6])
