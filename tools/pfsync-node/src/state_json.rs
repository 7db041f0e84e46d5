//! JSON form of a [`StateRecord`] for the control channel.
//!
//! Every field of the record is present on output so tests can compare whole
//! tables; on input every field but `id` is optional and takes the record's
//! default. Ids are hex strings (16 digits for `id`, 8 for `creatorid`) or
//! plain numbers; addresses are printed by family (FreeBSD `AF_INET` 2,
//! `AF_INET6` 28) and parsed from either notation.

use std::net::{Ipv4Addr, Ipv6Addr};

use pfsync::wire::{IfName, Peer, Scrub, StateId, StateKey, StateRecord, TagName};
use pfsync::wire::{StateFlags, SyncFlags};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const AF_INET: u8 = 2;
/// FreeBSD's value, which is what travels on the wire (Linux uses 10).
pub const AF_INET6: u8 = 28;

#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ScrubJson {
    pub flags: u16,
    pub ttl: u8,
    pub valid: u8,
    pub ts_mod: u32,
}

#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PeerJson {
    pub seqlo: u32,
    pub seqhi: u32,
    pub seqdiff: u32,
    pub max_win: u16,
    pub mss: u16,
    pub state: u8,
    pub wscale: u8,
    pub scrub: ScrubJson,
}

#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KeyJson {
    pub addr: [String; 2],
    pub port: [u16; 2],
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StateJson {
    pub id: Value,
    pub creatorid: Value,
    pub ifname: String,
    pub key: Vec<KeyJson>,
    pub src: PeerJson,
    pub dst: PeerJson,
    pub rt_addr: String,
    pub rule: u32,
    pub anchor: u32,
    pub nat_rule: u32,
    pub creation: u32,
    pub expire: u32,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub af: u8,
    pub stack_af: Option<u8>,
    pub proto: u8,
    pub stack_proto: Option<u8>,
    pub direction: u8,
    pub log: u8,
    pub state_flags: u16,
    pub timeout: u8,
    pub sync_flags: u8,
    pub qid: u16,
    pub pqid: u16,
    pub dnpipe: u16,
    pub dnrpipe: u16,
    pub rtableid: i32,
    pub min_ttl: u8,
    pub set_tos: u8,
    pub max_mss: u16,
    pub set_prio: [u8; 2],
    pub rt: u8,
    pub rt_af: Option<u8>,
    pub rt_ifname: String,
    pub orig_ifname: String,
    pub tagname: String,
    /// OpenBSD: routing domain of each key.
    pub rdomain: [u16; 2],
    /// OpenBSD: routing table of the stack-side key.
    pub stack_rtableid: i32,
}

impl Default for StateJson {
    fn default() -> Self {
        let d = StateRecord::default();
        StateJson {
            id: Value::Null,
            creatorid: Value::Null,
            ifname: String::new(),
            key: Vec::new(),
            src: PeerJson::default(),
            dst: PeerJson::default(),
            rt_addr: String::new(),
            rule: d.rule,
            anchor: d.anchor,
            nat_rule: d.nat_rule,
            creation: 0,
            expire: 0,
            packets: [0; 2],
            bytes: [0; 2],
            af: AF_INET,
            stack_af: None,
            proto: 6,
            stack_proto: None,
            direction: 0,
            log: 0,
            state_flags: 0,
            timeout: 0,
            sync_flags: 0,
            qid: 0,
            pqid: 0,
            dnpipe: 0,
            dnrpipe: 0,
            rtableid: d.rtableid,
            min_ttl: 0,
            set_tos: 0,
            max_mss: 0,
            set_prio: [0; 2],
            rt: 0,
            rt_af: None,
            rt_ifname: String::new(),
            orig_ifname: String::new(),
            tagname: String::new(),
            rdomain: d.rdomain,
            stack_rtableid: d.stack_rtableid,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A number, or a hex string of at most `N` bytes (right-aligned, big-endian).
fn parse_id_bytes<const N: usize>(v: &Value, what: &str) -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    match v {
        Value::Number(n) => {
            let n = n
                .as_u64()
                .ok_or_else(|| format!("{what}: not an unsigned integer"))?;
            let be = n.to_be_bytes();
            if N < 8 && n >> (8 * N) != 0 {
                return Err(format!("{what}: {n} does not fit {N} bytes"));
            }
            out.copy_from_slice(&be[8 - N..]);
            Ok(out)
        }
        Value::String(s) => {
            let s = s.trim_start_matches("0x");
            if s.is_empty() || s.len() > 2 * N || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{what}: expected up to {} hex digits", 2 * N));
            }
            let padded = format!("{s:0>width$}", width = 2 * N);
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&padded[2 * i..2 * i + 2], 16)
                    .map_err(|e| format!("{what}: {e}"))?;
            }
            Ok(out)
        }
        _ => Err(format!("{what}: missing")),
    }
}

