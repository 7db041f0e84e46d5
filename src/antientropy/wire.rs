//! Anti-entropy messages and the frames that carry them.
//!
//! A digest frame is an *empty* pfsync frame (header version 5, `len` 20: no
//! sections, no EOF) followed by one message past `len`. A stock FreeBSD
//! receiver checks the header, finds no room for a subheader before `len`,
//! and stops: nothing is parsed and no error counter moves (pfsync-wire.md
//! 1.1 steps 5-8; EOF is not required). With authentication on, the auth
//! trailer follows the message and covers it.
//!
//! ```text
//! message header (16 bytes)
//!   0  4 magic    "PFSE"
//!   4  1 version  1
//!   5  1 kind     1 DIGEST, 2 DETAIL_REQ, 3 DETAIL
//!   6  2 body_len BE, bytes after this header
//!   8  4 sender   raw pf hostid
//!  12  4 round    BE
//! body header (8 bytes)
//!   0  1 bits     buckets = 2^bits
//!   1  1 flags    DIGEST: bit 0 sender is in sync; DETAIL: bit 0 last frame of the reply
//!   2  2 count    BE, items that follow
//!   4  4 first    BE, DIGEST: index of the first bucket; else 0
//! items
//!   DIGEST      count x u64 BE   bucket hashes first..first+count
//!   DETAIL_REQ  count x u32 BE   bucket indices
//!   DETAIL      count x (id 8 raw, creatorid 4 raw, fingerprint u64 BE)
//! ```

use crate::wire::header::VERSION_FREEBSD;
use crate::wire::StateId;

pub const MAGIC: [u8; 4] = *b"PFSE";
pub const VERSION: u8 = 1;
pub const MSG_HEADER_LEN: usize = 16;
pub const BODY_HEADER_LEN: usize = 8;
pub const PFSYNC_HEADER_LEN: usize = crate::wire::Header::LEN;
/// Everything before the items.
pub const OVERHEAD: usize = PFSYNC_HEADER_LEN + MSG_HEADER_LEN + BODY_HEADER_LEN;
pub const DETAIL_ITEM_LEN: usize = 20;
/// Largest allowed bucket exponent (16M buckets).
pub const MAX_BITS: u8 = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Digest = 1,
    DetailReq = 2,
    Detail = 3,
}

impl Kind {
    pub const fn item_len(self) -> usize {
        match self {
            Kind::Digest => 8,
            Kind::DetailReq => 4,
            Kind::Detail => DETAIL_ITEM_LEN,
        }
    }
}

/// A parsed message; items stay as bytes and are decoded by the iterators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: Kind,
    pub sender: [u8; 4],
    pub round: u32,
    pub bits: u8,
    pub flags: u8,
    pub first: u32,
    items: &'a [u8],
}

fn be32(b: [u8; 4]) -> u32 {
    u32::from_be_bytes(b)
}

impl<'a> Message<'a> {
    /// Parses the bytes past `len` (auth trailer already removed). `None` for
    /// anything that is not exactly one well-formed message.
    pub fn parse(bytes: &'a [u8]) -> Option<Message<'a>> {
        let (head, rest) = bytes.split_first_chunk::<{ MSG_HEADER_LEN + BODY_HEADER_LEN }>()?;
        let [m0, m1, m2, m3, version, kind, l0, l1, s0, s1, s2, s3, r0, r1, r2, r3, bits, flags, c0, c1, f0, f1, f2, f3] =
            *head;
        if [m0, m1, m2, m3] != MAGIC || version != VERSION || bits > MAX_BITS {
            return None;
        }
        let kind = match kind {
            1 => Kind::Digest,
            2 => Kind::DetailReq,
            3 => Kind::Detail,
            _ => return None,
        };
        let body_len = usize::from(u16::from_be_bytes([l0, l1]));
        let count = usize::from(u16::from_be_bytes([c0, c1]));
        let items_len = count.checked_mul(kind.item_len())?;
        if body_len != BODY_HEADER_LEN + items_len || rest.len() != items_len {
            return None;
        }
        let first = be32([f0, f1, f2, f3]);
        let buckets = 1u64 << bits;
        let in_range = match kind {
            Kind::Digest => u64::from(first) + count as u64 <= buckets,
            _ => first == 0,
        };
        if !in_range {
            return None;
        }
        Some(Message {
            kind,
            sender: [s0, s1, s2, s3],
            round: be32([r0, r1, r2, r3]),
            bits,
            flags,
            first,
            items: rest,
        })
    }

    /// DIGEST: (bucket index, hash) pairs.
    pub fn digest_hashes(&self) -> impl Iterator<Item = (u32, u64)> + 'a {
        let first = self.first;
        let items = if self.kind == Kind::Digest {
            self.items
        } else {
            &[]
        };
        items
            .chunks_exact(8)
            .zip(first..)
            .filter_map(|(c, i)| Some((i, u64::from_be_bytes(c.try_into().ok()?))))
    }

