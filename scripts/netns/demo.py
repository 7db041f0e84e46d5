#!/usr/bin/env python3
"""Two namespaced firewalls: states made on the master appear on the backup,
the master is killed, the backup keeps them. Runs pfsyncdump live on the
backup's sync interface when that binary is given. Tidies up after itself.

    demo.py --bin target/debug/pfsync-node [--pfsyncdump PATH]
"""

import argparse
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlab import Lab, close_all_labs, install_signal_cleanup, tcp_state, wait_until  # noqa: E402

TCP_STATES = ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
              "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT"]


def show(title, states):
    """Prints a table in the spirit of `pfctl -ss -v`."""
    print(f"\n{title}: {len(states)} states")
    for s in sorted(states, key=lambda s: (s["creatorid"], s["id"])):
        k = s["key"][0]
        proto = {6: "tcp", 17: "udp", 1: "icmp"}.get(s["proto"], str(s["proto"]))
        src, dst = s["src"], s["dst"]
        names = [TCP_STATES[p["state"]] if p["state"] < len(TCP_STATES) else str(p["state"]) for p in (src, dst)]
        print(f"  {s['ifname']} {proto} {k['addr'][0]}:{k['port'][0]} -> {k['addr'][1]}:{k['port'][1]}"
              f"  {names[0]}:{names[1]}")
        print(f"     id {s['id']} creator {s['creatorid']}  seq {src['seqlo']}/{dst['seqlo']}"
              f"  win {src['max_win']}/{dst['max_win']}  pkts {s['packets'][0]}:{s['packets'][1]}")


def step(text):
    print(f"\n== {text}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--pfsyncdump")
    opts = ap.parse_args()
    install_signal_cleanup()
    master_id, backup_id = 0x0A000001, 0x0B000002
    dump_proc = None
    try:
        with Lab("demo", os.path.abspath(opts.bin)) as lab:
            step("topology: namespaces master and backup, each sync0 on one bridge")
            t = lab.switched(["master", "backup"])
            for name, (ns, v4, v6) in t.items():
                print(f"  {name:7} netns {ns}  sync0 {v4} {v6}")
            dump_out = os.path.join(lab.tmp, "pfsyncdump.txt")
            if opts.pfsyncdump:
                step("pfsyncdump live on the backup's sync0")
                out = open(dump_out, "w")
                dump_proc = subprocess.Popen(
                    ["ip", "netns", "exec", t["backup"][0], opts.pfsyncdump, "-i", "sync0", "--timeout", "8"],
                    stdout=out, stderr=subprocess.STDOUT)
                out.close()
                time.sleep(0.5)
            else:
                step("pfsyncdump not built (tools/pfsyncdump not on this branch yet): live decode skipped")

            step("start both firewalls (pfsync-node, 224.0.0.240, format 1500)")
            master = lab.node(t["master"][0], "master", hostid=hex(master_id))
            backup = lab.node(t["backup"][0], "backup", hostid=hex(backup_id))
            print(f"  master pid {master.pid()}, backup pid {backup.pid()}")

            step("create 5 connections on the master")
            for i in range(1, 6):
                master.insert(tcp_state(i, master_id))
            show("master", master.dump())
            wait_until(lambda: len(backup.dump()) == 5, 5, "the backup to receive the states")
            show("backup (synced)", backup.dump())

            step("traffic moves one connection's windows on the master")
            # An UPD_C carries peers and timeout only (not counters), as in stock.
            master.update(f"{3:016x}", f"{master_id:08x}", src={"seqlo": 424242, "max_win": 29200})
            wait_until(lambda: next(s for s in backup.dump() if s["id"] == f"{3:016x}")["src"]["seqlo"] == 424242,
                       5, "the update to reach the backup")
            show("backup after the update", backup.dump())

            step("kill -9 the master")
            master.kill9()
            time.sleep(1.0)
            show("backup after the master died", backup.dump())
            st = backup.stats()["stats"]
            print(f"\n  backup pfsyncstats: ipackets {st['ipackets']} badttl {st['badttl']} badact {st['badact']}"
                  f" stale {st['stale']}")
            print(f"  backup received actions: " +
                  ", ".join(f"{k} {v}" for k, v in st["iacts"].items() if v))

            if dump_proc is not None:
                dump_proc.wait(timeout=15)
                step("pfsyncdump output (backup's sync0)")
                with open(dump_out) as f:
                    print(f.read())
            step("tidy up: nodes stopped, namespaces removed")
        return 0
    finally:
        if dump_proc is not None and dump_proc.poll() is None:
            dump_proc.kill()
        close_all_labs()


if __name__ == "__main__":
    sys.exit(main())
