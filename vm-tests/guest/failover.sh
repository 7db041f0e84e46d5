#!/bin/sh
# Two-firewall failover inside one FreeBSD guest, with VNET jails.
#
#              lan bridge                         wan bridge
#   client ---------------+--- fw1 (master) ---+--------------- server
#   192.0.2.10            |    lan0 .2 wan0 .2 |               198.51.100.10
#                         |       sync0 10.0.0.1
#                         |         | pfsync   |
#                         |       sync0 10.0.0.2
#                         +--- fw2 (backup) ---+
#                              lan0 .3 wan0 .3
#   CARP: 192.0.2.1 (vhid 1) and 198.51.100.1 (vhid 2), fw1 preferred.
#
# A TCP stream from client to server runs through the master. The master
# jail is then removed (its interfaces vanish, as if the box died). The test
# passes if the backup takes over the CARP addresses and the same TCP
# connection keeps delivering data, which requires the state pfsync copied.
#
# Usage: failover.sh [--dry-run]   Prints "VMTEST PASS failover" or
# "VMTEST FAIL failover: reason" as its last line.
set -eu

DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1

run() {
	if [ "$DRY" = 1 ]; then
		echo "+ $*"
	else
		"$@"
	fi
}

jexec_() {
	j=$1
	shift
	run jexec "$j" "$@"
}

fail() {
	echo "VMTEST FAIL failover: $*"
	exit 1
}

cleanup() {
	for j in client server fw1 fw2; do
		run jail -r "$j" >/dev/null 2>&1 || true
	done
	for b in lanbr wanbr; do
		run ifconfig "$b" destroy >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

for m in pf pfsync carp if_epair if_bridge; do
	run kldload -n "$m"
done

# One epair per attachment; the a side goes into a jail, the b side into a
# bridge (or, for the sync link, into the other firewall).
new_epair() {
	if [ "$DRY" = 1 ]; then
		echo "epairN"
	else
		ifconfig epair create | sed 's/a$//'
	fi
}

run ifconfig bridge create name lanbr up >/dev/null
run ifconfig bridge create name wanbr up >/dev/null

for j in client server fw1 fw2; do
	run jail -c name="$j" vnet persist
done

attach() { # jail ifname bridge
	e=$(new_epair)
	run ifconfig "${e}a" vnet "$1"
	jexec_ "$1" ifconfig "${e}a" name "$2"
	run ifconfig "$3" addm "${e}b"
	run ifconfig "${e}b" up
}

attach client lan0 lanbr
attach fw1 lan0 lanbr
attach fw2 lan0 lanbr
attach server wan0 wanbr
attach fw1 wan0 wanbr
attach fw2 wan0 wanbr
sync=$(new_epair)
run ifconfig "${sync}a" vnet fw1
run ifconfig "${sync}b" vnet fw2
jexec_ fw1 ifconfig "${sync}a" name sync0
jexec_ fw2 ifconfig "${sync}b" name sync0

jexec_ client ifconfig lan0 192.0.2.10/24 up
jexec_ client route add default 192.0.2.1
jexec_ server ifconfig wan0 198.51.100.10/24 up
jexec_ server route add default 198.51.100.1

n=1
for fw in fw1 fw2; do
	skew=$(( (n - 1) * 100 ))
	n=$((n + 1))
	last=$((n))
	jexec_ "$fw" sysctl net.inet.ip.forwarding=1 net.inet.carp.preempt=1 >/dev/null
	jexec_ "$fw" ifconfig lan0 "192.0.2.$last/24" up
	jexec_ "$fw" ifconfig wan0 "198.51.100.$last/24" up
	jexec_ "$fw" ifconfig sync0 "10.0.0.$((last - 1))/30" up
	jexec_ "$fw" ifconfig lan0 vhid 1 advskew "$skew" pass pfsyncrs alias 192.0.2.1/32
	jexec_ "$fw" ifconfig wan0 vhid 2 advskew "$skew" pass pfsyncrs alias 198.51.100.1/32
	jexec_ "$fw" ifconfig pfsync0 syncdev sync0 maxupd 64 up
	if [ "$DRY" = 1 ]; then
		echo "+ jexec $fw pfctl -e -f - <<pass all keep state>>"
	else
		printf 'set skip on { sync0 lo0 }\npass all keep state\n' |
			jexec "$fw" pfctl -q -f -
		jexec "$fw" pfctl -q -e
	fi
done

# Let CARP settle: fw1 master on both vhids.
run sleep 5
if [ "$DRY" = 0 ]; then
	jexec fw1 ifconfig lan0 | grep -q 'carp: MASTER' || fail "fw1 is not CARP master"
fi

# The stream: one line every 100 ms, counted by the server.
jexec_ server sh -c 'nc -l 5000 > /tmp/stream.log &'
run sleep 1
# shellcheck disable=SC2016 # expanded by the jail's shell
jexec_ client sh -c \
	'(i=0; while :; do i=$((i+1)); echo "$i"; sleep 0.1; done) | nc 198.51.100.10 5000 > /dev/null 2>&1 &'
run sleep 5

lines() {
	if [ "$DRY" = 1 ]; then
		echo 0
	else
		jexec server sh -c 'wc -l < /tmp/stream.log' | tr -d ' '
	fi
}
before=$(lines)
if [ "$DRY" = 0 ]; then
	[ "$before" -gt 10 ] || fail "stream did not start ($before lines)"
	jexec fw2 pfctl -ss | grep -q '198.51.100.10' || fail "fw2 has no copy of the state"
fi

# The master dies.
run jail -r fw1
run sleep 8
after=$(lines)
if [ "$DRY" = 0 ]; then
	jexec fw2 ifconfig lan0 | grep -q 'carp: MASTER' || fail "fw2 did not take over"
	[ "$after" -gt "$((before + 30))" ] ||
		fail "stream stalled after failover ($before -> $after lines)"
	jexec client pgrep -q nc || fail "client connection was reset"
fi
echo "VMTEST PASS failover"
