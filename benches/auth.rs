//! MAC cost per frame against a memcpy of the same bytes, measured in one run.
//!
//! Frame sizes: a small frame with one UPD_C (20 + 4 + 84 = 108 bytes, what an
//! idle-but-updating cluster sends most) and the largest signed frame in a
//! 1500-byte MTU: stock budgets MTU - 40 = 1460 bytes per frame, of which the
//! 44-byte trailer takes its share (1416 + 44 = 1460).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pfsync::auth::{KeySet, Signer, Verifier, KEY_LEN, TRAILER_LEN};

const SIZES: [(&str, usize); 2] = [("updc_108", 108), ("full_1416", 1416)];

fn frame(len: usize) -> Vec<u8> {
    let mut f: Vec<u8> = (0..len + TRAILER_LEN).map(|i| (i * 31 + 7) as u8).collect();
    f[0] = 5;
    f[1] = 0;
    f[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    f
}

fn keys() -> KeySet {
    let mut k = KeySet::new();
    k.install(1, &[0x5a; KEY_LEN]).unwrap();
    k
}

fn bench(c: &mut Criterion) {
    let keys = keys();
    for (name, len) in SIZES {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(len as u64));

        let src = frame(len);
        let mut dst = vec![0u8; len];
        g.bench_function("memcpy", |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&src[..len]));
                black_box(&dst);
            })
        });

        let mut signer = Signer::new([0, 0, 0, 1], 1);
        let mut buf = frame(len);
        g.bench_function("sign", |b| {
            b.iter(|| black_box(signer.sign(&keys, black_box(&mut buf), len).unwrap()))
        });

        // Verify needs a fresh counter per frame; signing is outside the timed part.
        let mut tx = Signer::new([0, 0, 0, 1], 1);
        let mut rx = Verifier::new([0, 0, 0, 2]);
        g.bench_function("verify", |b| {
            b.iter_batched_ref(
                || {
                    let mut f = frame(len);
                    tx.sign(&keys, &mut f, len).unwrap();
                    f
                },
                |f| black_box(rx.verify(&keys, black_box(f)).unwrap().frame.len()),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
