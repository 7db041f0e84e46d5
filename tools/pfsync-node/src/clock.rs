//! The node's monotonic clock, expressed as the core's `Instant`.

use std::time::{Duration as StdDuration, Instant as StdInstant};

use pfsync::time::{Duration, Instant};

pub struct Clock {
    origin: StdInstant,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            origin: StdInstant::now(),
        }
    }

    pub fn now(&self) -> Instant {
        let nanos = self.origin.elapsed().as_nanos();
        // The core's clock starts at one second, not zero, so "never touched"
        // (zero seconds) can't be confused with the first second of uptime.
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)) + Duration::from_secs(1)
    }

    /// The std instant matching a core instant (for poll timeouts and the fault injector).
    pub fn to_std(&self, t: Instant) -> StdInstant {
        let since_origin = t.as_nanos().saturating_sub(1_000_000_000);
        self.origin + std::time::Duration::from_nanos(since_origin)
    }
}

/// How long `ppoll(2)` should wait for `deadline`: zero if due, `cap` if
/// there is none, never more than `cap`. Nanosecond precision, so the bulk
/// sender's sub-millisecond pacing ticks are honoured.
pub fn poll_wait(now: StdInstant, deadline: Option<StdInstant>, cap: StdDuration) -> StdDuration {
    match deadline {
        None => cap,
        Some(at) => at.saturating_duration_since(now).min(cap),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_wait_is_exact_and_capped() {
        let now = StdInstant::now();
        let cap = StdDuration::from_millis(500);
        assert_eq!(poll_wait(now, None, cap), cap);
        assert_eq!(poll_wait(now, Some(now), cap), StdDuration::ZERO);
        let soon = now + StdDuration::from_micros(1500);
        assert_eq!(
            poll_wait(now, Some(soon), cap),
            StdDuration::from_micros(1500)
        );
        assert_eq!(
            poll_wait(now + cap, Some(soon), cap),
            StdDuration::ZERO,
            "past deadlines are due"
        );
        let later = now + StdDuration::from_secs(10);
        assert_eq!(poll_wait(now, Some(later), cap), cap);
    }

    #[test]
    fn core_and_std_instants_map_both_ways() {
        let c = Clock::new();
        let t = c.now();
        assert!(t.as_secs() >= 1);
        let back = c.to_std(t);
        assert!(back >= c.origin);
    }
}
