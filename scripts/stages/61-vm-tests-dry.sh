#!/bin/sh
# vm-tests cannot boot FreeBSD here (no images, no hypervisor): check the
# scripts statically and walk every step in --dry-run mode instead.
set -eu
command -v shellcheck >/dev/null 2>&1 || { echo "shellcheck not installed: as root, scripts/install-deps.sh test installs it (make test runs it)"; exit 1; }
shellcheck vm-tests/run.sh vm-tests/guest/*.sh
python3 -c "import ast, sys; ast.parse(open(sys.argv[1]).read())" vm-tests/console.py
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for host in qemu bhyve; do
	for rel in 14.3 15.0; do
		VMTEST_WORK=/nonexistent/vm-tests sh vm-tests/run.sh --dry-run --host "$host" --release "$rel" >"$out"
		for want in "fetch FreeBSD-$rel-RELEASE" "CHECKSUM.SHA256" "pfsync-${rel%%.*}.ko" "console.py"; do
			grep -q -- "$want" "$out" || { echo "dry run $host $rel lacks: $want" >&2; cat "$out" >&2; exit 1; }
		done
		echo "dry run ok: $host $rel ($(grep -c '^+ ' "$out") commands)"
	done
done
sh vm-tests/guest/run-in-guest.sh --dry-run >"$out"
for want in "install -m 555" "kyua test pfsync" "jail -r fw1" "VMTEST DONE"; do
	grep -q -- "$want" "$out" || { echo "guest dry run lacks: $want" >&2; exit 1; }
done
echo "guest dry run ok ($(grep -c '^+ ' "$out") commands)"
