//! FreeBSD pfsync regression cases (tests/sys/netpfil/pf/pfsync.sh) rebuilt on
//! the simulator: basic sync, defer, bulk join, route-to fields, IPv6,
//! state timeout, clear.

mod common;

use common::*;
use pfsync::engine::{DeferredPacket, InsertOutcome, ReqState};
use pfsync::time::Duration;
use pfsync::wire::{IfName, MsgVersion};

#[test]
fn basic_states_reach_the_peer_and_updates_follow() {
    let mut c = pair(1);
    for n in 1..=50 {
        let now = c.now;
        let out = c
            .with_node(0, |a| a.create_state(now, tcp_state(0, n)))
            .flatten();
        assert_eq!(out, Some(InsertOutcome::Queued));
    }
    c.run_for(Duration::from_millis(1500));
    assert_eq!(
        c.nodes[1].table.len(),
        50,
        "every INS arrived within the flush interval"
    );
    let id = state_id(0, 7);
    send_forward_data(&mut c, 0, &id);
    c.run_for(Duration::from_millis(1500));
    let a = c.nodes[0].table.get(&id).unwrap().record;
    let b = c.nodes[1].table.get(&id).unwrap().record;
    assert_eq!(b.src.seqlo, a.src.seqlo, "the UPD_C carried the new seqlo");
    assert_eq!(c.nodes[1].engine.stats().iacts[4], 1, "one UPD_C received");
    assert!(
        c.nodes[0].engine.stats().oacts[13 + 2] >= 1,
        "INS_1500 sent"
    );
    // Delete: DEL_C removes the peer's copy.
    let now = c.now;
    c.with_node(0, |a| a.delete_state(now, &id));
    c.run_for(Duration::from_millis(1500));
    assert!(c.nodes[1].table.get(&id).is_none());
    assert_eq!(c.nodes[1].table.len(), 49);
}

#[test]
fn delete_of_a_state_still_queued_as_ins_sends_nothing() {
    let mut c = pair(2);
    let now = c.now;
    let before = c.nodes[0].engine.stats().oacts;
    c.with_node(0, |a| {
        a.create_state(now, tcp_state(0, 1));
        a.delete_state(now, &state_id(0, 1));
    });
    c.run_for(Duration::from_secs(2));
    let after = c.nodes[0].engine.stats().oacts;
    assert_eq!(after[7], before[7], "no DEL_C");
    assert_eq!(after[15], before[15], "no INS");
    assert!(c.nodes[1].table.is_empty());
}

#[test]
fn nosync_states_and_pfsync_protocol_are_never_sent() {
    let mut c = pair(3);
    let now = c.now;
    let mut pfsync_state = tcp_state(0, 2);
    pfsync_state.wire_proto = 240;
    let outs = c
        .with_node(0, |a| {
            (
                a.create_state_with(now, tcp_state(0, 1), true, None),
                a.create_state(now, pfsync_state),
            )
        })
        .unwrap();
    assert_eq!(outs.0.map(|o| o.0), Some(InsertOutcome::SetNoSync));
    assert_eq!(outs.1, Some(InsertOutcome::SetNoSync));
    c.with_node(0, |a| {
        a.update_state(now, &state_id(0, 1), |r| r.src.seqlo += 1)
    });
    c.run_for(Duration::from_secs(2));
    assert!(c.nodes[1].table.is_empty());
}

#[test]
fn defer_holds_the_packet_until_the_peer_acknowledges() {
    let mut a = node_config(0);
    a.defer = true;
    let mut c = pair_with(4, a, node_config(1));
    let now = c.now;
    let rec = tcp_state(0, 1);
    let deferred = c
        .with_node(0, |a| {
            a.create_state_with(now, rec, false, Some(DeferredPacket(77)))
        })
        .flatten()
        .map(|(_, d)| d);
    assert_eq!(deferred, Some(true));
    assert!(c.nodes[0].io.released.is_empty());
    // The INS leaves at once; B answers INS_ACK; A releases well before 20 ms.
    c.run_for(Duration::from_millis(5));
    assert_eq!(c.nodes[0].io.released, vec![DeferredPacket(77)]);
    assert_eq!(c.nodes[0].engine.extra_stats().defer_released_ack, 1);
    assert_eq!(c.nodes[1].engine.stats().oacts[2], 1, "B sent one INS_ACK");
}

#[test]
fn defer_releases_after_the_delay_when_the_peer_is_silent() {
    let mut a = node_config(0);
    a.defer = true;
    let mut c = pair_with(5, a, node_config(1));
    c.partition(0, 1, true);
    let now = c.now;
    let rec = tcp_state(0, 1);
    c.with_node(0, |a| {
        a.create_state_with(now, rec, false, Some(DeferredPacket(9)))
    });
    c.run_for(Duration::from_millis(19));
    assert!(c.nodes[0].io.released.is_empty());
    c.run_for(Duration::from_millis(2));
    assert_eq!(c.nodes[0].io.released, vec![DeferredPacket(9)]);
    assert_eq!(c.nodes[0].engine.extra_stats().defer_released_timeout, 1);
    assert_eq!(
        c.nodes[0].table.get(&state_id(0, 1)).unwrap().slot.deferred,
        0
    );
}