    /// DETAIL_REQ: bucket indices (those outside `2^bits` are skipped).
    pub fn requested_buckets(&self) -> impl Iterator<Item = u32> + 'a {
        let limit = 1u64 << self.bits;
        let items = if self.kind == Kind::DetailReq {
            self.items
        } else {
            &[]
        };
        items
            .chunks_exact(4)
            .filter_map(|c| Some(u32::from_be_bytes(c.try_into().ok()?)))
            .filter(move |&b| u64::from(b) < limit)
    }

    /// DETAIL: (state id, fingerprint) pairs.
    pub fn detail_entries(&self) -> impl Iterator<Item = (StateId, u64)> + 'a {
        let items = if self.kind == Kind::Detail {
            self.items
        } else {
            &[]
        };
        items.chunks_exact(DETAIL_ITEM_LEN).filter_map(|c| {
            let (id, rest) = c.split_first_chunk::<8>()?;
            let (creatorid, fp) = rest.split_first_chunk::<4>()?;
            let fp: [u8; 8] = fp.try_into().ok()?;
            Some((
                StateId {
                    id: *id,
                    creatorid: *creatorid,
                },
                u64::from_be_bytes(fp),
            ))
        })
    }
}

/// Writes one message frame into a caller buffer, item by item.
pub struct FrameWriter<'a> {
    buf: &'a mut [u8],
    kind: Kind,
    count: u16,
    len: usize,
    limit: usize,
}

impl<'a> FrameWriter<'a> {
    /// Starts a frame of at most `max_len` bytes (before any auth trailer).
    /// `None` if the buffer cannot hold even the headers.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        buf: &'a mut [u8],
        max_len: usize,
        pfcksum: &[u8; 16],
        kind: Kind,
        sender: [u8; 4],
        round: u32,
        bits: u8,
        flags: u8,
        first: u32,
    ) -> Option<FrameWriter<'a>> {
        let limit = max_len.min(buf.len());
        let head = buf.get_mut(..OVERHEAD).filter(|_| limit >= OVERHEAD)?;
        let [s0, s1, s2, s3] = sender;
        let [r0, r1, r2, r3] = round.to_be_bytes();
        let [f0, f1, f2, f3] = first.to_be_bytes();
        let (pfsync, ours) = head.split_at_mut(PFSYNC_HEADER_LEN);
        let (fixed, cksum) = pfsync.split_at_mut(4);
        fixed.copy_from_slice(&[VERSION_FREEBSD, 0, 0, PFSYNC_HEADER_LEN as u8]);
        cksum.copy_from_slice(pfcksum);
        ours.copy_from_slice(&[
            MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], VERSION, kind as u8, 0, 0, s0, s1, s2, s3, r0,
            r1, r2, r3, bits, flags, 0, 0, f0, f1, f2, f3,
        ]);
        Some(FrameWriter {
            buf,
            kind,
            count: 0,
            len: OVERHEAD,
            limit,
        })
    }

    pub fn count(&self) -> u16 {
        self.count
    }

    pub fn has_room(&self) -> bool {
        self.len + self.kind.item_len() <= self.limit && self.count < u16::MAX
    }

    fn push(&mut self, item: &[u8]) -> bool {
        if !self.has_room() || item.len() != self.kind.item_len() {
            return false;
        }
        match self.buf.get_mut(self.len..self.len + item.len()) {
            Some(out) => out.copy_from_slice(item),
            None => return false,
        }
        self.len += item.len();
        self.count += 1;
        true
    }

    pub fn push_hash(&mut self, hash: u64) -> bool {
        self.push(&hash.to_be_bytes())
    }

    pub fn push_bucket(&mut self, bucket: u32) -> bool {
        self.push(&bucket.to_be_bytes())
    }

    pub fn push_entry(&mut self, id: &StateId, fp: u64) -> bool {
        let mut item = [0u8; DETAIL_ITEM_LEN];
        let (a, rest) = item.split_at_mut(8);
        let (b, c) = rest.split_at_mut(4);
        a.copy_from_slice(&id.id);
        b.copy_from_slice(&id.creatorid);
        c.copy_from_slice(&fp.to_be_bytes());
        self.push(&item)
    }

    /// Sets a flag bit in the body header (e.g. "last frame").
    pub fn set_flags(&mut self, flags: u8) {
        if let Some(f) = self.buf.get_mut(PFSYNC_HEADER_LEN + MSG_HEADER_LEN + 1) {
            *f = flags;
        }
    }

    /// Fills in the lengths; returns the frame length.
    pub fn finish(self) -> usize {
        let body = (self.len - PFSYNC_HEADER_LEN - MSG_HEADER_LEN) as u16;
        if let Some(l) = self
            .buf
            .get_mut(PFSYNC_HEADER_LEN + 6..PFSYNC_HEADER_LEN + 8)
        {
            l.copy_from_slice(&body.to_be_bytes());
        }
        let at = PFSYNC_HEADER_LEN + MSG_HEADER_LEN + 2;
        if let Some(c) = self.buf.get_mut(at..at + 2) {
            c.copy_from_slice(&self.count.to_be_bytes());
        }
        self.len
    }
}

