#!/usr/bin/env python3
"""Grid search of the diabetes capacity parameters against the calibration targets.

Targets (../shared/science/diabetes_cvd.md §5, the only ones used): NHNS 2016 "strongly
suspected" prevalence (men 50-59 12.6%, >=70 23.2%; women 50-59 6.1%, >=70 16.8%) after
SIM_YEARS simulated years, and the pooled incidence 8.8 /1000 PY at ages 40-74 (Goto 2013).
A model-consistency term (not data) asks the incidence within each 5-year band from 50 to 74
to be stationary over calendar time (last three years vs first three): a closed cohort whose
incidence collapses after a few years has a baseline state its own dynamics cannot sustain.

Usage: diabetes_grid.py BINARY [PATIENTS] [YEARS]   (stdlib only; prints a ranked table)
"""
import csv
import itertools
import math
import subprocess
import sys
import tempfile
from collections import defaultdict

binary = sys.argv[1]
patients = sys.argv[2] if len(sys.argv) > 2 else "50000"
years = int(sys.argv[3]) if len(sys.argv) > 3 else 10
TARGETS = {("male", 50): 12.6, ("male", 70): 23.2, ("female", 50): 6.1, ("female", 70): 16.8}
GRID = {
    "dm.beta.efficiency_loss_per_year": [0.001, 0.002, 0.003],
    "dm.capacity.headroom": [4.0, 6.0],
    "dm.capacity.loss_per_year": [0.005, 0.01],
    "dm.capacity.sd_log": [0.5],
}


def lo(band):
    return int(band.split("-")[0].rstrip("+"))


def score(out):
    prev = defaultdict(lambda: [0.0, 0.0])
    inc = defaultdict(dict)
    last = years - 1
    rows = list(csv.DictReader(open(f"{out}/summary.csv")))
    # Person-years per cell, to weight bands.
    py = {}
    for r in rows:
        if r["metric"] == "person_years" and r["mean"]:
            py[(int(r["year_index"]), r["sex"], r["age_band"])] = float(r["mean"])
    for r in rows:
        if not r["mean"] or r["sex"] == "all" or r["age_band"] == "all":
            continue
        y, s, b = int(r["year_index"]), r["sex"], r["age_band"]
        if r["metric"] == "dm_strongly_suspected" and y == last:
            a = lo(b)
            key = (s, 50) if 50 <= a < 60 else (s, 70) if a >= 70 else None
            if key:
                w = py.get((y, s, b), 0.0)
                prev[key][0] += w * float(r["mean"])
                prev[key][1] += w
        if r["metric"] == "dm_incidence":
            inc[(s, b)][y] = (float(r["mean"]), py.get((y, s, b), 0.0))
    sim_prev = {k: v[0] / v[1] if v[1] else float("nan") for k, v in prev.items()}
    num = den = 0.0
    drift = []
    for (s, b), by_year in inc.items():
        a = lo(b)
        if 40 <= a < 75:
            for y, (m, w) in by_year.items():
                num += m * w
                den += w
        if 50 <= a < 75:
            first = [by_year[y][0] for y in range(3) if y in by_year]
            lastv = [by_year[y][0] for y in range(years - 3, years) if y in by_year]
            if first and lastv and sum(first) > 0:
                drift.append(sum(lastv) / len(lastv) / (sum(first) / len(first)))
    incidence = num / den if den else float("nan")
    loss = sum((sim_prev.get(k, 0.0) / t - 1.0) ** 2 for k, t in TARGETS.items())
    loss += (incidence / 8.8 - 1.0) ** 2
    d = sum(drift) / len(drift) if drift else float("nan")
    loss += (d - 1.0) ** 2
    return loss, sim_prev, incidence, d


results = []
names = list(GRID)
for values in itertools.product(*GRID.values()):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [binary, "run", "--patients", patients, "--years", str(years), "--replicates", "1",
               "--out", tmp]
        for n, v in zip(names, values):
            cmd += ["--set", f"{n}={v}"]
        subprocess.run(cmd, check=True, capture_output=True)
        loss, p, i, d = score(tmp)
    results.append((loss, values, p, i, d))
    print(f"{loss:7.3f} {values} prev M50 {p[('male',50)]:.1f} M70 {p[('male',70)]:.1f} "
          f"F50 {p[('female',50)]:.1f} F70 {p[('female',70)]:.1f} inc {i:.2f} drift {d:.2f}",
          flush=True)
results.sort(key=lambda r: r[0])
print("\nbest:")
for loss, values, p, i, d in results[:8]:
    print(f"{loss:7.3f} {dict(zip(names, values))} inc {i:.2f} drift {d:.2f} "
          f"prev {[round(p[k], 1) for k in TARGETS]}")
