//! The engine driven the way the kernel shim drives it: hook events parked
//! per state and delivered in batches by a task, updates folded into a count,
//! deferrals handed over after the state events of the same batch.

mod common;

use common::*;
use pfsync::engine::{DeferredPacket, PFSTATE_ACK};
use pfsync::sim::{Cluster, HookDelivery, Segment};
use pfsync::time::Duration;
use pfsync::wire::{FrameBuilder, MsgVersion};

const TASK_LATENCY: Duration = Duration::from_millis(1);

fn shim_like(c: &mut Cluster) {
    for n in c.nodes.iter_mut() {
        n.hook_delivery = HookDelivery::Inbox {
            latency: TASK_LATENCY,
        };
    }
}

/// Item 3 of issue 11: with maxupd 4, pf updates a state 6 times in 3
/// drains of 2 folded updates each. Stock would have pushed at the 5th
/// update; counting drains instead of updates waits for the 1 s flush.
#[test]
fn maxupd_counts_every_folded_update_not_every_drain() {
    let mut a = node_config(0);
    a.maxupd = 4;
    let mut c = pair_with(41, a, node_config(1));
    shim_like(&mut c);
    let id = state_id(0, 1);
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
    c.run_for(Duration::from_secs(3));
    assert_eq!(c.nodes[1].table.len(), 1);
    let sent_before = c.nodes[0].io.frames_sent;
    let r = c.nodes[0].table.get(&id).unwrap().record;
    let mut seq = r.src.seqlo;
    for drain in 0..3 {
        let now = c.now;
        c.with_node(0, |a| {
            for _ in 0..2 {
                let seg = Segment {
                    from_src: true,
                    seq,
                    len: 100,
                    ack: r.dst.seqlo,
                    win: 65535,
                };
                seq = seq.wrapping_add(100);
                a.tcp_packet(now, &id, &seg).unwrap();
            }
            assert_eq!(a.inbox_len(), 1, "two updates parked as one entry");
        });
        c.run_for(TASK_LATENCY + Duration::from_micros(10));
        let pushed = c.nodes[0].io.frames_sent - sent_before;
        assert_eq!(pushed, u64::from(drain == 2), "after drain {drain}");
    }
    // B has the 6th update's sequence numbers without waiting for the flush.
    c.run_for(Duration::from_millis(1));
    assert_eq!(c.nodes[1].table.get(&id).unwrap().record.src.seqlo, seq);
}

/// One drain with more updates than maxupd pushes at once.
#[test]
fn a_drain_folding_more_than_maxupd_updates_pushes_at_once() {
    let mut c = pair(42);
    shim_like(&mut c);
    let id = state_id(0, 1);
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, tcp_state(0, 1)));
    c.run_for(Duration::from_secs(3));
    let urgent_before = c.nodes[0].engine.extra_stats().push_urgent;
    let r = c.nodes[0].table.get(&id).unwrap().record;
    let now = c.now;
    c.with_node(0, |a| {
        let mut seq = r.src.seqlo;
        for _ in 0..200 {
            let seg = Segment {
                from_src: true,
                seq,
                len: 10,
                ack: r.dst.seqlo,
                win: 65535,
            };
            seq = seq.wrapping_add(10);
            a.tcp_packet(now, &id, &seg).unwrap();
        }
    });
    c.run_for(TASK_LATENCY + Duration::from_micros(10));
    assert_eq!(
        c.nodes[0].engine.extra_stats().push_urgent,
        urgent_before + 1
    );
}

/// Item 6b of issue 11: the reply to a deferred first packet updates the
/// state before the shim's task has handed the deferral to the engine (it
/// delivers state events first). Stock releases the packet at that update;
/// it must not wait for the defer timeout.
#[test]
fn an_update_parked_before_its_deferral_releases_the_packet() {
    let mut a = node_config(0);
    a.defer = true;
    a.defer_delay = Duration::from_millis(20);
    let mut c = pair_with(43, a, node_config(1));
    shim_like(&mut c);
    let id = state_id(0, 1);
    let rec = tcp_state(0, 1);
    let now = c.now;
    c.with_node(0, |a| {
        let (_, deferred) = a
            .create_state_with(now, rec, false, Some(DeferredPacket(7)))
            .unwrap();
        assert!(deferred, "the shim parks the packet");
        let seg = Segment {
            from_src: false,
            seq: rec.dst.seqlo,
            len: 0,
            ack: rec.src.seqlo,
            win: 65535,
        };
        a.tcp_packet(now, &id, &seg).unwrap();
    });
    c.run_for(TASK_LATENCY + Duration::from_micros(10));
    assert_eq!(c.nodes[0].io.released, [DeferredPacket(7)]);
    assert_eq!(c.nodes[0].engine.deferred_count(), 0);
    assert_eq!(c.nodes[0].engine.extra_stats().defer_released_timeout, 0);
    assert_eq!(c.nodes[0].engine.extra_stats().defer_released_update, 1);
    // The INS still goes out at once.
    c.run_for(Duration::from_millis(1));
    assert_eq!(c.nodes[1].table.len(), 1);
}

/// Item 6a of issue 11: a full UPD for an unknown state that carries
/// PFSTATE_ACK (a deferring sender whose INS was lost, answered by a bulk or
/// an UPD_REQ) is imported and acknowledged, as stock does for every import.
#[test]
fn a_state_imported_from_a_full_update_with_the_ack_flag_is_acknowledged() {
    let mut c = pair(44);
    let mut rec = tcp_state(0, 9);
    rec.state_flags.insert(PFSTATE_ACK);
    let mut buf = vec![0u8; 1500];
    let mut b = FrameBuilder::new(&mut buf, 1480).unwrap();
    b.push_upd(MsgVersion::V1500, &rec).unwrap();
    let len = b.finish([0; 16], true);
    buf.truncate(len);
    let acks_before = c.nodes[1].engine.stats().oacts[2];
    let now = c.now;
    c.with_node(1, |n| {
        n.receive(
            now,
            pfsync::engine::RxMeta::valid(pfsync::engine::IpFamily::V4),
            &buf,
        )
    });
    assert!(c.nodes[1].table.get(&rec.id).is_some(), "imported");
    c.run_for(Duration::from_millis(1));
    assert_eq!(
        c.nodes[1].engine.stats().oacts[2],
        acks_before + 1,
        "INS_ACK"
    );
}
