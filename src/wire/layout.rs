//! Every wire struct layout the codec uses, for the layout oracle and tests.

use super::field::StructLayout;
use super::{bus, clr, header, ids, openbsd, peer, state_format, tdb, upd_c};

pub use super::field::{FieldLayout, HeaderSet};

pub const ALL: &[StructLayout] = &[
    header::HEADER_LAYOUT,
    header::SUBHEADER_LAYOUT,
    clr::CLR_LAYOUT,
    state_format::KEY_LAYOUT,
    peer::PEER_LAYOUT,
    state_format::STATE_1301_LAYOUT,
    state_format::STATE_1400_LAYOUT,
    state_format::STATE_1500_LAYOUT,
    ids::INS_ACK_LAYOUT,
    upd_c::UPD_C_LAYOUT,
    ids::UPD_REQ_LAYOUT,
    ids::DEL_C_LAYOUT,
    bus::BUS_LAYOUT,
    tdb::TDB_LAYOUT,
    header::OPENBSD_HEADER_LAYOUT,
    header::OPENBSD_SUBHEADER_LAYOUT,
    clr::OPENBSD_CLR_LAYOUT,
    openbsd::OPENBSD_KEY_LAYOUT,
    peer::OPENBSD_PEER_LAYOUT,
    openbsd::OPENBSD_STATE_LAYOUT,
    StructLayout {
        headers: HeaderSet::OpenBsd,
        ..ids::INS_ACK_LAYOUT
    },
    upd_c::OPENBSD_UPD_C_LAYOUT,
    StructLayout {
        headers: HeaderSet::OpenBsd,
        ..ids::UPD_REQ_LAYOUT
    },
    StructLayout {
        headers: HeaderSet::OpenBsd,
        ..ids::DEL_C_LAYOUT
    },
    StructLayout {
        headers: HeaderSet::OpenBsd,
        ..bus::BUS_LAYOUT
    },
    tdb::OPENBSD_TDB_LAYOUT,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_tiles_its_struct() {
        for l in ALL {
            assert!(
                l.is_tiled(),
                "{} ({:?}) has a gap or overlap",
                l.name,
                l.headers
            );
        }
    }
}
