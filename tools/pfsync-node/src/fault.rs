//! Egress fault injection, standing in for netem (whose kernel module these
//! machines lack): drop, delay and reorder outgoing frames.
//!
//! Reordering holds a chosen frame back for an extra `reorder_hold` so frames
//! sent after it overtake it, which is what netem's `reorder` does too.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, Default)]
pub struct FaultConfig {
    /// Percentage (0..=100) of frames dropped.
    pub drop_pct: u8,
    /// Every frame is held this long before it is sent.
    pub delay: Duration,
    /// Percentage (0..=100) of frames held back an extra `reorder_hold`.
    pub reorder_pct: u8,
    pub reorder_hold: Duration,
    pub seed: u64,
}

impl FaultConfig {
    pub fn is_active(&self) -> bool {
        self.drop_pct > 0 || !self.delay.is_zero() || self.reorder_pct > 0
    }
}

#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct FaultCounters {
    pub dropped: u64,
    pub delayed: u64,
    pub reordered: u64,
}

/// xorshift64*: tiny, seedable, good enough to pick which frames to hurt.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn percent_hit(&mut self, pct: u8) -> bool {
        pct > 0 && (self.next() % 100) < u64::from(pct)
    }
}

/// What to do with a frame handed to [`FaultInjector::admit`].
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    SendNow(Vec<u8>),
    Dropped,
    Held,
}

pub struct FaultInjector {
    cfg: FaultConfig,
    rng: Rng,
    /// Held frames ordered by release time, then by arrival (the sequence number).
    held: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    seq: u64,
    pub counters: FaultCounters,
}

impl FaultInjector {
    pub fn new(cfg: FaultConfig) -> FaultInjector {
        FaultInjector {
            rng: Rng::new(cfg.seed),
            cfg,
            held: BinaryHeap::new(),
            seq: 0,
            counters: FaultCounters::default(),
        }
    }

    pub fn config(&self) -> FaultConfig {
        self.cfg
    }

    /// Changes the faults at run time; frames already held keep their release time.
    pub fn reconfigure(&mut self, cfg: FaultConfig) {
        self.cfg = FaultConfig {
            seed: self.cfg.seed,
            ..cfg
        };
    }

    pub fn admit(&mut self, frame: Vec<u8>, now: Instant) -> Verdict {
        if self.rng.percent_hit(self.cfg.drop_pct) {
            self.counters.dropped += 1;
            return Verdict::Dropped;
        }
        let mut hold = self.cfg.delay;
        if self.rng.percent_hit(self.cfg.reorder_pct) {
            hold += self.cfg.reorder_hold;
            self.counters.reordered += 1;
        }
        if hold.is_zero() && self.held.is_empty() {
            return Verdict::SendNow(frame);
        }
        if !hold.is_zero() {
            self.counters.delayed += 1;
        }
        self.seq += 1;
        self.held.push(Reverse((now + hold, self.seq, frame)));
        Verdict::Held
    }

    /// Frames whose hold has expired, in release order.
    pub fn due(&mut self, now: Instant) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(Reverse((at, _, _))) = self.held.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, _, frame))) = self.held.pop() {
                out.push(frame);
            }
        }
        out
    }

    /// Every held frame regardless of its release time (shutdown flush).
    pub fn drain_all(&mut self) -> Vec<Vec<u8>> {
        let mut all: Vec<_> = std::mem::take(&mut self.held).into_vec();
        all.sort_by_key(|Reverse((at, seq, _))| (*at, *seq));
        all.into_iter().map(|Reverse((_, _, f))| f).collect()
    }

    pub fn next_release(&self) -> Option<Instant> {
        self.held.peek().map(|Reverse((at, _, _))| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_means_frames_pass_untouched() {
        let mut f = FaultInjector::new(FaultConfig::default());
        let now = Instant::now();
        assert_eq!(f.admit(vec![1, 2], now), Verdict::SendNow(vec![1, 2]));
        assert!(f.next_release().is_none());
    }

    #[test]
    fn drop_rate_is_roughly_honoured() {
        let mut f = FaultInjector::new(FaultConfig {
            drop_pct: 30,
            seed: 7,
            ..FaultConfig::default()
        });
        let now = Instant::now();
        let dropped = (0..10_000)
            .filter(|_| f.admit(vec![0], now) == Verdict::Dropped)
            .count();
        assert!((2_500..3_500).contains(&dropped), "dropped {dropped}");
        assert_eq!(f.counters.dropped, dropped as u64);
    }

    #[test]
    fn reordered_frames_are_overtaken() {
        let mut f = FaultInjector::new(FaultConfig {
            reorder_pct: 100,
            reorder_hold: Duration::from_millis(10),
            seed: 1,
            ..FaultConfig::default()
        });
        let t0 = Instant::now();
        assert_eq!(f.admit(vec![1], t0), Verdict::Held);
        f.reconfigure(FaultConfig::default());
        // Frame 2 is not delayed but must queue behind nothing: it goes into the
        // heap because frame 1 is held, with an earlier release time.
        assert_eq!(
            f.admit(vec![2], t0 + Duration::from_millis(1)),
            Verdict::Held
        );
        let out = f.due(t0 + Duration::from_millis(20));
        assert_eq!(out, vec![vec![2], vec![1]]);
    }

    #[test]
    fn delay_holds_until_due() {
        let mut f = FaultInjector::new(FaultConfig {
            delay: Duration::from_millis(5),
            seed: 3,
            ..FaultConfig::default()
        });
        let t0 = Instant::now();
        assert_eq!(f.admit(vec![9], t0), Verdict::Held);
        assert!(f.due(t0 + Duration::from_millis(4)).is_empty());
        assert_eq!(f.due(t0 + Duration::from_millis(5)), vec![vec![9]]);
    }
}
