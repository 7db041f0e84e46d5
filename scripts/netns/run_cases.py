#!/usr/bin/env python3
"""pfsync-node integration cases over Linux network namespaces.

Each case builds its own topology in a fresh Lab (unique names, always torn
down), starts nodes, drives them through their control sockets and asserts
on their tables and pfsyncstats counters.

    run_cases.py --bin target/debug/pfsync-node [--fast-bin target/sim/pfsync-node]
                 [--only NAME] [--list]

Ends with "N passed, N failed". Needs root (namespaces, raw sockets).
"""

import argparse
import json
import os
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from paced_bulk import describe, drops, paced_bulk  # noqa: E402
from netlab import (  # noqa: E402
    Lab,
    close_all_labs,
    install_signal_cleanup,
    sync_view,
    table_diff,
    tcp_state,
    wait_until,
)

A_ID = 0x0A000001
B_ID = 0x0B000002
C_ID = 0x0C000003

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def synced(src, dst, what="tables to match"):
    """Waits until dst's table equals src's on every synchronised field."""

    def same():
        return sync_view(src.dump()) == sync_view(dst.dump())

    try:
        wait_until(same, 8, what)
    except AssertionError as e:
        raise AssertionError(f"{e}: {table_diff(sync_view(src.dump()), sync_view(dst.dump()))}") from None


def ids(node, creatorid=None):
    return {s["id"] for s in node.dump() if creatorid is None or s["creatorid"] == f"{creatorid:08x}"}


def nft_drop_proto240(lab, ns, hook, pct, table="loss"):
    """Drops pct% of IP protocol 240 at `hook` (input/output) with nftables' numgen."""
    chain = "{ type filter hook %s priority 0; }" % hook
    lab.sh(ns, "nft", "add", "table", "inet", table)
    lab.sh(ns, "nft", "add", "chain", "inet", table, "c", chain)
    sample = [] if pct >= 100 else ["numgen", "random", "mod", "100", "<", str(pct)]
    lab.sh(ns, "nft", "add", "rule", "inet", table, "c", "meta", "l4proto", "240",
           *sample, "counter", "drop")


def nft_dropped(lab, ns, table="loss"):
    out = lab.sh(ns, "nft", "list", "table", "inet", table, capture=True)
    for tok_line in out.splitlines():
        if "counter packets" in tok_line:
            parts = tok_line.split()
            return int(parts[parts.index("packets") + 1])
    return 0


# --- cases --------------------------------------------------------------


@case
def basic_insert_update_delete(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID))
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID))
    for i in range(1, 21):
        a.insert(tcp_state(i, A_ID))
    synced(a, b, "20 inserts to reach b")
    # Windows and sequence numbers move forward on a few states.
    for i in range(1, 6):
        a.update(f"{i:016x}", f"{A_ID:08x}",
                 src={"seqlo": 2000 + i, "max_win": 30000 + i},
                 dst={"seqlo": 9000 + i, "max_win": 1024 + i})
    synced(a, b, "updates to reach b")
    got = {s["id"]: s for s in b.dump()}
    assert got[f"{3:016x}"]["src"]["max_win"] == 30003, got[f"{3:016x}"]["src"]
    assert got[f"{3:016x}"]["dst"]["max_win"] == 1027
    for i in range(15, 21):
        a.delete(f"{i:016x}", f"{A_ID:08x}")
    synced(a, b, "deletes to reach b")
    assert len(b.dump()) == 14
    # The other direction works too.
    b.insert(tcp_state(100, B_ID))
    wait_until(lambda: f"{100:016x}" in ids(a, B_ID), 5, "b's insert to reach a")
    sb = b.stats()["stats"]
    assert sb["badttl"] == 0 and sb["badif"] == 0 and sb["badact"] == 0, sb
    assert sb["ipackets"] > 0 and sb["opackets"] > 0, sb


