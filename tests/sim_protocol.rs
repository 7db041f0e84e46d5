//! Protocol behaviour across nodes: mixed message versions, stale updates,
//! update requests, compression rules.

mod common;

use common::*;
use pfsync::engine::ReqState;
use pfsync::sim::Segment;
use pfsync::time::Duration;
use pfsync::wire::{Dialect, MsgVersion};

fn as_14x_receiver(mut c: pfsync::engine::Config) -> pfsync::engine::Config {
    c.receive_dialect = Dialect::FreeBsd14;
    c.version = MsgVersion::V1400;
    c
}

#[test]
fn a_1400_sender_is_understood_by_a_14x_receiver() {
    let a = with_version(node_config(0), MsgVersion::V1400);
    let mut c = pair_with(21, a, as_14x_receiver(node_config(1)));
    let now = c.now;
    c.with_node(0, |a| {
        (1..=20).for_each(|n| {
            a.create_state(now, tcp_state(0, n));
        })
    });
    c.run_for(Duration::from_secs(2));
    assert_eq!(c.nodes[1].table.len(), 20);
    assert_eq!(c.nodes[1].engine.stats().badact, 0);
    assert_eq!(c.nodes[1].engine.stats().iacts[13], 20, "INS_1400");
}

#[test]
fn a_1500_sender_is_refused_by_a_14x_receiver_as_badact() {
    let a = with_version(node_config(0), MsgVersion::V1500);
    let mut c = pair_with(22, a, as_14x_receiver(node_config(1)));
    let now = c.now;
    c.with_node(0, |a| {
        (1..=20).for_each(|n| {
            a.create_state(now, tcp_state(0, n));
        })
    });
    c.run_for(Duration::from_secs(2));
    assert!(c.nodes[1].table.is_empty());
    assert!(
        c.nodes[1].engine.stats().badact >= 1,
        "stock 14.x counts 1500 as badact"
    );
}

#[test]
fn a_15x_receiver_reads_every_version() {
    for v in [MsgVersion::V1301, MsgVersion::V1400, MsgVersion::V1500] {
        let mut c = pair_with(23, with_version(node_config(0), v), node_config(1));
        let now = c.now;
        c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
        c.run_for(Duration::from_secs(2));
        assert_eq!(c.nodes[1].table.len(), 1, "{v:?}");
    }
}

/// opnsense/src #327 end to end: A's update carries a fresh src and a stale
/// dst. B keeps its newer dst, counts `stale`, answers with its copy, and
/// both converge on the newest of each side.
#[test]
fn stale_side_is_kept_answered_and_converges() {
    let mut c = pair(24);
    let id = state_id(0, 1);
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
    c.run_for(Duration::from_secs(2));
    let r = c.nodes[1].table.get(&id).unwrap().record;
    // The server talks through B (asymmetric path); B's UPD_C to A is lost.
    c.blocked.insert((1, 0));
    let server = Segment {
        from_src: false,
        seq: r.dst.seqlo,
        len: 100_000,
        ack: r.src.seqlo,
        win: 65535,
    };
    let now = c.now;
    c.with_node(1, |b| b.tcp_packet(now, &id, &server))
        .unwrap()
        .unwrap();
    c.run_for(Duration::from_secs(2));
    c.blocked.clear();
    let b_dst = c.nodes[1].table.get(&id).unwrap().record.dst.seqlo;
    assert_eq!(b_dst, r.dst.seqlo.wrapping_add(100_000));
    // The client talks through A, which still has the old dst.
    let client = Segment {
        from_src: true,
        seq: r.src.seqlo,
        len: 1000,
        ack: r.dst.seqlo,
        win: 65535,
    };
    let now = c.now;
    c.with_node(0, |a| a.tcp_packet(now, &id, &client))
        .unwrap()
        .unwrap();
    c.run_for(Duration::from_secs(3));
    let a = c.nodes[0].table.get(&id).unwrap().record;
    let b = c.nodes[1].table.get(&id).unwrap().record;
    assert_eq!(b.dst.seqlo, b_dst, "B never moved dst backwards");
    assert_eq!(
        b.src.seqlo,
        r.src.seqlo.wrapping_add(1000),
        "B took the fresh src"
    );
    assert_eq!(c.nodes[1].engine.stats().stale, 1);
    assert_eq!((a.src, a.dst), (b.src, b.dst), "A learned B's newer dst");
}

