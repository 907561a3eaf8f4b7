#!/usr/bin/env python3
"""Simulated vs target frailty and long-term-care figures from a `healthtwin run` summary.

Targets (../shared/science/frailty_japan.md, the only calibration targets used):
  * J-CHS / Fried frailty by age, Kojima 2017 J Epidemiol 27:347 (meta-analysis, community-
    dwelling 65+): 65-69 1.9%, 70-74 3.8%, 75-79 10.0%, 80-84 20.4%, >=85 35.1%; 65+ frail
    7.4%, prefrail 48.1%, robust 44.4%.
  * LTC certification rate by age, MHLW Sep 2020: 65-69 2.8%, 70-74 5.5%, 75-79 12.4%,
    80-84 26.4%, 85-89 48.1%, 90+ 72.7%.
  * Level mix of the certified 65+, MHLW FY2022: 14.3 / 13.8 / 20.9 / 16.6 / 13.2 / 12.8 / 8.4%.
  * Facility share by care level 1-5 [D]: 3.6 / 7.5 / 26.4 / 39.9 / 43.4%.
Checks (not calibrated): the cross-sectional slope of ln(mean FI) on age (published 3-3.5%/y
cross-sectional, 4.5%/y longitudinal, Mitnitski & Rockwood 2016); KCL >= 7 share (Kyoto-
Kameoka, no LTC, 65+: men 30.8%, women 33.3%); LTC cost (FY2022 ¥11.19 trillion; ≈¥312,000
per insured 65+ per year [D]).

The transition targets (Kojima 2019, Fallah 2011) need individual follow-up and are printed
by `cargo test --release -p models --test frailty -- --nocapture transitions`.

Usage: frailty_targets.py OUT_DIR [YEAR_INDEX]   (stdlib only; default: the last year)
"""
import math
import sys

from summary import band_lo, read_summary

out = sys.argv[1]
year_index = int(sys.argv[2]) if len(sys.argv) > 2 else None
rows, years = read_summary(out)
last = max(years) if year_index is None else year_index


def pooled(y, sex, lo, hi, metric, weight="population"):
    """Weighted mean of a metric over bands [lo, hi) (weights: population at the census)."""
    num = den = 0.0
    for (yy, s, b), m in rows.items():
        if yy != y or s != sex or b == "all" or not (lo <= band_lo(b) < hi):
            continue
        if metric not in m:
            continue
        w = m.get(weight, 0.0)
        num += w * m[metric]
        den += w
    return num / den if den else float("nan")


def total(y, sex, lo, hi, metric):
    """Sum over bands of population x share (%) / 100: a count."""
    n = 0.0
    for (yy, s, b), m in rows.items():
        if yy != y or s != sex or b == "all" or not (lo <= band_lo(b) < hi):
            continue
        n += m.get("population", 0.0) * m.get(metric, 0.0) / 100
    return n


def show(y):
    print(f"== year index {y} ==")
    print("J-CHS frailty by age, % (Kojima 2017)")
    print(f"{'ages':>8}{'target':>8}{'frail':>8}{'prefrail':>10}{'robust':>8}")
    for (lo, hi), t in zip(((65, 70), (70, 75), (75, 80), (80, 85), (85, 200)),
                           (1.9, 3.8, 10.0, 20.4, 35.1)):
        print(f"{lo:>5}-{hi - 1 if hi < 200 else '':<3}{t:8.1f}{pooled(y, 'all', lo, hi, 'fr_frail'):8.1f}"
              f"{pooled(y, 'all', lo, hi, 'fr_prefrail'):10.1f}{pooled(y, 'all', lo, hi, 'fr_robust'):8.1f}")
    print(f"   65+  frail {pooled(y, 'all', 65, 200, 'fr_frail'):.1f} (7.4), prefrail "
          f"{pooled(y, 'all', 65, 200, 'fr_prefrail'):.1f} (48.1), robust "
          f"{pooled(y, 'all', 65, 200, 'fr_robust'):.1f} (44.4)")
    print("LTC certification by age, % (MHLW Sep 2020)")
    for (lo, hi), t in zip(((65, 70), (70, 75), (75, 80), (80, 85), (85, 90), (90, 200)),
                           (2.8, 5.5, 12.4, 26.4, 48.1, 72.7)):
        print(f"{lo:>5}-{hi - 1 if hi < 200 else '':<3}{t:8.1f}{pooled(y, 'all', lo, hi, 'ltc_certified'):8.1f}")
    print(f"   65+  {pooled(y, 'all', 65, 200, 'ltc_certified'):.1f} (MHLW FY2022 19.0; age mix differs)")
    levels = ["support1", "support2", "care1", "care2", "care3", "care4", "care5"]
    targets = [14.3, 13.8, 20.9, 16.6, 13.2, 12.8, 8.4]
    counts = [total(y, "all", 65, 200, f"ltc_{l}") for l in levels]
    n = sum(counts)
    print("Level mix of the certified 65+, % (MHLW FY2022)")
    print("  " + "  ".join(f"{l} {100 * c / n:.1f} ({t})" for l, c, t in zip(levels, counts, targets)))
    print(f"  in a facility: {100 * total(y, 'all', 65, 200, 'ltc_institution') / n:.1f}% of the certified")
    # Mean FI slope (cross-sectional), ages 65-89 band means.
    pts = []
    for lo in range(65, 90, 5):
        v = pooled(y, "all", lo, lo + 5, "frailty_index")
        if v == v and v > 0:
            pts.append((lo + 2.5, math.log(v)))
    if len(pts) >= 2:
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        b = sum((p[0] - mx) * (p[1] - my) for p in pts) / sum((p[0] - mx) ** 2 for p in pts)
        print(f"ln(mean FI) slope on age, 65-89: {100 * b:.2f}%/y (3-3.5 cross-sectional, 4.5 longitudinal)")
        print("mean FI by band: " + ", ".join(f"{a - 2.5:.0f}-{a + 1.5:.0f} {math.exp(l):.3f}" for a, l in pts))
    print(f"KCL >= 8 at 65+: {pooled(y, 'all', 65, 200, 'fr_kcl_frail'):.1f}%, mean KCL "
          f"{pooled(y, 'all', 65, 200, 'fr_kcl_score'):.2f} (Kyoto-Kameoka KCL >= 7: 31-33%)")
    cost = pooled(y, "all", 65, 200, "ltc_cost_kyen", "person_years")
    print(f"LTC cost, 65+: {cost:.1f} thousand yen per person-year (FY2022 ≈ 312 [D])")


show(0)
if last != 0:
    show(last)