/// The bytes past the header's `len` of an unsigned frame (the extension
/// region); empty when there are none or the header is unreadable.
pub fn extension_region(frame: &[u8]) -> &[u8] {
    let len = match frame.get(2..4) {
        Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return &[],
    };
    frame.get(len.max(PFSYNC_HEADER_LEN)..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(n: u64) -> StateId {
        StateId {
            id: n.to_be_bytes(),
            creatorid: [0, 0, 0, 9],
        }
    }

    #[test]
    fn each_kind_round_trips_and_stock_sees_an_empty_frame() {
        let mut buf = [0u8; 200];
        let mut w = FrameWriter::new(
            &mut buf,
            200,
            &[7; 16],
            Kind::Digest,
            [1, 2, 3, 4],
            9,
            10,
            1,
            100,
        )
        .unwrap();
        assert!(w.push_hash(0xdead_beef));
        assert!(w.push_hash(5));
        let n = w.finish();
        assert_eq!(
            &buf[..4],
            &[5, 0, 0, 20],
            "version 5, len 20: no sections for stock"
        );
        let m = Message::parse(extension_region(&buf[..n])).unwrap();
        assert_eq!(
            (m.kind, m.sender, m.round, m.bits, m.flags),
            (Kind::Digest, [1, 2, 3, 4], 9, 10, 1)
        );
        assert_eq!(
            m.digest_hashes().collect::<Vec<_>>(),
            vec![(100, 0xdead_beef), (101, 5)]
        );

        let mut w =
            FrameWriter::new(&mut buf, 200, &[0; 16], Kind::Detail, [1; 4], 1, 10, 0, 0).unwrap();
        assert!(w.push_entry(&sid(77), 42));
        w.set_flags(1);
        let n = w.finish();
        let m = Message::parse(extension_region(&buf[..n])).unwrap();
        assert_eq!(m.flags, 1);
        assert_eq!(m.detail_entries().collect::<Vec<_>>(), vec![(sid(77), 42)]);

        let mut w =
            FrameWriter::new(&mut buf, 200, &[0; 16], Kind::DetailReq, [1; 4], 1, 4, 0, 0).unwrap();
        assert!(w.push_bucket(3));
        assert!(w.push_bucket(15));
        let n = w.finish();
        let m = Message::parse(extension_region(&buf[..n])).unwrap();
        assert_eq!(m.requested_buckets().collect::<Vec<_>>(), vec![3, 15]);
    }

    #[test]
    fn writer_stops_at_the_limit_and_parse_refuses_inconsistent_lengths() {
        let mut buf = [0u8; 100];
        let mut w =
            FrameWriter::new(&mut buf, 60, &[0; 16], Kind::Digest, [1; 4], 1, 4, 0, 0).unwrap();
        assert!(w.push_hash(1));
        assert!(w.push_hash(2));
        assert!(!w.push_hash(3), "44 + 16 = 60");
        let n = w.finish();
        let good = buf;
        for cut in 0..n {
            assert!(Message::parse(extension_region(&good[..cut])).is_none() || cut >= n);
        }
        let mut bad = good;
        bad[PFSYNC_HEADER_LEN + 16 + 4..PFSYNC_HEADER_LEN + 24]
            .copy_from_slice(&15u32.to_be_bytes());
        assert!(
            Message::parse(extension_region(&bad[..n])).is_none(),
            "digest past 2^bits"
        );
        let mut bad = good;
        bad[PFSYNC_HEADER_LEN + 4] = 2;
        assert!(
            Message::parse(extension_region(&bad[..n])).is_none(),
            "version"
        );
        assert!(Message::parse(extension_region(&[5, 0, 0, 20])).is_none());
    }
}
