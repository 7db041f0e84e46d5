//! A flat, O(1) host for benchmarks: states live in a vector indexed by
//! `id - 1`, frames are counted and dropped. It measures the engine, not a
//! model table's search tree.

use crate::engine::merge;
use crate::engine::{
    DeferredPacket, DemoteReason, Host, ImportError, ImportRequest, MergeOutcome, PeerUpdate,
    SendError, StateSnapshot, SyncSlot, TableCursor,
};
use crate::wire::{IfName, MsgVersion, Peer, StateId, StateRecord};

#[derive(Clone, Copy, Debug)]
pub struct FlatState {
    pub record: StateRecord,
    pub slot: SyncSlot,
}

/// States with ids 1..=n of one creator, in a vector.
#[derive(Clone, Debug, Default)]
pub struct FlatHost {
    pub states: Vec<Option<FlatState>>,
    pub frames: u64,
    pub bytes: u64,
    /// The last frame sent (kept for tests that replay it).
    pub last_frame: Vec<u8>,
    pub keep_last_frame: bool,
}

impl FlatHost {
    /// A table of `count` established IPv4 TCP states, ids 1..=count of creator
    /// 1: the steady state the engine benchmarks measure against.
    pub fn with_established_tcp(count: u64) -> FlatHost {
        let mut host = FlatHost::default();
        for n in 1..=count {
            host.insert(established_tcp(n));
        }
        host
    }

    pub fn index(id: &StateId) -> usize {
        (id.id_be64() as usize).wrapping_sub(1)
    }

    /// Ids above this are refused (the vector is indexed by id).
    pub const MAX_STATES: usize = 1 << 24;

    /// Stores a state; false if its id is beyond [`FlatHost::MAX_STATES`].
    pub fn insert(&mut self, record: StateRecord) -> bool {
        let i = FlatHost::index(&record.id);
        if i >= FlatHost::MAX_STATES {
            return false;
        }
        if self.states.len() <= i {
            self.states.resize(i + 1, None);
        }
        if let Some(s) = self.states.get_mut(i) {
            *s = Some(FlatState {
                record,
                slot: SyncSlot::NEW,
            });
        }
        true
    }

    pub fn get(&self, id: &StateId) -> Option<&FlatState> {
        self.states
            .get(FlatHost::index(id))
            .and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, id: &StateId) -> Option<&mut FlatState> {
        self.states
            .get_mut(FlatHost::index(id))
            .and_then(Option::as_mut)
            .filter(|s| s.record.id == *id)
    }
}

fn snapshot(s: &FlatState) -> StateSnapshot {
    StateSnapshot::of(&s.record, s.slot)
}

impl Host for FlatHost {
    fn lookup(&mut self, id: &StateId) -> Option<StateSnapshot> {
        self.get_mut(id).map(|s| snapshot(s))
    }
    fn import_state(&mut self, r: &StateRecord, q: &ImportRequest) -> Result<(), ImportError> {
        if self.get(&r.id).is_some() {
            return Err(ImportError::Exists);
        }
        // Imports only grow the table densely, so hostile ids cannot make
        // the vector huge.
        let dense = FlatHost::index(&r.id) <= self.states.len();
        if r.id.creatorid == [0; 4] || !dense || !self.insert(*r) {
            return Err(ImportError::Refused);
        }
        if let Some(s) = self.get_mut(&r.id) {
            s.slot = q.slot;
        }
        Ok(())
    }
    fn merge_update(&mut self, id: &StateId, u: &PeerUpdate, touched: u32) -> Option<MergeOutcome> {
        let s = self.get_mut(id)?;
        let r = merge::merge_into_record(&mut s.record, u);
        s.slot.touched = touched;
        Some(MergeOutcome::of(&s.record, s.slot, r.stale_sides))
    }
    fn store_slot(&mut self, id: &StateId, slot: SyncSlot) -> bool {
        self.get_mut(id).map(|s| s.slot = slot).is_some()
    }
    fn delete_state(&mut self, id: &StateId) -> bool {
        let i = FlatHost::index(id);
        self.states.get_mut(i).and_then(Option::take).is_some()
    }
    fn clear_states(&mut self, creatorid: [u8; 4], _ifname: Option<&IfName>) -> u64 {
        let mut n = 0;
        for s in self.states.iter_mut() {
            if s.is_some_and(|s| s.record.id.creatorid == creatorid) {
                *s = None;
                n += 1;
            }
        }
        n
    }
    fn next_state(&mut self, cursor: &mut TableCursor) -> Option<StateSnapshot> {
        while let Some(slot) = self.states.get(cursor.position as usize) {
            cursor.position += 1;
            if let Some(s) = slot {
                return Some(snapshot(s));
            }
        }
        None
    }
    fn export_state(&mut self, id: &StateId, v: MsgVersion, out: &mut [u8]) -> bool {
        self.get(id).is_some_and(|s| s.record.emit(v, out).is_ok())
    }
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), SendError> {
        self.frames += 1;
        self.bytes += frame.len() as u64;
        if self.keep_last_frame {
            self.last_frame.clear();
            self.last_frame.extend_from_slice(frame);
        }
        Ok(())
    }
    fn carp_demote(&mut self, _adjustment: i32, _reason: DemoteReason) {}
    fn release_deferred(&mut self, _packet: DeferredPacket) {}
    fn drop_deferred(&mut self, _packet: DeferredPacket) {}
}

/// An established IPv4 TCP state with id `n` of creator 1, bound to em0.
pub fn established_tcp(n: u64) -> StateRecord {
    let side = |seqlo| Peer {
        seqlo,
        seqhi: 90_000,
        max_win: 65535,
        state: 4,
        wscale: 0x87,
        ..Peer::default()
    };
    StateRecord {
        id: StateId {
            id: n.to_be_bytes(),
            creatorid: [0, 0, 0, 1],
        },
        ifname: IfName::new("em0").unwrap_or_default(),
        wire_af: 2,
        stack_af: 2,
        wire_proto: 6,
        stack_proto: 6,
        direction: 2,
        timeout: 2,
        src: side(1000),
        dst: side(5000),
        ..StateRecord::default()
    }
}
