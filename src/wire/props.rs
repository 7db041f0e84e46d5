//! Property tests: emit/parse identity for every record type and format, and
//! no panic on arbitrary or mutated input.

use super::layout;
use super::samples;
use super::*;
use crate::wire::{StateFlags, SyncFlags};
use proptest::prelude::*;

fn ifname() -> impl Strategy<Value = IfName> {
    proptest::collection::vec(1u8..=255, 0..16)
        .prop_map(|b| IfName::new(core::str::from_utf8(&b).unwrap_or("x")).unwrap_or(IfName::EMPTY))
}

fn tagname() -> impl Strategy<Value = TagName> {
    "[a-z0-9_-]{0,63}".prop_map(|s| TagName::new(&s).unwrap_or(TagName::EMPTY))
}

fn peer() -> impl Strategy<Value = Peer> {
    (
        any::<(u16, u8, u8, u32)>(),
        any::<(u32, u32, u32, u16, u16)>(),
        0u8..=12,
        any::<u8>(),
    )
        .prop_map(
            |(
                (pfss_flags, pfss_ttl, scrub_flag, pfss_ts_mod),
                (seqlo, seqhi, seqdiff, max_win, mss),
                state,
                wscale,
            )| Peer {
                scrub: Scrub {
                    pfss_flags,
                    pfss_ttl,
                    scrub_flag,
                    pfss_ts_mod,
                },
                seqlo,
                seqhi,
                seqdiff,
                max_win,
                mss,
                state,
                wscale,
            },
        )
}

fn key() -> impl Strategy<Value = StateKey> {
    any::<([[u8; 16]; 2], [[u8; 2]; 2])>().prop_map(|(addr, port)| StateKey { addr, port })
}

fn version() -> impl Strategy<Value = MsgVersion> {
    prop_oneof![
        Just(MsgVersion::V1301),
        Just(MsgVersion::V1400),
        Just(MsgVersion::V1500)
    ]
}

/// Any state the format `v` can carry that passes the INS checks.
fn state(v: MsgVersion) -> impl Strategy<Value = StateRecord> {
    (
        (
            any::<[u8; 8]>(),
            any::<[u8; 4]>(),
            ifname(),
            key(),
            key(),
            peer(),
            peer(),
        ),
        (
            any::<[u8; 16]>(),
            any::<(u32, u32, u32, u32, u32)>(),
            any::<[u64; 4]>(),
        ),
        (
            prop_oneof![Just(2u8), Just(28u8)],
            any::<(u8, u8, u8)>(),
            0u8..=2,
            any::<(u8, u16)>(),
            0u8..25,
            any::<u8>(),
        ),
        (
            any::<(u16, u16, u16, u16, i32)>(),
            any::<(u8, u8, u16, [u8; 2], u8)>(),
            ifname(),
            ifname(),
            tagname(),
        ),
    )
        .prop_map(move |(a, b, c, d)| {
            let (id, mut creatorid, ifname, k0, k1, src, dst) = a;
            if creatorid == [0; 4] {
                creatorid = [0, 0, 0, 1];
            }
            let (rt_addr, (rule, anchor, nat_rule, creation, expire), counters) = b;
            let (
                wire_af,
                (stack_af, stack_proto, rt_af),
                direction,
                (log, state_flags),
                timeout,
                wire_proto,
            ) = c;
            let (
                (qid, pqid, dnpipe, dnrpipe, rtableid),
                (min_ttl, set_tos, max_mss, set_prio, rt),
                rt_ifname,
                orig_ifname,
                tagname,
            ) = d;
            let mut s = StateRecord {
                id: StateId { id, creatorid },
                ifname,
                key: [k0, k1],
                src,
                dst,
                rt_addr,
                rule,
                anchor,
                nat_rule,
                creation,
                expire,
                packets: [counters[0], counters[1]],
                bytes: [counters[2], counters[3]],
                wire_af,
                stack_af,
                wire_proto,
                stack_proto,
                direction,
                log,
                state_flags: StateFlags::from_bits_retain(state_flags),
                timeout,
                sync_flags: SyncFlags::from_bits_retain(log ^ 0x5a),
                qid,
                pqid,
                dnpipe,
                dnrpipe,
                rtableid,
                min_ttl,
                set_tos,
                max_mss,
                set_prio,
                rt,
                rt_af,
                rt_ifname,
                orig_ifname,
                tagname,
                rdomain: [0; 2],
                stack_rtableid: -1,
            };
            normalize(&mut s, v);
            s
        })
}

