//! Wire codec cost per record against a memcpy of the same bytes, both measured
//! in the same run. Each iteration handles a batch of `BATCH` records laid out
//! back to back, as in a frame; `scripts/bench-wire-ratios.sh` divides by
//! `BATCH` and prints ns/record and the ratios (and, with `--callgrind`,
//! instruction counts, which a loaded machine does not disturb).
//!
//! Two baselines, both copying the same bytes:
//! - memcpy: the whole batch in one call (the fastest copy there is: the
//!   strict baseline);
//! - memcpy_record: record by record into a record-sized buffer, the unit
//!   every decoder below works on.
//!
//! - validate: `StateView::new_checked` (`UpdCView::new_checked` for UPD_C),
//!   every receive check, fields decoded on access: what the engine's
//!   receive path does with each record.
//! - decode: `StateRecord::decode_into` a reused record (`UpdC::decode` for
//!   UPD_C), checks included: the owned form, built only to import a state.
//! - parse: `StateRecord::parse`, a new owned record per call.
//! - encode: `emit` into the frame buffer.

use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput,
};
use pfsync::wire::samples;
use pfsync::wire::{MsgVersion, StateChecks, StateRecord, StateView, UpdC, UpdCView};

const BATCH: usize = 64;

/// Both memcpy baselines over `wire`, a batch of `len`-byte records.
fn bench_copies(g: &mut BenchmarkGroup<'_, WallTime>, wire: &[u8], len: usize) {
    let mut out = vec![0u8; wire.len()];
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            out.copy_from_slice(black_box(wire));
            black_box(&out);
        })
    });
    let mut record_buf = vec![0u8; len];
    g.bench_function("memcpy_record", |b| {
        b.iter(|| {
            for rec in black_box(wire).chunks_exact(len) {
                record_buf.copy_from_slice(rec);
                black_box(&record_buf);
            }
        })
    });
}

/// `op` applied to each `len`-byte record of `wire` in turn.
fn bench_each(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    wire: &[u8],
    len: usize,
    mut op: impl FnMut(&[u8]),
) {
    g.bench_function(name, |b| {
        b.iter(|| {
            for rec in black_box(wire).chunks_exact(len) {
                op(rec);
            }
        })
    });
}

fn bench_states(c: &mut Criterion) {
    for (name, v) in [
        ("state_1301", MsgVersion::V1301),
        ("state_1400", MsgVersion::V1400),
        ("state_1500", MsgVersion::V1500),
    ] {
        let len = v.state_len();
        let states: Vec<StateRecord> = (0..BATCH).map(|i| samples::state(v, i as u8)).collect();
        let mut wire = vec![0u8; len * BATCH];
        for (s, dst) in states.iter().zip(wire.chunks_mut(len)) {
            s.emit(v, dst).unwrap();
        }
        let mut out = vec![0u8; len * BATCH];
        let mut scratch = StateRecord::default();

        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(BATCH as u64));
        bench_copies(&mut g, &wire, len);
        bench_each(&mut g, "validate", &wire, len, |rec| {
            let view = StateView::new_checked(rec, v, StateChecks::Insert).unwrap();
            black_box(&view);
        });
        bench_each(&mut g, "decode", &wire, len, |rec| {
            scratch.decode_into(rec, v, StateChecks::Insert).unwrap();
            black_box(&scratch);
        });
        bench_each(&mut g, "parse", &wire, len, |rec| {
            let parsed = StateRecord::parse(rec, v).unwrap();
            black_box(&parsed);
        });
        g.bench_function("encode", |b| {
            b.iter(|| {
                for (s, dst) in black_box(&states).iter().zip(out.chunks_exact_mut(len)) {
                    black_box(s.emit(v, dst).unwrap());
                }
                black_box(&out);
            })
        });
        g.finish();
    }
}

fn bench_upd_c(c: &mut Criterion) {
    let recs: Vec<UpdC> = (0..BATCH).map(|i| samples::upd_c(i as u8)).collect();
    let len = UpdC::LEN;
    let mut wire = vec![0u8; len * BATCH];
    for (u, dst) in recs.iter().zip(wire.chunks_mut(len)) {
        u.emit(dst).unwrap();
    }
    let mut out = vec![0u8; len * BATCH];
    let mut g = c.benchmark_group("upd_c");
    g.throughput(Throughput::Elements(BATCH as u64));
    bench_copies(&mut g, &wire, len);
    bench_each(&mut g, "validate", &wire, len, |rec| {
        let view = UpdCView::new_checked(rec).unwrap();
        black_box(&view);
    });
    bench_each(&mut g, "decode", &wire, len, |rec| {
        let decoded = UpdC::decode(rec).unwrap();
        black_box(&decoded);
    });
    bench_each(&mut g, "parse", &wire, len, |rec| {
        let parsed = UpdC::parse(rec).unwrap();
        black_box(&parsed);
    });
    g.bench_function("encode", |b| {
        b.iter(|| {
            for (u, dst) in black_box(&recs).iter().zip(out.chunks_exact_mut(len)) {
                black_box(u.emit(dst).unwrap());
            }
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, bench_states, bench_upd_c);
criterion_main!(benches);
