//! Every supported link type, in pcap and pcapng, yields the same decode.
//! Some captures are written by the tool, some by hand here, so the reader is
//! not only checked against its own writer.

mod common;

use std::fs;

use common::{json, pcap_file, pcap_packets, read_json, scratch, synth};
use serde_json::Value;

/// What must not depend on the link layer: the frames' decoded content.
fn content(frames: &[Value]) -> Vec<Value> {
    frames
        .iter()
        .map(|f| {
            serde_json::json!({
                "header": f["header"],
                "sections": f["sections"],
                "messages": f["messages"],
                "errors": f["errors"],
                "time": f["time"],
            })
        })
        .collect()
}

#[test]
fn every_written_link_type_in_pcap_and_pcapng() {
    let reference = read_json(&synth("valid", &[])).0;
    assert_eq!(reference.len(), 17);
    let links = [
        ("pfsync", 246),
        ("pfsync-freebsd", 121),
        ("pfsync-openbsd", 18),
        ("raw", 101),
        ("raw12", 12),
        ("raw14", 14),
        ("ipv4", 228),
        ("ethernet", 1),
        ("vlan", 1),
        ("sll", 113),
        ("sll2", 276),
    ];
    for (link, number) in links {
        for pcapng in [false, true] {
            let mut extra = vec!["--write-link", link];
            if pcapng {
                extra.push("--pcapng");
            }
            let path = synth("valid", &extra);
            let bytes = fs::read(&path).expect("written");
            if pcapng {
                assert_eq!(&bytes[..4], &[0x0a, 0x0d, 0x0d, 0x0a], "{link}: pcapng SHB");
            } else {
                assert_eq!(
                    pcap_packets(&bytes).0,
                    number,
                    "{link}: link type in header"
                );
            }
            let (frames, summary) = read_json(&path);
            assert_eq!(
                content(&frames),
                content(&reference),
                "{link} pcapng={pcapng}"
            );
            assert_eq!(frames[0]["linktype"], number, "{link}");
            assert_eq!(
                frames[0].get("ip").is_some(),
                number != 246 && number != 121 && number != 18
            );
            assert_eq!(summary["skipped"], serde_json::json!({}), "{link}");
        }
    }
}

#[test]
fn ipv6_over_ethernet_vlan_and_linktype_ipv6() {
    let reference = read_json(&synth("valid", &["--synth-ipv6"])).0;
    for link in ["ipv6", "ethernet", "vlan", "sll", "sll2"] {
        let path = synth("valid", &["--synth-ipv6", "--write-link", link]);
        let (frames, _) = read_json(&path);
        assert_eq!(content(&frames), content(&reference), "{link}");
        assert_eq!(frames[0]["ip"]["dst"], "ff12::f0", "{link}");
    }
    // LINKTYPE_IPV4 cannot hold IPv6: refused, not mangled.
    let out = common::run(&[
        "--synth",
        "eof",
        "--synth-ipv6",
        "--write-link",
        "ipv4",
        "-q",
        "-w",
        scratch("v6-as-v4.pcap").to_str().expect("path"),
    ]);
    assert!(!out.status.success());
}

