//! pfsync wire formats: bytes in, validated values out, and back.
//!
//! Contract for everything below this module: parsing never panics, never
//! allocates and never reads past the slice it is given. Every rejection is an
//! [`Error`] whose variant names the `struct pfsyncstats` counter that stock
//! FreeBSD bumps for the same fault, so the engine can count it one-to-one.
//! Multi-byte integers are big-endian on the wire unless a field is documented
//! as `raw` (state `id`, `creatorid`, addresses, ports), which are opaque bytes
//! copied verbatim, exactly as pf does.

pub mod action;
pub mod state;

pub use action::{Action, MsgVersion};
pub use state::{IfName, Peer, Scrub, StateId, StateKey, StateRecord, TagName};

/// Why a frame or a message was refused. One variant per `pfsyncstats` counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// Shorter than the pfsync header (`pfsyncs_hdrops`).
    HdrOps,
    /// Header version is not one we accept (`pfsyncs_badver`).
    BadVer,
    /// A length, or a count times a record size, does not fit the bytes present (`pfsyncs_badlen`).
    BadLen,
    /// Unknown action, or one that stock refuses (DEL, INS_F, DEL_F) (`pfsyncs_badact`).
    BadAct,
    /// A field holds a value outside its domain: family, timeout, TCP state,
    /// direction, an unterminated name, a zero creator id (`pfsyncs_badval`).
    BadVal,
    /// Authentication trailer missing, wrong, or replayed (`pfsyncs_badauth`).
    BadAuth,
}

pub type Result<T> = core::result::Result<T, Error>;
