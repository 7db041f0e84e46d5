#!/bin/sh
# Two namespaced firewalls running pfsync-node: states made on the master show
# up on the backup; the master is killed and the backup keeps them. Decodes the
# traffic live with pfsyncdump when the workspace has it. Needs root.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root (network namespaces, raw sockets)" >&2
    exit 77
fi
cargo build --quiet -p pfsync-node
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
set -- --bin "$target/debug/pfsync-node"
if [ -f tools/pfsyncdump/Cargo.toml ] && cargo build --quiet -p pfsyncdump; then
    set -- "$@" --pfsyncdump "$target/debug/pfsyncdump"
fi
exec python3 scripts/netns/demo.py "$@"
