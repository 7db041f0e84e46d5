//! OpenBSD full states as JSON, under OpenBSD's struct member names.

use serde_json::{json, Map, Value};

use pfsync::wire::{OpenBsdState, OpenBsdStateKey};

use crate::addr::{pf_addr, port, Dialect};
use crate::json::state::peer;
use crate::names;

fn key(k: &OpenBsdStateKey) -> Value {
    json!({
        "addr": [pf_addr(&k.addr[0], k.af, Dialect::OpenBsd), pf_addr(&k.addr[1], k.af, Dialect::OpenBsd)],
        "port": [port(&k.port[0]), port(&k.port[1])],
        "rdomain": k.rdomain,
        "af": k.af,
    })
}

pub fn state(s: &OpenBsdState) -> Map<String, Value> {
    let v = json!({
        "id": names::hex(&s.id.id),
        "ifname": names::text(s.ifname.as_bytes()),
        "key": [key(&s.key[0]), key(&s.key[1])],
        "src": peer(&s.src, Some(s.proto)),
        "dst": peer(&s.dst, Some(s.proto)),
        "rt_addr": pf_addr(&s.rt_addr, s.af, Dialect::OpenBsd),
        "rule": s.rule,
        "anchor": s.anchor,
        "nat_rule": s.nat_rule,
        "creation": s.creation,
        "expire": s.expire,
        "packets": s.packets,
        "bytes": s.bytes,
        "creatorid": names::hex(&s.id.creatorid),
        "rtableid": s.rtableid,
        "max_mss": s.max_mss,
        "af": s.af,
        "proto": s.proto,
        "direction": s.direction,
        "log": s.log,
        "rt": s.rt,
        "timeout": s.timeout,
        "timeout_name": names::timeout_openbsd(s.timeout),
        "sync_flags": s.sync_flags.bits(),
        "min_ttl": s.min_ttl,
        "set_tos": s.set_tos,
        "state_flags": s.state_flags.bits(),
        "set_prio": s.set_prio,
        "af_name": names::af(s.af, true),
        "proto_name": names::ip_proto(s.proto),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
