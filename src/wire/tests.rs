//! Behaviour tests for the codec and the frame walk. Offsets are checked
//! against the real headers by the layout oracle stage, not here.

use super::samples;
use super::*;
use crate::wire::StateFlags;

const ALL_VERSIONS: [MsgVersion; 3] = [MsgVersion::V1301, MsgVersion::V1400, MsgVersion::V1500];

fn events(frame: &[u8], dialect: Dialect) -> Vec<Result<Event>> {
    FrameReader::with_dialect(frame, dialect)
        .expect("header accepted")
        .collect()
}

#[test]
fn header_round_trip_and_refusals() {
    let h = Header {
        version: 5,
        len: 0x1234,
        pfcksum: core::array::from_fn(|i| i as u8 + 1),
    };
    let mut buf = [0xffu8; 20];
    assert_eq!(h.emit(&mut buf), Ok(20));
    assert_eq!(buf[1], 0, "padding cleared");
    assert_eq!(&buf[2..4], &[0x12, 0x34], "len is big-endian");
    assert_eq!(Header::parse(&buf), Ok(h));
    assert_eq!(Header::parse(&buf[..19]), Err(Error::HdrOps));
    assert_eq!(h.emit(&mut [0u8; 19]), Err(Error::BadLen));
}

#[test]
fn state_round_trips_in_every_version() {
    for v in ALL_VERSIONS {
        let s = samples::state(v, 9);
        let mut buf = vec![0u8; v.state_len() + 3];
        assert_eq!(s.emit(v, &mut buf), Ok(v.state_len()));
        let back = StateRecord::parse(&buf, v).expect("valid sample");
        assert_eq!(back, s, "{v:?}");
        let mut again = vec![0u8; v.state_len()];
        back.emit(v, &mut again).unwrap();
        assert_eq!(again[..], buf[..v.state_len()], "{v:?} byte-identical");
        assert_eq!(
            StateRecord::parse(&buf[..v.state_len() - 1], v),
            Err(Error::BadLen)
        );
        assert_eq!(s.emit(v, &mut buf[..v.state_len() - 1]), Err(Error::BadLen));
    }
}

