#!/bin/sh
# The Wireshark Lua dissector (tools/wireshark/pfsync.lua) against fixtures
# built by the core codec (pfsyncdump --synth): tshark must decode the values
# the fixtures were built with, flag every malformed frame with the right
# expert info, and agree frame by frame with pfsyncdump's own decoding.
set -eu

if ! command -v tshark >/dev/null 2>&1; then
    echo "35-wireshark: tshark not installed: as root, scripts/install-deps.sh test installs it (make test runs it)"
    exit 1
fi

cargo build -q -p pfsyncdump
bin=target/debug/pfsyncdump
lua=tools/wireshark/pfsync.lua
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A private configuration directory: no user preferences or plugins leak in.
# Debian's init.lua runs -X scripts as root (run_user_scripts_when_superuser).
HOME=$work
XDG_CONFIG_HOME=$work
export HOME XDG_CONFIG_HOME

ts() {
    tshark -n -X "lua_script:$lua" "$@" 2>"$work/tshark.err" || {
        cat "$work/tshark.err" >&2
        return 1
    }
    if grep -qi "lua.*error\|error.*lua" "$work/tshark.err"; then
        cat "$work/tshark.err" >&2
        return 1
    fi
}

# Fail clearly if tshark did not load the script (Lua disabled, or refused
# for root by a different init.lua).
if ! tshark -G protocols -X "lua_script:$lua" 2>"$work/load.err" | grep -q "	pfsync$"; then
    cat "$work/load.err" >&2
    echo "35-wireshark: tshark did not load $lua"
    exit 1
fi

