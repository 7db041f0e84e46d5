//! Filling one frame to send, in a buffer the caller owns. No allocation.
//!
//! Budget: `mtu_budget` is how many bytes the pfsync frame (header, sections,
//! EOF) may take after the IP header. Stock FreeBSD reserves room for the
//! larger IP header of the two families, 40 bytes, whatever the family in use:
//! its frames hold at most `MTU - 40` pfsync bytes even over IPv4. To send
//! stock-sized frames pass `mtu - 40`.
//!
//! Room for the EOF subheader is always kept back, so [`FrameBuilder::finish`]
//! cannot fail. An extension that appends bytes after the frame (outside
//! `len`, e.g. an authentication trailer) calls
//! [`FrameBuilder::reserve_trailer`] first; the builder keeps that many bytes
//! free after the frame within the budget and the buffer, and the extension
//! writes them at `buf[frame_len..frame_len + n]` after `finish`.
//!
//! A push that does not fit returns [`Full`] and changes nothing: send what
//! is there (`finish`), start a new frame, push again.

use super::action::{Action, MsgVersion};
use super::bus::Bus;
use super::clr::Clr;
use super::header::{Header, Subheader, VERSION_FREEBSD, VERSION_OPENBSD};
use super::ids::{DelC, InsAck, UpdReq};
use super::openbsd::OpenBsdState;
use super::state::StateRecord;
use super::upd_c::UpdC;
use super::{Error, Result};

/// The record does not fit in this frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

#[derive(Clone, Copy, Debug)]
struct OpenSection {
    /// Offset of its subheader in the buffer.
    at: usize,
    action: u8,
    count: u16,
    record_len: usize,
}

#[derive(Debug)]
pub struct FrameBuilder<'a> {
    buf: &'a mut [u8],
    /// Frame bytes allowed, EOF included, trailer excluded.
    limit: usize,
    pos: usize,
    trailer: usize,
    version: u8,
    section: Option<OpenSection>,
}

