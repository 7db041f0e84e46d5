//! `--synth KIND`: fixture frames of every kind, built with the core's
//! `FrameBuilder` (and the codec's record encoders), carried in IPv4 or IPv6
//! exactly as FreeBSD sends them. The malformed kinds start from a valid
//! frame and break one thing each, so every error path has a fixture.
//!
//! Values are fixed (no clock, no randomness): the test suites and the
//! Wireshark stage assert them. The constants below are the contract.

use std::net::{Ipv4Addr, Ipv6Addr};

use pfsync::wire::{
    Action, Bus, BusStatus, Clr, DelC, FrameBuilder, IfName, InsAck, MsgVersion, OpenBsdState,
    OpenBsdStateKey, Peer, Scrub, StateId, StateKey, StateRecord, Subheader, TagName, Tdb, UpdC,
    UpdReq,
};

use crate::link::ip;
use crate::link::LINKTYPE_RAW;
use crate::savefile::{Packet, Timestamp};
use pfsync::wire::{StateFlags, SyncFlags};

/// Frame budget: a 1500-byte MTU less the 40 bytes stock always reserves.
const BUDGET: usize = 1460;
/// First fixture timestamp; frame N is stamped N seconds later.
pub const BASE_TIME: u64 = 1_700_000_000;
/// Every fixture state's creator.
pub const CREATORID: [u8; 4] = [0x0a, 0x0b, 0x0c, 0x0d];
/// The sender's pf ruleset checksum in every FreeBSD fixture header.
pub const PFCKSUM: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
pub const SRC_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const SRC_V6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
/// The tag every 1500-format fixture state carries.
pub const TAGNAME: &str = "web-in";
/// Addresses of the IPv6 fixture state.
pub const STATE_V6_SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);
pub const STATE_V6_DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x20);
pub const STATE_V4_SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
pub const STATE_V4_DST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);

const AF_INET: u8 = 2;
const AF_INET6: u8 = 28;
const OPENBSD_AF_INET6: u8 = 24;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ESP: u8 = 50;
const TCPS_ESTABLISHED: u8 = 4;
const PFUDPS_MULTIPLE: u8 = 2;
const PFTM_TCP_ESTABLISHED: u8 = 2;
const PFTM_UDP_MULTIPLE: u8 = 8;
const PF_IN: u8 = 1;
const PF_OUT: u8 = 2;
const PF_ROUTETO: u8 = 2;
/// The TTL of the badttl fixture (a host's default, not PFSYNC_DFLTTL).
const LOW_TTL: u8 = 64;
/// Not an action in any dialect (FreeBSD's ACT_MAX is 17, OpenBSD's 16).
const UNKNOWN_ACTION: u8 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SynthKind {
    /// Every kind below, valid ones first, then the malformed ones.
    All,
    /// Every valid kind (FreeBSD and OpenBSD), no malformed frames.
    Valid,
    /// INS in 1301, 1400 and 1500, IPv4 and IPv6 states.
    Ins,
    /// UPD in 1301, 1400 and 1500.
    Upd,
    UpdC,
    DelC,
    InsAck,
    /// UPD_REQ for one state.
    UpdReq,
    /// UPD_REQ with id 0 / creatorid 0: a bulk update request.
    BulkReq,
    /// BUS START and BUS END.
    Bus,
    /// CLR for all interfaces and for one.
    Clr,
    Tdb,
    /// A frame holding only EOF.
    Eof,
    /// An OpenBSD v6 frame (INS, UPD_C, DEL_C, TDB, and an unknown action it skips).
    Openbsd,
    /// One frame per error kind, plus a non-pfsync IP packet.
    Malformed,
}

