//! Counters: [`Stats`] mirrors FreeBSD's `struct pfsyncstats` field for field
//! (15.x layout, 17 actions), [`ExtraStats`] holds what only pfsync-rs counts.

use crate::wire::action::ACTION_COUNT;

/// `struct pfsyncstats` (sys/net/if_pfsync.h, 15.x: 400 bytes). The kernel shim
/// copies it out for `net.pfsync.stats`; for a 14.x userland it truncates the
/// per-action arrays to 15 entries.
///
/// Unlike the 15-era stock code, IPv6 traffic is counted in `ipackets6` and
/// `opackets6`, which is what those fields are for.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub ipackets: u64,
    pub ipackets6: u64,
    pub badif: u64,
    pub badttl: u64,
    pub hdrops: u64,
    pub badver: u64,
    pub badact: u64,
    pub badlen: u64,
    pub badauth: u64,
    pub stale: u64,
    pub badval: u64,
    pub badstate: u64,
    pub opackets: u64,
    pub opackets6: u64,
    pub onomem: u64,
    pub oerrors: u64,
    pub iacts: [u64; ACTION_COUNT],
    pub oacts: [u64; ACTION_COUNT],
}

/// Counters stock pfsync does not have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExtraStats {
    /// Frames sent because the next record would not fit the MTU.
    pub push_full: u64,
    /// Frames sent because a state reached `maxupd` or was touched by pfsync < 2 s ago.
    pub push_urgent: u64,
    /// Frames sent by the 1 s flush timer.
    pub push_timer: u64,
    /// Frames sent by the bulk sender.
    pub bulk_frames: u64,
    /// States sent by the bulk sender.
    pub bulk_states: u64,
    /// Bulk requests we sent (first try and retries).
    pub bulk_requests_sent: u64,
    /// Bulk requests (UPD_REQ 0/0) we answered.
    pub bulk_requests_answered: u64,
    /// Bulk updates we received completely (BUS END accepted).
    pub bulk_completed: u64,
    /// Bulk requests abandoned after the last retry.
    pub bulk_gave_up: u64,
    /// Bulk updates we stopped sending because an empty frame cannot hold
    /// one state of the configured version (pfsync0's MTU is too small).
    pub bulk_send_abandoned: u64,
    /// BUS END refused by the endtime check (stale answer to an older request).
    pub bulk_end_stale: u64,
    /// UPD_REQ not queued because the same request was already waiting.
    pub upd_req_deduplicated: u64,
    /// UPD_REQ not queued because the bucket's request list was full.
    pub upd_req_dropped: u64,
    /// Queued records whose state vanished before the frame was built.
    pub export_gone: u64,
    /// Packets deferred.
    pub deferred: u64,
    /// Deferred packets released by the peer's INS_ACK.
    pub defer_released_ack: u64,
    /// Deferred packets released by a local update of the state.
    pub defer_released_update: u64,
    /// Deferred packets released when `defer_delay` expired.
    pub defer_released_timeout: u64,
    /// Deferred packets released early because the bucket held 128.
    pub defer_released_overflow: u64,
    /// Deferred packets dropped (peer update, state deleted, no syncdev).
    pub defer_dropped: u64,
    /// Received INS for a state we already had: merged as an update instead.
    pub ins_existing: u64,
    /// Events a state machine had no use for in its current state.
    pub fsm_unexpected: u64,
    /// Records not queued because a bucket's arena was exhausted (the host
    /// did not run `handle_timeout` or `send_if_full` while hooks kept
    /// queuing): real losses, exported to the kernel as
    /// `net.pfsync.rs.drops`.
    pub queue_overflow: u64,
    /// CLR/BUS records not queued because the bucket already held 8.
    pub plus_dropped: u64,
    /// Arena growth failures on reconfiguration.
    pub alloc_failures: u64,
    /// Received INS/UPD records whose `state_flags` or `sync_flags` carry a
    /// bit no FreeBSD/OpenBSD header names (`StateFlags::unknown`). Not an
    /// error: stock passes the bits on to pf, and so does the engine,
    /// unchanged; the count shows a peer speaking a newer or foreign dialect.
    pub unknown_flag_bits: u64,
}

impl ExtraStats {
    /// Every counter with its name, in declaration order: what the kernel's
    /// `net.pfsync.rs.counters` lists.
    pub fn named(&self) -> [(&'static str, u64); 26] {
        [
            ("push_full", self.push_full),
            ("push_urgent", self.push_urgent),
            ("push_timer", self.push_timer),
            ("bulk_frames", self.bulk_frames),
            ("bulk_states", self.bulk_states),
            ("bulk_requests_sent", self.bulk_requests_sent),
            ("bulk_requests_answered", self.bulk_requests_answered),
            ("bulk_completed", self.bulk_completed),
            ("bulk_gave_up", self.bulk_gave_up),
            ("bulk_send_abandoned", self.bulk_send_abandoned),
            ("bulk_end_stale", self.bulk_end_stale),
            ("upd_req_deduplicated", self.upd_req_deduplicated),
            ("upd_req_dropped", self.upd_req_dropped),
            ("export_gone", self.export_gone),
            ("deferred", self.deferred),
            ("defer_released_ack", self.defer_released_ack),
            ("defer_released_update", self.defer_released_update),
            ("defer_released_timeout", self.defer_released_timeout),
            ("defer_released_overflow", self.defer_released_overflow),
            ("defer_dropped", self.defer_dropped),
            ("ins_existing", self.ins_existing),
            ("fsm_unexpected", self.fsm_unexpected),
            ("queue_overflow", self.queue_overflow),
            ("plus_dropped", self.plus_dropped),
            ("alloc_failures", self.alloc_failures),
            ("unknown_flag_bits", self.unknown_flag_bits),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::ExtraStats;

    #[test]
    fn named_lists_every_extra_counter_once() {
        let debug = format!("{:?}", ExtraStats::default());
        let named = ExtraStats::default().named();
        assert_eq!(named.len(), debug.matches(": ").count());
        for (name, _) in named {
            assert!(debug.contains(&format!("{name}: ")), "{name}");
        }
    }
}
