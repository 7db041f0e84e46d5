#!/bin/sh
# Boots the FreeBSD 15.1 test kernel under QEMU with the freshly built
# build/freebsd15/pfsync.ko and the guest test program (vm-tests/guest/) as
# its /sbin/init, and reports one line per guest test.
#
#   vm-tests/local.sh [--ko PATH] [--timeout SECONDS]
#
# The boot tree (kernel, loader, stock modules) is the prebuilt
# freebsd-15.1-amd64-boot.tar.xz from ../shared/freebsd-vm/ beside the
# checkout, or $PFSYNC_FREEBSD_VM; vm-tests/image/README.md says how it and
# the rest of the image are made.  No network is needed.  Exit: 0 all guest tests passed, 1 a test
# failed, the kernel panicked, the guest did not finish in time or a tool
# (QEMU, xorriso, clang-14) is missing, 77 the boot tree is absent.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
ko=$top/build/freebsd15/pfsync.ko
limit=${PFSYNC_VM_TIMEOUT:-900}
while [ $# -gt 0 ]; do
    case $1 in
    --ko) ko=$2; shift ;;
    --timeout) limit=$2; shift ;;
    *) echo "usage: $0 [--ko PATH] [--timeout SECONDS]" >&2; exit 2 ;;
    esac
    shift
done

work=$top/build/vm
rm -rf "$work"
mkdir -p "$work"
rc=0
sh "$top/vm-tests/image/guest-tree.sh" "$work/tree" "$ko" "$top"/vm-tests/guest/*.c || rc=$?
case $rc in
0) ;;
77) echo "no FreeBSD boot tree (../shared/freebsd-vm/, or set PFSYNC_FREEBSD_VM): guest tests skipped"; exit 77 ;;
*) exit 1 ;;
esac
sh "$top/vm-tests/image/iso.sh" "$work/tree" "$work/boot.iso"

accel=${PFSYNC_VM_ACCEL:-tcg}
log=$work/serial.log
echo "booting FreeBSD 15.1 ($accel) with $(basename "$(dirname "$ko")")/pfsync.ko; serial log: $log"
start=$(date +%s)
rc=0
timeout "$limit" qemu-system-x86_64 -accel "$accel" -m 1024 -smp 1 -nographic -no-reboot \
    -drive file="$work/boot.iso",media=cdrom,if=none,id=cd0,format=raw \
    -device ahci,id=ahci -device ide-cd,drive=cd0,bus=ahci.0,bootindex=0 \
    </dev/null >"$log" 2>&1 || rc=$?
secs=$(($(date +%s) - start))

tr -d '\r' <"$log" | sed -n 's/^\(GUEST-TEST .*\)$/\1/p; s/^\(  .*\)$/\1/p; /^GUEST-DONE/p' |
    sed -n '/GUEST-TEST\|GUEST-DONE\|^  /p' >"$work/results"
if grep -q "GUEST-START" "$log"; then
    sed -n '/GUEST-START/,$p' "$log" | tr -d '\r' | grep -v '^$' | grep -v "^Waiting\|^Syncing\|^Uptime\|^All buffers\|^The operating\|^Please press\|^Rebooting" || true
fi
if grep -q "^panic:" "$log" || grep -q "panic: " "$log"; then
    echo "KERNEL PANIC after ${secs}s:"
    tr -d '\r' <"$log" | sed -n '/panic/,$p' | head -60
    exit 1
fi
if ! grep -q "^GUEST-DONE" "$log"; then
    echo "the guest did not finish within ${limit}s (qemu exit $rc); last lines:"
    tr -d '\r' <"$log" | tail -30
    exit 1
fi
pass=$(grep -c "^GUEST-TEST .* PASS" "$log" || true)
fail=$(grep -c "^GUEST-TEST .* FAIL" "$log" || true)
echo "guest: $pass passed, $fail failed in ${secs}s"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
