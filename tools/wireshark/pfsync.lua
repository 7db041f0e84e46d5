-- Wireshark dissector for pfsync (IP protocol 240): FreeBSD header version 5
-- with state formats 1301, 1400 and 1500, and OpenBSD header version 6.
--
-- Layouts: sys/net/if_pfsync.h and sys/net/pfvar.h of FreeBSD 14.x/15.x and
-- OpenBSD (see docs/pfsync-wire.md in the pfsync-rs project). FreeBSD has no
-- per-message length: the action number fixes the record size, so an unknown
-- action ends the frame, exactly as a FreeBSD receiver stops. OpenBSD carries
-- the record length (in 32-bit words) in the subheader and skips what it does
-- not know; this dissector does the same.
--
-- Use: tshark -X lua_script:pfsync.lua -r capture.pcap -V
-- or copy into ~/.local/lib/wireshark/plugins/.

local pfsync = Proto("pfsync", "pfsync state table synchronisation")

local VERSION_FREEBSD = 5
local VERSION_OPENBSD = 6
local HEADER_LEN = 20
local SUBHEADER_LEN = 4

local AF_INET = 2
local AF_INET6_FREEBSD = 28
local AF_INET6_OPENBSD = 24
local IPPROTO_TCP = 6

-- FreeBSD 15.x action numbers (14.x stops at 14).
local FREEBSD_ACTIONS = {
    [0] = "CLR", [1] = "INS_1301", [2] = "INS_ACK", [3] = "UPD_1301",
    [4] = "UPD_C", [5] = "UPD_REQ", [6] = "DEL", [7] = "DEL_C",
    [8] = "INS_F", [9] = "DEL_F", [10] = "BUS", [11] = "TDB", [12] = "EOF",
    [13] = "INS_1400", [14] = "UPD_1400", [15] = "INS_1500", [16] = "UPD_1500",
}
local FREEBSD_ACT_MAX = 17

-- Record size per FreeBSD action; nil = an action a FreeBSD receiver refuses.
local FREEBSD_SIZES = {
    [0] = 20, [1] = 242, [2] = 12, [3] = 242, [4] = 84, [5] = 12,
    [7] = 12, [10] = 12, [11] = 48, [12] = 0, [13] = 277, [14] = 277,
    [15] = 360, [16] = 360,
}

-- Message version of the full-state actions, chosen by action number.
local STATE_FORMAT = {
    [1] = 1301, [3] = 1301, [13] = 1400, [14] = 1400, [15] = 1500, [16] = 1500,
}

local OPENBSD_ACTIONS = {
    [0] = "CLR", [1] = "OINS", [2] = "INS_ACK", [3] = "OUPD", [4] = "UPD_C",
    [5] = "UPD_REQ", [6] = "DEL", [7] = "DEL_C", [8] = "INS_F", [9] = "DEL_F",
    [10] = "BUS", [11] = "OTDB", [12] = "EOF", [13] = "INS", [14] = "UPD",
    [15] = "TDB",
}
-- OpenBSD's pfsync_acts[] (if_pfsync.c): the actions it decodes and their
-- minimum record size (records may be longer). PFSYNC_ACT_MAX is 16.
local OPENBSD_ACT_MAX = 16
local OPENBSD_SIZES = {
    [0] = 20, [2] = 12, [4] = 84, [5] = 12, [6] = 264, [7] = 12, [10] = 12,
    [13] = 264, [14] = 264, [15] = 52,
}

local TIMEOUTS = {
    [0] = "PFTM_TCP_FIRST_PACKET", [1] = "PFTM_TCP_OPENING",
    [2] = "PFTM_TCP_ESTABLISHED", [3] = "PFTM_TCP_CLOSING",
    [4] = "PFTM_TCP_FIN_WAIT", [5] = "PFTM_TCP_CLOSED",
    [6] = "PFTM_UDP_FIRST_PACKET", [7] = "PFTM_UDP_SINGLE",
    [8] = "PFTM_UDP_MULTIPLE", [9] = "PFTM_ICMP_FIRST_PACKET",
    [10] = "PFTM_ICMP_ERROR_REPLY", [11] = "PFTM_OTHER_FIRST_PACKET",
    [12] = "PFTM_OTHER_SINGLE", [13] = "PFTM_OTHER_MULTIPLE",
    [14] = "PFTM_FRAG", [15] = "PFTM_INTERVAL", [16] = "PFTM_ADAPTIVE_START",
    [17] = "PFTM_ADAPTIVE_END", [18] = "PFTM_SRC_NODE", [19] = "PFTM_TS_DIFF",
    [20] = "PFTM_SCTP_FIRST_PACKET", [21] = "PFTM_SCTP_OPENING",
    [22] = "PFTM_SCTP_ESTABLISHED", [23] = "PFTM_SCTP_CLOSING",
    [24] = "PFTM_SCTP_CLOSED", [25] = "PFTM_MAX", [26] = "PFTM_PURGE",
    [27] = "PFTM_UNLINKED",
}
local PFTM_MAX = 25
-- OpenBSD has no SCTP timeouts: PFTM_MAX is 20 there.
local OPENBSD_TIMEOUTS = {}
for i = 0, 19 do OPENBSD_TIMEOUTS[i] = TIMEOUTS[i] end
OPENBSD_TIMEOUTS[20] = "PFTM_MAX"
OPENBSD_TIMEOUTS[21] = "PFTM_PURGE"
OPENBSD_TIMEOUTS[22] = "PFTM_UNLINKED"
local OPENBSD_PFTM_MAX = 20

