//! Golden OpenBSD pfsync v6 frames, laid out by the C compiler from OpenBSD's
//! own structs (tests/golden/openbsd_frames.c; stage 30-layout-oracle checks
//! that tests/golden/openbsd/*.bin are exactly what that file compiles to
//! against the real OpenBSD headers). Both directions through the codec:
//!   C bytes -> `FrameReader::new_openbsd` -> the messages the C file wrote;
//!   those messages -> `FrameBuilder::new_openbsd` -> the C bytes again.
//! Frame `rejects` holds records at and just past OpenBSD's own limits
//! (PFTM_MAX, PF_TCPS_PROXY_DST, PF_OUT, families, ifname, creator id).

use pfsync::wire::openbsd::{self, ACT_DEL, ACT_INS, ACT_UPD};
use pfsync::wire::{
    samples, BusStatus, DelC, Error, Event, FrameBuilder, FrameReader, Header, InsAck, Message,
    OpenBsdState, Reject, StateId, Tdb, UpdC, UpdReq, VERSION_OPENBSD,
};

/// The header's `spare` bytes in every golden frame.
const SPARE: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

fn golden(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/golden/openbsd/{name}.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn events(bytes: &[u8]) -> (Header, Vec<Result<Event, Error>>) {
    let reader = FrameReader::new_openbsd(bytes).expect("frame header");
    let header = *reader.header();
    (header, reader.collect())
}

fn messages(events: &[Result<Event, Error>]) -> Vec<Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(Event::Message(m)) => Some(*m),
            _ => None,
        })
        .collect()
}

fn upd_c(n: u8) -> UpdC {
    UpdC {
        state_flags: 0x21,
        ..samples::upd_c(n)
    }
}

fn golden_tdb() -> Tdb {
    Tdb {
        rpl: 0x0123_4567_89ab_cdef,
        rdomain: 0x0a0b,
        ..samples::tdb()
    }
}

/// The messages of frame `ids`, in order.
fn ids_messages() -> Vec<Message> {
    vec![
        Message::InsAck(InsAck {
            state: samples::state_id(1),
        }),
        Message::DelC(DelC {
            state: samples::state_id(2),
        }),
        Message::DelC(DelC {
            state: samples::state_id(4),
        }),
        Message::UpdReq(UpdReq::BULK),
        Message::UpdReq(UpdReq {
            state: samples::state_id(1),
        }),
        Message::Clr(samples::clr()),
        Message::Bus(samples::bus(BusStatus::End)),
        Message::Tdb(golden_tdb()),
    ]
}

fn states_messages() -> Vec<Message> {
    let s = samples::openbsd_state(1);
    vec![
        Message::OpenBsdIns(s),
        Message::OpenBsdUpd(s),
        Message::UpdC(upd_c(1)),
        Message::UpdC(upd_c(2)),
    ]
}

fn build(msgs: &[Message]) -> Vec<u8> {
    let mut buf = vec![0u8; 9000];
    let mut b = FrameBuilder::new_openbsd(&mut buf, 9000).unwrap();
    for m in msgs {
        openbsd::encode(&mut b, m)
            .expect("an OpenBSD message")
            .expect("fits");
    }
    let len = b.finish(SPARE, false);
    buf.truncate(len);
    buf
}

fn sections(events: &[Result<Event, Error>]) -> Vec<(u8, u16)> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(Event::Section { action, count }) => Some((*action, *count)),
            _ => None,
        })
        .collect()
}

#[test]
fn states_frame_decodes_to_what_c_wrote() {
    let bytes = golden("states");
    let (header, ev) = events(&bytes);
    assert_eq!(header.version, VERSION_OPENBSD);
    assert_eq!(usize::from(header.len), bytes.len());
    assert_eq!(header.pfcksum, SPARE);
    assert!(ev.iter().all(|e| e.is_ok()), "{ev:?}");
    assert_eq!(sections(&ev), [(ACT_INS, 1), (ACT_UPD, 1), (4, 2)]);
    assert_eq!(messages(&ev), states_messages());
}

#[test]
fn ids_frame_decodes_to_what_c_wrote() {
    let bytes = golden("ids");
    let (header, ev) = events(&bytes);
    assert_eq!(usize::from(header.len), bytes.len());
    assert!(ev.iter().all(|e| e.is_ok()), "{ev:?}");
    assert_eq!(
        sections(&ev),
        [(2, 1), (7, 2), (5, 2), (0, 1), (10, 1), (15, 1)]
    );
    assert_eq!(messages(&ev), ids_messages());
}

#[test]
fn codec_builds_the_c_frames_byte_for_byte() {
    assert_eq!(build(&states_messages()), golden("states"));
    assert_eq!(build(&ids_messages()), golden("ids"));
}

#[test]
fn decoded_c_frames_re_encode_identically() {
    for name in ["states", "ids"] {
        let bytes = golden(name);
        let (_, ev) = events(&bytes);
        assert_eq!(build(&messages(&ev)), bytes, "{name}");
    }
}

