//! Replay protection: per sender, the newest epoch seen and a sliding window of
//! counters within it.
//!
//! Rules (docs/auth.md, "Replay"): an epoch lower than the sender's recorded
//! one is refused (frames from an earlier boot); a higher epoch replaces the
//! record (the sender rebooted); within the recorded epoch a counter is
//! accepted once, if it is newer than the highest seen or less than
//! [`REPLAY_WINDOW`] behind it and not yet marked. Only frames whose tag has
//! already been verified reach this table, so an attacker without a key can
//! neither add senders nor move a window.

/// Counters accepted behind the highest one seen (reordering tolerance).
pub const REPLAY_WINDOW: u64 = 256;
/// Senders tracked at once (pfsync clusters are two or a few nodes).
pub const REPLAY_SENDERS: usize = 8;

const WORDS: usize = (REPLAY_WINDOW / 64) as usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    Fresh,
    /// Counter already seen, or too far behind the window.
    Replayed,
    /// Epoch lower than the sender's recorded epoch.
    StaleEpoch,
    /// A sender not yet known and no free entry left.
    TableFull,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    highest: u64,
    /// Bit `n` of the window (word `n / 64`, bit `n % 64`) marks `highest - n` as seen.
    seen: [u64; WORDS],
}

impl Window {
    fn starting_at(counter: u64) -> Self {
        let mut seen = [0; WORDS];
        if let Some(first) = seen.first_mut() {
            *first = 1;
        }
        Window {
            highest: counter,
            seen,
        }
    }

    fn accept(&mut self, counter: u64) -> bool {
        if counter > self.highest {
            self.shift(counter - self.highest);
            self.highest = counter;
            self.mark(0);
            return true;
        }
        let behind = self.highest - counter;
        if behind >= REPLAY_WINDOW || self.is_marked(behind) {
            return false;
        }
        self.mark(behind);
        true
    }

    /// Moves every mark `by` positions further behind the new highest counter.
    fn shift(&mut self, by: u64) {
        if by >= REPLAY_WINDOW {
            self.seen = [0; WORDS];
            return;
        }
        let words = (by / 64) as usize;
        let bits = (by % 64) as u32;
        for i in (0..WORDS).rev() {
            let from = i.checked_sub(words);
            let hi = from.and_then(|f| self.seen.get(f)).copied().unwrap_or(0);
            let lo = from
                .and_then(|f| f.checked_sub(1))
                .and_then(|f| self.seen.get(f))
                .copied()
                .unwrap_or(0);
            let carried = if bits == 0 { 0 } else { lo >> (64 - bits) };
            if let Some(w) = self.seen.get_mut(i) {
                *w = (hi << bits) | carried;
            }
        }
    }

    fn mark(&mut self, behind: u64) {
        if let Some(w) = self.seen.get_mut((behind / 64) as usize) {
            *w |= 1 << (behind % 64);
        }
    }

    fn is_marked(&self, behind: u64) -> bool {
        self.seen
            .get((behind / 64) as usize)
            .is_some_and(|w| w & (1 << (behind % 64)) != 0)
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    sender: [u8; 4],
    epoch: u64,
    /// `None` for an epoch restored by [`ReplayTable::seed_epoch`] before any frame.
    window: Option<Window>,
}

/// Replay state of every sender heard from (fixed size, no allocation).
#[derive(Debug, Default)]
pub struct ReplayTable {
    entries: [Option<Entry>; REPLAY_SENDERS],
}

impl ReplayTable {
    pub const fn new() -> Self {
        ReplayTable {
            entries: [None; REPLAY_SENDERS],
        }
    }

    /// Records an authenticated frame's (sender, epoch, counter), or says why not.
    pub fn check_and_record(&mut self, sender: [u8; 4], epoch: u64, counter: u64) -> ReplayVerdict {
        let fresh_entry = Entry {
            sender,
            epoch,
            window: Some(Window::starting_at(counter)),
        };
        if let Some(entry) = self
            .entries
            .iter_mut()
            .flatten()
            .find(|e| e.sender == sender)
        {
            if epoch < entry.epoch {
                return ReplayVerdict::StaleEpoch;
            }
            match entry.window.as_mut() {
                Some(window) if epoch == entry.epoch => {
                    return if window.accept(counter) {
                        ReplayVerdict::Fresh
                    } else {
                        ReplayVerdict::Replayed
                    };
                }
                _ => {
                    *entry = fresh_entry;
                    return ReplayVerdict::Fresh;
                }
            }
        }
        match self.entries.iter_mut().find(|e| e.is_none()) {
            Some(free) => {
                *free = Some(fresh_entry);
                ReplayVerdict::Fresh
            }
            None => ReplayVerdict::TableFull,
        }
    }

