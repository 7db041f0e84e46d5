//! Owned, validated full-state record: the superset of formats 1301, 1400 and 1500.
//!
//! Byte-level parse/emit live beside these types; the engine and the host work
//! only with these values. Fields a format does not carry take the defaults of
//! [`StateRecord::default`] on parse and are dropped on emit.

use super::flags::{StateFlags, SyncFlags};

/// The identity of a state across the cluster: pf's `id` (kept big-endian by pf,
/// treated here as opaque bytes) and the creator's host id (also raw bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId {
    pub id: [u8; 8],
    pub creatorid: [u8; 4],
}

impl StateId {
    /// The id=0/creatorid=0 pair that asks for a bulk update in UPD_REQ.
    pub const BULK_REQUEST: StateId = StateId {
        id: [0; 8],
        creatorid: [0; 4],
    };

    /// `be64toh(id)`: what pf's `PF_IDHASH` hashes, so bucket choice matches stock.
    pub fn id_be64(&self) -> u64 {
        u64::from_be_bytes(self.id)
    }
}

/// `raw` with every byte from the first NUL on set to zero, or `None` if it has
/// no NUL. The receive path runs this for every name of every state, so it
/// works on 8 bytes at a time: a NUL is found with the classic "has zero byte"
/// bit trick on a u64 (the lowest flagged byte is always the first NUL;
/// borrows only flag bytes above it), that word is masked, and the rest of
/// the output stays zero. Real names are short: usually one word.
#[inline(always)]
fn terminated<const N: usize>(raw: &[u8; N]) -> Option<[u8; N]> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let mut out = [0u8; N];
    let (words, tail) = raw.as_chunks::<8>();
    let (out_words, out_tail) = out.as_chunks_mut::<8>();
    for (src, dst) in words.iter().zip(out_words.iter_mut()) {
        let x = u64::from_le_bytes(*src);
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            let kept_bits = zeros.trailing_zeros() & !7;
            *dst = (x & ((1u64 << kept_bits) - 1)).to_le_bytes();
            return Some(out);
        }
        *dst = *src;
    }
    // Lengths that are not a multiple of 8 (none today) finish bytewise.
    for (s, d) in tail.iter().zip(out_tail.iter_mut()) {
        if *s == 0 {
            return Some(out);
        }
        *d = *s;
    }
    None
}

/// True if `raw` holds a NUL. Eight bytes at a time with the same "has zero
/// byte" test as [`terminated`], stopping at the first word holding a NUL:
/// real names are short, so this is usually one word per name.
#[inline(always)]
pub(crate) fn has_nul<const N: usize>(raw: &[u8; N]) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let (words, tail) = raw.as_chunks::<8>();
    for word in words {
        let x = u64::from_le_bytes(*word);
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            return true;
        }
    }
    tail.contains(&0)
}

/// An interface name as carried on the wire: 16 bytes, guaranteed to hold a NUL.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IfName([u8; IfName::LEN]);

impl IfName {
    pub const LEN: usize = 16;
    pub const EMPTY: IfName = IfName([0; IfName::LEN]);

    /// Accepts the raw field only if a NUL terminates it within 16 bytes; the
    /// bytes after the first NUL are zeroed so equal names compare equal.
    pub fn from_wire(raw: &[u8; IfName::LEN]) -> Option<IfName> {
        terminated(raw).map(IfName)
    }

    /// From a Rust string: at most 15 bytes, no interior NUL.
    pub fn new(s: &str) -> Option<IfName> {
        let b = s.as_bytes();
        if b.len() >= IfName::LEN || b.contains(&0) {
            return None;
        }
        let mut name = [0u8; IfName::LEN];
        name.get_mut(..b.len())?.copy_from_slice(b);
        Some(IfName(name))
    }

    pub fn as_wire(&self) -> &[u8; IfName::LEN] {
        &self.0
    }

    /// The name without its NUL padding.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(IfName::LEN);
        self.0.get(..end).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }
}