# Reads one protocol-240 datagram on sync0 with a plain raw socket and prints
# the IPv4 header fields stock pfsync sets.
IP_HEADER_PROBE = r"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 240)
idx = socket.if_nametoindex("sync0")
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.0.240") + socket.inet_aton("0.0.0.0") + struct.pack("i", idx))
s.settimeout(10)
d = s.recv(65535)
print(d[1], d[8], struct.unpack("!H", d[6:8])[0] & 0x4000 != 0, socket.inet_ntoa(d[16:20]), d[20])
"""


@case
def ip_header_and_ctl_client(lab):
    t = lab.switched(["a", "b", "probe"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID))
    probe = subprocess.Popen(["ip", "netns", "exec", t["probe"][0], "python3", "-c", IP_HEADER_PROBE],
                             stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    # The stand-alone client, as shell scripts use it.
    out = subprocess.run([lab.binary, "ctl", "--control", a.control, "--wait", "2",
                          '{"cmd":"insert","state":%s}' % json.dumps(tcp_state(1, A_ID)),
                          '{"cmd":"flush"}', '{"cmd":"stats"}'],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(lines) == 3 and all(x["ok"] for x in lines), lines
    bad = subprocess.run([lab.binary, "ctl", "--control", a.control, '{"cmd":"nonsense"}'],
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 1 and not json.loads(bad.stdout)["ok"], bad.stdout
    tos, ttl, df, dst, version = probe.communicate(timeout=15)[0].split()
    assert (tos, ttl, df, dst, version) == ("16", "255", "True", "224.0.0.240", "5"), (tos, ttl, df, dst, version)


@case
def defer_released_by_ack_or_timeout(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), defer=True, defer_delay_ms=1500)
    lab.node(t["b"][0], "b", hostid=hex(B_ID))
    time.sleep(0.3)
    a.insert(tcp_state(1, A_ID), defer=True)
    wait_until(lambda: a.counter("defer_released_ack") == 1, 3, "the INS_ACK to release the packet")
    first = a.ctl("deferred")["packets"][0]
    assert first["outcome"] == "sent" and first["held_ms"] < 1000, first
    # Lose b's acknowledgements: the packet must leave when defer_delay expires.
    nft_drop_proto240(lab, t["a"][0], "input", 100)
    a.insert(tcp_state(2, A_ID), defer=True)
    wait_until(lambda: a.counter("defer_released_timeout") == 1, 5, "defer_delay to release the packet")
    second = a.ctl("deferred")["packets"][1]
    assert second["outcome"] == "sent" and 1400 <= second["held_ms"] < 4000, second
    assert a.counter("defer_released_ack") == 1


@case
def bulk_join_of_a_late_node(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID))
    a.ctl("generate", count=2000, first_id=1, creatorid=f"{A_ID:08x}", ifname="sync0", announce=False)
    assert len(a.dump()) == 2000
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID))
    wait_until(lambda: b.counter("bulk_completed") >= 1, 15, "b's bulk update to complete")
    synced(a, b, "the bulk update to copy a's table")
    assert a.counter("bulk_requests_answered") >= 1
    node = b.stats()["node"]
    # Demoted while the bulk ran, undemoted when BUS END arrived.
    assert node["carp_demotion"] == 0, node
    assert node["demotions"] >= 1 and node["undemotions"] >= 1, node


# An optimised pfsync-node for the paced bulk cases (--fast-bin): a debug
# build cannot fill a 1 Gb/s link, so its pace would never be tested.
FAST_BIN = None


def bulk_fits_a_shaped_link(lab, mbit, states):
    """The default pace is 80% of the link speed the sender knows: a bulk
    over a tbf-shaped veth completes once, with nothing dropped anywhere."""
    if FAST_BIN:
        lab.binary = FAST_BIN
    r = paced_bulk(lab, mbit, states)
    print(f"  {describe(r)}", flush=True)
    assert r["completed"] and r["tables_equal"], r
    assert drops(r) == 0, r
    assert r["requests_sent"] == 1 and r["requests_answered"] == 1, r
    assert r["pace_bytes_per_s"] == mbit * 1_000_000 // 10, r


@case
def bulk_paced_for_a_100_mbit_link(lab):
    bulk_fits_a_shaped_link(lab, 100, 30_000)


@case
def bulk_paced_for_a_1_gbit_link(lab):
    bulk_fits_a_shaped_link(lab, 1000, 200_000)


@case
def ttl_below_255_is_badttl(lab):
    """a -- router -- b, unicast both ways over IPv4 and over IPv6: the router
    decrements TTL / hop limit to 254, so b must refuse every frame."""
    ra, ns_a = lab.netns("r"), lab.netns("a")
    ns_b = lab.netns("b")
    lab.veth(ns_a, "sync0", ra, "ra")
    lab.veth(ns_b, "sync0", ra, "rb")
    for ns, ifname, v4, v6 in ((ns_a, "sync0", "10.1.0.2/24", "fd01::2/64"),
                               (ra, "ra", "10.1.0.1/24", "fd01::1/64"),
                               (ra, "rb", "10.2.0.1/24", "fd02::1/64"),
                               (ns_b, "sync0", "10.2.0.2/24", "fd02::2/64")):
        lab.addr(ns, ifname, v4)
        lab.addr(ns, ifname, v6)
    lab.sh(ra, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    lab.sh(ra, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
    lab.route(ns_a, "10.2.0.0/24", "10.1.0.1")
    lab.route(ns_b, "10.1.0.0/24", "10.2.0.1")
    lab.route(ns_a, "fd02::/64", "fd01::1")
    lab.route(ns_b, "fd01::/64", "fd02::1")
    pairs = [
        (lab.node(ns_a, "a4", hostid=hex(A_ID), syncpeer="10.2.0.2"),
         lab.node(ns_b, "b4", hostid=hex(B_ID), syncpeer="10.1.0.2")),
        (lab.node(ns_a, "a6", hostid=hex(C_ID), syncpeer="fd02::2"),
         lab.node(ns_b, "b6", hostid=hex(B_ID + 1), syncpeer="fd01::2")),
    ]
    for a, _ in pairs:
        for i in range(1, 6):
            a.insert(tcp_state(i, int(a.ctl("config")["config"]["hostid"], 16)))
    for a, b in pairs:
        wait_until(lambda: b.counter("badttl") >= 1, 5, f"{b.name} to count badttl")
    time.sleep(1.2)
    for a, b in pairs:
        sb = b.stats()["stats"]
        assert b.dump() == [], f"a frame with TTL 254 changed {b.name}'s table"
        assert sb["ipackets"] + sb["ipackets6"] >= sb["badttl"] >= 1, sb
        assert sum(sb["iacts"].values()) == 0, sb["iacts"]
        assert a.counter("opackets") + a.counter("opackets6") >= 1


@case
def wrong_interface_is_badif(lab):
    t = lab.switched(["a", "b"])
    ns_b = t["b"][0]
    ns_c = lab.netns("c")
    lab.veth(ns_b, "side0", ns_c, "sync0")
    lab.addr(ns_b, "side0", "10.3.0.2/24")
    lab.addr(ns_c, "sync0", "10.3.0.3/24")
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID))
    b = lab.node(ns_b, "b", hostid=hex(B_ID))
    # c syncs (unicast) to b's address on side0, which is not b's syncdev.
    c = lab.node(ns_c, "c", hostid=hex(C_ID), syncpeer="10.3.0.2")
    for i in range(1, 6):
        c.insert(tcp_state(i, C_ID))
        a.insert(tcp_state(i, A_ID))
    wait_until(lambda: b.counter("badif") >= 1, 5, "b to count badif")
    synced(a, b, "a's states to reach b on its syncdev")
    assert ids(b, C_ID) == set(), "a frame from the wrong interface was imported"
    sb = b.stats()["stats"]
    assert sb["badttl"] == 0, sb


@case
def syncpeer_unicast(lab):
    t = lab.switched(["a", "b", "c"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), syncpeer=t["b"][1])
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), syncpeer=t["a"][1])
    c = lab.node(t["c"][0], "c", hostid=hex(C_ID))
    for i in range(1, 11):
        a.insert(tcp_state(i, A_ID))
    synced(a, b, "unicast inserts to reach b")
    b.insert(tcp_state(50, B_ID))
    wait_until(lambda: f"{50:016x}" in ids(a, B_ID), 5, "b's unicast insert to reach a")
    time.sleep(1.2)
    assert c.dump() == [], "a multicast listener saw unicast sync traffic"
    assert c.counter("ipackets") == 0


@case
def ipv6_transport(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), family=6)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), family=6)
    for i in range(1, 11):
        a.insert(tcp_state(i, A_ID, af=28))
    synced(a, b, "inserts over ff12::f0 to reach b")
    a.update(f"{2:016x}", f"{A_ID:08x}", src={"seqlo": 7777, "max_win": 4321})
    a.delete(f"{3:016x}", f"{A_ID:08x}")
    synced(a, b, "v6 update and delete to reach b")
    sb = b.stats()["stats"]
    assert sb["ipackets6"] > 0 and sb["badttl"] == 0, sb
    # Unicast over IPv6 as well.
    a.ctl("shutdown")
    c = lab.node(t["a"][0], "a6u", hostid=hex(C_ID), syncpeer=t["b"][2])
    c.insert(tcp_state(200, C_ID, af=28))
    wait_until(lambda: f"{200:016x}" in ids(b, C_ID), 5, "an IPv6 unicast insert to reach b")


@case
def loss_delay_reorder_then_convergence(lab):
    t = lab.switched(["a", "b"])
    ns_a, ns_b = t["a"][0], t["b"][0]
    # A 1 Gb/s sync link.
    lab.sh(ns_a, "tc", "qdisc", "add", "dev", "sync0", "root", "tbf", "rate", "1gbit",
           "burst", "256kb", "latency", "20ms")
    a = lab.node(ns_a, "a", hostid=hex(A_ID))
    b = lab.node(ns_b, "b", hostid=hex(B_ID))
    time.sleep(0.5)
    nft_drop_proto240(lab, ns_b, "input", 30)
    a.ctl("generate", count=600, first_id=1, creatorid=f"{A_ID:08x}", ifname="sync0")
    for rnd in range(3):
        for i in range(1, 601, 3):
            a.update(f"{i:016x}", f"{A_ID:08x}", src={"seqlo": 10000 * (rnd + 1) + i})
        time.sleep(1.1)
    lost = nft_dropped(lab, ns_b)
    assert lost > 0, "the loss rule dropped nothing"
    assert sync_view(a.dump()) != sync_view(b.dump()), "30% loss left no trace"
    # Loss stops; one more update per state lets b ask for what it missed.
    lab.sh(ns_b, "nft", "delete", "table", "inet", "loss")
    for i in range(1, 601):
        a.update(f"{i:016x}", f"{A_ID:08x}", dst={"seqlo": 50000 + i})
    synced(a, b, "b to converge after loss stopped")
    assert b.stats()["stats"]["oacts"]["UPD_REQ"] > 0, "b never asked for the states it missed"

    # The same through the node's own egress drop.
    a.ctl("config", fault_drop_pct=50)
    for i in range(601, 701):
        a.insert(tcp_state(i, A_ID))
    a.ctl("flush")
    a.ctl("config", fault_drop_pct=0)
    assert a.stats()["node"]["fault"]["dropped"] > 0
    assert len(b.dump()) < len(a.dump()), "50% injected drops lost no insert"
    # This time b recovers with an operator-triggered resync (a bulk update).
    answered = a.counter("bulk_requests_answered")
    b.ctl("resync")
    synced(a, b, "b to converge through a resync after the injected drops")
    assert a.counter("bulk_requests_answered") == answered + 1

    # Delay and reordering from the fault injector; merges must never go backwards.
    a.ctl("config", fault_delay_ms=15, fault_reorder_pct=40, fault_reorder_ms=40)
    for rnd in range(5):
        for i in range(1, 101):
            a.update(f"{i:016x}", f"{A_ID:08x}",
                     src={"seqlo": 100000 * (rnd + 2) + i, "max_win": 10000 + 1000 * rnd + i})
        a.ctl("flush")
        time.sleep(0.05)
    a.ctl("config", fault_delay_ms=0, fault_reorder_pct=0)
    synced(a, b, "b to converge after reordering")
    fault = a.stats()["node"]["fault"]
    assert fault["reordered"] > 0 and fault["delayed"] > 0, fault


@case
def kill9_master_mid_stream(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), maxupd=255)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID))
    for i in range(1, 51):
        a.insert(tcp_state(i, A_ID))
    for i in range(1, 51):
        a.update(f"{i:016x}", f"{A_ID:08x}", src={"seqlo": 3000 + i})
    a.ctl("flush")
    flushed = sync_view(a.dump())
    synced(a, b, "the flushed stream to reach b")
    sent_before = a.counter("opackets")
    # More updates, queued behind the 1 s flush timer, then the master dies.
    for i in range(1, 6):
        resp = a.update(f"{i:016x}", f"{A_ID:08x}", src={"seqlo": 9000 + i})
    pid = a.pid()
    sent_at_kill = a.counter("opackets")
    os.kill(pid, 9)
    a.proc.wait(timeout=5)
    assert resp["ok"]
    assert sent_at_kill == sent_before, "the unflushed updates left before the kill; the case proves nothing"
    time.sleep(1.5)
    got = sync_view(b.dump())
    assert got == flushed, table_diff(flushed, got)
    # The control socket of the killed master is stale; a new master on the same path recovers.
    a2 = lab.node(t["a"][0], "a2", hostid=hex(A_ID))
    wait_until(lambda: a2.counter("bulk_completed") >= 1, 15, "the restarted master's bulk from b")
    assert sync_view(a2.dump()) == flushed


@case
def version_1500_to_a_14x_receiver_is_badact(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), msg_version=1500)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), emulate_release=14)
    for i in range(1, 6):
        a.insert(tcp_state(i, A_ID))
    wait_until(lambda: b.counter("badact") >= 1, 5, "the 14.x receiver to refuse INS_1500")
    time.sleep(1.2)
    assert b.dump() == [], "a 14.x receiver imported 1500-format states"
    # The documented remedy: the 15.x side sends 1400.
    a.ctl("config", msg_version=1400)
    for i in range(6, 11):
        a.insert(tcp_state(i, A_ID))
    for i in range(1, 6):
        a.update(f"{i:016x}", f"{A_ID:08x}", src={"seqlo": 4242})
    synced(a, b, "1400-format states to reach the 14.x receiver")


# --- OpenBSD dialect (pfsync v6, docs/openbsd.md) --------------------------

OBSD = {"dialect": "openbsd"}


def bulks_done(*nodes):
    """Waits until each node's bulk request has been answered. The first
    request of the node started first finds no peer; OpenBSD asks again
    2 s later, and a bulk still in flight could bring back states deleted
    meanwhile, as it would between two OpenBSD hosts."""
    wait_until(lambda: all(n.counter("bulk_completed") >= 1 for n in nodes), 8,
               "the initial bulk updates")


@case
def openbsd_insert_update_delete(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), **OBSD)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), **OBSD)
    bulks_done(a, b)
    for i in range(1, 21):
        a.insert(tcp_state(i, A_ID))
    synced(a, b, "20 OpenBSD inserts to reach b")
    for i in range(1, 6):
        a.update(f"{i:016x}", f"{A_ID:08x}",
                 src={"seqlo": 2000 + i, "max_win": 30000 + i},
                 dst={"seqlo": 9000 + i, "max_win": 1024 + i})
    synced(a, b, "OpenBSD updates to reach b")
    for i in range(15, 21):
        a.delete(f"{i:016x}", f"{A_ID:08x}")
    synced(a, b, "OpenBSD deletes to reach b")
    assert len(b.dump()) == 14
    # OpenBSD's routing domains and stack-side table cross with the state.
    b.insert(tcp_state(100, B_ID, rdomain=[3, 4], rtableid=3, stack_rtableid=4))
    wait_until(lambda: f"{100:016x}" in ids(a, B_ID), 5, "b's insert to reach a")
    got = {s["id"]: s for s in a.dump()}[f"{100:016x}"]
    assert (got["rdomain"], got["rtableid"], got["stack_rtableid"]) == ([3, 4], 3, 4), got
    sa, sb = a.stats()["stats"], b.stats()["stats"]
    # Counters under OpenBSD's names; OpenBSD sends no EOF.
    assert sb["iacts"]["INS"] >= 20 and sb["iacts"]["UPD_C"] >= 5 and sb["iacts"]["DEL_C"] >= 6, sb["iacts"]
    assert sa["oacts"]["EOF"] == 0 and sb["oacts"]["EOF"] == 0, (sa["oacts"], sb["oacts"])
    for s in (sa, sb):
        assert s["badver"] == 0 and s["badact"] == 0 and s["badlen"] == 0 and s["badval"] == 0, s


@case
def openbsd_bulk_join_of_a_late_node(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), **OBSD)
    # OpenBSD paces bulk frames 20 ms apart, five 264-byte states each.
    a.ctl("generate", count=500, first_id=1, creatorid=f"{A_ID:08x}", ifname="sync0", announce=False)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), **OBSD)
    wait_until(lambda: b.counter("bulk_completed") >= 1, 15, "b's OpenBSD bulk update to complete")
    synced(a, b, "the OpenBSD bulk to copy a's table")
    assert a.counter("bulk_frames") >= 100, a.counter("bulk_frames")
    node = b.stats()["node"]
    assert node["carp_demotion"] == 0, node
    assert node["demotions"] >= 1 and node["undemotions"] >= 1, node


@case
def openbsd_defer_released_by_ack_or_timeout(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), defer=True, defer_delay_ms=1500, **OBSD)
    lab.node(t["b"][0], "b", hostid=hex(B_ID), **OBSD)
    time.sleep(0.3)
    a.insert(tcp_state(1, A_ID), defer=True)
    wait_until(lambda: a.counter("defer_released_ack") == 1, 3, "the OpenBSD INS_ACK to release the packet")
    first = a.ctl("deferred")["packets"][0]
    assert first["outcome"] == "sent" and first["held_ms"] < 1000, first
    nft_drop_proto240(lab, t["a"][0], "input", 100)
    a.insert(tcp_state(2, A_ID), defer=True)
    wait_until(lambda: a.counter("defer_released_timeout") == 1, 5, "defer_delay to release the packet")
    second = a.ctl("deferred")["packets"][1]
    assert second["outcome"] == "sent" and 1400 <= second["held_ms"] < 4000, second


@case
def openbsd_failover_after_kill9(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), **OBSD)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), **OBSD)
    bulks_done(a, b)
    for i in range(1, 31):
        a.insert(tcp_state(i, A_ID))
    a.ctl("flush")
    synced(a, b, "a's states to reach b")
    os.kill(a.pid(), 9)
    a.proc.wait(timeout=5)
    # b carries on as master: its own states and updates to a's.
    for i in range(1, 11):
        b.insert(tcp_state(i, B_ID))
    for i in range(1, 6):
        b.update(f"{i:016x}", f"{A_ID:08x}", src={"seqlo": 7000 + i})
    # a comes back and is brought up to date by b's bulk.
    a2 = lab.node(t["a"][0], "a2", hostid=hex(A_ID), **OBSD)
    wait_until(lambda: a2.counter("bulk_completed") >= 1, 15, "the restarted node's OpenBSD bulk from b")
    synced(b, a2, "b's table to reach the restarted node")
    assert len(a2.dump()) == 40


@case
def openbsd_nodes_beside_a_freebsd_node_count_badver(lab):
    t = lab.switched(["a", "b", "f"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), **OBSD)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), **OBSD)
    f = lab.node(t["f"][0], "f", hostid=hex(C_ID))
    for i in range(1, 11):
        a.insert(tcp_state(i, A_ID))
        f.insert(tcp_state(i, C_ID))
    synced(a, b, "a's states to reach the other OpenBSD node")
    wait_until(lambda: f.stats()["stats"]["badver"] >= 1, 5, "the FreeBSD node to count badver")
    wait_until(lambda: b.stats()["stats"]["badver"] >= 1, 5, "the OpenBSD node to count badver")
    time.sleep(1.2)
    assert ids(f) == {f"{i:016x}" for i in range(1, 11)} and ids(f, C_ID) == ids(f), "f imported OpenBSD states"
    assert ids(b, C_ID) == set(), "b imported FreeBSD states"
    for n in (b, f):
        s = n.stats()["stats"]
        assert s["badact"] == 0 and s["badlen"] == 0 and s["badval"] == 0 and s["badstate"] == 0, s


@case
def sigterm_flushes_and_removes_control_socket(lab):
    t = lab.switched(["a", "b"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), maxupd=255)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID))
    time.sleep(0.3)
    a.insert(tcp_state(1, A_ID))
    a.ctl("flush")
    wait_until(lambda: len(b.dump()) == 1, 5, "the insert to reach b")
    a.update(f"{1:016x}", f"{A_ID:08x}", src={"seqlo": 123456})
    rc = a.stop()
    assert rc == 0, f"exit status {rc}"
    assert not os.path.exists(a.control), "control socket left behind"
    wait_until(lambda: b.dump()[0]["src"]["seqlo"] == 123456, 3, "the update flushed at SIGTERM")


# --- authentication and anti-entropy -----------------------------------

KEY1 = "11" * 32
KEY2 = "22" * 32
KEY_OTHER = "33" * 32
TRAILER_LEN = 44


def key_file(lab, name, lines, mode=0o600):
    """Writes a key file of `ID:HEX` lines with `mode`; returns its path."""
    path = os.path.join(lab.tmp, f"{name}.keys")
    with open(path, "w") as f:
        f.write("".join(f"{kid}:{hexkey}\n" for kid, hexkey in lines))
    os.chmod(path, mode)
    return path


def counters(node):
    return node.stats()["stats"]


def keyed_log_is_clean(node, *keys):
    text = node.log() + json.dumps(node.ctl("log")) + json.dumps(node.stats())
    for k in keys:
        assert k not in text and k.upper() not in text, f"{node.name} printed key bytes"


@case
def auth_same_key_syncs_and_bad_key_files_are_refused(lab):
    t = lab.switched(["a", "b"])
    # A world-readable or malformed key file stops the node before it starts.
    for name, lines, mode, why in (("open", [(1, KEY1)], 0o644, "chmod 600"),
                                   ("short", [(1, KEY1[:60])], 0o600, "line 1"),
                                   ("three", [(1, KEY1), (2, KEY2), (3, KEY_OTHER)], 0o600, "at most 2")):
        path = key_file(lab, name, lines, mode)
        res = subprocess.run(["ip", "netns", "exec", t["a"][0], lab.binary, "run", "--syncdev", "sync0",
                              "--control", os.path.join(lab.tmp, f"{name}.sock"), "--auth-key-file", path],
                             capture_output=True, text=True, timeout=10)
        assert res.returncode == 1 and why in res.stderr, (name, res.returncode, res.stderr)
        assert KEY1 not in res.stderr and KEY1[:60] not in res.stderr, res.stderr
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), auth_key_file=key_file(lab, "a", [(1, KEY1)]))
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), auth_key_file=key_file(lab, "b", [(1, KEY1)]))
    for i in range(1, 21):
        a.insert(tcp_state(i, A_ID))
    synced(a, b, "signed inserts to reach b")
    for i in range(1, 6):
        a.update(f"{i:016x}", f"{A_ID:08x}", src={"seqlo": 2000 + i, "max_win": 30000 + i})
    synced(a, b, "signed updates to reach b")
    for i in range(15, 21):
        a.delete(f"{i:016x}", f"{A_ID:08x}")
    synced(a, b, "signed deletes to reach b")
    assert len(b.dump()) == 14
    b.insert(tcp_state(100, B_ID))
    wait_until(lambda: f"{100:016x}" in ids(a, B_ID), 5, "b's signed insert to reach a")
    for n in (a, b):
        st, auth = counters(n), n.stats()["auth"]
        assert st["badauth"] == 0 and st["badlen"] == 0, st
        assert auth["enabled"] and auth["send_id"] == 1 and auth["signed"] >= 1, auth
        assert auth["signed"] == st["opackets"], (auth, st["opackets"])
        keyed_log_is_clean(n, KEY1)
    print(f"  auth same key: a signed {a.stats()['auth']['signed']} frames, b imported 20/updated 5/deleted 6, "
          f"badauth a={a.counter('badauth')} b={b.counter('badauth')}")


@case
def auth_refuses_keyless_and_wrong_key_frames(lab):
    t = lab.switched(["a", "c", "d"])
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), auth_key_file=key_file(lab, "a", [(1, KEY1)]))
    c = lab.node(t["c"][0], "c", hostid=hex(C_ID))
    d = lab.node(t["d"][0], "d", hostid=hex(B_ID), auth_key_file=key_file(lab, "d", [(1, KEY_OTHER)]))
    for i in range(1, 11):
        c.insert(tcp_state(i, C_ID))
        d.insert(tcp_state(i, B_ID))
    c.ctl("update", id=f"{1:016x}", creatorid=f"{C_ID:08x}", state={"src": {"seqlo": 4444}})
    c.delete(f"{2:016x}", f"{C_ID:08x}")
    c.ctl("flush")
    d.ctl("flush")

    def all_refused():
        st = counters(a)
        sent = c.counter("opackets") + d.counter("opackets")
        return st["ipackets"] >= sent and st["badauth"] == st["ipackets"]

    wait_until(all_refused, 5, "a to refuse every frame of c and d")
    time.sleep(1.2)
    st = counters(a)
    sent = c.counter("opackets") + d.counter("opackets")
    assert a.dump() == [], "a keyed node imported an unsigned or wrongly signed state"
    assert st["badauth"] == st["ipackets"] == sent, (st["badauth"], st["ipackets"], sent)
    assert sum(st["iacts"].values()) == 0, st["iacts"]
    # d refuses a's and c's frames just the same.
    assert ids(d, C_ID) == set() and ids(d, A_ID) == set()
    sd = counters(d)
    assert sd["badauth"] == sd["ipackets"] > 0 and sum(sd["iacts"].values()) == 0, sd
    reasons = " ".join(a.ctl("log")["lines"])
    assert "FrameRejected" in reasons, reasons
    print(f"  keyless c sent {c.counter('opackets')}, wrong-key d sent {d.counter('opackets')}: "
          f"a refused {st['badauth']} of {st['ipackets']}, imported 0")


@case
def auth_keyless_node_imports_signed_frames_as_stock(lab):
    t = lab.switched(["a", "c"])
    # c first, so that it hears every frame a signs.
    c = lab.node(t["c"][0], "c", hostid=hex(C_ID))
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), auth_key_file=key_file(lab, "a", [(1, KEY1)]))
    for i in range(1, 11):
        a.insert(tcp_state(i, A_ID))
    a.update(f"{3:016x}", f"{A_ID:08x}", src={"seqlo": 7000}, dst={"max_win": 9000})
    a.delete(f"{4:016x}", f"{A_ID:08x}")
    synced(a, c, "signed frames to be imported by the keyless node")
    st = counters(c)
    for k in ("badauth", "badlen", "badact", "badver", "hdrops", "badval"):
        assert st[k] == 0, (k, st)
    assert st["ipackets"] == a.stats()["auth"]["signed"], (st["ipackets"], a.stats()["auth"])
    print(f"  keyless c imported a's {st['ipackets']} signed frames: badlen 0, badauth 0")


# Captures protocol-240 datagrams on sync0 for argv[1] seconds and prints
# each IP payload in hex, one per line.
CAPTURE = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 240)
idx = socket.if_nametoindex("sync0")
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.0.240") + socket.inet_aton("0.0.0.0") + struct.pack("i", idx))
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        d = s.recv(65535)
    except socket.timeout:
        break
    print(d[(d[0] & 15) * 4:].hex(), flush=True)
"""

