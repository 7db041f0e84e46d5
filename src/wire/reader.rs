//! Walking a received frame, the way stock `pfsync_input` does.
//!
//! ```text
//! let mut frame = FrameReader::new(bytes)?;      // frame-level: HdrOps, BadVer, BadLen
//! for event in &mut frame {
//!     match event {
//!         Ok(Event::Section { action, count }) => iacts[action] += count,
//!         Ok(Event::Message(m)) => handle(m),
//!         Ok(Event::Rejected { .. }) => badval += 1,  // that message only; walk goes on
//!         Ok(Event::Skipped { .. }) => {}             // OpenBSD: unknown action skipped
//!         Err(e) => count(e),                         // rest of frame dropped; walk ends
//!     }
//! }
//! ```
//!
//! How the caller learns what happened:
//! - `FrameReader::new` fails for the whole frame (`HdrOps` shorter than the
//!   header, `BadVer`, `BadLen` when `len` exceeds the bytes given).
//! - [`Event::Section`] is yielded for every subheader stock accepts far enough
//!   to bump `pfsyncs_iacts[action] += count` (all actions below `ACT_MAX`,
//!   including DEL/INS_F/DEL_F, EOF, and sections about to fail `BadLen`).
//! - [`Event::Rejected`] is one message failing its value checks (stock:
//!   `badval`, skip the message); the walk continues with the next one.
//! - `Err(e)` ends the walk: `BadAct` (action >= ACT_MAX, or DEL/INS_F/DEL_F),
//!   `BadLen` (a section's `count` records do not fit before the end, or EOF
//!   not at the end of the bytes given). Messages already yielded stand, as in
//!   stock, which applies them as it goes. The iterator returns `None` after.
//! - EOF ends the walk without error when it sits exactly at the end of the
//!   bytes given (stock compares with the packet length, not with `len`).
//!
//! The OpenBSD dialect applies OpenBSD's `pfsync_input` instead: no EOF,
//! handler-less actions below 16 skipped by their declared length, unknown
//! ones skipped when count and length are non-zero (else `BadAct`), and
//! `BadLen` for any section running past `len` (see docs/wire.md).
//!
//! Deliberate differences from stock, all stricter, all on malformed input:
//! sections are bounded by the header's `len` (stock bounds its pull-down by the
//! packet length, so records could be read from bytes past `len`); BUS and TDB
//! sections are length-checked always (stock skips those checks when it is not
//! waiting for a bulk update, or lacks IPSEC); names without NUL are refused in
//! every message that carries one. Stock's BUS handler looks at the first BUS
//! record only; this reader yields all of them and leaves that to the engine.

use super::action::{Action, MsgVersion};
use super::bus::Bus;
use super::clr::Clr;
use super::header::{Header, Subheader, VERSION_FREEBSD, VERSION_OPENBSD};
use super::ids::{DelC, InsAck, UpdReq};
use super::openbsd::OpenBsdState;
use super::state::{StateId, StateRecord};
use super::state_format::StateChecks;
use super::state_view::StateView;
use super::tdb::{Tdb, TdbRef};
use super::upd_c::UpdC;
use super::upd_c_view::UpdCView;
use super::{Error, Reject, Result};

/// Which receiver's rules to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// FreeBSD 14.x: `ACT_MAX` 15, so INS_1500/UPD_1500 are `BadAct`.
    FreeBsd14,
    /// FreeBSD 15.x: `ACT_MAX` 17.
    FreeBsd15,
    /// OpenBSD: header version 6, record length in the subheader, unknown
    /// actions skipped.
    OpenBsd,
}

/// One decoded message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Clr(Clr),
    Ins {
        version: MsgVersion,
        state: StateRecord,
    },
    Upd {
        version: MsgVersion,
        state: StateRecord,
    },
    InsAck(InsAck),
    UpdC(UpdC),
    UpdReq(UpdReq),
    DelC(DelC),
    Bus(Bus),
    Tdb(Tdb),
    /// OpenBSD INS (13).
    OpenBsdIns(OpenBsdState),
    /// OpenBSD UPD (14).
    OpenBsdUpd(OpenBsdState),
    /// OpenBSD full-state DEL (6): OpenBSD looks only at the identity, and so
    /// does this reader (the rest of the 264 bytes is not validated).
    OpenBsdDel(StateId),
}

