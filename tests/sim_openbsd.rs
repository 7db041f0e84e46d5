//! The OpenBSD dialect on the simulator: two nodes speaking OpenBSD's pfsync
//! v6 sync inserts, updates and deletes, bring a late joiner up to date by
//! bulk, hold deferred packets as OpenBSD does, and ignore (counting
//! `badver`) a FreeBSD node on the same link, which ignores them in turn.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use common::*;
use pfsync::engine::{Config, DeferredPacket, IpFamily, ReqState};
use pfsync::sim::Cluster;
use pfsync::time::Duration;
use pfsync::wire::openbsd::action;
use pfsync::wire::{
    Dialect, FrameBuilder, FrameReader, Header, OpenBsdState, Subheader, WalkEvent,
};

fn openbsd_config(n: u8) -> Config {
    openbsd_node_config(n)
}

/// A state carrying what only OpenBSD's record holds: routing domains and a
/// stack-side routing table.
fn openbsd_state(creator: u8, n: u64) -> pfsync::wire::StateRecord {
    let mut r = tcp_state(creator, n);
    r.rdomain = [3, 4];
    r.rtableid = 3;
    r.stack_rtableid = 4;
    r
}

fn openbsd_pair(seed: u64) -> Cluster {
    pair_with(seed, openbsd_config(0), openbsd_config(1))
}

/// Frames sent by any node whose first byte is not OpenBSD's version, or
/// that OpenBSD's receiver refuses or reads an EOF from.
static NOT_OPENBSD: AtomicU64 = AtomicU64::new(0);

fn check_openbsd_frame(_from: usize, frame: &[u8]) -> bool {
    let well_formed = FrameReader::with_dialect(frame, Dialect::OpenBsd).is_ok_and(|r| {
        r.into_iter().all(|e| match e {
            Ok(WalkEvent::Section { action, .. }) => action != action::EOF,
            Ok(WalkEvent::Message(_)) => true,
            _ => false,
        })
    });
    if !well_formed {
        NOT_OPENBSD.fetch_add(1, Ordering::Relaxed);
    }
    false
}

#[test]
fn openbsd_pair_syncs_inserts_updates_and_deletes() {
    let mut c = openbsd_pair(21);
    c.drop_frame = Some(check_openbsd_frame);
    for n in 1..=50 {
        let now = c.now;
        c.with_node(0, |a| a.create_state(now, openbsd_state(0, n)));
    }
    c.run_for(Duration::from_millis(1500));
    assert_eq!(c.nodes[1].table.len(), 50, "every INS arrived");
    let id = state_id(0, 7);
    let theirs = c.nodes[1].table.get(&id).unwrap().record;
    assert_eq!(theirs.rdomain, [3, 4], "routing domains crossed");
    assert_eq!((theirs.rtableid, theirs.stack_rtableid), (3, 4));
    assert_eq!(
        c.nodes[0].engine.stats().oacts[usize::from(action::INS)],
        50,
        "sent as OpenBSD INS (13)"
    );
    assert_eq!(c.nodes[0].engine.stats().oacts[12], 0, "no EOF");

    send_forward_data(&mut c, 0, &id);
    c.run_for(Duration::from_millis(1500));
    let a = c.nodes[0].table.get(&id).unwrap().record;
    let b = c.nodes[1].table.get(&id).unwrap().record;
    assert_eq!(b.src.seqlo, a.src.seqlo, "the UPD_C carried the new seqlo");
    assert_eq!(
        c.nodes[1].engine.stats().iacts[usize::from(action::UPD_C)],
        1
    );

    let now = c.now;
    c.with_node(0, |a| a.delete_state(now, &id));
    c.run_for(Duration::from_millis(1500));
    assert!(c.nodes[1].table.get(&id).is_none(), "DEL_C removed it");
    assert_eq!(c.nodes[1].table.len(), 49);
    let s = c.nodes[1].engine.stats();
    assert_eq!(
        (s.badver, s.badact, s.badlen, s.badval, s.badstate),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(NOT_OPENBSD.load(Ordering::Relaxed), 0);
}

#[test]
fn late_openbsd_joiner_is_brought_up_by_bulk_and_undemoted() {
    let mut c = Cluster::new(22, &[openbsd_config(0), openbsd_config(1)]).unwrap();
    c.start(0).unwrap();
    c.run_for(Duration::from_secs(1));
    for n in 1..=300 {
        let now = c.now;
        c.with_node(0, |a| a.create_state(now, openbsd_state(0, n)));
    }
    c.run_for(Duration::from_secs(2));
    c.start(1).unwrap();
    assert_eq!(c.nodes[1].io.demotion, 32, "OpenBSD demotes by 32");
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Requested);
    // OpenBSD paces one frame per 20 ms: 300 states of 264 bytes in
    // 1500-byte frames take 60 frames, 1.2 s.
    c.run_for(Duration::from_secs(3));
    assert_eq!(c.nodes[1].table.len(), 300);
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Done);
    assert_eq!(c.nodes[1].io.demotion, 0, "undemoted on BUS END");
    assert_eq!(c.nodes[1].engine.extra_stats().bulk_completed, 1);
    assert_eq!(c.nodes[0].engine.extra_stats().bulk_states, 300);
    assert!(
        c.nodes[0].engine.extra_stats().bulk_frames >= 60,
        "paced frames of at most 5 states"
    );
    assert_eq!(
        c.nodes[1]
            .table
            .get(&state_id(0, 9))
            .unwrap()
            .record
            .rdomain,
        [3, 4]
    );
}