/// Parses the `id`/`creatorid` pair that names a state in requests.
pub fn parse_state_id(v: &Value) -> Result<StateId, String> {
    let id = parse_id_bytes::<8>(v.get("id").unwrap_or(&Value::Null), "id")?;
    let creatorid = parse_id_bytes::<4>(v.get("creatorid").unwrap_or(&Value::Null), "creatorid")?;
    Ok(StateId { id, creatorid })
}

pub fn state_id_json(id: &StateId) -> (String, String) {
    (hex(&id.id), hex(&id.creatorid))
}

fn addr_to_string(addr: &[u8; 16], af: u8) -> String {
    match af {
        AF_INET => Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
        AF_INET6 => Ipv6Addr::from(*addr).to_string(),
        _ if addr.iter().all(|&b| b == 0) => String::new(),
        _ => hex(addr),
    }
}

fn parse_addr(s: &str, what: &str) -> Result<[u8; 16], String> {
    let mut out = [0u8; 16];
    if s.is_empty() {
        return Ok(out);
    }
    if s.contains(':') {
        let a: Ipv6Addr = s.parse().map_err(|e| format!("{what}: {e}"))?;
        out = a.octets();
    } else {
        let a: Ipv4Addr = s.parse().map_err(|e| format!("{what}: {e}"))?;
        out[..4].copy_from_slice(&a.octets());
    }
    Ok(out)
}

fn peer_to_json(p: &Peer) -> PeerJson {
    PeerJson {
        seqlo: p.seqlo,
        seqhi: p.seqhi,
        seqdiff: p.seqdiff,
        max_win: p.max_win,
        mss: p.mss,
        state: p.state,
        wscale: p.wscale,
        scrub: ScrubJson {
            flags: p.scrub.pfss_flags,
            ttl: p.scrub.pfss_ttl,
            valid: p.scrub.scrub_flag,
            ts_mod: p.scrub.pfss_ts_mod,
        },
    }
}

fn peer_from_json(p: &PeerJson) -> Peer {
    Peer {
        scrub: Scrub {
            pfss_flags: p.scrub.flags,
            pfss_ttl: p.scrub.ttl,
            scrub_flag: p.scrub.valid,
            pfss_ts_mod: p.scrub.ts_mod,
        },
        seqlo: p.seqlo,
        seqhi: p.seqhi,
        seqdiff: p.seqdiff,
        max_win: p.max_win,
        mss: p.mss,
        state: p.state,
        wscale: p.wscale,
    }
}

fn name_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn record_to_json(r: &StateRecord) -> StateJson {
    let (id, creatorid) = state_id_json(&r.id);
    let key_json = |k: &StateKey, af: u8| KeyJson {
        addr: [
            addr_to_string(&k.addr[0], af),
            addr_to_string(&k.addr[1], af),
        ],
        port: [u16::from_be_bytes(k.port[0]), u16::from_be_bytes(k.port[1])],
    };
    StateJson {
        id: Value::String(id),
        creatorid: Value::String(creatorid),
        ifname: name_string(r.ifname.as_bytes()),
        key: vec![
            key_json(&r.key[0], r.wire_af),
            key_json(&r.key[1], r.stack_af),
        ],
        src: peer_to_json(&r.src),
        dst: peer_to_json(&r.dst),
        rt_addr: addr_to_string(&r.rt_addr, r.rt_af),
        rule: r.rule,
        anchor: r.anchor,
        nat_rule: r.nat_rule,
        creation: r.creation,
        expire: r.expire,
        packets: r.packets,
        bytes: r.bytes,
        af: r.wire_af,
        stack_af: Some(r.stack_af),
        proto: r.wire_proto,
        stack_proto: Some(r.stack_proto),
        direction: r.direction,
        log: r.log,
        state_flags: r.state_flags.bits(),
        timeout: r.timeout,
        sync_flags: r.sync_flags.bits(),
        qid: r.qid,
        pqid: r.pqid,
        dnpipe: r.dnpipe,
        dnrpipe: r.dnrpipe,
        rtableid: r.rtableid,
        min_ttl: r.min_ttl,
        set_tos: r.set_tos,
        max_mss: r.max_mss,
        set_prio: r.set_prio,
        rt: r.rt,
        rt_af: Some(r.rt_af),
        rt_ifname: name_string(r.rt_ifname.as_bytes()),
        orig_ifname: name_string(r.orig_ifname.as_bytes()),
        tagname: name_string(r.tagname.as_bytes()),
        rdomain: r.rdomain,
        stack_rtableid: r.stack_rtableid,
    }
}

fn ifname(s: &str, what: &str) -> Result<IfName, String> {
    IfName::new(s).ok_or_else(|| format!("{what}: at most 15 bytes, no NUL"))
}

