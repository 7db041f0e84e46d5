"""Network-namespace lab for pfsync-node: namespaces, links, nodes, cleanup.

Everything a Lab creates (namespaces, processes, a temp directory) carries a
prefix unique to this run and is removed by Lab.close(), which runs on normal
exit, on exceptions and on SIGTERM/SIGINT (see install_signal_cleanup).
Links are created directly inside their namespaces, so nothing is ever added
to the host's own network namespace.

Python 3 standard library only.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

_open_labs = []


def install_signal_cleanup():
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so `with Lab()` blocks unwind."""

    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def close_all_labs():
    for lab in list(_open_labs):
        lab.close()


class LabError(Exception):
    pass


def run(cmd, check=True, capture=False, timeout=60):
    res = subprocess.run(
        cmd,
        check=False,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )
    if check and res.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
    return res.stdout if capture else res.returncode


def wait_until(predicate, timeout, what, interval=0.1):
    """Polls predicate() until it returns a truthy value; raises with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Lab:
    """One self-cleaning set of namespaces and nodes."""

    def __init__(self, tag, binary):
        self.binary = binary
        # Namespace names are free-form; keep them short and unique per run.
        self.prefix = f"pfs{os.getpid()}{tag}"
        self.namespaces = []
        self.nodes = []
        self.tmp = tempfile.mkdtemp(prefix=f"pfsync-netns-{tag}-")
        self.closed = False
        _open_labs.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # --- topology -------------------------------------------------------

    def netns(self, short):
        name = f"{self.prefix}-{short}"
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        self.sh(name, "ip", "link", "set", "lo", "up")
        # No duplicate address detection: addresses are usable at once and
        # link-local sources exist before the first IPv6 frame goes out.
        for key in ("all", "default"):
            self.sh(name, "sysctl", "-q", "-w", f"net.ipv6.conf.{key}.accept_dad=0")
        return name

    def sh(self, ns, *cmd, check=True, capture=False):
        return run(["ip", "netns", "exec", ns, *cmd], check=check, capture=capture)

    def veth(self, ns_a, if_a, ns_b, if_b, mtu=None):
        run(["ip", "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", ns_b])
        for ns, ifname in ((ns_a, if_a), (ns_b, if_b)):
            self.sh(ns, "sysctl", "-q", "-w", f"net.ipv6.conf.{ifname}.accept_dad=0")
            if mtu:
                run(["ip", "-n", ns, "link", "set", ifname, "mtu", str(mtu)])
            run(["ip", "-n", ns, "link", "set", ifname, "up"])

    def bridge(self, ns, name, ports):
        # Snooping off: the switch must flood ff12::f0 like 224.0.0.240 even
        # though no MLD querier runs here.
        run(["ip", "-n", ns, "link", "add", name, "type", "bridge", "mcast_snooping", "0"])
        run(["ip", "-n", ns, "link", "set", name, "up"])
        for p in ports:
            run(["ip", "-n", ns, "link", "set", p, "master", name])

    def addr(self, ns, ifname, cidr):
        cmd = ["ip", "-n", ns, "addr", "add", cidr, "dev", ifname]
        if ":" in cidr:
            cmd.append("nodad")
        run(cmd)

    def route(self, ns, dest, via):
        run(["ip", "-n", ns, "route", "add", dest, "via", via])

    def switched(self, names, v4_net="10.0.0", v6_net="fd00::", mtu=None):
        """Namespaces `names` on one bridge (in its own namespace), each with
        sync0 = v4_net.(i+1)/24 and v6_net(i+1)/64. Returns {name: (ns, v4, v6)}."""
        sw = self.netns("sw")
        ports = []
        out = {}
        for i, short in enumerate(names):
            ns = self.netns(short)
            port = f"p{i}"
            self.veth(ns, "sync0", sw, port, mtu=mtu)
            ports.append(port)
            v4 = f"{v4_net}.{i + 1}"
            v6 = f"{v6_net}{i + 1}"
            self.addr(ns, "sync0", f"{v4}/24")
            self.addr(ns, "sync0", f"{v6}/64")
            out[short] = (ns, v4, v6)
        self.bridge(sw, "br0", ports)
        return out

    # --- nodes ----------------------------------------------------------

    def node(self, ns, name, syncdev="sync0", **opts):
        n = Node(self, ns, name, syncdev, opts)
        self.nodes.append(n)
        return n

    # --- teardown -------------------------------------------------------

    def close(self):
        if self.closed:
            return
        self.closed = True
        for n in self.nodes:
            n.terminate()
        for ns in reversed(self.namespaces):
            run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self in _open_labs:
            _open_labs.remove(self)


def _flag(key):
    return "--" + key.replace("_", "-")


class Node:
    """A pfsync-node process in a namespace, and a client for its control socket."""

    def __init__(self, lab, ns, name, syncdev, opts):
        self.lab = lab
        self.ns = ns
        self.name = name
        self.control = os.path.join(lab.tmp, f"{name}.sock")
        self.log_path = os.path.join(lab.tmp, f"{name}.log")
        self.conn = None
        self.reader = None
        args = [lab.binary, "run", "--syncdev", syncdev, "--control", self.control]
        for key, value in opts.items():
            if value is True:
                args.append(_flag(key))
            elif value is False or value is None:
                continue
            else:
                args += [_flag(key), str(value)]
        self.args = args
        log = open(self.log_path, "w")
        # `ip netns exec` execs the binary, so this pid is the node's own.
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, *args], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._connect(timeout=20)

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise LabError(f"node {self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.control)
                self.conn = s
                self.reader = s.makefile("r")
                return
            except OSError:
                s.close()
                if time.monotonic() >= deadline:
                    raise LabError(f"node {self.name}: control socket never appeared:\n{self.log()}")
                time.sleep(0.05)

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def ctl(self, cmd, check=True, **fields):
        req = {"cmd": cmd, **fields}
        self.conn.sendall((json.dumps(req) + "\n").encode())
        line = self.reader.readline()
        if not line:
            raise LabError(f"node {self.name} closed its control socket on {cmd}:\n{self.log()}")
        resp = json.loads(line)
        if check and not resp.get("ok"):
            raise LabError(f"node {self.name}: {cmd} failed: {resp.get('error')}")
        return resp

    # Conveniences over ctl().
    def insert(self, state, **extra):
        return self.ctl("insert", state=state, **extra)

    def update(self, sid, creatorid, **fields):
        return self.ctl("update", id=sid, creatorid=creatorid, state=fields)

    def delete(self, sid, creatorid):
        return self.ctl("delete", id=sid, creatorid=creatorid)

    def dump(self):
        return self.ctl("dump")["states"]

    def stats(self):
        return self.ctl("stats")

    def counter(self, name):
        """A pfsyncstats counter, an extra engine counter or a node counter, by name."""
        s = self.stats()
        for section in ("stats", "extra", "node"):
            if name in s.get(section, {}):
                return s[section][name]
        raise KeyError(name)

    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit status."""
        self._close_conn()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill9(self):
        self._close_conn()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def terminate(self):
        if self.proc.poll() is not None:
            self._close_conn()
            return
        try:
            self.stop(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def _close_conn(self):
        if self.conn is not None:
            try:
                self.reader.close()
                self.conn.close()
            except OSError:
                pass
            self.conn = None


# --- state helpers ------------------------------------------------------

TCPS_ESTABLISHED = 4
PFTM_TCP_ESTABLISHED = 2


def tcp_state(index, creatorid, ifname="sync0", af=2, **over):
    """A plausible established TCP state numbered `index`. Windows start
    small: the engine's merge only ever grows seqlo, seqhi and max_win."""
    if af == 2:
        addrs = [f"192.0.2.{index % 250 + 1}", f"198.51.100.{index // 250 % 250 + 1}"]
    else:
        addrs = [f"2001:db8::{index:x}", "2001:db8:1::1"]
    st = {
        "id": f"{index:016x}",
        "creatorid": f"{creatorid:08x}",
        "ifname": ifname,
        "af": af,
        "proto": 6,
        "direction": 1,
        "timeout": PFTM_TCP_ESTABLISHED,
        "expire": 86400,
        "key": [{"addr": addrs, "port": [10000 + index % 50000, 443]}],
        "src": {"seqlo": 1000, "seqhi": 66535, "max_win": 8192, "state": TCPS_ESTABLISHED, "wscale": 7},
        "dst": {"seqlo": 5000, "seqhi": 70535, "max_win": 512, "state": TCPS_ESTABLISHED, "wscale": 7},
        "packets": [1, 1],
        "bytes": [60, 60],
    }
    st.update(over)
    return st


# Fields that legitimately differ between the creator and a peer that
# imported the state: ages and expiry are re-based on the receiver's clock,
# and the receiver associates the state with its own rules.
LOCAL_FIELDS = ("creation", "expire", "rule", "anchor", "nat_rule", "sync_flags")


def sync_view(states):
    """{(id, creatorid): state without node-local fields}, for table comparison."""
    out = {}
    for s in states:
        out[(s["id"], s["creatorid"])] = {k: v for k, v in s.items() if k not in LOCAL_FIELDS}
    return out


def table_diff(a, b, limit=3):
    """Human-readable first differences between two sync views."""
    lines = []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            lines.append(f"{key} missing on the second node")
        elif key not in a:
            lines.append(f"{key} only on the second node")
        elif a[key] != b[key]:
            diffs = {k: (a[key].get(k), b[key].get(k)) for k in a[key] if a[key].get(k) != b[key].get(k)}
            lines.append(f"{key} differs: {diffs}")
        if len(lines) >= limit:
            break
    return "; ".join(lines)