/// Fixture state `n` as IPv4/TCP or IPv6/UDP.
pub fn state(n: u8, v6: bool) -> StateRecord {
    let peer = |seq: u32, st: u8| Peer {
        scrub: Scrub {
            pfss_flags: 0x0001,
            pfss_ttl: 64,
            scrub_flag: 1,
            pfss_ts_mod: 0x1000 + seq,
        },
        seqlo: seq,
        seqhi: seq + 65_535,
        seqdiff: 7,
        max_win: 65_535,
        mss: 1460,
        state: st,
        wscale: 0x87,
    };
    let (af, proto, st, timeout, key) = if v6 {
        (
            AF_INET6,
            IPPROTO_UDP,
            PFUDPS_MULTIPLE,
            PFTM_UDP_MULTIPLE,
            StateKey {
                addr: [STATE_V6_SRC.octets(), STATE_V6_DST.octets()],
                port: [53_000u16.to_be_bytes(), 53u16.to_be_bytes()],
            },
        )
    } else {
        let mut a = [[0u8; 16]; 2];
        a[0][..4].copy_from_slice(&STATE_V4_SRC.octets());
        a[1][..4].copy_from_slice(&STATE_V4_DST.octets());
        (
            AF_INET,
            IPPROTO_TCP,
            TCPS_ESTABLISHED,
            PFTM_TCP_ESTABLISHED,
            StateKey {
                addr: a,
                port: [51_000u16.to_be_bytes(), 443u16.to_be_bytes()],
            },
        )
    };
    StateRecord {
        id: state_id(n),
        ifname: name("em0"),
        key: [key; 2],
        src: peer(1_000_000, st),
        dst: peer(2_000_000, st),
        rt_addr: key.addr[1],
        rule: 4,
        creation: 60,
        expire: 86_400,
        packets: [10, 12],
        bytes: [1000, 2000],
        wire_af: af,
        stack_af: af,
        wire_proto: proto,
        stack_proto: proto,
        direction: PF_OUT,
        log: 0x01,
        state_flags: StateFlags::ALLOWOPTS,
        timeout,
        sync_flags: SyncFlags::SRCNODE,
        qid: 1,
        pqid: 2,
        dnpipe: 3,
        dnrpipe: 4,
        rtableid: 0,
        min_ttl: 5,
        set_tos: 0x10,
        max_mss: 1400,
        set_prio: [1, 2],
        rt: PF_ROUTETO,
        rt_af: af,
        rt_ifname: name("em2"),
        orig_ifname: name("em1"),
        tagname: TagName::new(TAGNAME).unwrap_or(TagName::EMPTY),
        ..StateRecord::default()
    }
}

/// Fixture state id `n`: 0x0123456789abcd00 + n.
pub fn state_id(n: u8) -> StateId {
    StateId {
        id: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, n],
        creatorid: CREATORID,
    }
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap_or(IfName::EMPTY)
}

fn upd_c(n: u8) -> UpdC {
    let s = state(n, false);
    UpdC {
        id: s.id.id,
        src: s.src,
        dst: s.dst,
        creatorid: s.id.creatorid,
        expire: 0,
        timeout: s.timeout,
        state_flags: 0,
    }
}

fn tdb() -> Tdb {
    // sockaddr_in: sa_len 16, AF_INET, port 0, 198.51.100.7
    let mut dst = [0u8; 28];
    dst[..8].copy_from_slice(&[16, AF_INET, 0, 0, 198, 51, 100, 7]);
    Tdb {
        spi: [0x00, 0x00, 0x10, 0x01],
        dst,
        rpl: 42,
        cur_bytes: 123_456,
        sproto: IPPROTO_ESP,
        rdomain: 0,
    }
}

fn openbsd_state(n: u8) -> OpenBsdState {
    let fb = state(n, true);
    let key = OpenBsdStateKey {
        addr: fb.key[0].addr,
        port: fb.key[0].port,
        rdomain: 0,
        af: OPENBSD_AF_INET6,
    };
    OpenBsdState {
        id: fb.id,
        ifname: fb.ifname,
        key: [key; 2],
        src: fb.src,
        dst: fb.dst,
        rt_addr: [0; 16],
        rule: fb.rule,
        anchor: fb.anchor,
        nat_rule: fb.nat_rule,
        creation: fb.creation,
        expire: fb.expire,
        packets: fb.packets,
        bytes: fb.bytes,
        rtableid: [0, 0],
        max_mss: fb.max_mss,
        af: OPENBSD_AF_INET6,
        proto: fb.wire_proto,
        direction: PF_IN,
        log: 0,
        rt: 0,
        timeout: fb.timeout,
        sync_flags: SyncFlags::empty(),
        min_ttl: 0,
        set_tos: 0,
        state_flags: fb.state_flags,
        set_prio: [0, 0],
    }
}