pub fn record_from_json(v: &Value) -> Result<StateRecord, String> {
    let j: StateJson = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let id = parse_state_id(v)?;
    let mut keys = [StateKey::default(); 2];
    for (i, key) in keys.iter_mut().enumerate() {
        // A single key means "no NAT": both sides equal.
        let Some(k) = j.key.get(i).or_else(|| j.key.first()) else {
            break;
        };
        key.addr = [
            parse_addr(&k.addr[0], "key addr")?,
            parse_addr(&k.addr[1], "key addr")?,
        ];
        key.port = [k.port[0].to_be_bytes(), k.port[1].to_be_bytes()];
    }
    let tagname = TagName::new(&j.tagname).ok_or("tagname: at most 63 bytes, no NUL")?;
    Ok(StateRecord {
        id,
        ifname: ifname(&j.ifname, "ifname")?,
        key: keys,
        src: peer_from_json(&j.src),
        dst: peer_from_json(&j.dst),
        rt_addr: parse_addr(&j.rt_addr, "rt_addr")?,
        rule: j.rule,
        anchor: j.anchor,
        nat_rule: j.nat_rule,
        creation: j.creation,
        expire: j.expire,
        packets: j.packets,
        bytes: j.bytes,
        wire_af: j.af,
        stack_af: j.stack_af.unwrap_or(j.af),
        wire_proto: j.proto,
        stack_proto: j.stack_proto.unwrap_or(j.proto),
        direction: j.direction,
        log: j.log,
        state_flags: StateFlags::from_bits_retain(j.state_flags),
        timeout: j.timeout,
        sync_flags: SyncFlags::from_bits_retain(j.sync_flags),
        qid: j.qid,
        pqid: j.pqid,
        dnpipe: j.dnpipe,
        dnrpipe: j.dnrpipe,
        rtableid: j.rtableid,
        min_ttl: j.min_ttl,
        set_tos: j.set_tos,
        max_mss: j.max_mss,
        set_prio: j.set_prio,
        rt: j.rt,
        rt_af: j.rt_af.unwrap_or(j.af),
        rt_ifname: ifname(&j.rt_ifname, "rt_ifname")?,
        orig_ifname: ifname(&j.orig_ifname, "orig_ifname")?,
        tagname,
        rdomain: j.rdomain,
        stack_rtableid: j.stack_rtableid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_every_field() {
        let input = json!({
            "id": "00000000000000ff", "creatorid": 3, "ifname": "veth0",
            "af": 2, "proto": 6,
            "key": [{"addr": ["10.0.0.1", "10.0.0.2"], "port": [1234, 80]}],
            "src": {"seqlo": 1000, "seqhi": 2000, "max_win": 65535, "state": 4, "wscale": 7},
            "dst": {"seqlo": 5000, "max_win": 512, "state": 4},
            "timeout": 4, "direction": 1, "packets": [3, 4], "tagname": "web"
        });
        let rec = record_from_json(&input).unwrap();
        assert_eq!(rec.id.id, [0, 0, 0, 0, 0, 0, 0, 0xff]);
        assert_eq!(rec.id.creatorid, [0, 0, 0, 3]);
        assert_eq!(rec.key[1], rec.key[0], "one key means both sides");
        assert_eq!(rec.key[0].port[1], [0, 80]);
        assert_eq!(rec.src.max_win, 65535);
        let back = serde_json::to_value(record_to_json(&rec)).unwrap();
        assert_eq!(back["id"], "00000000000000ff");
        assert_eq!(back["creatorid"], "00000003");
        assert_eq!(back["key"][0]["addr"][1], "10.0.0.2");
        assert_eq!(record_from_json(&back).unwrap(), rec);
    }

    #[test]
    fn ipv6_addresses_use_the_freebsd_family() {
        let input = json!({"id": 1, "creatorid": 1, "af": 28,
            "key": [{"addr": ["2001:db8::1", "2001:db8::2"], "port": [1, 2]}]});
        let rec = record_from_json(&input).unwrap();
        let back = record_to_json(&rec);
        assert_eq!(back.key[0].addr[0], "2001:db8::1");
    }

    #[test]
    fn bad_ids_and_names_are_refused() {
        assert!(record_from_json(&json!({"creatorid": 1})).is_err());
        assert!(record_from_json(&json!({"id": "xyz", "creatorid": 1})).is_err());
        assert!(record_from_json(&json!({"id": 1, "creatorid": 4294967296u64})).is_err());
        assert!(record_from_json(
            &json!({"id": 1, "creatorid": 1, "ifname": "a-very-long-ifname"})
        )
        .is_err());
        assert!(record_from_json(&json!({"id": 1, "creatorid": 1, "bogus": 1})).is_err());
    }
}
