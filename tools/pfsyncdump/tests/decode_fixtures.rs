//! Fixtures made by `--synth` (the core's FrameBuilder) decode back to the
//! values they were built with, under FreeBSD's field names.

mod common;

use common::{messages, read_json, run_ok, synth};
use serde_json::Value;

fn only_message(frame: &Value) -> &Value {
    let m = messages(frame);
    assert_eq!(m.len(), 2, "one message and EOF in {frame}");
    assert_eq!(m[1]["action"], "EOF");
    &m[0]
}

#[test]
fn ins_in_every_format_with_ipv4_and_ipv6_states() {
    let (frames, summary) = read_json(&synth("ins", &[]));
    assert_eq!(frames.len(), 3);
    for f in &frames {
        assert_eq!(f["header"]["version"], 5);
        assert_eq!(f["header"]["version_name"], "FreeBSD v5");
        assert_eq!(f["header"]["pfcksum"], "00112233445566778899aabbccddeeff");
        assert_eq!(f["ip"]["src"], "192.0.2.1");
        assert_eq!(f["ip"]["dst"], "224.0.0.240");
        assert_eq!(f["ip"]["ttl"], 255);
        assert_eq!(f["errors"].as_array().map(Vec::len), Some(0));
    }

    let s1301 = only_message(&frames[0]);
    assert_eq!(s1301["action"], "INS_1301");
    assert_eq!(s1301["msg_version"], 1301);
    assert_eq!(s1301["id"], "0123456789abcd01");
    assert_eq!(s1301["creatorid"], "0a0b0c0d");
    assert_eq!(s1301["ifname"], "em0");
    assert_eq!(s1301["af"], 2);
    assert_eq!(s1301["proto"], 6);
    assert_eq!(s1301["key"][0]["addr"][0], "192.0.2.10");
    assert_eq!(s1301["key"][0]["addr"][1], "198.51.100.20");
    assert_eq!(s1301["key"][0]["port"][0], 51000);
    assert_eq!(s1301["key"][0]["port"][1], 443);
    assert_eq!(s1301["src"]["state"], 4);
    assert_eq!(s1301["src"]["state_name"], "ESTABLISHED");
    assert_eq!(s1301["src"]["seqlo"], 1_000_000);
    assert_eq!(s1301["src"]["scrub"]["scrub_flag"], 1);
    assert_eq!(s1301["timeout"], 2);
    assert_eq!(s1301["timeout_name"], "PFTM_TCP_ESTABLISHED");
    assert_eq!(s1301["expire"], 86_400);
    assert_eq!(s1301["creation"], 60);
    assert_eq!(s1301["packets"], serde_json::json!([10, 12]));
    assert_eq!(s1301["bytes"], serde_json::json!([1000, 2000]));
    assert_eq!(s1301["direction"], 2);
    assert_eq!(s1301["sync_flags"], 4);
    assert_eq!(s1301["rule"], 4);
    assert_eq!(s1301["anchor"], u32::MAX);
    assert!(s1301.get("tagname").is_none(), "1301 has no tag");
    assert!(s1301.get("rtableid").is_none(), "1301 has no rtableid");

    let m1400 = messages(&frames[1]);
    assert_eq!(m1400.len(), 3);
    let v6 = &m1400[1];
    assert_eq!(v6["action"], "INS_1400");
    assert_eq!(v6["msg_version"], 1400);
    assert_eq!(v6["af"], 28, "FreeBSD AF_INET6");
    assert_eq!(v6["af_name"], "inet6");
    assert_eq!(v6["proto"], 17);
    assert_eq!(v6["key"][1]["addr"][0], "2001:db8::10");
    assert_eq!(v6["key"][1]["addr"][1], "2001:db8:1::20");
    assert_eq!(v6["key"][1]["port"][1], 53);
    assert_eq!(v6["src"]["state_name"], "MULTIPLE");
    assert_eq!(v6["rt_ifname"], "em2");
    assert_eq!(v6["rtableid"], 0);
    assert_eq!(v6["state_flags"], 1);
    assert_eq!(v6["qid"], 1);
    assert_eq!(v6["rt"], 2);

    let m1500 = messages(&frames[2]);
    let tagged = &m1500[1];
    assert_eq!(tagged["action"], "INS_1500");
    assert_eq!(tagged["msg_version"], 1500);
    assert_eq!(tagged["action_num"], 15);
    assert_eq!(tagged["tagname"], "web-in");
    assert_eq!(tagged["orig_ifname"], "em1");
    assert_eq!(tagged["wire_af"], 28);
    assert_eq!(tagged["stack_af"], 28);
    assert_eq!(tagged["rt_addr"], "2001:db8:1::20");
    assert!(tagged.get("sync_flags").is_none(), "1500 has no sync_flags");
    assert!(tagged.get("af").is_none(), "1500 names it wire_af");

    assert_eq!(summary["frames"], 3);
    assert_eq!(summary["messages"]["INS_1500"], 2);
    assert_eq!(summary["messages"]["EOF"], 3);
}

