//! Assembling outgoing frames: sections of records under a byte budget.
//!
//! `FrameWriter` lays out `header | (subheader + records)* | EOF` in a caller
//! buffer, opening a section when the action changes and refusing a record
//! that would push the frame (EOF and extension trailer included) past the
//! budget. In OpenBSD's dialect the frame is `header | (subheader +
//! records)*` as OpenBSD's `pfsync_slice_write` lays it out: version 6, each
//! subheader giving its record length in 4-byte words, no EOF, the checksum
//! field zero. Record bodies are written by the caller into the slice it is
//! handed; the byte layouts of header, subheader and the small records come
//! from `crate::wire`.

use crate::engine::queues::{HEADER_LEN, SUBHEADER_LEN};
use crate::wire::action::ACTION_COUNT;
use crate::wire::Action;

pub struct FrameWriter<'a> {
    buf: &'a mut [u8],
    /// Bytes of the frame the records may use, EOF included, trailer excluded.
    budget: usize,
    len: usize,
    /// Offset of the open section's subheader, its action and record count.
    section: Option<(usize, Action, u16)>,
    /// Record length of the open section (OpenBSD writes it in the subheader).
    section_record_len: usize,
    records: u32,
    /// Records written per action, for `oacts`.
    pub per_action: [u32; ACTION_COUNT],
    openbsd: bool,
    /// Bytes kept for the EOF subheader (FreeBSD 4, OpenBSD none).
    eof_room: usize,
}

impl<'a> FrameWriter<'a> {
    /// A writer over `buf` for frames of at most `budget` bytes (before any
    /// extension trailer). The buffer must be at least `budget` long.
    pub fn new(buf: &'a mut [u8], budget: usize) -> FrameWriter<'a> {
        FrameWriter::with_dialect(buf, budget, false)
    }

    /// A writer of OpenBSD frames when `openbsd`, else of FreeBSD ones.
    pub fn with_dialect(buf: &'a mut [u8], budget: usize, openbsd: bool) -> FrameWriter<'a> {
        let budget = budget.min(buf.len());
        FrameWriter {
            buf,
            budget,
            len: HEADER_LEN,
            section: None,
            section_record_len: 0,
            records: 0,
            per_action: [0; ACTION_COUNT],
            openbsd,
            eof_room: if openbsd { 0 } else { SUBHEADER_LEN },
        }
    }

    /// True when the frame gets an EOF subheader (FreeBSD only).
    pub fn has_eof(&self) -> bool {
        !self.openbsd
    }

    /// Starts a new, empty frame in the same buffer.
    pub fn reset(&mut self) {
        self.len = HEADER_LEN;
        self.section = None;
        self.records = 0;
        self.per_action = [0; ACTION_COUNT];
    }

    /// The whole buffer (for sealing and transmitting a finished frame).
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        self.buf
    }

    pub fn records(&self) -> u32 {
        self.records
    }

    /// Bytes written so far (without EOF).
    pub fn written(&self) -> usize {
        self.len
    }

    /// Would one more `record_len`-byte record of `action` fit?
    pub fn fits(&self, action: Action, record_len: usize) -> bool {
        let sub = match self.section {
            Some((_, a, count)) if a == action && count < u16::MAX => 0,
            Some(_) | None => SUBHEADER_LEN,
        };
        self.len + sub + record_len + self.eof_room <= self.budget
    }

    /// Space for one record of `action`, opening a section if needed. The
    /// caller must have checked [`FrameWriter::fits`]; `None` otherwise.
    pub fn record(&mut self, action: Action, record_len: usize) -> Option<&mut [u8]> {
        if !self.fits(action, record_len) {
            return None;
        }
        match self.section {
            Some((_, a, count)) if a == action && count < u16::MAX => {}
            Some(_) | None => {
                self.close_section();
                self.section = Some((self.len, action, 0));
                self.section_record_len = record_len;
                self.len += SUBHEADER_LEN;
            }
        }
        let start = self.len;
        let rec = self.buf.get_mut(start..start + record_len)?;
        rec.fill(0);
        Some(rec)
    }

    /// Accepts the record last handed out by [`FrameWriter::record`].
    pub fn commit(&mut self, record_len: usize) {
        if let Some((_, action, count)) = self.section.as_mut() {
            *count += 1;
            self.len += record_len;
            self.records += 1;
            if let Some(n) = self.per_action.get_mut(*action as usize) {
                *n += 1;
            }
        }
    }

    fn close_section(&mut self) {
        if let Some((at, action, count)) = self.section.take() {
            if count == 0 {
                // Nothing was committed: take the subheader back.
                self.len = at;
            } else if let Some(sub) = self.buf.get_mut(at..at + SUBHEADER_LEN) {
                let len_words = if self.openbsd {
                    u8::try_from(self.section_record_len / 4).unwrap_or(0)
                } else {
                    0
                };
                let _ = crate::wire::Subheader {
                    action: action as u8,
                    len_words,
                    count,
                }
                .emit(sub);
            }
        }
    }

    /// Closes the frame with EOF and the header; returns its length.
    pub fn finish(&mut self, checksum: &[u8; 16]) -> usize {
        self.close_section();
        if self.openbsd {
            return self.write_header(crate::wire::header::VERSION_OPENBSD, &[0; 16]);
        }
        if let Some(eof) = self.buf.get_mut(self.len..self.len + SUBHEADER_LEN) {
            let _ = crate::wire::Subheader {
                action: Action::Eof as u8,
                len_words: 0,
                count: 1,
            }
            .emit(eof);
            self.len += SUBHEADER_LEN;
        }
        self.write_header(crate::wire::header::VERSION_FREEBSD, checksum)
    }

    fn write_header(&mut self, version: u8, checksum: &[u8; 16]) -> usize {
        let len = u16::try_from(self.len).unwrap_or(u16::MAX);
        if let Some(h) = self.buf.get_mut(..HEADER_LEN) {
            let _ = crate::wire::Header {
                version,
                len,
                pfcksum: *checksum,
            }
            .emit(h);
        }
        self.len
    }
}
