#!/bin/sh
# Bounded libFuzzer pass over the frame reader (FreeBSD 14.x/15.x and OpenBSD
# rules on every input). Stable Rust is enough: the coverage instrumentation
# cargo-fuzz would add is passed as ordinary codegen flags, and libfuzzer-sys
# builds libFuzzer with clang++-14. A fixed seed and run count keep it
# reproducible; a crash or assertion fails the stage and leaves the input in
# target/fuzz-artifacts/.
set -eu

runs=${PFSYNC_FUZZ_RUNS:-1000000}
target=x86_64-unknown-linux-gnu
work=target/fuzz-work
artifacts=target/fuzz-artifacts
seeds=fuzz/corpus/frame_reader

cargo run --quiet --features std --example fuzz_seeds -- "$seeds"

(
    cd fuzz
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing" \
        CC=clang-14 CXX=clang++-14 \
        cargo build --quiet --release --target "$target" --bin frame_reader
)

rm -rf "$work"
mkdir -p "$work" "$artifacts"
log=target/fuzz-frame_reader.log
if ! fuzz/target/$target/release/frame_reader -seed=1 -runs="$runs" -max_len=4096 \
    -timeout=10 -rss_limit_mb=1024 -artifact_prefix="$artifacts/" \
    "$work" "$seeds" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: frame_reader failed; input saved under $artifacts/" >&2
    exit 1
fi
done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
echo "fuzz frame_reader: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log")"
echo "fuzz frame_reader: $done_line"
echo "fuzz frame_reader: $(find "$seeds" -name 'generated-*' | wc -l) seed frames"
