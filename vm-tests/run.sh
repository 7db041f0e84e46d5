#!/bin/sh
# Boot an official FreeBSD VM image, swap in our pfsync.ko, run FreeBSD's
# pfsync regression tests and the two-firewall failover test, print a summary.
#
#   vm-tests/run.sh [--dry-run] [--host qemu|bhyve] [--release 14.3|15.0]
#   vm-tests/run.sh --local     the offline FreeBSD 15.1 guest (vm-tests/local.sh)
#
# --host qemu   Linux (or any) host with qemu-system-x86_64; KVM when
#               /dev/kvm is usable, plain emulation otherwise (slow).
# --host bhyve  FreeBSD host, run as root (vmm.ko, nmdm.ko, a tap device).
# Needs internet access to download.freebsd.org and a built module
# (build/freebsdNN/pfsync.ko from `make`). --dry-run prints every step and
# executes none of them.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --local ]; then
	shift
	exec sh "$top/vm-tests/local.sh" "$@"
fi
DRY=0
HOST=qemu
RELEASE=15.0
while [ $# -gt 0 ]; do
	case $1 in
	--dry-run) DRY=1 ;;
	--host) HOST=$2; shift ;;
	--release) RELEASE=$2; shift ;;
	*) echo "usage: $0 [--dry-run] [--host qemu|bhyve] [--release X.Y]" >&2; exit 2 ;;
	esac
	shift
done
major=${RELEASE%%.*}
case $major in 14|15) ;; *) echo "release must be 14.x or 15.x" >&2; exit 2 ;; esac
case $HOST in qemu|bhyve) ;; *) echo "host must be qemu or bhyve" >&2; exit 2 ;; esac

WORK=${VMTEST_WORK:-$top/build/vm-tests/$RELEASE}
BASE=${FREEBSD_IMAGE_BASE:-https://download.freebsd.org/releases/VM-IMAGES/$RELEASE-RELEASE/amd64/Latest}
IMAGE=${VMTEST_IMAGE:-FreeBSD-$RELEASE-RELEASE-amd64-ufs.raw}
KO=$top/build/freebsd$major/pfsync.ko

step() {
	echo "== $*"
}

run() {
	if [ "$DRY" = 1 ]; then
		echo "+ $*"
	else
		"$@"
	fi
}

step "work directory $WORK"
run mkdir -p "$WORK"

step "fetch $IMAGE.xz and verify its SHA256"
if [ "$DRY" = 1 ] || [ ! -f "$WORK/$IMAGE.xz" ]; then
	run curl -fL --retry 3 -o "$WORK/$IMAGE.xz" "$BASE/$IMAGE.xz"
fi
run curl -fL --retry 3 -o "$WORK/CHECKSUM.SHA256" "$BASE/CHECKSUM.SHA256"
if [ "$DRY" = 1 ]; then
	echo "+ compare sha256($IMAGE.xz) with CHECKSUM.SHA256"
else
	want=$(sed -n "s/^SHA256 ($IMAGE.xz) = //p" "$WORK/CHECKSUM.SHA256")
	have=$(sha256sum "$WORK/$IMAGE.xz" 2>/dev/null | cut -d' ' -f1 ||
	    sha256 -q "$WORK/$IMAGE.xz")
	if [ -z "$want" ] || [ "$want" != "$have" ]; then
		echo "checksum mismatch for $IMAGE.xz" >&2
		exit 1
	fi
fi

step "fresh disk from the image (+2 GiB; the guest grows its file system)"
run sh -c "xz -dc '$WORK/$IMAGE.xz' > '$WORK/disk.raw'"
run truncate -s +2G "$WORK/disk.raw"

step "payload disk: test scripts and pfsync-$major.ko as one raw tar"
if [ "$DRY" = 0 ] && [ ! -f "$KO" ]; then
	echo "$KO missing: run make first" >&2
	exit 1
fi
run rm -rf "$WORK/payload"
run mkdir -p "$WORK/payload"
run cp -R "$top/vm-tests/guest" "$WORK/payload/guest"
run cp "$KO" "$WORK/payload/pfsync-$major.ko"
run tar -cf "$WORK/payload.tar" -C "$WORK/payload" .
# Whole 512-byte sectors, so the guest sees a disk of the tar's size.
run truncate -s %512 "$WORK/payload.tar"

case $HOST in
qemu)
	accel="-accel tcg"
	if [ -w /dev/kvm ]; then
		accel="-enable-kvm -cpu host"
	fi
	step "boot with QEMU ($accel) and drive the serial console"
	# shellcheck disable=SC2086 # $accel is two words on purpose
	run python3 "$top/vm-tests/console.py" --log "$WORK/console.log" --spawn -- \
		qemu-system-x86_64 $accel -m 2048 -smp 2 -display none \
		-drive "file=$WORK/disk.raw,format=raw,if=virtio" \
		-drive "file=$WORK/payload.tar,format=raw,if=virtio" \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
		-serial stdio -monitor none
	;;
bhyve)
	vm=pfsyncrs$major
	step "boot with bhyve ($vm) and drive the serial console on nmdm"
	run kldload -n vmm nmdm
	run bhyvectl --destroy --vm="$vm" 2>/dev/null || true
	run bhyveload -c /dev/nmdm"$major"A -m 2G -d "$WORK/disk.raw" "$vm"
	if [ "$DRY" = 1 ]; then
		echo "+ bhyve ... $vm &"
	else
		bhyve -c 2 -m 2G -H -P -s 0,hostbridge -s 31,lpc \
			-s 2,virtio-blk,"$WORK/disk.raw" \
			-s 3,virtio-blk,"$WORK/payload.tar" \
			-s 4,virtio-net,tap"$major" \
			-l com1,/dev/nmdm"$major"A "$vm" &
	fi
	status=0
	run python3 "$top/vm-tests/console.py" --log "$WORK/console.log" \
		--device /dev/nmdm"$major"B || status=$?
	run bhyvectl --destroy --vm="$vm" || true
	exit "$status"
	;;
esac
