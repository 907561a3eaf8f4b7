#!/usr/bin/env python3
"""The population's cardiovascular death rate implied by the model, as a share of the life
table's all-cause hazard by sex and 10-year band: the table `MODEL_CVD_DEATH_SHARE` in
models/src/cvd/params.rs, which the background hazard leaves out (docs/model.md).

Reference run (regenerate the table after changing event, fatality or post-event parameters):
  healthtwin run --patients 200000 --years 10 --replicates 3 --out /tmp/cvdref
  python3 calibration/scripts/cvd_death_table.py /tmp/cvdref
Each 10-year band pools the 5-year cells of years 0-9 (replicate means): share = sum(PY x simulated CVD death
rate) / sum(PY x life-table hazard), the cell's life-table hazard being the mean of
-ln(1 - qx) over its five single years. The model interpolates the shares linearly between
band midpoints (45, 55, ..., 95). Stdlib only.
"""
import csv
import math
import sys
from collections import defaultdict

out = sys.argv[1]
lt_path = sys.argv[2] if len(sys.argv) > 2 else "models/data/mhlw_life_table_2024.csv"
num = defaultdict(float)
den = defaultdict(float)
cells = defaultdict(dict)
with open(f"{out}/summary.csv") as f:
    for r in csv.DictReader(f):
        if r["mean"] == "" or r["sex"] == "all" or r["age_band"] == "all":
            continue
        cells[(r["year_index"], r["sex"], r["age_band"])][r["metric"]] = float(r["mean"])
mu = {"male": {}, "female": {}}
with open(lt_path) as f:
    for r in csv.DictReader(f):
        q = float(r["qx"])
        mu[r["sex"]][int(r["age"])] = -math.log(1.0 - q) if q < 1 else 1.0
top = max(mu["male"])
lt_num = defaultdict(float)
for (y, sex, band), m in cells.items():
    lo = int(band.split("-")[0].rstrip("+"))
    decade = min((lo - 40) // 10, 5)
    if lo < 40 or "deaths_cardiovascular" not in m:
        continue
    lt = 1000.0 * sum(mu[sex][min(x, top)] for x in range(lo, lo + 5)) / 5.0
    num[(sex, decade)] += m["person_years"] * m["deaths_cardiovascular"]
    lt_num[(sex, decade)] += m["person_years"] * lt
    den[(sex, decade)] += m["person_years"]
print("pub const MODEL_CVD_DEATH_SHARE: [[f64; 6]; 2] = [")
for sex in ("male", "female"):
    shares = []
    for d in range(6):
        a = 40 + 10 * d
        rate = num[(sex, d)] / den[(sex, d)] if den[(sex, d)] else float("nan")
        lt = lt_num[(sex, d)] / den[(sex, d)] if den[(sex, d)] else float("nan")
        shares.append(rate / lt)
        print(f"    // {sex} {a}-{a + 9}: simulated {rate:.3f} per 1,000 PY, life table {lt:.3f}", file=sys.stderr)
    print("    [" + ", ".join(f"{s:.4f}" for s in shares) + "],")
print("];")