    /// The epoch recorded for `sender`, for a host that persists it across its
    /// own restarts (see docs/auth.md, "Receiver restarts").
    pub fn epoch_of(&self, sender: [u8; 4]) -> Option<u64> {
        self.entries
            .iter()
            .flatten()
            .find(|e| e.sender == sender)
            .map(|e| e.epoch)
    }

    /// Restores a persisted epoch: frames from `sender` with a lower epoch are
    /// refused; the first frame at or above it opens a window. Never lowers a
    /// recorded epoch.
    pub fn seed_epoch(&mut self, sender: [u8; 4], epoch: u64) -> bool {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .flatten()
            .find(|e| e.sender == sender)
        {
            if epoch > entry.epoch {
                *entry = Entry {
                    sender,
                    epoch,
                    window: None,
                };
            }
            return true;
        }
        match self.entries.iter_mut().find(|e| e.is_none()) {
            Some(free) => {
                *free = Some(Entry {
                    sender,
                    epoch,
                    window: None,
                });
                true
            }
            None => false,
        }
    }

    /// Drops a sender that left the cluster, freeing its entry.
    pub fn forget(&mut self, sender: [u8; 4]) {
        for slot in self.entries.iter_mut() {
            if slot.is_some_and(|e| e.sender == sender) {
                *slot = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: [u8; 4] = [0, 0, 0, 1];

    #[test]
    fn same_epoch_accepts_each_counter_once_and_tolerates_reordering() {
        let mut t = ReplayTable::new();
        assert_eq!(t.check_and_record(A, 5, 10), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 5, 10), ReplayVerdict::Replayed);
        assert_eq!(t.check_and_record(A, 5, 12), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 5, 11), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 5, 11), ReplayVerdict::Replayed);
        assert_eq!(t.check_and_record(A, 5, 12 + 255), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 5, 12), ReplayVerdict::Replayed);
        assert_eq!(t.check_and_record(A, 5, 13), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 5, 11), ReplayVerdict::Replayed);
    }

    #[test]
    fn higher_epoch_restarts_and_lower_epoch_is_refused() {
        let mut t = ReplayTable::new();
        assert_eq!(t.check_and_record(A, 5, 1000), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 6, 1), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 5, 1001), ReplayVerdict::StaleEpoch);
        assert_eq!(t.check_and_record(A, 6, 1), ReplayVerdict::Replayed);
        assert_eq!(t.epoch_of(A), Some(6));
    }

    #[test]
    fn seeded_epoch_refuses_older_boots_and_opens_on_first_frame() {
        let mut t = ReplayTable::new();
        assert!(t.seed_epoch(A, 9));
        assert_eq!(t.check_and_record(A, 8, 50), ReplayVerdict::StaleEpoch);
        assert_eq!(t.check_and_record(A, 9, 50), ReplayVerdict::Fresh);
        assert_eq!(t.check_and_record(A, 9, 50), ReplayVerdict::Replayed);
        assert!(t.seed_epoch(A, 3));
        assert_eq!(t.epoch_of(A), Some(9));
    }

    #[test]
    fn table_full_refuses_new_senders_until_one_is_forgotten() {
        let mut t = ReplayTable::new();
        for i in 0..REPLAY_SENDERS as u8 {
            assert_eq!(t.check_and_record([i, 0, 0, 0], 1, 1), ReplayVerdict::Fresh);
        }
        assert_eq!(
            t.check_and_record([99, 0, 0, 0], 1, 1),
            ReplayVerdict::TableFull
        );
        t.forget([0, 0, 0, 0]);
        assert_eq!(
            t.check_and_record([99, 0, 0, 0], 1, 1),
            ReplayVerdict::Fresh
        );
    }

    proptest! {
        /// Against a model that remembers every counter: the window accepts a
        /// counter exactly when it is new and not more than the window behind.
        #[test]
        fn window_matches_a_set_model(counters in proptest::collection::vec(1u64..2000, 1..400)) {
            let mut t = ReplayTable::new();
            let mut seen = std::collections::BTreeSet::new();
            let mut highest = 0u64;
            for c in counters {
                let expect_fresh = !seen.contains(&c) && (seen.is_empty() || c + REPLAY_WINDOW > highest);
                let got = t.check_and_record(A, 1, c);
                prop_assert_eq!(got == ReplayVerdict::Fresh, expect_fresh, "counter {}", c);
                if expect_fresh {
                    seen.insert(c);
                    highest = highest.max(c);
                }
            }
        }
    }
}
