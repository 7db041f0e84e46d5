//! Writes the seed corpora of the engine and config fuzz targets (input
//! formats in fuzz/fuzz_targets/engine.rs and config.rs):
//!
//!     fuzz_target_seeds engine FRAME_SEEDS_DIR OUT_DIR
//!     fuzz_target_seeds config OUT_DIR
//!
//! The engine seeds wrap every frame seed of the frame reader (written by
//! `fuzz_seeds`) in each setup (FreeBSD 14/15, OpenBSD, authentication,
//! anti-entropy) and add scenarios: a bulk request answered over time, a
//! bulk received (BUS START, states, BUS END), anti-entropy messages, a
//! replayed and an altered signed frame. Files are named generated-*.

use std::path::Path;
use std::process::ExitCode;

use pfsync::antientropy::wire::{FrameWriter as AeWriter, Kind};
use pfsync::ffi::sys;
use pfsync::wire::{samples, BusStatus, FrameBuilder, MsgVersion, UpdReq};

const PEER_HOSTID: [u8; 4] = [0xc1, 0xc2, 0xc3, 0x03];

// Setup byte bits (engine.rs): dialect (bits 0-1) with the version we send
// (bits 5-6), authentication, anti-entropy.
const FREEBSD14: u8 = 0x20;
const FREEBSD15: u8 = 0x41;
const OPENBSD: u8 = 0x42;
const AUTH: u8 = 0x04;
const ANTI_ENTROPY: u8 = 0x08;
// Step opcodes and frame flags.
const OP_FRAME: u8 = 0;
const OP_TIME: u8 = 1;
const OP_CREATE: u8 = 2;
const OP_UPDATE: u8 = 3;
const SIGN: u8 = 8;
const ALTER: u8 = 16;
const REPLAY: u8 = 32;

struct Seeds {
    dir: String,
    written: usize,
}