/// What the walk found next, `M` being how a record is handed out: decoded
/// ([`Event`]) or as a checked view into the frame ([`ViewEvent`]). See the
/// module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkEvent<M> {
    /// A subheader: stock adds `count` to `pfsyncs_iacts[action]` here.
    Section {
        action: u8,
        count: u16,
    },
    Message(M),
    /// Record `index` (0-based within its section) failed a value check.
    Rejected {
        action: u8,
        index: u16,
        reason: Reject,
    },
    /// OpenBSD: a section this receiver does not know (or knows only shorter)
    /// was stepped over using the subheader's length.
    Skipped {
        action: u8,
        count: u16,
    },
}

/// An event of the owned walk. Large (a full state inline) because the core
/// may not allocate; callers handle one event at a time, so only one lives on
/// the stack.
pub type Event = WalkEvent<Message>;

/// An event of the zero-copy walk ([`FrameReader::views`]): the same
/// sections, rejections and errors in the same order, in 32 bytes.
pub type ViewEvent<'a> = WalkEvent<MessageRef<'a>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Clr,
    Ins(MsgVersion),
    Upd(MsgVersion),
    InsAck,
    UpdC,
    UpdReq,
    DelC,
    Bus,
    Tdb,
    ObsdIns,
    ObsdUpd,
    ObsdDel,
    ObsdUpdC,
    ObsdTdb,
}

#[derive(Clone, Copy, Debug)]
enum Pending {
    /// Records of a section still to decode.
    Records {
        kind: Kind,
        action: u8,
        stride: usize,
        index: u16,
        remaining: u16,
    },
    /// The section just announced ends the walk with this verdict.
    Stop(Option<Error>),
    None,
}

/// Iterator over the events of one frame. No allocation; decoded messages are
/// returned by value.
#[derive(Debug)]
pub struct FrameReader<'a> {
    bytes: &'a [u8],
    header: Header,
    dialect: Dialect,
    /// Where the header's `len` says the frame ends.
    end: usize,
    pos: usize,
    pending: Pending,
    done: bool,
}

