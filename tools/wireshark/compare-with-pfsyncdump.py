#!/usr/bin/env python3
"""Compare the Lua dissector's fields with pfsyncdump's JSON, frame by frame.

usage: compare-with-pfsyncdump.py TSHARK_LUA CAPTURE PFSYNCDUMP

Runs tshark with the dissector and pfsyncdump --json once each, then
checks that every field the dissector shows holds the value the Rust codec
decoded, in the same order, and that both name the same errors (pfsyncstats
counters) in every frame. Field values of frames the codec reports errors for
are left out (the dissector goes on where a receiver stops). Prints one line
per disagreement and exits 1 if there is any.
"""

import json
import subprocess
import sys

LUA, CAPTURE, PFSYNCDUMP = sys.argv[1:4]


def is_state(m):
    return "msg_version" in m or m.get("action") in ("INS", "UPD")


def is_openbsd_state(m):
    return m.get("action") in ("INS", "UPD")


def af_of(m, idx):
    if is_openbsd_state(m):
        return m["key"][idx]["af"]
    if m.get("msg_version") == 1500:
        return m["wire_af"] if idx == 0 else m["stack_af"]
    return m["af"]


def addrs(m, family):
    out = []
    if not is_state(m):
        return out
    inet6 = 24 if is_openbsd_state(m) else 28
    want = 2 if family == 4 else inet6
    for idx in (0, 1):
        if af_of(m, idx) == want:
            out += m["key"][idx]["addr"]
    return out


def peers(field):
    def get(m):
        if is_state(m) or m.get("action") == "UPD_C":
            return [m["src"][field], m["dst"][field]]
        return []
    return get


def state_field(name, versions=(1301, 1400, 1500), openbsd=True):
    def get(m):
        if "msg_version" in m and m["msg_version"] in versions:
            return [m[name]]
        if openbsd and is_openbsd_state(m):
            return [m[name]]
        return []
    return get


def hexint(s):
    return int(s, 16)


# tshark field -> values one message contributes, in the dissector's order.
FIELDS = {
    "pfsync.id": lambda m: [hexint(m["id"])] if "id" in m else [],
    "pfsync.creatorid": lambda m: [hexint(m["creatorid"])] if "creatorid" in m else [],
    "pfsync.ifname": lambda m: [m["ifname"]] if "ifname" in m else [],
    "pfsync.key.port": lambda m: (m["key"][0]["port"] + m["key"][1]["port"]) if is_state(m) else [],
    "pfsync.key.addr4": lambda m: addrs(m, 4),
    "pfsync.key.addr6": lambda m: addrs(m, 6),
    "pfsync.peer.seqlo": peers("seqlo"),
    "pfsync.peer.seqhi": peers("seqhi"),
    "pfsync.peer.max_win": peers("max_win"),
    "pfsync.peer.state": peers("state"),
    "pfsync.peer.wscale": peers("wscale"),
    "pfsync.peer.pfss_ts_mod": lambda m: [m[p]["scrub"]["pfss_ts_mod"] for p in ("src", "dst")]
    if is_state(m) or m.get("action") == "UPD_C" else [],
    "pfsync.rule": state_field("rule"),
    "pfsync.anchor": state_field("anchor"),
    "pfsync.nat_rule": state_field("nat_rule"),
    "pfsync.creation": state_field("creation"),
    "pfsync.expire": lambda m: [m["expire"]] if is_state(m) or m.get("action") == "UPD_C" else [],
    "pfsync.packets": lambda m: m["packets"] if is_state(m) else [],
    "pfsync.bytes": lambda m: m["bytes"] if is_state(m) else [],
    "pfsync.af": lambda m: [m["af"]] if is_state(m) and m.get("msg_version") != 1500 else [],
    "pfsync.wire_af": state_field("wire_af", (1500,), False),
    "pfsync.stack_af": state_field("stack_af", (1500,), False),
    "pfsync.proto": lambda m: [m["proto"]] if is_state(m) and m.get("msg_version") != 1500 else [],
    "pfsync.wire_proto": state_field("wire_proto", (1500,), False),
    "pfsync.stack_proto": state_field("stack_proto", (1500,), False),
    "pfsync.direction": state_field("direction"),
    "pfsync.log": state_field("log"),
    "pfsync.timeout": lambda m: [m["timeout"]]
    if ("msg_version" in m) or (m.get("action") == "UPD_C" and "state_flags" not in m) else [],
    "pfsync.openbsd.timeout": lambda m: [m["timeout"]]
    if is_openbsd_state(m) or (m.get("action") == "UPD_C" and "state_flags" in m) else [],
    "pfsync.state_flags": lambda m: [m["state_flags"]]
    if is_state(m) or (m.get("action") == "UPD_C" and "state_flags" in m) else [],
    "pfsync.sync_flags": state_field("sync_flags", (1301, 1400)),
    "pfsync.rtableid": lambda m: (m["rtableid"] if isinstance(m.get("rtableid"), list) else [m["rtableid"]])
    if "rtableid" in m else [],
    "pfsync.qid": state_field("qid", (1400, 1500), False),
    "pfsync.pqid": state_field("pqid", (1400, 1500), False),
    "pfsync.dnpipe": state_field("dnpipe", (1400, 1500), False),
    "pfsync.dnrpipe": state_field("dnrpipe", (1400, 1500), False),
    "pfsync.min_ttl": state_field("min_ttl", (1400, 1500)),
    "pfsync.set_tos": state_field("set_tos", (1400, 1500)),
    "pfsync.max_mss": state_field("max_mss", (1400, 1500)),
    "pfsync.set_prio": lambda m: m["set_prio"] if "set_prio" in m else [],
    "pfsync.rt": state_field("rt", (1400, 1500)),
    "pfsync.rt_ifname": state_field("rt_ifname", (1400, 1500), False),
    "pfsync.orig_ifname": state_field("orig_ifname", (1500,), False),
    "pfsync.tagname": state_field("tagname", (1500,), False),
    "pfsync.upd_req.bulk": lambda m: [m["bulk_request"]] if "bulk_request" in m else [],
    "pfsync.bus.endtime": lambda m: [m["endtime"]] if m.get("action") == "BUS" else [],
    "pfsync.bus.status": lambda m: [m["status"]] if m.get("action") == "BUS" else [],
    "pfsync.tdb.spi": lambda m: [hexint(m["spi"])] if m.get("action") == "TDB" else [],
    "pfsync.tdb.rpl": lambda m: [m["rpl"]] if m.get("action") == "TDB" else [],
    "pfsync.tdb.cur_bytes": lambda m: [m["cur_bytes"]] if m.get("action") == "TDB" else [],
    "pfsync.tdb.sproto": lambda m: [m["sproto"]] if m.get("action") == "TDB" else [],
}


