//! Optional frame authentication (project issue #7; design in docs/auth.md).
//!
//! A signed frame is an ordinary pfsync frame whose header `len` ends before a
//! fixed-size [`trailer`]. Stock receivers stop at `len` and never look at the
//! trailer; a pfsync-rs receiver with keys installed refuses any frame whose
//! trailer is missing, malformed, carries a wrong tag, or repeats a counter.
//!
//! The pieces are independent so the engine and the hosts can own them where
//! their locking wants them:
//! - [`KeySet`]: up to two keys by id, write-only (nothing reads key bytes back).
//! - [`Signer`]: appends the trailer to an outgoing frame.
//! - [`Verifier`]: checks an incoming frame and returns the authenticated part.
//! - [`ReplayTable`]: per-sender epoch and sliding counter window.
//! - [`LogLimiter`]: token bucket for "frame rejected" log lines.
//! - [`FrameAuth`]: all of the above as the engine's frame extension.

mod extension;
mod keys;
mod mac;
mod ratelimit;
mod replay;
mod sign;
pub mod trailer;
mod verify;

pub use extension::{FrameAuth, EXTENSION_MAX};
pub use keys::{KeyError, KeySet, KEY_LEN};
pub use ratelimit::{Admission, LogLimiter};
pub use replay::{ReplayTable, ReplayVerdict, REPLAY_SENDERS, REPLAY_WINDOW};
pub use sign::{SignError, Signer};
pub use trailer::{Trailer, TRAILER_LEN};
pub use verify::{Authenticated, Reject, Verifier};