impl core::fmt::Debug for IfName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "IfName({:?})",
            core::str::from_utf8(self.as_bytes()).unwrap_or("<non-utf8>")
        )
    }
}

/// A pf tag name (`PF_TAG_NAME_SIZE` 64), NUL-terminated on the wire; format 1500 only.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagName([u8; TagName::LEN]);

impl TagName {
    pub const LEN: usize = 64;
    pub const EMPTY: TagName = TagName([0; TagName::LEN]);

    #[inline]
    pub fn from_wire(raw: &[u8; TagName::LEN]) -> Option<TagName> {
        terminated(raw).map(TagName)
    }

    pub fn new(s: &str) -> Option<TagName> {
        let b = s.as_bytes();
        if b.len() >= TagName::LEN || b.contains(&0) {
            return None;
        }
        let mut name = [0u8; TagName::LEN];
        name.get_mut(..b.len())?.copy_from_slice(b);
        Some(TagName(name))
    }

    pub fn as_wire(&self) -> &[u8; TagName::LEN] {
        &self.0
    }

    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(TagName::LEN);
        self.0.get(..end).unwrap_or(&[])
    }
}

impl Default for TagName {
    fn default() -> Self {
        TagName::EMPTY
    }
}

impl core::fmt::Debug for TagName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "TagName({:?})",
            core::str::from_utf8(self.as_bytes()).unwrap_or("<non-utf8>")
        )
    }
}

/// `struct pfsync_state_key`: addresses and ports exactly as pf holds them (network order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StateKey {
    pub addr: [[u8; 16]; 2],
    pub port: [[u8; 2]; 2],
}

/// `struct pfsync_state_scrub` / `pf_state_scrub_export`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scrub {
    pub pfss_flags: u16,
    pub pfss_ttl: u8,
    /// 1 (`PF_SCRUB_FLAG_VALID`) when the other scrub fields mean something.
    pub scrub_flag: u8,
    pub pfss_ts_mod: u32,
}

/// `struct pfsync_state_peer` / `pf_state_peer_export`: one side of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Peer {
    pub scrub: Scrub,
    pub seqlo: u32,
    pub seqhi: u32,
    pub seqdiff: u32,
    pub max_win: u16,
    pub mss: u16,
    /// TCPS_* (0..=10), PF_TCPS_PROXY_SRC 11, PF_TCPS_PROXY_DST 12; PFUDPS_*/PFOTHERS_* otherwise.
    pub state: u8,
    pub wscale: u8,
}

/// A full pf state as pfsync carries it, independent of the message format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateRecord {
    pub id: StateId,
    pub ifname: IfName,
    /// `key[0]` = wire side, `key[1]` = stack side.
    pub key: [StateKey; 2],
    pub src: Peer,
    pub dst: Peer,
    pub rt_addr: [u8; 16],
    pub rule: u32,
    pub anchor: u32,
    pub nat_rule: u32,
    /// Age of the state, seconds.
    pub creation: u32,
    /// Seconds until expiry.
    pub expire: u32,
    /// 64-bit counters per direction; on the wire as {high, low} big-endian halves.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// Address family of key[0] (`af` in 1301/1400, `wire_af` in 1500).
    pub wire_af: u8,
    /// Address family of key[1]; equals `wire_af` except for af-to (1500 only).
    pub stack_af: u8,
    /// Protocol of key[0] (`proto` in 1301/1400, `wire_proto` in 1500).
    pub wire_proto: u8,
    pub stack_proto: u8,
    pub direction: u8,
    pub log: u8,
    /// PFSTATE_* flags; 1301 carries only the low 8 bits.
    pub state_flags: StateFlags,
    pub timeout: u8,
    /// PFSYNC_FLAG_*; absent from 1500.
    pub sync_flags: SyncFlags,
    pub qid: u16,
    pub pqid: u16,
    pub dnpipe: u16,
    pub dnrpipe: u16,
    /// FIB, -1 = none.
    pub rtableid: i32,
    pub min_ttl: u8,
    pub set_tos: u8,
    pub max_mss: u16,
    pub set_prio: [u8; 2],
    pub rt: u8,
    /// Family of `rt_addr` (1500 only; otherwise `wire_af`).
    pub rt_af: u8,
    pub rt_ifname: IfName,
    pub orig_ifname: IfName,
    pub tagname: TagName,
    /// OpenBSD only: routing domain of `key[0]` and `key[1]` (0 elsewhere).
    pub rdomain: [u16; 2],
    /// OpenBSD only: routing table of the stack-side key (`rtableid[1]`;
    /// `rtableid` above is the wire side's). FreeBSD has one FIB per state.
    pub stack_rtableid: i32,
}

