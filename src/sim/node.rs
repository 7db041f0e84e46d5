//! One simulated firewall: an engine, a model pf table, and the host glue
//! between them. Methods named after what pf does (`create_state`,
//! `tcp_packet`, `delete_state`, ...) run the matching engine hook exactly the
//! way pf would.

use crate::engine::{
    Config, ConfigError, DeferredPacket, DemoteReason, Engine, FrameExtension, Host, ImportError,
    ImportRequest, InsertOutcome, LogEvent, MergeOutcome, NoExtension, PeerUpdate, RxMeta,
    SendError, StateInfo, StateSnapshot, SyncSlot, TableCursor, PFSTATE_NOSYNC,
};
use crate::sim::model::{ModelTable, Segment, WindowReject};
use crate::time::{Duration, Instant};
use crate::wire::{IfName, MsgVersion, StateId, StateRecord};

/// What the node's host side observed.
#[derive(Clone, Debug, Default)]
pub struct NodeIo {
    /// Frames sent and not yet handed to the network.
    pub outbox: Vec<Vec<u8>>,
    pub frames_sent: u64,
    pub bytes_sent: u64,
    /// Current CARP demotion applied through the engine.
    pub demotion: i32,
    pub demotion_log: Vec<(i32, DemoteReason)>,
    pub released: Vec<DeferredPacket>,
    pub dropped: Vec<DeferredPacket>,
    pub log: Vec<LogEvent>,
    /// Keep at most this many log lines (0 = none).
    pub log_limit: usize,
}

/// The engine's view of a node: the model table plus the I/O record.
pub struct NodeHost<'a> {
    pub table: &'a mut ModelTable,
    pub io: &'a mut NodeIo,
}

impl Host for NodeHost<'_> {
    fn lookup(&mut self, id: &StateId) -> Option<StateSnapshot> {
        self.table.lookup(id)
    }
    fn import_state(&mut self, r: &StateRecord, q: &ImportRequest) -> Result<(), ImportError> {
        self.table.import_state(r, q)
    }
    fn merge_update(&mut self, id: &StateId, u: &PeerUpdate, touched: u32) -> Option<MergeOutcome> {
        self.table.merge_update(id, u, touched)
    }
    fn store_slot(&mut self, id: &StateId, slot: SyncSlot) -> bool {
        self.table.store_slot(id, slot)
    }
    fn delete_state(&mut self, id: &StateId) -> bool {
        self.table.delete_state(id)
    }
    fn clear_states(&mut self, creatorid: [u8; 4], ifname: Option<&IfName>) -> u64 {
        self.table.clear_states(creatorid, ifname)
    }
    fn next_state(&mut self, cursor: &mut TableCursor) -> Option<StateSnapshot> {
        self.table.next_state(cursor)
    }
    fn export_state(&mut self, id: &StateId, v: MsgVersion, out: &mut [u8]) -> bool {
        self.table.export_state(id, v, out)
    }
    fn export_state_openbsd(&mut self, id: &StateId, out: &mut [u8]) -> bool {
        self.table.export_state_openbsd(id, out)
    }
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), SendError> {
        self.io.frames_sent += 1;
        self.io.bytes_sent += frame.len() as u64;
        self.io.outbox.push(frame.to_vec());
        Ok(())
    }
    fn carp_demote(&mut self, adjustment: i32, reason: DemoteReason) {
        self.io.demotion += adjustment;
        self.io.demotion_log.push((adjustment, reason));
    }
    fn release_deferred(&mut self, packet: DeferredPacket) {
        self.io.released.push(packet);
    }
    fn drop_deferred(&mut self, packet: DeferredPacket) {
        self.io.dropped.push(packet);
    }
    fn log(&mut self, event: &LogEvent) {
        if self.io.log.len() < self.io.log_limit {
            self.io.log.push(*event);
        }
    }
}

