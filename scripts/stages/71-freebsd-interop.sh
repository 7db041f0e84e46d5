#!/bin/sh
# Two FreeBSD 15.1 guests on one QEMU link: a late joiner's bulk between our
# module and the stock pfsync.ko in both directions, and stock->stock against
# ours->ours for the bulk figures (vm-tests/interop.sh).  Then 10,000 states
# from ours to stock at our default pace over vtnet, which claims 10 Gb/s: a
# stock receiver has no repair, so the default must not outrun it.  Fails on
# a pair that does not bring every state, a kernel panic, or a guest that
# does not finish in time.  Skips only when the prebuilt boot tree
# (../shared/freebsd-vm/) is absent.  Needs stage 20.
set -eu
if [ "$(uname)" != Linux ]; then
    echo "boots the Linux cross-build under QEMU"
    exit 77
fi
sh vm-tests/interop.sh "${PFSYNC_INTEROP_STATES:-2000}"
PFSYNC_INTEROP_PAIRS=ours:stock PFSYNC_INTEROP_TIMEOUT=200 \
    exec sh vm-tests/interop.sh 10000