impl Default for StateRecord {
    fn default() -> Self {
        StateRecord {
            id: StateId::default(),
            ifname: IfName::EMPTY,
            key: [StateKey::default(); 2],
            src: Peer::default(),
            dst: Peer::default(),
            rt_addr: [0; 16],
            rule: u32::MAX,
            anchor: u32::MAX,
            nat_rule: u32::MAX,
            creation: 0,
            expire: 0,
            packets: [0; 2],
            bytes: [0; 2],
            wire_af: 0,
            stack_af: 0,
            wire_proto: 0,
            stack_proto: 0,
            direction: 0,
            log: 0,
            state_flags: StateFlags::empty(),
            timeout: 0,
            sync_flags: SyncFlags::empty(),
            qid: 0,
            pqid: 0,
            dnpipe: 0,
            dnrpipe: 0,
            rtableid: -1,
            min_ttl: 0,
            set_tos: 0,
            max_mss: 0,
            set_prio: [0; 2],
            rt: 0,
            rt_af: 0,
            rt_ifname: IfName::EMPTY,
            orig_ifname: IfName::EMPTY,
            tagname: TagName::EMPTY,
            rdomain: [0; 2],
            stack_rtableid: -1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifname_without_nul_is_refused() {
        assert!(IfName::from_wire(&[b'a'; 16]).is_none());
        let mut raw = [b'x'; 16];
        raw[3] = 0;
        let name = IfName::from_wire(&raw).expect("terminated");
        assert_eq!(name.as_bytes(), b"xxx");
        assert_eq!(name.as_wire()[4], 0, "bytes after the NUL are cleared");
        assert!(IfName::new("em0123456789abcd").is_none());
    }

    #[test]
    fn name_termination_matches_a_bytewise_scan() {
        fn naive<const N: usize>(raw: &[u8; N]) -> Option<[u8; N]> {
            let end = raw.iter().position(|&b| b == 0)?;
            let mut out = *raw;
            out[end..].fill(0);
            Some(out)
        }
        for end in 0..=64 {
            for filler in [0x01u8, 0x7f, 0x80, 0xff] {
                let mut raw = [filler; 64];
                if end < 64 {
                    raw[end] = 0;
                    if end + 1 < 64 {
                        raw[end + 1] = 0x01; // a byte after the NUL that must be cleared
                    }
                }
                assert_eq!(
                    terminated(&raw),
                    naive(&raw),
                    "tag end {end} filler {filler:#x}"
                );
                assert_eq!(has_nul(&raw), end < 64);
                let short: [u8; 16] = raw[..16].try_into().unwrap();
                assert_eq!(terminated(&short), naive(&short), "ifname end {end}");
                assert_eq!(has_nul(&short), end < 16);
                // A length that is not a whole number of 8-byte words.
                let odd: [u8; 13] = raw[..13].try_into().unwrap();
                assert_eq!(terminated(&odd), naive(&odd), "odd end {end}");
                assert_eq!(has_nul(&odd), end < 13);
            }
        }
    }

    #[test]
    fn bulk_request_id_is_all_zero() {
        assert_eq!(StateId::BULK_REQUEST.id_be64(), 0);
    }
}