local TCP_STATES = {
    [0] = "CLOSED", [1] = "LISTEN", [2] = "SYN_SENT", [3] = "SYN_RECEIVED",
    [4] = "ESTABLISHED", [5] = "CLOSE_WAIT", [6] = "FIN_WAIT_1", [7] = "CLOSING",
    [8] = "LAST_ACK", [9] = "FIN_WAIT_2", [10] = "TIME_WAIT",
    [11] = "PROXY_SRC", [12] = "PROXY_DST",
}
local PF_TCPS_PROXY_DST = 12
local DATAGRAM_STATES = { [0] = "NO_TRAFFIC", [1] = "SINGLE", [2] = "MULTIPLE" }

local DIRECTIONS = { [0] = "inout", [1] = "in", [2] = "out" }
local PF_OUT = 2
local ROUTE_TYPES = { [0] = "none", [1] = "fastroute", [2] = "route-to", [3] = "dup-to", [4] = "reply-to" }
local BUS_STATUS = { [1] = "START", [2] = "END" }
local VERSIONS = { [VERSION_FREEBSD] = "FreeBSD v5", [VERSION_OPENBSD] = "OpenBSD v6" }
local FAMILIES = { [AF_INET] = "inet", [AF_INET6_FREEBSD] = "inet6 (FreeBSD)", [AF_INET6_OPENBSD] = "inet6 (OpenBSD)" }