#[test]
fn unknown_upd_c_is_answered_by_request_and_full_update() {
    let mut c = pair(25);
    let id = state_id(0, 1);
    c.blocked.insert((0, 1));
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
    c.run_for(Duration::from_secs(2));
    c.blocked.clear();
    assert!(c.nodes[1].table.is_empty(), "the INS was lost");
    let req_sent = c.nodes[1].engine.stats().oacts[5];
    let req_rcvd = c.nodes[0].engine.stats().iacts[5];
    let r = c.nodes[0].table.get(&id).unwrap().record;
    let seg = Segment {
        from_src: true,
        seq: r.src.seqlo,
        len: 10,
        ack: r.dst.seqlo,
        win: 65535,
    };
    let now = c.now;
    c.with_node(0, |a| a.tcp_packet(now, &id, &seg))
        .unwrap()
        .unwrap();
    c.run_for(Duration::from_secs(2));
    assert_eq!(
        c.nodes[1].engine.stats().oacts[5],
        req_sent + 1,
        "one UPD_REQ"
    );
    assert_eq!(c.nodes[0].engine.stats().iacts[5], req_rcvd + 1);
    assert_eq!(
        c.nodes[0].engine.stats().oacts[16],
        1,
        "answered with UPD_1500"
    );
    let b = c.nodes[1]
        .table
        .get(&id)
        .expect("created from the full update")
        .record;
    assert_eq!(b.src.seqlo, r.src.seqlo.wrapping_add(10));
}

#[test]
fn maxupd_forces_a_push_and_updates_fold_until_then() {
    let mut a = node_config(0);
    a.maxupd = 4;
    let mut c = pair_with(26, a, node_config(1));
    let id = state_id(0, 1);
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
    c.run_for(Duration::from_secs(2));
    let sent_before = c.nodes[0].io.frames_sent;
    let urgent_before = c.nodes[0].engine.extra_stats().push_urgent;
    let r = c.nodes[0].table.get(&id).unwrap().record;
    let mut seq = r.src.seqlo;
    // The first update queues an UPD_C; 3 more fold into it; the 4th fold pushes.
    for i in 0..5 {
        let seg = Segment {
            from_src: true,
            seq,
            len: 100,
            ack: r.dst.seqlo,
            win: 65535,
        };
        seq = seq.wrapping_add(100);
        let now = c.now;
        c.with_node(0, |a| a.tcp_packet(now, &id, &seg))
            .unwrap()
            .unwrap();
        c.run_for(Duration::from_micros(10));
        let pushed = c.nodes[0].io.frames_sent - sent_before;
        assert_eq!(pushed, u64::from(i == 4), "after update {i}");
    }
    assert_eq!(
        c.nodes[0].engine.extra_stats().push_urgent,
        urgent_before + 1
    );
}

#[test]
fn states_touched_by_pfsync_recently_are_pushed_at_once() {
    let mut c = pair(27);
    let id = state_id(0, 1);
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
    c.run_for(Duration::from_millis(1500));
    // B imported the state under 2 s ago: its own update leaves at once.
    let r = c.nodes[1].table.get(&id).unwrap().record;
    let seg = Segment {
        from_src: true,
        seq: r.src.seqlo,
        len: 10,
        ack: r.dst.seqlo,
        win: 65535,
    };
    let sent = c.nodes[1].io.frames_sent;
    let now = c.now;
    c.with_node(1, |b| b.tcp_packet(now, &id, &seg))
        .unwrap()
        .unwrap();
    c.run_for(Duration::from_micros(10));
    assert_eq!(c.nodes[1].io.frames_sent, sent + 1);
    // Later, updates wait for the 1 s flush.
    c.run_for(Duration::from_secs(3));
    let sent = c.nodes[1].io.frames_sent;
    let seg = Segment {
        seq: seg.seq.wrapping_add(10),
        ..seg
    };
    let now = c.now;
    c.with_node(1, |b| b.tcp_packet(now, &id, &seg))
        .unwrap()
        .unwrap();
    c.run_for(Duration::from_millis(999));
    assert_eq!(c.nodes[1].io.frames_sent, sent);
    c.run_for(Duration::from_millis(2));
    assert_eq!(c.nodes[1].io.frames_sent, sent + 1);
}

