//! Virtual time, supplied by the caller: the core never reads a clock.
//!
//! The host hands the engine a monotonic `Instant` with every event; tests drive
//! it from a virtual clock, the kernel from `getnanouptime`/`sbinuptime`.

use core::ops::{Add, Sub};

/// A point on the host's monotonic clock, in nanoseconds since an arbitrary origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    nanos: u64,
}

/// A span of time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    nanos: u64,
}

impl Instant {
    pub const ZERO: Instant = Instant { nanos: 0 };

    pub const fn from_nanos(nanos: u64) -> Self {
        Instant { nanos }
    }
    pub const fn from_millis(ms: u64) -> Self {
        Instant {
            nanos: ms.saturating_mul(1_000_000),
        }
    }
    pub const fn from_secs(s: u64) -> Self {
        Instant {
            nanos: s.saturating_mul(1_000_000_000),
        }
    }
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }
    pub const fn as_secs(self) -> u64 {
        self.nanos / 1_000_000_000
    }
    /// Time elapsed since `earlier`, zero if `earlier` is in the future.
    pub const fn saturating_since(self, earlier: Instant) -> Duration {
        Duration {
            nanos: self.nanos.saturating_sub(earlier.nanos),
        }
    }
}

impl Duration {
    pub const ZERO: Duration = Duration { nanos: 0 };

    pub const fn from_nanos(nanos: u64) -> Self {
        Duration { nanos }
    }
    pub const fn from_micros(us: u64) -> Self {
        Duration {
            nanos: us.saturating_mul(1_000),
        }
    }
    pub const fn from_millis(ms: u64) -> Self {
        Duration {
            nanos: ms.saturating_mul(1_000_000),
        }
    }
    pub const fn from_secs(s: u64) -> Self {
        Duration {
            nanos: s.saturating_mul(1_000_000_000),
        }
    }
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }
    pub const fn as_millis(self) -> u64 {
        self.nanos / 1_000_000
    }
    pub const fn as_secs(self) -> u64 {
        self.nanos / 1_000_000_000
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant {
            nanos: self.nanos.saturating_add(d.nanos),
        }
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_since(earlier)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration {
            nanos: self.nanos.saturating_add(d.nanos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let t = Instant::from_secs(5);
        assert_eq!((t + Duration::from_millis(1500)).as_nanos(), 6_500_000_000);
        assert_eq!(Instant::from_secs(1) - t, Duration::ZERO);
        assert_eq!(
            Instant::from_nanos(u64::MAX) + Duration::from_secs(1),
            Instant::from_nanos(u64::MAX)
        );
    }
}