/// A simulated firewall; `X` is the engine's frame extension (authentication).
pub struct Node<X: FrameExtension = NoExtension> {
    pub engine: Engine<X>,
    pub table: ModelTable,
    pub io: NodeIo,
    pub config: Config,
    pub alive: bool,
    /// How pf's hook events reach the engine.
    pub hook_delivery: HookDelivery,
    inbox: Inbox,
}

/// How a node's pf hooks reach its engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookDelivery {
    /// Each hook calls the engine at once (stock pfsync, `pfsync-node`).
    Direct,
    /// As the kernel shim does: hooks park their state (one entry per
    /// state, events OR-ed, updates counted up to 255) and deferrals in a
    /// list; a task delivers everything `latency` after the first event of
    /// a batch, states first in arrival order, then deferrals.
    Inbox { latency: Duration },
}

const EV_INSERTED: u8 = 1;
const EV_UPDATED: u8 = 2;
const EV_DELETED: u8 = 4;

/// A state waiting in the inbox.
#[derive(Clone, Copy, Debug)]
struct Parked {
    id: StateId,
    events: u8,
    updates: u8,
    info: StateInfo,
    /// The slot of a state pf has already removed (the shim holds a
    /// reference, so it can still read it).
    removed_slot: Option<SyncSlot>,
}

#[derive(Clone, Debug, Default)]
struct Inbox {
    states: Vec<Parked>,
    deferrals: Vec<(StateId, StateInfo, DeferredPacket)>,
    /// When the hook task runs.
    due: Option<Instant>,
}

fn info_of(r: &StateRecord, rule_nosync: bool) -> StateInfo {
    StateInfo {
        id: r.id,
        proto: r.wire_proto,
        state_flags: r.state_flags,
        rule_nosync,
    }
}

impl Node {
    pub fn new(config: Config) -> Result<Node, ConfigError> {
        Node::with_extension(config, NoExtension)
    }
}

impl<X: FrameExtension> Node<X> {
    /// A node whose engine runs with frame extension `ext`.
    pub fn with_extension(config: Config, ext: X) -> Result<Node<X>, ConfigError> {
        Ok(Node {
            engine: Engine::with_extension(config, ext)?,
            table: ModelTable::new(),
            io: NodeIo {
                log_limit: 256,
                ..NodeIo::default()
            },
            config,
            alive: true,
            hook_delivery: HookDelivery::Direct,
            inbox: Inbox::default(),
        })
    }

    /// The engine and the host view of this node, for driving the engine
    /// directly (extension frames, anti-entropy).
    pub fn host(&mut self, now: Instant) -> (&mut Engine<X>, NodeHost<'_>) {
        self.table.set_now(now);
        (
            &mut self.engine,
            NodeHost {
                table: &mut self.table,
                io: &mut self.io,
            },
        )
    }

    /// Applies `config` (the first call after creation starts the engine).
    pub fn configure(&mut self, now: Instant, config: Config) -> Result<(), ConfigError> {
        self.config = config;
        let (engine, mut host) = self.host(now);
        engine.on_config_changed(now, &config, &mut host)
    }

    /// pf creates a state from local traffic.
    pub fn create_state(&mut self, now: Instant, record: StateRecord) -> Option<InsertOutcome> {
        self.create_state_with(now, record, false, None)
            .map(|(o, _)| o)
    }

    /// pf creates a state; `rule_nosync` marks a `no-sync` rule, `packet` is
    /// offered for deferral. Returns the insert outcome and whether the packet
    /// was deferred.
    pub fn create_state_with(
        &mut self,
        now: Instant,
        record: StateRecord,
        rule_nosync: bool,
        packet: Option<DeferredPacket>,
    ) -> Option<(InsertOutcome, bool)> {
        self.table.set_now(now);
        self.table.insert_local(record).ok()?;
        let info = info_of(&record, rule_nosync);
        if let HookDelivery::Inbox { latency } = self.hook_delivery {
            return Some(self.park_insert(now, latency, &info, packet));
        }
        let mut slot = SyncSlot::NEW;
        let outcome = self.engine.on_state_inserted(now, &info, &mut slot);
        let mut deferred = false;
        if outcome == InsertOutcome::SetNoSync {
            if let Some(s) = self.table.get_mut(&record.id) {
                s.record.state_flags.insert(PFSTATE_NOSYNC);
            }
        } else if let Some(p) = packet {
            let (engine, mut host) = self.host(now);
            deferred = engine.on_defer_requested(now, &info, &mut slot, p, &mut host);
        }
        self.table.store_slot(&record.id, slot);
        Some((outcome, deferred))
    }

