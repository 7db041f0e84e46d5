#!/bin/sh
# Builds the libFuzzer targets in fuzz/ and runs each one, from its seed
# corpus, either for a number of executions or for a time:
#
#   scripts/fuzz.sh runs N [TARGET...]      (stage 31: bounded, reproducible)
#   scripts/fuzz.sh seconds S [TARGET...]   (make fuzz FUZZ_SECONDS=S)
#
# Targets: frame_reader (the codec), engine (the receive path, auth,
# anti-entropy; fuzz/fuzz_targets/engine.rs), config (the configuration
# entry points of the C ABI; fuzz/fuzz_targets/config.rs). Stable Rust is
# enough: the coverage instrumentation cargo-fuzz would add is passed as
# ordinary codegen flags, and libfuzzer-sys builds libFuzzer with
# clang++-14. The seed is fixed; a crash or failed check ends the run with
# the input saved in target/fuzz-artifacts/. Each target prints its
# executions, time and coverage (edges and features).
set -eu

mode=${1:-}
amount=${2:-}
case "$mode" in
runs) limit="-runs=$amount" ;;
seconds) limit="-max_total_time=$amount" ;;
*)
    echo "usage: scripts/fuzz.sh runs N|seconds S [TARGET...]" >&2
    exit 2
    ;;
esac
shift 2
targets=${*:-frame_reader engine config}

triple=x86_64-unknown-linux-gnu
artifacts=target/fuzz-artifacts
corpus=fuzz/corpus

cargo run --quiet --features std --example fuzz_seeds -- "$corpus/frame_reader"
cargo run --quiet --features std,kernel --example fuzz_target_seeds -- \
    engine "$corpus/frame_reader" "$corpus/engine"
cargo run --quiet --features std,kernel --example fuzz_target_seeds -- config "$corpus/config"

bins=""
for t in $targets; do
    bins="$bins --bin $t"
done
(
    cd fuzz
    # shellcheck disable=SC2086 # one --bin per target
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing" \
        CC=clang-14 CXX=clang++-14 \
        cargo build --quiet --release --target "$triple" $bins
)

mkdir -p "$artifacts"
status=0
for t in $targets; do
    work=target/fuzz-work/$t
    log=target/fuzz-$t.log
    rm -rf "$work"
    mkdir -p "$work"
    if ! "fuzz/target/$triple/release/$t" -seed=1 "$limit" -max_len=8192 \
        -timeout=10 -rss_limit_mb=1024 -artifact_prefix="$artifacts/$t-" \
        "$work" "$corpus/$t" >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz $t: FAILED; input saved under $artifacts/" >&2
        status=1
        continue
    fi
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
    edges=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    features=$(echo "$done_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    runs_time=$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -1)
    seeds=$(find "$corpus/$t" -type f | wc -l)
    echo "fuzz $t: $runs_time, coverage $edges edges, $features features, $seeds seeds"
done
exit $status