#[test]
fn a_full_frame_leaves_without_waiting_for_the_timer() {
    let mut c = pair(28);
    let now = c.now;
    // 4 INS_1500 fill a 1500-byte IPv4 frame; the 5th pushes the first frame.
    // Ids that are multiples of the bucket count share bucket 0.
    c.with_node(0, |a| {
        (1..=5).for_each(|n| {
            a.create_state(now, tcp_state(0, 4 * n));
        })
    });
    c.run_for(Duration::from_millis(1));
    // The full frame goes out at once; the fifth record waits for its flush.
    assert_eq!(c.nodes[0].engine.extra_stats().push_full, 1);
    assert_eq!(c.nodes[1].table.len(), 4);
    c.run_for(Duration::from_secs(1));
    assert_eq!(c.nodes[1].table.len(), 5);
}

#[test]
fn resync_request_runs_a_bulk_without_reconfiguring() {
    let mut c = pair(29);
    let now = c.now;
    c.with_node(0, |a| {
        (1..=30).for_each(|n| {
            a.create_state(now, tcp_state(0, n));
        })
    });
    c.run_for(Duration::from_secs(2));
    let now = c.now;
    c.with_node(1, |b| b.table.clear_states(hostid(0), None));
    assert!(c.nodes[1].table.is_empty());
    c.with_node(1, |b| b.resync(now));
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Requested);
    c.run_for(Duration::from_secs(1));
    assert_eq!(c.nodes[1].table.len(), 30);
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Done);
    assert_eq!(c.nodes[1].io.demotion, 0);
}

#[test]
fn reconfiguring_without_change_does_not_start_a_bulk() {
    let mut c = pair(30);
    let before = c.nodes[1].engine.extra_stats().bulk_requests_sent;
    let now = c.now;
    let mut cfg = c.nodes[1].config;
    cfg.maxupd = 64;
    c.with_node(1, |b| b.configure(now, cfg)).unwrap().unwrap();
    assert_eq!(c.nodes[1].engine.extra_stats().bulk_requests_sent, before);
    assert_eq!(c.nodes[1].io.demotion, 0);
}

/// Item 5 of issue 11: `ifconfig pfsync0 syncpeer X` alone names a peer
/// whose table we have never been sent; stock demotes and asks for it.
#[test]
fn changing_only_the_sync_peer_requests_a_bulk_and_demotes_until_done() {
    let mut c = pair(34);
    let before = c.nodes[1].engine.extra_stats().bulk_requests_sent;
    let now = c.now;
    let mut cfg = c.nodes[1].config;
    cfg.syncpeer[..4].copy_from_slice(&[192, 0, 2, 7]);
    c.with_node(1, |b| b.configure(now, cfg)).unwrap().unwrap();
    assert_eq!(
        c.nodes[1].engine.extra_stats().bulk_requests_sent,
        before + 1
    );
    assert_eq!(c.nodes[1].io.demotion, 240);
    assert!(!c.nodes[1].engine.sync_ok());
    c.run_for(Duration::from_secs(1));
    assert!(c.nodes[1].engine.sync_ok());
    assert_eq!(c.nodes[1].io.demotion, 0);
}

#[test]
fn a_sender_that_goes_away_mid_bulk_makes_the_requester_retry_on_silence() {
    let mut a = node_config(0);
    a.bulk_rate_bytes_per_sec = 1_000_000;
    let mut c = pfsync::sim::Cluster::new(31, &[a, node_config(1)]).unwrap();
    c.start(0).unwrap();
    c.run_for(Duration::from_millis(100));
    for n in 1..=20_000 {
        c.nodes[0].table.insert_local(tcp_state(0, n)).unwrap();
    }
    c.start(1).unwrap();
    c.run_for(Duration::from_secs(1));
    assert_eq!(
        c.nodes[0].engine.bulk_send_state(),
        pfsync::engine::SendState::Sending
    );
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Receiving);
    let received = c.nodes[1].table.len();
    assert!(received > 1000 && received < 20_000, "{received}");
    // A loses its sync interface: its sender stops.
    let mut down = c.nodes[0].config;
    down.syncdev = None;
    let now = c.now;
    c.with_node(0, |n| n.configure(now, down)).unwrap().unwrap();
    assert_eq!(
        c.nodes[0].engine.bulk_send_state(),
        pfsync::engine::SendState::Idle
    );
    // B notices the silence after the idle timeout, not after a state-limit formula.
    c.run_for(Duration::from_millis(2900));
    assert_eq!(c.nodes[1].engine.extra_stats().bulk_requests_sent, 1);
    c.run_for(Duration::from_millis(200));
    assert_eq!(c.nodes[1].engine.extra_stats().bulk_requests_sent, 2);
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Requested);
    assert_eq!(c.nodes[1].io.demotion, 240, "still demoted while retrying");
}

