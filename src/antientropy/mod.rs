//! Optional loss repair between pfsync-rs peers (anti-entropy; design in
//! docs/anti-entropy.md).
//!
//! Stock pfsync never notices a lost frame: a missed insert, update or
//! delete stays missed until the state is touched again or a full bulk update
//! runs. Here each node periodically sends a compact digest of its state table
//! (per-bucket XOR of state fingerprints); its peer finds the buckets that
//! differ, fetches just their (id, fingerprint) lists, and repairs the
//! differences with ordinary UPD_REQ messages.
//!
//! Digest messages ride past the header `len` of empty pfsync frames, where
//! stock receivers never look ([`wire`]).

mod engine_io;
pub mod fingerprint;
mod session;
pub mod wire;

pub use engine_io::EngineIo;
pub use fingerprint::{bucket_of, fingerprint, StateView};
pub use session::{Config, Io, Session, Stats};
