//! Live capture on the loopback interface. Needs CAP_NET_RAW (root in CI);
//! without it the tests say so and pass without checking anything.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{pcap_packets, synth};
use serde_json::Value;

const IPPROTO_PFSYNC: i32 = 240;

/// Sends `payload` as IP protocol 240 to a loopback address. `false` when
/// this process may not open raw sockets.
fn send_raw(payload: &[u8], v6: bool) -> bool {
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: plain socket(2); the descriptor is closed below.
    let fd = unsafe { libc::socket(family, libc::SOCK_RAW, IPPROTO_PFSYNC) };
    if fd < 0 {
        return false;
    }
    // SAFETY: the sockaddr structs are fully initialised and their sizes passed.
    let sent = unsafe {
        if v6 {
            let mut a: libc::sockaddr_in6 = std::mem::zeroed();
            a.sin6_family = libc::AF_INET6 as u16;
            a.sin6_addr.s6_addr = Ipv6Addr::LOCALHOST.octets();
            libc::sendto(
                fd,
                payload.as_ptr().cast(),
                payload.len(),
                0,
                (&a as *const libc::sockaddr_in6).cast(),
                std::mem::size_of::<libc::sockaddr_in6>() as u32,
            )
        } else {
            let mut a: libc::sockaddr_in = std::mem::zeroed();
            a.sin_family = libc::AF_INET as u16;
            a.sin_addr.s_addr = u32::from_ne_bytes(Ipv4Addr::LOCALHOST.octets());
            libc::sendto(
                fd,
                payload.as_ptr().cast(),
                payload.len(),
                0,
                (&a as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            )
        }
    };
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    sent == payload.len() as isize
}

/// Every capture listens on the same loopback, so the tests take turns: one
/// test's frames would otherwise land in another's `-c 1` capture.
static LOOPBACK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn take_loopback() -> std::sync::MutexGuard<'static, ()> {
    LOOPBACK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn can_capture() -> bool {
    // SAFETY: probing for CAP_NET_RAW with a socket we close at once.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0) };
    if fd < 0 {
        eprintln!("live capture tests skipped: no CAP_NET_RAW");
        return false;
    }
    // SAFETY: closing the probe socket.
    unsafe { libc::close(fd) };
    true
}

/// Starts a capture and waits until it says it is listening.
fn start(args: &[&str]) -> Child {
    let mut child = common::bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("capture started");
    child
}

fn fixture_frame(kind: &str) -> Vec<u8> {
    let file = std::fs::read(synth(kind, &["--write-link", "pfsync"])).expect("fixture");
    pcap_packets(&file).1.remove(0)
}

#[test]
fn captures_ipv4_and_ipv6_pfsync_on_loopback() {
    let _turn = take_loopback();
    if !can_capture() {
        return;
    }
    let updc = fixture_frame("upd-c");
    let delc = fixture_frame("del-c");
    let child = start(&["-i", "lo", "--timeout", "2s", "--json"]);
    assert!(send_raw(&updc, false), "raw IPv4 send");
    assert!(send_raw(&delc, true), "raw IPv6 send");
    let out = child.wait_with_output().expect("capture ends by itself");
    assert!(out.status.success());
    let frames: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let ours = |id: &str| {
        frames.iter().find(|f| {
            f["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["id"] == id))
        })
    };
    let v4 = ours("0123456789abcd0a").expect("the UPD_C frame was captured");
    assert_eq!(v4["ip"]["src"], "127.0.0.1");
    assert_eq!(v4["ip"]["version"], 4);
    // A raw socket sends with the default TTL, not 255: receivers would drop it.
    assert_eq!(v4["ip"]["ttl"], 64);
    assert_eq!(v4["errors"][0]["kind"], "badttl");
    assert_eq!(v4["messages"][0]["action"], "UPD_C", "decoded all the same");
    let v6 = ours("0123456789abcd0d").expect("the DEL_C frame was captured");
    assert_eq!(v6["ip"]["dst"], "::1");
    // Loopback shows each packet once, not once leaving and once arriving.
    let copies = frames
        .iter()
        .filter(|f| {
            f["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["id"] == "0123456789abcd0a"))
        })
        .count();
    assert_eq!(copies, 1);
    let summary = frames.last().expect("summary")["summary"].clone();
    assert_eq!(
        summary["skipped"],
        serde_json::json!({}),
        "only protocol 240 is counted"
    );
}

#[test]
fn count_and_timeout_bound_a_capture() {
    let _turn = take_loopback();
    if !can_capture() {
        return;
    }
    let started = std::time::Instant::now();
    let out = start(&["-i", "lo", "--timeout", "300ms", "-q"])
        .wait_with_output()
        .expect("ends");
    assert!(out.status.success());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("summary: "));

    let frame = fixture_frame("ins-ack");
    let child = start(&[
        "-i",
        "lo",
        "--timeout",
        "10s",
        "-c",
        "1",
        "--json",
        "--no-summary",
    ]);
    assert!(send_raw(&frame, false));
    let out = child.wait_with_output().expect("ends after one frame");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn capture_writes_a_raw_ip_file() {
    let _turn = take_loopback();
    if !can_capture() {
        return;
    }
    let path = common::scratch("live.pcap");
    let frame = fixture_frame("bus");
    let child = start(&[
        "-i",
        "lo",
        "--timeout",
        "10s",
        "-c",
        "1",
        "-q",
        "--write-link",
        "raw",
        "-w",
        path.to_str().expect("path"),
    ]);
    assert!(send_raw(&frame, false));
    assert!(child.wait_with_output().expect("ends").status.success());
    let (linktype, packets) = pcap_packets(&std::fs::read(&path).expect("written"));
    assert_eq!(linktype, 101);
    assert_eq!(packets.len(), 1);
    assert_eq!(packets[0][9], 240, "an IPv4 packet of protocol 240");
}

#[test]
fn unknown_interface_is_an_error() {
    let out = common::run(&["-i", "no-such-if0", "--timeout", "1s"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no interface named no-such-if0"));
}

#[test]
fn any_interface_sees_loopback_frames_once() {
    let _turn = take_loopback();
    if !can_capture() {
        return;
    }
    let frame = fixture_frame("clr");
    let child = start(&["-i", "any", "--timeout", "2s", "--json", "--no-summary"]);
    assert!(send_raw(&frame, false));
    let out = child.wait_with_output().expect("ends");
    assert!(out.status.success());
    let copies = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"ifname\":\"em0\"") && l.contains("\"CLR\""))
        .count();
    assert_eq!(copies, 1);
}

#[test]
fn live_frames_are_printed_as_they_arrive() {
    let _turn = take_loopback();
    if !can_capture() {
        return;
    }
    let frame = fixture_frame("tdb");
    let mut child = start(&["-i", "lo", "--timeout", "20s", "--json"]);
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("\"TDB\"") {
                let _ = tx.send(line);
            }
        }
    });
    assert!(send_raw(&frame, false));
    let seen = rx.recv_timeout(Duration::from_secs(5));
    child.kill().expect("stop the capture");
    let _ = child.wait();
    assert!(
        seen.is_ok(),
        "the frame was not printed while the capture ran"
    );
}
