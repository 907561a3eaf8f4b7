#!/usr/bin/env bash
# Shrinks the kept corpus (docs/validation.md, "Fuzzing"):
#
#   fuzz/minimise.sh [MAX_KB] [TARGET...]      default: 16 KB, every target
#
# fuzz/corpus/TARGET becomes the smallest set of inputs of at most MAX_KB, drawn from
# fuzz/corpus/TARGET and fuzz/corpus-full/TARGET (what fuzz/run.sh found), that covers every
# edge they cover: libFuzzer's merge with hit counts off (-use_counters=0), so the kept corpus
# stays a few MB. Larger inputs stay in fuzz/corpus-full (not committed). Run after
# fuzz/run.sh, which builds the targets.
set -euo pipefail

cd "$(dirname "$0")"
max_kb="${1:-16}"
shift || true
all=(fhir_ndjson fhir_bundle omop_csv plain_csv apple_xml scenario_toml risk_patient cohort_csv cohort_parquet)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
bin=target/x86_64-unknown-linux-gnu/release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in "${targets[@]}"; do
    mkdir -p "$tmp/$t/in" "$tmp/$t/out" "corpus-full/$t"
    # Names are libFuzzer's content hashes (or a seed's name): one copy of each is enough.
    for d in "corpus/$t" "corpus-full/$t"; do
        find "$d" -type f -size -"$((max_kb + 1))"k -exec cp -n -t "$tmp/$t/in" {} + 2>/dev/null || true
    done
    "$bin/$t" -merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout=10 \
        "$tmp/$t/out" "$tmp/$t/in" >"$tmp/$t/log" 2>&1 || { tail -20 "$tmp/$t/log"; exit 1; }
    # Keep what was committed in corpus-full, then replace the kept corpus.
    cp -n "corpus/$t"/* "corpus-full/$t/" 2>/dev/null || true
    rm -rf "corpus/$t"
    mv "$tmp/$t/out" "corpus/$t"
    cov=$("$bin/$t" -runs=0 -rss_limit_mb=2048 "corpus/$t" 2>&1 | grep -o 'INITED cov: [0-9]* ft: [0-9]*' || true)
    echo "$t: $(find "corpus/$t" -type f | wc -l) files, $(du -sh --apparent-size "corpus/$t" | cut -f1), $cov"
done
