//! FreeBSD full-state messages: `struct pfsync_state_1301` (242 B, actions 1/3),
//! `pfsync_state_1400` (277 B, actions 13/14) and `pfsync_state_1500` (360 B,
//! actions 15/16, 15.x only), sys/net/pfvar.h. Bytes 0..232 are the same in
//! all three; the tails differ and 1500's is not compatible with the others.
//!
//! Padding, `__spare`/`spare` and the unused `updates` byte are written as 0 and
//! not kept on parse, as stock senders zero them.

use super::action::MsgVersion;
use super::field::{
    be16, be32, counter, get, put, record, record_mut, set_be16, set_be32, set_counter, set_u8,
    u8_at, Field, HeaderSet, StructLayout,
};
use super::flags::{StateFlags, SyncFlags};
use super::peer;
use super::state::{IfName, StateId, StateKey, StateRecord, TagName};
use super::{Error, Reject, Result};

/// `AF_INET` on FreeBSD and OpenBSD.
pub const AF_INET: u8 = 2;
/// FreeBSD's `AF_INET6` (OpenBSD uses 24).
pub const AF_INET6: u8 = 28;
/// `PFTM_MAX` of FreeBSD 14.x/15.x: timeout indices at or above it are refused.
pub const PFTM_MAX: u8 = 25;
/// `PF_OUT`: the largest valid direction.
pub const PF_OUT: u8 = 2;

/// `struct pfsync_state_key` (36 B, FreeBSD).
pub mod key_field {
    use super::Field;
    pub const ADDR0: Field<16> = Field::at(0);
    pub const ADDR1: Field<16> = ADDR0.next();
    pub const PORT0: Field<2> = ADDR1.next();
    pub const PORT1: Field<2> = PORT0.next();
    pub const KEY_LEN: usize = PORT1.end();
}

pub const KEY_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state_key",
    c_type: "struct pfsync_state_key",
    headers: HeaderSet::FreeBsd,
    size: key_field::KEY_LEN,
    fields: &[
        key_field::ADDR0.named("addr[0]"),
        key_field::ADDR1.named("addr[1]"),
        key_field::PORT0.named("port[0]"),
        key_field::PORT1.named("port[1]"),
    ],
};

#[inline(always)]
fn decode_key(b: &[u8; key_field::KEY_LEN]) -> StateKey {
    StateKey {
        addr: [get(b, key_field::ADDR0), get(b, key_field::ADDR1)],
        port: [get(b, key_field::PORT0), get(b, key_field::PORT1)],
    }
}

#[inline(always)]
fn encode_key(k: &StateKey) -> [u8; key_field::KEY_LEN] {
    let mut b = [0u8; key_field::KEY_LEN];
    put(&mut b, key_field::ADDR0, k.addr[0]);
    put(&mut b, key_field::ADDR1, k.addr[1]);
    put(&mut b, key_field::PORT0, k.port[0]);
    put(&mut b, key_field::PORT1, k.port[1]);
    b
}

/// Bytes 0..232, shared by all three formats.
pub mod common_field {
    use super::Field;
    pub const ID: Field<8> = Field::at(0);
    pub const IFNAME: Field<16> = ID.next();
    pub const KEY0: Field<36> = IFNAME.next();
    pub const KEY1: Field<36> = KEY0.next();
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
    pub const COMMON_LEN: usize = CREATORID.end();
}

macro_rules! state_rows {
    ($($tail:expr),* $(,)?) => {
        [
            common_field::ID.named("id"),
            common_field::IFNAME.named("ifname"),
            common_field::KEY0.named("key[0]"),
            common_field::KEY1.named("key[1]"),
            common_field::SRC.named("src"),
            common_field::DST.named("dst"),
            common_field::RT_ADDR.named("rt_addr"),
            common_field::RULE.named("rule"),
            common_field::ANCHOR.named("anchor"),
            common_field::NAT_RULE.named("nat_rule"),
            common_field::CREATION.named("creation"),
            common_field::EXPIRE.named("expire"),
            common_field::PACKETS0_HI.named("packets[0][0]"),
            common_field::PACKETS0_LO.named("packets[0][1]"),
            common_field::PACKETS1_HI.named("packets[1][0]"),
            common_field::PACKETS1_LO.named("packets[1][1]"),
            common_field::BYTES0_HI.named("bytes[0][0]"),
            common_field::BYTES0_LO.named("bytes[0][1]"),
            common_field::BYTES1_HI.named("bytes[1][0]"),
            common_field::BYTES1_LO.named("bytes[1][1]"),
            common_field::CREATORID.named("creatorid"),
            $($tail),*
        ]
    };
}

