//! Authentication and anti-entropy through the real engine: simulated nodes
//! (`sim::Node<FrameAuth>`) joined by a test network that can drop, capture
//! and re-inject frames.

mod common;

use common::*;
use pfsync::antientropy::{self, EngineIo, Session};
use pfsync::auth::{FrameAuth, KEY_LEN};
use pfsync::engine::{IpFamily, LogEvent, ReqState, RxMeta};
use pfsync::sim::{Node, Segment};
use pfsync::time::{Duration, Instant};
use pfsync::wire::StateId;

const KEY: [u8; KEY_LEN] = [0x42; KEY_LEN];

struct Net {
    now: Instant,
    nodes: Vec<Node<FrameAuth>>,
    sessions: Vec<Option<Session>>,
    /// Frames from node i are dropped while `cut[i]`.
    cut: Vec<bool>,
    /// Every frame each node sent, delivered or not.
    tap: Vec<Vec<Vec<u8>>>,
    scratch: Vec<u8>,
}

fn node(n: u8, key: Option<&[u8; KEY_LEN]>, epoch: u64) -> Node<FrameAuth> {
    let mut ext = FrameAuth::new(hostid(n), epoch).unwrap();
    if let Some(k) = key {
        ext.keys_mut().install(1, k).unwrap();
    }
    Node::with_extension(node_config(n), ext).unwrap()
}

impl Net {
    fn new(nodes: Vec<Node<FrameAuth>>) -> Net {
        let n = nodes.len();
        let mut net = Net {
            now: Instant::from_secs(10),
            nodes,
            sessions: (0..n).map(|_| None).collect(),
            cut: vec![false; n],
            tap: vec![Vec::new(); n],
            scratch: vec![0; 9216],
        };
        for i in 0..n {
            let now = net.now;
            net.nodes[i].configure(now, node_config(i as u8)).unwrap();
        }
        net.run_for(Duration::from_secs(1));
        net
    }

    fn enable_anti_entropy(&mut self, period: Duration) {
        for i in 0..self.nodes.len() {
            let trailer = self.nodes[i].engine.extension().keys().is_enabled();
            let config = antientropy::Config {
                period,
                confirm_after: Duration::from_millis(1000),
                frame_len: 1500 - 20 - if trailer { 44 } else { 0 },
                trailer_len: if trailer { 44 } else { 0 },
                ..antientropy::Config::new()
            };
            let mut s = Session::new(config, hostid(i as u8)).unwrap();
            s.start(self.now, Duration::from_millis(100 + 700 * i as u64));
            self.sessions[i] = Some(s);
        }
    }

    fn session_call(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Session, &mut EngineIo<'_, FrameAuth, pfsync::sim::NodeHost<'_>>),
    ) {
        let now = self.now;
        let Some(session) = self.sessions[i].as_mut() else {
            return;
        };
        let (engine, mut host) = self.nodes[i].host(now);
        let mut io = EngineIo {
            engine,
            host: &mut host,
            now,
        };
        f(session, &mut io);
    }

    fn receive(&mut self, to: usize, frame: &[u8]) {
        let now = self.now;
        self.nodes[to].receive(now, RxMeta::valid(IpFamily::V4), frame);
        let mut buf = std::mem::take(&mut self.scratch);
        if let Some(n) = self.nodes[to]
            .engine
            .extension_mut()
            .take_extension(&mut buf)
        {
            self.session_call(to, |s, io| {
                s.on_extension(now, &buf[..n], io);
            });
        }
        self.scratch = buf;
    }

    fn deliver_all(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.nodes.len() {
                let out = std::mem::take(&mut self.nodes[i].io.outbox);
                for frame in out {
                    any = true;
                    self.tap[i].push(frame.clone());
                    if self.cut[i] {
                        continue;
                    }
                    for to in (0..self.nodes.len()).filter(|&to| to != i) {
                        self.receive(to, &frame);
                    }
                }
            }
            if !any {
                return;
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        while self.now < until {
            self.now = self.now + Duration::from_millis(1);
            let now = self.now;
            for i in 0..self.nodes.len() {
                if self.nodes[i]
                    .engine
                    .poll_timeout()
                    .is_some_and(|t| t <= now)
                {
                    self.nodes[i].handle_timeout(now);
                }
                let due = self.sessions[i]
                    .as_ref()
                    .and_then(Session::poll_timeout)
                    .is_some_and(|t| t <= now);
                if due {
                    self.session_call(i, |s, io| s.handle_timeout(now, io));
                }
                self.deliver_all();
            }
        }
    }

    /// pf creates states `from..to` on node `i`, 20 per millisecond (a
    /// queue holds a few frames' worth; pf's own rate is bounded by traffic).
    fn create(&mut self, i: usize, from: u64, to: u64) {
        for n in from..to {
            let now = self.now;
            self.nodes[i].create_state(now, tcp_state(i as u8, n));
            if n % 20 == 0 {
                self.run_for(Duration::from_millis(1));
            }
        }
    }

    /// (id, src, dst) of every state: what a failover would inherit.
    fn table(&self, i: usize) -> Vec<(StateId, pfsync::wire::Peer, pfsync::wire::Peer)> {
        self.nodes[i]
            .table
            .iter()
            .map(|(id, s)| (*id, s.record.src, s.record.dst))
            .collect()
    }

    /// Share of node `from`'s flows whose next segment node `to` would pass.
    fn failover_survivors(&self, from: usize, to: usize) -> (usize, usize) {
        let mut ok = 0;
        let mut total = 0;
        for (id, s) in self.nodes[from].table.iter() {
            total += 1;
            let seg = Segment {
                from_src: true,
                seq: s.record.src.seqlo,
                len: 1000,
                ack: s.record.dst.seqlo,
                win: 1024,
            };
            if self.nodes[to].table.tcp_check(id, &seg).is_ok() {
                ok += 1;
            }
        }
        (ok, total)
    }
}

