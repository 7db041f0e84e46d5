#!/bin/sh
# The module in a real kernel: boots FreeBSD 15.1 under QEMU with
# build/freebsd15/pfsync.ko and the guest test program as /sbin/init
# (vm-tests/local.sh, vm-tests/guest/), and fails on any guest test failure,
# a kernel panic, or a guest that does not finish in time.  Skips only when
# the prebuilt boot tree (../shared/freebsd-vm/) is absent.  Needs stage 20.
set -eu
if [ "$(uname)" != Linux ]; then
    echo "boots the Linux cross-build under QEMU"
    exit 77
fi
exec sh vm-tests/local.sh --timeout 900
