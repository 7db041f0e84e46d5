//! Per-bucket send queues: index-linked lists in a preallocated arena.
//!
//! A bucket collects the records of one future frame. Its length is tracked as
//! the frame would be built (header, one subheader per non-empty queue,
//! records, EOF), and a record that would not fit makes the caller send the
//! bucket first. So a bucket never holds more than one frame of records, and
//! its arena needs at most `frame budget / 12` entries (12 bytes is the
//! smallest record): about 120 for MTU 1500. The arena is sized when the MTU
//! is configured; queuing never allocates.
//!
//! Entries are linked by `u32` indices (no pointers, no per-entry allocation);
//! a free list threads the unused ones. The queue order equals stock's
//! section order inside a frame (pfsync-wire.md section 2).

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use crate::engine::deferral::Deferral;
use crate::time::Instant;
use crate::wire::{Action, MsgVersion, StateId};

/// `struct pfsync_header`.
pub const HEADER_LEN: usize = 20;
/// `struct pfsync_subheader`.
pub const SUBHEADER_LEN: usize = 4;
/// INS_ACK, UPD_REQ and DEL_C records: id + creatorid.
pub const ID_RECORD_LEN: usize = 12;
/// `struct pfsync_upd_c`.
pub const UPD_C_LEN: usize = 84;
/// `struct pfsync_bus`.
pub const BUS_LEN: usize = 12;
/// `struct pfsync_clr`.
pub const CLR_LEN: usize = 20;
/// An empty frame: header plus the EOF subheader.
pub const EMPTY_FRAME_LEN: usize = HEADER_LEN + SUBHEADER_LEN;

const NIL: u32 = u32::MAX;
const FREE: u8 = u8::MAX;

/// The engine's send queues, in frame section order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Queue {
    Ins1301 = 0,
    Ins1400 = 1,
    Ins1500 = 2,
    InsAck = 3,
    Upd1301 = 4,
    Upd1400 = 5,
    Upd1500 = 6,
    UpdC = 7,
    DelC = 8,
    UpdReq = 9,
    /// OpenBSD's INS and UPD (264-byte `struct pfsync_state`).
    InsOpenBsd = 10,
    UpdOpenBsd = 11,
}

impl Queue {
    pub const COUNT: usize = 12;
    pub const ALL: [Queue; Queue::COUNT] = [
        Queue::Ins1301,
        Queue::Ins1400,
        Queue::Ins1500,
        Queue::InsAck,
        Queue::Upd1301,
        Queue::Upd1400,
        Queue::Upd1500,
        Queue::UpdC,
        Queue::DelC,
        Queue::UpdReq,
        Queue::InsOpenBsd,
        Queue::UpdOpenBsd,
    ];

    /// FreeBSD's section order (stock's `pfsync_qs`); the OpenBSD queues
    /// never fill in this dialect, so sending does not visit them.
    pub const FREEBSD_ORDER: [Queue; 10] = [
        Queue::Ins1301,
        Queue::Ins1400,
        Queue::Ins1500,
        Queue::InsAck,
        Queue::Upd1301,
        Queue::Upd1400,
        Queue::Upd1500,
        Queue::UpdC,
        Queue::DelC,
        Queue::UpdReq,
    ];

    /// OpenBSD's section order (its `PFSYNC_S_*` queues: IACK, UPD_C, DEL,
    /// INS, UPD), then the update requests OpenBSD sends in frames of their
    /// own. The FreeBSD queues never fill in this dialect.
    pub const OPENBSD_ORDER: [Queue; 6] = [
        Queue::InsAck,
        Queue::UpdC,
        Queue::DelC,
        Queue::InsOpenBsd,
        Queue::UpdOpenBsd,
        Queue::UpdReq,
    ];

    pub const fn ins(version: MsgVersion) -> Queue {
        match version {
            MsgVersion::V1301 => Queue::Ins1301,
            MsgVersion::V1400 => Queue::Ins1400,
            MsgVersion::V1500 => Queue::Ins1500,
        }
    }

    /// The full-state queues of OpenBSD's dialect when `openbsd`, else of
    /// message format `version`.
    pub const fn ins_for(openbsd: bool, version: MsgVersion) -> Queue {
        if openbsd {
            Queue::InsOpenBsd
        } else {
            Queue::ins(version)
        }
    }

    pub const fn upd_for(openbsd: bool, version: MsgVersion) -> Queue {
        if openbsd {
            Queue::UpdOpenBsd
        } else {
            Queue::upd(version)
        }
    }