#[test]
fn signed_sync_works_and_replayed_modified_or_unsigned_frames_change_nothing() {
    let mut net = Net::new(vec![node(0, Some(&KEY), 1), node(1, Some(&KEY), 1)]);
    assert_eq!(net.nodes[1].engine.bulk_request_state(), ReqState::Done);
    net.create(0, 1, 101);
    net.run_for(Duration::from_millis(1500));
    let id5 = state_id(0, 5);
    let now = net.now;
    net.nodes[0].update_state(now, &id5, |r| r.src.seqlo += 5000);
    net.nodes[0].delete_state(now, &state_id(0, 6));
    net.run_for(Duration::from_millis(1500));
    assert!(net.table(1) == net.table(0), "signed frames synchronise");
    assert_eq!(net.nodes[1].engine.stats().badauth, 0);
    assert_eq!(net.nodes[1].engine.stats().badlen, 0, "no EOF, no badlen");

    let before = net.table(1);
    let demotion = net.nodes[1].io.demotion;
    let bulk = net.nodes[1].engine.bulk_request_state();
    let base = net.nodes[1].engine.stats().badauth;
    // Every frame A ever sent (bulk START/END, INS, UPD_C, DEL_C), replayed.
    let captured = net.tap[0].clone();
    let mut tried = 0u64;
    assert!(captured.len() > 5);
    for f in &captured {
        net.receive(1, f);
        tried += 1;
    }
    // Each of them modified at one position.
    for (k, f) in captured.iter().enumerate() {
        let mut bad = f.clone();
        let at = (k * 37 + 11) % bad.len();
        bad[at] ^= 0x20;
        net.receive(1, &bad);
        tried += 1;
    }
    // A node without the key speaks plain stock pfsync to B: INS for new
    // states, a CLR, and its own bulk request.
    let mut intruder = node(7, None, 1);
    intruder.configure(net.now, node_config(7)).unwrap();
    let now = net.now;
    for n in 1..=20 {
        intruder.create_state(now, tcp_state(7, n));
    }
    intruder.clear_states(now, &pfsync::wire::IfName::EMPTY);
    intruder.handle_timeout(now + Duration::from_secs(2));
    let plain = std::mem::take(&mut intruder.io.outbox);
    assert!(!plain.is_empty());
    for f in &plain {
        net.receive(1, f);
        tried += 1;
    }
    let rejected = net.nodes[1].engine.stats().badauth - base;
    eprintln!("engine-level attack frames: tried {tried}, rejected {rejected}");
    assert_eq!(rejected, tried, "every attack frame counted in badauth");
    assert!(
        net.table(1) == before,
        "no state created, changed or deleted"
    );
    assert_eq!(
        net.nodes[1].io.demotion, demotion,
        "CARP demotion untouched"
    );
    assert_eq!(net.nodes[1].engine.bulk_request_state(), bulk);
    let logged: Vec<_> = net.nodes[1]
        .io
        .log
        .iter()
        .filter_map(|e| match e {
            LogEvent::FrameRejected { reason, suppressed } => Some((*reason, *suppressed)),
            _ => None,
        })
        .collect();
    assert_eq!(logged.len(), 10, "burst of 10 lines, the rest suppressed");
    // Later, one more line reports how many were held back.
    net.run_for(Duration::from_secs(2));
    net.receive(1, &captured[0]);
    let last = net.nodes[1].io.log.iter().rev().find_map(|e| match e {
        LogEvent::FrameRejected { suppressed, .. } => Some(*suppressed),
        _ => None,
    });
    assert_eq!(last, Some(tried - 10));
}

