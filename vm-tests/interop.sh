#!/bin/sh
# Two FreeBSD 15.1 guests on one virtual link (QEMU socket netdev): one holds
# N states and answers bulk requests, the other joins and times how long its
# bulk takes to bring all N.  Runs the four pairs stock->ours, ours->stock
# (interoperation both ways) and stock->stock, ours->ours (the figures,
# measured in the same run), one "INTEROP <pair> PASS|FAIL states= ms=" line
# each.  Guest program: vm-tests/guest/interop/main.c.
#   vm-tests/interop.sh [N]      (default 2000 states)
# PFSYNC_INTEROP_PAIRS="ours:stock ..." runs only those pairs;
# PFSYNC_INTEROP_PACE_US sets net.pfsync.rs.bulk_pace_us on our senders.
# Exit: 0 every pair passed, 1 a pair failed or a guest panicked, 77 the
# FreeBSD boot tree is absent.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
ko=$top/build/freebsd15/pfsync.ko
vmdir=${PFSYNC_FREEBSD_VM:-$top/../shared/freebsd-vm}
tarball=$vmdir/freebsd-15.1-amd64-boot.tar.xz
limit=${PFSYNC_INTEROP_TIMEOUT:-400}
if [ ! -f "$tarball" ]; then
    echo "no FreeBSD boot tree at $tarball (set PFSYNC_FREEBSD_VM): interop skipped"
    exit 77
fi
for tool in qemu-system-x86_64 xorriso clang-14; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "$tool not installed: as root, scripts/install-deps.sh test installs it (make test runs it)" >&2
        exit 1
    }
done
[ -f "$ko" ] || { echo "$ko missing: run make first" >&2; exit 1; }

work=$top/build/vm-interop
rm -rf "$work"
mkdir -p "$work/tree/sbin"
hdr=$top/.toolchain/freebsd15
clang-14 -target x86_64-unknown-freebsd15.1 -O1 -g0 -ffreestanding -fno-builtin \
    -fno-stack-protector -fno-pic -static -nostdlib -nostdinc -fuse-ld=lld \
    -Wall -Werror -Wno-unused-function \
    -isystem "$hdr/x86_64-freebsd-none" -isystem "$hdr/generic-freebsd" \
    -isystem "$(clang-14 -print-resource-dir)/include" \
    -o "$work/tree/sbin/init" "$top"/vm-tests/guest/rt.c "$top"/vm-tests/guest/net.c \
    "$top"/vm-tests/guest/frames.c "$top"/vm-tests/guest/interop/main.c
tar -C "$work/tree" -xJf "$tarball"
cp "$work/tree/boot/kernel/pfsync.ko" "$work/tree/boot/kernel/pfsync-stock.ko"
cp "$ko" "$work/tree/boot/kernel/pfsync.ko"

# One ISO per role: only loader.conf differs.
for role in sender-stock sender-ours receiver-stock receiver-ours; do
    rm -rf "${work:?}/$role"
    cp -a "$work/tree" "$work/$role"
    printf 'pfsync_interop.role="%s"\npfsync_interop.states="%s"\npfsync_interop.pace_us="%s"\n' \
        "$role" "$n" "${PFSYNC_INTEROP_PACE_US:-0}" >>"$work/$role/boot/loader.conf"
    xorriso -as mkisofs -R -b boot/cdboot -no-emul-boot -V PFSYNCRS \
        -o "$work/$role.iso" "$work/$role" >"$work/xorriso-$role.log" 2>&1
    rm -rf "${work:?}/$role"
done

port=$((20000 + $$ % 20000))
boot() { # iso log netdev mac
    qemu-system-x86_64 -accel "${PFSYNC_VM_ACCEL:-tcg}" -m 1024 -smp 1 -nographic -no-reboot \
        -drive file="$1",media=cdrom,if=none,id=cd0,format=raw \
        -device ahci,id=ahci -device ide-cd,drive=cd0,bus=ahci.0,bootindex=0 \
        -netdev "socket,id=n0,$3" -device virtio-net-pci,netdev=n0,mac="$4" \
        </dev/null >"$2" 2>&1 &
    echo $!
}
wait_for() { # log pattern seconds
    i=0
    while [ $i -lt "$3" ]; do
        if tr -d '\r' <"$1" | grep -q "$2"; then return 0; fi
        if tr -d '\r' <"$1" | grep -q "panic: "; then return 1; fi
        sleep 1
        i=$((i + 1))
    done
    return 1
}

failed=0
for pair in ${PFSYNC_INTEROP_PAIRS:-stock:ours ours:stock stock:stock ours:ours}; do
    s=${pair%%:*} r=${pair##*:}
    name="$s->$r"
    slog=$work/sender-$s-$r.log rlog=$work/receiver-$s-$r.log
    port=$((port + 1))
    spid=$(boot "$work/sender-$s.iso" "$slog" "listen=127.0.0.1:$port" 52:54:00:00:00:01)
    if ! wait_for "$slog" "^INTEROP-READY" "$limit"; then
        kill "$spid" 2>/dev/null || true
        echo "INTEROP $name FAIL: the sender was not ready"
        tr -d '\r' <"$slog" | tail -30
        failed=$((failed + 1))
        continue
    fi
    ready=$(tr -d '\r' <"$slog" | grep "^INTEROP-READY" | head -1)
    rpid=$(boot "$work/receiver-$r.iso" "$rlog" "connect=127.0.0.1:$port" 52:54:00:00:00:02)
    wait_for "$rlog" "^INTEROP-DONE" "$limit" || true
    kill "$spid" "$rpid" 2>/dev/null || true
    wait "$spid" "$rpid" 2>/dev/null || true
    result=$(tr -d '\r' <"$rlog" | grep "^INTEROP-RESULT" | head -1)
    echo "INTEROP $name ${result#INTEROP-RESULT } (sender: ${ready#INTEROP-READY })"
    tr -d '\r' <"$rlog" | sed -n '/^INTEROP-RESULT/,/^INTEROP-DONE/p' | grep '^  ' || true
    for log in "$slog" "$rlog"; do
        if tr -d '\r' <"$log" | grep -q "panic: "; then
            echo "KERNEL PANIC in $(basename "$log"):"
            tr -d '\r' <"$log" | sed -n '/panic: /,$p' | head -40
            failed=$((failed + 1))
        fi
    done
    case $result in *PASS*) ;; *) failed=$((failed + 1)) ;; esac
done
[ "$failed" = 0 ]
