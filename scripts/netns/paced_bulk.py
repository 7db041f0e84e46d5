#!/usr/bin/env python3
"""A bulk update over a rate-limited sync link (issue 14, part 4).

Two namespaces joined by one veth whose sender side is shaped by tbf to
MBIT Mb/s. The sender is told that speed as its link speed (a NIC reports it
in if_baudrate; a veth reports 10 Gb/s whatever tc does to it), generates N
states, and a late joiner pulls them with a bulk update. Counted as drops:
the sender's qdisc drops, the frames its socket refused (oerrors, onomem),
the receiver's socket queue and interface drops. Used by run_cases.py; run by hand (as root) to
compare with a fixed pace:

    paced_bulk.py --bin target/debug/pfsync-node --mbit 100 --states 50000 [--bulk-rate 100000000]
"""

import argparse
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlab import Lab, close_all_labs, install_signal_cleanup, wait_until  # noqa: E402

SENDER_ID = 0x0A000001
JOINER_ID = 0x0B000002


def qdisc_drops(lab, ns, ifname):
    out = lab.sh(ns, "tc", "-s", "qdisc", "show", "dev", ifname, capture=True)
    return sum(int(n) for n in re.findall(r"dropped (\d+)", out))


def link_counter(lab, ns, ifname, name):
    out = lab.sh(ns, "cat", f"/sys/class/net/{ifname}/statistics/{name}", capture=True)
    return int(out.strip())


def paced_bulk(lab, mbit, states, bulk_rate=None, timeout=60):
    """Runs one bulk over a tbf-shaped veth; returns its figures."""
    ns_a, ns_b = lab.netns("a"), lab.netns("b")
    lab.veth(ns_a, "sync0", ns_b, "sync0")
    lab.addr(ns_a, "sync0", "10.0.0.1/24")
    lab.addr(ns_b, "sync0", "10.0.0.2/24")
    # Bucket of a few ms at the rate (at least one kernel tick's worth);
    # frames wait up to 20 ms in the queue, beyond that tbf drops them.
    burst = max(mbit * 1_000_000 // 8 // 250, 16_000)
    lab.sh(ns_a, "tc", "qdisc", "add", "dev", "sync0", "root", "tbf", "rate", f"{mbit}mbit",
           "burst", str(burst), "latency", "20ms")
    a = lab.node(ns_a, "a", hostid=hex(SENDER_ID), link_speed_mbps=mbit, bulk_rate=bulk_rate,
                 bulk_request_timeout_ms=200, bulk_max_tries=1)
    wait_until(lambda: a.counter("bulk_gave_up") >= 1, 10, "the sender's lone bulk request to give up")
    a.ctl("generate", count=states, first_id=1, creatorid=f"{SENDER_ID:08x}", ifname="sync0", announce=False)
    a_digest = a.ctl("digest")
    assert a_digest["count"] == states, a_digest
    qdisc_before = qdisc_drops(lab, ns_a, "sync0")
    a_before = a.stats()
    start = time.monotonic()
    b = lab.node(ns_b, "b", hostid=hex(JOINER_ID), link_speed_mbps=mbit)
    done = True
    try:
        wait_until(lambda: b.counter("bulk_completed") >= 1, timeout, "the bulk update to finish",
                   interval=0.05)
    except Exception:
        done = False
    wall = time.monotonic() - start
    a_after, b_stats = a.stats(), b.stats()
    b_digest = b.ctl("digest")
    sent = a_after["node"]["bytes_sent"] - a_before["node"]["bytes_sent"]
    frames = a_after["node"]["frames_sent"] - a_before["node"]["frames_sent"]
    return {
        "mbit": mbit,
        "states": states,
        "completed": done,
        "wall_s": wall,
        "pace_bytes_per_s": a.ctl("config")["config"]["bulk_rate"],
        "ip_mbit_per_s": (sent + 20 * frames) * 8 / wall / 1e6,
        "qdisc_drops": qdisc_drops(lab, ns_a, "sync0") - qdisc_before,
        # ENOBUFS (socket buffer or qdisc full) is counted in onomem.
        "send_errors": sum(a_after["stats"][k] - a_before["stats"][k] for k in ("oerrors", "onomem")),
        "socket_drops": b_stats["node"]["rxq_dropped"],
        "link_drops": link_counter(lab, ns_b, "sync0", "rx_dropped"),
        "requests_answered": a_after["extra"]["bulk_requests_answered"]
        - a_before["extra"]["bulk_requests_answered"],
        "requests_sent": b_stats["extra"]["bulk_requests_sent"],
        "joiner_states": b_digest["count"],
        "tables_equal": a_digest == b_digest,
    }


def drops(r):
    return r["qdisc_drops"] + r["send_errors"] + r["socket_drops"] + r["link_drops"]


def describe(r):
    return (f"{r['mbit']} Mb/s, pace {r['pace_bytes_per_s'] / 1e6:.1f} MB/s: "
            f"{r['joiner_states']}/{r['states']} states in {r['wall_s']:.2f} s "
            f"({r['ip_mbit_per_s']:.1f} Mb/s of IP), completed {r['completed']}, "
            f"drops: qdisc {r['qdisc_drops']}, send errors {r['send_errors']}, "
            f"socket {r['socket_drops']}, link {r['link_drops']}; "
            f"bulk requests sent {r['requests_sent']}, answered {r['requests_answered']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--mbit", type=int, default=100)
    ap.add_argument("--states", type=int, default=50_000)
    ap.add_argument("--bulk-rate", type=int, default=None, help="explicit pace, bytes/s")
    ap.add_argument("--timeout", type=int, default=60)
    opts = ap.parse_args()
    install_signal_cleanup()
    try:
        with Lab("pace", os.path.abspath(opts.bin)) as lab:
            r = paced_bulk(lab, opts.mbit, opts.states, opts.bulk_rate, opts.timeout)
            print(describe(r))
            return 0 if r["completed"] and r["tables_equal"] and drops(r) == 0 else 1
    finally:
        close_all_labs()


if __name__ == "__main__":
    sys.exit(main())
