#!/usr/bin/env bash
# The Slurm path end to end (docs/shards.md): a one-node Slurm cluster on this machine
# (../shared/tools/slurm-local.sh, with Debian's slurm-wlm and munge, installed if missing),
# `healthtwin slurm` writes a 4-shard job array and a merge that depends on it (afterok),
# submit.sh submits both, and the merged outputs must be byte-identical to the unsharded
# run's (manifest.json apart from wall_time_seconds and threads). Then a calibration's
# rounds as a chain of arrays, compared with the unsharded calibration.
set -euo pipefail
cd "$(dirname "$0")/.."
LOCAL=${SLURM_LOCAL_SH:-../shared/tools/slurm-local.sh}
if [ ! -f "$LOCAL" ]; then
  echo "slurm-test: $LOCAL not found (the repository is expected beside ../shared; set SLURM_LOCAL_SH)" >&2
  exit 1
fi
LOCAL=$(realpath "$LOCAL")
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slurm-wlm munge >/dev/null
fi
cargo build --release -p healthtwin
BIN=$(realpath target/release/healthtwin)

STATE=$(mktemp -d /tmp/healthtwin-slurm-state.XXXXXX)
WORK=$(mktemp -d /tmp/healthtwin-slurm-work.XXXXXX)
cleanup() { bash "$LOCAL" stop "$STATE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
bash "$LOCAL" start "$STATE"
export SLURM_CONF=$STATE/slurm.conf

RUN=(run -n 6000 -y 4 -r 2 --trace 3 --seed 11)
"$BIN" "${RUN[@]}" --out "$WORK/whole" --quiet
"$BIN" slurm --shards 4 --cpus 1 --jobs "$WORK/jobs" -- "${RUN[@]}" --out "$WORK/merged"
read -r array merge < <("$WORK/jobs/submit.sh")
echo "slurm-test: array job $array, merge job $merge"
for _ in $(seq 1 600); do
  if [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; then break; fi
  sleep 1
done
if [ -n "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; then
  echo "slurm-test: jobs still queued after 10 minutes" >&2; squeue >&2; exit 1
fi
if [ ! -f "$WORK/merged/manifest.json" ]; then
  echo "slurm-test: the merge wrote no manifest" >&2
  tail -n 20 "$WORK"/jobs/logs/* >&2 || true
  exit 1
fi
status=0
for f in "$WORK"/whole/*; do
  name=$(basename "$f")
  if [ "$name" = manifest.json ]; then
    strip() { grep -v -E '"(wall_time_seconds|threads)":' "$1"; }
    diff <(strip "$f") <(strip "$WORK/merged/$name") || status=1
  elif [ -d "$f" ]; then
    diff -r "$f" "$WORK/merged/$name" || status=1   # patients/: every part file
  else
    cmp "$f" "$WORK/merged/$name" || status=1
  fi
done
[ "$(ls "$WORK/whole")" = "$(ls "$WORK/merged")" ] || { echo "slurm-test: file lists differ" >&2; status=1; }
[ $status = 0 ] && echo "slurm-test: 4 shards on Slurm merged into the unsharded run's bytes"

# A calibration's ABC-SMC on Slurm: one job array per round of candidates (3 shards), each
# merge job submitting the next round until the outputs exist; the result must be the
# unsharded calibration's (times apart: the generations' seconds, the manifest's rates).
CAL=(calibrate calibration/targets/diabetes.toml --params calibration/params/diabetes.toml
     -n 400 --particles 8 --generations 3)
"$BIN" "${CAL[@]}" --out "$WORK/cal-whole" --quiet
"$BIN" slurm --shards 3 --cpus 1 --jobs "$WORK/cal-jobs" -- "${CAL[@]}" --out "$WORK/cal-merged"
"$WORK/cal-jobs/submit.sh" >/dev/null
for _ in $(seq 1 600); do
  [ -f "$WORK/cal-merged/manifest.json" ] && break
  # A failed task leaves its merge waiting forever (DependencyNeverSatisfied): stop then.
  if [ -z "$(squeue -h 2>/dev/null)" ] || squeue -h -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
    sleep 2; [ -f "$WORK/cal-merged/manifest.json" ] && break
    echo "slurm-test: the calibration's chain stopped" >&2; break
  fi
  sleep 1
done
if [ ! -f "$WORK/cal-merged/manifest.json" ]; then
  echo "slurm-test: the calibration's rounds did not finish in 10 minutes" >&2
  squeue >&2 || true; tail -n 20 "$WORK"/cal-jobs/logs/* >&2 || true
  exit 1
fi
rounds=$(ls "$WORK"/cal-jobs/logs/merge-*.out | wc -l)
for f in posterior.parquet calibrated.toml targets.csv targets.parquet targets_z.png targets_z.svg generations.png generations.svg; do
  cmp "$WORK/cal-whole/$f" "$WORK/cal-merged/$f" || status=1
done
diff <(cut -d, -f1-6 "$WORK/cal-whole/generations.csv") <(cut -d, -f1-6 "$WORK/cal-merged/generations.csv") || status=1
strip() { grep -v -E '"(wall_time_seconds|threads|simulations_per_second|patient_years_per_second|command)":' "$1"; }
diff <(strip "$WORK/cal-whole/manifest.json") <(strip "$WORK/cal-merged/manifest.json") || status=1
if [ $status = 0 ]; then
  echo "slurm-test: a calibration in $rounds rounds of 3 shards on Slurm gave the unsharded calibration's outputs"
  rm -rf "$WORK"
fi
exit $status
