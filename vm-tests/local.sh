#!/bin/sh
# Boots the FreeBSD 15.1 test kernel under QEMU with the freshly built
# build/freebsd15/pfsync.ko and the guest test program (vm-tests/guest/) as
# its /sbin/init, and reports one line per guest test.
#
#   vm-tests/local.sh [--ko PATH] [--timeout SECONDS]
#
# The boot tree (kernel, loader, stock modules) is the prebuilt
# freebsd-15.1-amd64-boot.tar.xz from ../shared/freebsd-vm/ beside the
# checkout, or $PFSYNC_FREEBSD_VM; vm-tests/image/README.md says how it is
# made.  No network is needed.  Exit: 0 all guest tests passed, 1 a test
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

vmdir=${PFSYNC_FREEBSD_VM:-$top/../shared/freebsd-vm}
tarball=$vmdir/freebsd-15.1-amd64-boot.tar.xz
if [ ! -f "$tarball" ]; then
    echo "no FreeBSD boot tree at $tarball (set PFSYNC_FREEBSD_VM): guest tests skipped"
    exit 77
fi
for tool in qemu-system-x86_64 xorriso clang-14; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "$tool not installed: as root, scripts/install-deps.sh test installs it (make test runs it)" >&2
        exit 1
    }
done
[ -f "$ko" ] || { echo "$ko missing: run make first" >&2; exit 1; }

work=$top/build/vm
rm -rf "$work"
mkdir -p "$work/tree/sbin"

# The guest program: freestanding, static, against the real 15.1 headers.
hdr=$top/.toolchain/freebsd15
clang-14 -target x86_64-unknown-freebsd15.1 -O1 -g0 -ffreestanding -fno-builtin \
    -fno-stack-protector -fno-pic -static -nostdlib -nostdinc -fuse-ld=lld \
    -Wall -Werror -Wno-unused-function \
    -isystem "$hdr/x86_64-freebsd-none" -isystem "$hdr/generic-freebsd" \
    -isystem "$(clang-14 -print-resource-dir)/include" \
    -o "$work/tree/sbin/init" "$top"/vm-tests/guest/*.c

tar -C "$work/tree" -xJf "$tarball"
# The stock module stays beside ours for side-by-side runs.
cp "$work/tree/boot/kernel/pfsync.ko" "$work/tree/boot/kernel/pfsync-stock.ko"
cp "$ko" "$work/tree/boot/kernel/pfsync.ko"
xorriso -as mkisofs -R -b boot/cdboot -no-emul-boot -V PFSYNCRS \
    -o "$work/boot.iso" "$work/tree" >"$work/xorriso.log" 2>&1

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
