//! Running the pfsyncdump binary and reading what it says.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pfsyncdump"))
}

/// A fresh path in cargo's per-target scratch directory.
pub fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pfsyncdump-{}-{n}-{name}", std::process::id()))
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("pfsyncdump runs")
}

/// Runs and insists on success and no panic.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pfsyncdump {args:?} failed: {}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Writes fixtures of `kind` to a new file (raw IP unless `extra` picks a
/// link type) and returns its path.
pub fn synth(kind: &str, extra: &[&str]) -> PathBuf {
    let path = scratch(&format!("{kind}.pcap"));
    let p = path.to_str().expect("utf-8 path");
    let mut args = vec!["--synth", kind, "-q", "--no-summary", "-w", p];
    if !extra.contains(&"--write-link") {
        args.extend_from_slice(&["--write-link", "raw"]);
    }
    args.extend_from_slice(extra);
    run_ok(&args);
    path
}

/// `--json` output: the frame objects and the closing summary.
pub fn json(args: &[&str]) -> (Vec<Value>, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run_ok(&all);
    let mut frames = Vec::new();
    let mut summary = Value::Null;
    for line in out.lines() {
        let v: Value = serde_json::from_str(line).expect("every line is JSON");
        if let Some(s) = v.get("summary") {
            summary = s.clone();
        } else {
            frames.push(v);
        }
    }
    (frames, summary)
}

pub fn read_json(path: &std::path::Path) -> (Vec<Value>, Value) {
    json(&["-r", path.to_str().expect("utf-8 path")])
}

pub fn messages(frame: &Value) -> &Vec<Value> {
    frame["messages"].as_array().expect("messages array")
}

/// Little-endian microsecond pcap with the given link type, written by hand
/// (independent of the tool's own writer).
pub fn pcap_file(linktype: u32, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65_535u32.to_le_bytes());
    f.extend_from_slice(&linktype.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        f.extend_from_slice(&(1_000 + i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(p);
    }
    f
}

/// The packets of a pcap file the tool wrote (little-endian, microseconds).
pub fn pcap_packets(file: &[u8]) -> (u32, Vec<Vec<u8>>) {
    let linktype = u32::from_le_bytes(file[20..24].try_into().expect("4 bytes"));
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= file.len() {
        let len = u32::from_le_bytes(file[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        out.push(file[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    (linktype, out)
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