/// An Ethernet frame with two VLAN tags (802.1ad outer, 802.1Q inner), built
/// byte by byte here, around the IP packet of a fixture frame.
#[test]
fn hand_built_ethernet_qinq_and_cooked_captures() {
    let raw = fs::read(synth("upd-c", &[])).expect("fixture");
    let (_, packets) = pcap_packets(&raw);
    let ip = &packets[0];

    let mut eth = vec![0x01, 0x00, 0x5e, 0x00, 0x00, 0xf0, 0x02, 0, 0, 0, 0, 9];
    eth.extend_from_slice(&[0x88, 0xa8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x2a, 0x08, 0x00]);
    eth.extend_from_slice(ip);
    eth.extend_from_slice(&[0; 6]); // trailer padding beyond the IP length

    let mut sll = vec![0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(ip);

    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 2, 6, 2, 0, 0, 0, 0, 9, 0, 0,
    ];
    sll2.extend_from_slice(ip);

    // Noise that must be skipped, not decoded: ARP, IPv4 UDP.
    let mut arp = vec![0xff; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    let mut udp_eth = eth[..22].to_vec();
    let mut udp = ip[..28].to_vec();
    udp[9] = 17;
    udp[2..4].copy_from_slice(&28u16.to_be_bytes());
    udp_eth.extend_from_slice(&udp);

    let cases: [(u32, Vec<Vec<u8>>); 3] = [
        (1, vec![eth, arp, udp_eth]),
        (113, vec![sll]),
        (276, vec![sll2]),
    ];
    for (linktype, packets) in cases {
        let path = scratch(&format!("hand-{linktype}.pcap"));
        fs::write(&path, pcap_file(linktype, &packets)).expect("write");
        let (frames, summary) = read_json(&path);
        let decoded: Vec<_> = frames
            .iter()
            .filter(|f| f.get("skipped").is_none())
            .collect();
        assert_eq!(decoded.len(), 1, "link type {linktype}");
        let m = common::messages(decoded[0]);
        assert_eq!(m[0]["action"], "UPD_C");
        assert_eq!(m[1]["id"], "0123456789abcd0a");
        assert_eq!(
            decoded[0]["errors"],
            serde_json::json!([]),
            "padding is not pfsync"
        );
        if linktype == 1 {
            assert_eq!(summary["skipped"]["not-ip"], 1);
            assert_eq!(summary["skipped"]["other-ip-protocol"], 1);
            assert_eq!(summary["packets"], 3);
        }
    }
}

/// A big-endian pcapng with nanosecond resolution, a simple packet block,
/// an unknown block and two interfaces of different link types, built by hand.
#[test]
fn hand_built_big_endian_pcapng() {
    let raw = fs::read(synth("del-c", &[])).expect("fixture");
    let (_, packets) = pcap_packets(&raw);
    let ip = packets[0].clone();
    let pfs = fs::read(synth("ins-ack", &["--write-link", "pfsync"])).expect("fixture");
    let pfsync_frame = pcap_packets(&pfs).1[0].clone();

    fn block(t: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let total = (body.len() + 12) as u32;
        let mut b = t.to_be_bytes().to_vec();
        b.extend_from_slice(&total.to_be_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&total.to_be_bytes());
        b
    }
    let mut file = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_be_bytes().to_vec();
    shb.extend_from_slice(&[0, 1, 0, 0]);
    shb.extend_from_slice(&[0xff; 8]);
    file.extend(block(0x0a0d_0d0a, &shb));
    // Interface 0: raw IP, nanoseconds (if_tsresol 9).
    let mut idb0 = vec![0, 101, 0, 0, 0, 0, 0xff, 0xff];
    idb0.extend_from_slice(&[0, 9, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0]);
    file.extend(block(1, &idb0));
    // Interface 1: LINKTYPE_PFSYNC, default microseconds.
    file.extend(block(1, &[0, 246, 0, 0, 0, 0, 0xff, 0xff]));
    file.extend(block(0x0bad_0bad, &[1, 2, 3, 4, 5, 6, 7, 8]));
    let ns: u64 = 1_700_000_000_123_456_789;
    let mut epb = 0u32.to_be_bytes().to_vec();
    epb.extend_from_slice(&((ns >> 32) as u32).to_be_bytes());
    epb.extend_from_slice(&(ns as u32).to_be_bytes());
    epb.extend_from_slice(&(ip.len() as u32).to_be_bytes());
    epb.extend_from_slice(&(ip.len() as u32).to_be_bytes());
    epb.extend_from_slice(&ip);
    file.extend(block(6, &epb));
    let mut epb1 = 1u32.to_be_bytes().to_vec();
    epb1.extend_from_slice(&[0; 8]);
    epb1.extend_from_slice(&(pfsync_frame.len() as u32).to_be_bytes());
    epb1.extend_from_slice(&(pfsync_frame.len() as u32).to_be_bytes());
    epb1.extend_from_slice(&pfsync_frame);
    file.extend(block(6, &epb1));
    // Simple packet block: interface 0, no timestamp.
    let mut spb = (ip.len() as u32).to_be_bytes().to_vec();
    spb.extend_from_slice(&ip);
    file.extend(block(3, &spb));

    let path = scratch("be.pcapng");
    fs::write(&path, &file).expect("write");
    let (frames, summary) = read_json(&path);
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0]["time"], "2023-11-14T22:13:20.123456789Z");
    assert_eq!(frames[0]["linktype"], 101);
    assert_eq!(common::messages(&frames[0])[0]["action"], "DEL_C");
    assert_eq!(frames[1]["linktype"], 246);
    assert_eq!(common::messages(&frames[1])[0]["action"], "INS_ACK");
    assert_eq!(frames[2]["ts_sec"], 0);
    assert_eq!(summary["messages"]["DEL_C"], 6);
}

#[test]
fn stdin_and_unknown_link_type() {
    let path = scratch("unknown-link.pcap");
    fs::write(&path, pcap_file(147, &[vec![5, 0, 0, 24]])).expect("write");
    let (frames, summary) = json(&["-r", path.to_str().expect("path")]);
    assert_eq!(frames[0]["skipped"], "linktype-147");
    assert_eq!(summary["frames"], 0);

    let fixture = fs::read(synth("bus", &[])).expect("fixture");
    let mut child = common::bin()
        .args(["-r", "-", "--json", "--no-summary"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&fixture)
        .expect("feed");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}