impl<'a> FrameReader<'a> {
    /// A FreeBSD 15.x receiver. `bytes` starts at the pfsync header (the IP
    /// header already removed) and ends where the packet ends.
    pub fn new(bytes: &'a [u8]) -> Result<FrameReader<'a>> {
        FrameReader::with_dialect(bytes, Dialect::FreeBsd15)
    }

    /// An OpenBSD receiver (header version 6).
    pub fn new_openbsd(bytes: &'a [u8]) -> Result<FrameReader<'a>> {
        FrameReader::with_dialect(bytes, Dialect::OpenBsd)
    }

    pub fn with_dialect(bytes: &'a [u8], dialect: Dialect) -> Result<FrameReader<'a>> {
        let header = Header::parse(bytes)?;
        let want = match dialect {
            Dialect::FreeBsd14 | Dialect::FreeBsd15 => VERSION_FREEBSD,
            Dialect::OpenBsd => VERSION_OPENBSD,
        };
        if header.version != want {
            return Err(Error::BadVer);
        }
        let end = usize::from(header.len);
        if end > bytes.len() {
            return Err(Error::BadLen);
        }
        Ok(FrameReader {
            bytes,
            header,
            dialect,
            end,
            pos: Header::LEN,
            pending: Pending::None,
            done: false,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The same walk, yielding full states as checked [`StateView`]s into the
    /// frame instead of decoded records (see [`ViewEvent`]).
    pub fn views(self) -> ViewReader<'a> {
        ViewReader { walk: self }
    }

    #[inline]
    fn step(&mut self) -> Option<Result<Step<'a>>> {
        if self.done {
            return None;
        }
        match self.pending {
            Pending::Records {
                kind,
                action,
                stride,
                index,
                remaining,
            } => Some(self.next_record(kind, action, stride, index, remaining)),
            Pending::Stop(verdict) => self.finish(verdict),
            Pending::None => self.open_section(),
        }
    }

    fn finish(&mut self, verdict: Option<Error>) -> Option<Result<Step<'a>>> {
        self.done = true;
        self.pending = Pending::None;
        verdict.map(Err)
    }

    #[inline]
    fn next_record(
        &mut self,
        kind: Kind,
        action: u8,
        stride: usize,
        index: u16,
        remaining: u16,
    ) -> Result<Step<'a>> {
        let start = self.pos;
        self.pos = start.saturating_add(stride);
        self.pending = match remaining.checked_sub(1) {
            Some(left) if left > 0 => Pending::Records {
                kind,
                action,
                stride,
                index: index.wrapping_add(1),
                remaining: left,
            },
            _ => Pending::None,
        };
        // The section was bounds-checked when it was opened.
        let rec = self.bytes.get(start..self.pos).ok_or(Error::BadLen)?;
        Ok(Step::Record {
            kind,
            action,
            index,
            rec,
        })
    }

    fn open_section(&mut self) -> Option<Result<Step<'a>>> {
        // Stock: `while (offset <= len - sizeof(subh))`.
        let sub_end = self.pos.checked_add(Subheader::LEN)?;
        if sub_end > self.end {
            return self.finish(None);
        }
        let sub = match self.bytes.get(self.pos..).map(Subheader::parse) {
            Some(Ok(s)) => s,
            _ => return self.finish(Some(Error::BadLen)),
        };
        self.pos = sub_end;
        match self.dialect {
            Dialect::OpenBsd => self.open_openbsd(sub),
            Dialect::FreeBsd14 | Dialect::FreeBsd15 => self.open_freebsd(sub),
        }
    }

    fn open_freebsd(&mut self, sub: Subheader) -> Option<Result<Step<'a>>> {
        let act_max = match self.dialect {
            Dialect::FreeBsd14 => 15,
            _ => 17,
        };
        let action = match Action::from_u8(sub.action) {
            Some(a) if sub.action < act_max => a,
            _ => return self.finish(Some(Error::BadAct)),
        };
        let kind = match action {
            Action::Clr => Kind::Clr,
            Action::Ins1301 => Kind::Ins(MsgVersion::V1301),
            Action::Ins1400 => Kind::Ins(MsgVersion::V1400),
            Action::Ins1500 => Kind::Ins(MsgVersion::V1500),
            Action::Upd1301 => Kind::Upd(MsgVersion::V1301),
            Action::Upd1400 => Kind::Upd(MsgVersion::V1400),
            Action::Upd1500 => Kind::Upd(MsgVersion::V1500),
            Action::InsAck => Kind::InsAck,
            Action::UpdC => Kind::UpdC,
            Action::UpdReq => Kind::UpdReq,
            Action::DelC => Kind::DelC,
            Action::Bus => Kind::Bus,
            Action::Tdb => Kind::Tdb,
            Action::Del | Action::InsF | Action::DelF => {
                self.pending = Pending::Stop(Some(Error::BadAct));
                return self.section(sub);
            }
            Action::Eof => {
                let verdict = if self.pos == self.bytes.len() {
                    None
                } else {
                    Some(Error::BadLen)
                };
                self.pending = Pending::Stop(verdict);
                return self.section(sub);
            }
        };
        self.open_records(sub, kind, record_len(kind))
    }