    /// True for the queues of full states (INS/UPD of any format).
    pub const fn is_full_state(self) -> bool {
        matches!(
            self,
            Queue::Ins1301
                | Queue::Ins1400
                | Queue::Ins1500
                | Queue::Upd1301
                | Queue::Upd1400
                | Queue::Upd1500
                | Queue::InsOpenBsd
                | Queue::UpdOpenBsd
        )
    }

    pub const fn upd(version: MsgVersion) -> Queue {
        match version {
            MsgVersion::V1301 => Queue::Upd1301,
            MsgVersion::V1400 => Queue::Upd1400,
            MsgVersion::V1500 => Queue::Upd1500,
        }
    }

    pub fn from_u8(raw: u8) -> Option<Queue> {
        Queue::ALL.get(usize::from(raw)).copied()
    }

    pub const fn action(self) -> Action {
        match self {
            Queue::Ins1301 => Action::Ins1301,
            Queue::Ins1400 => Action::Ins1400,
            Queue::Ins1500 => Action::Ins1500,
            Queue::InsAck => Action::InsAck,
            Queue::Upd1301 => Action::Upd1301,
            Queue::Upd1400 => Action::Upd1400,
            Queue::Upd1500 => Action::Upd1500,
            Queue::UpdC => Action::UpdC,
            Queue::DelC => Action::DelC,
            Queue::UpdReq => Action::UpdReq,
            // OpenBSD's INS (13) and UPD (14) share their numbers with
            // FreeBSD's 1400 formats; only the record differs.
            Queue::InsOpenBsd => Action::Ins1400,
            Queue::UpdOpenBsd => Action::Upd1400,
        }
    }

    /// The full-state format of an INS/UPD queue.
    pub const fn version(self) -> Option<MsgVersion> {
        match self {
            Queue::Ins1301 | Queue::Upd1301 => Some(MsgVersion::V1301),
            Queue::Ins1400 | Queue::Upd1400 => Some(MsgVersion::V1400),
            Queue::Ins1500 | Queue::Upd1500 => Some(MsgVersion::V1500),
            Queue::InsAck
            | Queue::UpdC
            | Queue::DelC
            | Queue::UpdReq
            | Queue::InsOpenBsd
            | Queue::UpdOpenBsd => None,
        }
    }

    pub const fn record_len(self) -> usize {
        match self {
            Queue::Ins1301 | Queue::Upd1301 => MsgVersion::V1301.state_len(),
            Queue::Ins1400 | Queue::Upd1400 => MsgVersion::V1400.state_len(),
            Queue::Ins1500 | Queue::Upd1500 => MsgVersion::V1500.state_len(),
            Queue::InsOpenBsd | Queue::UpdOpenBsd => crate::wire::OpenBsdState::LEN,
            Queue::UpdC => UPD_C_LEN,
            Queue::InsAck | Queue::DelC | Queue::UpdReq => ID_RECORD_LEN,
        }
    }

    /// How stock names the matching `sync_state`.
    pub const fn queued_as(self) -> QueuedAs {
        match self {
            Queue::Ins1301 | Queue::Ins1400 | Queue::Ins1500 | Queue::InsOpenBsd => QueuedAs::Ins,
            Queue::InsAck => QueuedAs::InsAck,
            Queue::Upd1301 | Queue::Upd1400 | Queue::Upd1500 | Queue::UpdOpenBsd => QueuedAs::Upd,
            Queue::UpdC => QueuedAs::UpdC,
            Queue::DelC => QueuedAs::DelC,
            Queue::UpdReq => QueuedAs::None,
        }
    }
}

/// A state's `sync_state` as stock names it (`PFSYNC_S_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueuedAs {
    Ins,
    InsAck,
    Upd,
    UpdC,
    DelC,
    None,
}

/// One queued record. 24 bytes.
#[derive(Clone, Copy, Debug)]
struct Entry {
    id: StateId,
    prev: u32,
    next: u32,
    queue: u8,
    /// TCP updates folded into this record since it was queued (stock `sync_updates`).
    updates: u8,
}

const FREE_ENTRY: Entry = Entry {
    id: StateId::BULK_REQUEST,
    prev: NIL,
    next: NIL,
    queue: FREE,
    updates: 0,
};

#[derive(Clone, Copy, Debug, Default)]
struct List {
    head: u32,
    tail: u32,
    count: u32,
}

const EMPTY_LIST: List = List {
    head: NIL,
    tail: NIL,
    count: 0,
};

