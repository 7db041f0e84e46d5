//! One pfsync frame through the core codec's `FrameReader`, kept as the list
//! of events the reader produced so printers can show them in order.
//!
//! All wire decoding happens in the `pfsync` crate; this file only chooses
//! the reader's dialect and names what came out.

use pfsync::wire::{
    Action, Dialect, Error, Event, FrameReader, Header, Message, Reject, VERSION_OPENBSD,
};

use crate::summary::Summary;

/// Which receiver rules to decode with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectChoice {
    /// OpenBSD rules for header version 6, FreeBSD 15.x rules otherwise.
    Auto,
    /// FreeBSD 14.x: actions 15 and 16 (format 1500) are refused.
    Freebsd14,
    Freebsd15,
    Openbsd,
}

impl DialectChoice {
    fn for_frame(self, bytes: &[u8]) -> Dialect {
        match self {
            DialectChoice::Auto if bytes.first() == Some(&VERSION_OPENBSD) => Dialect::OpenBsd,
            DialectChoice::Auto | DialectChoice::Freebsd15 => Dialect::FreeBsd15,
            DialectChoice::Freebsd14 => Dialect::FreeBsd14,
            DialectChoice::Openbsd => Dialect::OpenBsd,
        }
    }
}

/// What the reader said about one frame.
#[derive(Debug)]
pub struct Decoded {
    pub dialect: Dialect,
    /// Absent when the frame is shorter than the header.
    pub header: Option<Header>,
    /// Bytes the capture holds for this frame (from the pfsync header on).
    pub captured: usize,
    /// The reader refused the whole frame (no events follow).
    pub frame_error: Option<Error>,
    /// The capture holds less of the packet than was on the wire, so a
    /// frame-level `badlen` is the capture's doing, not the sender's.
    pub capture_cut: bool,
    /// The IP TTL / hop limit when it is not 255: receivers drop such
    /// packets (`badttl`) before looking at the frame.
    pub bad_ttl: Option<u8>,
    pub events: Vec<Item>,
}

/// One reader event, with the section it belongs to where that helps.
#[derive(Debug)]
pub enum Item {
    Section {
        action: u8,
        count: u16,
    },
    /// `action` is the subheader's number. Boxed: a state record is 360
    /// bytes, the other events a few.
    Message {
        action: u8,
        message: Box<Message>,
    },
    Rejected {
        action: u8,
        index: u16,
        reason: Reject,
    },
    Skipped {
        action: u8,
        count: u16,
    },
    /// The walk stopped here; the rest of the frame was dropped.
    Stopped {
        error: Error,
        section: Option<(u8, u16)>,
    },
}

pub fn decode(bytes: &[u8], choice: DialectChoice, capture_cut: bool) -> Decoded {
    let dialect = choice.for_frame(bytes);
    let header = Header::parse(bytes).ok();
    let mut decoded = Decoded {
        dialect,
        header,
        captured: bytes.len(),
        frame_error: None,
        capture_cut,
        bad_ttl: None,
        events: Vec::new(),
    };
    let reader = match FrameReader::with_dialect(bytes, dialect) {
        Ok(r) => r,
        Err(e) => {
            decoded.frame_error = Some(e);
            return decoded;
        }
    };
    // A walk error belongs to a section only when it follows that section's
    // subheader directly; an unknown action fails before any subheader event.
    let mut section = None;
    // The action number messages arrive under (the last subheader's).
    let mut current_action = 0u8;
    for event in reader {
        let just_opened = section.take();
        let item = match event {
            Ok(Event::Section { action, count }) => {
                section = Some((action, count));
                current_action = action;
                Item::Section { action, count }
            }
            Ok(Event::Message(m)) => Item::Message {
                action: current_action,
                message: Box::new(m),
            },
            Ok(Event::Rejected {
                action,
                index,
                reason,
            }) => Item::Rejected {
                action,
                index,
                reason,
            },
            Ok(Event::Skipped { action, count }) => Item::Skipped { action, count },
            Err(error) => Item::Stopped {
                error,
                section: just_opened,
            },
        };
        decoded.events.push(item);
    }
    decoded
}

