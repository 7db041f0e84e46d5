//! Token bucket for log lines about rejected frames, so a flood of forgeries
//! costs a few lines per interval instead of one per frame.

use crate::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Log this event; `suppressed` events were dropped since the last logged one.
    Log {
        suppressed: u64,
    },
    Suppressed,
}

#[derive(Clone, Copy, Debug)]
pub struct LogLimiter {
    burst: u32,
    refill_every: Duration,
    tokens: u32,
    refilled_at: Option<Instant>,
    suppressed: u64,
}

impl LogLimiter {
    /// Up to `burst` lines at once, then one more per `refill_every`.
    pub const fn new(burst: u32, refill_every: Duration) -> Self {
        LogLimiter {
            burst,
            refill_every,
            tokens: burst,
            refilled_at: None,
            suppressed: 0,
        }
    }

    pub fn admit(&mut self, now: Instant) -> Admission {
        self.refill(now);
        if self.tokens == 0 {
            self.suppressed = self.suppressed.saturating_add(1);
            return Admission::Suppressed;
        }
        self.tokens -= 1;
        let suppressed = core::mem::take(&mut self.suppressed);
        Admission::Log { suppressed }
    }

    fn refill(&mut self, now: Instant) {
        let Some(since) = self.refilled_at else {
            self.refilled_at = Some(now);
            return;
        };
        let step = self.refill_every.as_nanos().max(1);
        let elapsed = now.saturating_since(since).as_nanos();
        let earned = elapsed / step;
        if earned == 0 {
            return;
        }
        let room = u64::from(self.burst - self.tokens);
        self.tokens += u32::try_from(earned.min(room)).unwrap_or(0);
        // Keep the unspent fraction of a step so the long-run rate is exact;
        // a full bucket forgets the past.
        self.refilled_at = Some(if self.tokens == self.burst {
            now
        } else {
            since + Duration::from_nanos(earned * step)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate_and_reports_suppressed() {
        let mut l = LogLimiter::new(3, Duration::from_secs(1));
        let t0 = Instant::from_secs(100);
        for _ in 0..3 {
            assert_eq!(l.admit(t0), Admission::Log { suppressed: 0 });
        }
        for _ in 0..1000 {
            assert_eq!(
                l.admit(t0 + Duration::from_millis(500)),
                Admission::Suppressed
            );
        }
        assert_eq!(
            l.admit(t0 + Duration::from_millis(1000)),
            Admission::Log { suppressed: 1000 }
        );
        assert_eq!(
            l.admit(t0 + Duration::from_millis(1999)),
            Admission::Suppressed
        );
        assert_eq!(
            l.admit(t0 + Duration::from_millis(2000)),
            Admission::Log { suppressed: 1 }
        );
        let logged = (0..100_000u64)
            .filter(|i| {
                matches!(
                    l.admit(t0 + Duration::from_millis(2000 + i)),
                    Admission::Log { .. }
                )
            })
            .count();
        assert_eq!(logged, 99, "one per second over 100 s");
    }

    #[test]
    fn zero_interval_does_not_divide_by_zero() {
        let mut l = LogLimiter::new(1, Duration::ZERO);
        assert!(matches!(l.admit(Instant::ZERO), Admission::Log { .. }));
        assert!(matches!(
            l.admit(Instant::from_nanos(1)),
            Admission::Log { .. }
        ));
    }
}
