//! Merge rules for a peer's update of a state we already have: never move a
//! peer backwards.
//!
//! Stock FreeBSD decides staleness per side (`pfsync_upd_tcp`) and then, in
//! both update paths, copies `dst` again under `if (sync < 2)` even when it
//! just judged `dst` stale (opnsense/src #327): a late update rolls `seqlo`
//! back and the flow stalls. Here a side judged stale is never written, and a
//! side that is accepted is merged field by field so that, within ordinary TCP
//! states, `seqlo`, `seqhi` and `max_win` only grow and `wscale` is frozen once
//! the connection is established: the same monotonic rules pf applies to its
//! own tracking, so a merged copy is never stricter than either input.
//!
//! The function is pure; the host calls it under its own state lock (see
//! [`crate::engine::Host::merge_update`]).

use crate::engine::host::PeerUpdate;
use crate::wire::{Peer, StateRecord};

/// `TCPS_SYN_SENT`.
const TCPS_SYN_SENT: u8 = 2;
/// `TCPS_ESTABLISHED`.
const TCPS_ESTABLISHED: u8 = 4;
/// `PF_TCPS_PROXY_SRC`: first synproxy pseudo-state.
const PF_TCPS_PROXY_SRC: u8 = 11;

/// What a merge did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergeResult {
    /// Sides (0..=2) where our copy was newer and kept.
    pub stale_sides: u8,
    /// At least one side was fresh: the host sets `timeout` (done here) and
    /// restarts the state's expiry clock, as stock does.
    pub refresh_expiry: bool,
}

/// `SEQ_GT`: sequence-space comparison modulo 2^32.
pub const fn seq_gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

const fn seq_max(a: u32, b: u32) -> u32 {
    if seq_gt(a, b) {
        a
    } else {
        b
    }
}

/// Merges `incoming` into our `src`/`dst`/`timeout` for a state of protocol `proto`.
pub fn merge_update(
    proto: u8,
    src: &mut Peer,
    dst: &mut Peer,
    timeout: &mut u8,
    incoming_src: &Peer,
    incoming_dst: &Peer,
    incoming_timeout: u8,
) -> MergeResult {
    let mut stale = 0u8;
    if proto == crate::engine::host::IPPROTO_TCP {
        if tcp_src_is_stale(src, incoming_src) {
            stale += 1;
        } else {
            *src = merge_tcp_side(src, incoming_src);
        }
        if tcp_dst_is_stale(dst, incoming_dst) {
            stale += 1;
        } else {
            *dst = merge_tcp_side(dst, incoming_dst);
        }
    } else {
        // Non-TCP pseudo state machines only go forwards.
        if src.state > incoming_src.state {
            stale += 1;
        } else {
            *src = *incoming_src;
        }
        if dst.state > incoming_dst.state {
            stale += 1;
        } else {
            *dst = *incoming_dst;
        }
    }
    let refresh_expiry = stale < 2;
    if refresh_expiry {
        *timeout = incoming_timeout;
    }
    MergeResult {
        stale_sides: stale,
        refresh_expiry,
    }
}

/// [`merge_update`] applied to a host's own copy of a state: the update's wire
/// peers decoded and merged into the record's peers and timeout.
pub fn merge_into_record(record: &mut StateRecord, update: &PeerUpdate) -> MergeResult {
    merge_update(
        record.wire_proto,
        &mut record.src,
        &mut record.dst,
        &mut record.timeout,
        &update.src.decode(),
        &update.dst.decode(),
        update.timeout,
    )
}

/// Stock's source-side rule: older TCP state (except leaving synproxy), or the
/// same state with an older `seqlo`.
fn tcp_src_is_stale(ours: &Peer, theirs: &Peer) -> bool {
    (ours.state > theirs.state
        && (ours.state < PF_TCPS_PROXY_SRC || theirs.state >= PF_TCPS_PROXY_SRC))
        || (ours.state == theirs.state && seq_gt(ours.seqlo, theirs.seqlo))
}

/// Stock's destination-side rule: older state, or (once the destination has
/// sent anything) an older `seqlo`.
fn tcp_dst_is_stale(ours: &Peer, theirs: &Peer) -> bool {
    ours.state > theirs.state || (ours.state >= TCPS_SYN_SENT && seq_gt(ours.seqlo, theirs.seqlo))
}

