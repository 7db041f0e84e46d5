//! The node's monotonic clock, expressed as the core's `Instant`.

use std::time::Instant as StdInstant;

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

/// Milliseconds `poll(2)` should wait for `deadline` (0 if due, -1 if none), capped.
pub fn poll_timeout_ms(now: StdInstant, deadline: Option<StdInstant>, cap_ms: i32) -> i32 {
    match deadline {
        None => cap_ms,
        Some(at) if at <= now => 0,
        Some(at) => {
            // Round up so we never wake a hair before the deadline and spin.
            let micros = at.duration_since(now).as_micros();
            let ms = micros.div_ceil(1000);
            i32::try_from(ms).unwrap_or(i32::MAX).min(cap_ms)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeout_rounds_up_and_caps() {
        let now = StdInstant::now();
        assert_eq!(poll_timeout_ms(now, None, 500), 500);
        assert_eq!(poll_timeout_ms(now, Some(now), 500), 0);
        let soon = now + std::time::Duration::from_micros(1500);
        assert_eq!(poll_timeout_ms(now, Some(soon), 500), 2);
        let later = now + std::time::Duration::from_secs(10);
        assert_eq!(poll_timeout_ms(now, Some(later), 500), 500);
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