#[test]
fn auth_off_node_reads_signed_frames_exactly_as_stock_and_auth_on_node_refuses_plain_ones() {
    // Reference: both without keys.
    let mut plain = Net::new(vec![node(0, None, 1), node(1, None, 1)]);
    // A signs, C has no key.
    let mut mixed = Net::new(vec![node(0, Some(&KEY), 1), node(1, None, 1)]);
    for net in [&mut plain, &mut mixed] {
        net.create(0, 1, 201);
        net.run_for(Duration::from_millis(1500));
        let now = net.now;
        for n in 1..=50 {
            net.nodes[0].update_state(now, &state_id(0, n), |r| r.src.seqlo += 777);
        }
        net.nodes[0].delete_state(now, &state_id(0, 100));
        net.run_for(Duration::from_millis(1500));
    }
    assert!(
        mixed.table(1) == plain.table(1),
        "same table as from an unsigned peer"
    );
    assert!(mixed.table(1) == mixed.table(0));
    let (s_mixed, s_plain) = (mixed.nodes[1].engine.stats(), plain.nodes[1].engine.stats());
    // Same messages seen, except that signed frames carry no EOF, and that C
    // never gets a bulk update (BUS) because A refuses C's unsigned request.
    for (action, (m, p)) in s_mixed.iacts.iter().zip(&s_plain.iacts).enumerate() {
        if action != 10 && action != 12 {
            assert_eq!(m, p, "iacts[{action}]");
        }
    }
    for (name, a, b) in [
        ("hdrops", s_mixed.hdrops, s_plain.hdrops),
        ("badver", s_mixed.badver, s_plain.badver),
        ("badlen", s_mixed.badlen, s_plain.badlen),
        ("badact", s_mixed.badact, s_plain.badact),
        ("badauth", s_mixed.badauth, s_plain.badauth),
        ("badval", s_mixed.badval, s_plain.badval),
    ] {
        assert_eq!(a, b, "{name}");
    }
    // The other way: C's plain frames are refused by A.
    let now = mixed.now;
    mixed.create(1, 1, 11);
    mixed.nodes[1].handle_timeout(now + Duration::from_secs(2));
    mixed.run_for(Duration::from_millis(1500));
    assert!(mixed.nodes[0].engine.stats().badauth > 0);
    assert!(mixed.nodes[0].table.get(&state_id(1, 3)).is_none());
}

fn lossy_run(with_anti_entropy: bool, key: Option<&[u8; KEY_LEN]>) -> (Net, usize, (usize, usize)) {
    let mut net = Net::new(vec![node(0, key, 1), node(1, key, 1)]);
    let period = Duration::from_secs(2);
    if with_anti_entropy {
        net.enable_anti_entropy(period);
    }
    net.create(0, 1, 2001);
    net.run_for(Duration::from_secs(3));
    assert!(net.table(1) == net.table(0), "in sync before the burst");
    // Loss burst: everything A sends for 1.5 s is lost.
    net.cut[0] = true;
    let now = net.now;
    net.create(0, 2001, 2301);
    for n in (1..=600).step_by(2) {
        net.nodes[0].update_state(now, &state_id(0, n), |r| {
            r.src.seqlo = r.src.seqlo.wrapping_add(300_000);
            r.src.seqhi = r.src.seqhi.wrapping_add(300_000);
        });
    }
    for n in 1001..1101 {
        net.nodes[0].delete_state(now, &state_id(0, n));
    }
    net.run_for(Duration::from_millis(1500));
    net.cut[0] = false;
    let differing_at_burst_end = diff(&net);
    // Two digest periods after the burst: then fail over to B.
    net.run_for(period + period);
    let survivors = net.failover_survivors(0, 1);
    (net, differing_at_burst_end, survivors)
}

fn diff(net: &Net) -> usize {
    let (a, b) = (net.table(0), net.table(1));
    let bs: std::collections::HashSet<_> = b.iter().collect();
    let as_: std::collections::HashSet<_> = a.iter().collect();
    as_.symmetric_difference(&bs).count()
}

#[test]
fn anti_entropy_repairs_a_loss_burst_through_the_engine_and_failover_keeps_every_flow() {
    let (stock, lost, stock_survivors) = lossy_run(false, Some(&KEY));
    let (repaired, lost_ae, ae_survivors) = lossy_run(true, Some(&KEY));
    eprintln!(
        "after a 1.5 s loss burst: differing entries {lost} (no AE) / {lost_ae} (AE); \
         after 2 periods: differing {} (no AE) / {} (AE); failover survivors {:?} (no AE) / {:?} (AE)",
        diff(&stock),
        diff(&repaired),
        stock_survivors,
        ae_survivors
    );
    assert!(
        lost > 0 && diff(&stock) > 0,
        "stock never repairs these losses"
    );
    assert!(stock_survivors.0 < stock_survivors.1);
    assert_eq!(
        diff(&repaired),
        0,
        "replicas identical after two digest periods"
    );
    assert_eq!(ae_survivors.0, ae_survivors.1, "no flow lost on failover");
    let ae = repaired.sessions[1].as_ref().unwrap().stats();
    assert!(ae.updates_requested > 0 && ae.states_deleted == 100);
    assert_eq!(
        repaired.nodes[1].engine.stats().badauth,
        0,
        "digests are signed too"
    );
}

#[test]
fn anti_entropy_works_without_authentication_too() {
    let (net, lost, survivors) = lossy_run(true, None);
    assert!(lost > 0);
    assert_eq!(diff(&net), 0);
    assert_eq!(survivors.0, survivors.1);
    assert_eq!(
        net.nodes[1].engine.stats().badlen,
        0,
        "digest frames count nothing"
    );
}
