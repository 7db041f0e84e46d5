#!/usr/bin/env python3
"""pfsync-node integration cases over Linux network namespaces.

Each case builds its own topology in a fresh Lab (unique names, always torn
down), starts nodes, drives them through their control sockets and asserts
on their tables and pfsyncstats counters.

    run_cases.py --bin target/debug/pfsync-node [--only NAME] [--list]

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--list", action="store_true")
    opts = ap.parse_args()
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
