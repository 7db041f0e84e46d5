#!/bin/sh
# Bulk join of 1,000,000 states between two pfsync-node processes in network
# namespaces (veth + bridge), default pacing. Prints wall time, frames, bytes,
# receiver drops, rate vs a line-rate model and peak RSS. Needs root.
#   scripts/bench-netns-bulk.sh [--states N] [--msg-version 1301|1400|1500]
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "bench-netns-bulk: needs root (network namespaces, raw sockets)" >&2
    exit 77
fi
cargo build --quiet --release -p pfsync-node
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exec python3 scripts/netns/bench_bulk.py --bin "$target/release/pfsync-node" "$@"
