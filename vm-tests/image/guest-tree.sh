#!/bin/sh
# Lays out the root file system of a FreeBSD 15.1 test guest in TREE:
# the prebuilt boot tree (kernel, loader, stock modules), our pfsync.ko in
# place of the stock one (which stays as pfsync-stock.ko for side-by-side
# runs), and a guest program built from SOURCES as /sbin/init.
#
#   vm-tests/image/guest-tree.sh TREE KO SOURCE.c...
#
# The guest program is the userland: freestanding C (no libc), static,
# compiled against the real FreeBSD 15.1 headers in .toolchain/freebsd15,
# doing with raw system calls what ifconfig, pfctl, jail and route would
# (README.md here says why).  Exit: 0 done, 77 the boot tree is absent,
# 1 a tool or the module is missing or the program does not compile.
set -eu

[ $# -ge 3 ] || { echo "usage: $0 TREE KO SOURCE.c..." >&2; exit 2; }
tree=$1 ko=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
vmdir=${PFSYNC_FREEBSD_VM:-$top/../shared/freebsd-vm}
tarball=$vmdir/freebsd-15.1-amd64-boot.tar.xz
if [ ! -f "$tarball" ]; then
    echo "no FreeBSD boot tree at $tarball (set PFSYNC_FREEBSD_VM)"
    exit 77
fi
for tool in qemu-system-x86_64 xorriso clang-14; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "$tool not installed: as root, scripts/install-deps.sh test installs it (make test runs it)" >&2
        exit 1
    }
done
[ -f "$ko" ] || { echo "$ko missing: run make first" >&2; exit 1; }

rm -rf "$tree"
mkdir -p "$tree/sbin"
hdr=$top/.toolchain/freebsd15
clang-14 -target x86_64-unknown-freebsd15.1 -O1 -g0 -ffreestanding -fno-builtin \
    -fno-stack-protector -fno-pic -static -nostdlib -nostdinc -fuse-ld=lld \
    -Wall -Werror -Wno-unused-function \
    -isystem "$hdr/x86_64-freebsd-none" -isystem "$hdr/generic-freebsd" \
    -isystem "$(clang-14 -print-resource-dir)/include" \
    -o "$tree/sbin/init" "$@"
tar -C "$tree" -xJf "$tarball"
cp "$tree/boot/kernel/pfsync.ko" "$tree/boot/kernel/pfsync-stock.ko"
cp "$ko" "$tree/boot/kernel/pfsync.ko"