#[test]
fn openbsd_bulk_request_gives_up_after_twelve_requests_two_seconds_apart() {
    let mut c = Cluster::new(23, &[openbsd_config(0)]).unwrap();
    c.start(0).unwrap();
    c.run_for(Duration::from_secs(2 * 12 + 1));
    assert_eq!(c.nodes[0].engine.extra_stats().bulk_requests_sent, 12);
    assert_eq!(c.nodes[0].engine.extra_stats().bulk_gave_up, 1);
    assert_eq!(c.nodes[0].io.demotion, 0);
}

#[test]
fn openbsd_defer_waits_for_the_ack_and_ignores_local_updates() {
    let mut a = openbsd_config(0);
    a.defer = true;
    let mut c = pair_with(24, a, openbsd_config(1));
    let now = c.now;
    let deferred = c
        .with_node(0, |a| {
            a.create_state_with(now, openbsd_state(0, 1), false, Some(DeferredPacket(77)))
        })
        .flatten()
        .map(|(_, d)| d);
    assert_eq!(deferred, Some(true));
    // A local update releases a FreeBSD deferral; OpenBSD waits for the peer.
    let now = c.now;
    c.with_node(0, |a| {
        a.update_state(now, &state_id(0, 1), |r| r.packets[0] += 1)
    });
    assert!(c.nodes[0].io.released.is_empty(), "still held");
    c.run_for(Duration::from_millis(5));
    assert_eq!(c.nodes[0].io.released, vec![DeferredPacket(77)]);
    assert_eq!(c.nodes[0].engine.extra_stats().defer_released_ack, 1);
    assert_eq!(
        c.nodes[1].engine.stats().oacts[usize::from(action::INS_ACK)],
        1,
        "the peer acknowledged"
    );
}

#[test]
fn openbsd_defer_releases_after_twenty_milliseconds_without_a_peer() {
    let mut a = openbsd_config(0);
    a.defer = true;
    let mut c = pair_with(25, a, openbsd_config(1));
    c.partition(0, 1, true);
    let now = c.now;
    c.with_node(0, |a| {
        a.create_state_with(now, openbsd_state(0, 1), false, Some(DeferredPacket(9)))
    });
    c.run_for(Duration::from_millis(19));
    assert!(c.nodes[0].io.released.is_empty());
    c.run_for(Duration::from_millis(2));
    assert_eq!(c.nodes[0].io.released, vec![DeferredPacket(9)]);
    assert_eq!(c.nodes[0].engine.extra_stats().defer_released_timeout, 1);
}

#[test]
fn a_freebsd_node_beside_openbsd_nodes_counts_badver_and_both_sides_keep_their_tables() {
    let mut c = Cluster::new(26, &[openbsd_config(0), openbsd_config(1), node_config(2)]).unwrap();
    for n in 0..3 {
        c.start(n).unwrap();
    }
    c.run_for(Duration::from_secs(1));
    for n in 1..=20 {
        let now = c.now;
        c.with_node(0, |a| a.create_state(now, openbsd_state(0, n)));
        c.with_node(2, |f| f.create_state(now, tcp_state(2, n)));
    }
    c.run_for(Duration::from_secs(3));
    assert_eq!(c.nodes[1].table.len(), 20, "OpenBSD peer synced");
    assert!(c.nodes[1]
        .table
        .iter()
        .all(|(id, _)| id.creatorid == hostid(0)));
    assert_eq!(
        c.nodes[2].table.len(),
        20,
        "the FreeBSD node kept only its own"
    );
    assert!(c.nodes[2]
        .table
        .iter()
        .all(|(id, _)| id.creatorid == hostid(2)));
    let freebsd = c.nodes[2].engine.stats();
    assert!(
        freebsd.badver > 0,
        "FreeBSD counted OpenBSD frames as badver"
    );
    assert_eq!((freebsd.badact, freebsd.badlen, freebsd.badval), (0, 0, 0));
    let openbsd = c.nodes[1].engine.stats();
    assert!(
        openbsd.badver > 0,
        "OpenBSD counted FreeBSD frames as badver"
    );
    assert_eq!((openbsd.badact, openbsd.badlen, openbsd.badval), (0, 0, 0));
}

