"""Reading a `healthtwin run` summary.csv for the calibration scripts (stdlib only)."""
import csv
from collections import defaultdict


def read_summary(out):
    """Mean of each metric by (year_index, sex, age_band), and the set of year indices."""
    rows = defaultdict(dict)
    years = set()
    with open(f"{out}/summary.csv") as f:
        for r in csv.DictReader(f):
            y = int(r["year_index"])
            years.add(y)
            if r["mean"] == "":
                continue
            rows[(y, r["sex"], r["age_band"])][r["metric"]] = float(r["mean"])
    return rows, years


def band_lo(band):
    """Lower age of a band label such as '50-54' or '100+'."""
    return int(band.split("-")[0].rstrip("+"))