/// Resets what `v` does not carry to what parsing it yields.
fn normalize(s: &mut StateRecord, v: MsgVersion) {
    match v {
        MsgVersion::V1301 | MsgVersion::V1400 => {
            s.stack_af = s.wire_af;
            s.rt_af = s.wire_af;
            s.stack_proto = s.wire_proto;
            if v == MsgVersion::V1301 {
                s.state_flags = StateFlags::from_bits_retain(s.state_flags.bits() & 0xff);
                s.reset_members_absent_from_1301();
            } else {
                s.reset_members_absent_from_1400();
            }
        }
        MsgVersion::V1500 => s.sync_flags = SyncFlags::empty(),
    }
}

/// Byte ranges a codec writes as zero whatever was received.
fn zeroed_ranges(name: &str) -> Vec<core::ops::Range<usize>> {
    let l = layout::ALL
        .iter()
        .find(|l| l.name == name && l.headers != layout::HeaderSet::OpenBsd)
        .expect("layout");
    let pad = peer::field::PAD;
    let mut r: Vec<_> = l
        .fields
        .iter()
        .filter(|f| matches!(f.c_field, "_pad" | "__spare" | "spare" | "updates"))
        .map(|f| f.off..f.off + f.len)
        .collect();
    // The peers' own padding.
    r.extend(
        l.fields
            .iter()
            .filter(|f| matches!(f.c_field, "src" | "dst"))
            .map(|f| f.off + pad.off..f.off + pad.end()),
    );
    r
}

fn name_ranges(name: &str) -> Vec<core::ops::Range<usize>> {
    let l = layout::ALL
        .iter()
        .find(|l| l.name == name && l.headers != layout::HeaderSet::OpenBsd)
        .expect("layout");
    l.fields
        .iter()
        .filter(|f| f.c_field.ends_with("name"))
        .map(|f| f.off..f.off + f.len)
        .collect()
}

fn masked(bytes: &[u8], zero: &[core::ops::Range<usize>]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for r in zero {
        b[r.clone()].fill(0);
    }
    b
}