fail=0
check() { # description, expected, actual
    if [ "$2" = "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1: expected [$2], got [$3]"
        fail=1
    fi
}

synth() { # kind, file, extra options...
    kind=$1
    out=$2
    shift 2
    "$bin" --synth "$kind" -q --no-summary -w "$out" "$@"
}

synth all "$work/all-raw.pcap" --write-link raw
synth all "$work/all-eth6.pcap" --write-link ethernet --synth-ipv6
synth all "$work/all-vlan.pcapng" --write-link vlan --pcapng
synth all "$work/all-sll.pcap" --write-link sll
synth all "$work/all-sll2.pcap" --write-link sll2
synth valid "$work/valid-121.pcap" --write-link pfsync-freebsd
synth valid "$work/cut.pcap" --write-link raw --snaplen 200

# 1. Every link type carries the same frames: the per-frame summary lines agree.
ts -r "$work/all-raw.pcap" -T fields -e frame.number -e _ws.col.Info >"$work/raw.info"
for f in all-eth6.pcap all-vlan.pcapng all-sll.pcap all-sll2.pcap; do
    ts -r "$work/$f" -T fields -e frame.number -e _ws.col.Info >"$work/$f.info"
    check "$f decodes like the raw IPv4 capture" "" "$(diff "$work/raw.info" "$work/$f.info" | head -3)"
done
frames=$(grep -c "pfsync" "$work/raw.info")
check "pfsync frames in the all fixture" 28 "$frames"
check "FreeBSD DLT_PFSYNC 121 (HHDLC encapsulation) is dissected" 17 \
    "$(ts -r "$work/valid-121.pcap" -T fields -e pfsync.version | grep -c .)"

# 2. Specific decoded values.
field() { # file, frame number, field
    ts -r "$1" -Y "frame.number == $2" -T fields -E aggregator=, -e "$3"
}
raw=$work/all-raw.pcap
check "frame 1 action" "1" "$(field "$raw" 1 pfsync.action | cut -d, -f1)"
check "frame 1 message version" "1301" "$(field "$raw" 1 pfsync.msg_version)"
check "frame 2 message versions" "1400,1400" "$(field "$raw" 2 pfsync.msg_version)"
check "frame 3 action names" "INS_1500,EOF" "$(field "$raw" 3 pfsync.action_name)"
check "frame 3 tagnames" "web-in,web-in" "$(field "$raw" 3 pfsync.tagname)"
check "frame 3 IPv6 state address" "2001:db8::10,2001:db8:1::20,2001:db8::10,2001:db8:1::20" \
    "$(field "$raw" 3 pfsync.key.addr6)"
check "frame 3 IPv4 state address" "192.0.2.10,198.51.100.20,192.0.2.10,198.51.100.20" \
    "$(field "$raw" 3 pfsync.key.addr4)"
check "frame 3 ids" "0x0123456789abcd04,0x0123456789abcd05" "$(field "$raw" 3 pfsync.id)"
check "frame 3 creatorids" "0x0a0b0c0d,0x0a0b0c0d" "$(field "$raw" 3 pfsync.creatorid)"
check "frame 3 pfcksum" "00112233445566778899aabbccddeeff" "$(field "$raw" 3 pfsync.pfcksum)"
check "frame 3 timeouts" "2,8" "$(field "$raw" 3 pfsync.timeout)"
check "frame 7 UPD_C count" "2" "$(field "$raw" 7 pfsync.count | cut -d, -f1)"
check "frame 8 DEL_C ids" "0x0123456789abcd0b,0x0123456789abcd0c,0x0123456789abcd0d" \
    "$(field "$raw" 8 pfsync.id)"
check "frame 11 bulk request" "1" "$(field "$raw" 11 pfsync.upd_req.bulk)"
check "frame 12/13 BUS status" "1 2" \
    "$(field "$raw" 12 pfsync.bus.status) $(field "$raw" 13 pfsync.bus.status)"
check "frame 13 BUS endtime" "5" "$(field "$raw" 13 pfsync.bus.endtime)"
check "frame 15 TDB spi / destination" "0x00001001 198.51.100.7" \
    "$(field "$raw" 15 pfsync.tdb.spi) $(field "$raw" 15 pfsync.tdb.addr4)"
check "frame 17 OpenBSD version" "6" "$(field "$raw" 17 pfsync.version)"
check "frame 17 OpenBSD actions" "INS,UPD_C,DEL_C,TDB,ACTION_20" "$(field "$raw" 17 pfsync.action_name)"
check "frame 17 OpenBSD record lengths (words)" "66,21,3,13,2" "$(field "$raw" 17 pfsync.subheader.len)"
check "frame 17 OpenBSD INS family (AF_INET6 24)" "24" "$(field "$raw" 17 pfsync.af)"
check "IPv6 transport" "ff12::f0" "$(field "$work/all-eth6.pcap" 1 ipv6.dst)"

# 3. Expert info on the malformed fixtures (frame numbers from synth.rs order).
experts() {
    ts -r "$raw" -Y "$1" -T fields -e frame.number | tr '\n' ' ' | sed 's/ $//'
}
check "hdrops frames" "18" "$(experts pfsync.hdrops)"
check "badver frames" "19" "$(experts pfsync.badver)"
check "badlen frames" "20 23 27" "$(experts pfsync.badlen)"
check "badact frames" "21 22" "$(experts pfsync.badact)"
check "badval frames" "24 25 26" "$(experts pfsync.badval)"
check "badttl frames" "28" "$(experts pfsync.badttl)"
check "snap-length cut frames are truncated, not badlen" "1 2 3 4 5 6 7 17 0" \
    "$(ts -r "$work/cut.pcap" -Y pfsync.truncated -T fields -e frame.number | tr '\n' ' ')$(ts -r "$work/cut.pcap" -Y pfsync.badlen | grep -c .)"

# 4. Frame by frame and field by field, the dissector and the Rust codec
#    (pfsyncdump --json) must agree: values, sections and error kinds.
for f in all-raw.pcap all-eth6.pcap cut.pcap; do
    if python3 tools/wireshark/compare-with-pfsyncdump.py "$lua" "$work/$f" "$bin"; then
        echo "ok   $f: dissector and codec agree"
    else
        echo "FAIL $f: dissector and codec disagree"
        fail=1
    fi
done

# 5. Differential fuzzing: damaged frames (bytes overwritten, header version
#    and length mostly kept) must draw the same verdicts from both, for each
#    header version separately so the OpenBSD frame gets its own share.
for v in 5 6; do
    python3 tools/wireshark/mutate-pcap.py "$work/all-raw.pcap" "$work/mutated-v$v.pcap" 3000 240 "$v"
    if python3 tools/wireshark/compare-with-pfsyncdump.py "$lua" "$work/mutated-v$v.pcap" "$bin"; then
        echo "ok   mutated version-$v frames: dissector and codec agree"
    else
        echo "FAIL mutated version-$v frames: dissector and codec disagree"
        fail=1
    fi
done

exit $fail
