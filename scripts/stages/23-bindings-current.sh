#!/bin/sh
# bindings/pfsync_core.h is the single source of truth for the C ABI: build.rs
# runs bindgen on it in every cargo build and fails the build when the
# committed bindings/pfsync_core_sys.rs says anything else. Here libclang is
# required (PFSYNC_BINDINGS=require), so the check cannot quietly not happen;
# scripts/gen-bindings.sh must reproduce the committed copy; then build.rs is
# run on altered copies to show that it bites on a changed
# header, ignores layout-only differences and refuses to go unchecked.
set -eu

json=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$json" "$work"' EXIT

PFSYNC_BINDINGS=require cargo build --quiet -p pfsync --message-format json >"$json"
eval "$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    pkg = m.get("package_id", "")
    if not (pkg.startswith("path+") and "#pfsync@" in pkg):
        continue
    if m.get("reason") == "build-script-executed":
        print("out_dir=%s" % m["out_dir"])
    if m.get("reason") == "compiler-artifact" and m["target"]["kind"] == ["custom-build"]:
        print("script=%s" % m["filenames"][0])
' "$json")"
: "${out_dir:?no build-script output for pfsync}" "${script:?no build script for pfsync}"
echo "cargo build: committed bindings match bindings/pfsync_core.h (libclang required)"
if cmp -s "$out_dir/pfsync_core_sys.rs" bindings/pfsync_core_sys.rs; then
    echo "the committed copy is byte for byte build.rs's bindgen output"
else
    diff -u bindings/pfsync_core_sys.rs "$out_dir/pfsync_core_sys.rs" | head -40
    echo "the committed copy differs in layout from build.rs's output: run scripts/gen-bindings.sh"
    exit 1
fi

# The regeneration script writes exactly what is committed.
scripts/gen-bindings.sh "$work/regenerated.rs"
if cmp -s "$work/regenerated.rs" bindings/pfsync_core_sys.rs; then
    echo "scripts/gen-bindings.sh reproduces the committed copy"
else
    diff -u bindings/pfsync_core_sys.rs "$work/regenerated.rs" | head -40
    echo "scripts/gen-bindings.sh output differs from the committed copy"
    exit 1
fi

fail=0
run_script() { # dir [env...]: runs build.rs where cargo would, in dir
    dir=$1
    shift
    mkdir -p "$dir/out"
    (cd "$dir" && env OUT_DIR="$dir/out" "$@" "$script") >"$dir/log" 2>&1
}
expect() { # description, want (pass|fail), dir, grep pattern, [env...]
    what=$1 want=$2 dir=$3 pattern=$4
    shift 4
    rc=0
    run_script "$dir" "$@" || rc=$?
    got=pass
    [ "$rc" -eq 0 ] || got=fail
    if [ "$got" = "$want" ] && grep -q -- "$pattern" "$dir/log"; then
        echo "ok   $what: $(grep -v '^cargo:rerun' "$dir/log" | tail -n 1 | cut -c1-140)"
        grep -qv '^cargo:rerun' "$dir/log" || echo "     (build.rs passed silently)"
    else
        cat "$dir/log"
        echo "FAIL $what: expected $want with /$pattern/, got exit $rc"
        fail=1
    fi
}
copy() { # dir
    mkdir -p "$1/bindings"
    cp bindings/pfsync_core.h bindings/pfsync_core_sys.rs "$1/bindings/"
}

copy "$work/changed"
sed -i 's/^#define PFSYNC_RS_ABI_VERSION[[:space:]]*1$/#define PFSYNC_RS_ABI_VERSION 2/' \
    "$work/changed/bindings/pfsync_core.h"
if cmp -s bindings/pfsync_core.h "$work/changed/bindings/pfsync_core.h"; then
    echo "could not alter PFSYNC_RS_ABI_VERSION in the header copy"
    exit 1
fi
expect "header changed, copy not regenerated" fail "$work/changed" "is stale"

copy "$work/relaid"
grep -v '^[[:space:]]*//' bindings/pfsync_core_sys.rs | sed 's/^[[:space:]]*//' \
    >"$work/relaid/bindings/pfsync_core_sys.rs"
expect "copy re-indented, comments dropped" pass "$work/relaid" "rerun-if-changed"

copy "$work/noclang"
expect "no libclang, check required" fail "$work/noclang" "libclang not loadable" \
    LIBCLANG_PATH=/nonexistent PFSYNC_BINDINGS=require
expect "no libclang, ordinary build" pass "$work/noclang" "warning=libclang not loadable" \
    LIBCLANG_PATH=/nonexistent
exit $fail
