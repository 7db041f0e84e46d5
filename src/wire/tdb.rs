//! `struct pfsync_tdb`: IPsec SA replay/byte counters. FreeBSD (action 11,
//! 48 B, receive only) and OpenBSD (action 15, 52 B, 64-bit replay counter
//! and a routing domain).

use super::field::{
    be16, be32, be64, get, put, record, record_mut, set_be16, set_be32, set_be64, set_u8, u8_at,
    Field, HeaderSet, StructLayout,
};
use super::{Error, Result};

pub mod field {
    use super::Field;
    pub const SPI: Field<4> = Field::at(0);
    /// `union sockaddr_union`, copied verbatim (sa_len, sa_family, ...).
    pub const DST: Field<28> = SPI.next();
    pub const RPL: Field<4> = DST.next();
    pub const CUR_BYTES: Field<8> = RPL.next();
    pub const SPROTO: Field<1> = CUR_BYTES.next();
    pub const UPDATES: Field<1> = SPROTO.next();
    pub const PAD: Field<2> = UPDATES.next();
    pub const TDB_LEN: usize = PAD.end();
}

pub mod openbsd_field {
    use super::{field, Field};
    pub const RPL: Field<8> = field::DST.next();
    pub const CUR_BYTES: Field<8> = RPL.next();
    pub const SPROTO: Field<1> = CUR_BYTES.next();
    pub const UPDATES: Field<1> = SPROTO.next();
    pub const RDOMAIN: Field<2> = UPDATES.next();
    pub const TDB_LEN: usize = RDOMAIN.end();
}

pub const TDB_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_tdb",
    c_type: "struct pfsync_tdb",
    headers: HeaderSet::FreeBsd,
    size: field::TDB_LEN,
    fields: &[
        field::SPI.named("spi"),
        field::DST.named("dst"),
        field::RPL.named("rpl"),
        field::CUR_BYTES.named("cur_bytes"),
        field::SPROTO.named("sproto"),
        field::UPDATES.named("updates"),
        field::PAD.named("_pad"),
    ],
};

pub const OPENBSD_TDB_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_tdb",
    c_type: "struct pfsync_tdb",
    headers: HeaderSet::OpenBsd,
    size: openbsd_field::TDB_LEN,
    fields: &[
        field::SPI.named("spi"),
        field::DST.named("dst"),
        openbsd_field::RPL.named("rpl"),
        openbsd_field::CUR_BYTES.named("cur_bytes"),
        openbsd_field::SPROTO.named("sproto"),
        openbsd_field::UPDATES.named("updates"),
        openbsd_field::RDOMAIN.named("rdomain"),
    ],
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tdb {
    pub spi: [u8; 4],
    pub dst: [u8; 28],
    /// Replay counter: 32 bits on FreeBSD, 64 on OpenBSD.
    pub rpl: u64,
    pub cur_bytes: u64,
    pub sproto: u8,
    /// OpenBSD only; 0 on FreeBSD.
    pub rdomain: u16,
}

impl Tdb {
    /// FreeBSD record size.
    pub const LEN: usize = field::TDB_LEN;
    pub const OPENBSD_LEN: usize = openbsd_field::TDB_LEN;

    pub fn parse(bytes: &[u8]) -> Result<Tdb> {
        Ok(Tdb::from_freebsd(record(bytes)?))
    }

    fn from_freebsd(b: &[u8; Tdb::LEN]) -> Tdb {
        Tdb {
            spi: get(b, field::SPI),
            dst: get(b, field::DST),
            rpl: u64::from(be32(b, field::RPL)),
            cur_bytes: be64(b, field::CUR_BYTES),
            sproto: u8_at(b, field::SPROTO),
            rdomain: 0,
        }
    }

    /// `BadVal` when `rpl` does not fit FreeBSD's 32-bit field.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let rpl = u32::try_from(self.rpl).map_err(|_| Error::BadVal)?;
        let b: &mut [u8; Tdb::LEN] = record_mut(buf)?;
        put(b, field::SPI, self.spi);
        put(b, field::DST, self.dst);
        set_be32(b, field::RPL, rpl);
        set_be64(b, field::CUR_BYTES, self.cur_bytes);
        set_u8(b, field::SPROTO, self.sproto);
        set_u8(b, field::UPDATES, 0);
        put(b, field::PAD, [0; 2]);
        Ok(Tdb::LEN)
    }

    pub fn parse_openbsd(bytes: &[u8]) -> Result<Tdb> {
        Ok(Tdb::from_openbsd(record(bytes)?))
    }

    fn from_openbsd(b: &[u8; Tdb::OPENBSD_LEN]) -> Tdb {
        Tdb {
            spi: get(b, field::SPI),
            dst: get(b, field::DST),
            rpl: be64(b, openbsd_field::RPL),
            cur_bytes: be64(b, openbsd_field::CUR_BYTES),
            sproto: u8_at(b, openbsd_field::SPROTO),
            rdomain: be16(b, openbsd_field::RDOMAIN),
        }
    }

    pub fn emit_openbsd(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; Tdb::OPENBSD_LEN] = record_mut(buf)?;
        put(b, field::SPI, self.spi);
        put(b, field::DST, self.dst);
        set_be64(b, openbsd_field::RPL, self.rpl);
        set_be64(b, openbsd_field::CUR_BYTES, self.cur_bytes);
        set_u8(b, openbsd_field::SPROTO, self.sproto);
        set_u8(b, openbsd_field::UPDATES, 0);
        set_be16(b, openbsd_field::RDOMAIN, self.rdomain);
        Ok(Tdb::OPENBSD_LEN)
    }
}
/// A TDB record of the zero-copy walk: its length is checked (TDB has no
/// other receive check), its fields are decoded by [`TdbRef::to_tdb`]. Keeps
/// the walk's events small: a decoded [`Tdb`] is 56 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TdbRef<'a> {
    FreeBsd(&'a [u8; Tdb::LEN]),
    OpenBsd(&'a [u8; Tdb::OPENBSD_LEN]),
}

impl<'a> TdbRef<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<TdbRef<'a>> {
        record(bytes).map(TdbRef::FreeBsd)
    }

    pub fn new_openbsd(bytes: &'a [u8]) -> Result<TdbRef<'a>> {
        record(bytes).map(TdbRef::OpenBsd)
    }

    pub fn to_tdb(&self) -> Tdb {
        match self {
            TdbRef::FreeBsd(b) => Tdb::from_freebsd(b),
            TdbRef::OpenBsd(b) => Tdb::from_openbsd(b),
        }
    }
}