/// Tail of `struct pfsync_state_1301`.
pub mod v1301_field {
    use super::{common_field, Field};
    pub const AF: Field<1> = Field::at(common_field::COMMON_LEN);
    pub const PROTO: Field<1> = AF.next();
    pub const DIRECTION: Field<1> = PROTO.next();
    pub const SPARE: Field<2> = DIRECTION.next();
    pub const LOG: Field<1> = SPARE.next();
    pub const STATE_FLAGS: Field<1> = LOG.next();
    pub const TIMEOUT: Field<1> = STATE_FLAGS.next();
    pub const SYNC_FLAGS: Field<1> = TIMEOUT.next();
    pub const UPDATES: Field<1> = SYNC_FLAGS.next();
    pub const LEN: usize = UPDATES.end();
}

/// Tail of `struct pfsync_state_1400`.
pub mod v1400_field {
    use super::{common_field, Field};
    pub const AF: Field<1> = Field::at(common_field::COMMON_LEN);
    pub const PROTO: Field<1> = AF.next();
    pub const DIRECTION: Field<1> = PROTO.next();
    pub const STATE_FLAGS: Field<2> = DIRECTION.next();
    pub const LOG: Field<1> = STATE_FLAGS.next();
    pub const SPARE: Field<1> = LOG.next();
    pub const TIMEOUT: Field<1> = SPARE.next();
    pub const SYNC_FLAGS: Field<1> = TIMEOUT.next();
    pub const UPDATES: Field<1> = SYNC_FLAGS.next();
    pub const QID: Field<2> = UPDATES.next();
    pub const PQID: Field<2> = QID.next();
    pub const DNPIPE: Field<2> = PQID.next();
    pub const DNRPIPE: Field<2> = DNPIPE.next();
    pub const RTABLEID: Field<4> = DNRPIPE.next();
    pub const MIN_TTL: Field<1> = RTABLEID.next();
    pub const SET_TOS: Field<1> = MIN_TTL.next();
    pub const MAX_MSS: Field<2> = SET_TOS.next();
    pub const SET_PRIO: Field<2> = MAX_MSS.next();
    pub const RT: Field<1> = SET_PRIO.next();
    pub const RT_IFNAME: Field<16> = RT.next();
    pub const LEN: usize = RT_IFNAME.end();
}

/// Tail of `struct pfsync_state_1500`.
pub mod v1500_field {
    use super::{common_field, Field};
    pub const TAGNAME: Field<64> = Field::at(common_field::COMMON_LEN);
    pub const RT_IFNAME: Field<16> = TAGNAME.next();
    pub const ORIG_IFNAME: Field<16> = RT_IFNAME.next();
    pub const RTABLEID: Field<4> = ORIG_IFNAME.next();
    pub const STATE_FLAGS: Field<2> = RTABLEID.next();
    pub const QID: Field<2> = STATE_FLAGS.next();
    pub const PQID: Field<2> = QID.next();
    pub const DNPIPE: Field<2> = PQID.next();
    pub const DNRPIPE: Field<2> = DNPIPE.next();
    pub const MAX_MSS: Field<2> = DNRPIPE.next();
    pub const WIRE_AF: Field<1> = MAX_MSS.next();
    pub const STACK_AF: Field<1> = WIRE_AF.next();
    pub const RT_AF: Field<1> = STACK_AF.next();
    pub const WIRE_PROTO: Field<1> = RT_AF.next();
    pub const STACK_PROTO: Field<1> = WIRE_PROTO.next();
    pub const LOG: Field<1> = STACK_PROTO.next();
    pub const TIMEOUT: Field<1> = LOG.next();
    pub const DIRECTION: Field<1> = TIMEOUT.next();
    pub const RT: Field<1> = DIRECTION.next();
    pub const MIN_TTL: Field<1> = RT.next();
    pub const SET_TOS: Field<1> = MIN_TTL.next();
    pub const SET_PRIO: Field<2> = SET_TOS.next();
    pub const SPARE: Field<3> = SET_PRIO.next();
    pub const LEN: usize = SPARE.end();
}

