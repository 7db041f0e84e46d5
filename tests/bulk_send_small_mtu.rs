//! Found by the engine fuzz target: a bulk request arriving while pfsync0's
//! MTU is too small for one full state (accepted: the MTU check asks room
//! for two id records) made the bulk sender loop for ever, a frame at a
//! time that never held a record, inside one `handle_timeout`.

mod common;

use common::*;
use pfsync::engine::{IpFamily, RxMeta, SendState};
use pfsync::sim::Node;
use pfsync::time::{Duration, Instant};
use pfsync::wire::{FrameBuilder, UpdReq};
use std::sync::mpsc;

#[test]
fn a_bulk_request_under_an_mtu_too_small_for_a_state_is_abandoned() {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut config = node_config(0);
        config.mtu = 120;
        config.bulk_request_timeout = Duration::from_millis(100);
        config.bulk_max_tries = 0;
        let mut node = Node::new(config).expect("node");
        let mut now = Instant::from_secs(100);
        node.configure(now, config)
            .expect("an MTU of 120 is accepted");
        for n in 1..=10 {
            node.table.insert_local(tcp_state(0, n)).expect("insert");
        }
        let mut buf = vec![0u8; 1500];
        let mut b = FrameBuilder::new(&mut buf, 100).expect("builder");
        b.push_upd_req(&UpdReq::BULK).expect("room");
        let n = b.finish([0; 16], true);
        node.receive(now, RxMeta::valid(IpFamily::V4), &buf[..n]);
        for _ in 0..100 {
            now = now + Duration::from_millis(10);
            node.handle_timeout(now);
        }
        let _ = done.send((
            node.engine.bulk_send_state(),
            node.engine.extra_stats().bulk_states,
            node.engine.extra_stats().bulk_send_abandoned,
        ));
    });
    let (state, sent, abandoned) = finished
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the bulk sender never returned");
    assert_eq!(state, SendState::Idle);
    assert_eq!(sent, 0);
    assert_eq!(abandoned, 1);
}
