#!/usr/bin/env python3
"""Simulated vs target cardiovascular figures from a `healthtwin run` summary.

Calibration targets (../shared/science/diabetes_cvd.md §5, the only ones tuned to):
  * stroke : myocardial infarction ratio 3-4 : 1 (JPHC [M] in §5; JPHC 2016 Circ J 80:1386
    counts 552 ischaemic strokes : 192 CAD [V]);
  * Hisayama 1974-83 cerebral infarction 5.5 (men) and 3.8 (women) per 1,000 person-years,
    intracerebral haemorrhage 1.2 (men) (ages 40+).
Inputs used as targets of a [C] parameter (not validation): NHNS antihypertensive use by age
(japan_population.md §2.4), lipid-lowering proxies by age (cohort/src/japan.rs), first heart
failure admission 2.1/1,000 PY at 40+ (Nobeoka, Marume 2021, derived).
Held-out checks (not tuned to): Takashima first-ever stroke : AMI 2239 : 433; JPHC ischaemic
stroke 2.15 and CAD 0.75 per 1,000 PY (ages 40-69 at entry); vital-statistics share of deaths
from AMI + HF + cerebrovascular disease (models/src/cvd/params.rs CVD_DEATH_SHARE); the life
table's all-cause mortality; NHNS mean SBP by age.

Usage: cvd_targets.py OUT_DIR [LIFE_TABLE_CSV]   (stdlib only)
"""
import csv
import math
import sys
from collections import defaultdict

out = sys.argv[1]
lt_path = sys.argv[2] if len(sys.argv) > 2 else "models/data/mhlw_life_table_2024.csv"

rows = defaultdict(dict)  # (year, sex, band) -> metric -> mean
years = set()
with open(f"{out}/summary.csv") as f:
    for r in csv.DictReader(f):
        if r["mean"] == "":
            continue
        y = int(r["year_index"])
        years.add(y)
        rows[(y, r["sex"], r["age_band"])][r["metric"]] = float(r["mean"])
years = sorted(years)

def lo(band):
    return int(band.split("-")[0].rstrip("+"))

def bands(sex, a, b):
    """(year, band) cells of `sex` with band start in [a, b)."""
    return [(y, s, bd) for (y, s, bd) in rows if s == sex and bd != "all" and a <= lo(bd) < b]

def rate(metric, sex, a, b, weight="person_years", yrs=None):
    """Person-year-weighted rate per 1,000 PY over the cells (the at-risk time of
    all-person metrics is the person-time)."""
    num = den = 0.0
    for key in bands(sex, a, b):
        if yrs is not None and key[0] not in yrs:
            continue
        m = rows[key]
        if metric in m and weight in m:
            num += m[weight] * m[metric]
            den += m[weight]
    return num / den if den else float("nan")

def prevalence(metric, sex, a, b, y):
    num = den = 0.0
    for key in bands(sex, a, b):
        if key[0] != y:
            continue
        m = rows[key]
        if metric in m:
            num += m["population"] * m[metric]
            den += m["population"]
    return num / den if den else float("nan")

# Life table hazard by sex and age.
mu = {"male": {}, "female": {}}
with open(lt_path) as f:
    for r in csv.DictReader(f):
        mu[r["sex"]][int(r["age"])] = -math.log(1.0 - float(r["qx"])) if float(r["qx"]) < 1 else 1.0

SHARE = {  # models/src/cvd/params.rs CVD_DEATH_SHARE (40-44 ... 90+)
    "male": [0.1247, 0.1310, 0.1344, 0.1270, 0.1287, 0.1310, 0.1355, 0.1493, 0.1624, 0.1790, 0.1784],
    "female": [0.1518, 0.1594, 0.1636, 0.1545, 0.1566, 0.1594, 0.1650, 0.1817, 0.1977, 0.2179, 0.2172],
}

def lt_rate(sex, band):
    a = lo(band)
    return 1000.0 * sum(mu[sex].get(x, mu[sex][max(mu[sex])]) for x in range(a, a + 5)) / 5.0

print(f"healthtwin run {out}: years {years[0]}-{years[-1]}\n")
print("Incidence per 1,000 person-years, all years (events fatal or not; MI and strokes include recurrences)")
print(f"{'sex':7}{'ages':>7}{'MI':>7}{'IS':>7}{'HS':>7}{'stroke':>8}{'1st MI':>8}{'1st str':>8}{'1st HF':>8}{'str:MI':>8}")
for sex in ("male", "female"):
    for a, b in ((40, 50), (50, 60), (60, 70), (70, 80), (80, 90), (90, 200), (40, 200)):
        mi = rate("cvd_mi_incidence", sex, a, b)
        st = rate("cvd_stroke_incidence", sex, a, b)
        print(f"{sex:7}{f'{a}-{min(b, 120) - 1}':>7}{mi:7.2f}{rate('cvd_ischaemic_stroke_incidence', sex, a, b):7.2f}"
              f"{rate('cvd_haemorrhagic_stroke_incidence', sex, a, b):7.2f}{st:8.2f}"
              f"{rate('cvd_first_mi_incidence', sex, a, b):8.2f}{rate('cvd_first_stroke_incidence', sex, a, b):8.2f}"
              f"{rate('cvd_hf_incidence', sex, a, b):8.2f}{st / mi if mi else float('nan'):8.2f}")

def total(metric, a, b):
    return rate(metric, "all", a, b)