const ROWS_1301: [super::field::FieldLayout; 30] = state_rows!(
    v1301_field::AF.named("af"),
    v1301_field::PROTO.named("proto"),
    v1301_field::DIRECTION.named("direction"),
    v1301_field::SPARE.named("__spare"),
    v1301_field::LOG.named("log"),
    v1301_field::STATE_FLAGS.named("state_flags"),
    v1301_field::TIMEOUT.named("timeout"),
    v1301_field::SYNC_FLAGS.named("sync_flags"),
    v1301_field::UPDATES.named("updates"),
);

const ROWS_1400: [super::field::FieldLayout; 41] = state_rows!(
    v1400_field::AF.named("af"),
    v1400_field::PROTO.named("proto"),
    v1400_field::DIRECTION.named("direction"),
    v1400_field::STATE_FLAGS.named("state_flags"),
    v1400_field::LOG.named("log"),
    v1400_field::SPARE.named("__spare"),
    v1400_field::TIMEOUT.named("timeout"),
    v1400_field::SYNC_FLAGS.named("sync_flags"),
    v1400_field::UPDATES.named("updates"),
    v1400_field::QID.named("qid"),
    v1400_field::PQID.named("pqid"),
    v1400_field::DNPIPE.named("dnpipe"),
    v1400_field::DNRPIPE.named("dnrpipe"),
    v1400_field::RTABLEID.named("rtableid"),
    v1400_field::MIN_TTL.named("min_ttl"),
    v1400_field::SET_TOS.named("set_tos"),
    v1400_field::MAX_MSS.named("max_mss"),
    v1400_field::SET_PRIO.named("set_prio"),
    v1400_field::RT.named("rt"),
    v1400_field::RT_IFNAME.named("rt_ifname"),
);

const ROWS_1500: [super::field::FieldLayout; 44] = state_rows!(
    v1500_field::TAGNAME.named("tagname"),
    v1500_field::RT_IFNAME.named("rt_ifname"),
    v1500_field::ORIG_IFNAME.named("orig_ifname"),
    v1500_field::RTABLEID.named("rtableid"),
    v1500_field::STATE_FLAGS.named("state_flags"),
    v1500_field::QID.named("qid"),
    v1500_field::PQID.named("pqid"),
    v1500_field::DNPIPE.named("dnpipe"),
    v1500_field::DNRPIPE.named("dnrpipe"),
    v1500_field::MAX_MSS.named("max_mss"),
    v1500_field::WIRE_AF.named("wire_af"),
    v1500_field::STACK_AF.named("stack_af"),
    v1500_field::RT_AF.named("rt_af"),
    v1500_field::WIRE_PROTO.named("wire_proto"),
    v1500_field::STACK_PROTO.named("stack_proto"),
    v1500_field::LOG.named("log"),
    v1500_field::TIMEOUT.named("timeout"),
    v1500_field::DIRECTION.named("direction"),
    v1500_field::RT.named("rt"),
    v1500_field::MIN_TTL.named("min_ttl"),
    v1500_field::SET_TOS.named("set_tos"),
    v1500_field::SET_PRIO.named("set_prio"),
    v1500_field::SPARE.named("spare"),
);

pub const STATE_1301_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state_1301",
    c_type: "struct pfsync_state_1301",
    headers: HeaderSet::FreeBsd,
    size: v1301_field::LEN,
    fields: &ROWS_1301,
};

pub const STATE_1400_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state_1400",
    c_type: "struct pfsync_state_1400",
    headers: HeaderSet::FreeBsd,
    size: v1400_field::LEN,
    fields: &ROWS_1400,
};

pub const STATE_1500_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_state_1500",
    c_type: "struct pfsync_state_1500",
    headers: HeaderSet::FreeBsd15,
    size: v1500_field::LEN,
    fields: &ROWS_1500,
};

