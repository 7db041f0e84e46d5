//! The 32-byte peer struct: `struct pfsync_state_peer` (14.x) /
//! `struct pf_state_peer_export` (15.x), both with the scrub struct inside.
//! Identical offsets in both releases and in OpenBSD's `pfsync_state_peer`;
//! only the names of the struct and its padding differ.

use super::field::{
    be16, be32, put, set_be16, set_be32, set_u8, u8_at, Field, HeaderSet, StructLayout,
};
use super::state::{Peer, Scrub};

pub mod field {
    use super::Field;
    pub const PFSS_FLAGS: Field<2> = Field::at(0);
    pub const PFSS_TTL: Field<1> = PFSS_FLAGS.next();
    pub const SCRUB_FLAG: Field<1> = PFSS_TTL.next();
    pub const PFSS_TS_MOD: Field<4> = SCRUB_FLAG.next();
    pub const SEQLO: Field<4> = PFSS_TS_MOD.next();
    pub const SEQHI: Field<4> = SEQLO.next();
    pub const SEQDIFF: Field<4> = SEQHI.next();
    pub const MAX_WIN: Field<2> = SEQDIFF.next();
    pub const MSS: Field<2> = MAX_WIN.next();
    pub const STATE: Field<1> = MSS.next();
    pub const WSCALE: Field<1> = STATE.next();
    /// `dummy[6]` in 15.x, `pad[6]` in 14.x and OpenBSD.
    pub const PAD: Field<6> = WSCALE.next();
    pub const PEER_LEN: usize = PAD.end();
}

/// The peer's C type is named differently per release; reach it through a
/// member that has it in every header set.
const PEER_C_TYPE: &str = "__typeof__(((struct pfsync_upd_c *)0)->src)";

pub const PEER_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state_peer",
    c_type: PEER_C_TYPE,
    headers: HeaderSet::FreeBsd,
    size: field::PEER_LEN,
    fields: &[
        field::PFSS_FLAGS.named("scrub.pfss_flags"),
        field::PFSS_TTL.named("scrub.pfss_ttl"),
        field::SCRUB_FLAG.named("scrub.scrub_flag"),
        field::PFSS_TS_MOD.named("scrub.pfss_ts_mod"),
        field::SEQLO.named("seqlo"),
        field::SEQHI.named("seqhi"),
        field::SEQDIFF.named("seqdiff"),
        field::MAX_WIN.named("max_win"),
        field::MSS.named("mss"),
        field::STATE.named("state"),
        field::WSCALE.named("wscale"),
        // 15.x calls it `dummy`; the oracle maps the name for 14.x (`pad`).
        field::PAD.named("dummy"),
    ],
};

pub const OPENBSD_PEER_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state_peer",
    c_type: "struct pfsync_state_peer",
    headers: HeaderSet::OpenBsd,
    size: field::PEER_LEN,
    fields: &[
        field::PFSS_FLAGS.named("scrub.pfss_flags"),
        field::PFSS_TTL.named("scrub.pfss_ttl"),
        field::SCRUB_FLAG.named("scrub.scrub_flag"),
        field::PFSS_TS_MOD.named("scrub.pfss_ts_mod"),
        field::SEQLO.named("seqlo"),
        field::SEQHI.named("seqhi"),
        field::SEQDIFF.named("seqdiff"),
        field::MAX_WIN.named("max_win"),
        field::MSS.named("mss"),
        field::STATE.named("state"),
        field::WSCALE.named("wscale"),
        field::PAD.named("pad"),
    ],
};

/// Decodes a peer from its 32 bytes. All values are kept as sent (the scrub
/// fields too, whatever `scrub_flag` says) so that re-encoding is exact.
#[inline(always)]
pub(crate) fn decode(b: &[u8; field::PEER_LEN]) -> Peer {
    Peer {
        scrub: Scrub {
            pfss_flags: be16(b, field::PFSS_FLAGS),
            pfss_ttl: u8_at(b, field::PFSS_TTL),
            scrub_flag: u8_at(b, field::SCRUB_FLAG),
            pfss_ts_mod: be32(b, field::PFSS_TS_MOD),
        },
        seqlo: be32(b, field::SEQLO),
        seqhi: be32(b, field::SEQHI),
        seqdiff: be32(b, field::SEQDIFF),
        max_win: be16(b, field::MAX_WIN),
        mss: be16(b, field::MSS),
        state: u8_at(b, field::STATE),
        wscale: u8_at(b, field::WSCALE),
    }
}

#[inline(always)]
pub(crate) fn encode(p: &Peer) -> [u8; field::PEER_LEN] {
    let mut b = [0u8; field::PEER_LEN];
    set_be16(&mut b, field::PFSS_FLAGS, p.scrub.pfss_flags);
    set_u8(&mut b, field::PFSS_TTL, p.scrub.pfss_ttl);
    set_u8(&mut b, field::SCRUB_FLAG, p.scrub.scrub_flag);
    set_be32(&mut b, field::PFSS_TS_MOD, p.scrub.pfss_ts_mod);
    set_be32(&mut b, field::SEQLO, p.seqlo);
    set_be32(&mut b, field::SEQHI, p.seqhi);
    set_be32(&mut b, field::SEQDIFF, p.seqdiff);
    set_be16(&mut b, field::MAX_WIN, p.max_win);
    set_be16(&mut b, field::MSS, p.mss);
    set_u8(&mut b, field::STATE, p.state);
    set_u8(&mut b, field::WSCALE, p.wscale);
    put(&mut b, field::PAD, [0; 6]);
    b
}

/// A peer still in its 32 wire bytes, as a received update carries it. The
/// kernel host hands these straight to the shim's merge op, which works on
/// pf's peers exported in the same form; hosts that keep [`Peer`]s decode
/// them when they merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WirePeer(pub [u8; field::PEER_LEN]);

impl WirePeer {
    /// The peer's wire form (padding zeroed).
    #[inline]
    pub fn encode(p: &Peer) -> WirePeer {
        WirePeer(encode(p))
    }

    /// Every field as sent, scrub fields included whatever `scrub_flag` says;
    /// the padding is not kept.
    #[inline]
    pub fn decode(&self) -> Peer {
        decode(&self.0)
    }

    pub fn as_bytes(&self) -> &[u8; field::PEER_LEN] {
        &self.0
    }
}

/// The `state` byte of the peer record at `peer_field`: the one byte of a
/// peer every receiver checks (against [`PEER_STATE_MAX`]).
pub(crate) const fn state_field(peer_field: Field<{ field::PEER_LEN }>) -> Field<1> {
    Field::at(peer_field.off + field::STATE.off)
}

/// `PF_TCPS_PROXY_DST`: the highest peer state any receiver accepts.
pub const PEER_STATE_MAX: u8 = 12;