/// What [`Bucket::enqueue`] could not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnqueueError {
    /// Every arena entry is in use (the caller's fit check prevents this).
    ArenaFull,
}

/// One shard of the send path: queues, frame length, flush deadline, deferrals.
pub struct Bucket {
    entries: Vec<Entry>,
    free_head: u32,
    lists: [List; Queue::COUNT],
    /// Bytes the frame would take if built now (header, subheaders, records, EOF).
    len: usize,
    /// When this bucket must be sent: 1 s after its first record, or "now"
    /// when something asked for a push.
    pub flush_at: Option<Instant>,
    /// Why the bucket is due (for the push counters).
    pub(crate) push_reason: crate::engine::PushReason,
    pub deferrals: Vec<Deferral>,
    pub defer_at: Option<Instant>,
}

impl Bucket {
    /// A bucket whose arena holds `capacity` records and `defer_limit` deferrals.
    pub fn new(capacity: usize, defer_limit: usize) -> Result<Bucket, TryReserveError> {
        let mut b = Bucket {
            entries: Vec::new(),
            free_head: NIL,
            lists: [EMPTY_LIST; Queue::COUNT],
            len: EMPTY_FRAME_LEN,
            flush_at: None,
            push_reason: crate::engine::PushReason::Timer,
            deferrals: Vec::new(),
            defer_at: None,
        };
        b.deferrals.try_reserve_exact(defer_limit)?;
        b.grow(capacity)?;
        Ok(b)
    }

    /// Makes room for `capacity` entries in total (never shrinks).
    pub fn grow(&mut self, capacity: usize) -> Result<(), TryReserveError> {
        let have = self.entries.len();
        if capacity <= have {
            return Ok(());
        }
        self.entries.try_reserve_exact(capacity - have)?;
        for i in have..capacity {
            let mut e = FREE_ENTRY;
            e.next = self.free_head;
            self.entries.push(e);
            self.free_head = index_u32(i);
        }
        Ok(())
    }

    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Bytes of the frame this bucket would produce.
    pub fn frame_len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == EMPTY_FRAME_LEN
    }

    pub fn count(&self, queue: Queue) -> usize {
        self.lists
            .get(queue as usize)
            .map_or(0, |l| l.count as usize)
    }

    /// Bytes that queuing one more record in `queue` adds to the frame.
    pub fn cost(&self, queue: Queue) -> usize {
        let sub = if self.count(queue) == 0 {
            SUBHEADER_LEN
        } else {
            0
        };
        queue.record_len() + sub
    }

    /// The queue a state's slot index points at, if the entry there still
    /// belongs to `id`.
    #[inline]
    pub fn queued(&self, index: u32, id: &StateId) -> Option<Queue> {
        let e = self.entries.get(index as usize)?;
        if e.queue == FREE || e.id != *id {
            return None;
        }
        Queue::from_u8(e.queue)
    }

    /// Counts `n` more folded TCP updates on a queued entry; returns the new count.
    #[inline]
    pub fn bump_updates(&mut self, index: u32, n: u8) -> u8 {
        match self.entries.get_mut(index as usize) {
            Some(e) => {
                e.updates = e.updates.saturating_add(n);
                e.updates
            }
            None => 0,
        }
    }

    /// Appends a record for `id` to `queue`. The caller has checked that it fits.
    pub fn enqueue(&mut self, queue: Queue, id: StateId) -> Result<u32, EnqueueError> {
        let idx = self.free_head;
        let cost = self.cost(queue);
        let list = self
            .lists
            .get(queue as usize)
            .copied()
            .unwrap_or(EMPTY_LIST);
        let entry = self
            .entries
            .get_mut(idx as usize)
            .ok_or(EnqueueError::ArenaFull)?;
        self.free_head = entry.next;
        *entry = Entry {
            id,
            prev: list.tail,
            next: NIL,
            queue: queue as u8,
            updates: 0,
        };
        if let Some(tail) = self.entries.get_mut(list.tail as usize) {
            tail.next = idx;
        }
        if let Some(l) = self.lists.get_mut(queue as usize) {
            if l.head == NIL {
                l.head = idx;
            }
            l.tail = idx;
            l.count += 1;
        }
        self.len += cost;
        Ok(idx)
    }

    /// Unlinks and frees the entry at `index` (which must be in use).
    pub fn remove(&mut self, index: u32) {
        let Some(e) = self.entries.get(index as usize).copied() else {
            return;
        };
        let Some(queue) = Queue::from_u8(e.queue) else {
            return;
        };
        if let Some(p) = self.entries.get_mut(e.prev as usize) {
            p.next = e.next;
        }
        if let Some(n) = self.entries.get_mut(e.next as usize) {
            n.prev = e.prev;
        }
        if let Some(l) = self.lists.get_mut(queue as usize) {
            if l.head == index {
                l.head = e.next;
            }
            if l.tail == index {
                l.tail = e.prev;
            }
            l.count = l.count.saturating_sub(1);
            self.len = self.len.saturating_sub(queue.record_len());
            if l.count == 0 {
                self.len = self.len.saturating_sub(SUBHEADER_LEN);
            }
        }
        self.release(index);
    }

    /// Removes the oldest record of `queue`, returning its state id.
    pub fn pop_front(&mut self, queue: Queue) -> Option<StateId> {
        let head = self.lists.get(queue as usize)?.head;
        let id = self.entries.get(head as usize)?.id;
        self.remove(head);
        Some(id)
    }

    /// The state id of the oldest record of `queue`.
    pub fn front(&self, queue: Queue) -> Option<StateId> {
        let head = self.lists.get(queue as usize)?.head;
        self.entries.get(head as usize).map(|e| e.id)
    }

    /// True if an UPD_REQ for `id` is already waiting (stock's deduplication).
    pub fn has_request(&self, id: &StateId) -> bool {
        let mut i = self
            .lists
            .get(Queue::UpdReq as usize)
            .map_or(NIL, |l| l.head);
        while let Some(e) = self.entries.get(i as usize) {
            if e.id == *id {
                return true;
            }
            i = e.next;
        }
        false
    }

    fn release(&mut self, index: u32) {
        if let Some(e) = self.entries.get_mut(index as usize) {
            *e = FREE_ENTRY;
            e.next = self.free_head;
            self.free_head = index;
        }
    }
}

fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NIL)
}

/// Bytes of engine memory one queued record costs.
pub const ENTRY_BYTES: usize = core::mem::size_of::<Entry>();

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> StateId {
        StateId {
            id: n.to_be_bytes(),
            creatorid: [0, 0, 0, 1],
        }
    }

    #[test]
    fn frame_length_tracks_subheaders_and_records() {
        let mut b = Bucket::new(8, 4).unwrap();
        assert!(b.is_empty());
        let a = b.enqueue(Queue::UpdC, id(1)).unwrap();
        assert_eq!(b.frame_len(), EMPTY_FRAME_LEN + SUBHEADER_LEN + UPD_C_LEN);
        let c = b.enqueue(Queue::UpdC, id(2)).unwrap();
        assert_eq!(
            b.frame_len(),
            EMPTY_FRAME_LEN + SUBHEADER_LEN + 2 * UPD_C_LEN
        );
        b.enqueue(Queue::DelC, id(3)).unwrap();
        assert_eq!(b.queued(a, &id(1)), Some(Queue::UpdC));
        assert_eq!(b.queued(a, &id(2)), None, "index validated against the id");
        b.remove(a);
        b.remove(c);
        assert_eq!(
            b.frame_len(),
            EMPTY_FRAME_LEN + SUBHEADER_LEN + ID_RECORD_LEN
        );
        assert_eq!(b.pop_front(Queue::DelC), Some(id(3)));
        assert!(b.is_empty());
    }

    #[test]
    fn lists_keep_fifo_order_through_middle_removal() {
        let mut b = Bucket::new(8, 0).unwrap();
        let i: Vec<u32> = (1..=4)
            .map(|n| b.enqueue(Queue::UpdReq, id(n)).unwrap())
            .collect();
        b.remove(i[1]);
        assert!(b.has_request(&id(3)));
        assert!(!b.has_request(&id(2)));
        let order: Vec<StateId> = core::iter::from_fn(|| b.pop_front(Queue::UpdReq)).collect();
        assert_eq!(order, vec![id(1), id(3), id(4)]);
    }

    #[test]
    fn a_queued_record_costs_24_bytes() {
        assert_eq!(ENTRY_BYTES, 24);
        assert_eq!(core::mem::size_of::<crate::engine::SyncSlot>(), 12);
    }

    #[test]
    fn arena_full_is_an_error_not_a_panic() {
        let mut b = Bucket::new(1, 0).unwrap();
        b.enqueue(Queue::InsAck, id(1)).unwrap();
        assert_eq!(
            b.enqueue(Queue::InsAck, id(2)),
            Err(EnqueueError::ArenaFull)
        );
        b.grow(2).unwrap();
        assert!(b.enqueue(Queue::InsAck, id(2)).is_ok());
    }
}