/// Which receive checks a decoded state must pass (15-era if_pfsync.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateChecks {
    /// INS: timeout, both peer states, direction, address family; then the
    /// import checks (names terminated, creator id non-zero).
    Insert,
    /// UPD: timeout and both peer states only, then the import checks.
    /// Stock checks direction/family of an UPD only if it imports it.
    Update,
}

impl StateRecord {
    /// Decodes one record of format `version` and applies the INS receive
    /// checks. `BadLen` if `bytes` is shorter than the format, `BadVal` if a
    /// check fails; see [`StateRecord::decode`] for the reason.
    pub fn parse(bytes: &[u8], version: MsgVersion) -> Result<StateRecord> {
        StateRecord::decode(bytes, version, StateChecks::Insert).map_err(Error::from)
    }

    /// Like [`StateRecord::parse`] with a chosen check level, reporting which
    /// check failed.
    #[inline]
    pub fn decode(
        bytes: &[u8],
        version: MsgVersion,
        checks: StateChecks,
    ) -> core::result::Result<StateRecord, Reject> {
        let mut s = StateRecord::default();
        s.decode_into(bytes, version, checks)?;
        Ok(s)
    }

    /// Decodes into `self`, overwriting every field, without moving a whole
    /// record around: the cheapest way to receive many states into one
    /// scratch record. On error `self` holds an unspecified mix of old and new
    /// values (never anything unchecked is promised; use the error).
    pub fn decode_into(
        &mut self,
        bytes: &[u8],
        version: MsgVersion,
        checks: StateChecks,
    ) -> core::result::Result<(), Reject> {
        match version {
            MsgVersion::V1301 => {
                decode_1301(record(bytes).map_err(|_| Reject::Short)?, checks, self)
            }
            MsgVersion::V1400 => {
                decode_1400(record(bytes).map_err(|_| Reject::Short)?, checks, self)
            }
            MsgVersion::V1500 => {
                decode_1500(record(bytes).map_err(|_| Reject::Short)?, checks, self)
            }
        }
    }

    /// Writes `version.state_len()` bytes. Values a format cannot carry are
    /// dropped: 1301 keeps the low 8 bits of `state_flags` (as stock's export
    /// does) and none of the 1400/1500 extras; 1301/1400 carry only `wire_af`
    /// and `wire_proto`; 1500 has no `sync_flags`.
    pub fn emit(&self, version: MsgVersion, buf: &mut [u8]) -> Result<usize> {
        match version {
            MsgVersion::V1301 => emit_1301(self, record_mut(buf)?),
            MsgVersion::V1400 => emit_1400(self, record_mut(buf)?),
            MsgVersion::V1500 => emit_1500(self, record_mut(buf)?),
        }
        Ok(version.state_len())
    }

    /// The value checks stock applies to an INS (or UPD, with `Update`).
    pub fn check(&self, checks: StateChecks) -> core::result::Result<(), Reject> {
        check_values(
            self.timeout,
            self.src.state,
            self.dst.state,
            self.direction,
            self.wire_af,
            checks,
        )
    }
}

pub(crate) fn check_values(
    timeout: u8,
    src_state: u8,
    dst_state: u8,
    direction: u8,
    af: u8,
    checks: StateChecks,
) -> core::result::Result<(), Reject> {
    if timeout >= PFTM_MAX {
        return Err(Reject::Timeout);
    }
    if src_state > peer::PEER_STATE_MAX || dst_state > peer::PEER_STATE_MAX {
        return Err(Reject::PeerState);
    }
    if checks == StateChecks::Insert {
        if direction > PF_OUT {
            return Err(Reject::Direction);
        }
        if af != AF_INET && af != AF_INET6 {
            return Err(Reject::AddressFamily);
        }
    }
    Ok(())
}

/// [`check_values`] with both peer states read from a full-state record
/// (their place is the same in every format).
#[inline(always)]
pub(crate) fn check_record_values<const LEN: usize>(
    b: &[u8; LEN],
    timeout: u8,
    direction: u8,
    af: u8,
    checks: StateChecks,
) -> core::result::Result<(), Reject> {
    check_values(
        timeout,
        u8_at(b, peer::state_field(common_field::SRC)),
        u8_at(b, peer::state_field(common_field::DST)),
        direction,
        af,
        checks,
    )
}

