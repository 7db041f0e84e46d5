//! A model of pf's state table, good enough to drive the engine end to end:
//! full state records, per-state [`SyncSlot`], timeouts, and pf's TCP window
//! check and tracking (`pf_tcp_track_full`, reduced to the sequence-window
//! rules that decide whether a flow survives a failover).
//!
//! [`ModelTable`] offers every state-table method of [`crate::engine::Host`]
//! as an inherent method with the same signature, so a host (the simulator's
//! node, the Linux node) implements those trait methods by delegation and
//! adds its own I/O.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::engine::merge;
use crate::engine::{
    ImportError, ImportRequest, MergeOutcome, PeerUpdate, StateSnapshot, SyncSlot, TableCursor,
    PFTM_MAX,
};
use crate::time::{Duration, Instant};
use crate::wire::{IfName, MsgVersion, Peer, StateId, StateRecord};

/// Default pf timeouts in seconds by `PFTM_*` index (pf.conf(5) defaults).
const TIMEOUT_SECS: [u64; PFTM_MAX as usize] = [
    120, 30, 86400, 900, 45, 90, // tcp first, opening, established, closing, finwait, closed
    60, 30, 60, // udp first, single, multiple
    20, 10, // icmp first, error
    60, 30, 60, // other first, single, multiple
    10, 2, 30, 0, 0, 0, 0, 0, 0, 0,
    0, // frag, interval, src node, ts diff, adaptive..., unused
];

/// Seconds a state with timeout index `t` lives without traffic.
pub fn timeout_secs(t: u8) -> u64 {
    TIMEOUT_SECS
        .get(usize::from(t))
        .copied()
        .unwrap_or(60)
        .max(1)
}

/// `MAXACKWINDOW` from pf.c.
const MAXACKWINDOW: i64 = 0xffff + 1500;
/// `PF_WSCALE_FLAG` / `PF_WSCALE_MASK`.
const WSCALE_FLAG: u8 = 0x80;
const WSCALE_MASK: u8 = 0x0f;

/// One state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelState {
    /// Everything pfsync carries; peers, flags and timeout are kept current.
    pub record: StateRecord,
    pub slot: SyncSlot,
    pub created_at: Instant,
    pub expires_at: Instant,
    /// Imported from a peer (rather than created by local traffic).
    pub imported: bool,
    /// Imported with a matching ruleset checksum, so bound to `record.rule`.
    pub rule_bound: bool,
}

/// A TCP segment as the window check sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Sent by the state's `src` side (the initiator).
    pub from_src: bool,
    pub seq: u32,
    pub len: u32,
    pub ack: u32,
    /// Raw (unscaled) window field.
    pub win: u16,
}

/// Why pf would drop a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowReject {
    NoState,
    /// `end` beyond the sender's `seqhi`.
    AboveWindow,
    /// `seq` more than a window below the sender's `seqlo`.
    BelowWindow,
    /// `ack` too far from the receiver's `seqlo`.
    AckSkew,
}

/// The model state table.
#[derive(Clone, Debug, Default)]
pub struct ModelTable {
    states: BTreeMap<StateId, ModelState>,
    now: Instant,
    /// Interfaces this box has; an import naming another one is refused
    /// (stock skips it). `None` = every name exists.
    pub interfaces: Option<Vec<IfName>>,
}

impl ModelTable {
    pub fn new() -> ModelTable {
        ModelTable::default()
    }

    /// The clock the table uses for ages and expiry; set before each call.
    pub fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    pub fn get(&self, id: &StateId) -> Option<&ModelState> {
        self.states.get(id)
    }

