//! Anti-entropy between two replicas over a lossy link, with the real
//! [`Session`] on both sides and a table-level model of ordinary pfsync around
//! it: node A owns the flows (creates, updates, deletes them) and streams each
//! change to B within the stock 1 s flush; B repairs what a loss burst took
//! away. Changes keep flowing during and after the burst, so the confirmation
//! step has in-flight updates to filter.
//!
//! Size: `AE_SIM_STATES` (default 10 000 for CI). The figures in
//! docs/anti-entropy.md come from
//! `AE_SIM_STATES=1000000 cargo test --release --test antientropy_sim -- --nocapture`.

use std::collections::{BTreeMap, HashMap, HashSet};

use pfsync::antientropy::{Config, Io, Session, StateView};
use pfsync::time::{Duration, Instant};
use pfsync::wire::{Peer, StateId};

const A: usize = 0;
const B: usize = 1;
const HOST: [[u8; 4]; 2] = [[0, 0, 0, 0xa1], [0, 0, 0, 0xb2]];
/// Full UPD on the wire: header + subheader + one 1500-format state, for the
/// repair-traffic count.
const UPD_FRAME: u64 = 20 + 4 + 360;
const UPD_REQ_FRAME: u64 = 20 + 4 + 12;
const LINK_BPS: u64 = 1_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rec {
    proto: u8,
    timeout: u8,
    src: Peer,
    dst: Peer,
}

impl Rec {
    /// The model's "never go backwards": src.seqlo only grows (no wrap here).
    fn newer_than(&self, other: &Rec) -> bool {
        self.src.seqlo > other.src.seqlo
    }
}

enum Payload {
    Ae(Vec<u8>),
    Change(StateId, Option<Rec>),
    UpdReq(StateId),
    Upd(StateId, Rec),
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Outbox {
    frames: Vec<Payload>,
    /// The session asked for queued changes to leave now.
    flush: bool,
}

struct NodeIo<'a> {
    table: &'a mut HashMap<StateId, Rec>,
    out: &'a mut Outbox,
}

impl Io for NodeIo<'_> {
    fn walk_states(&mut self, visit: &mut dyn FnMut(StateView<'_>)) {
        for (id, r) in self.table.iter() {
            visit(StateView {
                id,
                proto: r.proto,
                timeout: r.timeout,
                src: &r.src,
                dst: &r.dst,
            });
        }
    }
    fn send_frame(&mut self, buf: &mut [u8], len: usize) {
        self.out.frames.push(Payload::Ae(buf[..len].to_vec()));
    }
    fn flush(&mut self) {
        self.out.flush = true;
    }
    fn request_update(&mut self, id: &StateId) {
        self.out.frames.push(Payload::UpdReq(*id));
    }
    fn delete_state(&mut self, id: &StateId) {
        self.table.remove(id);
    }
    fn in_sync(&self) -> bool {
        true
    }
    fn pfcksum(&self) -> [u8; 16] {
        [0; 16]
    }
}

struct Node {
    table: HashMap<StateId, Rec>,
    session: Session,
}

struct World {
    now: Instant,
    nodes: [Node; 2],
    /// Deliveries by time; the u64 keeps insertion order among equal times.
    in_flight: BTreeMap<(Instant, u64), (usize, Payload)>,
    seq: u64,
    rng: Rng,
    burst: (Instant, Instant),
    burst_loss_per_mille: u64,
    /// States with at least one lost change message.
    lost: HashSet<StateId>,
    /// Change messages per state still on the wire (not lost): a state that
    /// differs only because of these is in sync as far as stock can tell.
    changes_in_flight: HashMap<StateId, u32>,
    ae_bytes: u64,
    repair_bytes: u64,
    next_id: u64,
}

fn sid(n: u64, creator: usize) -> StateId {
    StateId {
        id: n.to_be_bytes(),
        creatorid: HOST[creator],
    }
}

fn flow(rng: &mut Rng, seq: u32) -> Rec {
    let mut src = Peer {
        seqlo: seq,
        seqhi: seq.wrapping_add(65535),
        max_win: 65535,
        mss: 1460,
        state: 4,
        wscale: 7,
        ..Peer::default()
    };
    src.seqdiff = rng.next() as u32;
    let mut dst = src;
    dst.seqlo = rng.next() as u32;
    Rec {
        proto: 6,
        timeout: 2,
        src,
        dst,
    }
}

