//! `struct pfsync_clr` (20 B, action CLR): drop every state of a creator,
//! optionally only those on one interface.

use super::field::{get, put, record, record_mut, Field, HeaderSet, StructLayout};
use super::state::IfName;
use super::{Error, Result};

pub mod field {
    use super::Field;
    pub const IFNAME: Field<16> = Field::at(0);
    pub const CREATORID: Field<4> = IFNAME.next();
    pub const CLR_LEN: usize = CREATORID.end();
}

pub const CLR_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_clr",
    c_type: "struct pfsync_clr",
    headers: HeaderSet::FreeBsd,
    size: Clr::LEN,
    fields: &[
        field::IFNAME.named("ifname"),
        field::CREATORID.named("creatorid"),
    ],
};

pub const OPENBSD_CLR_LAYOUT: StructLayout = StructLayout {
    headers: HeaderSet::OpenBsd,
    ..CLR_LAYOUT
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Clr {
    /// Empty = every interface.
    pub ifname: IfName,
    pub creatorid: [u8; 4],
}

impl Clr {
    pub const LEN: usize = field::CLR_LEN;

    /// `BadVal` for an interface name without NUL (stock would read past it).
    pub fn parse(bytes: &[u8]) -> Result<Clr> {
        let b: &[u8; Clr::LEN] = record(bytes)?;
        Ok(Clr {
            ifname: IfName::from_wire(&get(b, field::IFNAME)).ok_or(Error::BadVal)?,
            creatorid: get(b, field::CREATORID),
        })
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; Clr::LEN] = record_mut(buf)?;
        put(b, field::IFNAME, *self.ifname.as_wire());
        put(b, field::CREATORID, self.creatorid);
        Ok(Clr::LEN)
    }
}