impl<'a> FrameBuilder<'a> {
    /// A FreeBSD frame (header version 5). `BadLen` if not even a header and
    /// an EOF subheader fit.
    pub fn new(buf: &'a mut [u8], mtu_budget: usize) -> Result<FrameBuilder<'a>> {
        FrameBuilder::with_version(buf, mtu_budget, VERSION_FREEBSD)
    }

    /// An OpenBSD frame (version 6, record lengths in the subheaders).
    pub fn new_openbsd(buf: &'a mut [u8], mtu_budget: usize) -> Result<FrameBuilder<'a>> {
        FrameBuilder::with_version(buf, mtu_budget, VERSION_OPENBSD)
    }

    fn with_version(buf: &'a mut [u8], mtu_budget: usize, version: u8) -> Result<FrameBuilder<'a>> {
        let limit = mtu_budget.min(buf.len()).min(usize::from(u16::MAX));
        if limit < Header::LEN + Subheader::LEN {
            return Err(Error::BadLen);
        }
        Ok(FrameBuilder {
            buf,
            limit,
            pos: Header::LEN,
            trailer: 0,
            version,
            section: None,
        })
    }

    /// Keeps `n` bytes free after the frame for a trailer (replaces an earlier
    /// reservation). `BadLen` if what is already in the frame leaves no room.
    pub fn reserve_trailer(&mut self, n: usize) -> Result<()> {
        let frame_room = self.limit.checked_sub(n).ok_or(Error::BadLen)?;
        if self.pos + Subheader::LEN > frame_room {
            return Err(Error::BadLen);
        }
        self.trailer = n;
        Ok(())
    }

    /// Bytes in the frame so far (header and sections; EOF not yet).
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True when no record has been added.
    pub fn is_empty(&self) -> bool {
        self.pos == Header::LEN
    }

    /// Bytes still free for sections, EOF and trailer room already kept back.
    pub fn remaining(&self) -> usize {
        self.frame_end().saturating_sub(self.pos)
    }

    /// Would a record of `record_len` bytes for `action` fit now?
    pub fn fits(&self, action: u8, record_len: usize) -> bool {
        self.needed(action, record_len) <= self.remaining()
    }

    /// Makes the next push start a new section even for the same action.
    /// Stock sends every BUS and CLR under a subheader of its own (and reads
    /// only the first BUS record of a section).
    pub fn close_section(&mut self) {
        self.section = None;
    }

    /// Appends one record of `record_len` bytes under `action`, written by
    /// `write` into a zeroed slice of exactly that length.
    pub fn push_with<F: FnOnce(&mut [u8])>(
        &mut self,
        action: u8,
        record_len: usize,
        write: F,
    ) -> core::result::Result<(), Full> {
        if self.needed(action, record_len) > self.remaining() {
            return Err(Full);
        }
        let (section, start) = match self.section {
            Some(s) if s.action == action && s.record_len == record_len && s.count < u16::MAX => {
                (s, self.pos)
            }
            _ => {
                let s = OpenSection {
                    at: self.pos,
                    action,
                    count: 0,
                    record_len,
                };
                (s, self.pos + Subheader::LEN)
            }
        };
        let end = start + record_len;
        // In range: `needed <= remaining` and the budget never exceeds `buf`.
        let rec = self.buf.get_mut(start..end).ok_or(Full)?;
        rec.fill(0);
        write(rec);
        self.pos = end;
        let section = OpenSection {
            count: section.count + 1,
            ..section
        };
        let len_words = if self.version == VERSION_OPENBSD {
            u8::try_from(record_len / 4).unwrap_or(0)
        } else {
            0
        };
        let sub = Subheader {
            action,
            len_words,
            count: section.count,
        };
        if let Some(at) = self.buf.get_mut(section.at..) {
            let _ = sub.emit(at);
        }
        self.section = Some(section);
        Ok(())
    }

    /// Copies one already encoded record.
    pub fn push_raw(&mut self, action: u8, record: &[u8]) -> core::result::Result<(), Full> {
        self.push_with(action, record.len(), |dst| dst.copy_from_slice(record))
    }

    pub fn push_ins(
        &mut self,
        version: MsgVersion,
        state: &StateRecord,
    ) -> core::result::Result<(), Full> {
        self.push_state(version.ins_action(), version, state)
    }

    pub fn push_upd(
        &mut self,
        version: MsgVersion,
        state: &StateRecord,
    ) -> core::result::Result<(), Full> {
        self.push_state(version.upd_action(), version, state)
    }

    fn push_state(
        &mut self,
        action: Action,
        version: MsgVersion,
        state: &StateRecord,
    ) -> core::result::Result<(), Full> {
        self.push_with(action as u8, version.state_len(), |dst| {
            let _ = state.emit(version, dst);
        })
    }

    /// An OpenBSD full state under `action` (`openbsd::action::INS`, `UPD`
    /// or `DEL`).
    pub fn push_openbsd_state(
        &mut self,
        action: u8,
        state: &OpenBsdState,
    ) -> core::result::Result<(), Full> {
        self.push_with(action, OpenBsdState::LEN, |dst| {
            let _ = state.emit(dst);
        })
    }

    pub fn push_clr(&mut self, clr: &Clr) -> core::result::Result<(), Full> {
        self.push_with(Action::Clr as u8, Clr::LEN, |dst| {
            let _ = clr.emit(dst);
        })
    }

    pub fn push_ins_ack(&mut self, m: &InsAck) -> core::result::Result<(), Full> {
        self.push_with(Action::InsAck as u8, InsAck::LEN, |dst| {
            let _ = m.emit(dst);
        })
    }

    pub fn push_upd_c(&mut self, m: &UpdC) -> core::result::Result<(), Full> {
        if self.version == VERSION_OPENBSD {
            return self.push_with(Action::UpdC as u8, UpdC::LEN, |dst| {
                let _ = m.emit_openbsd(dst);
            });
        }
        self.push_with(Action::UpdC as u8, UpdC::LEN, |dst| {
            let _ = m.emit(dst);
        })
    }

    pub fn push_upd_req(&mut self, m: &UpdReq) -> core::result::Result<(), Full> {
        self.push_with(Action::UpdReq as u8, UpdReq::LEN, |dst| {
            let _ = m.emit(dst);
        })
    }

    pub fn push_del_c(&mut self, m: &DelC) -> core::result::Result<(), Full> {
        self.push_with(Action::DelC as u8, DelC::LEN, |dst| {
            let _ = m.emit(dst);
        })
    }

    pub fn push_bus(&mut self, m: &Bus) -> core::result::Result<(), Full> {
        self.push_with(Action::Bus as u8, Bus::LEN, |dst| {
            let _ = m.emit(dst);
        })
    }

    /// Writes the header (and the EOF subheader if `with_eof`) and returns the
    /// frame length, which is also the header's `len`. A trailer, if reserved,
    /// goes at `buf[returned..returned + n]`.
    pub fn finish(self, pfcksum: [u8; 16], with_eof: bool) -> usize {
        let mut end = self.pos;
        if with_eof {
            let eof = Subheader {
                action: Action::Eof as u8,
                len_words: 0,
                count: 1,
            };
            if let Some(at) = self.buf.get_mut(end..) {
                if eof.emit(at).is_ok() {
                    end += Subheader::LEN;
                }
            }
        }
        let header = Header {
            version: self.version,
            len: u16::try_from(end).unwrap_or(u16::MAX),
            pfcksum,
        };
        let _ = header.emit(self.buf);
        end
    }

    /// Writes the header of an OpenBSD frame as OpenBSD sends it: no EOF
    /// (deprecated there) and the checksum field left zero.
    pub fn finish_openbsd(self) -> usize {
        self.finish([0; 16], false)
    }

    fn frame_end(&self) -> usize {
        // Keep EOF room; never negative since `new` checked the minimum.
        self.limit
            .saturating_sub(self.trailer)
            .saturating_sub(Subheader::LEN)
    }

    fn needed(&self, action: u8, record_len: usize) -> usize {
        match self.section {
            Some(s) if s.action == action && s.record_len == record_len && s.count < u16::MAX => {
                record_len
            }
            _ => Subheader::LEN + record_len,
        }
    }
}
