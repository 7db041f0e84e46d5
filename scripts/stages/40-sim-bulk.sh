#!/bin/sh
# Bulk update of 1,000,000 states on the simulator (optimised `sim` profile): frames,
# bytes, packing efficiency, virtual time at 1 Gb/s, engine memory. Also the
# failover scenario over 20 seeds.
set -eu
cargo test --profile sim -p pfsync --test sim_bulk -- --ignored --nocapture
cargo test --profile sim -p pfsync --test sim_failover -- --ignored --nocapture