# Sends each hex payload from stdin to 224.0.0.240 out of the interface
# holding address argv[1], TTL 255, as a fresh IP datagram of protocol 240.
INJECT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 240)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
n = 0
for line in sys.stdin:
    if line.strip():
        s.sendto(bytes.fromhex(line.strip()), ("224.0.0.240", 0))
        n += 1
print(n)
"""


def start_capture(probe, seconds):
    """Starts CAPTURE in the probe's namespace; returns once it listens."""
    cap = subprocess.Popen(["ip", "netns", "exec", probe[0], "python3", "-c", CAPTURE, str(seconds)],
                           stdout=subprocess.PIPE, text=True)
    assert cap.stdout.readline().strip() == "ready"
    return cap


def replay(probe, frames, receiver, what, settle):
    """Sends captured frames from the probe with TTL 255, waits until the
    receiver has counted them and `settle` seconds more; returns the
    receiver's counters before and after."""
    before = counters(receiver)
    inj = subprocess.run(["ip", "netns", "exec", probe[0], "python3", "-c", INJECT, probe[1]],
                         input="\n".join(frames) + "\n", capture_output=True, text=True, timeout=10)
    assert inj.returncode == 0 and int(inj.stdout) == len(frames), inj
    wait_until(lambda: counters(receiver)["ipackets"] >= before["ipackets"] + len(frames), 5, what)
    time.sleep(settle)
    return before, counters(receiver)


