//! The simulated network and clock: a deterministic event queue delivering
//! frames between nodes with configurable delay, jitter (which reorders),
//! loss, duplication, partitions and sender bandwidth, and firing each node's
//! engine timer when `poll_timeout` says so.
//!
//! Frames a node sends go to every other live node (the multicast group).

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use crate::engine::{Config, ConfigError, IpFamily, RxMeta};
use crate::sim::node::Node;
use crate::sim::rng::Rng;
use crate::time::{Duration, Instant};

/// How frames travel between nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkConditions {
    pub delay: Duration,
    /// Extra delay, uniform in `0..=jitter`; more than the frame spacing reorders.
    pub jitter: Duration,
    /// Frames lost, per million.
    pub loss_ppm: u32,
    /// Frames delivered twice, per million.
    pub dup_ppm: u32,
    /// Sender link speed in bytes/s (0 = unlimited); frames queue behind each other.
    pub bandwidth_bytes_per_sec: u64,
    /// Per-frame link overhead counted against bandwidth (IP header, Ethernet framing).
    pub overhead_bytes: u64,
}

impl Default for LinkConditions {
    fn default() -> Self {
        LinkConditions {
            delay: Duration::from_micros(100),
            jitter: Duration::ZERO,
            loss_ppm: 0,
            dup_ppm: 0,
            bandwidth_bytes_per_sec: 125_000_000,
            // IPv4 header 20 + Ethernet header/FCS/preamble/gap 38.
            overhead_bytes: 58,
        }
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    Deliver {
        to: usize,
        from: usize,
        frame: Vec<u8>,
    },
    Timer {
        node: usize,
    },
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    at: Instant,
    seq: u64,
    what: What,
}

/// Network totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    pub sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub bytes_delivered: u64,
}

/// Nodes, network and virtual clock.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub now: Instant,
    pub link: LinkConditions,
    /// Directed pairs (from, to) that cannot talk.
    pub blocked: BTreeSet<(usize, usize)>,
    pub net: NetStats,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    rng: Rng,
    /// Per node: the engine deadline already in the queue.
    timer_at: Vec<Option<Instant>>,
    /// Per node: when its transmitter is free again.
    tx_free_at: Vec<Instant>,
    /// Events processed (for livelock detection in tests).
    pub events: u64,
    /// Frames from node `from` for which this returns true are lost (a
    /// targeted loss, e.g. every BUS END).
    pub drop_frame: Option<fn(from: usize, frame: &[u8]) -> bool>,
}

