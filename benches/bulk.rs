//! Wall-clock cost of generating a full bulk update of 1,000,000 states
//! (walk, eligibility checks, export, frame assembly, transmit funnel) with
//! pacing out of the way, over the O(1) benchmark host.

use criterion::{criterion_group, criterion_main, Criterion};
use pfsync::engine::{Config, Engine, IpFamily, RxMeta};
use pfsync::sim::FlatHost;
use pfsync::time::{Duration, Instant};
use pfsync::wire::{FrameBuilder, IfName, UpdReq};

const STATES: u64 = 1_000_000;

fn bulk_request_frame() -> Vec<u8> {
    let mut buf = vec![0u8; 128];
    let len = match FrameBuilder::new(&mut buf, 128) {
        Ok(mut b) => {
            let _ = b.push_upd_req(&UpdReq::BULK);
            b.finish([0; 16], true)
        }
        Err(_) => 0,
    };
    buf.truncate(len);
    buf
}

fn bulk_generation(c: &mut Criterion) {
    let mut host = FlatHost::with_established_tcp(STATES);
    let mut cfg = Config::new([0, 0, 0, 1]);
    cfg.syncdev = IfName::new("em1");
    cfg.up = true;
    cfg.bulk_rate_bytes_per_sec = u64::MAX / 4;
    let mut engine = Engine::new(cfg).unwrap_or_else(|e| panic!("{e:?}"));
    let mut now = Instant::from_secs(100);
    let _ = engine.on_config_changed(now, &cfg, &mut host);
    let request = bulk_request_frame();
    let mut group = c.benchmark_group("bulk");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(20));
    group.bench_function("generate_1M_states_v1500", |b| {
        b.iter(|| {
            let frames_before = host.frames;
            now = now + Duration::from_secs(10);
            engine.on_frame_received(now, RxMeta::valid(IpFamily::V4), &request, &mut host);
            while let Some(t) = engine.poll_timeout() {
                if t > now + Duration::from_secs(1) {
                    break;
                }
                now = now.max(t);
                engine.handle_timeout(now, &mut host);
            }
            assert!(host.frames - frames_before >= STATES / 4);
        })
    });
    group.finish();
}

criterion_group!(benches, bulk_generation);
criterion_main!(benches);
