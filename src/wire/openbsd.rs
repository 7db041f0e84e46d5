//! OpenBSD's full-state message, `struct pfsync_state` (264 B, actions 13 INS,
//! 14 UPD and 6 DEL), with its 40-byte `struct pfsync_state_key` (OpenBSD
//! if_pfsync.h v1.66 / pfvar.h v1.548). OpenBSD and FreeBSD do not interoperate;
//! this is decoded for captures and tools. Padding and `updates` are written as 0.

use super::field::{
    be16, be32, counter, get, put, record, record_mut, set_be16, set_be32, set_counter, set_u8,
    u8_at, Field, FieldLayout, HeaderSet, StructLayout,
};
use super::flags::{StateFlags, SyncFlags};
use super::peer;
use super::state::{IfName, Peer, StateId};
use super::{Error, Reject, Result};

/// OpenBSD's `AF_INET6`.
pub const AF_INET6: u8 = 24;
pub const AF_INET: u8 = 2;
/// OpenBSD's `PFTM_MAX`.
pub const PFTM_MAX: u8 = 20;

pub mod key_field {
    use super::Field;
    pub const ADDR0: Field<16> = Field::at(0);
    pub const ADDR1: Field<16> = ADDR0.next();
    pub const PORT0: Field<2> = ADDR1.next();
    pub const PORT1: Field<2> = PORT0.next();
    pub const RDOMAIN: Field<2> = PORT1.next();
    pub const AF: Field<1> = RDOMAIN.next();
    pub const PAD: Field<1> = AF.next();
    pub const KEY_LEN: usize = PAD.end();
}

pub const OPENBSD_KEY_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state_key",
    c_type: "struct pfsync_state_key",
    headers: HeaderSet::OpenBsd,
    size: key_field::KEY_LEN,
    fields: &[
        key_field::ADDR0.named("addr[0]"),
        key_field::ADDR1.named("addr[1]"),
        key_field::PORT0.named("port[0]"),
        key_field::PORT1.named("port[1]"),
        key_field::RDOMAIN.named("rdomain"),
        key_field::AF.named("af"),
        key_field::PAD.named("pad"),
    ],
};

pub mod field {
    use super::Field;
    pub const ID: Field<8> = Field::at(0);
    pub const IFNAME: Field<16> = ID.next();
    pub const KEY0: Field<40> = IFNAME.next();
    pub const KEY1: Field<40> = KEY0.next();
    pub const SRC: Field<32> = KEY1.next();
    pub const DST: Field<32> = SRC.next();
    pub const RT_ADDR: Field<16> = DST.next();
    pub const RULE: Field<4> = RT_ADDR.next();
    pub const ANCHOR: Field<4> = RULE.next();
    pub const NAT_RULE: Field<4> = ANCHOR.next();
    pub const CREATION: Field<4> = NAT_RULE.next();
    pub const EXPIRE: Field<4> = CREATION.next();
    pub const PACKETS0_HI: Field<4> = EXPIRE.next();
    pub const PACKETS0_LO: Field<4> = PACKETS0_HI.next();
    pub const PACKETS1_HI: Field<4> = PACKETS0_LO.next();
    pub const PACKETS1_LO: Field<4> = PACKETS1_HI.next();
    pub const BYTES0_HI: Field<4> = PACKETS1_LO.next();
    pub const BYTES0_LO: Field<4> = BYTES0_HI.next();
    pub const BYTES1_HI: Field<4> = BYTES0_LO.next();
    pub const BYTES1_LO: Field<4> = BYTES1_HI.next();
    pub const CREATORID: Field<4> = BYTES1_LO.next();
    pub const RTABLEID0: Field<4> = CREATORID.next();
    pub const RTABLEID1: Field<4> = RTABLEID0.next();
    pub const MAX_MSS: Field<2> = RTABLEID1.next();
    pub const AF: Field<1> = MAX_MSS.next();
    pub const PROTO: Field<1> = AF.next();
    pub const DIRECTION: Field<1> = PROTO.next();
    pub const LOG: Field<1> = DIRECTION.next();
    pub const RT: Field<1> = LOG.next();
    pub const TIMEOUT: Field<1> = RT.next();
    pub const SYNC_FLAGS: Field<1> = TIMEOUT.next();
    pub const UPDATES: Field<1> = SYNC_FLAGS.next();
    pub const MIN_TTL: Field<1> = UPDATES.next();
    pub const SET_TOS: Field<1> = MIN_TTL.next();
    pub const STATE_FLAGS: Field<2> = SET_TOS.next();
    pub const SET_PRIO: Field<2> = STATE_FLAGS.next();
    pub const STATE_LEN: usize = SET_PRIO.end();
}

