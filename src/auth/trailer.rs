//! Byte layout of the authentication trailer that follows a signed frame.
//!
//! ```text
//! off size field     order meaning
//!   0    4 magic     -     "PFSA": tells a signed frame from trailing garbage
//!   4    1 version   -     1
//!   5    1 key_id    -     which installed key produced the tag
//!   6    2 reserved  BE    0 on send, must be 0 on receive
//!   8    4 sender    raw   sender's pf hostid (same byte order as creatorid)
//!  12    8 epoch     BE    sender boot epoch, strictly higher after each boot
//!  20    8 counter   BE    per-frame counter within the epoch, starts at 1
//!  28   16 tag       -     keyed BLAKE2b-128 over packet[0..end-16]
//! ```
//! The trailer is the last 44 bytes of the IP payload. Between the header's
//! `len` and the trailer an extension may carry its own payload (anti-entropy
//! digests); the tag covers it as well.

use crate::wire::{Error, Result};

pub const TRAILER_LEN: usize = 44;
/// Bytes of the trailer covered by the tag (everything before the tag).
pub const TRAILER_SIGNED_LEN: usize = 28;
pub const TAG_LEN: usize = TRAILER_LEN - TRAILER_SIGNED_LEN;
pub const MAGIC: [u8; 4] = *b"PFSA";
pub const VERSION: u8 = 1;

/// The fixed fields of a trailer, parsed or about to be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub key_id: u8,
    pub sender: [u8; 4],
    pub epoch: u64,
    pub counter: u64,
}

impl Trailer {
    /// Reads the fixed fields and the tag from exactly [`TRAILER_LEN`] bytes.
    /// Rejects a wrong magic, an unknown version or non-zero reserved bytes.
    pub fn parse(raw: &[u8; TRAILER_LEN]) -> Result<(Trailer, [u8; TAG_LEN])> {
        let [m0, m1, m2, m3, version, key_id, r0, r1, s0, s1, s2, s3, e0, e1, e2, e3, e4, e5, e6, e7, c0, c1, c2, c3, c4, c5, c6, c7, tag @ ..] =
            *raw;
        if [m0, m1, m2, m3] != MAGIC || version != VERSION || [r0, r1] != [0, 0] {
            return Err(Error::BadAuth);
        }
        let trailer = Trailer {
            key_id,
            sender: [s0, s1, s2, s3],
            epoch: u64::from_be_bytes([e0, e1, e2, e3, e4, e5, e6, e7]),
            counter: u64::from_be_bytes([c0, c1, c2, c3, c4, c5, c6, c7]),
        };
        Ok((trailer, tag))
    }

    /// The signed part of the trailer (everything but the tag).
    pub fn signed_bytes(&self) -> [u8; TRAILER_SIGNED_LEN] {
        let [m0, m1, m2, m3] = MAGIC;
        let [s0, s1, s2, s3] = self.sender;
        let [e0, e1, e2, e3, e4, e5, e6, e7] = self.epoch.to_be_bytes();
        let [c0, c1, c2, c3, c4, c5, c6, c7] = self.counter.to_be_bytes();
        [
            m0,
            m1,
            m2,
            m3,
            VERSION,
            self.key_id,
            0,
            0,
            s0,
            s1,
            s2,
            s3,
            e0,
            e1,
            e2,
            e3,
            e4,
            e5,
            e6,
            e7,
            c0,
            c1,
            c2,
            c3,
            c4,
            c5,
            c6,
            c7,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_bytes_round_trip_through_parse() {
        let t = Trailer {
            key_id: 7,
            sender: [1, 2, 3, 4],
            epoch: 0x0102_0304_0506_0708,
            counter: 42,
        };
        let mut raw = [0u8; TRAILER_LEN];
        raw[..TRAILER_SIGNED_LEN].copy_from_slice(&t.signed_bytes());
        raw[TRAILER_SIGNED_LEN..].copy_from_slice(&[0xaa; TAG_LEN]);
        assert_eq!(&raw[..6], b"PFSA\x01\x07");
        assert_eq!(&raw[12..20], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(Trailer::parse(&raw), Ok((t, [0xaa; TAG_LEN])));
    }

    #[test]
    fn parse_refuses_wrong_magic_version_or_reserved() {
        let t = Trailer {
            key_id: 1,
            sender: [9; 4],
            epoch: 1,
            counter: 1,
        };
        let mut good = [0u8; TRAILER_LEN];
        good[..TRAILER_SIGNED_LEN].copy_from_slice(&t.signed_bytes());
        for pos in [0, 3, 4, 6, 7] {
            let mut bad = good;
            bad[pos] ^= 0x10;
            assert_eq!(Trailer::parse(&bad), Err(Error::BadAuth), "byte {pos}");
        }
    }
}
