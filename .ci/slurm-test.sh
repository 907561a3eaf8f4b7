#!/usr/bin/env bash
# The Slurm path end to end (docs/shards.md): a one-node Slurm cluster on this machine
# (../shared/tools/slurm-local.sh, with Debian's slurm-wlm and munge, installed if missing),
# `healthtwin slurm` writes a 4-shard job array and a merge that depends on it (afterok),
# submit.sh submits both, and the merged outputs must be byte-identical to the unsharded
# run's (manifest.json apart from wall_time_seconds and threads).
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
if [ $status = 0 ]; then
  echo "slurm-test: 4 shards on Slurm merged into the unsharded run's bytes"
  rm -rf "$WORK"
fi
exit $status