proptest! {
    #[test]
    fn state_emit_parse_emit((v, s) in version().prop_flat_map(|v| (Just(v), state(v)))) {
        let mut a = vec![0u8; v.state_len()];
        prop_assert_eq!(s.emit(v, &mut a), Ok(v.state_len()));
        let back = StateRecord::parse(&a, v);
        prop_assert_eq!(back, Ok(s));
        let mut b = vec![0u8; v.state_len()];
        s.emit(v, &mut b).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn state_parse_of_edited_bytes_reencodes_them(
        v in version(),
        n in any::<u8>(),
        edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..24),
    ) {
        let mut bytes = vec![0u8; v.state_len()];
        samples::state(v, n).emit(v, &mut bytes).unwrap();
        for (at, b) in edits {
            let i = usize::from(at) % bytes.len();
            bytes[i] = b;
        }
        let name = match v {
            MsgVersion::V1301 => "pfsync_state_1301",
            MsgVersion::V1400 => "pfsync_state_1400",
            MsgVersion::V1500 => "pfsync_state_1500",
        };
        let input = &bytes[..v.state_len()];
        for checks in [StateChecks::Insert, StateChecks::Update] {
            if let Ok(s) = StateRecord::decode(input, v, checks) {
                let mut out = vec![0u8; v.state_len()];
                s.emit(v, &mut out).unwrap();
                // Bytes after a name's NUL are not kept, so compare values here
                // and bytes outside names and padding.
                let again = StateRecord::decode(&out, v, checks).unwrap();
                prop_assert_eq!(again, s);
                let mut skip = zeroed_ranges(name);
                skip.extend(name_ranges(name));
                prop_assert_eq!(masked(&out, &skip), masked(input, &skip));
            }
        }
    }

    #[test]
    fn upd_c_round_trip(src in peer(), dst in peer(), id in any::<[u8; 8]>(), c in any::<[u8; 4]>(), expire in any::<u32>(), timeout in 0u8..25, flags in any::<u8>()) {
        let u = UpdC { id, src, dst, creatorid: c, expire, timeout, state_flags: 0 };
        let mut a = [0u8; UpdC::LEN];
        u.emit(&mut a).unwrap();
        prop_assert_eq!(UpdC::parse(&a), Ok(u));
        let o = UpdC { state_flags: flags, timeout: timeout % 20, ..u };
        o.emit_openbsd(&mut a).unwrap();
        prop_assert_eq!(UpdC::decode_openbsd(&a), Ok(o));
    }

    #[test]
    fn small_records_round_trip(raw in any::<[u8; 64]>()) {
        // Every small record: parse arbitrary bytes, re-emit, compare outside padding.
        macro_rules! check {
            ($t:ty, $name:expr, $parse:expr, $emit:expr) => {{
                let len = <$t>::LEN;
                if let Ok(v) = $parse(&raw[..len]) {
                    let mut out = vec![0u8; len];
                    prop_assert_eq!($emit(&v, &mut out[..]), Ok(len));
                    let mut skip = zeroed_ranges($name);
                    skip.extend(name_ranges($name));
                    prop_assert_eq!(masked(&out, &skip), masked(&raw[..len], &skip));
                }
            }};
        }
        check!(Header, "pfsync_header", Header::parse, Header::emit);
        check!(Clr, "pfsync_clr", Clr::parse, Clr::emit);
        check!(InsAck, "pfsync_ins_ack", InsAck::parse, InsAck::emit);
        check!(UpdReq, "pfsync_upd_req", UpdReq::parse, UpdReq::emit);
        check!(DelC, "pfsync_del_c", DelC::parse, DelC::emit);
        check!(Bus, "pfsync_bus", Bus::parse, Bus::emit);
        check!(Tdb, "pfsync_tdb", Tdb::parse, Tdb::emit);
        if let Ok(t) = Tdb::parse_openbsd(&raw) {
            let mut out = [0u8; Tdb::OPENBSD_LEN];
            t.emit_openbsd(&mut out).unwrap();
            prop_assert_eq!(&out[..49], &raw[..49]);
            prop_assert_eq!(&out[50..], &raw[50..52]);
        }
    }

    #[test]
    fn openbsd_state_round_trip(n in any::<u8>(), rdomain in any::<[u16; 2]>(), rtableid in any::<[i32; 2]>()) {
        let mut s = samples::openbsd_state(n);
        s.key[0].rdomain = rdomain[0];
        s.key[1].rdomain = rdomain[1];
        s.rtableid = rtableid;
        let mut a = [0u8; OpenBsdState::LEN];
        s.emit(&mut a).unwrap();
        prop_assert_eq!(OpenBsdState::parse(&a), Ok(s));
    }

    #[test]
    fn reader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        walk_all_dialects(&bytes);
    }

    #[test]
    fn reader_never_panics_on_mutated_frames(
        openbsd in any::<bool>(),
        edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..16),
        cut in any::<u16>(),
    ) {
        let mut buf = mutated_sample_frame(openbsd, &edits);
        buf.truncate(usize::from(cut) % (buf.len() + 1));
        walk_all_dialects(&buf);
    }

    #[test]
    fn builder_then_reader_returns_what_was_pushed(items in proptest::collection::vec((0u8..6, any::<u8>()), 0..40)) {
        let mut buf = vec![0u8; 9000];
        let mut b = FrameBuilder::new(&mut buf, 9000).unwrap();
        let mut want = Vec::new();
        for (kind, n) in items {
            let (res, msg) = match kind {
                0 => { let v = MsgVersion::V1400; let s = samples::state(v, n); (b.push_ins(v, &s), Message::Ins { version: v, state: s }) }
                1 => { let v = MsgVersion::V1500; let s = samples::state(v, n); (b.push_upd(v, &s), Message::Upd { version: v, state: s }) }
                2 => { let u = samples::upd_c(n); (b.push_upd_c(&u), Message::UpdC(u)) }
                3 => { let d = DelC { state: samples::state_id(n) }; (b.push_del_c(&d), Message::DelC(d)) }
                4 => { let d = InsAck { state: samples::state_id(n) }; (b.push_ins_ack(&d), Message::InsAck(d)) }
                _ => { let d = UpdReq { state: samples::state_id(n) }; (b.push_upd_req(&d), Message::UpdReq(d)) }
            };
            if res.is_ok() { want.push(msg); } else { break; }
        }
        let len = b.finish([0; 16], true);
        prop_assert!(len <= 9000);
        let got: Vec<Message> = FrameReader::new(&buf[..len]).unwrap()
            .filter_map(|e| match e.expect("valid") { Event::Message(m) => Some(m), _ => None })
            .collect();
        prop_assert_eq!(got, want);
    }
}

