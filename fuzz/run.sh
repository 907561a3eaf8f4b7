#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of every parser (docs/validation.md, "Fuzzing").
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      default: 60 s, every target
#
# Builds the targets with cargo-fuzz (libFuzzer) on the stable toolchain without a sanitizer
# (`-s none`: Rust's own bounds and overflow checks, `-a` debug assertions, `-O` release),
# then runs them one after another, each for SECONDS_PER_TARGET, on one core. Each target
# starts from the kept corpus `fuzz/corpus/TARGET` (committed) plus `fuzz/corpus-full/TARGET`
# (what earlier local runs found; not committed) and its dictionary in `fuzz/dict/`.
# Exits non-zero if any target crashed, timed out (30 s per input) or ran out of memory;
# the input is saved under `fuzz/artifacts/TARGET/` (reproduce with
# `cargo fuzz run -s none -O -a TARGET fuzz/artifacts/TARGET/crash-…` in fuzz/).
# Needs: `cargo install cargo-fuzz` and a C++ compiler (libFuzzer is built from source).
# Extra libFuzzer flags: FUZZ_ARGS="-max_len=65536" fuzz/run.sh 600 fhir_bundle
set -euo pipefail

cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
all=(fhir_ndjson fhir_bundle omop_csv plain_csv apple_xml scenario_toml risk_patient cohort_csv cohort_parquet)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

dict_of() {
    case "$1" in
        fhir_*) echo fhir ;;
        omop_csv) echo omop ;;
        plain_csv) echo plain ;;
        apple_xml) echo apple ;;
        scenario_toml) echo scenario ;;
        risk_patient) echo risk ;;
        cohort_*) echo cohort ;;
        *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}

command -v cargo-fuzz >/dev/null || { echo "needs cargo-fuzz: cargo install cargo-fuzz" >&2; exit 2; }
flags=(-s none -O -a)
cargo fuzz build "${flags[@]}"

mkdir -p logs
failed=()
for t in "${targets[@]}"; do
    dict="dict/$(dict_of "$t").dict"
    mkdir -p "corpus-full/$t" "corpus/$t"
    echo "== $t: ${secs}s"
    # shellcheck disable=SC2086
    if cargo fuzz run "${flags[@]}" "$t" "corpus-full/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -dict="$dict" \
        -print_final_stats=1 ${FUZZ_ARGS:-} >"logs/$t.log" 2>&1; then
        grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units' "logs/$t.log" | tail -2
    else
        failed+=("$t")
        # The panic and the saved input's name; not libFuzzer's byte dump of the input.
        grep -E "panicked at|^[^ ].*(error|Error)|SUMMARY|Test unit written|deadly signal|timeout|out-of-memory" \
            "logs/$t.log" | grep -v "^Output of" | cut -c1-300 | head -20
    fi
    # Each fuzzer process keeps a scratch folder (fuzz/src/lib.rs); remove those of ended ones.
    for d in /dev/shm/healthtwin-fuzz-* "${TMPDIR:-/tmp}"/healthtwin-fuzz-*; do
        if [ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null; then rm -rf "$d"; fi
    done
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]} (inputs in fuzz/artifacts/, logs in fuzz/logs/)" >&2
    exit 1
fi
echo "all ${#targets[@]} targets ran ${secs}s each without a crash"