/// The frame the engine sent, captured by the link.
static CAPTURED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

fn capture(_from: usize, frame: &[u8]) -> bool {
    CAPTURED.lock().unwrap().push(frame.to_vec());
    false
}

#[test]
fn engine_frames_equal_the_codec_builders_byte_for_byte() {
    // One bucket, so both inserts share a frame.
    let mut a = openbsd_config(0);
    a.buckets = 1;
    let mut c = pair_with(27, a, openbsd_config(1));
    c.drop_frame = Some(capture);
    let now = c.now;
    c.with_node(0, |a| {
        a.create_state(now, openbsd_state(0, 1));
        a.create_state(now, openbsd_state(0, 2));
    });
    c.run_for(Duration::from_millis(1500));
    let frames = std::mem::take(&mut *CAPTURED.lock().unwrap());
    let ins: Vec<&Vec<u8>> = frames
        .iter()
        .filter(|f| f.get(20) == Some(&action::INS))
        .collect();
    assert_eq!(ins.len(), 1, "one frame of two inserts");
    let frame = ins[0];
    let states: Vec<OpenBsdState> = FrameReader::with_dialect(frame, Dialect::OpenBsd)
        .unwrap()
        .filter_map(|e| match e {
            Ok(WalkEvent::Message(pfsync::wire::Message::OpenBsdIns(s))) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(states.len(), 2);
    let mut buf = [0u8; 1500];
    let mut b = FrameBuilder::new_openbsd(&mut buf, 1480).unwrap();
    for s in &states {
        b.push_openbsd_state(action::INS, s).unwrap();
    }
    let len = b.finish_openbsd();
    assert_eq!(&buf[..len], frame.as_slice());
    assert_eq!(len, Header::LEN + Subheader::LEN + 2 * OpenBsdState::LEN);
    assert_eq!(
        usize::from(frame[21]) * 4,
        OpenBsdState::LEN,
        "length in words"
    );
    assert_eq!(OpenBsdState::from_record(&states[0].to_record()), states[0]);
}

#[test]
fn an_unknown_update_is_asked_for_in_full_and_imported() {
    let mut c = openbsd_pair(28);
    c.partition(0, 1, true);
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, openbsd_state(0, 1)));
    c.run_for(Duration::from_millis(1500));
    assert!(c.nodes[1].table.is_empty(), "the INS was lost");
    c.partition(0, 1, false);
    let id = state_id(0, 1);
    let now = c.now;
    c.with_node(0, |a| a.update_state(now, &id, |r| r.src.seqlo += 10));
    c.run_for(Duration::from_millis(1500));
    assert!(
        c.nodes[1].table.get(&id).is_some(),
        "imported from the full UPD"
    );
    assert!(c.nodes[1].engine.stats().oacts[usize::from(action::UPD_REQ)] >= 1);
    assert!(c.nodes[0].engine.stats().oacts[usize::from(action::UPD)] >= 1);
}

