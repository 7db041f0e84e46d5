//! Deferral: holding back the packet that created a state until the peer has
//! the state (stock `pfsync_defer`, off unless `defer` is configured).
//!
//! Each bucket keeps at most [`DEFER_LIMIT`] deferrals in arrival order (the
//! vector is reserved at construction, so deferring never allocates). A packet
//! leaves exactly once, as stock decides (freebsd-kpi.md section 8.5):
//!
//! | event | packet |
//! |---|---|
//! | peer's INS_ACK for the state | released (sent) |
//! | local update of the state | released |
//! | `defer_delay` passed | released (dropped if the syncdev is gone) |
//! | the bucket already holds 128 | the oldest is released to make room |
//! | peer's UPD / UPD_C for the state | dropped: the peer owns the flow now |
//! | state deleted | dropped |
//!
//! The per-state `deferred` flag in the host's slot lets the update hook test
//! for a deferral in O(1); only a hit scans the (at most 128) bucket entries.

use crate::engine::host::DeferredPacket;
use crate::time::Instant;
use crate::wire::StateId;

/// Deferrals per bucket (stock and OpenBSD `PFSYNC_DEFER_LIMIT`).
pub const DEFER_LIMIT: usize = 128;

/// How a deferred packet leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    ReleaseAck,
    ReleaseUpdate,
    ReleaseTimeout,
    Drop,
}

/// One held packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deferral {
    pub id: StateId,
    pub packet: DeferredPacket,
    pub deadline: Instant,
}

/// Removes the deferral for `id` from `list`, if any.
pub fn take(list: &mut alloc::vec::Vec<Deferral>, id: &StateId) -> Option<Deferral> {
    let pos = list.iter().position(|d| d.id == *id)?;
    Some(list.remove(pos))
}

/// Removes the oldest deferral whose deadline is at or before `now`.
pub fn take_expired(list: &mut alloc::vec::Vec<Deferral>, now: Instant) -> Option<Deferral> {
    let pos = list.iter().position(|d| d.deadline <= now)?;
    Some(list.remove(pos))
}

/// The next deadline among `list`.
pub fn next_deadline(list: &[Deferral]) -> Option<Instant> {
    list.iter().map(|d| d.deadline).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn d(n: u8, at_ms: u64) -> Deferral {
        Deferral {
            id: StateId {
                id: [n; 8],
                creatorid: [1; 4],
            },
            packet: DeferredPacket(u64::from(n)),
            deadline: Instant::from_millis(at_ms),
        }
    }

    #[test]
    fn expiry_and_lookup_by_id() {
        let mut l: Vec<Deferral> = vec![d(1, 20), d(2, 25), d(3, 30)];
        assert_eq!(next_deadline(&l), Some(Instant::from_millis(20)));
        assert_eq!(
            take(&mut l, &d(2, 0).id).map(|x| x.packet),
            Some(DeferredPacket(2))
        );
        assert_eq!(
            take_expired(&mut l, Instant::from_millis(24)).map(|x| x.packet),
            Some(DeferredPacket(1))
        );
        assert_eq!(take_expired(&mut l, Instant::from_millis(24)), None);
        assert_eq!(next_deadline(&l), Some(Instant::from_millis(30)));
    }
}