local f = pfsync.fields
-- header
f.version = ProtoField.uint8("pfsync.version", "Version", base.DEC, VERSIONS)
f.flavour = ProtoField.string("pfsync.flavour", "Dialect")
f.hdr_pad = ProtoField.uint8("pfsync.pad", "Padding", base.HEX)
f.len = ProtoField.uint16("pfsync.len", "Length", base.DEC)
f.pfcksum = ProtoField.bytes("pfsync.pfcksum", "Ruleset checksum")
f.spare = ProtoField.bytes("pfsync.spare", "Spare")
-- subheader
f.section = ProtoField.none("pfsync.section", "Section")
f.action = ProtoField.uint8("pfsync.action", "Action", base.DEC, FREEBSD_ACTIONS)
f.obsd_action = ProtoField.uint8("pfsync.openbsd.action", "Action", base.DEC, OPENBSD_ACTIONS)
f.action_name = ProtoField.string("pfsync.action_name", "Action name")
f.sub_pad = ProtoField.uint8("pfsync.subheader.pad", "Padding", base.HEX)
f.sub_len = ProtoField.uint8("pfsync.subheader.len", "Message length (32-bit words)")
f.count = ProtoField.uint16("pfsync.count", "Count", base.DEC)
f.msg_version = ProtoField.uint16("pfsync.msg_version", "Message version", base.DEC)
-- identities
f.id = ProtoField.uint64("pfsync.id", "State id", base.HEX)
f.creatorid = ProtoField.uint32("pfsync.creatorid", "Creator id", base.HEX)
f.ifname = ProtoField.stringz("pfsync.ifname", "Interface")
-- keys
f.key = ProtoField.none("pfsync.key", "State key")
f.addr4 = ProtoField.ipv4("pfsync.key.addr4", "Address")
f.addr6 = ProtoField.ipv6("pfsync.key.addr6", "Address")
f.addr_raw = ProtoField.bytes("pfsync.key.addr_raw", "Address (unknown family)")
f.port = ProtoField.uint16("pfsync.key.port", "Port", base.DEC)
f.rdomain = ProtoField.uint16("pfsync.key.rdomain", "Routing domain", base.DEC)
f.key_af = ProtoField.uint8("pfsync.key.af", "Address family", base.DEC, FAMILIES)
f.key_pad = ProtoField.uint8("pfsync.key.pad", "Padding", base.HEX)
-- peers
f.peer = ProtoField.none("pfsync.peer", "Peer")
f.pfss_flags = ProtoField.uint16("pfsync.peer.pfss_flags", "Scrub flags", base.HEX)
f.pfss_ttl = ProtoField.uint8("pfsync.peer.pfss_ttl", "Scrub TTL")
f.scrub_flag = ProtoField.uint8("pfsync.peer.scrub_flag", "Scrub valid")
f.pfss_ts_mod = ProtoField.uint32("pfsync.peer.pfss_ts_mod", "Timestamp modulator")
f.seqlo = ProtoField.uint32("pfsync.peer.seqlo", "seqlo")
f.seqhi = ProtoField.uint32("pfsync.peer.seqhi", "seqhi")
f.seqdiff = ProtoField.uint32("pfsync.peer.seqdiff", "seqdiff")
f.max_win = ProtoField.uint16("pfsync.peer.max_win", "Max window")
f.mss = ProtoField.uint16("pfsync.peer.mss", "MSS")
f.peer_state = ProtoField.uint8("pfsync.peer.state", "State")
f.peer_state_name = ProtoField.string("pfsync.peer.state_name", "State name")
f.wscale = ProtoField.uint8("pfsync.peer.wscale", "Window scale", base.HEX)
f.peer_pad = ProtoField.bytes("pfsync.peer.pad", "Padding")
-- full state
f.rt_addr4 = ProtoField.ipv4("pfsync.rt_addr4", "Route-to address")
f.rt_addr6 = ProtoField.ipv6("pfsync.rt_addr6", "Route-to address")
f.rt_addr_raw = ProtoField.bytes("pfsync.rt_addr_raw", "Route-to address (unknown family)")
f.rule = ProtoField.uint32("pfsync.rule", "Rule")
f.anchor = ProtoField.uint32("pfsync.anchor", "Anchor")
f.nat_rule = ProtoField.uint32("pfsync.nat_rule", "NAT rule")
f.creation = ProtoField.uint32("pfsync.creation", "Age (s)")
f.expire = ProtoField.uint32("pfsync.expire", "Expires in (s)")
f.packets = ProtoField.uint64("pfsync.packets", "Packets")
f.bytes = ProtoField.uint64("pfsync.bytes", "Bytes")
f.af = ProtoField.uint8("pfsync.af", "Address family", base.DEC, FAMILIES)
f.wire_af = ProtoField.uint8("pfsync.wire_af", "Wire address family", base.DEC, FAMILIES)
f.stack_af = ProtoField.uint8("pfsync.stack_af", "Stack address family", base.DEC, FAMILIES)
f.rt_af = ProtoField.uint8("pfsync.rt_af", "Route-to address family", base.DEC, FAMILIES)
f.proto = ProtoField.uint8("pfsync.proto", "Protocol")
f.wire_proto = ProtoField.uint8("pfsync.wire_proto", "Wire protocol")
f.stack_proto = ProtoField.uint8("pfsync.stack_proto", "Stack protocol")
f.direction = ProtoField.uint8("pfsync.direction", "Direction", base.DEC, DIRECTIONS)
f.log = ProtoField.uint8("pfsync.log", "Log flags", base.HEX)
f.state_flags = ProtoField.uint16("pfsync.state_flags", "State flags", base.HEX)
f.timeout = ProtoField.uint8("pfsync.timeout", "Timeout", base.DEC, TIMEOUTS)
f.obsd_timeout = ProtoField.uint8("pfsync.openbsd.timeout", "Timeout", base.DEC, OPENBSD_TIMEOUTS)
f.sync_flags = ProtoField.uint8("pfsync.sync_flags", "Sync flags", base.HEX)
f.updates = ProtoField.uint8("pfsync.updates", "Updates")
f.spare_bytes = ProtoField.bytes("pfsync.state.spare", "Spare")
f.qid = ProtoField.uint16("pfsync.qid", "Queue id")
f.pqid = ProtoField.uint16("pfsync.pqid", "Priority queue id")
f.dnpipe = ProtoField.uint16("pfsync.dnpipe", "Dummynet pipe")
f.dnrpipe = ProtoField.uint16("pfsync.dnrpipe", "Dummynet reverse pipe")
f.rtableid = ProtoField.int32("pfsync.rtableid", "Routing table")
f.min_ttl = ProtoField.uint8("pfsync.min_ttl", "Min TTL")
f.set_tos = ProtoField.uint8("pfsync.set_tos", "Set TOS", base.HEX)
f.max_mss = ProtoField.uint16("pfsync.max_mss", "Max MSS")
f.set_prio = ProtoField.uint8("pfsync.set_prio", "Set priority")
f.rt = ProtoField.uint8("pfsync.rt", "Route type", base.DEC, ROUTE_TYPES)
f.rt_ifname = ProtoField.stringz("pfsync.rt_ifname", "Route-to interface")
f.orig_ifname = ProtoField.stringz("pfsync.orig_ifname", "Original interface")
f.tagname = ProtoField.stringz("pfsync.tagname", "Tag")
-- small records
f.upd_pad = ProtoField.bytes("pfsync.upd_c.pad", "Padding")
f.endtime = ProtoField.uint32("pfsync.bus.endtime", "End time (s)")
f.bus_status = ProtoField.uint8("pfsync.bus.status", "Status", base.DEC, BUS_STATUS)
f.bus_pad = ProtoField.bytes("pfsync.bus.pad", "Padding")
f.bulk_request = ProtoField.bool("pfsync.upd_req.bulk", "Bulk update request")
f.spi = ProtoField.uint32("pfsync.tdb.spi", "SPI", base.HEX)
f.tdb_dst = ProtoField.bytes("pfsync.tdb.dst", "Destination (sockaddr_union)")
f.sa_len = ProtoField.uint8("pfsync.tdb.sa_len", "sa_len")
f.sa_family = ProtoField.uint8("pfsync.tdb.sa_family", "sa_family")
f.tdb_addr4 = ProtoField.ipv4("pfsync.tdb.addr4", "Destination address")
f.tdb_addr6 = ProtoField.ipv6("pfsync.tdb.addr6", "Destination address")
f.rpl = ProtoField.uint64("pfsync.tdb.rpl", "Replay counter")
f.cur_bytes = ProtoField.uint64("pfsync.tdb.cur_bytes", "Byte counter")
f.sproto = ProtoField.uint8("pfsync.tdb.sproto", "Security protocol")
f.tdb_rdomain = ProtoField.uint16("pfsync.tdb.rdomain", "Routing domain")
f.tdb_pad = ProtoField.bytes("pfsync.tdb.pad", "Padding")
f.trailing = ProtoField.bytes("pfsync.trailing", "Bytes after the last section")
f.record_extra = ProtoField.bytes("pfsync.record_extra", "Record bytes beyond the known layout")

