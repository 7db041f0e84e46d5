//! FreeBSD full states (INS/UPD in formats 1301, 1400, 1500) as text.

use pfsync::wire::{MsgVersion, Peer, StateRecord};

use crate::addr::{key, pf_addr, Dialect};
use crate::names;

/// The one-line form: identity, connection, peer states, expiry.
pub fn brief(s: &StateRecord, format: MsgVersion) -> String {
    let dialect = Dialect::FreeBsd;
    let mut line = format!(
        "id {} creatorid {} {} {} {} {}:{}",
        names::hex(&s.id.id),
        names::hex(&s.id.creatorid),
        names::af(s.wire_af, false),
        names::ip_proto(s.wire_proto),
        key(&s.key[0], s.wire_af, dialect),
        names::peer_state(s.wire_proto, s.src.state),
        names::peer_state(s.wire_proto, s.dst.state),
    );
    line.push_str(&format!(
        " if {} {} expire {} timeout {}",
        display_name(s.ifname.as_bytes()),
        names::direction(s.direction),
        s.expire,
        names::timeout(s.timeout),
    ));
    if format == MsgVersion::V1500 && !s.tagname.as_bytes().is_empty() {
        line.push_str(&format!(" tag {}", names::text(s.tagname.as_bytes())));
    }
    line
}

/// Every field the format carries, one group per line.
pub fn verbose(s: &StateRecord, format: MsgVersion) -> Vec<String> {
    let dialect = Dialect::FreeBsd;
    let openbsd = false;
    let mut out = Vec::new();
    out.push(format!(
        "version {} id {} creatorid {} ifname {}",
        format.number(),
        names::hex(&s.id.id),
        names::hex(&s.id.creatorid),
        display_name(s.ifname.as_bytes()),
    ));
    out.push(format!(
        "key[0] (wire) {} {} {}",
        names::af(s.wire_af, openbsd),
        names::ip_proto(s.wire_proto),
        key(&s.key[0], s.wire_af, dialect)
    ));
    out.push(format!(
        "key[1] (stack) {} {} {}",
        names::af(s.stack_af, openbsd),
        names::ip_proto(s.stack_proto),
        key(&s.key[1], s.stack_af, dialect)
    ));
    out.push(peer("src", &s.src, s.wire_proto));
    out.push(peer("dst", &s.dst, s.wire_proto));
    // Format 1301 has no route type; its rt_addr stands alone.
    let rt = if format == MsgVersion::V1301 {
        String::new()
    } else {
        format!(" rt {}", names::route_type(s.rt))
    };
    out.push(format!(
        "rt_addr {}{rt} rule {} anchor {} nat_rule {}",
        pf_addr(&s.rt_addr, s.rt_af, dialect),
        rule_number(s.rule),
        rule_number(s.anchor),
        rule_number(s.nat_rule),
    ));
    out.push(format!(
        "creation {} expire {} packets {}/{} bytes {}/{}",
        s.creation, s.expire, s.packets[0], s.packets[1], s.bytes[0], s.bytes[1]
    ));
    let mut flags = format!(
        "direction {} log {} state_flags {} (0x{:04x}) timeout {} ({})",
        names::direction(s.direction),
        names::log_flags(s.log),
        names::state_flags(s.state_flags),
        s.state_flags.bits(),
        names::timeout(s.timeout),
        s.timeout
    );
    if format != MsgVersion::V1500 {
        flags.push_str(&format!(" sync_flags {}", names::sync_flags(s.sync_flags)));
    }
    out.push(flags);
    match format {
        MsgVersion::V1301 => {}
        MsgVersion::V1400 | MsgVersion::V1500 => {
            out.push(format!(
                "qid {} pqid {} dnpipe {} dnrpipe {} rtableid {} min_ttl {} set_tos 0x{:02x} max_mss {} set_prio {},{} rt_ifname {}",
                s.qid,
                s.pqid,
                s.dnpipe,
                s.dnrpipe,
                s.rtableid,
                s.min_ttl,
                s.set_tos,
                s.max_mss,
                s.set_prio[0],
                s.set_prio[1],
                display_name(s.rt_ifname.as_bytes()),
            ));
            if format == MsgVersion::V1500 {
                out.push(format!(
                    "tagname {} orig_ifname {} rt_af {}",
                    display_name(s.tagname.as_bytes()),
                    display_name(s.orig_ifname.as_bytes()),
                    names::af(s.rt_af, false),
                ));
            }
        }
    }
    out
}

/// One side of a connection. The protocol decides how `state` is named;
/// UPD_C carries no protocol, so it passes `None` and gets TCP names and the number.
pub fn peer_with(label: &str, p: &Peer, proto: Option<u8>) -> String {
    let state = match proto {
        Some(proto) => names::peer_state(proto, p.state),
        None => format!(
            "{} ({})",
            p.state,
            names::peer_state(names::IPPROTO_TCP, p.state)
        ),
    };
    format!(
        "{label} state {state} seqlo {} seqhi {} seqdiff {} max_win {} mss {} wscale 0x{:02x} scrub {{flags 0x{:04x} ttl {} ts_mod {} valid {}}}",
        p.seqlo,
        p.seqhi,
        p.seqdiff,
        p.max_win,
        p.mss,
        p.wscale,
        p.scrub.pfss_flags,
        p.scrub.pfss_ttl,
        p.scrub.pfss_ts_mod,
        p.scrub.scrub_flag,
    )
}

pub fn peer(label: &str, p: &Peer, proto: u8) -> String {
    peer_with(label, p, Some(proto))
}

pub fn rule_number(n: u32) -> String {
    if n == u32::MAX {
        "none".into()
    } else {
        n.to_string()
    }
}

/// A NUL-padded name for display: `-` when empty, quoted when it has spaces.
pub fn display_name(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".into();
    }
    let s = names::text(bytes);
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        format!("{s:?}")
    } else {
        s
    }
}