/// A FreeBSD frame filled by `fill`, finished with EOF.
fn freebsd<F: FnOnce(&mut FrameBuilder<'_>) -> Result<(), String>>(
    fill: F,
) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; BUDGET];
    let mut b = FrameBuilder::new(&mut buf, BUDGET).map_err(|e| format!("builder: {e:?}"))?;
    fill(&mut b)?;
    let len = b.finish(PFCKSUM, true);
    buf.truncate(len);
    Ok(buf)
}

fn full<T>(r: Result<(), T>) -> Result<(), String> {
    r.map_err(|_| "fixture does not fit in one frame".to_string())
}

fn ins_frames() -> Result<Vec<Vec<u8>>, String> {
    Ok(vec![
        freebsd(|b| full(b.push_ins(MsgVersion::V1301, &state(1, false))))?,
        freebsd(|b| {
            full(b.push_ins(MsgVersion::V1400, &state(2, false)))?;
            full(b.push_ins(MsgVersion::V1400, &state(3, true)))
        })?,
        freebsd(|b| {
            full(b.push_ins(MsgVersion::V1500, &state(4, false)))?;
            full(b.push_ins(MsgVersion::V1500, &state(5, true)))
        })?,
    ])
}

fn upd_frames() -> Result<Vec<Vec<u8>>, String> {
    Ok(vec![
        freebsd(|b| full(b.push_upd(MsgVersion::V1301, &state(6, false))))?,
        freebsd(|b| full(b.push_upd(MsgVersion::V1400, &state(7, true))))?,
        freebsd(|b| full(b.push_upd(MsgVersion::V1500, &state(8, true))))?,
    ])
}

fn kind_frames(kind: SynthKind) -> Result<Vec<Vec<u8>>, String> {
    match kind {
        SynthKind::All => {
            let mut all = kind_frames(SynthKind::Valid)?;
            all.extend(kind_frames(SynthKind::Malformed)?);
            Ok(all)
        }
        SynthKind::Valid => {
            let mut all = Vec::new();
            for k in [
                SynthKind::Ins,
                SynthKind::Upd,
                SynthKind::UpdC,
                SynthKind::DelC,
                SynthKind::InsAck,
                SynthKind::UpdReq,
                SynthKind::BulkReq,
                SynthKind::Bus,
                SynthKind::Clr,
                SynthKind::Tdb,
                SynthKind::Eof,
                SynthKind::Openbsd,
            ] {
                all.extend(kind_frames(k)?);
            }
            Ok(all)
        }
        SynthKind::Ins => ins_frames(),
        SynthKind::Upd => upd_frames(),
        SynthKind::UpdC => Ok(vec![freebsd(|b| {
            full(b.push_upd_c(&upd_c(9)))?;
            full(b.push_upd_c(&upd_c(10)))
        })?]),
        SynthKind::DelC => Ok(vec![freebsd(|b| {
            for n in 11..14 {
                full(b.push_del_c(&DelC { state: state_id(n) }))?;
            }
            Ok(())
        })?]),
        SynthKind::InsAck => Ok(vec![freebsd(|b| {
            full(b.push_ins_ack(&InsAck {
                state: state_id(14),
            }))
        })?]),
        SynthKind::UpdReq => Ok(vec![freebsd(|b| {
            full(b.push_upd_req(&UpdReq {
                state: state_id(15),
            }))
        })?]),
        SynthKind::BulkReq => Ok(vec![freebsd(|b| full(b.push_upd_req(&UpdReq::BULK)))?]),
        SynthKind::Bus => Ok(vec![
            freebsd(|b| {
                full(b.push_bus(&Bus {
                    creatorid: CREATORID,
                    endtime: 0,
                    status: BusStatus::Start,
                }))
            })?,
            freebsd(|b| {
                full(b.push_bus(&Bus {
                    creatorid: CREATORID,
                    endtime: 5,
                    status: BusStatus::End,
                }))
            })?,
        ]),
        SynthKind::Clr => Ok(vec![freebsd(|b| {
            full(b.push_clr(&Clr {
                ifname: IfName::EMPTY,
                creatorid: CREATORID,
            }))?;
            b.close_section();
            full(b.push_clr(&Clr {
                ifname: name("em0"),
                creatorid: CREATORID,
            }))
        })?]),
        SynthKind::Tdb => Ok(vec![freebsd(|b| {
            let t = tdb();
            full(b.push_with(Action::Tdb as u8, Tdb::LEN, |dst| {
                let _ = t.emit(dst);
            }))
        })?]),
        SynthKind::Eof => Ok(vec![freebsd(|_| Ok(()))?]),
        SynthKind::Openbsd => Ok(vec![openbsd_frame()?]),
        SynthKind::Malformed => malformed_frames(),
    }
}