/// The prefix, with the name and creator checks of stock's import.
#[inline(always)]
fn decode_common(b: &[u8], s: &mut StateRecord) -> core::result::Result<(), Reject> {
    s.ifname = IfName::from_wire(&get(b, common_field::IFNAME)).ok_or(Reject::IfName)?;
    s.id = StateId {
        id: get(b, common_field::ID),
        creatorid: get(b, common_field::CREATORID),
    };
    if s.id.creatorid == [0; 4] {
        return Err(Reject::CreatorId);
    }
    s.key = [
        decode_key(&get(b, common_field::KEY0)),
        decode_key(&get(b, common_field::KEY1)),
    ];
    s.src = peer::decode(&get(b, common_field::SRC));
    s.dst = peer::decode(&get(b, common_field::DST));
    s.rt_addr = get(b, common_field::RT_ADDR);
    s.rule = be32(b, common_field::RULE);
    s.anchor = be32(b, common_field::ANCHOR);
    s.nat_rule = be32(b, common_field::NAT_RULE);
    s.creation = be32(b, common_field::CREATION);
    s.expire = be32(b, common_field::EXPIRE);
    s.packets = [
        counter(b, common_field::PACKETS0_HI, common_field::PACKETS0_LO),
        counter(b, common_field::PACKETS1_HI, common_field::PACKETS1_LO),
    ];
    s.bytes = [
        counter(b, common_field::BYTES0_HI, common_field::BYTES0_LO),
        counter(b, common_field::BYTES1_HI, common_field::BYTES1_LO),
    ];
    Ok(())
}

#[inline(always)]
fn emit_common(s: &StateRecord, b: &mut [u8]) {
    put(b, common_field::ID, s.id.id);
    put(b, common_field::IFNAME, *s.ifname.as_wire());
    put(b, common_field::KEY0, encode_key(&s.key[0]));
    put(b, common_field::KEY1, encode_key(&s.key[1]));
    put(b, common_field::SRC, peer::encode(&s.src));
    put(b, common_field::DST, peer::encode(&s.dst));
    put(b, common_field::RT_ADDR, s.rt_addr);
    set_be32(b, common_field::RULE, s.rule);
    set_be32(b, common_field::ANCHOR, s.anchor);
    set_be32(b, common_field::NAT_RULE, s.nat_rule);
    set_be32(b, common_field::CREATION, s.creation);
    set_be32(b, common_field::EXPIRE, s.expire);
    set_counter(
        b,
        common_field::PACKETS0_HI,
        common_field::PACKETS0_LO,
        s.packets[0],
    );
    set_counter(
        b,
        common_field::PACKETS1_HI,
        common_field::PACKETS1_LO,
        s.packets[1],
    );
    set_counter(
        b,
        common_field::BYTES0_HI,
        common_field::BYTES0_LO,
        s.bytes[0],
    );
    set_counter(
        b,
        common_field::BYTES1_HI,
        common_field::BYTES1_LO,
        s.bytes[1],
    );
    put(b, common_field::CREATORID, s.id.creatorid);
}

// A decode into a reused record must not keep what an older format does
// not carry from the record before; a round trip through that format
// yields the same defaults.
impl StateRecord {
    pub(crate) fn reset_members_absent_from_1400(&mut self) {
        let d = StateRecord::default();
        self.orig_ifname = d.orig_ifname;
        self.tagname = d.tagname;
    }

    pub(crate) fn reset_members_absent_from_1301(&mut self) {
        self.reset_members_absent_from_1400();
        let d = StateRecord::default();
        self.qid = d.qid;
        self.pqid = d.pqid;
        self.dnpipe = d.dnpipe;
        self.dnrpipe = d.dnrpipe;
        self.rtableid = d.rtableid;
        self.min_ttl = d.min_ttl;
        self.set_tos = d.set_tos;
        self.max_mss = d.max_mss;
        self.set_prio = d.set_prio;
        self.rt = d.rt;
        self.rt_ifname = d.rt_ifname;
    }
}