-- Expert info, one per pfsyncstats counter a receiver would bump.
local ef = {
    hdrops = ProtoExpert.new("pfsync.hdrops", "Frame shorter than the pfsync header (hdrops)", expert.group.MALFORMED, expert.severity.ERROR),
    badver = ProtoExpert.new("pfsync.badver", "Unknown header version (badver)", expert.group.MALFORMED, expert.severity.ERROR),
    badlen = ProtoExpert.new("pfsync.badlen", "Length inconsistent with the bytes present (badlen)", expert.group.MALFORMED, expert.severity.ERROR),
    badact = ProtoExpert.new("pfsync.badact", "Action refused by a receiver (badact)", expert.group.MALFORMED, expert.severity.ERROR),
    badval = ProtoExpert.new("pfsync.badval", "Field value refused by a receiver (badval)", expert.group.PROTOCOL, expert.severity.WARN),
    truncated = ProtoExpert.new("pfsync.truncated", "Capture truncated inside a section", expert.group.MALFORMED, expert.severity.ERROR),
    badttl = ProtoExpert.new("pfsync.badttl", "IP TTL / hop limit is not 255 (badttl)", expert.group.PROTOCOL, expert.severity.WARN),
    short_len = ProtoExpert.new("pfsync.short_len", "Length shorter than the header", expert.group.PROTOCOL, expert.severity.NOTE),
    unknown = ProtoExpert.new("pfsync.unknown_action", "Unknown action skipped by its declared length", expert.group.UNDECODED, expert.severity.NOTE),
}
pfsync.experts = { ef.hdrops, ef.badver, ef.badlen, ef.badact, ef.badval, ef.truncated, ef.short_len, ef.badttl, ef.unknown }

local function family_name(af, openbsd)
    if af == AF_INET then return "inet" end
    if (openbsd and af == AF_INET6_OPENBSD) or (not openbsd and af == AF_INET6_FREEBSD) then
        return "inet6"
    end
    return nil
end

-- A 16-byte pf_addr shown as the family says.
local function add_addr(tree, range, af, openbsd, f4, f6, fraw)
    local fam = family_name(af, openbsd)
    if fam == "inet" then
        return tree:add(f4, range(0, 4)), tostring(range(0, 4):ipv4())
    elseif fam == "inet6" then
        return tree:add(f6, range), "[" .. tostring(range:ipv6()) .. "]"
    end
    return tree:add(fraw, range), "?"
end

local function add_key(tree, tvb, off, idx, af, openbsd)
    local size = openbsd and 40 or 36
    local kt = tree:add(f.key, tvb(off, size))
    if openbsd then
        af = tvb(off + 38, 1):uint()
    end
    local _, a0 = add_addr(kt, tvb(off, 16), af, openbsd, f.addr4, f.addr6, f.addr_raw)
    local _, a1 = add_addr(kt, tvb(off + 16, 16), af, openbsd, f.addr4, f.addr6, f.addr_raw)
    kt:add(f.port, tvb(off + 32, 2))
    kt:add(f.port, tvb(off + 34, 2))
    if openbsd then
        kt:add(f.rdomain, tvb(off + 36, 2))
        kt:add(f.key_af, tvb(off + 38, 1))
        kt:add(f.key_pad, tvb(off + 39, 1))
    end
    local text = string.format("%s:%d <> %s:%d", a0, tvb(off + 32, 2):uint(), a1, tvb(off + 34, 2):uint())
    kt:set_text(string.format("key[%d]: %s", idx, text))
    return text
end

local function state_name(proto, state)
    if proto == IPPROTO_TCP then return TCP_STATES[state] end
    if proto == 132 then return nil end
    return DATAGRAM_STATES[state]
end

local function add_peer(tree, tvb, off, label, proto)
    local pt = tree:add(f.peer, tvb(off, 32))
    pt:add(f.pfss_flags, tvb(off, 2))
    pt:add(f.pfss_ttl, tvb(off + 2, 1))
    pt:add(f.scrub_flag, tvb(off + 3, 1))
    pt:add(f.pfss_ts_mod, tvb(off + 4, 4))
    pt:add(f.seqlo, tvb(off + 8, 4))
    pt:add(f.seqhi, tvb(off + 12, 4))
    pt:add(f.seqdiff, tvb(off + 16, 4))
    pt:add(f.max_win, tvb(off + 20, 2))
    pt:add(f.mss, tvb(off + 22, 2))
    local st = tvb(off + 24, 1):uint()
    pt:add(f.peer_state, tvb(off + 24, 1))
    local name = proto and state_name(proto, st)
    if name then
        pt:add(f.peer_state_name, tvb(off + 24, 1), name)
    end
    pt:add(f.wscale, tvb(off + 25, 1))
    pt:add(f.peer_pad, tvb(off + 26, 6))
    pt:set_text(string.format("%s: state %s", label, name or tostring(st)))
    return st
end

-- The receive checks: every state message gets timeout and peer states;
-- an insert also gets direction and address family (FreeBSD and OpenBSD
-- check the latter two only for INS).
local function check_values(item, timeout, states, direction, af, openbsd)
    local max = openbsd and OPENBSD_PFTM_MAX or PFTM_MAX
    if timeout >= max then
        item:add_proto_expert_info(ef.badval, "timeout " .. timeout .. " >= PFTM_MAX (" .. max .. ")")
    end
    for _, s in ipairs(states) do
        if s > PF_TCPS_PROXY_DST then
            item:add_proto_expert_info(ef.badval, "peer state " .. s .. " > PF_TCPS_PROXY_DST")
        end
    end
    if direction > PF_OUT then
        item:add_proto_expert_info(ef.badval, "direction " .. direction .. " > PF_OUT")
    end
    if af and not family_name(af, openbsd) then
        item:add_proto_expert_info(ef.badval, "address family " .. af)
    end
end

-- A NUL-padded name field must hold a NUL (pf imports it as a C string).
local function check_name(item, tvb, off, len, what)
    for i = 0, len - 1 do
        if tvb(off + i, 1):uint() == 0 then return end
    end
    item:add_proto_expert_info(ef.badval, what .. " has no NUL in its " .. len .. " bytes")