/// OpenBSD sends no EOF and states in its own 264-byte layout.
fn openbsd_frame() -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; BUDGET];
    let mut b =
        FrameBuilder::new_openbsd(&mut buf, BUDGET).map_err(|e| format!("builder: {e:?}"))?;
    let s = openbsd_state(16);
    full(b.push_with(13, OpenBsdState::LEN, |dst| {
        let _ = s.emit(dst);
    }))?;
    let mut u = upd_c(17);
    u.state_flags = 0x08;
    full(b.push_upd_c(&u))?;
    full(b.push_del_c(&DelC {
        state: state_id(18),
    }))?;
    let t = tdb();
    full(b.push_with(15, Tdb::OPENBSD_LEN, |dst| {
        let _ = t.emit_openbsd(dst);
    }))?;
    // A future action with 8-byte records: OpenBSD steps over it.
    full(b.push_with(UNKNOWN_ACTION, 8, |dst| dst.fill(0x5a)))?;
    let len = b.finish([0; 16], false);
    buf.truncate(len);
    Ok(buf)
}

/// Offset of the `n`th subheader (0-based) of a FreeBSD frame built here.
fn subheader_at(frame: &[u8], n: usize) -> Option<usize> {
    let mut at = 20usize;
    for _ in 0..n {
        let action = *frame.get(at)?;
        let count = usize::from(u16::from_be_bytes([
            *frame.get(at + 2)?,
            *frame.get(at + 3)?,
        ]));
        let size = match Action::from_u8(action)? {
            Action::Clr => Clr::LEN,
            Action::InsAck => InsAck::LEN,
            Action::DelC => DelC::LEN,
            Action::UpdReq => UpdReq::LEN,
            Action::UpdC => UpdC::LEN,
            Action::Bus => Bus::LEN,
            Action::Tdb => Tdb::LEN,
            Action::Ins1301 | Action::Upd1301 => MsgVersion::V1301.state_len(),
            Action::Ins1400 | Action::Upd1400 => MsgVersion::V1400.state_len(),
            Action::Ins1500 | Action::Upd1500 => MsgVersion::V1500.state_len(),
            _ => 0,
        };
        at += Subheader::LEN + count * size;
    }
    Some(at)
}

fn patch(frame: &mut [u8], at: Option<usize>, bytes: &[u8]) -> Result<(), String> {
    let at = at.ok_or("fixture layout changed")?;
    frame
        .get_mut(at..at + bytes.len())
        .ok_or("fixture layout changed")?
        .copy_from_slice(bytes);
    Ok(())
}

