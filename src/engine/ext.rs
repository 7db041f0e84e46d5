//! The extension point for frame authentication and digests.
//!
//! Every frame the engine sends passes through [`FrameExtension::seal`] just
//! before `Host::send_frame`, and every frame it receives passes through
//! [`FrameExtension::open`] before a single byte of it is parsed. Those are
//! the only two places frames cross the engine's edge, so a MAC trailer,
//! replay protection or an anti-entropy digest can be added without touching
//! queue or protocol code. Frames are always built with
//! [`FrameExtension::trailer_len`] bytes left free after the EOF subheader.

use crate::time::Instant;

/// A frame refused by the extension; counted in `pfsyncs_badauth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Why, for the log line.
    pub reason: &'static str,
    /// `Some(n)`: write a log line, noting `n` earlier refusals that were
    /// not logged (the extension rate-limits); `None`: count only.
    pub log: Option<u64>,
}

pub trait FrameExtension {
    /// Bytes to keep free at the end of every outgoing frame.
    fn trailer_len(&self) -> usize {
        0
    }

    /// Finishes an outgoing frame: `buf[..len]` is the complete pfsync frame
    /// (header `len` field already set) and `buf.len() >= len + trailer_len()`.
    /// Returns the number of bytes to transmit, or `None` if the frame must
    /// not leave (e.g. authentication on but no send key): counted in
    /// `oerrors`.
    fn seal(&mut self, now: Instant, buf: &mut [u8], len: usize) -> Option<usize> {
        let _ = (now, buf);
        Some(len)
    }

    /// Checks an incoming frame (starting at the pfsync header). Returns how
    /// many leading bytes the engine should parse, or rejects the frame.
    fn open(&mut self, now: Instant, frame: &[u8]) -> Result<usize, Rejected> {
        let _ = now;
        Ok(frame.len())
    }
}

/// No extension: frames go out and come in unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoExtension;

impl FrameExtension for NoExtension {}
