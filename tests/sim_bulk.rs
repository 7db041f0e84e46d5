//! Bulk update of a large table over a simulated 1 Gb/s link: frames, bytes,
//! packing efficiency, virtual time, engine memory.

mod common;

use common::*;
use pfsync::engine::ReqState;
use pfsync::sim::Cluster;
use pfsync::time::Duration;
use pfsync::wire::MsgVersion;

struct BulkReport {
    states: u64,
    frames: u64,
    bytes: u64,
    /// Records per frame relative to the most the MTU allows.
    packing: f64,
    virtual_ms: u64,
    engine_bytes: usize,
}

fn bulk_run(states: u64, version: MsgVersion) -> BulkReport {
    let mut c = Cluster::new(77, &[with_version(node_config(0), version), node_config(1)]).unwrap();
    c.start(0).unwrap();
    c.run_for(Duration::from_millis(100));
    for n in 1..=states {
        c.nodes[0].table.insert_local(tcp_state(0, n)).unwrap();
    }
    let bytes_before = c.nodes[0].io.bytes_sent;
    let frames_before = c.nodes[0].engine.extra_stats().bulk_frames;
    let start = c.now;
    c.start(1).unwrap();
    while c.nodes[1].engine.bulk_request_state() != ReqState::Done
        && c.now < start + Duration::from_secs(60)
    {
        c.run_for(Duration::from_millis(10));
    }
    let virtual_ms = c.now.saturating_since(start).as_millis();
    assert_eq!(c.nodes[1].engine.bulk_request_state(), ReqState::Done);
    assert_eq!(c.nodes[1].table.len() as u64, states, "every state arrived");
    assert_eq!(c.nodes[1].io.demotion, 0);
    let a = c.nodes[0].engine.extra_stats();
    let frames = a.bulk_frames - frames_before;
    let cfg = c.nodes[0].config;
    let budget = usize::from(cfg.mtu) - cfg.ip_header_len();
    let optimal = ((budget - 28) / version.state_len()) as f64;
    BulkReport {
        states: a.bulk_states,
        frames,
        bytes: c.nodes[0].io.bytes_sent - bytes_before,
        packing: a.bulk_states as f64 / (frames as f64 * optimal),
        virtual_ms,
        engine_bytes: c.nodes[0].engine.memory_bytes(),
    }
}

fn print(label: &str, r: &BulkReport) {
    println!(
        "{label}: {} states, {} frames, {} bytes ({:.1} B/state), packing {:.4} of optimal, \
         {} ms virtual at 1 Gb/s, sender engine memory {} bytes ({:.6} B per state)",
        r.states,
        r.frames,
        r.bytes,
        r.bytes as f64 / r.states as f64,
        r.packing,
        r.virtual_ms,
        r.engine_bytes,
        r.engine_bytes as f64 / r.states as f64
    );
}

#[test]
fn bulk_packs_every_frame() {
    for v in [MsgVersion::V1400, MsgVersion::V1500] {
        let r = bulk_run(20_000, v);
        print(&format!("bulk 20k {v:?}"), &r);
        assert!(r.packing >= 0.99, "packing {}", r.packing);
    }
}

#[test]
#[ignore = "1M states: run in release (scripts/stages/40-sim-bulk.sh)"]
fn bulk_of_a_million_states() {
    let r = bulk_run(1_000_000, MsgVersion::V1500);
    print("bulk 1M V1500", &r);
    assert!(r.packing >= 0.99);
    assert!(r.virtual_ms <= 5_000, "{} ms", r.virtual_ms);
}