end

local function add_counters(tree, field, tvb, off)
    -- u32[2][2]: per direction {high, low}, both big-endian.
    tree:add(field, tvb(off, 8), tvb(off, 8):uint64())
    tree:add(field, tvb(off + 8, 8), tvb(off + 8, 8):uint64())
end

-- FreeBSD full state, formats 1301/1400/1500 (shared prefix 0..231).
local function dissect_state(tvb, off, tree, format, insert)
    local t = tree
    local wire_af, stack_af, rt_af, proto
    if format == 1500 then
        wire_af = tvb(off + 344, 1):uint()
        stack_af = tvb(off + 345, 1):uint()
        rt_af = tvb(off + 346, 1):uint()
        proto = tvb(off + 347, 1):uint()
    else
        wire_af = tvb(off + 232, 1):uint()
        stack_af, rt_af = wire_af, wire_af
        proto = tvb(off + 233, 1):uint()
    end
    t:add(f.msg_version, format)
    t:add(f.id, tvb(off, 8))
    t:add(f.ifname, tvb(off + 8, 16))
    local k0 = add_key(t, tvb, off + 24, 0, wire_af, false)
    add_key(t, tvb, off + 60, 1, stack_af, false)
    local s1 = add_peer(t, tvb, off + 96, "src", proto)
    local s2 = add_peer(t, tvb, off + 128, "dst", proto)
    add_addr(t, tvb(off + 160, 16), rt_af, false, f.rt_addr4, f.rt_addr6, f.rt_addr_raw)
    t:add(f.rule, tvb(off + 176, 4))
    t:add(f.anchor, tvb(off + 180, 4))
    t:add(f.nat_rule, tvb(off + 184, 4))
    t:add(f.creation, tvb(off + 188, 4))
    t:add(f.expire, tvb(off + 192, 4))
    add_counters(t, f.packets, tvb, off + 196)
    add_counters(t, f.bytes, tvb, off + 212)
    t:add(f.creatorid, tvb(off + 228, 4))
    local timeout, direction
    if format == 1500 then
        t:add(f.tagname, tvb(off + 232, 64))
        t:add(f.rt_ifname, tvb(off + 296, 16))
        t:add(f.orig_ifname, tvb(off + 312, 16))
        t:add(f.rtableid, tvb(off + 328, 4))
        t:add(f.state_flags, tvb(off + 332, 2))
        t:add(f.qid, tvb(off + 334, 2))
        t:add(f.pqid, tvb(off + 336, 2))
        t:add(f.dnpipe, tvb(off + 338, 2))
        t:add(f.dnrpipe, tvb(off + 340, 2))
        t:add(f.max_mss, tvb(off + 342, 2))
        t:add(f.wire_af, tvb(off + 344, 1))
        t:add(f.stack_af, tvb(off + 345, 1))
        t:add(f.rt_af, tvb(off + 346, 1))
        t:add(f.wire_proto, tvb(off + 347, 1))
        t:add(f.stack_proto, tvb(off + 348, 1))
        t:add(f.log, tvb(off + 349, 1))
        t:add(f.timeout, tvb(off + 350, 1))
        t:add(f.direction, tvb(off + 351, 1))
        t:add(f.rt, tvb(off + 352, 1))
        t:add(f.min_ttl, tvb(off + 353, 1))
        t:add(f.set_tos, tvb(off + 354, 1))
        t:add(f.set_prio, tvb(off + 355, 1))
        t:add(f.set_prio, tvb(off + 356, 1))
        t:add(f.spare_bytes, tvb(off + 357, 3))
        timeout = tvb(off + 350, 1):uint()
        direction = tvb(off + 351, 1):uint()
    else
        t:add(f.af, tvb(off + 232, 1))
        t:add(f.proto, tvb(off + 233, 1))
        t:add(f.direction, tvb(off + 234, 1))
        direction = tvb(off + 234, 1):uint()
        if format == 1301 then
            t:add(f.spare_bytes, tvb(off + 235, 2))
            t:add(f.log, tvb(off + 237, 1))
            t:add(f.state_flags, tvb(off + 238, 1))
        else
            t:add(f.state_flags, tvb(off + 235, 2))
            t:add(f.log, tvb(off + 237, 1))
            t:add(f.spare_bytes, tvb(off + 238, 1))
        end
        t:add(f.timeout, tvb(off + 239, 1))
        t:add(f.sync_flags, tvb(off + 240, 1))
        t:add(f.updates, tvb(off + 241, 1))
        timeout = tvb(off + 239, 1):uint()
        if format == 1400 then
            t:add(f.qid, tvb(off + 242, 2))
            t:add(f.pqid, tvb(off + 244, 2))
            t:add(f.dnpipe, tvb(off + 246, 2))
            t:add(f.dnrpipe, tvb(off + 248, 2))
            t:add(f.rtableid, tvb(off + 250, 4))
            t:add(f.min_ttl, tvb(off + 254, 1))
            t:add(f.set_tos, tvb(off + 255, 1))
            t:add(f.max_mss, tvb(off + 256, 2))
            t:add(f.set_prio, tvb(off + 258, 1))
            t:add(f.set_prio, tvb(off + 259, 1))
            t:add(f.rt, tvb(off + 260, 1))
            t:add(f.rt_ifname, tvb(off + 261, 16))
        end
    end
    if insert then
        check_values(t, timeout, { s1, s2 }, direction, wire_af, false)
    else
        check_values(t, timeout, { s1, s2 }, 0, nil, false)
    end
    check_name(t, tvb, off + 8, 16, "ifname")
    if format == 1400 then
        check_name(t, tvb, off + 261, 16, "rt_ifname")
    elseif format == 1500 then
        check_name(t, tvb, off + 232, 64, "tagname")
        check_name(t, tvb, off + 296, 16, "rt_ifname")
        check_name(t, tvb, off + 312, 16, "orig_ifname")
    end
    return string.format("id %s creatorid %s %s", tvb(off, 8):bytes():tohex():lower(), tvb(off + 228, 4):bytes():tohex():lower(), k0)
