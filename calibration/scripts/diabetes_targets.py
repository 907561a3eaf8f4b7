#!/usr/bin/env python3
"""Simulated vs target diabetes prevalence and incidence from a `healthtwin run` summary.

Targets (../shared/science/diabetes_cvd.md §5, the only calibration targets used):
  * NHNS 2016 "strongly suspected" diabetes (HbA1c >= 6.5% or treated) by age and sex:
    men 50-59 12.6%, >=70 23.2%; women 50-59 6.1%, >=70 16.8%.
  * Incidence, pooled Japanese cohorts: 8.8 per 1,000 PY (95% CI 7.4-10.4), Goto 2013.

Usage: diabetes_targets.py OUT_DIR [YEAR_INDEX]   (stdlib only)
"""
import sys

from summary import band_lo, read_summary

out = sys.argv[1]
year_index = int(sys.argv[2]) if len(sys.argv) > 2 else None
rows, years = read_summary(out)
last = max(years) if year_index is None else year_index

def prevalence(y, sex, lo, hi):
    """Population-weighted NHNS-definition prevalence over bands [lo, hi)."""
    num = den = 0.0
    for (yy, s, b), m in rows.items():
        if yy != y or s != sex or b == "all" or not (lo <= band_lo(b) < hi):
            continue
        n = m.get("population", 0.0)
        num += n * m.get("dm_strongly_suspected", 0.0)
        den += n
    return num / den if den else float("nan")

def incidence(lo, hi):
    """Incidence per 1,000 PY over all years, bands [lo, hi), weighted by the population
    without diabetes."""
    num = den = 0.0
    for (y, s, b), m in rows.items():
        if s != "all" or b == "all" or not (lo <= band_lo(b) < hi):
            continue
        w = m.get("population", 0.0) * (1 - m.get("dm_prevalence", 0.0) / 100)
        if "dm_incidence" in m:
            num += w * m["dm_incidence"]
            den += w
    return num / den if den else float("nan")

print(f"year index {last} vs 0; prevalence = HbA1c >= 6.5% or treated (NHNS definition), %")
print(f"{'sex':7}{'ages':>8}{'target':>8}{'year 0':>8}{'year ' + str(last):>9}")
for sex, targets in (("male", (12.6, 23.2)), ("female", (6.1, 16.8))):
    for (lo, hi), t in zip(((50, 60), (70, 90)), targets):
        print(f"{sex:7}{f'{lo}-{hi - 1}':>8}{t:8.1f}{prevalence(0, sex, lo, hi):8.1f}"
              f"{prevalence(last, sex, lo, hi):9.1f}")
print(f"incidence per 1,000 PY, ages 40-74: {incidence(40, 75):.2f} (target 8.8, 95% CI 7.4-10.4);"
      f" all ages: {incidence(40, 200):.2f}")