impl Cluster {
    /// Nodes with these configurations, not yet started (see [`Cluster::start`]).
    pub fn new(seed: u64, configs: &[Config]) -> Result<Cluster, ConfigError> {
        let nodes = configs
            .iter()
            .map(|c| Node::new(*c))
            .collect::<Result<Vec<_>, _>>()?;
        let n = nodes.len();
        Ok(Cluster {
            nodes,
            now: Instant::from_secs(1),
            link: LinkConditions::default(),
            blocked: BTreeSet::new(),
            net: NetStats::default(),
            queue: BinaryHeap::new(),
            seq: 0,
            rng: Rng::new(seed),
            timer_at: vec![None; n],
            tx_free_at: vec![Instant::ZERO; n],
            events: 0,
            drop_frame: None,
        })
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Applies each node's configuration at the current time.
    pub fn start(&mut self, node: usize) -> Result<(), ConfigError> {
        let now = self.now;
        let cfg = self.nodes.get(node).map(|n| n.config);
        if let Some(cfg) = cfg {
            self.with_node(node, |n| n.configure(now, cfg))
                .unwrap_or(Ok(()))?;
        }
        Ok(())
    }

    /// Runs `f` on node `i` at the current time, then ships what it sent and
    /// re-arms its timer. `None` if there is no such node or it is dead.
    pub fn with_node<R>(&mut self, i: usize, f: impl FnOnce(&mut Node) -> R) -> Option<R> {
        let node = self.nodes.get_mut(i)?;
        if !node.alive {
            return None;
        }
        let r = f(node);
        self.after_io(i);
        Some(r)
    }

    /// Node `i` stops: frames to and from it vanish, its timers stop.
    pub fn kill(&mut self, i: usize) {
        if let Some(n) = self.nodes.get_mut(i) {
            n.alive = false;
            n.io.outbox.clear();
        }
    }

    /// Cuts (or restores) both directions between `a` and `b`.
    pub fn partition(&mut self, a: usize, b: usize, cut: bool) {
        for pair in [(a, b), (b, a)] {
            if cut {
                self.blocked.insert(pair);
            } else {
                self.blocked.remove(&pair);
            }
        }
    }

    fn push(&mut self, at: Instant, what: What) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            what,
        }));
    }

    fn after_io(&mut self, i: usize) {
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        let frames = std::mem::take(&mut node.io.outbox);
        let deadline = node.poll_timeout();
        let family = node.config.peer_family;
        for frame in frames {
            self.send(i, family, frame);
        }
        let armed = self.timer_at.get(i).copied().flatten();
        if let Some(at) = deadline {
            if armed != Some(at) {
                let at = if at < self.now { self.now } else { at };
                if let Some(t) = self.timer_at.get_mut(i) {
                    *t = Some(at);
                }
                self.push(at, What::Timer { node: i });
            }
        }
    }

    fn send(&mut self, from: usize, _family: IpFamily, frame: Vec<u8>) {
        self.net.sent += 1;
        if self.drop_frame.is_some_and(|lost| lost(from, &frame)) {
            self.net.lost += 1;
            return;
        }
        let wire = frame.len() as u64 + self.link.overhead_bytes;
        let start = self
            .tx_free_at
            .get(from)
            .copied()
            .map_or(self.now, |t| t.max(self.now));
        let serial = (wire * 1_000_000_000)
            .checked_div(self.link.bandwidth_bytes_per_sec)
            .map_or(Duration::ZERO, Duration::from_nanos);
        let departed = start + serial;
        if let Some(t) = self.tx_free_at.get_mut(from) {
            *t = departed;
        }
        for to in 0..self.nodes.len() {
            if to == from || self.blocked.contains(&(from, to)) {
                continue;
            }
            if self.rng.chance(self.link.loss_ppm) {
                self.net.lost += 1;
                continue;
            }
            let copies = if self.rng.chance(self.link.dup_ppm) {
                self.net.duplicated += 1;
                2
            } else {
                1
            };
            for _ in 0..copies {
                let jitter = if self.link.jitter == Duration::ZERO {
                    Duration::ZERO
                } else {
                    Duration::from_nanos(self.rng.below(self.link.jitter.as_nanos() + 1))
                };
                let at = departed + self.link.delay + jitter;
                self.push(
                    at,
                    What::Deliver {
                        to,
                        from,
                        frame: frame.clone(),
                    },
                );
            }
        }
    }

    /// Processes every event up to and including `until`, then sets the clock there.
    pub fn run_until(&mut self, until: Instant) {
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at > until {
                break;
            }
            let Some(Reverse(ev)) = self.queue.pop() else {
                break;
            };
            if ev.at > self.now {
                self.now = ev.at;
            }
            self.events += 1;
            let now = self.now;
            match ev.what {
                What::Deliver { to, from, frame } => {
                    let live =
                        self.nodes.get(from).is_some() && !self.blocked.contains(&(from, to));
                    if live {
                        let family = self
                            .nodes
                            .get(to)
                            .map_or(IpFamily::V4, |n| n.config.peer_family);
                        let delivered = self
                            .with_node(to, |n| n.receive(now, RxMeta::valid(family), &frame))
                            .is_some();
                        if delivered {
                            self.net.delivered += 1;
                            self.net.bytes_delivered += frame.len() as u64;
                        }
                    }
                }
                What::Timer { node } => {
                    let current = self.timer_at.get(node).copied().flatten();
                    if current == Some(ev.at) {
                        if let Some(t) = self.timer_at.get_mut(node) {
                            *t = None;
                        }
                        self.with_node(node, |n| n.handle_timeout(now));
                    }
                }
            }
        }
        if until > self.now {
            self.now = until;
        }
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Runs until nothing is scheduled before `limit`; returns when it went quiet.
    pub fn run_until_idle(&mut self, limit: Instant) -> Instant {
        loop {
            let next = self.queue.peek().map(|Reverse(s)| s.at);
            match next {
                Some(at) if at <= limit => self.run_until(at),
                Some(_) | None => return self.now,
            }
        }
    }
}