end

-- OpenBSD pfsync_state (264 bytes).
local function dissect_openbsd_state(tvb, off, tree, action)
    local t = tree
    local af = tvb(off + 250, 1):uint()
    local proto = tvb(off + 251, 1):uint()
    t:add(f.id, tvb(off, 8))
    t:add(f.ifname, tvb(off + 8, 16))
    local k0 = add_key(t, tvb, off + 24, 0, af, true)
    add_key(t, tvb, off + 64, 1, af, true)
    local s1 = add_peer(t, tvb, off + 104, "src", proto)
    local s2 = add_peer(t, tvb, off + 136, "dst", proto)
    add_addr(t, tvb(off + 168, 16), af, true, f.rt_addr4, f.rt_addr6, f.rt_addr_raw)
    t:add(f.rule, tvb(off + 184, 4))
    t:add(f.anchor, tvb(off + 188, 4))
    t:add(f.nat_rule, tvb(off + 192, 4))
    t:add(f.creation, tvb(off + 196, 4))
    t:add(f.expire, tvb(off + 200, 4))
    add_counters(t, f.packets, tvb, off + 204)
    add_counters(t, f.bytes, tvb, off + 220)
    t:add(f.creatorid, tvb(off + 236, 4))
    t:add(f.rtableid, tvb(off + 240, 4))
    t:add(f.rtableid, tvb(off + 244, 4))
    t:add(f.max_mss, tvb(off + 248, 2))
    t:add(f.af, tvb(off + 250, 1))
    t:add(f.proto, tvb(off + 251, 1))
    t:add(f.direction, tvb(off + 252, 1))
    t:add(f.log, tvb(off + 253, 1))
    t:add(f.rt, tvb(off + 254, 1))
    t:add(f.obsd_timeout, tvb(off + 255, 1))
    t:add(f.sync_flags, tvb(off + 256, 1))
    t:add(f.updates, tvb(off + 257, 1))
    t:add(f.min_ttl, tvb(off + 258, 1))
    t:add(f.set_tos, tvb(off + 259, 1))
    t:add(f.state_flags, tvb(off + 260, 2))
    t:add(f.set_prio, tvb(off + 262, 1))
    t:add(f.set_prio, tvb(off + 263, 1))
    local timeout = tvb(off + 255, 1):uint()
    if action == 13 then
        check_values(t, timeout, { s1, s2 }, tvb(off + 252, 1):uint(), af, true)
        -- Key families may both be 0 (old senders); otherwise each must be valid.
        local af1, af2 = tvb(off + 24 + 38, 1):uint(), tvb(off + 64 + 38, 1):uint()
        if (af1 ~= 0 or af2 ~= 0) and (not family_name(af1, true) or not family_name(af2, true)) then
            t:add_proto_expert_info(ef.badval, string.format("key address families %d/%d", af1, af2))
        end
    elseif action == 14 then
        check_values(t, timeout, { s1, s2 }, 0, nil, true)
    end
    check_name(t, tvb, off + 8, 16, "ifname")
    return string.format("id %s creatorid %s %s", tvb(off, 8):bytes():tohex():lower(), tvb(off + 236, 4):bytes():tohex():lower(), k0)
end

local function dissect_id_pair(tvb, off, t)
    t:add(f.id, tvb(off, 8))
    t:add(f.creatorid, tvb(off + 8, 4))
    return string.format("id %s creatorid %s", tvb(off, 8):bytes():tohex():lower(), tvb(off + 8, 4):bytes():tohex():lower())
end

local function dissect_upd_c(tvb, off, t, openbsd)
    t:add(f.id, tvb(off, 8))
    local s1 = add_peer(t, tvb, off + 8, "src", nil)
    local s2 = add_peer(t, tvb, off + 40, "dst", nil)
    t:add(f.creatorid, tvb(off + 72, 4))
    t:add(f.expire, tvb(off + 76, 4))
    t:add(openbsd and f.obsd_timeout or f.timeout, tvb(off + 80, 1))
    if openbsd then
        t:add(f.state_flags, tvb(off + 81, 1))
        t:add(f.upd_pad, tvb(off + 82, 2))
    else
        t:add(f.upd_pad, tvb(off + 81, 3))
    end
    check_values(t, tvb(off + 80, 1):uint(), { s1, s2 }, 0, nil, openbsd)
    return string.format("id %s creatorid %s timeout %s", tvb(off, 8):bytes():tohex():lower(),
        tvb(off + 72, 4):bytes():tohex():lower(), TIMEOUTS[tvb(off + 80, 1):uint()] or tostring(tvb(off + 80, 1):uint()))
end

local function dissect_upd_req(tvb, off, t)
    local text = dissect_id_pair(tvb, off, t)
    local bulk = tvb(off, 8):uint64() == UInt64(0) and tvb(off + 8, 4):uint() == 0
    t:add(f.bulk_request, bulk)
    if bulk then text = text .. " (bulk update request)" end
    return text
end

