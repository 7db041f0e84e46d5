//! Which bucket a state falls in, and a 64-bit fingerprint of what pfsync
//! synchronises about it.
//!
//! Bucket: a mix of (`id`, `creatorid`) only, so a state stays in its bucket
//! for life and both peers agree on it without exchanging anything. Fingerprint:
//! a mix of the identity plus every field an update (UPD/UPD_C) carries and a
//! receiver stores verbatim (both peers' sequence windows, TCP states, window
//! scale, MSS, and the timeout class). `expire` is left out: it is a countdown
//! that differs between peers by construction. Not cryptographic: a collision
//! only hides one difference from one round's comparison (2^-64 per pair).

use crate::wire::{Peer, StateId};

/// The fields of one state the digest looks at.
#[derive(Clone, Copy, Debug)]
pub struct StateView<'a> {
    pub id: &'a StateId,
    pub proto: u8,
    pub timeout: u8,
    pub src: &'a Peer,
    pub dst: &'a Peer,
}

/// The 64-bit finaliser of SplitMix64: full avalanche, three multiplies.
const fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn absorb(h: u64, word: u64) -> u64 {
    mix(h.rotate_left(29) ^ word)
}

fn identity(id: &StateId) -> u64 {
    let creator = u64::from(u32::from_be_bytes(id.creatorid));
    absorb(
        mix(u64::from_be_bytes(id.id) ^ 0x7066_7379_6e63_6165),
        creator,
    )
}

/// Bucket index of `id` among `2^bits` buckets (`bits` <= 24).
pub fn bucket_of(id: &StateId, bits: u8) -> u32 {
    let bits = u32::from(bits.min(24));
    if bits == 0 {
        return 0;
    }
    (identity(id) >> (64 - bits)) as u32
}

fn peer_words(p: &Peer) -> [u64; 2] {
    [
        (u64::from(p.seqlo) << 32) | u64::from(p.seqhi),
        (u64::from(p.seqdiff) << 32)
            | (u64::from(p.max_win) << 16)
            | (u64::from(p.mss) ^ (u64::from(p.state) << 8) ^ (u64::from(p.wscale) << 4)),
    ]
}

/// Fingerprint of a state's synchronised content; never 0 (0 marks "absent").
pub fn fingerprint(v: &StateView<'_>) -> u64 {
    let [s0, s1] = peer_words(v.src);
    let [d0, d1] = peer_words(v.dst);
    let h = [
        s0,
        s1,
        d0,
        d1,
        (u64::from(v.proto) << 8) | u64::from(v.timeout),
    ]
    .into_iter()
    .fold(identity(v.id), absorb);
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64, c: u32) -> StateId {
        StateId {
            id: n.to_be_bytes(),
            creatorid: c.to_be_bytes(),
        }
    }

    #[test]
    fn every_synced_field_changes_the_fingerprint_and_expire_does_not_enter() {
        let i = id(1, 7);
        let p = Peer::default();
        let base = fingerprint(&StateView {
            id: &i,
            proto: 6,
            timeout: 2,
            src: &p,
            dst: &p,
        });
        let variants: [fn(&mut Peer); 7] = [
            |p| p.seqlo += 1,
            |p| p.seqhi += 1,
            |p| p.seqdiff += 1,
            |p| p.max_win += 1,
            |p| p.mss += 1,
            |p| p.state += 1,
            |p| p.wscale += 1,
        ];
        for change in variants {
            let mut q = p;
            change(&mut q);
            assert_ne!(
                fingerprint(&StateView {
                    id: &i,
                    proto: 6,
                    timeout: 2,
                    src: &q,
                    dst: &p
                }),
                base
            );
            assert_ne!(
                fingerprint(&StateView {
                    id: &i,
                    proto: 6,
                    timeout: 2,
                    src: &p,
                    dst: &q
                }),
                base
            );
        }
        assert_ne!(
            fingerprint(&StateView {
                id: &i,
                proto: 6,
                timeout: 3,
                src: &p,
                dst: &p
            }),
            base
        );
        assert_ne!(
            fingerprint(&StateView {
                id: &id(1, 8),
                proto: 6,
                timeout: 2,
                src: &p,
                dst: &p
            }),
            base
        );
    }

    #[test]
    fn buckets_spread_evenly() {
        let bits = 8;
        let mut counts = [0u32; 256];
        for n in 0..256_000u64 {
            counts[bucket_of(&id(n, 1), bits) as usize] += 1;
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 850 && *max < 1150, "min {min} max {max}");
        assert_eq!(bucket_of(&id(5, 1), 0), 0);
    }
}