fn decode_1301(
    b: &[u8; v1301_field::LEN],
    checks: StateChecks,
    s: &mut StateRecord,
) -> core::result::Result<(), Reject> {
    use v1301_field as f;
    let af = u8_at(b, f::AF);
    let timeout = u8_at(b, f::TIMEOUT);
    let direction = u8_at(b, f::DIRECTION);
    check_record_values(b, timeout, direction, af, checks)?;
    decode_common(b, s)?;
    let proto = u8_at(b, f::PROTO);
    s.wire_af = af;
    s.stack_af = af;
    s.rt_af = af;
    s.wire_proto = proto;
    s.stack_proto = proto;
    s.direction = direction;
    s.log = u8_at(b, f::LOG);
    s.state_flags = StateFlags::from_bits_retain(u16::from(u8_at(b, f::STATE_FLAGS)));
    s.timeout = timeout;
    s.sync_flags = SyncFlags::from_bits_retain(u8_at(b, f::SYNC_FLAGS));
    s.reset_members_absent_from_1301();
    Ok(())
}

fn emit_1301(s: &StateRecord, b: &mut [u8; v1301_field::LEN]) {
    use v1301_field as f;
    emit_common(s, b);
    set_u8(b, f::AF, s.wire_af);
    set_u8(b, f::PROTO, s.wire_proto);
    set_u8(b, f::DIRECTION, s.direction);
    put(b, f::SPARE, [0; 2]);
    set_u8(b, f::LOG, s.log);
    set_u8(b, f::STATE_FLAGS, s.state_flags.bits() as u8);
    set_u8(b, f::TIMEOUT, s.timeout);
    set_u8(b, f::SYNC_FLAGS, s.sync_flags.bits());
    set_u8(b, f::UPDATES, 0);
}

fn decode_1400(
    b: &[u8; v1400_field::LEN],
    checks: StateChecks,
    s: &mut StateRecord,
) -> core::result::Result<(), Reject> {
    use v1400_field as f;
    let af = u8_at(b, f::AF);
    let timeout = u8_at(b, f::TIMEOUT);
    let direction = u8_at(b, f::DIRECTION);
    check_record_values(b, timeout, direction, af, checks)?;
    decode_common(b, s)?;
    s.rt_ifname = IfName::from_wire(&get(b, f::RT_IFNAME)).ok_or(Reject::RtIfName)?;
    let proto = u8_at(b, f::PROTO);
    s.wire_af = af;
    s.stack_af = af;
    s.rt_af = af;
    s.wire_proto = proto;
    s.stack_proto = proto;
    s.direction = direction;
    s.state_flags = StateFlags::from_bits_retain(be16(b, f::STATE_FLAGS));
    s.log = u8_at(b, f::LOG);
    s.timeout = timeout;
    s.sync_flags = SyncFlags::from_bits_retain(u8_at(b, f::SYNC_FLAGS));
    s.qid = be16(b, f::QID);
    s.pqid = be16(b, f::PQID);
    s.dnpipe = be16(b, f::DNPIPE);
    s.dnrpipe = be16(b, f::DNRPIPE);
    s.rtableid = be32(b, f::RTABLEID) as i32;
    s.min_ttl = u8_at(b, f::MIN_TTL);
    s.set_tos = u8_at(b, f::SET_TOS);
    s.max_mss = be16(b, f::MAX_MSS);
    s.set_prio = get(b, f::SET_PRIO);
    s.rt = u8_at(b, f::RT);
    s.reset_members_absent_from_1400();
    Ok(())
}

fn emit_1400(s: &StateRecord, b: &mut [u8; v1400_field::LEN]) {
    use v1400_field as f;
    emit_common(s, b);
    set_u8(b, f::AF, s.wire_af);
    set_u8(b, f::PROTO, s.wire_proto);
    set_u8(b, f::DIRECTION, s.direction);
    set_be16(b, f::STATE_FLAGS, s.state_flags.bits());
    set_u8(b, f::LOG, s.log);
    set_u8(b, f::SPARE, 0);
    set_u8(b, f::TIMEOUT, s.timeout);
    set_u8(b, f::SYNC_FLAGS, s.sync_flags.bits());
    set_u8(b, f::UPDATES, 0);
    set_be16(b, f::QID, s.qid);
    set_be16(b, f::PQID, s.pqid);
    set_be16(b, f::DNPIPE, s.dnpipe);
    set_be16(b, f::DNRPIPE, s.dnrpipe);
    set_be32(b, f::RTABLEID, s.rtableid as u32);
    set_u8(b, f::MIN_TTL, s.min_ttl);
    set_u8(b, f::SET_TOS, s.set_tos);
    set_be16(b, f::MAX_MSS, s.max_mss);
    put(b, f::SET_PRIO, s.set_prio);
    set_u8(b, f::RT, s.rt);
    put(b, f::RT_IFNAME, *s.rt_ifname.as_wire());
}