@case
def auth_replayed_frames_are_refused(lab):
    t = lab.switched(["a", "b", "probe"])
    keys = [(1, KEY1)]
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), auth_key_file=key_file(lab, "a", keys))
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), auth_key_file=key_file(lab, "b", keys))
    time.sleep(0.5)
    cap = start_capture(t["probe"], 2.5)
    for i in range(1, 6):
        a.insert(tcp_state(i, A_ID))
    a.ctl("flush")
    synced(a, b, "signed inserts to reach b")
    frames = [x for x in cap.communicate(timeout=10)[0].split() if x]
    assert frames, "nothing captured"
    for f in frames:
        assert bytes.fromhex(f)[-TRAILER_LEN:][:4] == b"PFSA", "captured an unsigned frame"
    # The states go away; replaying the captured INS frames would bring them back.
    for i in range(1, 6):
        a.delete(f"{i:016x}", f"{A_ID:08x}")
    a.ctl("flush")
    synced(a, b, "deletes to reach b")
    before, after = replay(t["probe"], frames, b, "b to receive the replayed frames", 0.5)
    assert after["badttl"] == before["badttl"], "the replay was not sent with TTL 255"
    assert after["badauth"] - before["badauth"] == len(frames), (before["badauth"], after["badauth"], len(frames))
    assert b.dump() == [], "a replayed frame re-created a state"
    assert after["iacts"] == before["iacts"], "a replayed frame was parsed"
    print(f"  replayed {len(frames)} captured signed frames with TTL 255: b refused "
          f"{after['badauth'] - before['badauth']}, imported 0")


