//! Bulk pacing (issue 14, part 4): the default pace follows the sync link's
//! speed, and a bulk never puts more on the link than the configured pace
//! allows, measured on the virtual clock.

mod common;

use common::*;
use pfsync::engine::pacing::{bulk_rate, bulk_rate_for_link, DEFAULT_BULK_RATE_BYTES_PER_SEC};
use pfsync::engine::{Config, IpFamily, RxMeta, SendState};
use pfsync::sim::Node;
use pfsync::time::{Duration, Instant};
use pfsync::wire::{FrameBuilder, UpdReq};

const IP_HEADER: u64 = 20;

fn bulk_request_frame() -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut b = FrameBuilder::new(&mut buf, 1480).expect("builder");
    b.push_upd_req(&UpdReq::BULK).expect("room");
    let n = b.finish([0; 16], true);
    buf.truncate(n);
    buf
}

/// Answers one bulk request from a node holding `states` states and
/// returns (instant, link bytes of the frame) for every frame it sent.
fn bulk_trace(config: Config, states: u64) -> Vec<(Instant, u64)> {
    let mut node = Node::new(config).expect("node");
    let mut now = Instant::from_secs(100);
    node.configure(now, config).expect("configure");
    // Let the node's own bulk request fail first: only the answer is measured.
    for _ in 0..2_000 {
        now = now + Duration::from_millis(1);
        node.handle_timeout(now);
    }
    node.io.outbox.clear();
    for n in 1..=states {
        node.table.insert_local(tcp_state(1, n)).expect("insert");
    }
    node.receive(now, RxMeta::valid(IpFamily::V4), &bulk_request_frame());
    let mut trace = Vec::new();
    let step = Duration::from_micros(100);
    for _ in 0..2_000_000 {
        for f in node.io.outbox.drain(..) {
            trace.push((now, f.len() as u64 + IP_HEADER));
        }
        if node.engine.bulk_send_state() == SendState::Idle && node.poll_timeout().is_none() {
            break;
        }
        now = now + step;
        if node.poll_timeout().is_some_and(|t| t <= now) {
            node.handle_timeout(now);
        }
    }
    assert_eq!(
        node.engine.bulk_send_state(),
        SendState::Idle,
        "bulk did not end"
    );
    assert_eq!(node.engine.extra_stats().bulk_states, states);
    trace
}

/// The most bytes sent in any window [s, t] beyond `rate * (t - s)`.
fn worst_excess(trace: &[(Instant, u64)], rate: u64) -> i128 {
    let mut worst = i128::MIN;
    for (i, &(s, _)) in trace.iter().enumerate() {
        let mut sent = 0i128;
        for &(t, bytes) in &trace[i..] {
            sent += i128::from(bytes);
            let allowed =
                i128::from(rate) * i128::from(t.saturating_since(s).as_nanos()) / 1_000_000_000;
            worst = worst.max(sent - allowed);
        }
    }
    worst
}

fn paced_config(rate: u64) -> Config {
    let mut c = node_config(0);
    c.bulk_rate_bytes_per_sec = rate;
    c.bulk_tick = Duration::from_millis(1);
    // Alone, the node's own bulk request gives up quickly and stays quiet.
    c.bulk_request_timeout = Duration::from_millis(100);
    c.bulk_max_tries = 0;
    c
}

#[test]
fn the_default_pace_is_derived_from_the_link_capped_and_the_knob_wins() {
    assert_eq!(
        Config::new([0; 4]).bulk_rate_bytes_per_sec,
        DEFAULT_BULK_RATE_BYTES_PER_SEC
    );
    assert_eq!(bulk_rate(0, 100_000_000), 10_000_000, "100 Mb/s link");
    assert_eq!(bulk_rate(0, 1_000_000_000), 100_000_000, "1 Gb/s link");
    assert_eq!(
        bulk_rate(0, 10_000_000_000),
        DEFAULT_BULK_RATE_BYTES_PER_SEC,
        "10 Gb/s link, or a virtual NIC claiming it: capped"
    );
    assert_eq!(
        bulk_rate(0, 0),
        DEFAULT_BULK_RATE_BYTES_PER_SEC,
        "unknown speed"
    );
    assert_eq!(
        bulk_rate(2_500_000, 10_000_000_000),
        2_500_000,
        "explicit knob"
    );
}

#[test]
fn a_bulk_over_a_100_mbit_link_never_exceeds_its_pace() {
    let rate = bulk_rate_for_link(100_000_000);
    let trace = bulk_trace(paced_config(rate), 20_000);
    let total: u64 = trace.iter().map(|&(_, b)| b).sum();
    let (first, last) = (trace[0].0, trace[trace.len() - 1].0);
    // The token bucket may hold two ticks' worth or one full frame, and
    // starts with one frame: that is all a window may exceed the pace by.
    let burst = (2 * rate / 1000).max(1500) + 1500;
    let excess = worst_excess(&trace, rate);
    assert!(
        excess <= burst as i128,
        "{excess} bytes over the pace (burst {burst})"
    );
    // And it is not slower than it needs to be: within 5% plus a tick.
    let ideal = total.saturating_sub(burst) * 1_000_000_000 / rate;
    let took = last.saturating_since(first).as_nanos();
    assert!(took >= ideal, "{took} ns for {total} bytes at {rate} B/s");
    assert!(
        took <= ideal * 105 / 100 + 1_000_000,
        "{took} ns, ideal {ideal}"
    );
}

#[test]
fn a_bulk_at_the_1_gbit_pace_never_exceeds_it() {
    let rate = bulk_rate_for_link(1_000_000_000);
    let trace = bulk_trace(paced_config(rate), 20_000);
    let burst = (2 * rate / 1000).max(1500) + 1500;
    let excess = worst_excess(&trace, rate);
    assert!(
        excess <= burst as i128,
        "{excess} bytes over the pace (burst {burst})"
    );
}
