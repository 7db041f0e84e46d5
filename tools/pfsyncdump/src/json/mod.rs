//! `--json`: one object per frame, member names as in FreeBSD's structs.

pub mod openbsd;
pub mod state;

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use pfsync::wire::{Action, BusStatus, Dialect, Message, StateId};

use crate::decode::{action_name, error_name, message_name, reject_name, Decoded, Item};
use crate::link::Skip;
use crate::names;
use crate::run::FrameContext;
use crate::text::messages::sockaddr;
use crate::text::{bad_ttl_detail, frame_error_detail, version_name, walk_error_detail};
use crate::timefmt;

pub fn skipped(number: u64, skip: &Skip) -> Value {
    json!({ "frame": number, "skipped": skip.key(), "reason": skip.to_string() })
}

pub fn frame(ctx: &FrameContext, d: &Decoded) -> Value {
    let mut f = Map::new();
    f.insert("frame".into(), json!(ctx.number));
    f.insert("time".into(), json!(timefmt::rfc3339(ctx.ts)));
    f.insert("ts_sec".into(), json!(ctx.ts.secs));
    f.insert("ts_nsec".into(), json!(ctx.ts.nanos));
    f.insert("linktype".into(), json!(ctx.linktype));
    if let Some(ip) = &ctx.ip {
        f.insert(
            "ip".into(),
            json!({
                "version": if matches!(ip.src, IpAddr::V4(_)) { 4 } else { 6 },
                "src": ip.src.to_string(),
                "dst": ip.dst.to_string(),
                "ttl": ip.ttl,
            }),
        );
    }
    if let Some((captured, wire)) = ctx.cut {
        f.insert("captured_len".into(), json!(captured));
        f.insert("wire_len".into(), json!(wire));
    }
    if let Some(h) = &d.header {
        f.insert(
            "header".into(),
            json!({
                "version": h.version,
                "version_name": version_name(h.version),
                "len": h.len,
                "pfcksum": names::hex(&h.pfcksum),
            }),
        );
    }
    f.insert(
        "dialect".into(),
        json!(match d.dialect {
            Dialect::FreeBsd14 => "freebsd14",
            Dialect::FreeBsd15 => "freebsd15",
            Dialect::OpenBsd => "openbsd",
        }),
    );
    let mut sections = Vec::new();
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    if let Some(ttl) = d.bad_ttl {
        errors.push(json!({ "kind": "badttl", "detail": bad_ttl_detail(ttl) }));
    }
    if let (Some(e), Some(kind)) = (d.frame_error, d.frame_error_name()) {
        errors.push(json!({
            "kind": kind,
            "detail": frame_error_detail(e, d),
        }));
    }
    for item in &d.events {
        match item {
            Item::Section { action, count } => {
                sections.push(json!({
                    "action": action,
                    "action_name": action_name(*action, d.dialect),
                    "count": count,
                }));
                if *action == Action::Eof as u8 && d.dialect != Dialect::OpenBsd {
                    messages.push(json!({ "action": "EOF", "action_num": action }));
                }
            }
            Item::Message { action, message: m } => {
                let mut obj = message(m, d.dialect);
                obj.insert("action_num".into(), json!(action));
                messages.push(Value::Object(obj));
            }
            Item::Rejected {
                action,
                index,
                reason,
            } => errors.push(json!({
                "kind": "badval",
                "action": action_name(*action, d.dialect),
                "index": index,
                "detail": reject_name(*reason),
            })),
            Item::Skipped { action, count } => sections.push(json!({
                "action": action,
                "action_name": action_name(*action, d.dialect),
                "count": count,
                "skipped": true,
            })),
            Item::Stopped { error, section } => errors.push(json!({
                "kind": error_name(*error),
                "action": section.map(|(a, _)| action_name(a, d.dialect)),
                "detail": walk_error_detail(*error, *section, d.dialect),
            })),
        }
    }
    f.insert("sections".into(), Value::Array(sections));
    f.insert("messages".into(), Value::Array(messages));
    f.insert("errors".into(), Value::Array(errors));
    Value::Object(f)
}

fn ids(m: &mut Map<String, Value>, id: &StateId) {
    m.insert("id".into(), json!(names::hex(&id.id)));
    m.insert("creatorid".into(), json!(names::hex(&id.creatorid)));
}

fn message(msg: &Message, dialect: Dialect) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("action".into(), json!(message_name(msg)));
    match msg {
        Message::Ins { version, state: s } | Message::Upd { version, state: s } => {
            m.insert("msg_version".into(), json!(version.number()));
            m.extend(state::state(s, *version));
        }
        Message::OpenBsdIns(s) | Message::OpenBsdUpd(s) => m.extend(openbsd::state(s)),
        Message::OpenBsdDel(id) => ids(&mut m, id),
        Message::InsAck(r) => ids(&mut m, &r.state),
        Message::DelC(r) => ids(&mut m, &r.state),
        Message::UpdReq(r) => {
            ids(&mut m, &r.state);
            m.insert("bulk_request".into(), json!(r.is_bulk_request()));
        }
        Message::UpdC(u) => {
            m.insert("id".into(), json!(names::hex(&u.id)));
            m.insert("src".into(), state::peer(&u.src, None));
            m.insert("dst".into(), state::peer(&u.dst, None));
            m.insert("creatorid".into(), json!(names::hex(&u.creatorid)));
            m.insert("expire".into(), json!(u.expire));
            m.insert("timeout".into(), json!(u.timeout));
            let timeout_name = if dialect == Dialect::OpenBsd {
                names::timeout_openbsd(u.timeout)
            } else {
                names::timeout(u.timeout)
            };
            m.insert("timeout_name".into(), json!(timeout_name));
            if dialect == Dialect::OpenBsd {
                m.insert("state_flags".into(), json!(u.state_flags));
            }
        }
        Message::Clr(c) => {
            m.insert("ifname".into(), json!(names::text(c.ifname.as_bytes())));
            m.insert("creatorid".into(), json!(names::hex(&c.creatorid)));
        }
        Message::Bus(b) => {
            m.insert("creatorid".into(), json!(names::hex(&b.creatorid)));
            m.insert("endtime".into(), json!(b.endtime));
            m.insert("status".into(), json!(b.status.to_u8()));
            let status_name = match b.status {
                BusStatus::Start => "START",
                BusStatus::End => "END",
                BusStatus::Unknown(_) => "unknown",
            };
            m.insert("status_name".into(), json!(status_name));
        }
        Message::Tdb(t) => {
            m.insert("spi".into(), json!(names::hex(&t.spi)));
            m.insert("dst".into(), json!(sockaddr(&t.dst)));
            m.insert("rpl".into(), json!(t.rpl));
            m.insert("cur_bytes".into(), json!(t.cur_bytes));
            m.insert("sproto".into(), json!(t.sproto));
            if dialect == Dialect::OpenBsd {
                m.insert("rdomain".into(), json!(t.rdomain));
            }
        }
    }
    m
}