/// Item 1 of issue 11: B joins, A's BUS END never reaches B (here: B never
/// sees a BUS END at all), and ordinary traffic from A keeps flowing for an
/// hour of virtual time. B must not stay demoted: it retries, and in the
/// end either completes or gives up, undemoted, with syncok set.
#[test]
fn a_lost_bus_end_under_steady_traffic_does_not_keep_the_node_demoted() {
    let mut c = pfsync::sim::Cluster::new(35, &[node_config(0), node_config(1)]).unwrap();
    c.drop_frame = Some(|from, frame| from == 0 && carries_bus_end(frame));
    c.start(0).unwrap();
    c.run_for(Duration::from_millis(100));
    for n in 1..=50 {
        c.nodes[0].table.insert_local(tcp_state(0, n)).unwrap();
    }
    c.start(1).unwrap();
    let r = c.nodes[0].table.get(&state_id(0, 1)).unwrap().record;
    let mut seq = r.src.seqlo;
    let mut undemoted_at = None;
    let hour = c.now + Duration::from_secs(3600);
    while c.now < hour {
        let now = c.now;
        c.with_node(0, |a| {
            let seg = Segment {
                from_src: true,
                seq,
                len: 10,
                ack: r.dst.seqlo,
                win: 65535,
            };
            a.tcp_packet(now, &state_id(0, 1), &seg).unwrap();
        });
        seq = seq.wrapping_add(10);
        c.run_for(Duration::from_millis(500));
        if undemoted_at.is_none() && c.nodes[1].io.demotion == 0 {
            undemoted_at = Some(c.now);
        }
    }
    let b = &c.nodes[1];
    assert_eq!(b.io.demotion, 0, "undemoted in the end");
    assert!(b.engine.sync_ok(), "syncok as stock after giving up");
    assert_eq!(b.engine.bulk_request_state(), ReqState::Done);
    assert_eq!(b.engine.extra_stats().bulk_gave_up, 1);
    assert!(b.engine.extra_stats().bulk_requests_sent > 1, "it retried");
    assert!(undemoted_at.is_some_and(|t| t < hour));
}

/// True if a frame sent by the engine (no trailer) holds a BUS with status END.
fn carries_bus_end(frame: &[u8]) -> bool {
    pfsync::wire::FrameReader::new(frame).is_ok_and(|r| {
        r.into_iter().any(|e| {
            matches!(
                e,
                Ok(pfsync::wire::reader::Event::Message(pfsync::wire::Message::Bus(b)))
                    if b.status == pfsync::wire::BusStatus::End
            )
        })
    })
}

#[test]
fn an_unpaced_bulk_sends_the_whole_table_at_once() {
    let mut a = node_config(0);
    a.bulk_rate_bytes_per_sec = 0;
    let mut c = pfsync::sim::Cluster::new(32, &[a, node_config(1)]).unwrap();
    c.start(0).unwrap();
    c.run_for(Duration::from_millis(100));
    for n in 1..=1000 {
        c.nodes[0].table.insert_local(tcp_state(0, n)).unwrap();
    }
    c.start(1).unwrap();
    c.run_for(Duration::from_millis(100));
    assert_eq!(c.nodes[1].table.len(), 1000);
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Done);
}

#[test]
fn three_nodes_share_states_and_a_late_joiner_gets_them_all() {
    let mut c =
        pfsync::sim::Cluster::new(33, &[node_config(0), node_config(1), node_config(2)]).unwrap();
    c.start(0).unwrap();
    c.start(1).unwrap();
    c.run_for(Duration::from_secs(1));
    let now = c.now;
    c.with_node(0, |a| {
        for n in 1..=100 {
            a.create_state(now, tcp_state(0, n));
        }
    });
    c.with_node(1, |b| {
        for n in 1..=50 {
            b.create_state(now, tcp_state(1, n));
        }
    });
    c.run_for(Duration::from_secs(2));
    assert_eq!(c.nodes[0].table.len(), 150);
    assert_eq!(c.nodes[1].table.len(), 150);
    // Both peers answer the newcomer's request; the first BUS END completes it.
    c.start(2).unwrap();
    c.run_for(Duration::from_secs(1));
    assert_eq!(c.nodes[2].table.len(), 150);
    assert_eq!(c.nodes[2].engine.extra_stats().bulk_completed, 1);
    assert_eq!(c.nodes[2].io.demotion, 0);
    assert_eq!(
        c.nodes[0].engine.extra_stats().bulk_requests_answered,
        2,
        "B's and C's requests"
    );
}
