#!/bin/sh
# pfsync-node over real sockets between Linux network namespaces: sync,
# defer, bulk (also paced to a tbf-shaped link), badttl/badif, unicast,
# IPv6, loss/reorder, kill -9, version mismatch, frame authentication
# (refusal, replay, key rotation), anti-entropy repair, and the OpenBSD
# dialect (sync, bulk, defer, failover, a FreeBSD neighbour counting badver).
# Needs root (namespaces, raw sockets); cases: scripts/netns/run_cases.py.
# Skips only when the kernel refuses a network namespace even to root; a
# missing tool or a non-root run fails with the command that fixes it.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    echo "needs root for network namespaces and raw sockets: run sudo make test"
    exit 1
fi
for tool in ip nft tc python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not installed: as root, scripts/install-deps.sh test installs it (make test runs it)"
        exit 1
    fi
done
if ! err=$(ip netns add "pfs-probe-$$" 2>&1); then
    echo "$err"
    echo "the kernel refuses network namespaces here, even to root: skipped"
    exit 77
fi
ip netns del "pfs-probe-$$"

cargo build --quiet -p pfsync-node
# The paced bulk cases need a node fast enough to fill a 1 Gb/s link.
cargo build --quiet -p pfsync-node --profile sim
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exec timeout --signal=TERM --kill-after=30 280 python3 scripts/netns/run_cases.py \
    --bin "$target/debug/pfsync-node" --fast-bin "$target/sim/pfsync-node"