/// A valid sample frame of the dialect with each `(position, byte)` edit
/// applied, positions taken modulo the frame's length.
fn mutated_sample_frame(openbsd: bool, edits: &[(u16, u8)]) -> Vec<u8> {
    let mut buf = vec![0u8; 65535];
    let len = if openbsd {
        samples::openbsd_frame(&mut buf, 2)
    } else {
        samples::freebsd_frame(&mut buf, 2)
    };
    buf.truncate(len);
    for &(at, byte) in edits {
        let i = usize::from(at) % len;
        buf[i] = byte;
    }
    buf
}

fn walk_all_dialects(bytes: &[u8]) {
    for d in [Dialect::FreeBsd14, Dialect::FreeBsd15, Dialect::OpenBsd] {
        if let Ok(r) = FrameReader::with_dialect(bytes, d) {
            let mut after_error = false;
            let mut n = 0usize;
            for e in r {
                assert!(!after_error, "events after an error");
                after_error = e.is_err();
                n += 1;
                assert!(n <= bytes.len() / 4 + 2, "walk does not terminate");
            }
        }
    }
}

proptest! {
    #[test]
    fn view_checks_agree_with_decode(
        v in version(),
        n in any::<u8>(),
        edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..8),
        insert in any::<bool>(),
    ) {
        let mut bytes = vec![0u8; v.state_len()];
        samples::state(v, n).emit(v, &mut bytes).unwrap();
        for (at, b) in edits {
            let i = usize::from(at) % bytes.len();
            bytes[i] = b;
        }
        let checks = if insert { StateChecks::Insert } else { StateChecks::Update };
        let decoded = StateRecord::decode(&bytes, v, checks);
        let view = StateView::new_checked(&bytes, v, checks);
        prop_assert_eq!(view.map(|w| w.to_record()), decoded);
        if let Ok(w) = view {
            let s = decoded.unwrap();
            prop_assert_eq!(w.state_id(), s.id);
            prop_assert_eq!(w.src(), s.src);
            prop_assert_eq!(w.dst(), s.dst);
            prop_assert_eq!(w.timeout(), s.timeout);
            prop_assert_eq!(w.expire(), s.expire);
        }
    }
}

proptest! {
    #[test]
    fn owned_and_view_walks_agree_on_mutated_frames(
        openbsd in any::<bool>(),
        edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..12),
    ) {
        let buf = mutated_sample_frame(openbsd, &edits);
        for d in [Dialect::FreeBsd14, Dialect::FreeBsd15, Dialect::OpenBsd] {
            if let Err(e) = super::agreement::walks_agree(&buf, d) {
                panic!("{e}");
            }
        }
    }
}
