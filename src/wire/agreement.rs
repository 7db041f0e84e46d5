//! The owned walk ([`FrameReader`] yielding [`Event`]s) and the zero-copy walk
//! ([`FrameReader::views`], the one the engine receives with) must tell the
//! same story about any bytes: the same sections, rejections and errors in the
//! same order, and views that decode to the owned messages. Shared by the
//! property tests and the fuzz target, so hostile input is checked against
//! both walks, not only for "no panic".

use alloc::format;
use alloc::string::String;

use super::reader::{Dialect, Event, FrameReader, Message, MessageRef, ViewEvent, WalkEvent};
use super::OpenBsdState;

/// `Err` describes the first event where the walks differ.
pub fn walks_agree(bytes: &[u8], dialect: Dialect) -> Result<(), String> {
    let (owned, views) = match (
        FrameReader::with_dialect(bytes, dialect),
        FrameReader::with_dialect(bytes, dialect),
    ) {
        (Ok(o), Ok(v)) => (o, v.views()),
        (Err(a), Err(b)) if a == b => return Ok(()),
        (a, b) => return Err(format!("frame verdicts differ: {a:?} / {b:?}")),
    };
    let (mut owned, mut views, mut at) = (owned, views, 0usize);
    loop {
        match (owned.next(), views.next()) {
            (None, None) => return Ok(()),
            (Some(o), Some(v)) if same_event(&o, &v) => at += 1,
            (o, v) => return Err(format!("event {at}: owned {o:?} vs view {v:?}")),
        }
    }
}

fn same_event(
    owned: &Result<Event, super::Error>,
    view: &Result<ViewEvent<'_>, super::Error>,
) -> bool {
    match (owned, view) {
        (Err(a), Err(b)) => a == b,
        (Ok(WalkEvent::Message(m)), Ok(WalkEvent::Message(r))) => same_message(m, r),
        (Ok(a), Ok(b)) => without_message(a) == without_message(b),
        _ => false,
    }
}

/// The event with its message, if any, left out: what is compared for
/// sections, skips and rejections.
fn without_message<M>(event: &WalkEvent<M>) -> WalkEvent<()> {
    match *event {
        WalkEvent::Section { action, count } => WalkEvent::Section { action, count },
        WalkEvent::Skipped { action, count } => WalkEvent::Skipped { action, count },
        WalkEvent::Rejected {
            action,
            index,
            reason,
        } => WalkEvent::Rejected {
            action,
            index,
            reason,
        },
        WalkEvent::Message(_) => WalkEvent::Message(()),
    }
}

fn same_message(m: &Message, r: &MessageRef<'_>) -> bool {
    match (m, r) {
        (Message::Ins { version, state }, MessageRef::Ins(w))
        | (Message::Upd { version, state }, MessageRef::Upd(w)) => {
            *version == w.version() && *state == w.to_record()
        }
        (Message::OpenBsdIns(s), MessageRef::OpenBsdIns(b)) => {
            OpenBsdState::decode(b, true) == Ok(*s)
        }
        (Message::OpenBsdUpd(s), MessageRef::OpenBsdUpd(b)) => {
            OpenBsdState::decode(b, false) == Ok(*s)
        }
        (Message::Clr(a), MessageRef::Clr(b)) => a == b,
        (Message::InsAck(a), MessageRef::InsAck(b)) => a == b,
        (Message::UpdC(a), MessageRef::UpdC(b)) => *a == b.to_upd_c(),
        (Message::UpdReq(a), MessageRef::UpdReq(b)) => a == b,
        (Message::DelC(a), MessageRef::DelC(b)) => a == b,
        (Message::Bus(a), MessageRef::Bus(b)) => a == b,
        (Message::Tdb(a), MessageRef::Tdb(b)) => *a == b.to_tdb(),
        (Message::OpenBsdDel(a), MessageRef::OpenBsdDel(b)) => a == b,
        _ => false,
    }
}
