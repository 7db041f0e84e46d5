#!/bin/sh
# Regenerates bindings/pfsync_core_sys.rs from bindings/pfsync_core.h with
# build.rs's own bindgen run (the bindgen crate pinned in Cargo.toml, Debian
# 12's libclang 14): builds the crate with PFSYNC_BINDINGS=regenerate, so that
# the stale copy does not stop the build, and copies build.rs's output.
# Usage: scripts/gen-bindings.sh [OUTPUT]   (default: the committed file)
set -eu
cd "$(dirname "$0")/.."
out=${1:-bindings/pfsync_core_sys.rs}
json=$(mktemp)
trap 'rm -f "$json"' EXIT
PFSYNC_BINDINGS=regenerate cargo build --quiet -p pfsync --message-format json >"$json"
generated=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    # Our package is the path one named pfsync ("path+file:///...#pfsync@0.1.0").
    if m.get("reason") == "build-script-executed" and m["package_id"].startswith("path+") \
            and "#pfsync@" in m["package_id"]:
        print(m["out_dir"] + "/pfsync_core_sys.rs")
' "$json" | tail -n 1)
if [ -z "$generated" ] || [ ! -f "$generated" ]; then
    echo "gen-bindings: build.rs wrote no bindings (is libclang-14-dev installed?)" >&2
    exit 1
fi
cp "$generated" "$out"
