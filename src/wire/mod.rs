//! pfsync wire formats: bytes in, validated values out, and back.
//!
//! Contract for everything below this module: parsing never panics, never
//! allocates and never reads past the slice it is given. Every rejection is an
//! [`Error`] whose variant names the `struct pfsyncstats` counter that stock
//! FreeBSD bumps for the same fault, so the engine can count it one-to-one.
//! Multi-byte integers are big-endian on the wire unless a field is documented
//! as `raw` (state `id`, `creatorid`, addresses, ports), which are opaque bytes
//! copied verbatim, exactly as pf does.
//!
//! Layout: one file per wire struct (`header`, `clr`, `ids` for INS_ACK /
//! UPD_REQ / DEL_C, `upd_c`, `bus`, `tdb`, `peer`, `state_format` for the
//! FreeBSD full states, `openbsd` for OpenBSD's), each with a `field` module of
//! offsets and a layout table ([`layout::ALL`]) built from the same constants;
//! [`FrameReader`] walks a received frame, [`FrameBuilder`] fills one to send.
//!
//! Every `parse` takes a slice at least the record's `LEN` long (extra bytes are
//! ignored) and every `emit` writes exactly `LEN` bytes into the front of the
//! buffer it is given, returning `BadLen` if the buffer is shorter.

pub mod action;
#[cfg(any(test, feature = "std"))]
pub mod agreement;
pub mod builder;
pub mod bus;
pub mod clr;
pub mod field;
pub mod flags;
pub mod header;
pub mod ids;
pub mod layout;
pub mod openbsd;
pub mod peer;
pub mod reader;
#[cfg(any(test, feature = "std"))]
pub mod samples;
pub mod state;
pub mod state_format;
pub mod state_view;
pub mod tdb;
pub mod upd_c;
pub mod upd_c_view;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use action::{Action, MsgVersion};
pub use builder::{FrameBuilder, Full};
pub use bus::{Bus, BusStatus};
pub use clr::Clr;
pub use flags::{StateFlags, SyncFlags};
pub use header::{Header, Subheader, VERSION_FREEBSD, VERSION_OPENBSD};
pub use ids::{DelC, InsAck, UpdReq};
pub use openbsd::{OpenBsdState, OpenBsdStateKey};
pub use peer::WirePeer;
pub use reader::{
    Dialect, Event, FrameReader, Message, MessageRef, ViewEvent, ViewReader, WalkEvent,
};
pub use state::{IfName, Peer, Scrub, StateId, StateKey, StateRecord, TagName};
pub use state_format::StateChecks;
pub use state_view::StateView;
pub use tdb::{Tdb, TdbRef};
pub use upd_c::UpdC;
pub use upd_c_view::UpdCView;

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

/// Which check refused one message. All but `Short` count as [`Error::BadVal`].
///
/// Stock splits these over two stages: `Timeout`, `PeerState`, `Direction` and
/// `AddressFamily` are its wire checks (`badval`); `IfName` and `CreatorId` are
/// checked by `pfsync_state_import`, whose failure stock counts as `badact`
/// for INS and `badstate` for UPD. The remaining name checks have no stock
/// equivalent (stock passes such names on unterminated). The engine can use
/// [`Reject::is_import_check`] to reproduce stock's counters exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reject {
    /// Fewer bytes than the record (only from direct `decode` calls; the frame
    /// reader checks whole sections first and reports `BadLen` instead).
    Short,
    /// `timeout >= PFTM_MAX`.
    Timeout,
    /// `src.state` or `dst.state` above `PF_TCPS_PROXY_DST`.
    PeerState,
    /// `direction > PF_OUT`.
    Direction,
    /// Family neither `AF_INET` nor `AF_INET6` (of the dialect).
    AddressFamily,
    /// `ifname` without NUL in 16 bytes.
    IfName,
    /// `creatorid` 0.
    CreatorId,
    /// `rt_ifname` without NUL.
    RtIfName,
    /// `orig_ifname` without NUL.
    OrigIfName,
    /// `tagname` without NUL in 64 bytes.
    TagName,
}

impl Reject {
    /// True for the checks stock makes in `pfsync_state_import` rather than
    /// in the message handler.
    pub const fn is_import_check(self) -> bool {
        matches!(
            self,
            Reject::IfName
                | Reject::CreatorId
                | Reject::RtIfName
                | Reject::OrigIfName
                | Reject::TagName
        )
    }
}

impl From<Reject> for Error {
    fn from(r: Reject) -> Error {
        match r {
            Reject::Short => Error::BadLen,
            _ => Error::BadVal,
        }
    }
}