#[test]
fn defer_drops_the_packet_when_the_state_is_deleted() {
    let mut a = node_config(0);
    a.defer = true;
    let mut c = pair_with(6, a, node_config(1));
    c.partition(0, 1, true);
    let now = c.now;
    c.with_node(0, |a| {
        a.create_state_with(now, tcp_state(0, 1), false, Some(DeferredPacket(5)));
        a.delete_state(now, &state_id(0, 1));
    });
    assert_eq!(c.nodes[0].io.dropped, vec![DeferredPacket(5)]);
    c.run_for(Duration::from_millis(50));
    assert!(c.nodes[0].io.released.is_empty());
}

#[test]
fn bulk_join_brings_a_new_node_up_to_date_and_undemotes() {
    let mut c = pfsync::sim::Cluster::new(7, &[node_config(0), node_config(1)]).unwrap();
    c.start(0).unwrap();
    c.run_for(Duration::from_secs(1));
    for n in 1..=1000 {
        let now = c.now;
        c.with_node(0, |a| a.create_state(now, tcp_state(0, n)));
    }
    c.run_for(Duration::from_secs(2));
    c.start(1).unwrap();
    assert_eq!(c.nodes[1].io.demotion, 240, "demoted while the bulk runs");
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Requested);
    c.run_for(Duration::from_secs(1));
    assert_eq!(c.nodes[1].table.len(), 1000);
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Done);
    assert!(c.nodes[1].engine.sync_ok());
    assert_eq!(c.nodes[1].io.demotion, 0, "undemoted on BUS END");
    assert_eq!(c.nodes[1].engine.extra_stats().bulk_completed, 1);
    assert_eq!(c.nodes[0].engine.extra_stats().bulk_states, 1000);
}

#[test]
fn bulk_request_gives_up_cleanly_without_a_peer() {
    let mut c = pfsync::sim::Cluster::new(8, &[node_config(0)]).unwrap();
    c.start(0).unwrap();
    assert_eq!(c.nodes[0].io.demotion, 240);
    // Stock: the first request and 12 retries, 5 s apart.
    c.run_for(Duration::from_secs(5 * 13 + 1));
    assert_eq!(c.nodes[0].io.demotion, 0);
    assert_eq!(c.nodes[0].engine.extra_stats().bulk_gave_up, 1);
    assert_eq!(c.nodes[0].engine.extra_stats().bulk_requests_sent, 13);
    assert!(c.nodes[0].engine.sync_ok());
}

#[test]
fn route_to_fields_survive_the_trip() {
    for v in [MsgVersion::V1400, MsgVersion::V1500] {
        let mut c = pair_with(9, with_version(node_config(0), v), node_config(1));
        let mut r = tcp_state(0, 1);
        r.rt = 2;
        r.rt_addr[..4].copy_from_slice(&[198, 51, 100, 7]);
        r.rt_af = AF_INET;
        r.rt_ifname = IfName::new("em2").unwrap();
        let now = c.now;
        c.with_node(0, |a| a.create_state(now, r));
        c.run_for(Duration::from_millis(1500));
        let got = c.nodes[1].table.get(&r.id).expect("imported").record;
        assert_eq!(
            (got.rt, got.rt_addr, got.rt_ifname),
            (r.rt, r.rt_addr, r.rt_ifname),
            "{v:?}"
        );
    }
}

#[test]
fn ipv6_states_sync() {
    let mut c = pair(10);
    let mut r = tcp_state(0, 1);
    r.wire_af = AF_INET6;
    r.stack_af = AF_INET6;
    r.key[0].addr[0] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    r.key[0].addr[1] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    r.key[1] = r.key[0];
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, r));
    c.run_for(Duration::from_millis(1500));
    let got = c.nodes[1].table.get(&r.id).expect("imported").record;
    assert_eq!(got.key, r.key);
    assert_eq!(got.wire_af, AF_INET6);
}

#[test]
fn expired_state_is_removed_on_the_peer() {
    let mut c = pair(11);
    let mut r = tcp_state(0, 1);
    r.wire_proto = UDP;
    r.stack_proto = UDP;
    r.src = Default::default();
    r.dst = Default::default();
    r.timeout = 7; // PFTM_UDP_SINGLE, 30 s
    let now = c.now;
    c.with_node(0, |a| a.create_state(now, r));
    c.run_for(Duration::from_secs(2));
    assert_eq!(c.nodes[1].table.len(), 1);
    c.run_for(Duration::from_secs(29));
    let now = c.now;
    let gone = c.with_node(0, |a| a.expire_states(now)).unwrap();
    assert_eq!(gone, 1);
    c.run_for(Duration::from_secs(2));
    assert!(c.nodes[1].table.is_empty());
}

#[test]
fn clear_removes_the_creators_states_on_the_peer() {
    let mut c = pair(12);
    let now = c.now;
    c.with_node(0, |a| {
        for n in 1..=10 {
            a.create_state(now, tcp_state(0, n));
        }
    });
    c.with_node(1, |b| b.create_state(now, tcp_state(1, 1)));
    c.run_for(Duration::from_secs(2));
    assert_eq!(c.nodes[1].table.len(), 11);
    let now = c.now;
    c.with_node(0, |a| a.clear_states(now, &IfName::EMPTY));
    c.run_for(Duration::from_millis(10));
    assert_eq!(c.nodes[1].table.len(), 1, "only B's own state is left");
    assert_eq!(c.nodes[1].engine.stats().iacts[0], 1);
}
