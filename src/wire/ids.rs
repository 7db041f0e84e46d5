//! The three 12-byte records that name a state by `{id, creatorid}`:
//! `struct pfsync_ins_ack` (INS_ACK), `struct pfsync_upd_req` (UPD_REQ) and
//! `struct pfsync_del_c` (DEL_C). Same layout in FreeBSD and OpenBSD.

use super::field::{get, put, record, record_mut, Field, HeaderSet, StructLayout};
use super::state::StateId;
use super::Result;

pub mod field {
    use super::Field;
    pub const ID: Field<8> = Field::at(0);
    pub const CREATORID: Field<4> = ID.next();
    pub const ID_RECORD_LEN: usize = CREATORID.end();
}

const ROWS: &[super::field::FieldLayout] =
    &[field::ID.named("id"), field::CREATORID.named("creatorid")];

pub const INS_ACK_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_ins_ack",
    c_type: "struct pfsync_ins_ack",
    headers: HeaderSet::FreeBsd,
    size: field::ID_RECORD_LEN,
    fields: ROWS,
};
pub const UPD_REQ_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_upd_req",
    c_type: "struct pfsync_upd_req",
    ..INS_ACK_LAYOUT
};
pub const DEL_C_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_del_c",
    c_type: "struct pfsync_del_c",
    ..INS_ACK_LAYOUT
};

fn parse_id(bytes: &[u8]) -> Result<StateId> {
    let b: &[u8; field::ID_RECORD_LEN] = record(bytes)?;
    Ok(StateId {
        id: get(b, field::ID),
        creatorid: get(b, field::CREATORID),
    })
}

fn emit_id(id: &StateId, buf: &mut [u8]) -> Result<usize> {
    let b: &mut [u8; field::ID_RECORD_LEN] = record_mut(buf)?;
    put(b, field::ID, id.id);
    put(b, field::CREATORID, id.creatorid);
    Ok(field::ID_RECORD_LEN)
}

macro_rules! id_record {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            pub state: StateId,
        }

        impl $name {
            pub const LEN: usize = field::ID_RECORD_LEN;

            pub fn parse(bytes: &[u8]) -> Result<$name> {
                parse_id(bytes).map(|state| $name { state })
            }

            pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
                emit_id(&self.state, buf)
            }
        }
    };
}

id_record!(
    /// INS_ACK: "I have imported this state" (releases a deferred packet).
    InsAck
);
id_record!(
    /// UPD_REQ: "send me this state in full"; all-zero asks for a bulk update.
    UpdReq
);
id_record!(
    /// DEL_C: "this state is gone".
    DelC
);

impl UpdReq {
    /// id 0 with creatorid 0: the request that starts a bulk send.
    pub fn is_bulk_request(&self) -> bool {
        self.state == StateId::BULK_REQUEST
    }

    pub const BULK: UpdReq = UpdReq {
        state: StateId::BULK_REQUEST,
    };
}