    fn open_openbsd(&mut self, sub: Subheader) -> Option<Result<Step<'a>>> {
        let stride = usize::from(sub.len_words) * 4;
        let known = match sub.action {
            0 => Some(Kind::Clr),
            2 => Some(Kind::InsAck),
            4 => Some(Kind::ObsdUpdC),
            5 => Some(Kind::UpdReq),
            6 => Some(Kind::ObsdDel),
            7 => Some(Kind::DelC),
            10 => Some(Kind::Bus),
            13 => Some(Kind::ObsdIns),
            14 => Some(Kind::ObsdUpd),
            15 => Some(Kind::ObsdTdb),
            _ => None,
        };
        match known {
            Some(kind) if stride >= record_len(kind) => self.open_records(sub, kind, stride),
            // Inside OpenBSD's table but without a handler (OINS, OUPD, INS_F,
            // DEL_F, OTDB, EOF): stepped over by the declared length, whatever
            // the count or length.
            None if sub.action < OPENBSD_ACT_MAX => self.skip(sub, stride),
            // Unknown, or a known action in a shorter form than ours: skippable
            // only when the sender told us how long its records are.
            _ if sub.count > 0 && stride > 0 => self.skip(sub, stride),
            _ => self.finish(Some(Error::BadAct)),
        }
    }

    /// A section OpenBSD has no use for: its bytes must be present (else
    /// `badlen`, walk ends), then they are ignored.
    fn skip(&mut self, sub: Subheader, stride: usize) -> Option<Result<Step<'a>>> {
        let after = stride
            .checked_mul(usize::from(sub.count))
            .and_then(|len| self.pos.checked_add(len))
            .filter(|after| *after <= self.end);
        match after {
            Some(after) => {
                self.pos = after;
                Some(Ok(Step::Skipped {
                    action: sub.action,
                    count: sub.count,
                }))
            }
            None => self.finish(Some(Error::BadLen)),
        }
    }

    fn open_records(
        &mut self,
        sub: Subheader,
        kind: Kind,
        stride: usize,
    ) -> Option<Result<Step<'a>>> {
        let fits = stride
            .checked_mul(usize::from(sub.count))
            .and_then(|len| self.pos.checked_add(len))
            .is_some_and(|after| after <= self.end);
        self.pending = if !fits {
            Pending::Stop(Some(Error::BadLen))
        } else if sub.count == 0 {
            Pending::None
        } else {
            Pending::Records {
                kind,
                action: sub.action,
                stride,
                index: 0,
                remaining: sub.count,
            }
        };
        self.section(sub)
    }

    fn section(&mut self, sub: Subheader) -> Option<Result<Step<'a>>> {
        Some(Ok(Step::Section {
            action: sub.action,
            count: sub.count,
        }))
    }
}

impl Iterator for FrameReader<'_> {
    type Item = Result<Event>;

    #[inline]
    fn next(&mut self) -> Option<Result<Event>> {
        Some(self.step()?.map(|step| step.event(decode)))
    }
}

/// One walk step before decoding.
#[derive(Clone, Copy, Debug)]
enum Step<'a> {
    Section {
        action: u8,
        count: u16,
    },
    Skipped {
        action: u8,
        count: u16,
    },
    Record {
        kind: Kind,
        action: u8,
        index: u16,
        rec: &'a [u8],
    },
}

