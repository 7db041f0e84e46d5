#!/bin/sh
# Makes a bootable ISO of a guest tree (vm-tests/image/guest-tree.sh): its
# cd9660 file system is the guest's root, booted by FreeBSD's cdboot.
#   vm-tests/image/iso.sh TREE ISO
set -eu
[ $# -eq 2 ] || { echo "usage: $0 TREE ISO" >&2; exit 2; }
xorriso -as mkisofs -R -b boot/cdboot -no-emul-boot -V PFSYNCRS \
    -o "$2" "$1" >"$2.log" 2>&1 || { cat "$2.log" >&2; exit 1; }
