//! Distinctive, valid example messages and frames of every kind, for tests,
//! benchmarks and the fuzz seed corpus (host builds only).
//!
//! Every field gets a different non-zero value where the format allows it, so
//! a field written to the wrong place or in the wrong byte order shows up.

use super::action::MsgVersion;
use super::builder::FrameBuilder;
use super::bus::{Bus, BusStatus};
use super::clr::Clr;
use super::ids::{DelC, InsAck, UpdReq};
use super::openbsd::{OpenBsdState, OpenBsdStateKey};
use super::state::{IfName, Peer, Scrub, StateId, StateKey, StateRecord, TagName};
use super::tdb::Tdb;
use super::upd_c::UpdC;
use crate::wire::{StateFlags, SyncFlags};

fn seq16(base: u8) -> [u8; 16] {
    core::array::from_fn(|i| base.wrapping_add(i as u8))
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap_or(IfName::EMPTY)
}

pub fn peer(n: u8) -> Peer {
    let n32 = u32::from(n);
    Peer {
        scrub: Scrub {
            pfss_flags: 0x0101 * u16::from(n),
            pfss_ttl: 64u8.wrapping_add(n),
            scrub_flag: 1,
            pfss_ts_mod: 0x1122_3344 ^ n32,
        },
        seqlo: 0xa000_0001 + n32,
        seqhi: 0xb000_0002 + n32,
        seqdiff: 0xc000_0003 + n32,
        max_win: 0x4000 + u16::from(n),
        mss: 1400 + u16::from(n),
        state: 4 + (n % 8),
        wscale: 0x80 | (n & 0x0f),
    }
}

pub fn state_id(n: u8) -> StateId {
    StateId {
        id: [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, n],
        creatorid: [0xc1, 0xc2, 0xc3, n | 1],
    }
}

/// A state whose every field survives `version` (fields the format lacks keep
/// the values `StateRecord::parse` gives them, so parse(emit(s)) == s).
pub fn state(version: MsgVersion, n: u8) -> StateRecord {
    let mut s = StateRecord {
        id: state_id(n),
        ifname: name("em0"),
        key: [
            StateKey {
                addr: [seq16(0x20), seq16(0x40)],
                port: [[0x01, 0xbb], [0xc3, 0x50 ^ n]],
            },
            StateKey {
                addr: [seq16(0x60), seq16(0x80)],
                port: [[0x00, 0x50], [0xd4, 0x31]],
            },
        ],
        src: peer(n),
        dst: peer(n.wrapping_add(3)),
        rt_addr: seq16(0xa0),
        rule: 7,
        anchor: u32::MAX,
        nat_rule: 0x0102_0304,
        creation: 3600 + u32::from(n),
        expire: 86_000,
        packets: [0x0000_0001_0000_0002 + u64::from(n), 0x0000_0003_0000_0004],
        bytes: [0x0000_0005_0000_0006, 0x7fff_fff8_8000_0009],
        wire_af: 28,
        stack_af: 28,
        wire_proto: 6,
        stack_proto: 6,
        direction: 2,
        log: 0x03,
        state_flags: StateFlags::from_bits_retain(0x0a5b),
        timeout: 2,
        sync_flags: SyncFlags::from_bits_retain(0x0c),
        qid: 0x0111,
        pqid: 0x0222,
        dnpipe: 0x0333,
        dnrpipe: 0x0444,
        rtableid: 5,
        min_ttl: 17,
        set_tos: 0x28,
        max_mss: 1360,
        set_prio: [3, 5],
        rt: 2,
        rt_af: 28,
        rt_ifname: name("igb1"),
        orig_ifname: IfName::EMPTY,
        tagname: TagName::EMPTY,
        rdomain: [0; 2],
        stack_rtableid: -1,
    };
    match version {
        MsgVersion::V1301 => {
            s.state_flags = StateFlags::from_bits_retain(s.state_flags.bits() & 0xff);
            s.qid = 0;
            s.pqid = 0;
            s.dnpipe = 0;
            s.dnrpipe = 0;
            s.rtableid = -1;
            s.min_ttl = 0;
            s.set_tos = 0;
            s.max_mss = 0;
            s.set_prio = [0; 2];
            s.rt = 0;
            s.rt_ifname = IfName::EMPTY;
        }
        MsgVersion::V1400 => {}
        MsgVersion::V1500 => {
            s.sync_flags = SyncFlags::empty();
            s.stack_af = 2;
            s.stack_proto = 17;
            s.rt_af = 2;
            s.orig_ifname = name("vlan42");
            s.tagname = TagName::new("sample-tag").unwrap_or(TagName::EMPTY);
        }
    }
    s
}

pub fn upd_c(n: u8) -> UpdC {
    let id = state_id(n);
    UpdC {
        id: id.id,
        src: peer(n),
        dst: peer(n.wrapping_add(1)),
        creatorid: id.creatorid,
        expire: 7777,
        timeout: 3,
        state_flags: 0,
    }
}

pub fn clr() -> Clr {
    Clr {
        ifname: name("em1"),
        creatorid: [0xde, 0xad, 0xbe, 0xef],
    }
}

pub fn bus(status: BusStatus) -> Bus {
    Bus {
        creatorid: [0xc1, 0xc2, 0xc3, 0xc5],
        endtime: 0x0001_0203,
        status,
    }
}