@case
def auth_restarted_receiver_refuses_an_earlier_boot(lab):
    """b persists a's epoch at shutdown and restores it at start, so frames
    of a's earlier boot are refused even by a freshly started b that has not
    heard the current boot yet (docs/auth.md, "Receiver restarts")."""
    t = lab.switched(["a", "b", "probe"])
    keys = [(1, KEY1)]
    akeys, bkeys = key_file(lab, "a", keys), key_file(lab, "b", keys)
    a1 = lab.node(t["a"][0], "a1", hostid=hex(A_ID), auth_key_file=akeys)
    b1 = lab.node(t["b"][0], "b1", hostid=hex(B_ID), auth_key_file=bkeys)
    time.sleep(0.5)
    cap = start_capture(t["probe"], 2)
    a1.insert(tcp_state(1, A_ID))
    a1.ctl("flush")
    synced(a1, b1, "the first boot's insert")
    sender = bytes.fromhex(f"{A_ID:08x}")
    old = [f for f in cap.communicate(timeout=10)[0].split()
           if bytes.fromhex(f)[-TRAILER_LEN + 8:-TRAILER_LEN + 12] == sender]
    assert old, "captured nothing from a's first boot"
    epoch1 = a1.stats()["auth"]["epoch"]
    assert a1.stop() == 0
    # a's second boot; b hears it, then b restarts while a is down.
    a2 = lab.node(t["a"][0], "a2", hostid=hex(A_ID), auth_key_file=akeys)
    epoch2 = a2.stats()["auth"]["epoch"]
    assert epoch2 > epoch1, (epoch1, epoch2)
    a2.insert(tcp_state(2, A_ID))
    wait_until(lambda: f"{2:016x}" in ids(b1, A_ID), 5, "the second boot's insert to reach b")
    assert b1.stop() == 0 and a2.stop() == 0
    with open(bkeys + ".peers") as f:
        persisted = f.read()
    assert f"{A_ID:08x} {epoch2}" in persisted, persisted
    b2 = lab.node(t["b"][0], "b2", hostid=hex(B_ID), auth_key_file=bkeys)
    before, after = replay(t["probe"], old, b2, "b to receive the first boot's frames", 0.3)
    assert b2.dump() == [], "a frame of an earlier boot was imported after the receiver restarted"
    assert after["badauth"] - before["badauth"] == len(old), (before["badauth"], after["badauth"], len(old))
    print(f"  receiver restart: {len(old)} frame(s) of a's earlier boot replayed to a restarted b: "
          f"refused {after['badauth'] - before['badauth']}, imported 0")