    pub fn get_mut(&mut self, id: &StateId) -> Option<&mut ModelState> {
        self.states.get_mut(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&StateId, &ModelState)> {
        self.states.iter()
    }

    /// Adds a locally created state (the caller then runs the insert hook).
    pub fn insert_local(&mut self, record: StateRecord) -> Result<(), ImportError> {
        if self.states.contains_key(&record.id) {
            return Err(ImportError::Exists);
        }
        let now = self.now;
        self.states.insert(
            record.id,
            ModelState {
                record,
                slot: SyncSlot::NEW,
                created_at: now,
                expires_at: now + Duration::from_secs(timeout_secs(record.timeout)),
                imported: false,
                rule_bound: false,
            },
        );
        Ok(())
    }

    /// Removes a state (the caller runs the delete hook if pf would).
    pub fn remove(&mut self, id: &StateId) -> Option<ModelState> {
        self.states.remove(id)
    }

    /// Removes and returns every state whose time ran out by `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<ModelState> {
        let gone: Vec<StateId> = self
            .states
            .iter()
            .filter(|(_, s)| s.expires_at <= now)
            .map(|(id, _)| *id)
            .collect();
        gone.iter()
            .filter_map(|id| self.states.remove(id))
            .collect()
    }

    /// pf's window check for `seg` on state `id`, without changing anything.
    pub fn tcp_check(&self, id: &StateId, seg: &Segment) -> Result<(), WindowReject> {
        let s = self.states.get(id).ok_or(WindowReject::NoState)?;
        let (src, dst) = if seg.from_src {
            (&s.record.src, &s.record.dst)
        } else {
            (&s.record.dst, &s.record.src)
        };
        window_check(src, dst, seg)
    }

    /// pf's window check and tracking: on success the state's peers advance
    /// and its expiry restarts.
    pub fn tcp_track(&mut self, id: &StateId, seg: &Segment) -> Result<(), WindowReject> {
        let now = self.now;
        let s = self.states.get_mut(id).ok_or(WindowReject::NoState)?;
        let (src, dst) = if seg.from_src {
            (&mut s.record.src, &mut s.record.dst)
        } else {
            (&mut s.record.dst, &mut s.record.src)
        };
        window_check(src, dst, seg)?;
        let (sws, _) = scales(src, dst);
        let end = seg.seq.wrapping_add(seg.len);
        if src.max_win < seg.win {
            src.max_win = seg.win;
        }
        if merge::seq_gt(end, src.seqlo) {
            src.seqlo = end;
        }
        let edge = seg.ack.wrapping_add((u32::from(seg.win) << sws).max(1));
        if !merge::seq_gt(dst.seqhi, edge) {
            dst.seqhi = edge;
        }
        s.expires_at = now + Duration::from_secs(timeout_secs(s.record.timeout));
        Ok(())
    }

    // ----- the engine's state-table questions (see `engine::Host`) -----

    pub fn lookup(&mut self, id: &StateId) -> Option<StateSnapshot> {
        self.states.get(id).map(snapshot)
    }

    pub fn import_state(
        &mut self,
        record: &StateRecord,
        request: &ImportRequest,
    ) -> Result<(), ImportError> {
        if record.id.creatorid == [0; 4] {
            return Err(ImportError::Refused);
        }
        if let Some(known) = &self.interfaces {
            if !record.ifname.is_empty() && !known.contains(&record.ifname) {
                return Err(ImportError::Refused);
            }
        }
        if self.states.contains_key(&record.id) {
            return Err(ImportError::Exists);
        }
        let now = self.now;
        let life = if record.expire == 0 {
            timeout_secs(record.timeout)
        } else {
            u64::from(record.expire)
        };
        let mut rec = *record;
        // The record's own flags say nothing about our copy's deferral.
        rec.state_flags.remove(crate::engine::PFSTATE_ACK);
        let rule_bound = request.checksum_match && record.anchor == u32::MAX;
        self.states.insert(
            record.id,
            ModelState {
                record: rec,
                slot: request.slot,
                created_at: Instant::from_nanos(
                    now.as_nanos()
                        .saturating_sub(Duration::from_secs(u64::from(record.creation)).as_nanos()),
                ),
                expires_at: now + Duration::from_secs(life),
                imported: true,
                rule_bound,
            },
        );
        Ok(())
    }

