//! OpenBSD full states (header version 6, actions INS/UPD/DEL) as text.

use pfsync::wire::{OpenBsdState, OpenBsdStateKey};

use crate::addr::{endpoint, pf_addr, Dialect};
use crate::names;
use crate::text::state::{display_name, peer, rule_number};

fn key(k: &OpenBsdStateKey) -> String {
    format!(
        "{} <> {} rdomain {}",
        endpoint(&k.addr[0], &k.port[0], k.af, Dialect::OpenBsd),
        endpoint(&k.addr[1], &k.port[1], k.af, Dialect::OpenBsd),
        k.rdomain
    )
}

pub fn brief(s: &OpenBsdState) -> String {
    format!(
        "id {} creatorid {} {} {} {} {}:{} if {} {} expire {} timeout {}",
        names::hex(&s.id.id),
        names::hex(&s.id.creatorid),
        names::af(s.af, true),
        names::ip_proto(s.proto),
        key(&s.key[0]),
        names::peer_state(s.proto, s.src.state),
        names::peer_state(s.proto, s.dst.state),
        display_name(s.ifname.as_bytes()),
        names::direction(s.direction),
        s.expire,
        names::timeout_openbsd(s.timeout),
    )
}

pub fn verbose(s: &OpenBsdState) -> Vec<String> {
    vec![
        format!(
            "OpenBSD state id {} creatorid {} ifname {}",
            names::hex(&s.id.id),
            names::hex(&s.id.creatorid),
            display_name(s.ifname.as_bytes())
        ),
        format!("key[0] (wire) {} {}", names::af(s.key[0].af, true), key(&s.key[0])),
        format!("key[1] (stack) {} {}", names::af(s.key[1].af, true), key(&s.key[1])),
        peer("src", &s.src, s.proto),
        peer("dst", &s.dst, s.proto),
        format!(
            "rt_addr {} rt {} rule {} anchor {} nat_rule {}",
            pf_addr(&s.rt_addr, s.af, Dialect::OpenBsd),
            names::route_type(s.rt),
            rule_number(s.rule),
            rule_number(s.anchor),
            rule_number(s.nat_rule)
        ),
        format!(
            "creation {} expire {} packets {}/{} bytes {}/{}",
            s.creation, s.expire, s.packets[0], s.packets[1], s.bytes[0], s.bytes[1]
        ),
        format!(
            "af {} proto {} direction {} log {} state_flags {} (0x{:04x}) timeout {} ({}) sync_flags {}",
            names::af(s.af, true),
            names::ip_proto(s.proto),
            names::direction(s.direction),
            names::log_flags(s.log),
            names::state_flags(s.state_flags),
            s.state_flags.bits(),
            names::timeout_openbsd(s.timeout),
            s.timeout,
            names::sync_flags(s.sync_flags)
        ),
        format!(
            "rtableid {},{} max_mss {} min_ttl {} set_tos 0x{:02x} set_prio {},{}",
            s.rtableid[0],
            s.rtableid[1],
            s.max_mss,
            s.min_ttl,
            s.set_tos,
            s.set_prio[0],
            s.set_prio[1]
        ),
    ]
}
