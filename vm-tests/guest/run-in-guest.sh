#!/bin/sh
# Runs inside a FreeBSD 14.x/15.x guest booted from an official VM image.
# Expects the payload (this directory's parent, plus the module built for the
# guest's release as pfsync-<major>.ko) in $PAYLOAD (default /root/pfsync-rs).
#
# 1. replaces the stock /boot/kernel/pfsync.ko with ours (stock kept as
#    pfsync.ko.stock) and loads it;
# 2. runs FreeBSD's own pfsync regression tests with kyua
#    (/usr/tests/sys/netpfil/pf, test program "pfsync");
# 3. runs the two-firewall failover test (failover.sh).
# Each step prints "VMTEST PASS <name>" or "VMTEST FAIL <name>: why"; the
# host collects those lines. Usage: run-in-guest.sh [--dry-run]
set -eu

DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
PAYLOAD=${PAYLOAD:-/root/pfsync-rs}

run() {
	if [ "$DRY" = 1 ]; then
		echo "+ $*"
	else
		"$@"
	fi
}

if [ "$DRY" = 1 ]; then
	major=15
else
	major=$(uname -r | cut -d. -f1)
fi
ko=$PAYLOAD/pfsync-$major.ko

echo "== install pfsync-rs for FreeBSD $major"
if [ "$DRY" = 0 ] && [ ! -f "$ko" ]; then
	echo "VMTEST FAIL install: $ko missing from the payload"
	exit 1
fi
run kldunload pfsync 2>/dev/null || true
if [ "$DRY" = 1 ] || [ ! -f /boot/kernel/pfsync.ko.stock ]; then
	run cp /boot/kernel/pfsync.ko /boot/kernel/pfsync.ko.stock
fi
run install -m 555 "$ko" /boot/kernel/pfsync.ko
run kldload pf
if run kldload pfsync; then
	echo "VMTEST PASS install"
else
	echo "VMTEST FAIL install: kldload pfsync failed"
	exit 1
fi
if [ "$DRY" = 0 ]; then
	ifconfig pfsync0 >/dev/null || { echo "VMTEST FAIL install: no pfsync0"; exit 1; }
	netstat -s -p pfsync >/dev/null || { echo "VMTEST FAIL install: netstat cannot read stats"; exit 1; }
fi

echo "== FreeBSD's pfsync regression tests"
# Some cases need scapy (pfsync_defer.py); without it kyua marks them skipped.
run pkg install -y python3 py311-scapy >/dev/null 2>&1 || true
run kldload -n carp if_epair if_bridge
if [ "$DRY" = 1 ]; then
	echo "+ cd /usr/tests/sys/netpfil/pf && kyua test pfsync"
	echo "VMTEST PASS kyua-pfsync"
else
	cd /usr/tests/sys/netpfil/pf
	kyua test pfsync > /tmp/kyua.out 2>&1 || true
	kyua report --verbose > /tmp/kyua.report 2>&1 || true
	cat /tmp/kyua.out
	# The summary line reads "Test cases: N total, ... 0 broken, 0 failed".
	summary=$(grep 'Test cases:' /tmp/kyua.report || true)
	echo "kyua: $summary"
	case $summary in
	"") echo "VMTEST FAIL kyua-pfsync: no results" ;;
	*" 0 broken, 0 failed"*) echo "VMTEST PASS kyua-pfsync" ;;
	*) echo "VMTEST FAIL kyua-pfsync: $summary" ;;
	esac
	cd /
fi

echo "== two-firewall failover"
if [ "$DRY" = 1 ]; then
	sh "$(dirname "$0")/failover.sh" --dry-run
else
	sh "$PAYLOAD/guest/failover.sh" || true
fi
echo "VMTEST DONE"
