//! Receiving side: decide whether a frame may reach the parser at all.

use super::keys::KeySet;
use super::mac;
use super::replay::{ReplayTable, ReplayVerdict};
use super::sign::header_len;
use super::trailer::{Trailer, TRAILER_LEN, TRAILER_SIGNED_LEN};
use crate::wire::Error;

const HEADER_LEN: usize = crate::wire::Header::LEN;
const PFSYNC_VERSION: u8 = crate::wire::header::VERSION_FREEBSD;

/// Why a frame was refused; all of them count as `badauth` (see
/// [`Reject::counter`]) and the reason exists for the rate-limited log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Shorter than a pfsync header.
    Header,
    /// Header version is not 5.
    Version,
    /// The header's `len` leaves no room for a trailer (unsigned frame,
    /// truncated, or `len` tampered with).
    Length,
    /// Trailer magic, version or reserved bytes wrong.
    Malformed,
    /// The trailer names a key id that is not installed (never, or retired).
    UnknownKey,
    /// Tag does not match: forged or modified.
    BadTag,
    /// Carries our own sender id: a reflected copy of one of our frames.
    Reflected,
    /// Counter already seen or older than the window.
    Replayed,
    /// Epoch older than the sender's current one: replay from an earlier boot.
    StaleEpoch,
    /// Too many senders already tracked.
    TooManySenders,
}

impl Reject {
    /// The `pfsyncstats` counter this rejection is charged to: always
    /// `badauth`. With authentication on, even frames that stock would count
    /// as `hdrops` or `badver` are refused here, before any parsing, so the
    /// one counter tells an operator "refused by authentication".
    pub fn counter(self) -> Error {
        Error::BadAuth
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reject::Header => "short header",
            Reject::Version => "bad version",
            Reject::Length => "missing or misplaced trailer",
            Reject::Malformed => "malformed trailer",
            Reject::UnknownKey => "unknown key id",
            Reject::BadTag => "bad tag",
            Reject::Reflected => "own frame reflected",
            Reject::Replayed => "replayed counter",
            Reject::StaleEpoch => "stale epoch",
            Reject::TooManySenders => "too many senders",
        }
    }
}

impl From<Reject> for Error {
    fn from(r: Reject) -> Error {
        r.counter()
    }
}

/// A frame that passed every check: `frame` is the pfsync frame up to `len`,
/// ready for the ordinary parser; `extension` the authenticated bytes between
/// `len` and the trailer (empty unless an extension such as anti-entropy put
/// something there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Authenticated<'a> {
    pub frame: &'a [u8],
    pub extension: &'a [u8],
    pub sender: [u8; 4],
    pub epoch: u64,
    pub counter: u64,
    pub key_id: u8,
}

/// Receive-side authentication state of one node.
#[derive(Debug)]
pub struct Verifier {
    own_id: [u8; 4],
    replay: ReplayTable,
}

impl Verifier {
    /// `own_id` is this node's pf hostid, the `sender` its own frames carry.
    pub const fn new(own_id: [u8; 4]) -> Self {
        Verifier {
            own_id,
            replay: ReplayTable::new(),
        }
    }

    pub fn replay_table(&mut self) -> &mut ReplayTable {
        &mut self.replay
    }

    /// Checks `packet` (the IP payload: pfsync header to the end) and returns
    /// the authenticated frame. Order: header, trailer position,
    /// trailer fields, key id, tag, reflection, replay. The replay state moves
    /// only for a frame whose tag verified.
    pub fn verify<'a>(
        &mut self,
        keys: &KeySet,
        packet: &'a [u8],
    ) -> Result<Authenticated<'a>, Reject> {
        if packet.len() < HEADER_LEN {
            return Err(Reject::Header);
        }
        if packet.first() != Some(&PFSYNC_VERSION) {
            return Err(Reject::Version);
        }
        let len = header_len(packet).ok_or(Reject::Header)?;
        let trailer_at = packet
            .len()
            .checked_sub(TRAILER_LEN)
            .filter(|&at| len >= HEADER_LEN && len <= at)
            .ok_or(Reject::Length)?;
        let (signed_part, raw_trailer) = packet.split_at(trailer_at);
        let raw_trailer: &[u8; TRAILER_LEN] = raw_trailer.try_into().map_err(|_| Reject::Length)?;
        let (trailer, claimed) = Trailer::parse(raw_trailer).map_err(|_| Reject::Malformed)?;
        let key = keys.key(trailer.key_id).ok_or(Reject::UnknownKey)?;
        let fixed = raw_trailer
            .get(..TRAILER_SIGNED_LEN)
            .ok_or(Reject::Length)?;
        if !mac::tag_matches(key, &[signed_part, fixed], &claimed) {
            return Err(Reject::BadTag);
        }
        let (frame, extension) = signed_part.split_at(len);
        if trailer.sender == self.own_id {
            return Err(Reject::Reflected);
        }
        match self
            .replay
            .check_and_record(trailer.sender, trailer.epoch, trailer.counter)
        {
            ReplayVerdict::Fresh => Ok(Authenticated {
                frame,
                extension,
                sender: trailer.sender,
                epoch: trailer.epoch,
                counter: trailer.counter,
                key_id: trailer.key_id,
            }),
            ReplayVerdict::Replayed => Err(Reject::Replayed),
            ReplayVerdict::StaleEpoch => Err(Reject::StaleEpoch),
            ReplayVerdict::TableFull => Err(Reject::TooManySenders),
        }
    }
}