pub fn tdb() -> Tdb {
    // sockaddr_in: sa_len 16, AF_INET, port 0, 192.0.2.9.
    let dst = core::array::from_fn(|i| match i {
        0 => 16,
        1 => 2,
        4 => 192,
        6 => 2,
        7 => 9,
        _ => 0,
    });
    Tdb {
        spi: [0x00, 0x00, 0x12, 0x34],
        dst,
        rpl: 0x0badcafe,
        cur_bytes: 0x0102_0304_0506_0708,
        sproto: 50,
        rdomain: 0,
    }
}

pub fn openbsd_state(n: u8) -> OpenBsdState {
    let s = state(MsgVersion::V1400, n);
    OpenBsdState {
        id: s.id,
        ifname: s.ifname,
        key: [
            OpenBsdStateKey {
                addr: s.key[0].addr,
                port: s.key[0].port,
                rdomain: 3,
                af: 24,
            },
            OpenBsdStateKey {
                addr: s.key[1].addr,
                port: s.key[1].port,
                rdomain: 4,
                af: 24,
            },
        ],
        src: s.src,
        dst: s.dst,
        rt_addr: s.rt_addr,
        rule: s.rule,
        anchor: s.anchor,
        nat_rule: s.nat_rule,
        creation: s.creation,
        expire: s.expire,
        packets: s.packets,
        bytes: s.bytes,
        rtableid: [1, 2],
        max_mss: 1300,
        af: 24,
        proto: 6,
        direction: 1,
        log: 1,
        rt: 0,
        timeout: 2,
        sync_flags: SyncFlags::from_bits_retain(4),
        min_ttl: 9,
        set_tos: 0x10,
        state_flags: StateFlags::from_bits_retain(0x1234),
        set_prio: [1, 2],
    }
}

/// A FreeBSD frame holding `n` of every message kind a 15.x node can receive,
/// with an EOF, in stock's section order. Returns its length.
pub fn freebsd_frame(buf: &mut [u8], n: u8) -> usize {
    let Ok(mut b) = FrameBuilder::new(buf, usize::from(u16::MAX)) else {
        return 0;
    };
    for v in [MsgVersion::V1301, MsgVersion::V1400, MsgVersion::V1500] {
        for i in 0..n {
            let _ = b.push_ins(v, &state(v, i));
        }
    }
    for i in 0..n {
        let _ = b.push_ins_ack(&InsAck { state: state_id(i) });
    }
    for v in [MsgVersion::V1301, MsgVersion::V1400, MsgVersion::V1500] {
        for i in 0..n {
            let _ = b.push_upd(v, &state(v, i));
        }
    }
    for i in 0..n {
        let _ = b.push_upd_c(&upd_c(i));
    }
    for i in 0..n {
        let _ = b.push_del_c(&DelC { state: state_id(i) });
    }
    let _ = b.push_upd_req(&UpdReq::BULK);
    for i in 0..n {
        let _ = b.push_upd_req(&UpdReq { state: state_id(i) });
    }
    b.close_section();
    let _ = b.push_clr(&clr());
    b.close_section();
    let _ = b.push_bus(&bus(BusStatus::Start));
    b.close_section();
    let _ = b.push_bus(&bus(BusStatus::End));
    let t = tdb();
    let _ = b.push_with(11, Tdb::LEN, |dst| {
        let _ = t.emit(dst);
    });
    b.finish([0x5a; 16], true)
}

/// An OpenBSD frame with every kind OpenBSD decodes, plus one section of an
/// unknown future action (99) and one longer-than-known INS_ACK, both of which
/// an OpenBSD receiver skips.
pub fn openbsd_frame(buf: &mut [u8], n: u8) -> usize {
    let Ok(mut b) = FrameBuilder::new_openbsd(buf, usize::from(u16::MAX)) else {
        return 0;
    };
    for i in 0..n {
        let s = openbsd_state(i);
        let _ = b.push_with(13, OpenBsdState::LEN, |dst| {
            let _ = s.emit(dst);
        });
    }
    for i in 0..n {
        let s = openbsd_state(i);
        let _ = b.push_with(14, OpenBsdState::LEN, |dst| {
            let _ = s.emit(dst);
        });
    }
    for i in 0..n {
        let mut u = upd_c(i);
        u.state_flags = 0x21;
        let _ = b.push_upd_c(&u);
    }
    for i in 0..n {
        let _ = b.push_ins_ack(&InsAck { state: state_id(i) });
    }
    let _ = b.push_with(99, 8, |dst| dst.copy_from_slice(&[9; 8]));
    // An INS_ACK from a hypothetical newer sender, 4 bytes longer.
    let _ = b.push_with(2, 16, |dst| dst.copy_from_slice(&[7; 16]));
    for i in 0..n {
        let _ = b.push_del_c(&DelC { state: state_id(i) });
    }
    let _ = b.push_upd_req(&UpdReq::BULK);
    let _ = b.push_clr(&clr());
    let _ = b.push_bus(&bus(BusStatus::End));
    let t = tdb();
    let _ = b.push_with(15, Tdb::OPENBSD_LEN, |dst| {
        let _ = t.emit_openbsd(dst);
    });
    b.finish([0; 16], false)
}
