//! What the engine asks of its host: the pf state table, frame output, CARP
//! demotion, deferred packets and logging.
//!
//! The engine calls these synchronously from inside its entry points. A host
//! method must never call back into the engine (the engine is borrowed
//! mutably for the whole call, so Rust forbids it anyway; a C shim must not
//! re-enter either). In particular, states that the engine asks the host to
//! delete or clear are removed *silently*: the host does not report them to
//! `Engine::on_state_deleted` (stock sets `PFSTATE_NOSYNC` for the same reason).
//!
//! Time never flows through the host: every entry point takes `now`, and timers
//! are returned as deadlines by `Engine::poll_timeout`.
//!
//! # Per-state engine slot
//!
//! The host keeps one [`SyncSlot`] (12 bytes, `#[repr(C)]`) inside each of its
//! states, initialised to [`SyncSlot::NEW`], and hands it to the hook entry
//! points by `&mut`. In the kernel it fits in the space pf reserves for pfsync
//! in `struct pf_kstate` (`sync_state`, `sync_updates`, `sync_list`,
//! `pfsync_time`). See `engine/mod.rs` for why the slot lives in the host.

use crate::wire::{
    IfName, MsgVersion, OpenBsdState, Peer, StateChecks, StateFlags, StateId, StateRecord, WirePeer,
};

/// `PFSTATE_NOSYNC`: never synchronise this state ([`StateFlags::NOSYNC`]).
pub const PFSTATE_NOSYNC: StateFlags = StateFlags::NOSYNC;
/// `PFSTATE_ACK`: the peer should acknowledge this insert (a packet is
/// deferred; [`StateFlags::ACK`]).
pub const PFSTATE_ACK: StateFlags = StateFlags::ACK;
/// `IPPROTO_PFSYNC`: states of pfsync's own protocol are never synchronised.
pub const IPPROTO_PFSYNC: u8 = 240;
/// `IPPROTO_TCP`: only TCP updates count towards `maxupd`.
pub const IPPROTO_TCP: u8 = 6;
/// `PFTM_MAX`: timeouts at or above it mark a state being unlinked.
pub const PFTM_MAX: u8 = 25;

/// The engine's bookkeeping for one state, stored by the host inside the state.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncSlot {
    /// Index of this state's entry in its bucket's queue arena, or
    /// [`SyncSlot::NOT_QUEUED`]. May be stale after the entry was sent: the
    /// engine validates it against the id stored in the entry, so the host
    /// never has to be told when a queued record leaves.
    pub queue_index: u32,
    /// When pfsync last touched this state (import or merged peer update), as
    /// whole seconds of the caller's clock plus one; 0 = never (stock `pfsync_time`).
    pub touched: u32,
    /// Non-zero while one of this state's packets is held back by deferral
    /// (stock `PFSTATE_ACK`).
    pub deferred: u8,
    /// `SyncSlot::UPDATED`: bits the engine keeps about the state's history.
    pub flags: u8,
    pub reserved: [u8; 2],
}

impl SyncSlot {
    pub const NOT_QUEUED: u32 = u32::MAX;
    /// The value a new state's slot must start with.
    pub const NEW: SyncSlot = SyncSlot {
        queue_index: SyncSlot::NOT_QUEUED,
        touched: 0,
        deferred: 0,
        flags: 0,
        reserved: [0; 2],
    };
    /// pf has updated the state since it was created. A host that delivers
    /// hook events in batches (the kernel shim's inbox) may hand over a
    /// deferral after updates pf raised later: those updates release it.
    pub const UPDATED: u8 = 0x01;

    /// A slot for a state that pfsync touches at `now_secs` (import / merge).
    pub const fn touched_at(now_secs: u64) -> SyncSlot {
        let mut s = SyncSlot::NEW;
        s.touched = encode_touched(now_secs);
        s
    }

    /// Seconds of the caller's clock when pfsync last touched the state.
    pub const fn touched_secs(&self) -> Option<u64> {
        match self.touched {
            0 => None,
            t => Some((t - 1) as u64),
        }
    }
}

impl Default for SyncSlot {
    fn default() -> Self {
        SyncSlot::NEW
    }
}

pub(crate) const fn encode_touched(now_secs: u64) -> u32 {
    // Wraps after 136 years of uptime; saturate rather than wrap to 0 ("never").
    if now_secs >= (u32::MAX - 1) as u64 {
        u32::MAX
    } else {
        now_secs as u32 + 1
    }
}

/// What a hook caller tells the engine about a state it already holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateInfo {
    pub id: StateId,
    /// Protocol of the wire-side key (`key[PF_SK_WIRE]->proto`).
    pub proto: u8,
    /// `PFSTATE_*` flags.
    pub state_flags: StateFlags,
    /// The creating rule carries `no-sync` (`PFRULE_NOSYNC`); only read on insert.
    pub rule_nosync: bool,
}