    pub fn merge_update(
        &mut self,
        id: &StateId,
        update: &PeerUpdate,
        touched: u32,
    ) -> Option<MergeOutcome> {
        let now = self.now;
        let s = self.states.get_mut(id)?;
        let r = merge::merge_into_record(&mut s.record, update);
        if r.refresh_expiry {
            s.expires_at = now + Duration::from_secs(timeout_secs(s.record.timeout));
        }
        s.slot.touched = touched;
        Some(MergeOutcome::of(&s.record, s.slot, r.stale_sides))
    }

    pub fn store_slot(&mut self, id: &StateId, slot: SyncSlot) -> bool {
        match self.states.get_mut(id) {
            Some(s) => {
                s.slot = slot;
                true
            }
            None => false,
        }
    }

    pub fn delete_state(&mut self, id: &StateId) -> bool {
        self.states.remove(id).is_some()
    }

    pub fn clear_states(&mut self, creatorid: [u8; 4], ifname: Option<&IfName>) -> u64 {
        let before = self.states.len();
        self.states.retain(|id, s| {
            !(id.creatorid == creatorid && ifname.is_none_or(|n| s.record.ifname == *n))
        });
        (before - self.states.len()) as u64
    }

    pub fn next_state(&mut self, cursor: &mut TableCursor) -> Option<StateSnapshot> {
        let lower = if cursor.position == 0 {
            Bound::Unbounded
        } else {
            Bound::Excluded(cursor.last)
        };
        let (id, s) = self.states.range((lower, Bound::Unbounded)).next()?;
        cursor.position += 1;
        cursor.last = *id;
        Some(snapshot(s))
    }

    pub fn export_state(&mut self, id: &StateId, version: MsgVersion, out: &mut [u8]) -> bool {
        self.exported(id)
            .is_some_and(|rec| rec.emit(version, out).is_ok())
    }

    /// OpenBSD's record of a state, routing domains and both tables included.
    pub fn export_state_openbsd(&mut self, id: &StateId, out: &mut [u8]) -> bool {
        self.exported(id).is_some_and(|rec| {
            crate::wire::OpenBsdState::from_record(&rec)
                .emit(out)
                .is_ok()
        })
    }

    /// A state as pf exports it now: ages from the clock, `PFSTATE_ACK`
    /// while a packet is deferred.
    fn exported(&self, id: &StateId) -> Option<StateRecord> {
        let now = self.now;
        let s = self.states.get(id)?;
        let mut rec = s.record;
        if s.slot.deferred != 0 {
            rec.state_flags.insert(crate::engine::PFSTATE_ACK);
        }
        rec.creation =
            u32::try_from(now.saturating_since(s.created_at).as_secs()).unwrap_or(u32::MAX);
        rec.expire =
            u32::try_from(s.expires_at.saturating_since(now).as_secs()).unwrap_or(u32::MAX);
        Some(rec)
    }
}

fn snapshot(s: &ModelState) -> StateSnapshot {
    StateSnapshot::of(&s.record, s.slot)
}

fn scales(src: &Peer, dst: &Peer) -> (u32, u32) {
    if src.wscale & WSCALE_FLAG != 0 && dst.wscale & WSCALE_FLAG != 0 {
        (
            u32::from(src.wscale & WSCALE_MASK),
            u32::from(dst.wscale & WSCALE_MASK),
        )
    } else {
        (0, 0)
    }
}

fn window_check(src: &Peer, dst: &Peer, seg: &Segment) -> Result<(), WindowReject> {
    let (sws, dws) = scales(src, dst);
    let end = seg.seq.wrapping_add(seg.len);
    let ackskew = i64::from(dst.seqlo.wrapping_sub(seg.ack) as i32);
    if merge::seq_gt(end, src.seqhi) {
        return Err(WindowReject::AboveWindow);
    }
    let floor = src.seqlo.wrapping_sub(u32::from(dst.max_win) << dws);
    if merge::seq_gt(floor, seg.seq) {
        return Err(WindowReject::BelowWindow);
    }
    if ackskew < -MAXACKWINDOW || ackskew > (MAXACKWINDOW << sws) {
        return Err(WindowReject::AckSkew);
    }
    Ok(())
}