const STATE_ROWS: &[FieldLayout] = &[
    field::ID.named("id"),
    field::IFNAME.named("ifname"),
    field::KEY0.named("key[0]"),
    field::KEY1.named("key[1]"),
    field::SRC.named("src"),
    field::DST.named("dst"),
    field::RT_ADDR.named("rt_addr"),
    field::RULE.named("rule"),
    field::ANCHOR.named("anchor"),
    field::NAT_RULE.named("nat_rule"),
    field::CREATION.named("creation"),
    field::EXPIRE.named("expire"),
    field::PACKETS0_HI.named("packets[0][0]"),
    field::PACKETS0_LO.named("packets[0][1]"),
    field::PACKETS1_HI.named("packets[1][0]"),
    field::PACKETS1_LO.named("packets[1][1]"),
    field::BYTES0_HI.named("bytes[0][0]"),
    field::BYTES0_LO.named("bytes[0][1]"),
    field::BYTES1_HI.named("bytes[1][0]"),
    field::BYTES1_LO.named("bytes[1][1]"),
    field::CREATORID.named("creatorid"),
    field::RTABLEID0.named("rtableid[0]"),
    field::RTABLEID1.named("rtableid[1]"),
    field::MAX_MSS.named("max_mss"),
    field::AF.named("af"),
    field::PROTO.named("proto"),
    field::DIRECTION.named("direction"),
    field::LOG.named("log"),
    field::RT.named("rt"),
    field::TIMEOUT.named("timeout"),
    field::SYNC_FLAGS.named("sync_flags"),
    field::UPDATES.named("updates"),
    field::MIN_TTL.named("min_ttl"),
    field::SET_TOS.named("set_tos"),
    field::STATE_FLAGS.named("state_flags"),
    field::SET_PRIO.named("set_prio"),
];

pub const OPENBSD_STATE_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state",
    c_type: "struct pfsync_state",
    headers: HeaderSet::OpenBsd,
    size: field::STATE_LEN,
    fields: STATE_ROWS,
};

/// OpenBSD `struct pfsync_state_key`: a FreeBSD key plus routing domain and family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct OpenBsdStateKey {
    pub addr: [[u8; 16]; 2],
    pub port: [[u8; 2]; 2],
    pub rdomain: u16,
    pub af: u8,
}

/// OpenBSD `struct pfsync_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenBsdState {
    pub id: StateId,
    pub ifname: IfName,
    pub key: [OpenBsdStateKey; 2],
    pub src: Peer,
    pub dst: Peer,
    pub rt_addr: [u8; 16],
    pub rule: u32,
    pub anchor: u32,
    pub nat_rule: u32,
    pub creation: u32,
    pub expire: u32,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// One FIB per key.
    pub rtableid: [i32; 2],
    pub max_mss: u16,
    pub af: u8,
    pub proto: u8,
    pub direction: u8,
    pub log: u8,
    pub rt: u8,
    pub timeout: u8,
    pub sync_flags: SyncFlags,
    pub min_ttl: u8,
    pub set_tos: u8,
    pub state_flags: StateFlags,
    pub set_prio: [u8; 2],
}

