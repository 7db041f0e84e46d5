#!/bin/sh
# The checked-in bindgen output must match bindings/pfsync_core.h.
set -eu
command -v bindgen >/dev/null 2>&1 || { echo "bindgen not installed: skipped"; exit 77; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
scripts/gen-bindings.sh "$tmp"
if ! diff -u bindings/pfsync_core_sys.rs "$tmp"; then
	echo "bindings/pfsync_core_sys.rs is stale: run scripts/gen-bindings.sh" >&2
	exit 1
fi
echo "bindings current"