#[test]
fn every_small_message_kind() {
    let (upd, _) = read_json(&synth("upd", &[]));
    let names: Vec<_> = upd
        .iter()
        .map(|f| only_message(f)["action"].clone())
        .collect();
    assert_eq!(names, ["UPD_1301", "UPD_1400", "UPD_1500"]);

    let (updc, _) = read_json(&synth("upd-c", &[]));
    let u = &messages(&updc[0])[1];
    assert_eq!(u["action"], "UPD_C");
    assert_eq!(u["id"], "0123456789abcd0a");
    assert_eq!(u["timeout_name"], "PFTM_TCP_ESTABLISHED");
    assert_eq!(u["dst"]["seqlo"], 2_000_000);

    let (delc, _) = read_json(&synth("del-c", &[]));
    let ids: Vec<_> = messages(&delc[0])
        .iter()
        .filter_map(|m| m.get("id"))
        .cloned()
        .collect();
    assert_eq!(
        ids,
        ["0123456789abcd0b", "0123456789abcd0c", "0123456789abcd0d"]
    );

    let (ack, _) = read_json(&synth("ins-ack", &[]));
    assert_eq!(only_message(&ack[0])["action"], "INS_ACK");

    let (req, _) = read_json(&synth("upd-req", &[]));
    assert_eq!(only_message(&req[0])["bulk_request"], false);
    let (bulk, _) = read_json(&synth("bulk-req", &[]));
    let b = only_message(&bulk[0]);
    assert_eq!(b["bulk_request"], true);
    assert_eq!(b["id"], "0000000000000000");

    let (bus, _) = read_json(&synth("bus", &[]));
    assert_eq!(only_message(&bus[0])["status_name"], "START");
    assert_eq!(only_message(&bus[1])["status_name"], "END");
    assert_eq!(only_message(&bus[1])["endtime"], 5);

    let (clr, _) = read_json(&synth("clr", &[]));
    let c = messages(&clr[0]);
    assert_eq!(c[0]["ifname"], "");
    assert_eq!(c[1]["ifname"], "em0");
    assert_eq!(
        clr[0]["sections"].as_array().map(Vec::len),
        Some(3),
        "CLR, CLR, EOF"
    );

    let (tdb, _) = read_json(&synth("tdb", &[]));
    let t = only_message(&tdb[0]);
    assert_eq!(t["spi"], "00001001");
    assert_eq!(t["dst"], "198.51.100.7:0");
    assert_eq!(t["rpl"], 42);
    assert_eq!(t["sproto"], 50);

    let (eof, _) = read_json(&synth("eof", &[]));
    assert_eq!(messages(&eof[0]).len(), 1);
    assert_eq!(eof[0]["header"]["len"], 24);
}