impl Decoded {
    /// The name a frame-level error is reported under: its pfsyncstats
    /// counter, or `truncated` when a cut capture explains it.
    pub fn frame_error_name(&self) -> Option<&'static str> {
        self.frame_error.map(|e| match e {
            Error::BadLen if self.capture_cut => "truncated",
            other => error_name(other),
        })
    }

    /// Every error in the frame, by pfsyncstats counter name (`truncated`
    /// for a frame the capture cut short).
    pub fn error_kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.bad_ttl.map(|_| "badttl").into_iter().collect();
        kinds.extend(self.frame_error_name());
        for item in &self.events {
            match item {
                Item::Rejected { .. } => kinds.push(error_name(Error::BadVal)),
                Item::Stopped { error, .. } => kinds.push(error_name(*error)),
                _ => {}
            }
        }
        kinds
    }

    pub fn count_into(&self, summary: &mut Summary) {
        for item in &self.events {
            match item {
                Item::Message { message, .. } => summary.message(&message_name(message)),
                // EOF carries no record; count the marker itself.
                Item::Section { action, .. }
                    if *action == Action::Eof as u8 && self.dialect != Dialect::OpenBsd =>
                {
                    summary.message("EOF")
                }
                _ => {}
            }
        }
        let kinds = self.error_kinds();
        if !kinds.is_empty() {
            summary.frames_with_errors += 1;
        }
        for kind in kinds {
            summary.error(kind);
        }
    }
}

/// The `pfsyncstats` counter an error is counted in.
pub fn error_name(e: Error) -> &'static str {
    match e {
        Error::HdrOps => "hdrops",
        Error::BadVer => "badver",
        Error::BadLen => "badlen",
        Error::BadAct => "badact",
        Error::BadVal => "badval",
        Error::BadAuth => "badauth",
    }
}

/// Which check refused a message, as a short word.
pub fn reject_name(r: Reject) -> &'static str {
    match r {
        Reject::Short => "short record",
        Reject::Timeout => "timeout >= PFTM_MAX",
        Reject::PeerState => "peer state > PF_TCPS_PROXY_DST",
        Reject::Direction => "direction > PF_OUT",
        Reject::AddressFamily => "unknown address family",
        Reject::IfName => "interface name without NUL",
        Reject::CreatorId => "creatorid 0",
        #[allow(unreachable_patterns)]
        _ => "value check",
    }
}

/// OpenBSD action names (if_pfsync.h v1.66).
const OPENBSD_ACTIONS: [&str; 16] = [
    "CLR", "OINS", "INS_ACK", "OUPD", "UPD_C", "UPD_REQ", "DEL", "DEL_C", "INS_F", "DEL_F", "BUS",
    "OTDB", "EOF", "INS", "UPD", "TDB",
];

/// The C name of an action number in a dialect.
pub fn action_name(action: u8, dialect: Dialect) -> String {
    let known = match dialect {
        Dialect::OpenBsd => OPENBSD_ACTIONS.get(usize::from(action)).copied(),
        Dialect::FreeBsd14 if action >= 15 => None,
        _ => Action::from_u8(action).map(Action::name),
    };
    known
        .map(str::to_string)
        .unwrap_or_else(|| format!("ACTION_{action}"))
}

/// The action name a decoded message was sent under.
pub fn message_name(m: &Message) -> String {
    match m {
        Message::Clr(_) => "CLR".into(),
        Message::Ins { version, .. } => version.ins_action().name().into(),
        Message::Upd { version, .. } => version.upd_action().name().into(),
        Message::InsAck(_) => "INS_ACK".into(),
        Message::UpdC(_) => "UPD_C".into(),
        Message::UpdReq(_) => "UPD_REQ".into(),
        Message::DelC(_) => "DEL_C".into(),
        Message::Bus(_) => "BUS".into(),
        Message::Tdb(_) => "TDB".into(),
        Message::OpenBsdIns(_) => "INS".into(),
        Message::OpenBsdUpd(_) => "UPD".into(),
        Message::OpenBsdDel(_) => "DEL".into(),
    }
}
