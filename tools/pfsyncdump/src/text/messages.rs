//! One decoded message as text: its line, and with `-v` its field lines.

use std::net::{Ipv4Addr, Ipv6Addr};

use pfsync::wire::{Bus, BusStatus, Clr, Message, StateId, Tdb, UpdC};

use crate::decode::message_name;
use crate::names;
use crate::text::{openbsd, state};

pub fn render(m: &Message, verbose: bool) -> Vec<String> {
    let name = message_name(m);
    let (brief, fields) = match m {
        Message::Ins { version, state: s } | Message::Upd { version, state: s } => (
            state::brief(s, *version),
            verbose.then(|| state::verbose(s, *version)),
        ),
        Message::OpenBsdIns(s) | Message::OpenBsdUpd(s) => {
            (openbsd::brief(s), verbose.then(|| openbsd::verbose(s)))
        }
        Message::OpenBsdDel(id) => (ids(id), None),
        Message::InsAck(r) => (ids(&r.state), None),
        Message::DelC(r) => (ids(&r.state), None),
        Message::UpdReq(r) => {
            let mut line = ids(&r.state);
            if r.is_bulk_request() {
                line.push_str(" (bulk update request)");
            }
            (line, None)
        }
        Message::UpdC(u) => (upd_c(u), verbose.then(|| upd_c_fields(u))),
        Message::Clr(c) => (clr(c), None),
        Message::Bus(b) => (bus(b), None),
        Message::Tdb(t) => (tdb(t), None),
    };
    let mut lines = vec![format!("{name} {brief}")];
    lines.extend(fields.unwrap_or_default());
    lines
}

fn ids(id: &StateId) -> String {
    format!(
        "id {} creatorid {}",
        names::hex(&id.id),
        names::hex(&id.creatorid)
    )
}

fn upd_c(u: &UpdC) -> String {
    format!(
        "id {} creatorid {} timeout {} src {} dst {}",
        names::hex(&u.id),
        names::hex(&u.creatorid),
        names::timeout(u.timeout),
        u.src.state,
        u.dst.state
    )
}

fn upd_c_fields(u: &UpdC) -> Vec<String> {
    vec![
        state::peer_with("src", &u.src, None),
        state::peer_with("dst", &u.dst, None),
        format!(
            "expire {} timeout {} ({}) state_flags 0x{:02x}",
            u.expire,
            names::timeout(u.timeout),
            u.timeout,
            u.state_flags
        ),
    ]
}

fn clr(c: &Clr) -> String {
    let ifname = if c.ifname.is_empty() {
        "(all)".to_string()
    } else {
        state::display_name(c.ifname.as_bytes())
    };
    format!("creatorid {} ifname {ifname}", names::hex(&c.creatorid))
}

fn bus(b: &Bus) -> String {
    let status = match b.status {
        BusStatus::Start => "START".to_string(),
        BusStatus::End => "END".to_string(),
        BusStatus::Unknown(v) => format!("{v} (unknown)"),
    };
    format!(
        "creatorid {} status {status} endtime {}",
        names::hex(&b.creatorid),
        b.endtime
    )
}

fn tdb(t: &Tdb) -> String {
    let mut line = format!(
        "spi 0x{} dst {} sproto {} rpl {} cur_bytes {}",
        names::hex(&t.spi),
        sockaddr(&t.dst),
        sproto(t.sproto),
        t.rpl,
        t.cur_bytes
    );
    if t.rdomain != 0 {
        line.push_str(&format!(" rdomain {}", t.rdomain));
    }
    line
}

fn sproto(p: u8) -> String {
    match p {
        50 => "esp".into(),
        51 => "ah".into(),
        108 => "ipcomp".into(),
        other => other.to_string(),
    }
}

/// A BSD `sockaddr_union`: `sa_len`, `sa_family`, then `sin`/`sin6` fields.
pub fn sockaddr(raw: &[u8; 28]) -> String {
    let family = raw[1];
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    match family {
        2 => format!("{}:{port}", Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7])),
        24 | 28 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&raw[8..24]);
            format!("[{}]:{port}", Ipv6Addr::from(a))
        }
        0 => "unspecified".into(),
        other => format!("family {other} 0x{}", names::hex(raw)),
    }
}