impl Seeds {
    fn save(&mut self, name: &str, bytes: &[u8]) {
        let path = format!("{}/generated-{name}", self.dir);
        match std::fs::write(&path, bytes) {
            Ok(()) => self.written += 1,
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
}

fn frame_step(out: &mut Vec<u8>, flags: u8, frame: &[u8]) {
    let len = u16::try_from(frame.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&[OP_FRAME, flags]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(frame.get(..usize::from(len)).unwrap_or(frame));
}

fn time_step(out: &mut Vec<u8>, ms: u16) {
    out.push(OP_TIME);
    out.extend_from_slice(&ms.to_be_bytes());
}

fn freebsd_frame(push: impl FnOnce(&mut FrameBuilder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let Ok(mut b) = FrameBuilder::new(&mut buf, 1460) else {
        return Vec::new();
    };
    push(&mut b);
    let n = b.finish([0; 16], true);
    buf.truncate(n);
    buf
}

fn anti_entropy_frame(kind: Kind, bits: u8, items: u32) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let Some(mut w) = AeWriter::new(&mut buf, 1436, &[0; 16], kind, PEER_HOSTID, 1, bits, 0, 0)
    else {
        return Vec::new();
    };
    for i in 0..items {
        match kind {
            Kind::Digest => w.push_hash(u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            Kind::DetailReq => w.push_bucket(i),
            Kind::Detail => {
                let mut id = samples::state_id(u8::try_from(i).unwrap_or(0));
                id.creatorid = PEER_HOSTID;
                w.push_entry(&id, u64::from(i) << 7)
            }
        };
    }
    let n = w.finish();
    buf.truncate(n);
    buf
}

fn engine_seeds(frames_dir: &Path, seeds: &mut Seeds) -> std::io::Result<()> {
    let mut frames = Vec::new();
    for entry in std::fs::read_dir(frames_dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if let Some(kind) = name.strip_prefix("generated-") {
            frames.push((kind.to_owned(), std::fs::read(&path)?));
        }
    }
    frames.sort();
    for (kind, frame) in &frames {
        let setups: &[(&str, u8, u8)] = if kind.starts_with("openbsd") {
            &[("openbsd", OPENBSD, 0)]
        } else {
            &[
                ("fbsd15", FREEBSD15, 0),
                ("fbsd14", FREEBSD14, 0),
                ("fbsd15-auth", FREEBSD15 | AUTH, SIGN),
                ("fbsd15-ae", FREEBSD15 | ANTI_ENTROPY, 0),
            ]
        };
        for &(setup_name, setup, flags) in setups {
            let mut s = vec![setup, 3];
            frame_step(&mut s, flags, frame);
            time_step(&mut s, 1000);
            seeds.save(&format!("engine-{setup_name}-{kind}"), &s);
        }
    }

    // The peer asks for our table; we answer over several ticks.
    let request = freebsd_frame(|b| {
        let _ = b.push_upd_req(&UpdReq::BULK);
    });
    let mut s = vec![FREEBSD15, 7];
    frame_step(&mut s, 0, &request);
    for _ in 0..4 {
        time_step(&mut s, 2);
    }
    s.extend_from_slice(&[OP_UPDATE, 1]);
    time_step(&mut s, 1000);
    seeds.save("engine-bulk-answered", &s);

    // We receive a bulk: START, states, END.
    let start = freebsd_frame(|b| {
        let _ = b.push_bus(&samples::bus(BusStatus::Start));
    });
    let states = freebsd_frame(|b| {
        for n in 2..6 {
            let _ = b.push_upd(MsgVersion::V1500, &samples::state(MsgVersion::V1500, n));
        }
    });
    let end = freebsd_frame(|b| {
        let _ = b.push_bus(&samples::bus(BusStatus::End));
    });
    for (name, setup, flags) in [("plain", FREEBSD15, 0), ("auth", FREEBSD15 | AUTH, SIGN)] {
        let mut s = vec![setup, 2];
        time_step(&mut s, 10);
        for f in [&start, &states, &end] {
            frame_step(&mut s, flags, f);
            time_step(&mut s, 50);
        }
        seeds.save(&format!("engine-bulk-received-{name}"), &s);
    }

    // Anti-entropy messages, plain and signed.
    for (name, kind, items) in [
        ("digest", Kind::Digest, 16),
        ("detail-req", Kind::DetailReq, 4),
        ("detail", Kind::Detail, 6),
    ] {
        let frame = anti_entropy_frame(kind, 4, items);
        for (setup_name, setup, flags) in [
            ("plain", FREEBSD15 | ANTI_ENTROPY, 0),
            ("auth", FREEBSD15 | ANTI_ENTROPY | AUTH, SIGN),
        ] {
            let mut s = vec![setup, 4];
            frame_step(&mut s, flags, &states);
            frame_step(&mut s, flags, &frame);
            time_step(&mut s, 1500);
            time_step(&mut s, 6000);
            seeds.save(&format!("engine-ae-{name}-{setup_name}"), &s);
        }
    }

    // A signed frame, then the same frame again, then an altered one.
    let mut s = vec![FREEBSD15 | AUTH, 2];
    frame_step(&mut s, SIGN, &states);
    s.extend_from_slice(&[OP_FRAME, REPLAY]);
    frame_step(&mut s, SIGN | ALTER, &states);
    s.extend_from_slice(&[40, 0x10]);
    s.extend_from_slice(&[OP_CREATE, 5]);
    time_step(&mut s, 1000);
    seeds.save("engine-auth-replay-altered", &s);
    Ok(())
}

fn config_bytes(c: &sys::pfsync_rs_config) -> Vec<u8> {
    let size = core::mem::size_of::<sys::pfsync_rs_config>();
    let mut out = vec![0u8; size];
    // SAFETY: `c` is a plain-integer struct of `size` bytes; the copy goes
    // into a buffer of exactly that length.
    unsafe {
        core::ptr::copy_nonoverlapping(
            (c as *const sys::pfsync_rs_config).cast::<u8>(),
            out.as_mut_ptr(),
            size,
        )
    };
    out
}

fn shim_config(syncdev: &str) -> sys::pfsync_rs_config {
    let mut name = [0 as core::ffi::c_char; 16];
    for (d, s) in name.iter_mut().zip(syncdev.bytes()) {
        *d = s as core::ffi::c_char;
    }
    sys::pfsync_rs_config {
        syncdev: name,
        syncpeer_af: 0,
        syncdev_multicast: 1,
        pad: [0; 2],
        syncpeer: [0; 16],
        maxupdates: 128,
        flags: 0,
        version: 0,
        syncdev_mtu: 1500,
        ifmtu: 1500,
        defer_delay_ms: 20,
        carp_demotion: 240,
        bulk_pace_us: 0,
        hostid_be: [0, 0, 0, 1],
        pf_cksum: [0; 16],
        syncdev_baudrate: 1_000_000_000,
    }
}

fn config_seeds(seeds: &mut Seeds) {
    let base = shim_config("em1");
    let mut variants = vec![("default", base)];
    let mut v = base;
    v.version = 1500;
    v.flags = sys::PFSYNC_RS_CFG_DEFER;
    v.syncpeer_af = sys::PFSYNC_RS_AF_INET as u8;
    v.syncpeer[..4].copy_from_slice(&[10, 0, 0, 2]);
    variants.push(("v1500-defer-peer", v));
    let mut v = base;
    v.version = 1301;
    v.syncpeer_af = sys::PFSYNC_RS_AF_INET6 as u8;
    v.ifmtu = 9000;
    v.bulk_pace_us = 150;
    variants.push(("v1301-v6-jumbo-paced", v));
    let mut v = base;
    v.ifmtu = 64;
    variants.push(("mtu-too-small", v));
    let mut v = shim_config("");
    v.syncdev_baudrate = 0;
    variants.push(("no-syncdev", v));
    for release in [0u8, 1] {
        for (name, c) in &variants {
            let mut s = vec![release];
            s.extend_from_slice(&config_bytes(c));
            s.push(1);
            s.extend_from_slice(&config_bytes(&base));
            s.push(3);
            seeds.save(&format!("config-{release}-{name}"), &s);
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (target, dirs) = match args.split_first() {
        Some((t, rest)) => (t.as_str(), rest),
        None => ("", &[][..]),
    };
    let (out, frames) = match (target, dirs) {
        ("engine", [frames, out]) => (out, Some(frames)),
        ("config", [out]) => (out, None),
        _ => {
            eprintln!("usage: fuzz_target_seeds engine FRAME_SEEDS_DIR OUT_DIR | config OUT_DIR");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("{out}: {e}");
        return ExitCode::FAILURE;
    }
    let mut seeds = Seeds {
        dir: out.clone(),
        written: 0,
    };
    match frames {
        Some(frames) => {
            if let Err(e) = engine_seeds(Path::new(frames), &mut seeds) {
                eprintln!("{frames}: {e}");
                return ExitCode::FAILURE;
            }
        }
        None => config_seeds(&mut seeds),
    }
    println!(
        "fuzz_target_seeds {target}: {} seeds in {out}",
        seeds.written
    );
    ExitCode::SUCCESS
}
