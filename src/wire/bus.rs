//! `struct pfsync_bus` (12 B, action BUS): bulk update start/end marker.

use super::field::{
    be32, get, put, record, record_mut, set_be32, set_u8, u8_at, Field, HeaderSet, StructLayout,
};
use super::Result;

pub mod field {
    use super::Field;
    pub const CREATORID: Field<4> = Field::at(0);
    pub const ENDTIME: Field<4> = CREATORID.next();
    pub const STATUS: Field<1> = ENDTIME.next();
    pub const PAD: Field<3> = STATUS.next();
    pub const BUS_LEN: usize = PAD.end();
}

pub const BUS_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_bus",
    c_type: "struct pfsync_bus",
    headers: HeaderSet::FreeBsd,
    size: Bus::LEN,
    fields: &[
        field::CREATORID.named("creatorid"),
        field::ENDTIME.named("endtime"),
        field::STATUS.named("status"),
        field::PAD.named("_pad"),
    ],
};

/// `PFSYNC_BUS_START` / `PFSYNC_BUS_END`; other values are kept as sent
/// (stock receivers ignore them), so decoding never fails on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BusStatus {
    Start,
    End,
    Unknown(u8),
}

impl BusStatus {
    pub const fn from_u8(v: u8) -> BusStatus {
        match v {
            1 => BusStatus::Start,
            2 => BusStatus::End,
            other => BusStatus::Unknown(other),
        }
    }

    pub const fn to_u8(self) -> u8 {
        match self {
            BusStatus::Start => 1,
            BusStatus::End => 2,
            BusStatus::Unknown(v) => v,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bus {
    pub creatorid: [u8; 4],
    /// FreeBSD: seconds since the bulk request arrived (0 in START); OpenBSD: 0.
    pub endtime: u32,
    pub status: BusStatus,
}

impl Bus {
    pub const LEN: usize = field::BUS_LEN;

    pub fn parse(bytes: &[u8]) -> Result<Bus> {
        let b: &[u8; Bus::LEN] = record(bytes)?;
        Ok(Bus {
            creatorid: get(b, field::CREATORID),
            endtime: be32(b, field::ENDTIME),
            status: BusStatus::from_u8(u8_at(b, field::STATUS)),
        })
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; Bus::LEN] = record_mut(buf)?;
        put(b, field::CREATORID, self.creatorid);
        set_be32(b, field::ENDTIME, self.endtime);
        set_u8(b, field::STATUS, self.status.to_u8());
        put(b, field::PAD, [0; 3]);
        Ok(Bus::LEN)
    }
}