/// OpenBSD's update checks: timeout index and both peer states.
pub(crate) fn check_update(
    timeout: u8,
    src_state: u8,
    dst_state: u8,
) -> core::result::Result<(), Reject> {
    if timeout >= PFTM_MAX {
        return Err(Reject::Timeout);
    }
    if src_state > peer::PEER_STATE_MAX || dst_state > peer::PEER_STATE_MAX {
        return Err(Reject::PeerState);
    }
    Ok(())
}

fn is_family(af: u8) -> bool {
    af == AF_INET || af == AF_INET6
}

/// OpenBSD's `pfsync_in_ins`: key families that are both 0 come from senders
/// that predate them and pass; once either is set, both must be inet/inet6.
fn keys_families_ok(b: &[u8; OpenBsdState::LEN]) -> bool {
    let key_af = |key: Field<40>| u8_at(b, Field::at(key.off + key_field::AF.off));
    let (af0, af1) = (key_af(field::KEY0), key_af(field::KEY1));
    (af0 == 0 && af1 == 0) || (is_family(af0) && is_family(af1))
}

fn decode_key(b: &[u8; key_field::KEY_LEN]) -> OpenBsdStateKey {
    OpenBsdStateKey {
        addr: [get(b, key_field::ADDR0), get(b, key_field::ADDR1)],
        port: [get(b, key_field::PORT0), get(b, key_field::PORT1)],
        rdomain: be16(b, key_field::RDOMAIN),
        af: u8_at(b, key_field::AF),
    }
}

fn encode_key(k: &OpenBsdStateKey) -> [u8; key_field::KEY_LEN] {
    let mut b = [0u8; key_field::KEY_LEN];
    put(&mut b, key_field::ADDR0, k.addr[0]);
    put(&mut b, key_field::ADDR1, k.addr[1]);
    put(&mut b, key_field::PORT0, k.port[0]);
    put(&mut b, key_field::PORT1, k.port[1]);
    set_be16(&mut b, key_field::RDOMAIN, k.rdomain);
    set_u8(&mut b, key_field::AF, k.af);
    b
}

impl OpenBsdState {
    pub const LEN: usize = field::STATE_LEN;

    /// Decodes with OpenBSD's insert checks; `BadVal`/`BadLen`.
    pub fn parse(bytes: &[u8]) -> Result<OpenBsdState> {
        OpenBsdState::decode(bytes, true).map_err(Error::from)
    }

    /// `insert`: also check direction, the state's family and the keys'
    /// families (INS); otherwise only the update checks (UPD).
    pub fn decode(bytes: &[u8], insert: bool) -> core::result::Result<OpenBsdState, Reject> {
        let b: &[u8; OpenBsdState::LEN] = record(bytes).map_err(|_| Reject::Short)?;
        let timeout = u8_at(b, field::TIMEOUT);
        check_update(
            timeout,
            u8_at(b, peer::state_field(field::SRC)),
            u8_at(b, peer::state_field(field::DST)),
        )?;
        let direction = u8_at(b, field::DIRECTION);
        let af = u8_at(b, field::AF);
        if insert {
            if direction > super::state_format::PF_OUT {
                return Err(Reject::Direction);
            }
            if !is_family(af) || !keys_families_ok(b) {
                return Err(Reject::AddressFamily);
            }
        }
        let ifname = IfName::from_wire(&get(b, field::IFNAME)).ok_or(Reject::IfName)?;
        let creatorid = get(b, field::CREATORID);
        if creatorid == [0; 4] {
            return Err(Reject::CreatorId);
        }
        Ok(OpenBsdState {
            id: StateId {
                id: get(b, field::ID),
                creatorid,
            },
            ifname,
            key: [
                decode_key(&get(b, field::KEY0)),
                decode_key(&get(b, field::KEY1)),
            ],
            src: peer::decode(&get(b, field::SRC)),
            dst: peer::decode(&get(b, field::DST)),
            rt_addr: get(b, field::RT_ADDR),
            rule: be32(b, field::RULE),
            anchor: be32(b, field::ANCHOR),
            nat_rule: be32(b, field::NAT_RULE),
            creation: be32(b, field::CREATION),
            expire: be32(b, field::EXPIRE),
            packets: [
                counter(b, field::PACKETS0_HI, field::PACKETS0_LO),
                counter(b, field::PACKETS1_HI, field::PACKETS1_LO),
            ],
            bytes: [
                counter(b, field::BYTES0_HI, field::BYTES0_LO),
                counter(b, field::BYTES1_HI, field::BYTES1_LO),
            ],
            rtableid: [
                be32(b, field::RTABLEID0) as i32,
                be32(b, field::RTABLEID1) as i32,
            ],
            max_mss: be16(b, field::MAX_MSS),
            af,
            proto: u8_at(b, field::PROTO),
            direction,
            log: u8_at(b, field::LOG),
            rt: u8_at(b, field::RT),
            timeout,
            sync_flags: SyncFlags::from_bits_retain(u8_at(b, field::SYNC_FLAGS)),
            min_ttl: u8_at(b, field::MIN_TTL),
            set_tos: u8_at(b, field::SET_TOS),
            state_flags: StateFlags::from_bits_retain(be16(b, field::STATE_FLAGS)),
            set_prio: get(b, field::SET_PRIO),
        })
    }