#[test]
fn openbsd_v6_frame() {
    let (frames, summary) = read_json(&synth("openbsd", &[]));
    let f = &frames[0];
    assert_eq!(f["header"]["version"], 6);
    assert_eq!(f["header"]["version_name"], "OpenBSD v6");
    assert_eq!(f["dialect"], "openbsd");
    let m = messages(f);
    let actions: Vec<_> = m.iter().map(|m| m["action"].clone()).collect();
    assert_eq!(actions, ["INS", "UPD_C", "DEL_C", "TDB"]);
    let numbers: Vec<_> = m.iter().map(|m| m["action_num"].clone()).collect();
    assert_eq!(numbers, [13, 4, 7, 15], "OpenBSD numbering: TDB is 15");
    assert_eq!(m[0]["af"], 24, "OpenBSD AF_INET6");
    assert_eq!(m[0]["key"][0]["addr"][0], "2001:db8::10");
    assert_eq!(m[0]["key"][0]["af"], 24);
    assert_eq!(m[1]["state_flags"], 8, "OpenBSD UPD_C carries state_flags");
    let sections = f["sections"].as_array().expect("sections");
    let last = sections.last().expect("a skipped section");
    assert_eq!(last["skipped"], true);
    assert_eq!(last["action"], 20);
    assert_eq!(summary["errors"], serde_json::json!({}));
}

#[test]
fn ipv6_transport() {
    let (frames, _) = read_json(&synth("upd-c", &["--synth-ipv6", "--write-link", "raw"]));
    assert_eq!(frames[0]["ip"]["version"], 6);
    assert_eq!(frames[0]["ip"]["src"], "fe80::1");
    assert_eq!(frames[0]["ip"]["dst"], "ff12::f0");
    assert_eq!(frames[0]["ip"]["ttl"], 255);
}

#[test]
fn text_output_names_things() {
    let path = synth("valid", &[]);
    let p = path.to_str().expect("path");
    let brief = run_ok(&["-r", p]);
    assert!(brief.contains("pfsync FreeBSD v5, len 270, pfcksum 00112233445566778899aabbccddeeff"));
    assert!(brief.contains("pfsync OpenBSD v6"));
    assert!(brief
        .contains("  UPD_C id 0123456789abcd09 creatorid 0a0b0c0d timeout PFTM_TCP_ESTABLISHED"));
    assert!(brief.contains("[2001:db8::10]:53000 <> [2001:db8:1::20]:53 MULTIPLE:MULTIPLE"));
    assert!(brief.contains("UPD_REQ id 0000000000000000 creatorid 00000000 (bulk update request)"));
    assert!(brief.contains("BUS creatorid 0a0b0c0d status END endtime 5"));
    assert!(brief.contains("tag web-in"));

    let verbose = run_ok(&["-r", p, "-v"]);
    for needle in [
        "version 1301 id 0123456789abcd01",
        "version 1400 id",
        "version 1500 id",
        "tagname web-in orig_ifname em1 rt_af inet6",
        "src state ESTABLISHED seqlo 1000000 seqhi 1065535",
        "timeout PFTM_UDP_MULTIPLE (8)",
        "state_flags ALLOWOPTS (0x0001)",
        "qid 1 pqid 2 dnpipe 3 dnrpipe 4 rtableid 0",
        "section UPD_C (4) count 2",
        "rdomain 0",
    ] {
        assert!(verbose.contains(needle), "missing {needle:?} in -v output");
    }
    // Verbose adds field lines under messages; it does not change the frames.
    assert_eq!(brief.matches('#').count(), verbose.matches('#').count());
}

#[test]
fn count_stops_early() {
    let path = synth("all", &[]);
    let (frames, summary) = common::json(&["-r", path.to_str().expect("path"), "-c", "4"]);
    assert_eq!(frames.len(), 4);
    assert_eq!(summary["frames"], 4);
}

#[test]
fn frames_dir_holds_one_bare_frame_per_file() {
    let dir = common::scratch("corpus");
    let d = dir.to_str().expect("path");
    run_ok(&[
        "--synth",
        "valid",
        "-q",
        "--frames-dir",
        d,
        "--frames-prefix",
        "seed-",
    ]);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 17);
    assert_eq!(names[0], "seed-0001.bin");
    let first = std::fs::read(dir.join("seed-0001.bin")).expect("frame");
    assert_eq!(first[0], 5, "starts at the pfsync header");
    assert_eq!(
        usize::from(u16::from_be_bytes([first[2], first[3]])),
        first.len()
    );
    let openbsd = std::fs::read(dir.join("seed-0017.bin")).expect("frame");
    assert_eq!(openbsd[0], 6);
}
