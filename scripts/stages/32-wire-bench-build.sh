#!/bin/sh
# The wire codec's std-only targets (benches/wire.rs, examples wire_oracle,
# fuzz_seeds, wire_cost) need `--features std`, which the workspace-wide
# clippy stage does not pass: lint them here, and check that the criterion
# benchmark builds in its real (bench) profile without running it.
# Measurements: scripts/bench-wire-ratios.sh.
set -eu

cargo clippy --quiet -p pfsync --all-targets --features std -- -D warnings
cargo bench --quiet --no-run --features std --bench wire
echo "wire benches and std-only examples: lint clean, bench builds"