local function dissect_clr(tvb, off, t)
    t:add(f.ifname, tvb(off, 16))
    t:add(f.creatorid, tvb(off + 16, 4))
    check_name(t, tvb, off, 16, "ifname")
    local name = tvb(off, 16):stringz()
    if name == "" then name = "(all)" end
    return string.format("ifname %s creatorid %s", name, tvb(off + 16, 4):bytes():tohex():lower())
end

local function dissect_bus(tvb, off, t)
    t:add(f.creatorid, tvb(off, 4))
    t:add(f.endtime, tvb(off + 4, 4))
    t:add(f.bus_status, tvb(off + 8, 1))
    t:add(f.bus_pad, tvb(off + 9, 3))
    local st = tvb(off + 8, 1):uint()
    return string.format("creatorid %s status %s endtime %d", tvb(off, 4):bytes():tohex():lower(),
        BUS_STATUS[st] or tostring(st), tvb(off + 4, 4):uint())
end

local function dissect_tdb(tvb, off, t, openbsd)
    t:add(f.spi, tvb(off, 4))
    local dt = t:add(f.tdb_dst, tvb(off + 4, 28))
    -- BSD sockaddr: sa_len, sa_family, then sin_port/sin6_port.
    dt:add(f.sa_len, tvb(off + 4, 1))
    dt:add(f.sa_family, tvb(off + 5, 1))
    local fam = tvb(off + 5, 1):uint()
    if fam == AF_INET then
        dt:add(f.tdb_addr4, tvb(off + 8, 4))
    elseif family_name(fam, openbsd) == "inet6" then
        dt:add(f.tdb_addr6, tvb(off + 12, 16))
    end
    if openbsd then
        t:add(f.rpl, tvb(off + 32, 8))
        t:add(f.cur_bytes, tvb(off + 40, 8))
        t:add(f.sproto, tvb(off + 48, 1))
        t:add(f.updates, tvb(off + 49, 1))
        t:add(f.tdb_rdomain, tvb(off + 50, 2))
    else
        t:add(f.rpl, tvb(off + 32, 4), tvb(off + 32, 4):uint64())
        t:add(f.cur_bytes, tvb(off + 36, 8))
        t:add(f.sproto, tvb(off + 44, 1))
        t:add(f.updates, tvb(off + 45, 1))
        t:add(f.tdb_pad, tvb(off + 46, 2))
    end
    return string.format("spi 0x%08x sproto %d", tvb(off, 4):uint(), tvb(off + (openbsd and 48 or 44), 1):uint())
end

local function dissect_record(tvb, off, t, action, openbsd)
    if openbsd then
        if action == 13 or action == 14 or action == 6 then return dissect_openbsd_state(tvb, off, t, action) end
        if action == 4 then return dissect_upd_c(tvb, off, t, true) end
        if action == 15 then return dissect_tdb(tvb, off, t, true) end
    else
        local format = STATE_FORMAT[action]
        if format then
            local insert = action == 1 or action == 13 or action == 15
            return dissect_state(tvb, off, t, format, insert)
        end
        if action == 4 then return dissect_upd_c(tvb, off, t, false) end
        if action == 11 then return dissect_tdb(tvb, off, t, false) end
    end
    if action == 0 then return dissect_clr(tvb, off, t) end
    if action == 5 then return dissect_upd_req(tvb, off, t) end
    if action == 2 or action == 7 then return dissect_id_pair(tvb, off, t) end
    if action == 10 then return dissect_bus(tvb, off, t) end
    return ""
end

-- Receivers require TTL / hop limit 255 (PFSYNC_DFLTTL) before anything else.
local ip_ttl = Field.new("ip.ttl")
local ipv6_hlim = Field.new("ipv6.hlim")
local PFSYNC_DFLTTL = 255