@case
def auth_key_rotation(lab):
    t = lab.switched(["a", "b"])
    paths = {n: key_file(lab, n, [(1, KEY1)]) for n in ("a", "b")}
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), auth_key_file=paths["a"])
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), auth_key_file=paths["b"])
    a.insert(tcp_state(1, A_ID))
    synced(a, b, "the first signed insert")
    # A malformed file changes nothing and the error quotes no key.
    key_file(lab, "a", [(1, KEY1), (2, KEY2[:10])])
    bad = a.ctl("auth-reload", check=False)
    assert not bad["ok"] and "line 2" in bad["error"] and KEY1 not in json.dumps(bad), bad
    assert a.stats()["auth"]["key_ids"] == [1]
    # 1. the new key on both; both still sign with key 1.
    for n, node in (("a", a), ("b", b)):
        key_file(lab, n, [(1, KEY1), (2, KEY2)])
        r = node.ctl("auth-reload")
        assert r["auth"]["key_ids"] == [1, 2] and r["send_id"] == 1, r
        assert KEY1 not in json.dumps(r) and KEY2 not in json.dumps(r)
    # 2. a switches first: b accepts key 2 from a while a accepts key 1 from b.
    a.ctl("auth-send", id=2)
    a.insert(tcp_state(2, A_ID))
    b.insert(tcp_state(50, B_ID))
    synced(a, b, "a's key-2 frames to reach b during the overlap")
    wait_until(lambda: f"{50:016x}" in ids(a, B_ID), 5, "b's key-1 frames to reach a during the overlap")
    b.ctl("auth-send", id=2)
    # 3. a retires key 1; b is made to sign with the retired key once more.
    key_file(lab, "a", [(2, KEY2)])
    r = a.ctl("auth-reload")
    assert r["auth"]["key_ids"] == [2] and r["send_id"] == 2, r
    refused = a.counter("badauth")
    b.ctl("auth-send", id=1)
    b.insert(tcp_state(51, B_ID))
    b.ctl("flush")
    wait_until(lambda: a.counter("badauth") > refused, 5, "a to refuse a frame signed with the retired key")
    time.sleep(0.3)
    assert f"{51:016x}" not in ids(a, B_ID), "a frame signed with a retired key was imported"
    old_key_refused = a.counter("badauth") - refused
    b.ctl("auth-send", id=2)
    b.update(f"{51:016x}", f"{B_ID:08x}", src={"seqlo": 1234})
    wait_until(lambda: f"{51:016x}" in ids(a, B_ID), 5, "key-2 frames to be accepted again")
    assert counters(b)["badauth"] == 0, counters(b)
    for n in (a, b):
        keyed_log_is_clean(n, KEY1, KEY2)
    print(f"  rotation: overlap accepted both ids, retired key 1 refused {old_key_refused} frame(s) at a")


