#!/bin/sh
# Instructions per frame for signing and verifying (sizes 108 and 1416 bytes)
# and for a memcpy of the same bytes, counted by callgrind in one run.
# Prints one line per function and size: instructions per frame.
set -eu
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed"; exit 77; }
cargo build --release --example auth_cost >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" target/release/examples/auth_cost >/dev/null 2>&1
callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null \
    | grep -E 'auth_cost::(copy|sign|verify)_[0-9]+ ' \
    | sed -E 's/^ *([0-9,]+) .*auth_cost::([a-z_0-9]+) .*/\2 \1/' \
    | awk '{gsub(",", "", $2); printf "%-12s %8.0f instructions/frame\n", $1, $2 / 1000}'