impl World {
    fn new(states: u64, config: Config, seed: u64) -> World {
        let mut rng = Rng(seed);
        let mut table = HashMap::with_capacity(states as usize * 2);
        for n in 1..=states {
            table.insert(sid(n, A), flow(&mut rng, 1000));
        }
        let make = |i: usize, table: HashMap<StateId, Rec>| Node {
            table,
            session: Session::new(config, HOST[i]).unwrap(),
        };
        let mut w = World {
            now: Instant::from_secs(1),
            nodes: [make(A, table.clone()), make(B, table)],
            in_flight: BTreeMap::new(),
            seq: 0,
            rng,
            burst: (Instant::ZERO, Instant::ZERO),
            burst_loss_per_mille: 0,
            lost: HashSet::new(),
            changes_in_flight: HashMap::new(),
            ae_bytes: 0,
            repair_bytes: 0,
            next_id: states + 1,
        };
        let now = w.now;
        w.nodes[A].session.start(now, Duration::from_millis(100));
        w.nodes[B]
            .session
            .start(now, Duration::from_nanos(config.period.as_nanos() / 2));
        w
    }

    fn lossy(&mut self) -> bool {
        let (from, to) = self.burst;
        self.now >= from && self.now < to && self.rng.below(1000) < self.burst_loss_per_mille
    }

    fn send(&mut self, from: usize, delay: Duration, p: Payload) {
        let lost = self.lossy();
        if let Payload::Change(id, _) = &p {
            if lost {
                self.lost.insert(*id);
            }
        }
        match &p {
            Payload::Ae(b) => self.ae_bytes += b.len() as u64,
            Payload::UpdReq(_) => self.repair_bytes += UPD_REQ_FRAME,
            Payload::Upd(..) => self.repair_bytes += UPD_FRAME,
            Payload::Change(..) => {}
        }
        if lost {
            return;
        }
        if let Payload::Change(id, _) = &p {
            *self.changes_in_flight.entry(*id).or_default() += 1;
        }
        self.seq += 1;
        let at = self.now + delay + Duration::from_micros(100);
        self.in_flight.insert((at, self.seq), (1 - from, p));
    }

    fn flush_outbox(&mut self, from: usize, out: Outbox) {
        if out.flush {
            self.flush_changes(from);
        }
        for p in out.frames {
            self.send(from, Duration::ZERO, p);
        }
    }

