//! Full states as JSON, under FreeBSD's struct member names; each format
//! shows only the members it has.

use serde_json::{json, Map, Value};

use pfsync::wire::{MsgVersion, Peer, StateKey, StateRecord};

use crate::addr::{pf_addr, port, Dialect};
use crate::names;
pub fn state(s: &StateRecord, format: MsgVersion) -> Map<String, Value> {
    let dialect = Dialect::FreeBsd;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("id", json!(names::hex(&s.id.id)));
    put("ifname", json!(names::text(s.ifname.as_bytes())));
    put(
        "key",
        json!([
            key(&s.key[0], s.wire_af, dialect),
            key(&s.key[1], s.stack_af, dialect)
        ]),
    );
    put("src", peer(&s.src, Some(s.wire_proto)));
    put("dst", peer(&s.dst, Some(s.wire_proto)));
    put("rt_addr", json!(pf_addr(&s.rt_addr, s.rt_af, dialect)));
    put("rule", json!(s.rule));
    put("anchor", json!(s.anchor));
    put("nat_rule", json!(s.nat_rule));
    put("creation", json!(s.creation));
    put("expire", json!(s.expire));
    put("packets", json!(s.packets));
    put("bytes", json!(s.bytes));
    put("creatorid", json!(names::hex(&s.id.creatorid)));
    put("log", json!(s.log));
    put("timeout", json!(s.timeout));
    put("timeout_name", json!(names::timeout(s.timeout)));
    put("direction", json!(s.direction));
    put("state_flags", json!(s.state_flags.bits()));
    match format {
        MsgVersion::V1500 => {
            put("tagname", json!(names::text(s.tagname.as_bytes())));
            put("rt_ifname", json!(names::text(s.rt_ifname.as_bytes())));
            put("orig_ifname", json!(names::text(s.orig_ifname.as_bytes())));
            put("rtableid", json!(s.rtableid));
            put("qid", json!(s.qid));
            put("pqid", json!(s.pqid));
            put("dnpipe", json!(s.dnpipe));
            put("dnrpipe", json!(s.dnrpipe));
            put("max_mss", json!(s.max_mss));
            put("wire_af", json!(s.wire_af));
            put("stack_af", json!(s.stack_af));
            put("rt_af", json!(s.rt_af));
            put("wire_proto", json!(s.wire_proto));
            put("stack_proto", json!(s.stack_proto));
            put("rt", json!(s.rt));
            put("min_ttl", json!(s.min_ttl));
            put("set_tos", json!(s.set_tos));
            put("set_prio", json!(s.set_prio));
        }
        v => {
            put("af", json!(s.wire_af));
            put("proto", json!(s.wire_proto));
            put("sync_flags", json!(s.sync_flags.bits()));
            if v == MsgVersion::V1400 {
                put("qid", json!(s.qid));
                put("pqid", json!(s.pqid));
                put("dnpipe", json!(s.dnpipe));
                put("dnrpipe", json!(s.dnrpipe));
                put("rtableid", json!(s.rtableid));
                put("min_ttl", json!(s.min_ttl));
                put("set_tos", json!(s.set_tos));
                put("max_mss", json!(s.max_mss));
                put("set_prio", json!(s.set_prio));
                put("rt", json!(s.rt));
                put("rt_ifname", json!(names::text(s.rt_ifname.as_bytes())));
            }
        }
    }
    put("af_name", json!(names::af(s.wire_af, false)));
    put("proto_name", json!(names::ip_proto(s.wire_proto)));
    m
}

pub fn key(k: &StateKey, af: u8, dialect: Dialect) -> Value {
    json!({
        "addr": [pf_addr(&k.addr[0], af, dialect), pf_addr(&k.addr[1], af, dialect)],
        "port": [port(&k.port[0]), port(&k.port[1])],
    })
}

pub fn peer(p: &Peer, proto: Option<u8>) -> Value {
    let mut v = json!({
        "scrub": {
            "pfss_flags": p.scrub.pfss_flags,
            "pfss_ttl": p.scrub.pfss_ttl,
            "scrub_flag": p.scrub.scrub_flag,
            "pfss_ts_mod": p.scrub.pfss_ts_mod,
        },
        "seqlo": p.seqlo,
        "seqhi": p.seqhi,
        "seqdiff": p.seqdiff,
        "max_win": p.max_win,
        "mss": p.mss,
        "state": p.state,
        "wscale": p.wscale,
    });
    if let (Some(proto), Some(obj)) = (proto, v.as_object_mut()) {
        obj.insert(
            "state_name".into(),
            json!(names::peer_state(proto, p.state)),
        );
    }
    v
}