/// A copy of the fields of a state that the engine's decisions need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateSnapshot {
    pub id: StateId,
    pub proto: u8,
    pub state_flags: StateFlags,
    /// `PFTM_*` index; `>= PFTM_MAX` means the state is being unlinked.
    pub timeout: u8,
    pub src: Peer,
    pub dst: Peer,
    pub slot: SyncSlot,
}

impl StateSnapshot {
    /// The snapshot of a host that keeps whole wire records beside their slots.
    pub fn of(record: &StateRecord, slot: SyncSlot) -> StateSnapshot {
        StateSnapshot {
            id: record.id,
            proto: record.wire_proto,
            state_flags: record.state_flags,
            timeout: record.timeout,
            src: record.src,
            dst: record.dst,
            slot,
        }
    }
}

/// The peers and timeout carried by a received UPD or UPD_C. The peers stay
/// in their wire form: the kernel host hands them to the shim, which sets
/// them beside pf's own peers exported in the same form and calls back into
/// the Rust merge, so decoding them here would only be undone; a host holding
/// [`Peer`]s decodes them itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerUpdate {
    pub src: WirePeer,
    pub dst: WirePeer,
    pub timeout: u8,
}

/// How a received update was merged (see `engine::merge`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Sides (0..=2) where our copy was newer than the update and was kept.
    pub stale_sides: u8,
    /// The state's slot after the merge (with `touched` refreshed).
    pub slot: SyncSlot,
    pub proto: u8,
    pub state_flags: StateFlags,
}

impl MergeOutcome {
    /// The outcome for a host that keeps whole records: `stale_sides` from
    /// the merge, the rest read off the merged state.
    pub fn of(record: &StateRecord, slot: SyncSlot, stale_sides: u8) -> MergeOutcome {
        MergeOutcome {
            stale_sides,
            slot,
            proto: record.wire_proto,
            state_flags: record.state_flags,
        }
    }
}

/// Why a state was handed to [`Host::import_state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportSource {
    /// INS from the peer.
    Insert,
    /// UPD for a state we did not know (bulk updates arrive this way).
    Update,
}

/// Everything the host needs besides the record itself to import a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportRequest {
    pub source: ImportSource,
    /// The frame's `pfcksum` equals our ruleset checksum (`PFSYNC_SI_CKSUM`): the
    /// host may associate the state with rule number `record.rule` when
    /// `record.anchor == u32::MAX` and the rule exists; otherwise it uses its
    /// default rule, as stock does.
    pub checksum_match: bool,
    /// The slot the new state must carry (touched = now).
    pub slot: SyncSlot,
    /// The FreeBSD format the record arrived in; `None` for OpenBSD records.
    /// A 1301 record lacks what later formats carry (the route-to interface,
    /// the rule's options), which the host recovers from the matched rule.
    pub format: Option<MsgVersion>,
}

/// Why an import did not create a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// A state with this id already exists.
    Exists,
    /// The host refused it (unknown interface, limits, bad FIB, no memory...).
    Refused,
}

/// Why a frame could not be sent (`onomem` / `oerrors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    NoMemory,
    Output,
}

/// Address family a frame arrived over (selects `ipackets` / `ipackets6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpFamily {
    V4,
    V6,
}

/// IP-level facts about a received frame, checked by the engine so that all
/// counting happens in one place (pfsync-wire.md section 1.1 steps 0-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxMeta {
    pub family: IpFamily,
    /// IPv4 TTL or IPv6 hop limit (must be 255).
    pub ttl: u8,
    /// The frame arrived on the configured sync interface.
    pub on_syncdev: bool,
}

impl RxMeta {
    /// A frame that passed every IP-level check.
    pub const fn valid(family: IpFamily) -> RxMeta {
        RxMeta {
            family,
            ttl: 255,
            on_syncdev: true,
        }
    }
}

/// A packet held back by deferral, as an opaque host token (the kernel shim
/// uses the mbuf pointer). The engine hands it back exactly once, through
/// [`Host::release_deferred`] or [`Host::drop_deferred`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeferredPacket(pub u64);

/// A resumable position in the host's state table for the bulk sender. The
/// engine stores it between calls and never interprets it; the kernel uses
/// (hash row, last id) like stock's `sc_bulk_hashid`/`sc_bulk_stateid`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableCursor {
    pub row: u64,
    pub position: u64,
    pub last: StateId,
}

impl TableCursor {
    pub const START: TableCursor = TableCursor {
        row: 0,
        position: 0,
        last: StateId {
            id: [0; 8],
            creatorid: [0; 4],
        },
    };
}

/// Why the engine moves the CARP demotion counter (the reason string of
/// `carp_demote_adj_p`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoteReason {
    BulkStart,
    BulkDone,
    BulkFail,
    Destroy,
}

impl DemoteReason {
    /// The strings stock passes to `carp_demote_adj_p`.
    pub const fn name(self) -> &'static str {
        match self {
            DemoteReason::BulkStart => "pfsync bulk start",
            DemoteReason::BulkDone => "pfsync bulk done",
            DemoteReason::BulkFail => "pfsync bulk fail",
            DemoteReason::Destroy => "pfsync destroy",
        }
    }
}

