//! OpenBSD's full-state message, `struct pfsync_state` (264 B, actions 13 INS,
//! 14 UPD and 6 DEL), with its 40-byte `struct pfsync_state_key` (OpenBSD
//! if_pfsync.h v1.66 / pfvar.h v1.548). OpenBSD and FreeBSD do not interoperate;
//! the engine speaks this dialect when configured for OpenBSD (docs/openbsd.md)
//! and converts to and from its own [`StateRecord`]. Padding and `updates` are
//! written as 0.

use super::builder::{FrameBuilder, Full};
use super::field::{
    be16, be32, counter, get, put, record, record_mut, set_be16, set_be32, set_counter, set_u8,
    u8_at, Field, FieldLayout, HeaderSet, StructLayout,
};
use super::flags::{StateFlags, SyncFlags};
use super::peer::{self, WirePeer};
use super::reader::Message;
use super::state::{has_nul, IfName, Peer, StateId, StateKey, StateRecord};
use super::tdb::Tdb;
use super::{Error, Reject, Result};

/// OpenBSD's `PFSYNC_ACT_*` numbers (if_pfsync.h). The compressed and small
/// messages keep FreeBSD's numbers; the full-state ones do not.
pub mod action {
    pub const CLR: u8 = 0;
    pub const INS_ACK: u8 = 2;
    pub const UPD_C: u8 = 4;
    pub const UPD_REQ: u8 = 5;
    /// Full-state delete: received, never sent by OpenBSD (it sends DEL_C).
    pub const DEL: u8 = 6;
    pub const DEL_C: u8 = 7;
    pub const BUS: u8 = 10;
    /// Deprecated in OpenBSD: never sent, skipped on receipt.
    pub const EOF: u8 = 12;
    pub const INS: u8 = 13;
    pub const UPD: u8 = 14;
    pub const TDB: u8 = 15;
    /// `PFSYNC_ACT_MAX`.
    pub const MAX: u8 = 16;

    /// OpenBSD's name of action `n`, for logs and counters.
    pub const fn name(n: u8) -> Option<&'static str> {
        Some(match n {
            0 => "CLR",
            1 => "OINS",
            2 => "INS_ACK",
            3 => "OUPD",
            4 => "UPD_C",
            5 => "UPD_REQ",
            6 => "DEL",
            7 => "DEL_C",
            8 => "INS_F",
            9 => "DEL_F",
            10 => "BUS",
            11 => "OTDB",
            12 => "EOF",
            13 => "INS",
            14 => "UPD",
            15 => "TDB",
            _ => return None,
        })
    }
}

/// OpenBSD's `AF_INET6`.
pub const AF_INET6: u8 = 24;
pub const AF_INET: u8 = 2;
/// OpenBSD's `PFTM_MAX`.
pub const PFTM_MAX: u8 = 20;

