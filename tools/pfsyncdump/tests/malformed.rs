//! Malformed frames are reported (frame number, pfsyncstats counter name)
//! and skipped; random and truncated input never crashes the tool.

mod common;

use std::fs;

use common::{pcap_file, pcap_packets, read_json, run, run_ok, scratch, synth, Rng};

#[test]
fn every_malformed_fixture_is_reported_and_skipped() {
    let path = synth("malformed", &[]);
    let (frames, summary) = read_json(&path);
    let decoded: Vec<_> = frames
        .iter()
        .filter(|f| f.get("skipped").is_none())
        .collect();
    let kinds: Vec<Vec<String>> = decoded
        .iter()
        .map(|f| {
            f["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .map(|e| e["kind"].as_str().expect("kind").to_string())
                .collect()
        })
        .collect();
    let expected: [&[&str]; 11] = [
        &["hdrops"],
        &["badver"],
        &["badlen"],
        &["badact"],
        &["badact"],
        &["badlen"],
        &["badval"],
        &["badval"],
        &["badval"],
        &["badlen"],
        &["badttl"],
    ];
    assert_eq!(
        kinds,
        expected.map(|k| k.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    );

    // Messages before the fault stand; the good state in a frame with a bad one is kept.
    assert_eq!(common::messages(decoded[3])[0]["action"], "INS_ACK");
    let mixed = common::messages(decoded[6]);
    assert_eq!(mixed[0]["id"], "0123456789abcd16");
    assert_eq!(decoded[6]["errors"][0]["detail"], "timeout >= PFTM_MAX");
    assert_eq!(decoded[6]["errors"][0]["index"], 1);
    assert_eq!(
        decoded[8]["errors"][0]["detail"],
        "interface name without NUL"
    );

    // The frame with the wrong TTL is decoded all the same.
    assert_eq!(common::messages(decoded[10])[0]["id"], "0123456789abcd1b");
    assert_eq!(decoded[10]["ip"]["ttl"], 64);

    assert_eq!(summary["packets"], 12);
    assert_eq!(summary["frames"], 11);
    assert_eq!(summary["frames_with_errors"], 11);
    assert_eq!(
        summary["errors"],
        serde_json::json!({"badact": 2, "badlen": 3, "badttl": 1, "badval": 3, "badver": 1, "hdrops": 1})
    );
    assert_eq!(
        summary["skipped"],
        serde_json::json!({"other-ip-protocol": 1})
    );
}

#[test]
fn text_reports_name_frame_and_counter() {
    let path = synth("all", &[]);
    let text = run_ok(&["-r", path.to_str().expect("path")]);
    for needle in [
        "error frame 18: hdrops: only 12 bytes, the pfsync header needs 20",
        "error frame 19: badver: header version 4 is not 5 (FreeBSD) or 6 (OpenBSD)",
        "error frame 20: badlen: header len 124 exceeds the 24 bytes present",
        "error frame 21: badact: unknown action (>= PFSYNC_ACT_MAX); rest of frame dropped",
        "error frame 22: badact: action DEL (6) is refused by this receiver",
        "error frame 23: badlen: 50 DEL_C records do not fit",
        "error frame 24: badval: INS_1500 record 1 refused (timeout >= PFTM_MAX); message skipped",
        "error frame 25: badval: UPD_C record 0 refused (peer state > PF_TCPS_PROXY_DST)",
        "error frame 27: badlen: EOF is not at the end of the packet",
        "error frame 28: badttl: TTL 64, receivers require 255",
    ] {
        assert!(text.contains(needle), "missing {needle:?}");
    }
    let summary = text.lines().rev().take(4).collect::<Vec<_>>();
    assert!(
        summary.contains(&"  errors: badact 2, badlen 3, badttl 1, badval 3, badver 1, hdrops 1")
    );
    assert!(summary.contains(&"  skipped: other-ip-protocol 1"));
    assert!(text.contains(
        "summary: 29 packets, 28 pfsync frames, 1 skipped, 52 messages, 11 errors (11 frames with errors)"
    ));
}

#[test]
fn freebsd14_rules_refuse_format_1500() {
    let path = synth("ins", &[]);
    let (frames, summary) =
        common::json(&["-r", path.to_str().expect("path"), "--dialect", "freebsd14"]);
    assert_eq!(frames[2]["errors"][0]["kind"], "badact");
    assert_eq!(summary["errors"]["badact"], 1);
    assert_eq!(summary["messages"]["INS_1400"], 2);
}

/// Thousands of mutated frames in one capture: bytes flipped, lengths and
/// counts rewritten, frames cut. Every one must be decoded or reported.
#[test]
fn mutated_frames_never_crash() {
    let base = fs::read(synth("valid", &["--write-link", "pfsync"])).expect("fixture");
    let (_, frames) = pcap_packets(&base);
    let mut rng = Rng::new(0x5eed);
    let mut mutated = Vec::new();
    for i in 0..3000 {
        let mut f = frames[i % frames.len()].clone();
        match rng.below(4) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(f.len());
                    f[at] = rng.next() as u8;
                }
            }
            1 => {
                let at = 20 + rng.below(f.len().saturating_sub(20).max(1));
                if at + 4 <= f.len() {
                    f[at] = rng.below(24) as u8;
                    f[at + 2..at + 4].copy_from_slice(&(rng.next() as u16).to_be_bytes());
                }
            }
            2 => f.truncate(rng.below(f.len() + 1)),
            _ => {
                let n = rng.below(600);
                f = rng.bytes(n);
            }
        }
        mutated.push(f);
    }
    let path = scratch("mutated.pcap");
    fs::write(&path, pcap_file(246, &mutated)).expect("write");
    let out = run(&["-r", path.to_str().expect("path"), "-v", "--no-summary"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"));
    let (json_frames, summary) = read_json(&path);
    assert_eq!(json_frames.len(), 3000);
    assert_eq!(summary["frames"], 3000);
    assert!(summary["frames_with_errors"].as_u64().expect("count") > 100);
}

/// Random files and every truncation of a valid capture: the tool reads what
/// it can, says where the file broke, exits 0 or 1, and never panics.
#[test]
fn random_and_truncated_files_never_crash() {
    let pcap = fs::read(synth("all", &[])).expect("fixture");
    let pcapng = fs::read(synth("all", &["--pcapng", "--write-link", "sll2"])).expect("fixture");
    let mut rng = Rng::new(7);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for file in [&pcap, &pcapng] {
        for _ in 0..25 {
            inputs.push(file[..rng.below(file.len())].to_vec());
        }
        for _ in 0..10 {
            let mut f = file.clone();
            for _ in 0..4 {
                let at = rng.below(f.len());
                f[at] = rng.next() as u8;
            }
            inputs.push(f);
        }
    }
    for n in [0, 3, 4, 23, 24, 100, 5000] {
        inputs.push(rng.bytes(n));
        let mut looks_like_pcap = pcap[..24].to_vec();
        looks_like_pcap.extend(rng.bytes(n));
        inputs.push(looks_like_pcap);
        let mut looks_like_pcapng = pcapng[..28].to_vec();
        looks_like_pcapng.extend(rng.bytes(n));
        inputs.push(looks_like_pcapng);
    }
    let path = scratch("random.bin");
    for input in inputs {
        fs::write(&path, &input).expect("write");
        let out = run(&["-r", path.to_str().expect("path")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "exit {:?} on {} bytes: {stderr}",
            out.status.code(),
            input.len()
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        if out.status.code() == Some(1) {
            assert!(stderr.starts_with("pfsyncdump: "), "{stderr}");
        }
    }
}

/// A capture cut by its snap length is not the sender's fault: such frames
/// are reported as `truncated`, not under a pfsyncstats counter.
#[test]
fn snap_length_cuts_are_truncations() {
    let path = synth("ins", &["--snaplen", "200"]);
    let (frames, summary) = read_json(&path);
    assert_eq!(frames.len(), 3);
    for f in &frames {
        assert_eq!(f["captured_len"], 200);
        assert_eq!(f["errors"][0]["kind"], "truncated");
    }
    assert_eq!(frames[0]["wire_len"], 290);
    assert_eq!(summary["errors"], serde_json::json!({"truncated": 3}));
    let text = run_ok(&["-r", path.to_str().expect("path")]);
    assert!(text.contains("[captured 200 of 290 bytes]"));
    assert!(
        text.contains("error frame 1: truncated: header len 270 but the capture holds 180 bytes")
    );

    // Short enough frames fit under the same snap length and decode fully.
    let (small, _) = read_json(&synth("del-c", &["--snaplen", "200"]));
    assert_eq!(small[0]["errors"], serde_json::json!([]));
    assert!(small[0].get("captured_len").is_none());
}
