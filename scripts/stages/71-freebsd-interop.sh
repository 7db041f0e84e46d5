#!/bin/sh
# Two FreeBSD 15.1 guests on one QEMU link: a late joiner's bulk between our
# module and the stock pfsync.ko in both directions, and stock->stock against
# ours->ours for the bulk figures (vm-tests/interop.sh).  Fails on a pair
# that does not bring every state, a kernel panic, or a guest that does not
# finish in time.  Skips only when the prebuilt boot tree
# (../shared/freebsd-vm/) is absent.  Needs stage 20.
set -eu
if [ "$(uname)" != Linux ]; then
    echo "boots the Linux cross-build under QEMU"
    exit 77
fi
exec sh vm-tests/interop.sh "${PFSYNC_INTEROP_STATES:-2000}"