impl<'a> Step<'a> {
    /// The event this step yields, a record handed out by `hand_out`.
    #[inline(always)]
    fn event<M>(
        self,
        hand_out: impl FnOnce(Kind, &'a [u8]) -> core::result::Result<M, Reject>,
    ) -> WalkEvent<M> {
        match self {
            Step::Section { action, count } => WalkEvent::Section { action, count },
            Step::Skipped { action, count } => WalkEvent::Skipped { action, count },
            Step::Record {
                kind,
                action,
                index,
                rec,
            } => match hand_out(kind, rec) {
                Ok(m) => WalkEvent::Message(m),
                Err(reason) => WalkEvent::Rejected {
                    action,
                    index,
                    reason,
                },
            },
        }
    }
}

/// A message of the zero-copy walk: full states stay in the frame as checked
/// views; everything else is small and decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRef<'a> {
    Clr(Clr),
    Ins(StateView<'a>),
    Upd(StateView<'a>),
    InsAck(InsAck),
    /// Checked in place; the peers are decoded when asked for.
    UpdC(UpdCView<'a>),
    UpdReq(UpdReq),
    DelC(DelC),
    Bus(Bus),
    Tdb(TdbRef<'a>),
    /// OpenBSD INS/UPD: the record's bytes, already checked; decode with
    /// [`OpenBsdState::parse`] / `decode`.
    OpenBsdIns(&'a [u8]),
    OpenBsdUpd(&'a [u8]),
    OpenBsdDel(StateId),
}

/// Iterator of [`FrameReader::views`].
#[derive(Debug)]
pub struct ViewReader<'a> {
    walk: FrameReader<'a>,
}

impl<'a> ViewReader<'a> {
    pub fn header(&self) -> &Header {
        self.walk.header()
    }
}

impl<'a> Iterator for ViewReader<'a> {
    type Item = Result<ViewEvent<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Result<ViewEvent<'a>>> {
        Some(self.walk.step()?.map(|step| step.event(decode_ref)))
    }
}

/// Inlined into the walk: full states and UPD_C, the bulk of every busy
/// frame, are then checked without a call.
#[inline(always)]
fn decode_ref(kind: Kind, rec: &[u8]) -> core::result::Result<MessageRef<'_>, Reject> {
    let short = |_| Reject::Short;
    Ok(match kind {
        Kind::Ins(v) => MessageRef::Ins(StateView::new_checked(rec, v, StateChecks::Insert)?),
        Kind::Upd(v) => MessageRef::Upd(StateView::new_checked(rec, v, StateChecks::Update)?),
        Kind::ObsdIns => MessageRef::OpenBsdIns(OpenBsdState::check(rec, true)?),
        Kind::ObsdUpd => MessageRef::OpenBsdUpd(OpenBsdState::check(rec, false)?),
        Kind::Clr => MessageRef::Clr(Clr::parse(rec).map_err(|e| match e {
            Error::BadVal => Reject::IfName,
            _ => Reject::Short,
        })?),
        Kind::InsAck => MessageRef::InsAck(InsAck::parse(rec).map_err(short)?),
        Kind::UpdC => MessageRef::UpdC(UpdCView::new_checked(rec)?),
        Kind::ObsdUpdC => MessageRef::UpdC(UpdCView::new_checked_openbsd(rec)?),
        Kind::UpdReq => MessageRef::UpdReq(UpdReq::parse(rec).map_err(short)?),
        Kind::DelC => MessageRef::DelC(DelC::parse(rec).map_err(short)?),
        Kind::Bus => MessageRef::Bus(Bus::parse(rec).map_err(short)?),
        Kind::Tdb => MessageRef::Tdb(TdbRef::new(rec).map_err(short)?),
        Kind::ObsdTdb => MessageRef::Tdb(TdbRef::new_openbsd(rec).map_err(short)?),
        Kind::ObsdDel => MessageRef::OpenBsdDel(OpenBsdState::identity(rec)?),
    })
}

/// OpenBSD's `PFSYNC_ACT_MAX`: the size of its `pfsync_acts[]` table.
const OPENBSD_ACT_MAX: u8 = 16;

/// Size of one record of `kind` (FreeBSD sizes, OpenBSD where OpenBSD-only).
const fn record_len(kind: Kind) -> usize {
    match kind {
        Kind::Clr => Clr::LEN,
        Kind::Ins(v) | Kind::Upd(v) => v.state_len(),
        Kind::InsAck => InsAck::LEN,
        Kind::UpdC | Kind::ObsdUpdC => UpdC::LEN,
        Kind::UpdReq => UpdReq::LEN,
        Kind::DelC => DelC::LEN,
        Kind::Bus => Bus::LEN,
        Kind::Tdb => Tdb::LEN,
        Kind::ObsdIns | Kind::ObsdUpd | Kind::ObsdDel => OpenBsdState::LEN,
        Kind::ObsdTdb => Tdb::OPENBSD_LEN,
    }
}

#[inline]
fn decode(kind: Kind, rec: &[u8]) -> core::result::Result<Message, Reject> {
    Ok(match kind {
        Kind::Ins(version) => Message::Ins {
            version,
            state: StateRecord::decode(rec, version, StateChecks::Insert)?,
        },
        Kind::Upd(version) => Message::Upd {
            version,
            state: StateRecord::decode(rec, version, StateChecks::Update)?,
        },
        Kind::ObsdIns => Message::OpenBsdIns(OpenBsdState::decode(rec, true)?),
        Kind::ObsdUpd => Message::OpenBsdUpd(OpenBsdState::decode(rec, false)?),
        small => match decode_ref(small, rec)? {
            MessageRef::Clr(m) => Message::Clr(m),
            MessageRef::InsAck(m) => Message::InsAck(m),
            MessageRef::UpdC(m) => Message::UpdC(m.to_upd_c()),
            MessageRef::UpdReq(m) => Message::UpdReq(m),
            MessageRef::DelC(m) => Message::DelC(m),
            MessageRef::Bus(m) => Message::Bus(m),
            MessageRef::Tdb(m) => Message::Tdb(m.to_tdb()),
            MessageRef::OpenBsdDel(id) => Message::OpenBsdDel(id),
            // `small` is never a full-state kind: those are matched above.
            MessageRef::Ins(_)
            | MessageRef::Upd(_)
            | MessageRef::OpenBsdIns(_)
            | MessageRef::OpenBsdUpd(_) => return Err(Reject::Short),
        },
    })
}