/// Something worth a log line. Transitions carry the names of both states and
/// the event, OpenBSD style ("bulk req: sent evt timeout -> sent").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogEvent {
    BulkRequestTransition {
        from: &'static str,
        event: &'static str,
        to: &'static str,
    },
    BulkSendTransition {
        from: &'static str,
        event: &'static str,
        to: &'static str,
    },
    /// An event arrived in a state that cannot handle it; counted, ignored.
    UnexpectedEvent {
        machine: &'static str,
        state: &'static str,
        event: &'static str,
    },
    /// The bulk request was abandoned after this many tries.
    BulkGaveUp { tries: u8 },
    /// A queue arena could not grow on reconfiguration.
    OutOfMemory,
    /// The frame extension (authentication) refused a frame; `suppressed`
    /// earlier refusals were counted but not logged.
    FrameRejected {
        reason: &'static str,
        suppressed: u64,
    },
}

/// The host's side of the engine: synchronous questions and commands.
pub trait Host {
    /// Finds a state by id (`pf_find_state_byid`).
    fn lookup(&mut self, id: &StateId) -> Option<StateSnapshot>;

    /// Creates a state from a validated record (`pfsync_state_import`). The
    /// host must not report it back through `Engine::on_state_inserted`.
    fn import_state(
        &mut self,
        record: &StateRecord,
        request: &ImportRequest,
    ) -> Result<(), ImportError>;

    /// Merges a peer's update into a known state *under the host's state lock*
    /// by applying [`crate::engine::merge::merge_update`] to the state's peers
    /// and timeout and the update's (decoded by the host, or in the kernel by
    /// `pfsync_rs_merge_peers` from the wire form the shim passes back),
    /// stores `touched` in its slot (and refreshes expiry when the outcome says
    /// so), and reports the result; `None` if the state is unknown.
    fn merge_update(
        &mut self,
        id: &StateId,
        update: &PeerUpdate,
        touched: u32,
    ) -> Option<MergeOutcome>;

    /// Stores a new slot value in a known state; false if the state is gone.
    fn store_slot(&mut self, id: &StateId, slot: SyncSlot) -> bool;

    /// Removes a state without reporting it to the engine; false if unknown.
    fn delete_state(&mut self, id: &StateId) -> bool;

    /// Removes every state created by `creatorid` (on interface `ifname` if
    /// given) without reporting them; returns how many were removed.
    fn clear_states(&mut self, creatorid: [u8; 4], ifname: Option<&IfName>) -> u64;

    /// The next state at or after `cursor` in table order, advancing the cursor
    /// past it; `None` at the end. States inserted or removed during a walk may
    /// or may not be seen, but none may be returned twice.
    fn next_state(&mut self, cursor: &mut TableCursor) -> Option<StateSnapshot>;

    /// Serialises a state in format `version` into `out` (exactly
    /// `version.state_len()` bytes; the kernel uses pf's own exporter). While
    /// the state's slot says `deferred`, the exported flags must include
    /// `PFSTATE_ACK` so the peer answers with INS_ACK (stock sets the flag on
    /// the state itself). False if the state is gone.
    fn export_state(&mut self, id: &StateId, version: MsgVersion, out: &mut [u8]) -> bool;

    /// OpenBSD dialect: serialises a state as OpenBSD's 264-byte `struct
    /// pfsync_state` into `out` (the same `PFSTATE_ACK` rule as
    /// [`Host::export_state`]). False if the state is gone. The default
    /// exports format 1500 and converts it, which loses the routing domains
    /// and the stack-side table (format 1500 has neither); a host that keeps
    /// them (OpenBSD's pf, the simulator) overrides this.
    fn export_state_openbsd(&mut self, id: &StateId, out: &mut [u8]) -> bool {
        let mut full = [0u8; MsgVersion::V1500.state_len()];
        if !self.export_state(id, MsgVersion::V1500, &mut full) {
            return false;
        }
        match StateRecord::decode(&full, MsgVersion::V1500, StateChecks::Update) {
            Ok(record) => OpenBsdState::from_record(&record).emit(out).is_ok(),
            Err(_) => false,
        }
    }

    /// Transmits one frame (pfsync header to end, IP header not included).
    fn send_frame(&mut self, frame: &[u8]) -> Result<(), SendError>;

    /// Adjusts the CARP demotion counter (`carp_demote_adj_p`), if CARP is present.
    fn carp_demote(&mut self, adjustment: i32, reason: DemoteReason);

    /// Sends a deferred packet on its way.
    fn release_deferred(&mut self, packet: DeferredPacket);

    /// Frees a deferred packet without sending it.
    fn drop_deferred(&mut self, packet: DeferredPacket);

    /// Records an event; the default ignores it.
    fn log(&mut self, event: &LogEvent) {
        let _ = event;
    }
}