fn decode_1500(
    b: &[u8; v1500_field::LEN],
    checks: StateChecks,
    s: &mut StateRecord,
) -> core::result::Result<(), Reject> {
    use v1500_field as f;
    let af = u8_at(b, f::WIRE_AF);
    let timeout = u8_at(b, f::TIMEOUT);
    let direction = u8_at(b, f::DIRECTION);
    check_record_values(b, timeout, direction, af, checks)?;
    decode_common(b, s)?;
    s.rt_ifname = IfName::from_wire(&get(b, f::RT_IFNAME)).ok_or(Reject::RtIfName)?;
    s.orig_ifname = IfName::from_wire(&get(b, f::ORIG_IFNAME)).ok_or(Reject::OrigIfName)?;
    s.tagname = TagName::from_wire(&get(b, f::TAGNAME)).ok_or(Reject::TagName)?;
    s.rtableid = be32(b, f::RTABLEID) as i32;
    s.state_flags = StateFlags::from_bits_retain(be16(b, f::STATE_FLAGS));
    s.qid = be16(b, f::QID);
    s.pqid = be16(b, f::PQID);
    s.dnpipe = be16(b, f::DNPIPE);
    s.dnrpipe = be16(b, f::DNRPIPE);
    s.max_mss = be16(b, f::MAX_MSS);
    s.wire_af = af;
    s.stack_af = u8_at(b, f::STACK_AF);
    s.rt_af = u8_at(b, f::RT_AF);
    s.wire_proto = u8_at(b, f::WIRE_PROTO);
    s.stack_proto = u8_at(b, f::STACK_PROTO);
    s.log = u8_at(b, f::LOG);
    s.timeout = timeout;
    s.direction = direction;
    s.rt = u8_at(b, f::RT);
    s.min_ttl = u8_at(b, f::MIN_TTL);
    s.set_tos = u8_at(b, f::SET_TOS);
    s.set_prio = get(b, f::SET_PRIO);
    s.sync_flags = SyncFlags::empty();
    Ok(())
}

fn emit_1500(s: &StateRecord, b: &mut [u8; v1500_field::LEN]) {
    use v1500_field as f;
    emit_common(s, b);
    put(b, f::TAGNAME, *s.tagname.as_wire());
    put(b, f::RT_IFNAME, *s.rt_ifname.as_wire());
    put(b, f::ORIG_IFNAME, *s.orig_ifname.as_wire());
    set_be32(b, f::RTABLEID, s.rtableid as u32);
    set_be16(b, f::STATE_FLAGS, s.state_flags.bits());
    set_be16(b, f::QID, s.qid);
    set_be16(b, f::PQID, s.pqid);
    set_be16(b, f::DNPIPE, s.dnpipe);
    set_be16(b, f::DNRPIPE, s.dnrpipe);
    set_be16(b, f::MAX_MSS, s.max_mss);
    set_u8(b, f::WIRE_AF, s.wire_af);
    set_u8(b, f::STACK_AF, s.stack_af);
    set_u8(b, f::RT_AF, s.rt_af);
    set_u8(b, f::WIRE_PROTO, s.wire_proto);
    set_u8(b, f::STACK_PROTO, s.stack_proto);
    set_u8(b, f::LOG, s.log);
    set_u8(b, f::TIMEOUT, s.timeout);
    set_u8(b, f::DIRECTION, s.direction);
    set_u8(b, f::RT, s.rt);
    set_u8(b, f::MIN_TTL, s.min_ttl);
    set_u8(b, f::SET_TOS, s.set_tos);
    put(b, f::SET_PRIO, s.set_prio);
    put(b, f::SPARE, [0; 3]);
}
