//! Every timer the engine runs, as deadlines the host polls for (quinn style:
//! `Engine::poll_timeout` returns the earliest, `Engine::handle_timeout` fires
//! whatever is due). Nothing is armed through the host.
//!
//! | timer | armed by | cancelled by | firing does |
//! |---|---|---|---|
//! | bucket flush (per bucket) | first record queued in an empty bucket: now + 1 s | the bucket being sent for any reason | sends the bucket |
//! | bucket deferral (per bucket) | a packet deferred: its release deadline (now + `defer_delay`) | the bucket's last deferral leaving | releases every deferral whose deadline passed |
//! | bulk request | a bulk request sent: now + `bulk_request_timeout`; every frame received while the bulk runs: now + `bulk_idle_timeout`, at most BUS START + `bulk_max_duration` | BUS END accepted, syncdev removed | retry (up to `bulk_max_tries`), then give up |
//! | bulk send | a bulk request received, and after every paced burst: the time the token bucket holds one more frame | the walk reaching the end, syncdev removed | sends the next burst of full frames |

use crate::time::Instant;

/// Engine-wide timers, indexing [`TimerTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    BulkRequest = 0,
    BulkSend = 1,
}

impl Timer {
    pub const COUNT: usize = 2;
    pub const ALL: [Timer; Timer::COUNT] = [Timer::BulkRequest, Timer::BulkSend];
}

/// One optional deadline per [`Timer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerTable {
    deadlines: [Option<Instant>; Timer::COUNT],
}

impl TimerTable {
    pub fn set(&mut self, timer: Timer, at: Instant) {
        if let Some(slot) = self.deadlines.get_mut(timer as usize) {
            *slot = Some(at);
        }
    }

    pub fn stop(&mut self, timer: Timer) {
        if let Some(slot) = self.deadlines.get_mut(timer as usize) {
            *slot = None;
        }
    }

    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines.get(timer as usize).copied().flatten()
    }

    /// True (and the timer stopped) if `timer` was due at `now`.
    pub fn take_expired(&mut self, timer: Timer, now: Instant) -> bool {
        match self.get(timer) {
            Some(at) if at <= now => {
                self.stop(timer);
                true
            }
            Some(_) | None => false,
        }
    }

    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Instant> {
        earliest(self.deadlines.iter().copied())
    }
}

/// The minimum of some optional deadlines.
pub fn earliest(deadlines: impl Iterator<Item = Option<Instant>>) -> Option<Instant> {
    deadlines.flatten().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_deadline_wins_and_expiry_stops_the_timer() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::BulkSend, Instant::from_millis(30));
        t.set(Timer::BulkRequest, Instant::from_millis(10));
        assert_eq!(t.next(), Some(Instant::from_millis(10)));
        assert!(!t.take_expired(Timer::BulkRequest, Instant::from_millis(9)));
        assert!(t.take_expired(Timer::BulkRequest, Instant::from_millis(10)));
        assert_eq!(t.next(), Some(Instant::from_millis(30)));
    }
}
