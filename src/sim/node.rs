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
use crate::time::Instant;
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
        let mut slot = SyncSlot::NEW;
        let outcome = self.engine.on_state_inserted(now, &info, &mut slot);
        let mut deferred = false;
        if outcome == InsertOutcome::SetNoSync {
            if let Some(s) = self.table.get_mut(&record.id) {
                s.record.state_flags |= PFSTATE_NOSYNC;
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
        let (engine, mut host) = self.host(now);
        engine.handle_timeout(now, &mut host);
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
