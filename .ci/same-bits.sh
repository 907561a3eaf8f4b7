#!/usr/bin/env bash
# Same bits on every machine (ARCHITECTURE.md, docs/validation.md): the same small `run`,
# `compare` and `trial dpp` must write byte-identical outputs
#   1. from the default build and from a build with FMA and AVX2 instructions enabled
#      (RUSTFLAGS="-C target-feature=+avx2,+fma", in target/fma): catches code whose
#      arithmetic depends on the compile-time target (an FMA, a `cfg(target_feature)` path);
#   2. from the default build with glibc told the CPU has no FMA and no AVX2
#      (GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA): glibc's exp, log, pow, expm1 and log1p
#      then take their other code path, which gives another last bit for about 1 argument in
#      1,000 to 100,000, as on a machine without FMA. Any platform libm call left in
#      simulation code shows up here.
# Usage: .ci/same-bits.sh [OUTDIR]   (default target/same-bits). Exit 1 on any difference.
# Cost: a second release build of the workspace (about 2 minutes on 2 cores) and six small runs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/same-bits}
lib=scenarios/library
rm -rf "$out"
mkdir -p "$out"

cargo build --release -p healthtwin
have_fma=false
if grep -qw fma /proc/cpuinfo 2>/dev/null && grep -qw avx2 /proc/cpuinfo; then
    have_fma=true
    RUSTFLAGS="-C target-feature=+avx2,+fma" CARGO_TARGET_DIR=target/fma \
        cargo build --release -p healthtwin
fi

# outputs BIN DIR: the commands whose output bytes must not depend on the machine.
outputs() {
    local bin=$1 dir=$2
    mkdir -p "$dir"
    "$bin" run -q --patients 2000 --years 5 --replicates 2 --trace 3 --out "$dir/run"
    "$bin" run -q --patients 1000 --years 4 --replicates 1 --step-months 3 --out "$dir/run3"
    "$bin" compare -q "$lib/baseline.toml" "$lib/combined.toml" -n 2000 -y 5 -r 2 -o "$dir/compare"
    "$bin" compare -q "$lib/baseline.toml" "$lib/combined.toml" --psa 2 -n 1000 -y 4 -o "$dir/psa"
    "$bin" trial dpp --screened 20000 -r 2 --out "$dir/dpp" >"$dir.dpp.log" 2>&1 ||
        { cat "$dir.dpp.log" >&2; exit 1; }
    # The manifests hold paths and wall times.
    find "$dir" -name manifest.json -delete
}

outputs target/release/healthtwin "$out/default"
GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2_Usable,-FMA_Usable,-AVX2,-FMA \
    outputs target/release/healthtwin "$out/libm-without-fma"
if $have_fma; then
    outputs target/fma/release/healthtwin "$out/fma-build"
fi

files=$(find "$out/default" -type f | wc -l)
status=0
for other in "$out"/libm-without-fma "$out"/fma-build; do
    [ -d "$other" ] || continue
    if diff -r "$out/default" "$other" >"$other.diff"; then
        echo "same bits: $(basename "$other") = default ($files files)"
    else
        echo "DIFFERENT: $(basename "$other") vs default:" >&2
        cat "$other.diff" >&2
        status=1
    fi
done
$have_fma || echo "same bits: no FMA/AVX2 on this CPU, the +fma build was not run"
exit $status