/// Frames a node receives from an OpenBSD peer, counted as OpenBSD counts.
#[test]
fn openbsd_receive_rules_count_as_openbsd_does() {
    let mut c = openbsd_pair(29);
    c.partition(0, 1, true);
    let meta = pfsync::engine::RxMeta::valid(IpFamily::V4);
    let send = |c: &mut Cluster, fill: &dyn Fn(&mut FrameBuilder)| {
        let mut buf = [0u8; 1500];
        let mut b = FrameBuilder::new_openbsd(&mut buf, 1480).unwrap();
        fill(&mut b);
        let len = b.finish_openbsd();
        let now = c.now;
        c.with_node(1, |n| n.receive(now, meta, &buf[..len]));
    };
    let s = OpenBsdState::from_record(&openbsd_state(0, 1));
    // INS, then the same INS again: OpenBSD counts nothing for the duplicate.
    send(&mut c, &|b| b.push_openbsd_state(action::INS, &s).unwrap());
    send(&mut c, &|b| b.push_openbsd_state(action::INS, &s).unwrap());
    let st = c.nodes[1].engine.stats();
    assert_eq!((st.badact, st.badstate), (0, 0));
    assert_eq!(c.nodes[1].table.len(), 1);
    // An UPD_REQ for a state we do not have: badstate.
    send(&mut c, &|b| {
        b.push_upd_req(&pfsync::wire::UpdReq {
            state: state_id(0, 99),
        })
        .unwrap()
    });
    assert_eq!(c.nodes[1].engine.stats().badstate, 1);
    // OpenBSD's full-state DEL (6) removes by identity.
    send(&mut c, &|b| b.push_openbsd_state(action::DEL, &s).unwrap());
    assert!(c.nodes[1].table.is_empty());
    // A FreeBSD 1400 INS has OpenBSD's INS number but a 277-byte record: the
    // header version already refuses the frame.
    let mut buf = [0u8; 1500];
    let mut b = FrameBuilder::new(&mut buf, 1460).unwrap();
    b.push_ins(pfsync::wire::MsgVersion::V1400, &tcp_state(0, 5))
        .unwrap();
    let len = b.finish([0; 16], true);
    let now = c.now;
    c.with_node(1, |n| n.receive(now, meta, &buf[..len]));
    let st = c.nodes[1].engine.stats();
    assert_eq!((st.badver, st.badact), (1, 0));
    assert!(c.nodes[1].table.is_empty());
}

#[test]
fn an_openbsd_requester_takes_bus_end_only_after_bus_start() {
    let mut c = Cluster::new(30, &[openbsd_config(0)]).unwrap();
    c.start(0).unwrap();
    let meta = pfsync::engine::RxMeta::valid(IpFamily::V4);
    let bus = |status| pfsync::wire::Bus {
        creatorid: hostid(1),
        endtime: 0,
        status,
    };
    let frame = |statuses: &[pfsync::wire::BusStatus]| {
        let mut buf = [0u8; 200];
        let mut b = FrameBuilder::new_openbsd(&mut buf, 200).unwrap();
        for s in statuses {
            b.close_section();
            b.push_bus(&bus(*s)).unwrap();
        }
        let len = b.finish_openbsd();
        buf[..len].to_vec()
    };
    use pfsync::wire::BusStatus::{End, Start};
    let now = c.now;
    c.with_node(0, |n| n.receive(now, meta, &frame(&[End])));
    assert_eq!(c.nodes[0].engine.bulk_request_state(), ReqState::Requested);
    assert_eq!(c.nodes[0].io.demotion, 32);
    let now = c.now;
    c.with_node(0, |n| n.receive(now, meta, &frame(&[Start, End])));
    assert_eq!(c.nodes[0].engine.bulk_request_state(), ReqState::Done);
    assert_eq!(c.nodes[0].io.demotion, 0);
}

#[test]
fn switching_dialect_sends_what_was_queued_in_the_old_one_first() {
    let mut c = pair(31);
    c.drop_frame = Some(capture_versions);
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
    let now = c.now;
    c.with_node(0, |a| a.configure(now, openbsd_config(0)))
        .unwrap()
        .unwrap();
    assert!(c.nodes[0].engine.config().speaks_openbsd());
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, openbsd_state(0, 2)));
    c.run_for(Duration::from_millis(1500));
    let versions = std::mem::take(&mut *VERSIONS.lock().unwrap());
    assert_eq!(
        versions.first(),
        Some(&5),
        "the FreeBSD INS left before the switch"
    );
    assert_eq!(
        versions.last(),
        Some(&6),
        "then OpenBSD frames: {versions:?}"
    );
    assert!(
        c.nodes[1].table.get(&state_id(0, 1)).is_some(),
        "B, still FreeBSD, got the state queued before the switch"
    );
    assert_eq!(c.nodes[1].table.len(), 1, "and only that one");
    assert!(c.nodes[1].engine.stats().badver >= 1);
}

/// Header versions of every frame node 0 sent while installed.
static VERSIONS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn capture_versions(from: usize, frame: &[u8]) -> bool {
    if let Some(v) = frame.first().filter(|_| from == 0) {
        VERSIONS.lock().unwrap().push(*v);
    }
    false
}
