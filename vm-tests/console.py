#!/usr/bin/env python3
"""Drive a FreeBSD guest over its serial console.

Logs in as root (official VM images have no root password on the console),
unpacks the payload disk, runs guest/run-in-guest.sh, and collects the
"VMTEST PASS|FAIL name" lines it prints. Exits 0 only if every test passed
and the guest reported "VMTEST DONE".

  console.py --spawn -- qemu-system-x86_64 ... -serial stdio   (Linux/QEMU)
  console.py --device /dev/nmdm0B                                (bhyve)
"""
import argparse
import os
import re
import select
import subprocess
import sys
import time

GUEST_COMMAND = (
    "mkdir -p /root/pfsync-rs && tar -xf /dev/vtbd1 -C /root/pfsync-rs && "
    "sh /root/pfsync-rs/guest/run-in-guest.sh; shutdown -p now\n"
)


class Console:
    def __init__(self, rfd, wfd, log):
        self.rfd, self.wfd, self.log = rfd, wfd, log
        self.buf = b""

    def send(self, text):
        os.write(self.wfd, text.encode())

    def expect(self, pattern, timeout):
        """Wait for `pattern` (bytes regex); returns the match or None."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.rfd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.rfd, 4096)
                if not chunk:
                    return None
                self.log.write(chunk.decode(errors="replace"))
                self.log.flush()
                self.buf += chunk


def run(console, boot_timeout, test_timeout):
    if not console.expect(rb"login: ", boot_timeout):
        print("vm-tests: no login prompt", file=sys.stderr)
        return 2
    console.send("root\n")
    if not console.expect(rb"# ", 60):
        print("vm-tests: no shell prompt", file=sys.stderr)
        return 2
    console.send(GUEST_COMMAND)
    results = []
    done = False
    deadline = time.monotonic() + test_timeout
    while not done and time.monotonic() < deadline:
        m = console.expect(rb"VMTEST (PASS|FAIL|DONE)([^\r\n]*)", deadline - time.monotonic())
        if not m:
            break
        kind, rest = m.group(1).decode(), m.group(2).decode().strip()
        if kind == "DONE":
            done = True
        else:
            results.append((kind, rest))
    print("\n==== vm-tests summary ====")
    for kind, rest in results:
        print(f"{kind:4} {rest}")
    failed = [r for r in results if r[0] == "FAIL"]
    if not done:
        print("FAIL guest did not finish (timeout or crash)")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 0 if done and results and not failed else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", help="serial device (bhyve nmdm B side)")
    ap.add_argument("--spawn", action="store_true", help="run the command after --")
    ap.add_argument("--boot-timeout", type=float, default=600)
    ap.add_argument("--test-timeout", type=float, default=3600)
    ap.add_argument("--log", default="console.log")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    with open(a.log, "a") as log:
        if a.device:
            fd = os.open(a.device, os.O_RDWR | os.O_NOCTTY)
            return run(Console(fd, fd, log), a.boot_timeout, a.test_timeout)
        cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
        if not a.spawn or not cmd:
            ap.error("give --device or --spawn -- COMMAND")
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            return run(Console(p.stdout.fileno(), p.stdin.fileno(), log),
                       a.boot_timeout, a.test_timeout)
        finally:
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