    fn with_io(&mut self, i: usize, f: impl FnOnce(&mut Session, &mut NodeIo<'_>)) {
        let mut out = Outbox {
            frames: Vec::new(),
            flush: false,
        };
        let node = &mut self.nodes[i];
        let mut io = NodeIo {
            table: &mut node.table,
            out: &mut out,
        };
        f(&mut node.session, &mut io);
        self.flush_outbox(i, out);
    }

    fn deliver(&mut self, to: usize, p: Payload) {
        let now = self.now;
        if let Payload::Change(id, _) = &p {
            if let Some(n) = self.changes_in_flight.get_mut(id) {
                *n -= 1;
                if *n == 0 {
                    self.changes_in_flight.remove(id);
                }
            }
        }
        match p {
            Payload::Ae(bytes) => self.with_io(to, |s, io| {
                let ext = pfsync::antientropy::wire::extension_region(&bytes);
                assert!(s.on_extension(now, ext, io));
            }),
            Payload::Change(id, Some(rec)) => {
                let t = &mut self.nodes[to].table;
                match t.get(&id) {
                    Some(old) if old.newer_than(&rec) => {}
                    _ => {
                        t.insert(id, rec);
                    }
                }
            }
            Payload::Change(id, None) => {
                self.nodes[to].table.remove(&id);
            }
            Payload::UpdReq(id) => {
                if let Some(rec) = self.nodes[to].table.get(&id).copied() {
                    self.send(to, Duration::ZERO, Payload::Upd(id, rec));
                }
            }
            Payload::Upd(id, rec) => {
                let mine = self.nodes[to].table.get(&id).copied();
                match mine {
                    Some(old) if old.newer_than(&rec) => {
                        // Stock: the receiver of a stale update sends its own newer copy.
                        self.send(to, Duration::ZERO, Payload::Upd(id, old));
                    }
                    _ => {
                        self.nodes[to].table.insert(id, rec);
                    }
                }
            }
        }
    }

    /// Stock-like "push all buckets": every queued change of `from` leaves now,
    /// in its original order, ahead of anything sent after.
    fn flush_changes(&mut self, from: usize) {
        let soon = self.now + Duration::from_micros(100);
        let queued: Vec<(Instant, u64)> = self
            .in_flight
            .iter()
            .filter(|(k, (to, p))| k.0 > soon && *to != from && matches!(p, Payload::Change(..)))
            .map(|(k, _)| *k)
            .collect();
        for k in queued {
            let v = self.in_flight.remove(&k).unwrap();
            self.in_flight.insert((soon, k.1), v);
        }
    }

    /// Delay until the state's bucket is next flushed: stock sends a bucket's
    /// queue every second (or sooner when full), so the messages of one state
    /// leave in order; four buckets flush at staggered times.
    fn flush_delay(&self, id: &StateId) -> Duration {
        let bucket = u64::from_be_bytes(id.id) % 4;
        let now_ms = self.now.as_nanos() / 1_000_000;
        let phase = (now_ms + 1000 - bucket * 250) % 1000;
        Duration::from_millis(1000 - phase)
    }

    /// A's traffic for `dt`: new flows, updates and deletions, each streamed
    /// to B at its bucket's next flush.
    fn churn(&mut self, per_sec: (u64, u64, u64), dt: Duration) {
        let scale = |n: u64| n * dt.as_millis() / 1000;
        let (ins, upd, del) = (scale(per_sec.0), scale(per_sec.1), scale(per_sec.2));
        for _ in 0..ins {
            let id = sid(self.next_id, A);
            self.next_id += 1;
            let rec = flow(&mut self.rng, 1000);
            self.nodes[A].table.insert(id, rec);
            let delay = self.flush_delay(&id);
            self.send(A, delay, Payload::Change(id, Some(rec)));
        }
        for _ in 0..upd {
            let id = sid(1 + self.rng.below(self.next_id - 1), A);
            let Some(rec) = self.nodes[A].table.get_mut(&id) else {
                continue;
            };
            rec.src.seqlo += 1 + (self.rng.below(50_000) as u32);
            rec.src.seqhi = rec.src.seqlo.wrapping_add(65535);
            let rec = *rec;
            let delay = self.flush_delay(&id);
            self.send(A, delay, Payload::Change(id, Some(rec)));
        }
        for _ in 0..del {
            let id = sid(1 + self.rng.below(self.next_id - 1), A);
            if self.nodes[A].table.remove(&id).is_some() {
                let delay = self.flush_delay(&id);
                self.send(A, delay, Payload::Change(id, None));
            }
        }
    }

    fn run_until(&mut self, until: Instant, churn: (u64, u64, u64)) {
        let step = Duration::from_millis(10);
        while self.now < until {
            let next = self.now + step;
            self.churn(churn, step);
            loop {
                let timer = (0..2)
                    .filter_map(|i| self.nodes[i].session.poll_timeout().map(|t| (t, i)))
                    .min();
                let packet = self.in_flight.keys().next().copied();
                match (timer, packet) {
                    (Some((t, i)), p) if t < next && p.is_none_or(|(pt, _)| t <= pt) => {
                        self.now = self.now.max(t);
                        let now = self.now;
                        self.with_io(i, |s, io| s.handle_timeout(now, io));
                    }
                    (_, Some(k)) if k.0 < next => {
                        let (to, p) = self.in_flight.remove(&k).unwrap();
                        self.now = self.now.max(k.0);
                        self.deliver(to, p);
                    }
                    _ => break,
                }
            }
            self.now = next;
        }
    }

    /// States that lost a change and still differ on B, not counting those
    /// whose newest change is still on its way (ordinary sync will deliver it).
    fn unrepaired(&self) -> usize {
        self.lost
            .iter()
            .filter(|id| !self.changes_in_flight.contains_key(id))
            .filter(|id| self.nodes[A].table.get(id) != self.nodes[B].table.get(id))
            .count()
    }

    fn differing(&self) -> usize {
        let (a, b) = (&self.nodes[A].table, &self.nodes[B].table);
        a.iter().filter(|(k, v)| b.get(k) != Some(v)).count()
            + b.keys().filter(|k| !a.contains_key(k)).count()
    }
}

struct Outcome {
    states: u64,
    lost: usize,
    /// Unrepaired right when the burst ends, after one period, after two.
    unrepaired: [usize; 3],
    converged_after: Option<Duration>,
    ae_share_ppm: u64,
    repair_bytes: u64,
    final_differing: usize,
    ae_stats: [pfsync::antientropy::Stats; 2],
}

fn scenario(
    states: u64,
    burst_secs: u64,
    loss_per_mille: u64,
    churn: (u64, u64, u64),
    seed: u64,
) -> Outcome {
    scenario_with(states, burst_secs, loss_per_mille, churn, seed, false)
}

fn scenario_with(
    states: u64,
    burst_secs: u64,
    loss_per_mille: u64,
    churn: (u64, u64, u64),
    seed: u64,
    confirm: bool,
) -> Outcome {
    let config = Config {
        period: Duration::from_secs(5),
        confirm,
        ..Config::new()
    };
    let period = config.period;
    let mut w = World::new(states, config, seed);
    let warm = w.now + Duration::from_secs(6);
    w.run_until(warm, churn);
    let ae_before = w.ae_bytes;
    let t_start = w.now;
    let burst_end = w.now + Duration::from_secs(burst_secs);
    w.burst = (w.now, burst_end);
    w.burst_loss_per_mille = loss_per_mille;
    w.run_until(burst_end, churn);
    let lost = w.lost.len();
    let mut unrepaired = [w.unrepaired(), 0, 0];
    let mut converged_after = (unrepaired[0] == 0).then_some(Duration::ZERO);
    let tick = Duration::from_millis(100);
    let mut t = burst_end;
    while t < burst_end + period + period {
        t = t + tick;
        w.run_until(t, churn);
        let left = w.unrepaired();
        if left == 0 && converged_after.is_none() {
            converged_after = Some(t - burst_end);
        }
        if t == burst_end + period {
            unrepaired[1] = left;
        }
    }
    unrepaired[2] = w.unrepaired();
    let elapsed = w.now - t_start;
    let ae_bits = (w.ae_bytes - ae_before) * 8;
    let ae_share_ppm = ae_bits * 1_000_000 / (LINK_BPS * elapsed.as_millis() / 1000);
    // Quiesce: no more traffic, let every change land and one more round run.
    w.run_until(w.now + period + period + Duration::from_secs(2), (0, 0, 0));
    Outcome {
        states,
        lost,
        unrepaired,
        converged_after,
        ae_share_ppm,
        repair_bytes: w.repair_bytes,
        final_differing: w.differing(),
        ae_stats: [*w.nodes[A].session.stats(), *w.nodes[B].session.stats()],
    }
}

fn states_from_env() -> u64 {
    std::env::var("AE_SIM_STATES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

fn report(name: &str, o: &Outcome) {
    eprintln!(
        "{name}: states {} lost-change states {} unrepaired at burst end/+1P/+2P {:?} converged after {:?} \
         digest traffic {} ppm of 1 Gb/s, repair bytes {}, differing after quiesce {}",
        o.states, o.lost, o.unrepaired, o.converged_after, o.ae_share_ppm, o.repair_bytes, o.final_differing
    );
    eprintln!("  A {:?}\n  B {:?}", o.ae_stats[A], o.ae_stats[B]);
}

#[test]
fn replicas_converge_within_two_periods_after_a_total_loss_burst() {
    let n = states_from_env();
    // 2 s of 100 % loss while A creates 1000, updates 10000 and deletes 1000 flows/s.
    let o = scenario(n, 2, 1000, (1000, 10_000, 1000), 0x5eed);
    report("total loss 2 s", &o);
    assert!(o.lost > 1000, "the burst must lose changes");
    let period = Duration::from_secs(5);
    assert!(
        o.converged_after.is_some_and(|d| d <= period + period),
        "not converged in 2 periods"
    );
    assert_eq!(o.unrepaired[2], 0);
    assert_eq!(o.final_differing, 0, "tables identical once traffic stops");
    assert!(
        o.ae_share_ppm <= 10_000,
        "digest traffic above 1% of the link"
    );
}

#[test]
fn partial_loss_burst_is_repaired_and_failover_keeps_repaired_flows() {
    let n = states_from_env();
    let o = scenario(n, 5, 300, (500, 20_000, 500), 0xfeed);
    report("30% loss 5 s", &o);
    assert!(o.lost > 1000);
    // Failover at +2 periods: every flow whose change was lost has been repaired.
    assert_eq!(o.unrepaired[2], 0);
    assert_eq!(o.final_differing, 0);
    assert!(o.ae_share_ppm <= 10_000);
}

#[test]
fn without_loss_nothing_is_requested_even_with_updates_in_flight() {
    let n = states_from_env();
    let o = scenario(n, 2, 0, (1000, 10_000, 1000), 0xabc);
    report("no loss", &o);
    assert_eq!(o.lost, 0);
    for s in &o.ae_stats {
        assert_eq!(
            s.updates_requested, 0,
            "in-flight updates must not trigger repairs"
        );
        assert_eq!(s.states_deleted, 0);
    }
}

#[test]
fn with_confirmation_the_burst_is_still_repaired_within_two_periods() {
    let n = states_from_env().min(10_000);
    let o = scenario_with(n, 2, 1000, (1000, 10_000, 1000), 0x77, true);
    report("total loss 2 s, confirmed", &o);
    let period = Duration::from_secs(5);
    assert!(o.converged_after.is_some_and(|d| d <= period + period));
    assert_eq!(o.final_differing, 0);
}