def normalise(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    try:
        return int(str(v), 0)
    except ValueError:
        return str(v)


def tshark_fields(fields):
    """{frame number: {field: [values]}} from one tshark run. JSON output,
    because names in malformed frames may hold tabs and newlines."""
    cmd = ["tshark", "-n", "-X", "lua_script:" + LUA, "-r", CAPTURE, "-T", "json",
           "-e", "frame.number"]
    for field in fields:
        cmd += ["-e", field]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    by_frame = {}
    for packet in json.loads(out or "[]"):
        layers = packet["_source"]["layers"]
        row = {}
        for field in fields:
            row[field] = [normalise(v) for v in layers.get(field, []) if v != ""]
        by_frame[int(layers["frame.number"][0])] = row
    return by_frame


ERROR_FIELDS = ["pfsync.hdrops", "pfsync.badver", "pfsync.badlen", "pfsync.badact", "pfsync.badval",
                "pfsync.truncated", "pfsync.badttl"]


def frame_checks(f, row):
    """Header, errors and sections: compared on every frame, malformed ones too."""
    problems = []
    header = f.get("header")
    if header and row.get("pfsync.version") != [header["version"]]:
        problems.append(f"version: codec {header['version']} dissector {row.get('pfsync.version')}")
    codec_errors = sorted({e["kind"] for e in f["errors"]})
    dissector_errors = sorted(k.split(".")[1] for k in ERROR_FIELDS if row.get(k))
    if codec_errors != dissector_errors:
        problems.append(f"errors: codec {codec_errors} dissector {dissector_errors}")
    if not f["errors"]:
        sections = [sec["action_name"] for sec in f["sections"]]
        if sections != row.get("pfsync.action_name", []):
            problems.append(f"sections: codec {sections} dissector {row.get('pfsync.action_name')}")
    return problems


def main():
    dump = subprocess.run([PFSYNCDUMP, "-r", CAPTURE, "--json", "--no-summary"],
                          capture_output=True, text=True, check=True).stdout
    frames = [json.loads(line) for line in dump.splitlines()]
    frames = [f for f in frames if "skipped" not in f]
    problems = 0
    compared = 0
    got = tshark_fields(list(FIELDS) + ["pfsync.version", "pfsync.action_name"] + ERROR_FIELDS)
    for f in frames:
        row = got.get(f["frame"], {})
        for p in frame_checks(f, row):
            problems += 1
            print(f"frame {f['frame']} {p}")
        if f["errors"]:
            # The dissector goes on where a receiver stops; values are
            # compared on clean frames only.
            continue
        for field, extract in FIELDS.items():
            # tshark prints nothing for an empty string; neither side counts it.
            want = [normalise(v) for m in f["messages"] for v in extract(m) if v != ""]
            have = row.get(field, [])
            compared += len(want)
            if want != have:
                problems += 1
                print(f"frame {f['frame']} {field}: codec {want} dissector {have}")
    print(f"{len(frames)} frames, {compared} field values compared, {problems} disagreements")
    return 1 if problems else 0


sys.exit(main())