    /// pf changed a state: `change` edits it, then the update hook runs.
    pub fn update_state(
        &mut self,
        now: Instant,
        id: &StateId,
        change: impl FnOnce(&mut StateRecord),
    ) -> bool {
        self.table.set_now(now);
        let Some(s) = self.table.get_mut(id) else {
            return false;
        };
        change(&mut s.record);
        self.run_update_hook(now, id);
        true
    }

    fn run_update_hook(&mut self, now: Instant, id: &StateId) {
        let Some(s) = self.table.get(id) else {
            return;
        };
        let info = info_of(&s.record, false);
        if let HookDelivery::Inbox { latency } = self.hook_delivery {
            if !info.state_flags.contains(PFSTATE_NOSYNC) {
                self.park(now, latency, &info, EV_UPDATED, None);
            }
            return;
        }
        let mut slot = s.slot;
        let (engine, mut host) = self.host(now);
        engine.on_state_updated(now, &info, &mut slot, &mut host);
        self.table.store_slot(id, slot);
    }

    /// A TCP segment passes the firewall: window check, tracking, update hook.
    pub fn tcp_packet(
        &mut self,
        now: Instant,
        id: &StateId,
        seg: &Segment,
    ) -> Result<(), WindowReject> {
        self.table.set_now(now);
        self.table.tcp_track(id, seg)?;
        self.run_update_hook(now, id);
        Ok(())
    }

    /// pf removes a state (expiry, flush of one state...).
    pub fn delete_state(&mut self, now: Instant, id: &StateId) -> bool {
        self.table.set_now(now);
        let Some(s) = self.table.remove(id) else {
            return false;
        };
        let info = info_of(&s.record, false);
        if let HookDelivery::Inbox { latency } = self.hook_delivery {
            self.park(now, latency, &info, EV_DELETED, Some(s.slot));
            return true;
        }
        let mut slot = s.slot;
        let (engine, mut host) = self.host(now);
        engine.on_state_deleted(now, &info, &mut slot, &mut host);
        true
    }

    /// pf's purge: removes expired states through the delete hook.
    pub fn expire_states(&mut self, now: Instant) -> usize {
        let gone = self.table.expire(now);
        for s in &gone {
            let info = info_of(&s.record, false);
            if let HookDelivery::Inbox { latency } = self.hook_delivery {
                self.park(now, latency, &info, EV_DELETED, Some(s.slot));
                continue;
            }
            let mut slot = s.slot;
            let (engine, mut host) = self.host(now);
            engine.on_state_deleted(now, &info, &mut slot, &mut host);
        }
        gone.len()
    }

    /// `pfctl -F states` for our own states (creator `hostid`).
    pub fn clear_states(&mut self, now: Instant, ifname: &IfName) {
        let hostid = self.config.hostid;
        let filter = if ifname.is_empty() {
            None
        } else {
            Some(ifname)
        };
        self.table.clear_states(hostid, filter);
        self.engine.on_states_cleared(now, hostid, ifname);
    }

    pub fn receive(&mut self, now: Instant, meta: RxMeta, frame: &[u8]) {
        let (engine, mut host) = self.host(now);
        engine.on_frame_received(now, meta, frame, &mut host);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.inbox.due.is_some_and(|t| t <= now) {
            self.drain_inbox(now);
        }
        let (engine, mut host) = self.host(now);
        engine.handle_timeout(now, &mut host);
    }

