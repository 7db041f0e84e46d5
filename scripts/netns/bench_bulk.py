#!/usr/bin/env python3
"""Bulk join benchmark: a late node pulls N states (default 1,000,000) from a
peer over a veth pair through a bridge, with default pacing.

Reports wall time, frames, bytes, receiver drops, achieved rate against a
line-rate model, and peak RSS of both nodes. Not a pass/fail test, except
that the two tables must end identical (same count and digest).

    bench_bulk.py --bin target/release/pfsync-node [--states N] [--msg-version V]
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlab import Lab, close_all_labs, install_signal_cleanup, wait_until  # noqa: E402

# Bytes a frame costs on an Ethernet wire beyond its IP payload: IPv4 header
# 20, Ethernet header 14 + FCS 4, preamble + SFD 8, inter-frame gap 12.
IPV4_HEADER = 20
ETHERNET_OVERHEAD = 14 + 4 + 8 + 12


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def cpu_seconds(pid):
    """utime + stime of a process, from /proc (clock ticks of 1/100 s on Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def link_drops(lab, ns, ifname):
    out = lab.sh(ns, "cat", f"/sys/class/net/{ifname}/statistics/rx_dropped", capture=True)
    return int(out.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--states", type=int, default=1_000_000)
    ap.add_argument("--msg-version", type=int, default=1500)
    opts = ap.parse_args()
    install_signal_cleanup()
    a_id, b_id = 0x0A000001, 0x0B000002
    try:
        with Lab("bench", os.path.abspath(opts.bin)) as lab:
            t = lab.switched(["a", "b"])
            # The master is alone when it starts: let its own bulk request fail
            # fast, so that it does not re-ask (and get answered by) the joiner
            # in the middle of the measured bulk.
            a = lab.node(t["a"][0], "a", hostid=hex(a_id), msg_version=opts.msg_version,
                         bulk_request_timeout_ms=200, bulk_max_tries=1)
            wait_until(lambda: a.counter("bulk_gave_up") >= 1, 10, "the master's lone bulk request to give up")
            t0 = time.monotonic()
            a.ctl("generate", count=opts.states, first_id=1, creatorid=f"{a_id:08x}", ifname="sync0", announce=False)
            gen_s = time.monotonic() - t0
            a_digest = a.ctl("digest")
            assert a_digest["count"] == opts.states, a_digest
            a_before = a.stats()
            a_cpu_before = cpu_seconds(a.pid())

            start = time.monotonic()
            b = lab.node(t["b"][0], "b", hostid=hex(b_id), msg_version=opts.msg_version)
            wait_until(lambda: b.counter("bulk_completed") >= 1, 900, "the bulk update to finish", interval=0.05)
            wall = time.monotonic() - start
            b_digest = b.ctl("digest")
            a_after, b_stats = a.stats(), b.stats()
            a_cpu, b_cpu = cpu_seconds(a.pid()) - a_cpu_before, cpu_seconds(b.pid())

            frames = a_after["extra"]["bulk_frames"] - a_before["extra"]["bulk_frames"]
            states_sent = a_after["extra"]["bulk_states"] - a_before["extra"]["bulk_states"]
            bytes_sent = a_after["node"]["bytes_sent"] - a_before["node"]["bytes_sent"]
            frames_sent = a_after["node"]["frames_sent"] - a_before["node"]["frames_sent"]
            rx_frames = b_stats["node"]["frames_received"]
            rx_bytes = b_stats["node"]["bytes_received"]
            sock_drops = b_stats["node"]["rxq_dropped"]
            nic_drops = link_drops(lab, t["b"][0], "sync0")
            wire_bytes = bytes_sent + frames_sent * (IPV4_HEADER + ETHERNET_OVERHEAD)
            ip_bits = (bytes_sent + frames_sent * IPV4_HEADER) * 8

            print(f"states                 {opts.states:,} (format {opts.msg_version})")
            print(f"generate on master     {gen_s:.2f} s")
            print(f"bulk wall time         {wall:.2f} s (b started -> BUS END accepted)")
            print(f"bulk frames / states   {frames:,} / {states_sent:,} ({states_sent / max(frames, 1):.2f} states per frame)")
            print(f"frames sent / received {frames_sent:,} / {rx_frames:,}")
            print(f"pfsync bytes sent      {bytes_sent:,} (received {rx_bytes:,})")
            print(f"receiver drops         socket queue {sock_drops}, sync0 rx_dropped {nic_drops}")
            print(f"achieved               {ip_bits / wall / 1e6:.1f} Mbit/s of IP, {states_sent / wall:,.0f} states/s")
            rate = a.ctl("config")["config"]["bulk_rate"]
            paced = bytes_sent / rate
            print(f"pacing model           {rate / 1e6:.0f} MB/s of frames -> {paced:.2f} s "
                  f"({paced / wall * 100:.0f}% of the achieved time)")
            for gbit in (1, 10):
                model = wire_bytes * 8 / (gbit * 1e9)
                print(f"line-rate model {gbit:>2} Gb/s {model:.2f} s on the wire ({model / wall * 100:.0f}% of the achieved time)")
            print(f"CPU time during bulk   master {a_cpu:.2f} s, joiner {b_cpu:.2f} s "
                  f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
            print(f"peak RSS               master {peak_rss_kib(a.pid()) / 1024:.1f} MiB, joiner {peak_rss_kib(b.pid()) / 1024:.1f} MiB")
            print(f"bulk requests answered master {a_after['extra']['bulk_requests_answered']}, "
                  f"joiner {b_stats['extra']['bulk_requests_answered']}")
            print(f"tables                 master {a_digest['count']:,} digest {a_digest['digest']}, "
                  f"joiner {b_digest['count']:,} digest {b_digest['digest']}")
            ok = a_digest == b_digest and sock_drops == 0
            print("result                 " + ("tables identical, no receiver drops" if ok else "MISMATCH or drops"))
            return 0 if ok else 1
    finally:
        close_all_labs()


if __name__ == "__main__":
    sys.exit(main())
