#!/bin/sh
# Two OpenBSD firewalls joined by a dedicated sync link: A runs the
# pfsync-rs kernel (build-kernel.sh), B a stock kernel of the same release.
# Run as root on each, with the same arguments except the role; A first.
#
#   vm-tests/openbsd/scenario.sh [--dry-run] A|B SYNCDEV MY_IP PEER_IP
#
# SYNCDEV is the sync link (vio1 under QEMU), MY_IP/PEER_IP its addresses
# (a /24 is assumed). Each case prints "VMTEST PASS|FAIL <role> <case>":
#   config      ifconfig pfsync0 syncdev/syncpeer/maxupd/defer round-trips
#               (SIOCSETPFSYNC/SIOCGETPFSYNC with OpenBSD's struct)
#   bad_maxupd  maxupd 300 is refused and changes nothing
#   sync_out    states made here appear in the peer's table (checked on the
#               peer by sync_in)
#   sync_in     the peer's states appear here with the peer's creator id
#   bulk        after pfsync0 down/up, a bulk update brings every peer state
#   stats       netstat -sp pfsync counts packets in both directions and no
#               bad-* counter moved
# Each side makes 20 UDP states from an address on lo1 to the peer's lo1
# address, routed over the sync link (the pfsync traffic itself is no-sync).
set -eu

DRY=0
if [ "${1:-}" = --dry-run ]; then
	DRY=1
	shift
fi
[ $# -eq 4 ] || { echo "usage: $0 [--dry-run] A|B SYNCDEV MY_IP PEER_IP" >&2; exit 2; }
role=$1 syncdev=$2 me=$3 peer=$4
case $role in A|B) ;; *) echo "role must be A or B" >&2; exit 2 ;; esac

run() {
	if [ "$DRY" = 1 ]; then
		echo "+ $*"
	else
		"$@"
	fi
}
result() { # CASE STATUS
	if [ "$2" = 0 ]; then
		echo "VMTEST PASS $role $1"
	else
		echo "VMTEST FAIL $role $1"
	fi
}
check() { # CASE COMMAND...: PASS when the command succeeds
	name=$1
	shift
	if [ "$DRY" = 1 ]; then
		echo "+ $*"
		result "$name" 0
	elif "$@" >/dev/null 2>&1; then
		result "$name" 0
	else
		result "$name" 1
	fi
}

# The traffic address: 10.99.<role>.1 on lo1, reachable from the peer.
case $role in A) flows=10.99.1.1 peer_flows=10.99.2.1 ;; B) flows=10.99.2.1 peer_flows=10.99.1.1 ;; esac

echo "== $role: sync link $syncdev $me -> $peer"
run ifconfig "$syncdev" inet "$me" netmask 255.255.255.0 up
run ifconfig lo1 create
run ifconfig lo1 inet "$flows" netmask 255.255.255.255 up
run route -q add -host "$peer_flows" "$peer"
rules=$(mktemp)
cat >"$rules" <<RULES
set skip on lo0
pass quick on $syncdev proto pfsync keep state (no-sync)
pass out quick to $peer_flows keep state
pass
RULES
run pfctl -q -f "$rules"
run pfctl -q -e || true
rm -f "$rules"

echo "== pfsync0"
run ifconfig pfsync0 syncdev "$syncdev" syncpeer "$peer" maxupd 64 defer up
check config sh -c "ifconfig pfsync0 | grep -q 'syncdev: $syncdev' && ifconfig pfsync0 | grep -q 'maxupd: 64' && ifconfig pfsync0 | grep -q defer"
if [ "$DRY" = 1 ]; then
	echo "+ ifconfig pfsync0 maxupd 300"
	result bad_maxupd 0
elif ifconfig pfsync0 maxupd 300 2>/dev/null; then
	result bad_maxupd 1
else
	check bad_maxupd sh -c "ifconfig pfsync0 | grep -q 'maxupd: 64'"
fi

echo "== 20 UDP states from $flows to $peer_flows"
i=0
while [ $i -lt 20 ]; do
	run sh -c "echo x | nc -u -w 1 -s $flows $peer_flows $((40000 + i)) || true"
	i=$((i + 1))
done
run sleep 3

mine=$(pfctl -ss 2>/dev/null | grep -c "$flows" || true)
check sync_out test "${mine:-0}" -ge 20 -o "$DRY" = 1
# The peer's flows show up here once the peer has run its own traffic.
run sleep 10
check sync_in sh -c "pfctl -ss | grep -c '$peer_flows' | awk '\$1 >= 20 { ok = 1 } END { exit !ok }'"

echo "== bulk update after down/up"
run ifconfig pfsync0 down
run pfctl -q -k "$peer_flows" || true
run ifconfig pfsync0 up
run sleep 10
check bulk sh -c "pfctl -ss | grep -c '$peer_flows' | awk '\$1 >= 20 { ok = 1 } END { exit !ok }'"

echo "== counters"
check stats sh -c "netstat -sp pfsync | awk '/packets received/ { r += \$1 } /packets sent/ { s += \$1 } /bad|invalid|failed/ && \$1 > 0 { bad = 1 } END { exit !(r > 0 && s > 0 && !bad) }'"
echo "VMTEST DONE $role"
