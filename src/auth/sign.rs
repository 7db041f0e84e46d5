//! Sending side: number each frame and append its trailer.

use super::keys::KeySet;
use super::mac;
use super::trailer::{Trailer, TRAILER_LEN, TRAILER_SIGNED_LEN};

const HEADER_LEN: usize = crate::wire::Header::LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignError {
    /// No send key chosen (authentication off, or the send key was retired).
    NoSendKey,
    /// The buffer has no room for the trailer after the frame.
    NoRoom,
    /// The bytes before the trailer do not start with a header whose `len`
    /// lies between 20 and the bytes given.
    NotAFrame,
    /// The counter reached its end within this epoch: a new epoch is needed.
    CounterExhausted,
}

/// Per-node signing state: who we are, which boot this is, and the next counter.
#[derive(Debug)]
pub struct Signer {
    sender: [u8; 4],
    epoch: u64,
    next_counter: u64,
}

impl Signer {
    /// `sender` is this node's pf hostid (raw, as in `creatorid`); `epoch` is
    /// supplied by the host and must be higher than at any earlier boot of
    /// this node (docs/auth.md, "Epoch").
    pub const fn new(sender: [u8; 4], epoch: u64) -> Self {
        Signer {
            sender,
            epoch,
            next_counter: 1,
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Moves to `epoch` if it is higher, numbering frames from 1 again:
    /// receivers open a fresh window for a higher epoch, so nothing signed
    /// before is lost and nothing can be replayed.
    pub fn advance_epoch(&mut self, epoch: u64) {
        if epoch > self.epoch {
            self.epoch = epoch;
            self.next_counter = 1;
        }
    }

    pub fn sender(&self) -> [u8; 4] {
        self.sender
    }

    /// Frames signed so far in this epoch.
    pub fn signed_count(&self) -> u64 {
        self.next_counter - 1
    }

    /// Appends a trailer after the `used` bytes of `buf`: the pfsync frame
    /// (whose header `len` must be at least 20 and at most `used`) followed by
    /// any extension payload (docs/auth.md, "Frame format"). Returns the length
    /// to transmit (`used + TRAILER_LEN`). On error nothing is written and the
    /// counter does not move.
    pub fn sign(&mut self, keys: &KeySet, buf: &mut [u8], used: usize) -> Result<usize, SignError> {
        let key_id = keys.send_id().ok_or(SignError::NoSendKey)?;
        let key = keys.key(key_id).ok_or(SignError::NoSendKey)?;
        let total = used.checked_add(TRAILER_LEN).ok_or(SignError::NoRoom)?;
        let (signed_part, rest) = buf
            .get_mut(..total)
            .ok_or(SignError::NoRoom)?
            .split_at_mut(used);
        match header_len(signed_part) {
            Some(len) if (HEADER_LEN..=used).contains(&len) => {}
            _ => return Err(SignError::NotAFrame),
        }
        if self.next_counter == u64::MAX {
            return Err(SignError::CounterExhausted);
        }
        let trailer = Trailer {
            key_id,
            sender: self.sender,
            epoch: self.epoch,
            counter: self.next_counter,
        };
        let fixed = trailer.signed_bytes();
        let tag = mac::tag(key, &[signed_part, &fixed]).ok_or(SignError::NoSendKey)?;
        let (fixed_out, tag_out) = rest.split_at_mut(TRAILER_SIGNED_LEN);
        fixed_out.copy_from_slice(&fixed);
        tag_out.copy_from_slice(&tag);
        self.next_counter += 1;
        Ok(total)
    }
}

/// The header's `len` field (bytes 2..4, big-endian).
pub(super) fn header_len(frame: &[u8]) -> Option<usize> {
    match frame.get(2..4)? {
        [hi, lo] => Some(usize::from(u16::from_be_bytes([*hi, *lo]))),
        _ => None,
    }
}
