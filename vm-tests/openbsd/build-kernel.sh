#!/bin/sh
# On an OpenBSD amd64 host with the system source in /usr/src (sys.tar.gz of
# the installed release, or a CVS/got checkout of the same release): builds
# GENERIC.MP with pfsync-rs's pfsync.o in place of if_pfsync.o, the way a
# custom kernel is built (config(8), then make in the compile directory).
#
#   vm-tests/openbsd/build-kernel.sh [--dry-run] [--install] PFSYNC_O
#
# PFSYNC_O is build/openbsd/pfsync.o from `make openbsd` on Linux (copy it
# over). The stock kernel is built first so every other object exists; then
# if_pfsync.o is replaced and only the link is redone. --install puts the new
# kernel at /bsd (the old one stays as /obsd), as `make install` does.
# --dry-run prints every step and runs none.
set -eu

DRY=0
INSTALL=0
while [ $# -gt 0 ]; do
	case $1 in
	--dry-run) DRY=1 ;;
	--install) INSTALL=1 ;;
	-*) echo "usage: $0 [--dry-run] [--install] PFSYNC_O" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 1 ] || { echo "usage: $0 [--dry-run] [--install] PFSYNC_O" >&2; exit 2; }
obj=$1

run() {
	if [ "$DRY" = 1 ]; then
		echo "+ $*"
	else
		"$@"
	fi
}

if [ "$DRY" = 0 ]; then
	[ "$(uname -s)" = OpenBSD ] || { echo "build-kernel: run this on OpenBSD" >&2; exit 1; }
	[ "$(uname -m)" = amd64 ] || { echo "build-kernel: pfsync.o is an amd64 object" >&2; exit 1; }
	[ -f "$obj" ] || { echo "build-kernel: $obj: no such file" >&2; exit 1; }
	[ -d /usr/src/sys/arch/amd64/compile/GENERIC.MP ] ||
		{ echo "build-kernel: /usr/src/sys missing (extract sys.tar.gz of this release)" >&2; exit 1; }
fi

compile=/usr/src/sys/arch/amd64/compile/GENERIC.MP
echo "== stock GENERIC.MP, so every other object exists"
run make -C "$compile" obj
run make -C "$compile" config
run make -C "$compile" -j "$(sysctl -n hw.ncpuonline 2>/dev/null || echo 1)"

echo "== pfsync-rs in place of if_pfsync.o, relink"
# The copy is newer than if_pfsync.c, so make keeps it and only relinks.
run install -m 644 "$obj" "$compile/obj/if_pfsync.o"
run rm -f "$compile/obj/bsd"
run make -C "$compile"
# A message only the pfsync-rs shim carries tells its kernel from stock.
marker="pfsync: core initialisation failed"
if [ "$DRY" = 1 ]; then
	echo "+ grep -q '$marker' $compile/obj/bsd"
elif ! grep -q "$marker" "$compile/obj/bsd"; then
	echo "build-kernel: $compile/obj/bsd does not hold pfsync-rs" >&2
	exit 1
fi

if [ "$INSTALL" = 1 ]; then
	echo "== install as /bsd (previous kernel kept as /obsd)"
	run make -C "$compile" install
fi
echo "build-kernel: $compile/obj/bsd"
