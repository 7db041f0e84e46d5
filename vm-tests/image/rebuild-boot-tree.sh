#!/bin/sh
# Rebuilds the FreeBSD 15.1 boot tree the guest tests boot
# (freebsd-15.1-amd64-boot.tar.xz) from FreeBSD's own sources, and checks
# that it holds what the tests need.  Developers only: it needs the FreeBSD
# tree, which only the `fetch` look-up tool brings (github:renuxproject/src,
# root commit 307fbceb2 = FreeBSD 15.1-RELEASE-p1), and about 10 minutes of
# 2 cores; CI uses the prebuilt tarball in ../shared/freebsd-vm/.
#
#   vm-tests/image/rebuild-boot-tree.sh MIRROR_GIT_DIR WORK_DIR
#
# The steps are the shared recipe's (../shared/freebsd-vm/recipe/build.sh,
# run as a dependency, not copied here):
#   1. export the tree at 307fbceb2 without the 16 blobs the snapshot lacks
#      (none is needed for a kernel), apply the recipe's three-line Linux
#      build patch, add kernel config PFTESTPVH (MINIMAL, which has INET,
#      INET6 and VIMAGE, plus md, tmpfs, cd9660, if_bridge, epair, gif);
#   2. tools/build/make.py kernel-toolchain, then buildkernel with
#      MODULES_OVERRIDE="pf pfsync if_epair carp tmpfs crypto" and
#      MK_SSP=no (clang 16 emits GOT-relative stack-guard relocations the
#      kernel linker refuses);
#   3. BIOS cdboot and the 4th loader, a loader.conf for a serial console
#      and a cd9660 root; tar the tree.
# Then the check below; point the tests at the result with
# PFSYNC_FREEBSD_VM=WORK_DIR.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 MIRROR_GIT_DIR WORK_DIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/../.." && pwd)
recipe=${PFSYNC_FREEBSD_RECIPE:-$top/../shared/freebsd-vm/recipe}
[ -x "$recipe/build.sh" ] || { echo "no recipe at $recipe" >&2; exit 1; }
mkdir -p "$2"
work=$(cd "$2" && pwd)
sh "$recipe/build.sh" "$1" "$work"
tarball=$work/freebsd-15.1-amd64-boot.tar.xz
missing=0
for f in boot/kernel/kernel boot/loader boot/cdboot boot/loader.conf \
    boot/kernel/pf.ko boot/kernel/pfsync.ko boot/kernel/carp.ko \
    boot/kernel/if_epair.ko boot/kernel/crypto.ko boot/kernel/tmpfs.ko; do
    tar -tJf "$tarball" "./$f" >/dev/null 2>&1 || { echo "missing from the tree: $f"; missing=1; }
done
tar -xJOf "$tarball" ./boot/kernel/kernel | grep -qa vnet_entry_ ||
    { echo "the kernel has no VIMAGE"; missing=1; }
[ "$missing" = 0 ] && echo "boot tree ready: PFSYNC_FREEBSD_VM=$work"