/// An accepted side: take the peer's copy, but inside ordinary TCP states keep
/// the window edges monotonic.
fn merge_tcp_side(ours: &Peer, theirs: &Peer) -> Peer {
    let mut merged = *theirs;
    let ordinary = ours.state >= TCPS_SYN_SENT
        && ours.state < PF_TCPS_PROXY_SRC
        && theirs.state < PF_TCPS_PROXY_SRC;
    if ordinary {
        merged.seqlo = seq_max(ours.seqlo, theirs.seqlo);
        merged.seqhi = seq_max(ours.seqhi, theirs.seqhi);
        merged.max_win = ours.max_win.max(theirs.max_win);
        if ours.state >= TCPS_ESTABLISHED {
            merged.wscale = ours.wscale;
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_peer(state: u8, seqlo: u32, seqhi: u32, max_win: u16) -> Peer {
        Peer {
            state,
            seqlo,
            seqhi,
            max_win,
            wscale: 0x80 | 7,
            ..Peer::default()
        }
    }

    /// opnsense/src #327: the update's dst is stale (seqlo ~106 KB behind) and
    /// its src is fresh. Stock copies dst anyway under `if (sync < 2)`; we keep it.
    #[test]
    fn stale_dst_is_not_copied_when_src_is_fresh() {
        let mut src = tcp_peer(4, 1_000, 70_000, 65535);
        let mut dst = tcp_peer(4, 500_000, 600_000, 65535);
        let mut timeout = 2;
        let new_src = tcp_peer(4, 2_000, 71_000, 65535);
        let new_dst = tcp_peer(4, 500_000 - 106_000, 560_000, 65535);
        let r = merge_update(6, &mut src, &mut dst, &mut timeout, &new_src, &new_dst, 3);
        assert_eq!(r.stale_sides, 1);
        assert!(r.refresh_expiry);
        assert_eq!(dst.seqlo, 500_000, "dst must not move backwards");
        assert_eq!(dst.seqhi, 600_000);
        assert_eq!(src.seqlo, 2_000, "fresh src is taken");
        assert_eq!(timeout, 3);
    }

    #[test]
    fn both_sides_stale_changes_nothing() {
        let mut src = tcp_peer(4, 9_000, 20_000, 100);
        let mut dst = tcp_peer(4, 8_000, 20_000, 100);
        let (s0, d0) = (src, dst);
        let mut timeout = 2;
        let r = merge_update(
            6,
            &mut src,
            &mut dst,
            &mut timeout,
            &tcp_peer(4, 1, 2, 1),
            &tcp_peer(4, 1, 2, 1),
            9,
        );
        assert_eq!(r.stale_sides, 2);
        assert!(!r.refresh_expiry);
        assert_eq!((src, dst, timeout), (s0, d0, 2));
    }

    #[test]
    fn accepted_side_keeps_window_edges_monotonic() {
        let mut src = tcp_peer(4, 1_000, 90_000, 5000);
        let mut dst = tcp_peer(4, 1_000, 90_000, 5000);
        let mut timeout = 2;
        let mut newer = tcp_peer(4, 2_000, 80_000, 4000);
        newer.wscale = 0;
        merge_update(6, &mut src, &mut dst, &mut timeout, &newer, &newer, 2);
        assert_eq!(src.seqlo, 2_000);
        assert_eq!(src.seqhi, 90_000, "seqhi never shrinks");
        assert_eq!(src.max_win, 5000, "max_win never shrinks");
        assert_eq!(src.wscale, 0x87, "wscale frozen once established");
    }

    #[test]
    fn sequence_comparison_wraps() {
        assert!(seq_gt(5, u32::MAX - 5));
        assert!(!seq_gt(u32::MAX - 5, 5));
        let mut src = tcp_peer(4, u32::MAX - 10, 100, 10);
        let mut dst = src;
        let mut t = 0;
        let newer = tcp_peer(4, 20, 200, 10);
        let r = merge_update(6, &mut src, &mut dst, &mut t, &newer, &newer, 1);
        assert_eq!(r.stale_sides, 0);
        assert_eq!(src.seqlo, 20);
    }

    #[test]
    fn tcp_state_never_goes_backwards_but_leaves_synproxy() {
        let mut src = tcp_peer(PF_TCPS_PROXY_SRC, 0, 0, 0);
        let mut dst = tcp_peer(PF_TCPS_PROXY_SRC + 1, 0, 0, 0);
        let mut t = 0;
        let established = tcp_peer(4, 10, 20, 30);
        let r = merge_update(6, &mut src, &mut dst, &mut t, &established, &established, 1);
        assert_eq!(src.state, 4, "synproxy hands over to the real connection");
        assert_eq!(r.stale_sides, 1, "dst side never goes back in state");
        assert_eq!(dst.state, PF_TCPS_PROXY_SRC + 1);
    }

    #[test]
    fn non_tcp_sides_only_go_forwards() {
        let mut src = Peer {
            state: 2,
            ..Peer::default()
        };
        let mut dst = Peer {
            state: 1,
            ..Peer::default()
        };
        let mut t = 0;
        let newer = Peer {
            state: 1,
            ..Peer::default()
        };
        let r = merge_update(17, &mut src, &mut dst, &mut t, &newer, &newer, 4);
        assert_eq!((r.stale_sides, src.state, dst.state, t), (1, 2, 1, 4));
    }
}