#[test]
fn counters_are_high_then_low_big_endian_halves() {
    let mut s = samples::state(MsgVersion::V1400, 1);
    s.packets[0] = 0x0102_0304_0506_0708;
    let mut buf = [0u8; 277];
    s.emit(MsgVersion::V1400, &mut buf).unwrap();
    let at = state_format::common_field::PACKETS0_HI.off;
    assert_eq!(&buf[at..at + 8], &[1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn v1301_carries_only_low_state_flags() {
    let mut s = samples::state(MsgVersion::V1301, 1);
    s.state_flags = StateFlags::from_bits_retain(0x1234);
    let mut buf = [0u8; 242];
    s.emit(MsgVersion::V1301, &mut buf).unwrap();
    let back = StateRecord::parse(&buf, MsgVersion::V1301).unwrap();
    assert_eq!(back.state_flags.bits(), 0x34);
}

#[test]
fn state_value_checks_name_the_failed_check() {
    let v = MsgVersion::V1500;
    let base = samples::state(v, 2);
    type Case = (fn(&mut StateRecord), Reject);
    let cases: [Case; 5] = [
        (|s| s.timeout = 25, Reject::Timeout),
        (|s| s.src.state = 13, Reject::PeerState),
        (|s| s.direction = 3, Reject::Direction),
        (|s| s.wire_af = 24, Reject::AddressFamily),
        (|s| s.id.creatorid = [0; 4], Reject::CreatorId),
    ];
    for (mutate, want) in cases {
        let mut s = base;
        mutate(&mut s);
        let mut buf = [0u8; 360];
        s.emit(v, &mut buf).unwrap();
        assert_eq!(StateRecord::decode(&buf, v, StateChecks::Insert), Err(want));
        assert_eq!(StateRecord::parse(&buf, v), Err(Error::BadVal));
    }
    // UPD checks only timeout and peer states (stock pfsync_in_upd).
    let mut s = base;
    s.direction = 3;
    let mut buf = [0u8; 360];
    s.emit(v, &mut buf).unwrap();
    assert!(StateRecord::decode(&buf, v, StateChecks::Update).is_ok());
}

#[test]
fn unterminated_names_are_refused() {
    let v = MsgVersion::V1500;
    let mut buf = [0u8; 360];
    samples::state(v, 1).emit(v, &mut buf).unwrap();
    for (field, want) in [
        (state_format::common_field::IFNAME.off..24, Reject::IfName),
        (
            state_format::v1500_field::RT_IFNAME.off..312,
            Reject::RtIfName,
        ),
        (
            state_format::v1500_field::ORIG_IFNAME.off..328,
            Reject::OrigIfName,
        ),
        (state_format::v1500_field::TAGNAME.off..296, Reject::TagName),
    ] {
        let mut b = buf;
        b[field].fill(b'x');
        assert_eq!(StateRecord::decode(&b, v, StateChecks::Update), Err(want));
    }
    let mut clr = [0u8; 20];
    samples::clr().emit(&mut clr).unwrap();
    clr[..16].fill(b'a');
    assert_eq!(Clr::parse(&clr), Err(Error::BadVal));
}

#[test]
fn small_records_round_trip() {
    let mut buf = [0u8; 84];
    let u = samples::upd_c(4);
    assert_eq!(u.emit(&mut buf), Ok(84));
    assert_eq!(UpdC::parse(&buf), Ok(u));
    let mut bad = u;
    bad.timeout = 30;
    bad.emit(&mut buf).unwrap();
    assert_eq!(UpdC::decode(&buf), Err(Reject::Timeout));

    let b = samples::bus(BusStatus::End);
    b.emit(&mut buf).unwrap();
    assert_eq!(Bus::parse(&buf), Ok(b));
    assert_eq!(buf[8], 2, "PFSYNC_BUS_END");

    let t = samples::tdb();
    t.emit(&mut buf).unwrap();
    assert_eq!(Tdb::parse(&buf), Ok(t));
    let big = Tdb { rpl: 1 << 40, ..t };
    assert_eq!(big.emit(&mut buf), Err(Error::BadVal));
    big.emit_openbsd(&mut buf).unwrap();
    assert_eq!(Tdb::parse_openbsd(&buf), Ok(big));

    let r = UpdReq::BULK;
    r.emit(&mut buf).unwrap();
    assert!(UpdReq::parse(&buf).unwrap().is_bulk_request());
    let d = DelC {
        state: samples::state_id(3),
    };
    d.emit(&mut buf).unwrap();
    assert_eq!(DelC::parse(&buf), Ok(d));
    assert!(!UpdReq::parse(&buf).unwrap().is_bulk_request());

    let o = samples::openbsd_state(5);
    let mut big_buf = [0u8; 264];
    o.emit(&mut big_buf).unwrap();
    assert_eq!(OpenBsdState::parse(&big_buf), Ok(o));
}

#[test]
fn reader_yields_every_message_of_a_sample_frame() {
    let mut buf = vec![0u8; 65535];
    let len = samples::freebsd_frame(&mut buf, 2);
    let frame = &buf[..len];
    let mut sections = Vec::new();
    let mut messages = Vec::new();
    for e in events(frame, Dialect::FreeBsd15) {
        match e.expect("valid frame") {
            Event::Section { action, count } => sections.push((action, count)),
            Event::Message(m) => messages.push(m),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        sections,
        vec![
            (1, 2),
            (13, 2),
            (15, 2),
            (2, 2),
            (3, 2),
            (14, 2),
            (16, 2),
            (4, 2),
            (7, 2),
            (5, 3),
            (0, 1),
            (10, 1),
            (10, 1),
            (11, 1),
            (12, 1)
        ]
    );
    assert_eq!(
        messages[0],
        Message::Ins {
            version: MsgVersion::V1301,
            state: samples::state(MsgVersion::V1301, 0)
        }
    );
    assert_eq!(
        messages[13],
        Message::Upd {
            version: MsgVersion::V1500,
            state: samples::state(MsgVersion::V1500, 1)
        }
    );
    assert!(messages.contains(&Message::UpdReq(UpdReq::BULK)));
    assert!(messages.contains(&Message::Tdb(samples::tdb())));
    // 2 each of 3 INS, INS_ACK, 3 UPD, UPD_C, DEL_C; 3 UPD_REQ; CLR; 2 BUS; TDB.
    assert_eq!(messages.len(), 2 * 9 + 3 + 1 + 2 + 1);
    assert_eq!(usize::from(Header::parse(frame).unwrap().len), len);
}

/// A header plus hand-written sections.
fn frame_of(sections: &[u8]) -> Vec<u8> {
    let mut f = vec![5, 0, 0, 0];
    f.extend_from_slice(&[0; 16]);
    f.extend_from_slice(sections);
    let len = f.len() as u16;
    f[2..4].copy_from_slice(&len.to_be_bytes());
    f
}

#[test]
fn frame_level_refusals() {
    assert_eq!(FrameReader::new(&[5; 19]).err(), Some(Error::HdrOps));
    let mut f = frame_of(&[]);
    f[0] = 6;
    assert_eq!(FrameReader::new(&f).err(), Some(Error::BadVer));
    assert!(FrameReader::new_openbsd(&f).is_ok());
    let mut f = frame_of(&[]);
    f[3] += 1;
    assert_eq!(FrameReader::new(&f).err(), Some(Error::BadLen));
    // A `len` shorter than the header just means no sections.
    let mut f = frame_of(&[]);
    f[3] = 3;
    assert_eq!(events(&f, Dialect::FreeBsd15), vec![]);
}

#[test]
fn section_level_refusals_stop_the_walk() {
    // Unknown action: BadAct, no iacts.
    assert_eq!(
        events(&frame_of(&[17, 0, 0, 1]), Dialect::FreeBsd15),
        vec![Err(Error::BadAct)]
    );
    // 15.x INS_1500 is unknown to a 14.x receiver.
    assert_eq!(
        events(&frame_of(&[15, 0, 0, 0]), Dialect::FreeBsd14),
        vec![Err(Error::BadAct)]
    );
    // DEL: counted in iacts, then BadAct; the DEL_C after it is never read.
    let mut s = vec![6, 0, 0, 1];
    s.extend_from_slice(&[7, 0, 0, 1]);
    s.extend_from_slice(&[1; 12]);
    assert_eq!(
        events(&frame_of(&s), Dialect::FreeBsd15),
        vec![
            Ok(Event::Section {
                action: 6,
                count: 1
            }),
            Err(Error::BadAct)
        ]
    );
    // Count beyond the end: BadLen after the section is counted.
    let mut s = vec![7, 0, 0, 2];
    s.extend_from_slice(&[1; 12]);
    assert_eq!(
        events(&frame_of(&s), Dialect::FreeBsd15),
        vec![
            Ok(Event::Section {
                action: 7,
                count: 2
            }),
            Err(Error::BadLen)
        ]
    );
}

#[test]
fn eof_must_end_the_packet() {
    let ok = frame_of(&[12, 0, 0, 1]);
    assert_eq!(
        events(&ok, Dialect::FreeBsd15),
        vec![Ok(Event::Section {
            action: 12,
            count: 1
        })]
    );
    // Same frame followed by bytes outside `len`: stock counts badlen.
    let mut trailing = ok.clone();
    trailing.extend_from_slice(&[0; 8]);
    assert_eq!(
        events(&trailing, Dialect::FreeBsd15),
        vec![
            Ok(Event::Section {
                action: 12,
                count: 1
            }),
            Err(Error::BadLen)
        ]
    );
    // No EOF at all is fine; bytes past `len` are ignored.
    let mut s = vec![7, 0, 0, 1];
    s.extend_from_slice(&[1; 12]);
    let mut f = frame_of(&s);
    f.extend_from_slice(&[0xee; 5]);
    let ev = events(&f, Dialect::FreeBsd15);
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e.is_ok()));
}

#[test]
fn bad_value_skips_only_that_message() {
    let v = MsgVersion::V1400;
    let mut buf = vec![0u8; 4096];
    let mut b = FrameBuilder::new(&mut buf, 4096).unwrap();
    let mut bad = samples::state(v, 1);
    bad.timeout = 25;
    b.push_ins(v, &samples::state(v, 0)).unwrap();
    b.push_ins(v, &bad).unwrap();
    b.push_ins(v, &samples::state(v, 2)).unwrap();
    let len = b.finish([0; 16], true);
    let ev = events(&buf[..len], Dialect::FreeBsd15);
    assert_eq!(ev.len(), 5);
    assert_eq!(
        ev[2],
        Ok(Event::Rejected {
            action: 13,
            index: 1,
            reason: Reject::Timeout
        })
    );
    assert!(matches!(ev[3], Ok(Event::Message(Message::Ins { .. }))));
}

#[test]
fn builder_reports_full_and_keeps_eof_and_trailer_room() {
    let v = MsgVersion::V1500;
    let mut buf = vec![0u8; 2000];
    let budget = 1500 - 40;
    let mut b = FrameBuilder::new(&mut buf, budget).unwrap();
    b.reserve_trailer(32).unwrap();
    let mut n = 0;
    while b.push_upd(v, &samples::state(v, n)).is_ok() {
        n += 1;
    }
    // 20 header + 4 subheader + n * 360 + 4 EOF + 32 trailer <= 1460.
    assert_eq!(n, 3);
    assert_eq!(b.push_upd(v, &samples::state(v, 9)), Err(Full));
    let small_fits = b.fits(Action::DelC as u8, DelC::LEN);
    let len = b.finish([1; 16], true);
    assert_eq!(len, 20 + 4 + 3 * 360 + 4);
    assert!(len + 32 <= budget);
    assert!(small_fits, "a DEL_C still fits after the states");
    assert_eq!(
        events(&buf[..len], Dialect::FreeBsd15).len(),
        1 + 3 + 1,
        "section, three states, EOF"
    );
    // No room for even a header and EOF.
    assert!(FrameBuilder::new(&mut [0u8; 23], 1000).is_err());
}

#[test]
fn openbsd_reader_uses_the_subheader_stride_and_skips_unknown() {
    let mut buf = vec![0u8; 65535];
    let len = samples::openbsd_frame(&mut buf, 2);
    let ev: Vec<Event> = events(&buf[..len], Dialect::OpenBsd)
        .into_iter()
        .map(|e| e.expect("valid"))
        .collect();
    assert!(ev.contains(&Event::Message(Message::OpenBsdIns(
        samples::openbsd_state(1)
    ))));
    assert!(ev.contains(&Event::Message(Message::OpenBsdUpd(
        samples::openbsd_state(0)
    ))));
    assert!(ev.contains(&Event::Skipped {
        action: 99,
        count: 1
    }));
    // The longer INS_ACK is decoded from its first 12 bytes.
    assert!(ev.contains(&Event::Message(Message::InsAck(InsAck {
        state: StateId {
            id: [7; 8],
            creatorid: [7; 4]
        }
    }))));
    let mut u = samples::upd_c(1);
    u.state_flags = 0x21;
    assert!(ev.contains(&Event::Message(Message::UpdC(u))));
    assert!(ev.contains(&Event::Message(Message::Tdb(samples::tdb()))));
    // A FreeBSD receiver drops OpenBSD frames outright.
    assert_eq!(FrameReader::new(&buf[..len]).err(), Some(Error::BadVer));
}

#[test]
fn openbsd_unknown_action_without_length_is_badact() {
    let mut f = frame_of(&[99, 0, 0, 1]);
    f[0] = 6;
    assert_eq!(events(&f, Dialect::OpenBsd), vec![Err(Error::BadAct)]);
}

#[test]
fn every_prefix_of_a_frame_is_handled_without_panic() {
    let mut buf = vec![0u8; 65535];
    let len = samples::freebsd_frame(&mut buf, 1);
    for cut in 0..len {
        let f = &buf[..cut];
        if let Ok(r) = FrameReader::new(f) {
            r.count();
        }
        if let Ok(r) = FrameReader::new_openbsd(f) {
            r.count();
        }
    }
}

#[test]
fn decode_into_overwrites_every_field() {
    // Decoding a 1301 record into a scratch that held a 1500 state must give
    // exactly what a fresh decode gives.
    for v in ALL_VERSIONS {
        let mut buf = vec![0u8; v.state_len()];
        samples::state(v, 4).emit(v, &mut buf).unwrap();
        for prior in ALL_VERSIONS {
            let mut scratch = samples::state(prior, 200);
            scratch.decode_into(&buf, v, StateChecks::Insert).unwrap();
            assert_eq!(scratch, samples::state(v, 4), "{prior:?} then {v:?}");
        }
    }
}

fn openbsd_frame_of(sections: &[u8]) -> Vec<u8> {
    let mut f = frame_of(sections);
    f[0] = 6;
    f
}

#[test]
fn openbsd_skipped_section_running_past_the_end_is_badlen() {
    // An unknown action and a handler-less one, each claiming 2 x 8 bytes
    // with only 12 present.
    for action in [99, 8] {
        let mut sections = vec![action, 2, 0, 2];
        sections.extend_from_slice(&[0; 12]);
        assert_eq!(
            events(&openbsd_frame_of(&sections), Dialect::OpenBsd),
            vec![Err(Error::BadLen)],
            "action {action}"
        );
    }
}

#[test]
fn openbsd_actions_without_a_handler_are_skipped_by_their_length() {
    // INS_F, DEL_F and EOF (and the retired OINS/OUPD/OTDB) are stepped
    // over, even with a count or length of 0, and the walk goes on.
    for action in [1u8, 3, 8, 9, 11, 12] {
        let mut sections = vec![action, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0];
        sections.extend_from_slice(&[action, 0, 0, 0]);
        sections.extend_from_slice(&[action, 3, 0, 0]);
        // A CLR after them is still decoded.
        sections.extend_from_slice(&[0, 5, 0, 1]);
        sections.extend_from_slice(&[0; 20]);
        let ev = events(&openbsd_frame_of(&sections), Dialect::OpenBsd);
        let skipped = |count| Ok(Event::Skipped { action, count });
        assert_eq!(&ev[..3], &[skipped(2), skipped(0), skipped(0)], "{action}");
        assert_eq!(
            ev[3],
            Ok(Event::Section {
                action: 0,
                count: 1
            })
        );
        assert!(matches!(ev[4], Ok(Event::Message(Message::Clr(_)))));
        assert_eq!(ev.len(), 5);
    }
}

#[test]
fn openbsd_insert_checks_the_keys_families() {
    let af_at = |key: usize| 24 + 40 * key + 38;
    let verdict = |af0: u8, af1: u8| {
        let mut rec = [0u8; OpenBsdState::LEN];
        samples::openbsd_state(1).emit(&mut rec).unwrap();
        rec[af_at(0)] = af0;
        rec[af_at(1)] = af1;
        (
            OpenBsdState::decode(&rec, true).map(|_| ()),
            OpenBsdState::decode(&rec, false).map(|_| ()),
        )
    };
    let family = Err(Reject::AddressFamily);
    assert_eq!(verdict(24, 24), (Ok(()), Ok(())));
    assert_eq!(verdict(2, 24), (Ok(()), Ok(())));
    assert_eq!(verdict(0, 0), (Ok(()), Ok(())), "old senders leave both 0");
    assert_eq!(verdict(0, 24), (family, Ok(())));
    assert_eq!(verdict(24, 0), (family, Ok(())));
    assert_eq!(verdict(2, 28), (family, Ok(())), "28 is FreeBSD's inet6");
    assert_eq!(verdict(7, 7), (family, Ok(())));
}

#[test]
fn view_and_decode_name_the_same_first_unterminated_name() {
    use state_format::v1500_field as f;
    let v = MsgVersion::V1500;
    let mut buf = [0u8; 360];
    samples::state(v, 1).emit(v, &mut buf).unwrap();
    let rt = f::RT_IFNAME.off..f::RT_IFNAME.end();
    let orig = f::ORIG_IFNAME.off..f::ORIG_IFNAME.end();
    let tag = f::TAGNAME.off..f::TAGNAME.end();
    let cases = [
        (
            vec![rt.clone(), orig.clone(), tag.clone()],
            Reject::RtIfName,
        ),
        (vec![orig.clone(), tag.clone()], Reject::OrigIfName),
        (vec![rt.clone(), tag.clone()], Reject::RtIfName),
        (vec![tag], Reject::TagName),
        (vec![orig, rt], Reject::RtIfName),
    ];
    for (names, want) in cases {
        let mut b = buf;
        for name in names {
            b[name].fill(b'x');
        }
        for checks in [StateChecks::Insert, StateChecks::Update] {
            assert_eq!(StateRecord::decode(&b, v, checks), Err(want));
            assert_eq!(StateView::new_checked(&b, v, checks), Err(want));
        }
    }
}

/// The view folds its checks into one test and falls back to the ordered walk
/// only on failure; every value of every checked byte, and a NUL at every
/// position of every name, must still get decode's verdict.
#[test]
fn folded_view_checks_give_decode_verdict_for_every_checked_byte() {
    use state_format::{common_field, v1301_field, v1400_field, v1500_field};
    let src_state = common_field::SRC.off + peer::field::STATE.off;
    let dst_state = common_field::DST.off + peer::field::STATE.off;
    for v in [MsgVersion::V1301, MsgVersion::V1400, MsgVersion::V1500] {
        let mut buf = vec![0u8; v.state_len()];
        samples::state(v, 5).emit(v, &mut buf).unwrap();
        let (byte_fields, names): (Vec<usize>, Vec<(usize, usize)>) = match v {
            MsgVersion::V1301 => (
                vec![
                    v1301_field::TIMEOUT.off,
                    v1301_field::DIRECTION.off,
                    v1301_field::AF.off,
                ],
                vec![(common_field::IFNAME.off, 16)],
            ),
            MsgVersion::V1400 => (
                vec![
                    v1400_field::TIMEOUT.off,
                    v1400_field::DIRECTION.off,
                    v1400_field::AF.off,
                ],
                vec![
                    (common_field::IFNAME.off, 16),
                    (v1400_field::RT_IFNAME.off, 16),
                ],
            ),
            MsgVersion::V1500 => (
                vec![
                    v1500_field::TIMEOUT.off,
                    v1500_field::DIRECTION.off,
                    v1500_field::WIRE_AF.off,
                ],
                vec![
                    (common_field::IFNAME.off, 16),
                    (v1500_field::RT_IFNAME.off, 16),
                    (v1500_field::ORIG_IFNAME.off, 16),
                    (v1500_field::TAGNAME.off, 64),
                ],
            ),
        };
        let agree = |b: &[u8]| {
            for checks in [StateChecks::Insert, StateChecks::Update] {
                let view = StateView::new_checked(b, v, checks).map(|w| w.to_record());
                assert_eq!(view, StateRecord::decode(b, v, checks), "{v:?} {checks:?}");
            }
        };
        for at in byte_fields.into_iter().chain([src_state, dst_state]) {
            for value in 0..=255u8 {
                let mut b = buf.clone();
                b[at] = value;
                agree(&b);
            }
        }
        for (off, len) in names {
            for nul in 0..=len {
                let mut b = buf.clone();
                b[off..off + len].fill(b'n');
                if nul < len {
                    b[off + nul] = 0;
                }
                agree(&b);
            }
        }
        for creator in [[0u8; 4], [0, 0, 0, 1], [1, 0, 0, 0]] {
            let mut b = buf.clone();
            b[common_field::CREATORID.off..common_field::CREATORID.end()].copy_from_slice(&creator);
            agree(&b);
        }
    }
}

#[test]
fn upd_c_view_agrees_with_the_owned_decode_in_both_dialects() {
    let mut buf = [0u8; UpdC::LEN];
    let mut sample = samples::upd_c(4);
    sample.state_flags = 0x5a;
    sample.emit_openbsd(&mut buf).unwrap();
    let timeout = upd_c::field::TIMEOUT.off;
    let src_state = upd_c::field::SRC.off + peer::field::STATE.off;
    let dst_state = upd_c::field::DST.off + peer::field::STATE.off;
    for at in [timeout, src_state, dst_state] {
        for value in 0..=255u8 {
            let mut b = buf;
            b[at] = value;
            assert_eq!(
                UpdCView::new_checked(&b).map(|v| v.to_upd_c()),
                UpdC::decode(&b),
                "byte {at} = {value}"
            );
            assert_eq!(
                UpdCView::new_checked_openbsd(&b).map(|v| v.to_upd_c()),
                UpdC::decode_openbsd(&b),
                "OpenBSD byte {at} = {value}"
            );
        }
    }
    let view = UpdCView::new_checked(&buf).unwrap();
    let owned = UpdC::decode(&buf).unwrap();
    assert_eq!(
        (
            view.state_id(),
            view.src(),
            view.dst(),
            view.timeout(),
            view.expire()
        ),
        (
            owned.state_id(),
            owned.src,
            owned.dst,
            owned.timeout,
            owned.expire
        )
    );
    assert_eq!(view.state_flags(), 0, "FreeBSD pads byte 81");
    assert_eq!(
        UpdCView::new_checked_openbsd(&buf).unwrap().state_flags(),
        0x5a
    );
    assert_eq!(
        UpdCView::new_checked(&buf[..UpdC::LEN - 1]),
        Err(Reject::Short)
    );
}