@case
def anti_entropy_repairs_a_loss_burst_without_resync(lab):
    t = lab.switched(["a", "b", "c"])
    period_ms = 1000
    keys = [(1, KEY1)]
    opts = dict(anti_entropy=True, ae_period_ms=period_ms, bulk_request_timeout_ms=300)
    a = lab.node(t["a"][0], "a", hostid=hex(A_ID), auth_key_file=key_file(lab, "a", keys), **opts)
    b = lab.node(t["b"][0], "b", hostid=hex(B_ID), auth_key_file=key_file(lab, "b", keys), **opts)
    # The control: c loses the same burst but runs without anti-entropy.
    c = lab.node(t["c"][0], "c", hostid=hex(C_ID), auth_key_file=key_file(lab, "c", keys),
                 bulk_request_timeout_ms=300)
    a.ctl("generate", count=300, first_id=1, creatorid=f"{A_ID:08x}", ifname="sync0")
    synced(a, b, "300 states to reach b")
    synced(a, c, "300 states to reach c")
    wait_until(lambda: a.stats()["node"]["sync_ok"] and b.stats()["node"]["sync_ok"], 10,
               "both nodes to finish their bulk requests")
    bulks = sum(n.counter("bulk_requests_answered") for n in (a, b, c))
    # A burst: every frame a sends is lost at b and c while states change.
    nft_drop_proto240(lab, t["b"][0], "input", 100)
    nft_drop_proto240(lab, t["c"][0], "input", 100)
    for i in range(301, 341):
        a.insert(tcp_state(i, A_ID))
    for i in range(1, 41):
        a.update(f"{i:016x}", f"{A_ID:08x}", src={"seqlo": 500000 + i, "max_win": 20000 + i})
    for i in range(200, 230):
        a.delete(f"{i:016x}", f"{A_ID:08x}")
    a.ctl("flush")
    time.sleep(0.3)
    # Both facts are read while the drop is still in place: once it is lifted,
    # the next digest exchange may repair b before a second look.
    lost = nft_dropped(lab, t["b"][0])
    diverged = sync_view(a.dump()) != sync_view(b.dump())
    lab.sh(t["b"][0], "nft", "delete", "table", "inet", "loss")
    lab.sh(t["c"][0], "nft", "delete", "table", "inet", "loss")
    burst_end = time.monotonic()
    assert lost > 0, "the burst dropped no frame at b"
    assert diverged, "b matched a while every frame from a was being dropped"

    def equal():
        return sync_view(a.dump()) == sync_view(b.dump())

    try:
        wait_until(equal, 2 * period_ms / 1000 + 1, "anti-entropy to repair the burst", interval=0.05)
    except AssertionError as e:
        raise AssertionError(f"{e}: {table_diff(sync_view(a.dump()), sync_view(b.dump()))}") from None
    took_ms = (time.monotonic() - burst_end) * 1000
    assert took_ms <= 2 * period_ms + 200, f"converged after {took_ms:.0f} ms, more than two periods"
    ae_b = b.stats()["anti_entropy"]
    ae_a = a.stats()["anti_entropy"]
    assert ae_b["updates_requested"] >= 80 and ae_b["states_deleted"] == 30, ae_b
    assert sum(n.counter("bulk_requests_answered") for n in (a, b, c)) == bulks, "a resync ran"
    assert all(counters(n)["badauth"] == 0 for n in (a, b, c))
    # Without anti-entropy nothing brings back the lost deletes (the UPDs a
    # sent in answer to b's requests reach c too and repair the rest there).
    time.sleep(2 * period_ms / 1000)
    orphans = sorted(ids(c, A_ID) - ids(a, A_ID))
    assert len(orphans) == 30, f"c without anti-entropy kept {len(orphans)} deleted states"
    print(f"  control c (no anti-entropy): {len(orphans)} deleted states still present after "
          f"{(time.monotonic() - burst_end) * 1000:.0f} ms")
    print(f"  AE: burst dropped {lost} frames (40 inserts, 40 updates, 30 deletes lost); b converged "
          f"{took_ms:.0f} ms after the burst (period {period_ms} ms); b requested "
          f"{ae_b['updates_requested']} updates, deleted {ae_b['states_deleted']}; "
          f"a sent {ae_a['digests_sent']} digests, {ae_a['detail_entries_sent']} detail entries")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--fast-bin", help="optimised pfsync-node for the paced bulk cases")
    opts = ap.parse_args()
    global FAST_BIN
    FAST_BIN = os.path.abspath(opts.fast_bin) if opts.fast_bin else None
    if opts.list:
        for fn in CASES:
            print(fn.__name__)
        return 0
    binary = os.path.abspath(opts.bin)
    install_signal_cleanup()
    passed = failed = 0
    try:
        for idx, fn in enumerate(CASES):
            if opts.only and not any(o in fn.__name__ for o in opts.only):
                continue
            start = time.monotonic()
            try:
                with Lab(f"c{idx}", binary) as lab:
                    try:
                        fn(lab)
                    except Exception:
                        for n in lab.nodes:
                            print(f"--- log of node {n.name}:\n{n.log()}", file=sys.stderr)
                        raise
                passed += 1
                print(f"PASS {fn.__name__} ({time.monotonic() - start:.1f}s)", flush=True)
            except Exception as e:
                failed += 1
                traceback.print_exc()
                print(f"FAIL {fn.__name__} ({time.monotonic() - start:.1f}s): {e}", flush=True)
    finally:
        close_all_labs()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.TimeoutExpired as e:
        print(f"command timed out: {e}", file=sys.stderr)
        sys.exit(1)