    /// Only `{id, creatorid}`, unchecked: what a full-state DEL is used for.
    pub fn identity(bytes: &[u8]) -> core::result::Result<StateId, Reject> {
        let b: &[u8; OpenBsdState::LEN] = record(bytes).map_err(|_| Reject::Short)?;
        Ok(StateId {
            id: get(b, field::ID),
            creatorid: get(b, field::CREATORID),
        })
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; OpenBsdState::LEN] = record_mut(buf)?;
        put(b, field::ID, self.id.id);
        put(b, field::IFNAME, *self.ifname.as_wire());
        put(b, field::KEY0, encode_key(&self.key[0]));
        put(b, field::KEY1, encode_key(&self.key[1]));
        put(b, field::SRC, peer::encode(&self.src));
        put(b, field::DST, peer::encode(&self.dst));
        put(b, field::RT_ADDR, self.rt_addr);
        set_be32(b, field::RULE, self.rule);
        set_be32(b, field::ANCHOR, self.anchor);
        set_be32(b, field::NAT_RULE, self.nat_rule);
        set_be32(b, field::CREATION, self.creation);
        set_be32(b, field::EXPIRE, self.expire);
        set_counter(b, field::PACKETS0_HI, field::PACKETS0_LO, self.packets[0]);
        set_counter(b, field::PACKETS1_HI, field::PACKETS1_LO, self.packets[1]);
        set_counter(b, field::BYTES0_HI, field::BYTES0_LO, self.bytes[0]);
        set_counter(b, field::BYTES1_HI, field::BYTES1_LO, self.bytes[1]);
        put(b, field::CREATORID, self.id.creatorid);
        set_be32(b, field::RTABLEID0, self.rtableid[0] as u32);
        set_be32(b, field::RTABLEID1, self.rtableid[1] as u32);
        set_be16(b, field::MAX_MSS, self.max_mss);
        set_u8(b, field::AF, self.af);
        set_u8(b, field::PROTO, self.proto);
        set_u8(b, field::DIRECTION, self.direction);
        set_u8(b, field::LOG, self.log);
        set_u8(b, field::RT, self.rt);
        set_u8(b, field::TIMEOUT, self.timeout);
        set_u8(b, field::SYNC_FLAGS, self.sync_flags.bits());
        set_u8(b, field::UPDATES, 0);
        set_u8(b, field::MIN_TTL, self.min_ttl);
        set_u8(b, field::SET_TOS, self.set_tos);
        set_be16(b, field::STATE_FLAGS, self.state_flags.bits());
        put(b, field::SET_PRIO, self.set_prio);
        Ok(OpenBsdState::LEN)
    }
}