mi_all = total("cvd_mi_incidence", 40, 200)
st_all = total("cvd_stroke_incidence", 40, 200)
fmi = total("cvd_first_mi_incidence", 40, 200)
fst = total("cvd_first_stroke_incidence", 40, 200)
print(f"\nstroke : MI (all events, ages 40+): {st_all / mi_all:.2f}   target 3-4 (§5)")
print(f"first-ever stroke : first MI: {fst / fmi:.2f}   held out: Takashima 1989-2005 2239:433 = 5.17")
print(f"ischaemic stroke : MI, ages 40-69: {total('cvd_ischaemic_stroke_incidence', 40, 70) / total('cvd_mi_incidence', 40, 70):.2f}"
      f"   held out: JPHC 2016 552:192 = 2.88")
for sex, t_ci, t_ich in (("male", 5.5, 1.2), ("female", 3.8, None)):
    print(f"{sex}: ischaemic stroke ages 40+ {rate('cvd_ischaemic_stroke_incidence', sex, 40, 200):.2f} /1,000 PY, "
          f"ages 40-69 {rate('cvd_ischaemic_stroke_incidence', sex, 40, 70):.2f}  (Hisayama 1974-83 target {t_ci})"
          + (f"; haemorrhagic 40+ {rate('cvd_haemorrhagic_stroke_incidence', sex, 40, 200):.2f} (ICH target {t_ich}; HS also counts SAH)" if t_ich else ""))
print(f"JPHC held out, ages 40-69: ischaemic stroke {total('cvd_ischaemic_stroke_incidence', 40, 70):.2f} (2.15), "
      f"first MI {total('cvd_first_mi_incidence', 40, 70):.2f} (CAD 0.75)")
print(f"first heart failure, ages 40+: {total('cvd_hf_incidence', 40, 200):.2f} /1,000 PY (Nobeoka-derived 2.1, a [C] target)")

print("\nDeaths per 1,000 person-years, all years: simulated cardiovascular vs vital-statistics share x life table;"
      "\nall-cause simulated vs life table")
print(f"{'sex':7}{'ages':>7}{'CVD sim':>9}{'CVD tgt':>9}{'acute':>8}{'all sim':>9}{'all LT':>9}")
for sex in ("male", "female"):
    for band in ["40-44", "45-49", "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90-94", "95-99"]:
        a = lo(band)
        c = rate("deaths_cardiovascular", sex, a, a + 5)
        d = rate("deaths", sex, a, a + 5)
        if math.isnan(d):
            continue
        lt = lt_rate(sex, band)
        share = SHARE[sex][min((a - 40) // 5, 10)]
        print(f"{sex:7}{band:>7}{c:9.2f}{share * lt:9.2f}{rate('cvd_acute_deaths', sex, a, a + 5):8.2f}{d:9.2f}{lt:9.2f}")

print("\nTreatment and risk factors by age (year 0 and last year): on BP drugs %, statin %, mean SBP, NHNS")
nhns_bp = {40: 5.1, 50: 17.8, 60: 33.9, 70: 53.8, 80: 53.8}
ll = {40: 7.0, 50: 14.9, 60: 21.7, 70: 29.0, 80: 29.0}
sbp_t = {"male": {40: 125.8, 50: 131.7, 60: 138.1, 70: 141.5, 80: 141.5},
         "female": {40: 114.3, 50: 123.7, 60: 137.1, 70: 140.1, 80: 140.1}}
last = years[-1]
print(f"{'ages':>7}{'BPrx y0':>9}{'BPrx yN':>9}{'NHNS':>7}{'statin0':>9}{'statinN':>9}{'target':>8}"
      f"{'SBP M0':>8}{'SBP MN':>8}{'NHNS M':>8}{'SBP F0':>8}{'SBP FN':>8}{'NHNS F':>8}")
for a in (40, 50, 60, 70, 80):
    print(f"{f'{a}-{a + 9}':>7}{prevalence('rx_antihypertensive', 'all', a, a + 10, 0):9.1f}"
          f"{prevalence('rx_antihypertensive', 'all', a, a + 10, last):9.1f}{nhns_bp[a]:7.1f}"
          f"{prevalence('rx_lipid_lowering', 'all', a, a + 10, 0):9.1f}{prevalence('rx_lipid_lowering', 'all', a, a + 10, last):9.1f}{ll[a]:8.1f}"
          f"{prevalence('sbp_mmhg', 'male', a, a + 10, 0):8.1f}{prevalence('sbp_mmhg', 'male', a, a + 10, last):8.1f}{sbp_t['male'][a]:8.1f}"
          f"{prevalence('sbp_mmhg', 'female', a, a + 10, 0):8.1f}{prevalence('sbp_mmhg', 'female', a, a + 10, last):8.1f}{sbp_t['female'][a]:8.1f}")
print(f"\nsmoking %, men 40-49/50-59/60-69/70+: year 0 "
      + "/".join(f"{prevalence('smoker', 'male', a, b, 0):.1f}" for a, b in ((40, 50), (50, 60), (60, 70), (70, 200)))
      + f"; year {last} " + "/".join(f"{prevalence('smoker', 'male', a, b, last):.1f}" for a, b in ((40, 50), (50, 60), (60, 70), (70, 200)))
      + "  (NHNS 2019: 36.5/31.8/31.1/15.1)")
print(f"history of MI, stroke or HF %, all ages: year 0 {prevalence('cvd_history', 'all', 40, 200, 0):.1f}, "
      f"year {last} {prevalence('cvd_history', 'all', 40, 200, last):.1f}")
