//! `struct pfsync_upd_c` (84 B, action UPD_C): compressed update, peers only.

use super::field::{
    be32, get, put, record, record_mut, set_be32, set_u8, u8_at, Field, HeaderSet, StructLayout,
};
use super::peer;
use super::state::{Peer, StateId};
use super::state_format::{check_values, StateChecks};
use super::{Error, Reject, Result};

pub mod field {
    use super::Field;
    pub const ID: Field<8> = Field::at(0);
    pub const SRC: Field<32> = ID.next();
    pub const DST: Field<32> = SRC.next();
    pub const CREATORID: Field<4> = DST.next();
    pub const EXPIRE: Field<4> = CREATORID.next();
    pub const TIMEOUT: Field<1> = EXPIRE.next();
    /// FreeBSD `_pad[3]`.
    pub const PAD: Field<3> = TIMEOUT.next();
    /// OpenBSD splits the padding: `state_flags`, then `_pad[2]`.
    pub const OPENBSD_STATE_FLAGS: Field<1> = TIMEOUT.next();
    pub const OPENBSD_PAD: Field<2> = OPENBSD_STATE_FLAGS.next();
    pub const UPD_C_LEN: usize = PAD.end();
}

pub const UPD_C_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_upd_c",
    c_type: "struct pfsync_upd_c",
    headers: HeaderSet::FreeBsd,
    size: UpdC::LEN,
    fields: &[
        field::ID.named("id"),
        field::SRC.named("src"),
        field::DST.named("dst"),
        field::CREATORID.named("creatorid"),
        field::EXPIRE.named("expire"),
        field::TIMEOUT.named("timeout"),
        field::PAD.named("_pad"),
    ],
};

pub const OPENBSD_UPD_C_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_upd_c",
    c_type: "struct pfsync_upd_c",
    headers: HeaderSet::OpenBsd,
    size: UpdC::LEN,
    fields: &[
        field::ID.named("id"),
        field::SRC.named("src"),
        field::DST.named("dst"),
        field::CREATORID.named("creatorid"),
        field::EXPIRE.named("expire"),
        field::TIMEOUT.named("timeout"),
        field::OPENBSD_STATE_FLAGS.named("state_flags"),
        field::OPENBSD_PAD.named("_pad"),
    ],
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UpdC {
    pub id: [u8; 8],
    pub src: Peer,
    pub dst: Peer,
    pub creatorid: [u8; 4],
    /// FreeBSD sends 0 and ignores it.
    pub expire: u32,
    pub timeout: u8,
    /// OpenBSD only (byte 81); FreeBSD pads it, so its codec reads and writes 0.
    pub state_flags: u8,
}

impl UpdC {
    pub const LEN: usize = field::UPD_C_LEN;

    pub fn state_id(&self) -> StateId {
        StateId {
            id: self.id,
            creatorid: self.creatorid,
        }
    }

    /// Decodes and applies stock's UPD_C checks (timeout, peer states): `BadVal`.
    pub fn parse(bytes: &[u8]) -> Result<UpdC> {
        UpdC::decode(bytes).map_err(Error::from)
    }

    /// As [`UpdC::parse`], naming the failed check.
    pub fn decode(bytes: &[u8]) -> core::result::Result<UpdC, Reject> {
        let b: &[u8; UpdC::LEN] = record(bytes).map_err(|_| Reject::Short)?;
        let u = decode_fields(b);
        u.check()?;
        Ok(u)
    }

    /// OpenBSD's variant: same layout plus `state_flags` in byte 81.
    pub fn decode_openbsd(bytes: &[u8]) -> core::result::Result<UpdC, Reject> {
        let b: &[u8; UpdC::LEN] = record(bytes).map_err(|_| Reject::Short)?;
        let mut u = decode_fields(b);
        u.state_flags = u8_at(b, field::OPENBSD_STATE_FLAGS);
        u.check_openbsd()?;
        Ok(u)
    }

    pub fn check(&self) -> core::result::Result<(), Reject> {
        check_values(
            self.timeout,
            self.src.state,
            self.dst.state,
            0,
            0,
            StateChecks::Update,
        )
    }

    fn check_openbsd(&self) -> core::result::Result<(), Reject> {
        super::openbsd::check_update(self.timeout, self.src.state, self.dst.state)
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; UpdC::LEN] = record_mut(buf)?;
        emit_fields(self, b);
        put(b, field::PAD, [0; 3]);
        Ok(UpdC::LEN)
    }

    pub fn emit_openbsd(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; UpdC::LEN] = record_mut(buf)?;
        emit_fields(self, b);
        set_u8(b, field::OPENBSD_STATE_FLAGS, self.state_flags);
        put(b, field::OPENBSD_PAD, [0; 2]);
        Ok(UpdC::LEN)
    }
}

#[inline(always)]
fn decode_fields(b: &[u8; UpdC::LEN]) -> UpdC {
    UpdC {
        id: get(b, field::ID),
        src: peer::decode(&get(b, field::SRC)),
        dst: peer::decode(&get(b, field::DST)),
        creatorid: get(b, field::CREATORID),
        expire: be32(b, field::EXPIRE),
        timeout: u8_at(b, field::TIMEOUT),
        state_flags: 0,
    }
}

#[inline(always)]
fn emit_fields(u: &UpdC, b: &mut [u8; UpdC::LEN]) {
    put(b, field::ID, u.id);
    put(b, field::SRC, peer::encode(&u.src));
    put(b, field::DST, peer::encode(&u.dst));
    put(b, field::CREATORID, u.creatorid);
    set_be32(b, field::EXPIRE, u.expire);
    set_u8(b, field::TIMEOUT, u.timeout);
}