/// One frame per failure, in this order (the tests rely on it):
/// hdrops, badver, badlen (header len), badact (unknown action after a good
/// INS_ACK), badact (DEL), badlen (count too large), badval (INS_1500
/// timeout; the first state stands), badval (UPD_C peer state), badval
/// (ifname without NUL), badlen (EOF not at the end). `packets` adds a valid
/// frame sent with TTL 64 (badttl) and a UDP packet.
fn malformed_frames() -> Result<Vec<Vec<u8>>, String> {
    let two_sections = || {
        freebsd(|b| {
            full(b.push_ins_ack(&InsAck {
                state: state_id(20),
            }))?;
            full(b.push_del_c(&DelC {
                state: state_id(21),
            }))
        })
    };
    let mut out = Vec::new();

    let eof_only = freebsd(|_| Ok(()))?;
    out.push(eof_only.get(..12).unwrap_or(&[]).to_vec());

    let mut badver = eof_only.clone();
    patch(&mut badver, Some(0), &[4])?;
    out.push(badver);

    let mut long = eof_only.clone();
    let claimed = u16::try_from(long.len() + 100).unwrap_or(u16::MAX);
    patch(&mut long, Some(2), &claimed.to_be_bytes())?;
    out.push(long);

    let mut unknown = two_sections()?;
    let second = subheader_at(&unknown, 1);
    patch(&mut unknown, second, &[UNKNOWN_ACTION])?;
    out.push(unknown);

    let mut del = two_sections()?;
    let second = subheader_at(&del, 1);
    patch(&mut del, second, &[Action::Del as u8])?;
    out.push(del);

    let mut count = two_sections()?;
    let second = subheader_at(&count, 1).map(|a| a + 2);
    patch(&mut count, second, &50u16.to_be_bytes())?;
    out.push(count);

    out.push(freebsd(|b| {
        full(b.push_ins(MsgVersion::V1500, &state(22, false)))?;
        let mut bad = state(23, true);
        bad.timeout = 30;
        full(b.push_ins(MsgVersion::V1500, &bad))
    })?);

    out.push(freebsd(|b| {
        let mut u = upd_c(24);
        u.src.state = 13;
        full(b.push_upd_c(&u))
    })?);

    let mut noname = freebsd(|b| full(b.push_ins(MsgVersion::V1400, &state(25, false))))?;
    let record = subheader_at(&noname, 0).map(|a| a + Subheader::LEN + 8);
    patch(&mut noname, record, &[b'x'; 16])?;
    out.push(noname);

    let mut trailing = freebsd(|b| {
        full(b.push_del_c(&DelC {
            state: state_id(26),
        }))
    })?;
    trailing.extend_from_slice(&[0; 4]);
    let len = u16::try_from(trailing.len()).unwrap_or(u16::MAX);
    patch(&mut trailing, Some(2), &len.to_be_bytes())?;
    out.push(trailing);

    Ok(out)
}

/// The fixture packets of `kind` as LINKTYPE_RAW IP packets, one second apart.
pub fn packets(kind: SynthKind, ipv6: bool) -> Result<Vec<Packet>, String> {
    let mut frames: Vec<(Vec<u8>, u8)> = kind_frames(kind)?
        .into_iter()
        .map(|f| (f, ip::PFSYNC_TTL))
        .collect();
    if matches!(kind, SynthKind::Malformed | SynthKind::All) {
        // A good frame that receivers drop for its TTL alone.
        let frame = freebsd(|b| {
            full(b.push_del_c(&DelC {
                state: state_id(27),
            }))
        })?;
        frames.push((frame, LOW_TTL));
    }
    let mut packets = Vec::with_capacity(frames.len() + 1);
    for (i, (frame, ttl)) in frames.iter().enumerate() {
        let ident = u16::try_from(i + 1).unwrap_or(u16::MAX);
        let data = if ipv6 {
            ip::build_v6(SRC_V6, ip::PFSYNC_GROUP_V6, *ttl, frame)
        } else {
            ip::build_v4(SRC_V4, ip::PFSYNC_GROUP_V4, *ttl, ident, frame)
        };
        packets.push(raw_packet(packets.len(), data));
    }
    if matches!(kind, SynthKind::Malformed | SynthKind::All) {
        // Not pfsync at all: must be counted as skipped, not decoded.
        let mut udp = ip::build_v4(SRC_V4, ip::PFSYNC_GROUP_V4, 1, 0, &[0; 8]);
        if let Some(proto) = udp.get_mut(9) {
            *proto = IPPROTO_UDP;
        }
        if let Some(sum) = udp.get_mut(10..12) {
            sum.fill(0);
        }
        let sum = ip::checksum(udp.get(..20).unwrap_or(&[]));
        if let Some(field) = udp.get_mut(10..12) {
            field.copy_from_slice(&sum.to_be_bytes());
        }
        packets.push(raw_packet(packets.len(), udp));
    }
    Ok(packets)
}

fn raw_packet(index: usize, data: Vec<u8>) -> Packet {
    Packet {
        ts: Timestamp {
            secs: BASE_TIME + index as u64,
            nanos: 0,
        },
        linktype: LINKTYPE_RAW,
        orig_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
        data,
    }
}