local function check_ttl(root)
    -- The innermost IP header is the one that carried this frame.
    local values = { ip_ttl() }
    local v6 = { ipv6_hlim() }
    local ttl = values[#values]
    if #v6 > 0 and (ttl == nil or v6[#v6].offset > ttl.offset) then
        ttl = v6[#v6]
    end
    if ttl ~= nil and ttl.value ~= PFSYNC_DFLTTL then
        root:add_proto_expert_info(ef.badttl, "TTL " .. ttl.value .. ": receivers drop the packet")
    end
end

function pfsync.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol = "PFSYNC"
    local root = tree:add(pfsync, tvb())
    check_ttl(root)
    if tvb:len() < HEADER_LEN then
        root:add_proto_expert_info(ef.hdrops, "only " .. tvb:len() .. " bytes, header needs 20")
        pinfo.cols.info = "pfsync (truncated header)"
        return tvb:len()
    end
    local version = tvb(0, 1):uint()
    local openbsd = version == VERSION_OPENBSD
    local vitem = root:add(f.version, tvb(0, 1))
    root:add(f.flavour, tvb(0, 1), openbsd and "OpenBSD" or (version == VERSION_FREEBSD and "FreeBSD" or "unknown"))
    root:add(f.hdr_pad, tvb(1, 1))
    local litem = root:add(f.len, tvb(2, 2))
    root:add(openbsd and f.spare or f.pfcksum, tvb(4, 16))
    local flen = tvb(2, 2):uint()
    root:append_text(string.format(", %s, len %d", VERSIONS[version] or ("version " .. version), flen))
    if version ~= VERSION_FREEBSD and version ~= VERSION_OPENBSD then
        vitem:add_proto_expert_info(ef.badver, "version " .. version .. " is neither FreeBSD 5 nor OpenBSD 6")
        pinfo.cols.info = "pfsync version " .. version .. " (unknown)"
        return tvb:len()
    end
    local limit = flen
    if flen > tvb:reported_length_remaining() then
        -- Receivers drop the whole frame here (badlen); so does the dissector.
        litem:add_proto_expert_info(ef.badlen, string.format("len %d exceeds the %d bytes present; frame dropped", flen, tvb:reported_length_remaining()))
        pinfo.cols.info = string.format("pfsync %s: len %d beyond the packet", VERSIONS[version], flen)
        return tvb:len()
    elseif flen < HEADER_LEN then
        -- Not an error for a receiver: its section loop simply never starts.
        litem:add_proto_expert_info(ef.short_len, string.format("len %d is shorter than the header: no sections", flen))
        limit = HEADER_LEN
    end
    if limit > tvb:len() then limit = tvb:len() end

    local summary = {}
    local off = HEADER_LEN
    local stopped = false
    while off + SUBHEADER_LEN <= limit and not stopped do
        local action = tvb(off, 1):uint()
        local len_words = tvb(off + 1, 1):uint()
        local count = tvb(off + 2, 2):uint()
        local names = openbsd and OPENBSD_ACTIONS or FREEBSD_ACTIONS
        local name = names[action] or ("ACTION_" .. action)
        local size
        if openbsd then
            size = len_words * 4
        else
            size = FREEBSD_SIZES[action]
        end
        local body = count * (size or 0)
        local sec_len = SUBHEADER_LEN + math.min(body, math.max(0, limit - off - SUBHEADER_LEN))
        local sec = root:add(f.section, tvb(off, sec_len))
        sec:set_text(string.format("%s, count %d", name, count))
        if openbsd then
            sec:add(f.obsd_action, tvb(off, 1))
            sec:add(f.action_name, tvb(off, 1), name)
            sec:add(f.sub_len, tvb(off + 1, 1))
        else
            sec:add(f.action, tvb(off, 1))
            sec:add(f.action_name, tvb(off, 1), name)
            sec:add(f.sub_pad, tvb(off + 1, 1))
        end
        sec:add(f.count, tvb(off + 2, 2))
        off = off + SUBHEADER_LEN
        if not openbsd and action >= FREEBSD_ACT_MAX then
            sec:add_proto_expert_info(ef.badact, "action " .. action .. " >= PFSYNC_ACT_MAX; rest of frame dropped")
            summary[#summary + 1] = name .. "!"
            stopped = true
        elseif not openbsd and size == nil then
            sec:add_proto_expert_info(ef.badact, name .. " is refused by FreeBSD receivers; rest of frame dropped")
            summary[#summary + 1] = name .. "!"
            stopped = true
        elseif openbsd and (action >= OPENBSD_ACT_MAX or (OPENBSD_SIZES[action] and size < OPENBSD_SIZES[action]))
            and (count == 0 or size == 0) then
            -- OpenBSD can skip what it does not know only if told how long it is.
            sec:add_proto_expert_info(ef.badact, string.format("%s with count %d and length %d cannot be skipped; rest of frame dropped", name, count, size))
            summary[#summary + 1] = name .. "!"
            stopped = true
        elseif off + body > limit then
            if off + body <= flen and limit < flen then
                sec:add_proto_expert_info(ef.truncated, string.format("%d x %d bytes of %s, %d captured", count, size, name, limit - off))
                summary[#summary + 1] = name .. " (cut)"
            else
                sec:add_proto_expert_info(ef.badlen, string.format("%d x %d bytes of %s, %d left", count, size, name, limit - off))
            end
            stopped = true
        elseif not openbsd and action == 12 then
            summary[#summary + 1] = "EOF"
            if off ~= flen then
                sec:add_proto_expert_info(ef.badlen, string.format("EOF at %d, frame length %d", off, flen))
            end
            stopped = true
        else
            -- OpenBSD decodes the actions in its table whose records are at
            -- least as long as its own; it steps over everything else.
            local known = not openbsd or (OPENBSD_SIZES[action] ~= nil and size >= OPENBSD_SIZES[action])
            if not known and count > 0 then
                sec:add_proto_expert_info(ef.unknown, name .. " skipped")
            end
            for i = 1, count do
                if known and size > 0 then
                    local mt = sec:add(tvb(off, size), string.format("%s [%d]", name, i))
                    local text = dissect_record(tvb, off, mt, action, openbsd)
                    mt:set_text(string.format("%s [%d] %s", name, i, text))
                    local min = openbsd and OPENBSD_SIZES[action] or size
                    if size > min then
                        mt:add(f.record_extra, tvb(off + min, size - min))
                    end
                end
                off = off + size
            end
            summary[#summary + 1] = count == 1 and name or string.format("%s x%d", name, count)
        end
    end
    if not stopped and off < limit then
        root:add(f.trailing, tvb(off, limit - off))
    end
    pinfo.cols.info = string.format("pfsync %s: %s", VERSIONS[version], table.concat(summary, ", "))
    return tvb:len()
end

DissectorTable.get("ip.proto"):add(240, pfsync)

-- Wireshark 4.0 does not map LINKTYPE_PFSYNC (246) to any encapsulation, so
-- such files cannot be opened at all; FreeBSD's DLT_PFSYNC 121 arrives as
-- WTAP_ENCAP_HHDLC, which has no dissector of its own, so claim it.
local encaps = DissectorTable.get("wtap_encap")
if wtap_encaps and wtap_encaps.PFSYNC then
    encaps:add(wtap_encaps.PFSYNC, pfsync)
end
if wtap_encaps and wtap_encaps.HHDLC and encaps:get_dissector(wtap_encaps.HHDLC) == nil then
    encaps:add(wtap_encaps.HHDLC, pfsync)
end