#[test]
fn skips_frame_steps_over_what_openbsd_does_not_know() {
    let bytes = golden("skips");
    let (_, ev) = events(&bytes);
    let s = samples::openbsd_state(1);
    assert_eq!(
        ev,
        vec![
            Ok(Event::Skipped {
                action: 99,
                count: 1
            }),
            Ok(Event::Section {
                action: 2,
                count: 1
            }),
            Ok(Event::Message(Message::InsAck(InsAck {
                state: samples::state_id(2)
            }))),
            Ok(Event::Section {
                action: ACT_DEL,
                count: 1
            }),
            Ok(Event::Message(Message::OpenBsdDel(StateId {
                id: s.id.id,
                creatorid: s.id.creatorid
            }))),
        ]
    );
}

#[test]
fn codec_builds_the_skips_frame_byte_for_byte() {
    let s = samples::openbsd_state(1);
    let ack = InsAck {
        state: samples::state_id(2),
    };
    let mut buf = vec![0u8; 2048];
    let mut b = FrameBuilder::new_openbsd(&mut buf, 2048).unwrap();
    b.push_with(99, 8, |d| d.fill(9)).unwrap();
    b.push_with(2, InsAck::LEN + 4, |d| {
        ack.emit(d).unwrap();
        d[InsAck::LEN..].fill(7);
    })
    .unwrap();
    b.push_with(ACT_DEL, OpenBsdState::LEN, |d| {
        s.emit(d).unwrap();
    })
    .unwrap();
    let len = b.finish(SPARE, false);
    assert_eq!(&buf[..len], &golden("skips")[..]);
}

#[test]
fn a_frame_shorter_than_its_len_is_badlen() {
    // The C frame without its last byte: the header's len now points past
    // the bytes received, so the whole frame is refused.
    let bytes = golden("ids");
    let short = &bytes[..bytes.len() - 1];
    assert_eq!(FrameReader::new_openbsd(short).err(), Some(Error::BadLen));
}

#[test]
fn bus_and_clr_keep_sections_of_their_own() {
    let msgs = [
        Message::Bus(samples::bus(BusStatus::Start)),
        Message::Bus(samples::bus(BusStatus::End)),
    ];
    let bytes = build(&msgs);
    let (_, ev) = events(&bytes);
    assert_eq!(sections(&ev), [(10, 1), (10, 1)]);
}

/// State 1 as frame `rejects` writes its records, with one change each.
fn rejects_states() -> Vec<OpenBsdState> {
    let base = samples::openbsd_state(1);
    let with = |f: &dyn Fn(&mut OpenBsdState)| {
        let mut s = base;
        f(&mut s);
        s
    };
    vec![
        with(&|s| s.timeout = 20),
        with(&|s| s.src.state = 13),
        with(&|s| s.direction = 3),
        with(&|s| s.key[1].af = 0),
        base, // the ifname is patched in as bytes: IfName cannot hold it
        with(&|s| s.id.creatorid = [0; 4]),
        with(&|s| {
            s.timeout = 19;
            s.src.state = 12;
            s.dst.state = 12;
            s.direction = 2;
        }),
    ]
}

#[test]
fn rejects_frame_refuses_exactly_at_openbsds_limits() {
    let bytes = golden("rejects");
    let (_, ev) = events(&bytes);
    let rejected = |index, reason| {
        Ok(Event::Rejected {
            action: ACT_INS,
            index,
            reason,
        })
    };
    let at_limits = rejects_states()[6];
    assert_eq!(
        ev,
        vec![
            Ok(Event::Section {
                action: ACT_INS,
                count: 7
            }),
            rejected(0, Reject::Timeout),
            rejected(1, Reject::PeerState),
            rejected(2, Reject::Direction),
            rejected(3, Reject::AddressFamily),
            rejected(4, Reject::IfName),
            rejected(5, Reject::CreatorId),
            Ok(Event::Message(Message::OpenBsdIns(at_limits))),
            Ok(Event::Section {
                action: ACT_UPD,
                count: 1
            }),
            Ok(Event::Rejected {
                action: ACT_UPD,
                index: 0,
                reason: Reject::PeerState
            }),
        ]
    );
}

#[test]
fn codec_builds_the_rejects_frame_byte_for_byte() {
    let mut buf = vec![0u8; 4096];
    let mut b = FrameBuilder::new_openbsd(&mut buf, 4096).unwrap();
    for (i, s) in rejects_states().iter().enumerate() {
        b.push_with(ACT_INS, OpenBsdState::LEN, |d| {
            s.emit(d).unwrap();
            if i == 4 {
                d[8..24].copy_from_slice(b"0123456789abcdef");
            }
        })
        .unwrap();
    }
    let mut upd = samples::openbsd_state(1);
    upd.dst.state = 13;
    b.push_with(ACT_UPD, OpenBsdState::LEN, |d| {
        upd.emit(d).unwrap();
    })
    .unwrap();
    let len = b.finish(SPARE, false);
    assert_eq!(&buf[..len], &golden("rejects")[..]);
}