/// OpenBSD's numbers for the actions whose records differ from FreeBSD's
/// (`PFSYNC_ACT_*` in OpenBSD's if_pfsync.h).
pub const ACT_DEL: u8 = action::DEL;
pub const ACT_INS: u8 = action::INS;
pub const ACT_UPD: u8 = action::UPD;
pub const ACT_TDB: u8 = action::TDB;

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
        let b = OpenBsdState::check(bytes, insert)?;
        let ifname = IfName::from_wire(&get(b, field::IFNAME)).ok_or(Reject::IfName)?;
        let creatorid = get(b, field::CREATORID);
        let timeout = u8_at(b, field::TIMEOUT);
        let direction = u8_at(b, field::DIRECTION);
        let af = u8_at(b, field::AF);
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

    /// The checks of [`OpenBsdState::decode`], in the same order, without
    /// decoding: the record, if it passes.
    #[inline]
    pub fn check(
        bytes: &[u8],
        insert: bool,
    ) -> core::result::Result<&[u8; OpenBsdState::LEN], Reject> {
        let b: &[u8; OpenBsdState::LEN] = record(bytes).map_err(|_| Reject::Short)?;
        check_update(
            u8_at(b, field::TIMEOUT),
            u8_at(b, peer::state_field(field::SRC)),
            u8_at(b, peer::state_field(field::DST)),
        )?;
        if insert {
            if u8_at(b, field::DIRECTION) > super::state_format::PF_OUT {
                return Err(Reject::Direction);
            }
            if !is_family(u8_at(b, field::AF)) || !keys_families_ok(b) {
                return Err(Reject::AddressFamily);
            }
        }
        if !has_nul(&get(b, field::IFNAME)) {
            return Err(Reject::IfName);
        }
        if get(b, field::CREATORID) == [0; 4] {
            return Err(Reject::CreatorId);
        }
        Ok(b)
    }

    /// What merging an update into a known state takes from a record that
    /// passed [`OpenBsdState::check`]: identity, both peers in wire form and
    /// the timeout. `None` if `bytes` is short.
    #[inline]
    pub fn update_fields(bytes: &[u8]) -> Option<(StateId, WirePeer, WirePeer, u8)> {
        let b: &[u8; OpenBsdState::LEN] = record(bytes).ok()?;
        let id = StateId {
            id: get(b, field::ID),
            creatorid: get(b, field::CREATORID),
        };
        Some((
            id,
            WirePeer(get(b, field::SRC)),
            WirePeer(get(b, field::DST)),
            u8_at(b, field::TIMEOUT),
        ))
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

impl OpenBsdState {
    /// The engine's record of this state. Both keys take the state's
    /// protocol; a stack key whose family is 0 (senders before per-key
    /// families) takes the state's family.
    pub fn to_record(&self) -> StateRecord {
        let key = |k: &OpenBsdStateKey| StateKey {
            addr: k.addr,
            port: k.port,
        };
        let stack_af = match self.key[1].af {
            0 => self.af,
            af => af,
        };
        StateRecord {
            id: self.id,
            ifname: self.ifname,
            key: [key(&self.key[0]), key(&self.key[1])],
            src: self.src,
            dst: self.dst,
            rt_addr: self.rt_addr,
            rule: self.rule,
            anchor: self.anchor,
            nat_rule: self.nat_rule,
            creation: self.creation,
            expire: self.expire,
            packets: self.packets,
            bytes: self.bytes,
            wire_af: self.af,
            stack_af,
            wire_proto: self.proto,
            stack_proto: self.proto,
            direction: self.direction,
            log: self.log,
            state_flags: self.state_flags,
            timeout: self.timeout,
            sync_flags: self.sync_flags,
            rtableid: self.rtableid[0],
            stack_rtableid: self.rtableid[1],
            min_ttl: self.min_ttl,
            set_tos: self.set_tos,
            max_mss: self.max_mss,
            set_prio: self.set_prio,
            rt: self.rt,
            rt_af: self.af,
            rdomain: [self.key[0].rdomain, self.key[1].rdomain],
            ..StateRecord::default()
        }
    }

    /// OpenBSD's record of `r`, as OpenBSD's `pf_state_export` fills it:
    /// the state's family and protocol are the wire key's. What OpenBSD does
    /// not carry (queues, dummynet pipes, tag and route names, `rt_af`) is
    /// left behind.
    pub fn from_record(r: &StateRecord) -> OpenBsdState {
        let key = |i: usize, af: u8| {
            let k = r.key.get(i).copied().unwrap_or_default();
            OpenBsdStateKey {
                addr: k.addr,
                port: k.port,
                rdomain: r.rdomain.get(i).copied().unwrap_or(0),
                af,
            }
        };
        OpenBsdState {
            id: r.id,
            ifname: r.ifname,
            key: [key(0, r.wire_af), key(1, r.stack_af)],
            src: r.src,
            dst: r.dst,
            rt_addr: r.rt_addr,
            rule: r.rule,
            anchor: r.anchor,
            nat_rule: r.nat_rule,
            creation: r.creation,
            expire: r.expire,
            packets: r.packets,
            bytes: r.bytes,
            rtableid: [r.rtableid, r.stack_rtableid],
            max_mss: r.max_mss,
            af: r.wire_af,
            proto: r.wire_proto,
            direction: r.direction,
            log: r.log,
            rt: r.rt,
            timeout: r.timeout,
            sync_flags: r.sync_flags,
            min_ttl: r.min_ttl,
            set_tos: r.set_tos,
            state_flags: r.state_flags,
            set_prio: r.set_prio,
        }
    }
}

/// Appends a decoded message to an OpenBSD frame
/// ([`FrameBuilder::new_openbsd`]) in OpenBSD's record layout, so that what
/// [`FrameReader::new_openbsd`](super::FrameReader::new_openbsd) yields can be
/// written back. `None` for the FreeBSD-only full-state messages, which have
/// no OpenBSD form. A full-state DEL carries only the identity (all an
/// OpenBSD receiver reads); the rest of its record is zero. CLR and BUS get a
/// section of their own, as OpenBSD sends them.
pub fn encode(b: &mut FrameBuilder<'_>, m: &Message) -> Option<core::result::Result<(), Full>> {
    let pushed = match m {
        Message::Clr(c) => {
            b.close_section();
            let r = b.push_clr(c);
            b.close_section();
            r
        }
        Message::Bus(bus) => {
            b.close_section();
            let r = b.push_bus(bus);
            b.close_section();
            r
        }
        Message::InsAck(a) => b.push_ins_ack(a),
        Message::UpdC(u) => b.push_upd_c(u),
        Message::UpdReq(r) => b.push_upd_req(r),
        Message::DelC(d) => b.push_del_c(d),
        Message::Tdb(t) => b.push_with(ACT_TDB, Tdb::OPENBSD_LEN, |dst| {
            let _ = t.emit_openbsd(dst);
        }),
        Message::OpenBsdIns(s) => b.push_with(ACT_INS, OpenBsdState::LEN, |dst| {
            let _ = s.emit(dst);
        }),
        Message::OpenBsdUpd(s) => b.push_with(ACT_UPD, OpenBsdState::LEN, |dst| {
            let _ = s.emit(dst);
        }),
        Message::OpenBsdDel(id) => b.push_with(ACT_DEL, OpenBsdState::LEN, |dst| {
            if let Ok(rec) = record_mut::<{ OpenBsdState::LEN }>(dst) {
                put(rec, field::ID, id.id);
                put(rec, field::CREATORID, id.creatorid);
            }
        }),
        Message::Ins { .. } | Message::Upd { .. } => return None,
    };
    Some(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::{Header, Subheader, VERSION_OPENBSD};
    use crate::wire::layout;
    use crate::wire::{
        samples, BusStatus, DelC, FrameBuilder, FrameReader, InsAck, Message, UpdReq, WalkEvent,
    };

    #[test]
    fn record_conversion_keeps_everything_openbsd_carries() {
        let s = samples::openbsd_state(7);
        let r = s.to_record();
        assert_eq!(r.rdomain, [3, 4]);
        assert_eq!((r.rtableid, r.stack_rtableid), (1, 2));
        assert_eq!(OpenBsdState::from_record(&r), s);
    }

    /// Sizes OpenBSD's C structs have (checked against the real headers by
    /// the layout oracle), by the name the layout table gives them.
    fn c_size(name: &str) -> usize {
        layout::ALL
            .iter()
            .find(|l| l.name == name && l.headers == crate::wire::field::HeaderSet::OpenBsd)
            .or_else(|| layout::ALL.iter().find(|l| l.name == name))
            .map(|l| l.size)
            .unwrap_or(0)
    }

    #[test]
    fn builder_writes_openbsd_frames_as_openbsd_lays_them_out() {
        let mut buf = [0u8; 4096];
        let mut b = FrameBuilder::new_openbsd(&mut buf, 4096).unwrap();
        let id = samples::state_id(1);
        let s = samples::openbsd_state(1);
        b.push_ins_ack(&InsAck { state: id }).unwrap();
        b.push_upd_c(&samples::upd_c(1)).unwrap();
        b.push_del_c(&DelC { state: id }).unwrap();
        b.push_openbsd_state(action::INS, &s).unwrap();
        b.push_openbsd_state(action::UPD, &s).unwrap();
        b.push_upd_req(&UpdReq::BULK).unwrap();
        b.push_bus(&samples::bus(BusStatus::End)).unwrap();
        b.push_clr(&samples::clr()).unwrap();
        let len = b.finish_openbsd();
        let frame = &buf[..len];

        let header = Header::parse(frame).unwrap();
        assert_eq!(header.version, VERSION_OPENBSD);
        assert_eq!(usize::from(header.len), len);
        assert_eq!(header.pfcksum, [0; 16], "OpenBSD leaves the checksum zero");
        let expect = [
            (action::INS_ACK, "pfsync_ins_ack"),
            (action::UPD_C, "pfsync_upd_c"),
            (action::DEL_C, "pfsync_del_c"),
            (action::INS, "pfsync_state"),
            (action::UPD, "pfsync_state"),
            (action::UPD_REQ, "pfsync_upd_req"),
            (action::BUS, "pfsync_bus"),
            (action::CLR, "pfsync_clr"),
        ];
        let mut at = Header::LEN;
        for (act, name) in expect {
            let sub = Subheader::parse(&frame[at..]).unwrap();
            let size = c_size(name);
            assert!(size > 0, "{name} in the layout table");
            assert_eq!(
                (sub.action, usize::from(sub.len_words) * 4, sub.count),
                (act, size, 1),
                "{name}"
            );
            at += Subheader::LEN + size;
        }
        assert_eq!(at, len, "no EOF after the last section");

        let messages: Vec<Message> = FrameReader::new_openbsd(frame)
            .unwrap()
            .filter_map(|e| match e {
                Ok(WalkEvent::Message(m)) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(messages.len(), expect.len());
        assert_eq!(messages[3], Message::OpenBsdIns(s));
        assert_eq!(messages[4], Message::OpenBsdUpd(s));
    }
}