    /// The next instant [`Node::handle_timeout`] has work: the engine's
    /// deadline or the hook task's.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.engine.poll_timeout(), self.inbox.due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Events parked and not yet delivered.
    pub fn inbox_len(&self) -> usize {
        self.inbox.states.len() + self.inbox.deferrals.len()
    }

    /// The shim's insert hook: its policy decision at once, the event parked.
    fn park_insert(
        &mut self,
        now: Instant,
        latency: Duration,
        info: &StateInfo,
        packet: Option<DeferredPacket>,
    ) -> (InsertOutcome, bool) {
        if info.state_flags.contains(PFSTATE_NOSYNC) {
            return (InsertOutcome::Ignored, false);
        }
        if info.rule_nosync || info.proto == crate::engine::IPPROTO_PFSYNC {
            if let Some(s) = self.table.get_mut(&info.id) {
                s.record.state_flags.insert(PFSTATE_NOSYNC);
            }
            return (InsertOutcome::SetNoSync, false);
        }
        self.park(now, latency, info, EV_INSERTED, None);
        let deferred = match packet {
            Some(p) => {
                self.inbox.deferrals.push((info.id, *info, p));
                true
            }
            None => false,
        };
        (InsertOutcome::Queued, deferred)
    }

    fn park(
        &mut self,
        now: Instant,
        latency: Duration,
        info: &StateInfo,
        event: u8,
        removed_slot: Option<SyncSlot>,
    ) {
        let entry = match self.inbox.states.iter_mut().find(|p| p.id == info.id) {
            Some(p) => p,
            None => {
                self.inbox.states.push(Parked {
                    id: info.id,
                    events: 0,
                    updates: 0,
                    info: *info,
                    removed_slot: None,
                });
                let Some(p) = self.inbox.states.last_mut() else {
                    return;
                };
                p
            }
        };
        entry.events |= event;
        entry.info = *info;
        if removed_slot.is_some() {
            entry.removed_slot = removed_slot;
        }
        if event == EV_UPDATED {
            entry.updates = entry.updates.saturating_add(1);
        }
        if self.inbox.due.is_none() {
            self.inbox.due = Some(now + latency);
        }
    }

    /// The shim's hook task (`pfsync_rs_inbox_drain`): every parked state in
    /// arrival order (insert, folded updates unless deleted, delete), then
    /// every deferral.
    pub fn drain_inbox(&mut self, now: Instant) {
        self.inbox.due = None;
        let states = std::mem::take(&mut self.inbox.states);
        for p in states {
            let mut slot = match p.removed_slot {
                Some(s) => s,
                None => match self.table.get(&p.id) {
                    Some(s) => s.slot,
                    None => continue,
                },
            };
            let (engine, mut host) = self.host(now);
            if p.events & EV_INSERTED != 0 {
                let _ = engine.on_state_inserted(now, &p.info, &mut slot);
            }
            if p.events & EV_UPDATED != 0 && p.events & EV_DELETED == 0 {
                engine.on_state_updates(now, &p.info, &mut slot, u16::from(p.updates), &mut host);
            }
            if p.events & EV_DELETED != 0 {
                engine.on_state_deleted(now, &p.info, &mut slot, &mut host);
            }
            if p.removed_slot.is_none() {
                self.table.store_slot(&p.id, slot);
            }
        }
        let deferrals = std::mem::take(&mut self.inbox.deferrals);
        for (id, info, packet) in deferrals {
            let mut slot = self.table.get(&id).map_or(SyncSlot::NEW, |s| s.slot);
            let (engine, mut host) = self.host(now);
            if !engine.on_defer_requested(now, &info, &mut slot, packet, &mut host) {
                host.io.released.push(packet);
            }
            self.table.store_slot(&id, slot);
        }
    }

    pub fn resync(&mut self, now: Instant) {
        let (engine, mut host) = self.host(now);
        engine.on_resync_requested(now, &mut host);
    }

    pub fn destroy(&mut self, now: Instant) {
        let (engine, mut host) = self.host(now);
        engine.on_destroy(now, &mut host);
    }
}
