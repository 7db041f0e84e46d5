//! The pfsync protocol engine: sans-IO, driven by events, answering through
//! a small [`Host`] interface.
//!
//! The same code runs in the FreeBSD kernel (through a C shim), in the Linux
//! userspace node and in the deterministic simulator. It never reads a clock,
//! never blocks and never allocates on a per-packet or per-hook path: queues
//! live in arenas sized when the MTU is configured.
//!
//! # Calling contract
//!
//! - Inputs are methods named after what happened (`on_*`, `handle_timeout`);
//!   outputs are calls on the [`Host`] made before the method returns, plus the
//!   next deadline from [`Engine::poll_timeout`]. After **every** input the
//!   caller must re-read `poll_timeout()` and arrange to call
//!   `handle_timeout(now)` at (or soon after) that instant. A deadline equal to
//!   or before `now` means "as soon as possible, outside your locks" (stock's
//!   software-interrupt push).
//! - `now` must never go backwards between calls.
//! - The engine takes `&mut self`: the host serialises calls (one mutex around
//!   the engine; see [`SharedEngine`]). Queues are sharded into buckets by
//!   `PF_IDHASH`-style hash of the state id so per-bucket locking can be added
//!   later, but today one lock covers the engine: simple, and the hook's
//!   critical section is a few dozen instructions.
//! - Hook entry points (`on_state_inserted/updated/deleted`, `on_defer_requested`,
//!   `on_states_cleared`) never call the host's state-table methods: pf calls
//!   its hooks with the state's hash row locked, and a lookup from inside would
//!   recurse on that lock. A frame that fills up during a hook is therefore not
//!   sent from the hook; the bucket is marked due now and goes out on the next
//!   `handle_timeout`. Deferred-packet release/drop may be called from hooks:
//!   a kernel host should queue the packet rather than output it in place.
//!
//! # Where per-state sync status lives
//!
//! Stock keeps `sync_state`, `sync_updates`, `sync_list` and `pfsync_time` in
//! `struct pf_kstate`, so its update hook is O(1). We do the same with a
//! 12-byte [`SyncSlot`] that the host stores inside its state and passes to the
//! hooks by reference: the hook reaches the state's queue entry by index in
//! O(1), without hashing, and the engine holds no memory proportional to the
//! state table (an engine-side index would cost a hash probe per hook plus
//! ~16 bytes per state sized to the state limit, and would have to be kept in
//! step with pf's table). The slot's index is validated against the state id
//! stored in the queue entry, so when a record is sent the engine need not
//! tell the host: a stale index simply stops matching. The fold counter
//! (`sync_updates`) lives in the queue entry, because it only matters while a
//! record is queued.
//!
//! # Module map
//!
//! `host` (the host trait and the types crossing it), `queues` (arenas and
//! lists), `frame_out` (frame assembly), `output` (send path and the transmit
//! funnel), `input` (receive path and the receive funnel), `merge` (update
//! merge rules), `deferral`, `bulk_req` / `bulk_send` (the two bulk state
//! machines), `timers`, `stats`, `ext` (authentication/digest hook point),
//! `shared` (lock wrapper).

pub mod bulk_req;
pub mod bulk_send;
pub mod deferral;
pub mod ext;
pub mod frame_out;
pub mod host;
mod input;
pub mod merge;
mod output;
pub mod pacing;
pub mod queues;
pub mod shared;
pub mod stats;
pub mod timers;

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

pub use bulk_req::{ReqEvent, ReqState};
pub use bulk_send::{SendEvent, SendState};
pub use ext::{FrameExtension, NoExtension};
pub use host::{
    DeferredPacket, DemoteReason, Host, ImportError, ImportRequest, ImportSource, IpFamily,
    LogEvent, MergeOutcome, PeerUpdate, RxMeta, SendError, StateInfo, StateSnapshot, SyncSlot,
    TableCursor, IPPROTO_PFSYNC, IPPROTO_TCP, PFSTATE_ACK, PFSTATE_NOSYNC, PFTM_MAX,
};
pub use queues::QueuedAs;
pub use shared::SharedEngine;
pub use stats::{ExtraStats, Stats};

use crate::time::{Duration, Instant};
use crate::wire::{IfName, MsgVersion, StateId};
use bulk_req::{BulkRequester, ReqParams};
use bulk_send::BulkSender;
use queues::{Bucket, Queue, EMPTY_FRAME_LEN, ID_RECORD_LEN};
use timers::{Timer, TimerTable};

/// The 1 s flush of a bucket that has something queued (stock `1 * hz` callout).
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// States touched by pfsync less than this long ago are pushed at once.
pub const RECENT_TOUCH_SECS: u64 = 2;
/// Frames of records a bucket can hold before a hook has to drop a record
/// (normally a full bucket is sent well before: it is due at once).
pub const BUCKET_FRAMES: usize = 4;
/// Smallest MTU accepted (stock: `mtu <= PFSYNC_MINPKT` is refused).
pub const MIN_MTU: u16 = 65;

/// Configuration. Everything here may change at run time through
/// [`Engine::on_config_changed`] except `buckets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The sync interface; `None` = none configured (nothing is sent or accepted).
    pub syncdev: Option<IfName>,
    /// pfsync0 is up (`IFF_DRV_RUNNING`): the hooks are live.
    pub up: bool,
    /// Family of the sync peer; sizes the IP header in the frame budget.
    pub peer_family: IpFamily,
    /// `syncpeer` address, network order (IPv4 in the first 4 bytes); all
    /// zero = the default multicast group. Only compared: a new peer has to
    /// be asked for its table.
    pub syncpeer: [u8; 16],
    /// `maxupd`: folded TCP updates that force a push (0..=255, default 128).
    pub maxupd: u8,
    /// `PFSYNCF_DEFER`.
    pub defer: bool,
    /// `net.pfsync.defer_delay` (default 20 ms).
    pub defer_delay: Duration,
    /// Message version for INS/UPD we send (1301, 1400, 1500).
    pub version: MsgVersion,
    /// Number of queue buckets (stock default `2 * mp_ncpus`); fixed at creation.
    pub buckets: u16,
    /// pfsync0 MTU (default 1500): IP header + frame.
    pub mtu: u16,
    /// Bulk sender pacing in bytes per second on the link (IP headers
    /// included); 0 = unpaced. Default: 80% of the sync link where its
    /// speed is known ([`pacing`]), else 100 MB/s.
    pub bulk_rate_bytes_per_sec: u64,
    /// Bulk sender wake-up granularity (the kernel's tick).
    pub bulk_tick: Duration,
    /// `net.pfsync.carp_demotion_factor` (default 240).
    pub carp_demotion_factor: i32,
    /// Our pf host id (`V_pf_status.hostid`), raw bytes as on the wire.
    pub hostid: [u8; 4],
    /// pf ruleset checksum (`V_pf_status.pf_chksum`).
    pub ruleset_checksum: [u8; 16],
    /// Bulk request: wait this long for BUS START before retrying (stock 5 s).
    pub bulk_request_timeout: Duration,
    /// Bulk request: give up waiting after this long without a frame from the peer.
    pub bulk_idle_timeout: Duration,
    /// Bulk request: no BUS END this long after BUS START means the bulk
    /// failed, however much the peer keeps sending (see `bulk_req`).
    pub bulk_max_duration: Duration,
    /// Bulk request: retries after the first request before giving up
    /// (stock `PFSYNC_MAX_BULKTRIES`, 12: 13 requests in all).
    pub bulk_max_tries: u8,
    /// The protocol dialect. `FreeBsd15` and `FreeBsd14` send FreeBSD's
    /// frames (header version 5, format `version`) and read frames with that
    /// release's rules: 15 accepts actions 15/16 (format 1500), 14 refuses
    /// them as `badact`, exactly like a 14.x peer (used to simulate one).
    /// `OpenBsd` speaks OpenBSD's pfsync v6 both ways, sending and receiving
    /// as OpenBSD's if_pfsync.c does (docs/openbsd.md); `version` is then
    /// unused. Start from [`Config::openbsd`] for OpenBSD's timings.
    pub receive_dialect: crate::wire::Dialect,
}

impl Config {
    /// Stock defaults for host `hostid`, down and without a sync interface.
    pub const fn new(hostid: [u8; 4]) -> Config {
        Config {
            syncdev: None,
            up: false,
            peer_family: IpFamily::V4,
            syncpeer: [0; 16],
            maxupd: 128,
            defer: false,
            defer_delay: Duration::from_millis(20),
            version: MsgVersion::V1500,
            buckets: 4,
            mtu: 1500,
            // Hosts that know the sync link's speed replace it with
            // `pacing::bulk_rate_for_link`.
            bulk_rate_bytes_per_sec: pacing::DEFAULT_BULK_RATE_BYTES_PER_SEC,
            bulk_tick: Duration::from_millis(1),
            carp_demotion_factor: 240,
            hostid,
            ruleset_checksum: [0; 16],
            bulk_request_timeout: Duration::from_secs(5),
            bulk_idle_timeout: Duration::from_secs(3),
            bulk_max_duration: Duration::from_secs(120),
            bulk_max_tries: 12,
            receive_dialect: crate::wire::Dialect::FreeBsd15,
        }
    }

    /// OpenBSD's defaults for host `hostid` (if_pfsync.c v1.332): the
    /// OpenBSD dialect, bulk requests every 2 s, 12 of them in all, a CARP
    /// demotion of 32 while the bulk runs, and bulk frames one per 20 ms (the
    /// rate below is a full 1500-byte frame every 20 ms).
    pub const fn openbsd(hostid: [u8; 4]) -> Config {
        let mut c = Config::new(hostid);
        c.receive_dialect = crate::wire::Dialect::OpenBsd;
        c.bulk_request_timeout = Duration::from_secs(2);
        c.bulk_max_tries = 11;
        c.carp_demotion_factor = 32;
        c.bulk_rate_bytes_per_sec = 1500 * 50;
        c.bulk_tick = Duration::from_millis(20);
        c
    }

    /// The host's `PFTM_MAX`: timeouts at or above it mark a state being
    /// unlinked (FreeBSD 25, OpenBSD 20).
    pub const fn pftm_max(&self) -> u8 {
        if self.speaks_openbsd() {
            crate::wire::openbsd::PFTM_MAX
        } else {
            PFTM_MAX
        }
    }

    /// True when the engine speaks OpenBSD's protocol.
    pub const fn speaks_openbsd(&self) -> bool {
        matches!(self.receive_dialect, crate::wire::Dialect::OpenBsd)
    }

    /// Bytes of IP header in front of each frame.
    pub const fn ip_header_len(&self) -> usize {
        match self.peer_family {
            IpFamily::V4 => 20,
            IpFamily::V6 => 40,
        }
    }

    fn active(&self) -> bool {
        self.up && self.syncdev.is_some()
    }
}

/// Why a configuration was refused (the old one stays in force).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `mtu` too small for a frame with one record plus the extension trailer.
    Mtu,
    /// `buckets` is 0 or differs from the value the engine was created with.
    Buckets,
    /// The queue arenas could not grow for the larger MTU.
    NoMemory,
}

impl From<TryReserveError> for ConfigError {
    fn from(_: TryReserveError) -> Self {
        ConfigError::NoMemory
    }
}

/// What the insert hook decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// An INS is queued.
    Queued,
    /// Not synchronised; the host must set `PFSTATE_NOSYNC` on the state (rule
    /// `no-sync`, or pfsync's own protocol).
    SetNoSync,
    /// Not synchronised (already `PFSTATE_NOSYNC`, or pfsync is down).
    Ignored,
}

/// A small record sent after the queued sections (stock's "plus" region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plus {
    Clr {
        creatorid: [u8; 4],
        ifname: IfName,
    },
    Bus {
        status: crate::wire::BusStatus,
        endtime: u32,
    },
}

/// Why a bucket is being sent (for the push counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PushReason {
    Timer,
    Urgent,
    Full,
    /// A bulk-update frame (counted in `bulk_frames`).
    Bulk,
}

/// The protocol engine. `X` hooks frame authentication (see [`ext`]).
pub struct Engine<X: FrameExtension = NoExtension> {
    config: Config,
    /// The configuration the engine has acted on (bulk request started etc.).
    active: bool,
    buckets: Vec<Bucket>,
    /// Per bucket: small records waiting for the bucket's next frame.
    plus: Vec<Vec<Plus>>,
    frame: Vec<u8>,
    /// `frame_budget(config, ext)`, kept current by `size_for`.
    budget: usize,
    timers: TimerTable,
    bulk_req: BulkRequester,
    bulk_send: BulkSender,
    stats: Stats,
    extra: ExtraStats,
    ext: X,
}

/// Plus records a bucket can hold until its next frame.
const PLUS_LIMIT: usize = 8;

impl Engine<NoExtension> {
    /// An engine without frame extension. Inert until the first
    /// [`Engine::on_config_changed`], which (with a sync interface up) starts
    /// the bulk request.
    pub fn new(config: Config) -> Result<Engine<NoExtension>, ConfigError> {
        Engine::with_extension(config, NoExtension)
    }
}

impl<X: FrameExtension> Engine<X> {
    /// An engine whose frames pass through `ext`.
    pub fn with_extension(config: Config, ext: X) -> Result<Engine<X>, ConfigError> {
        if config.buckets == 0 {
            return Err(ConfigError::Buckets);
        }
        let mut e = Engine {
            config,
            active: false,
            buckets: Vec::new(),
            plus: Vec::new(),
            frame: Vec::new(),
            budget: frame_budget(&config, &ext),
            timers: TimerTable::default(),
            bulk_req: BulkRequester::default(),
            bulk_send: BulkSender::default(),
            stats: Stats::default(),
            extra: ExtraStats::default(),
            ext,
        };
        let n = usize::from(config.buckets);
        e.buckets.try_reserve_exact(n)?;
        e.plus.try_reserve_exact(n)?;
        for _ in 0..n {
            e.buckets.push(Bucket::new(0, deferral::DEFER_LIMIT)?);
            let mut p = Vec::new();
            p.try_reserve_exact(PLUS_LIMIT)?;
            e.plus.push(p);
        }
        e.size_for(&config)?;
        Ok(e)
    }

    // ----- getters -----

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `struct pfsyncstats`.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn extra_stats(&self) -> &ExtraStats {
        &self.extra
    }

    /// Stock's `PFSYNCF_OK` ("syncok"): no bulk update is being waited for.
    pub fn sync_ok(&self) -> bool {
        self.bulk_req.sync_ok()
    }

    pub fn bulk_request_state(&self) -> ReqState {
        self.bulk_req.state()
    }

    pub fn bulk_send_state(&self) -> SendState {
        self.bulk_send.state()
    }

    /// CARP demotion currently applied by the engine.
    pub fn demotion(&self) -> i32 {
        self.bulk_req.demoted_by()
    }

    pub fn extension(&self) -> &X {
        &self.ext
    }

    pub fn extension_mut(&mut self) -> &mut X {
        &mut self.ext
    }

    /// How a state is queued right now (stock `sync_state`).
    pub fn queued_as(&self, id: &StateId, slot: &SyncSlot) -> QueuedAs {
        self.buckets
            .get(self.bucket_of(id))
            .and_then(|b| b.queued(slot.queue_index, id))
            .map_or(QueuedAs::None, Queue::queued_as)
    }

    /// Deferred packets currently held.
    pub fn deferred_count(&self) -> usize {
        self.buckets.iter().map(|b| b.deferrals.len()).sum()
    }

    /// Bytes of engine memory held in queue arenas, frame buffer and deferral lists.
    pub fn memory_bytes(&self) -> usize {
        let per_bucket = core::mem::size_of::<Bucket>()
            + core::mem::size_of::<deferral::Deferral>() * deferral::DEFER_LIMIT
            + core::mem::size_of::<Plus>() * PLUS_LIMIT;
        let arenas: usize = self
            .buckets
            .iter()
            .map(|b| b.capacity() * queues::ENTRY_BYTES)
            .sum();
        core::mem::size_of::<Self>() + per_bucket * self.buckets.len() + arenas + self.frame.len()
    }

    /// The earliest deadline at which [`Engine::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let buckets = self
            .buckets
            .iter()
            .flat_map(|b| [b.flush_at, b.defer_at].into_iter());
        timers::earliest(buckets.chain(core::iter::once(self.timers.next())))
    }

    // ----- configuration -----

    /// Applies a new configuration. Becoming active (sync interface set and
    /// up), or changing the sync interface or the sync peer, starts a bulk
    /// request; unlike stock, a reconfiguration that changes none of them
    /// does not (opnsense/core #10858).
    pub fn on_config_changed<H: Host>(
        &mut self,
        now: Instant,
        new: &Config,
        host: &mut H,
    ) -> Result<(), ConfigError> {
        if new.buckets != self.config.buckets {
            return Err(ConfigError::Buckets);
        }
        if usize::from(new.mtu) < usize::from(MIN_MTU)
            || frame_budget(new, &self.ext) < EMPTY_FRAME_LEN + 2 * ID_RECORD_LEN
        {
            return Err(ConfigError::Mtu);
        }
        let dialect_changed = new.speaks_openbsd() != self.config.speaks_openbsd();
        if new.mtu != self.config.mtu
            || new.peer_family != self.config.peer_family
            || dialect_changed
        {
            // Records queued under the old budget leave first (stock flushes
            // on shrink), and in the old dialect: the new one's send order
            // does not visit the old one's full-state queues.
            self.send_all(now, host, PushReason::Urgent);
        }
        if let Err(e) = self.size_for(new) {
            self.extra.alloc_failures += 1;
            host.log(&LogEvent::OutOfMemory);
            return Err(e);
        }
        let old = self.config;
        self.config = *new;
        let active = new.active();
        // A different peer (stock demotes and asks on every SET) holds a
        // table we have never been sent.
        let peer_changed = old.syncdev != new.syncdev
            || old.syncpeer != new.syncpeer
            || old.peer_family != new.peer_family
            || dialect_changed;
        if self.active && !active {
            self.active = false;
            self.bulk_request_event(now, ReqEvent::Stop, host);
            self.bulk_send_event(now, SendEvent::Stop, host);
            self.drop_all_deferrals(host);
        } else if active && (!self.active || peer_changed) {
            self.active = true;
            self.bulk_request_event(now, ReqEvent::Start, host);
        }
        self.send_due(now, host);
        Ok(())
    }

    /// An operator asked for a full resync (opnsense/core #3932): request a
    /// bulk update without reconfiguring anything.
    pub fn on_resync_requested<H: Host>(&mut self, now: Instant, host: &mut H) {
        if self.active {
            self.bulk_request_event(now, ReqEvent::Start, host);
            self.send_due(now, host);
        }
    }

    /// pfsync0 is being destroyed: give back any CARP demotion ("pfsync
    /// destroy"), drop held packets, stop the bulk machines.
    pub fn on_destroy<H: Host>(&mut self, now: Instant, host: &mut H) {
        self.bulk_request_event(now, ReqEvent::Stop, host);
        self.bulk_send_event(now, SendEvent::Stop, host);
        self.drop_all_deferrals(host);
        self.active = false;
    }

    // ----- hooks -----

    /// pf created a state (`pfsync_insert_state`).
    pub fn on_state_inserted(
        &mut self,
        now: Instant,
        info: &StateInfo,
        slot: &mut SyncSlot,
    ) -> InsertOutcome {
        if !self.config.up || info.state_flags.contains(PFSTATE_NOSYNC) {
            return InsertOutcome::Ignored;
        }
        if info.rule_nosync || info.proto == IPPROTO_PFSYNC {
            return InsertOutcome::SetNoSync;
        }
        let bi = self.bucket_of(&info.id);
        if let Some(b) = self.buckets.get_mut(bi) {
            if b.queued(slot.queue_index, &info.id).is_some() {
                // Stock asserts here; a reused id must not leave two entries.
                b.remove(slot.queue_index);
            }
        }
        slot.queue_index = self
            .enqueue(
                now,
                bi,
                Queue::ins_for(self.config.speaks_openbsd(), self.config.version),
                info.id,
            )
            .unwrap_or(SyncSlot::NOT_QUEUED);
        InsertOutcome::Queued
    }

    /// pf changed a state once (`pfsync_update_state`). The hot path: O(1),
    /// no allocation, no host call unless a deferred packet is released.
    #[inline]
    pub fn on_state_updated<H: Host>(
        &mut self,
        now: Instant,
        info: &StateInfo,
        slot: &mut SyncSlot,
        host: &mut H,
    ) {
        self.on_state_updates(now, info, slot, 1, host);
    }

    /// pf changed a state `updates` times since the host last reported it (a
    /// host that parks hook events folds them, as the kernel shim does); 0
    /// counts as 1. Each one counts towards `maxupd`, as each of stock's
    /// hook calls does.
    #[inline]
    pub fn on_state_updates<H: Host>(
        &mut self,
        now: Instant,
        info: &StateInfo,
        slot: &mut SyncSlot,
        updates: u16,
        host: &mut H,
    ) {
        slot.flags |= SyncSlot::UPDATED;
        if !self.config.up
            || info.state_flags.contains(PFSTATE_NOSYNC)
            || info.proto == IPPROTO_PFSYNC
        {
            return;
        }
        // OpenBSD lets only the peer's answer or the timeout release a
        // deferred packet; FreeBSD releases it on the state's next update.
        if slot.deferred != 0 && !self.config.speaks_openbsd() {
            self.undefer(now, &info.id, slot, deferral_release_on_update(), host);
        }
        // The update that queues a record is not a fold (stock starts
        // `sync_updates` at 0 on queueing); every later one is.
        let updates = u8::try_from(updates.max(1)).unwrap_or(u8::MAX);
        let bi = self.bucket_of(&info.id);
        let maxupd = self.config.maxupd;
        let Some(b) = self.buckets.get_mut(bi) else {
            return;
        };
        let mut urgent = false;
        match b.queued(slot.queue_index, &info.id) {
            Some(
                q @ (Queue::Ins1301
                | Queue::Ins1400
                | Queue::Ins1500
                | Queue::Upd1301
                | Queue::Upd1400
                | Queue::Upd1500
                | Queue::InsOpenBsd
                | Queue::UpdOpenBsd
                | Queue::UpdC),
            ) => {
                // OpenBSD counts folds only into updates, not into a queued INS.
                if info.proto == IPPROTO_TCP
                    && q != Queue::InsOpenBsd
                    && b.bump_updates(slot.queue_index, updates) >= maxupd
                {
                    urgent = true;
                }
            }
            Some(Queue::InsAck) => {
                b.remove(slot.queue_index);
                slot.queue_index = self
                    .enqueue(now, bi, Queue::UpdC, info.id)
                    .unwrap_or(SyncSlot::NOT_QUEUED);
                urgent |= self.fold_rest(bi, slot, info, updates, maxupd);
            }
            // A state being deleted cannot be updated; nothing to fold into.
            Some(Queue::DelC) => return,
            // Slots never point at requests; treat as not queued.
            Some(Queue::UpdReq) | None => {
                slot.queue_index = self
                    .enqueue(now, bi, Queue::UpdC, info.id)
                    .unwrap_or(SyncSlot::NOT_QUEUED);
                urgent |= self.fold_rest(bi, slot, info, updates, maxupd);
            }
        }
        if let Some(t) = slot.touched_secs() {
            if now.as_secs().saturating_sub(t) < RECENT_TOUCH_SECS {
                urgent = true;
            }
        }
        if urgent {
            self.push_soon(now, bi, PushReason::Urgent);
        }
    }

    /// Counts the updates after the one that queued a record; true when
    /// they reach `maxupd`.
    fn fold_rest(
        &mut self,
        bi: usize,
        slot: &SyncSlot,
        info: &StateInfo,
        updates: u8,
        maxupd: u8,
    ) -> bool {
        let rest = updates.saturating_sub(1);
        if info.proto != IPPROTO_TCP || rest == 0 || slot.queue_index == SyncSlot::NOT_QUEUED {
            return false;
        }
        self.buckets
            .get_mut(bi)
            .is_some_and(|b| b.bump_updates(slot.queue_index, rest) >= maxupd)
    }

    /// pf removed a state (`pfsync_delete_state`).
    pub fn on_state_deleted<H: Host>(
        &mut self,
        now: Instant,
        info: &StateInfo,
        slot: &mut SyncSlot,
        host: &mut H,
    ) {
        if slot.deferred != 0 {
            self.undefer(now, &info.id, slot, deferral::Fate::Drop, host);
        }
        if !self.config.up {
            return;
        }
        let bi = self.bucket_of(&info.id);
        let Some(b) = self.buckets.get_mut(bi) else {
            return;
        };
        let queued = b.queued(slot.queue_index, &info.id);
        if queued.is_some() {
            b.remove(slot.queue_index);
        }
        slot.queue_index = SyncSlot::NOT_QUEUED;
        if info.state_flags.contains(PFSTATE_NOSYNC) || info.proto == IPPROTO_PFSYNC {
            return;
        }
        match queued {
            // The peer never heard of it: dropping the INS is enough.
            Some(Queue::Ins1301 | Queue::Ins1400 | Queue::Ins1500 | Queue::InsOpenBsd) => {}
            Some(
                Queue::InsAck
                | Queue::Upd1301
                | Queue::Upd1400
                | Queue::Upd1500
                | Queue::UpdOpenBsd
                | Queue::UpdC
                | Queue::DelC
                | Queue::UpdReq,
            )
            | None => {
                slot.queue_index = self
                    .enqueue(now, bi, Queue::DelC, info.id)
                    .unwrap_or(SyncSlot::NOT_QUEUED);
            }
        }
    }

    /// pf flushed states of `creatorid` (`pfsync_clear_states`): one CLR record,
    /// sent at once.
    pub fn on_states_cleared(&mut self, now: Instant, creatorid: [u8; 4], ifname: &IfName) {
        if !self.config.up {
            return;
        }
        self.queue_plus(
            now,
            0,
            Plus::Clr {
                creatorid,
                ifname: *ifname,
            },
        );
    }

    /// pf asks to hold `packet`, the first packet of an outbound state, until
    /// the peer has the state (`pfsync_defer`). Returns true if the engine took
    /// the packet (it will come back through `release_deferred` or
    /// `drop_deferred`). The host must not ask for broadcast/multicast packets.
    pub fn on_defer_requested<H: Host>(
        &mut self,
        now: Instant,
        info: &StateInfo,
        slot: &mut SyncSlot,
        packet: DeferredPacket,
        host: &mut H,
    ) -> bool {
        if !self.config.defer || !self.config.active() || info.state_flags.contains(PFSTATE_NOSYNC)
        {
            return false;
        }
        let bi = self.bucket_of(&info.id);
        // (OpenBSD releases nothing on a local update, so there this
        // deferral stands.)
        if slot.flags & SyncSlot::UPDATED != 0 && !self.config.speaks_openbsd() {
            // pf raises no update for the packet that created the state, so
            // an update reported before this deferral came from a later
            // packet (the host delivered its events in a batch): stock would
            // have let the packet go at that update. Count it as deferred
            // and released by the update; the INS still leaves at once.
            self.extra.deferred += 1;
            self.extra.defer_released_update += 1;
            self.push_soon(now, bi, PushReason::Urgent);
            return false;
        }
        let deadline = now + self.config.defer_delay;
        let Some(b) = self.buckets.get_mut(bi) else {
            return false;
        };
        if b.deferrals.len() >= deferral::DEFER_LIMIT && !b.deferrals.is_empty() {
            // Full: the oldest goes on its way (stock). Its state keeps a stale
            // `deferred` flag, which the next undefer attempt clears.
            let oldest = b.deferrals.remove(0);
            host.release_deferred(oldest.packet);
            self.extra.defer_released_overflow += 1;
        }
        let Some(b) = self.buckets.get_mut(bi) else {
            return false;
        };
        b.deferrals.push(deferral::Deferral {
            id: info.id,
            packet,
            deadline,
        });
        b.defer_at = deferral::next_deadline(&b.deferrals);
        slot.deferred = 1;
        self.extra.deferred += 1;
        // The INS must leave now, not in a second.
        self.push_soon(now, bi, PushReason::Urgent);
        true
    }

    // ----- timers -----

    /// Runs every timer due at `now`.
    pub fn handle_timeout<H: Host>(&mut self, now: Instant, host: &mut H) {
        for bi in 0..self.buckets.len() {
            self.expire_deferrals(now, bi, host);
        }
        if self.timers.take_expired(Timer::BulkRequest, now) {
            self.bulk_request_event(now, ReqEvent::Timeout, host);
        }
        if self.timers.take_expired(Timer::BulkSend, now) {
            self.bulk_send_event(now, SendEvent::Tick, host);
        }
        self.send_due(now, host);
    }

    // ----- internals shared by the send and receive paths -----

    #[inline]
    fn bucket_of(&self, id: &StateId) -> usize {
        (id.id_be64() % self.buckets.len().max(1) as u64) as usize
    }

    /// Frame bytes records may use (pfsync header to EOF, trailer excluded).
    fn frame_budget(&self) -> usize {
        self.budget
    }

    /// Grows arenas and the frame buffer for `config`'s MTU.
    fn size_for(&mut self, config: &Config) -> Result<(), ConfigError> {
        let budget = frame_budget(config, &self.ext);
        let per_frame = budget.saturating_sub(EMPTY_FRAME_LEN) / ID_RECORD_LEN + 1;
        for b in self.buckets.iter_mut() {
            b.grow(per_frame * BUCKET_FRAMES)?;
        }
        let want = usize::from(config.mtu) + self.ext.trailer_len();
        if self.frame.len() < want {
            self.frame.try_reserve_exact(want - self.frame.len())?;
            self.frame.resize(want, 0);
        }
        self.budget = budget;
        Ok(())
    }

    /// Appends a record to bucket `bi`; a bucket that reached one frame is made
    /// due now. Returns the entry index, or `None` if the arena is exhausted
    /// (counted; the host has not been running `handle_timeout`).
    #[inline]
    fn enqueue(&mut self, now: Instant, bi: usize, queue: Queue, id: StateId) -> Option<u32> {
        let budget = self.budget;
        let b = self.buckets.get_mut(bi)?;
        let full = b.frame_len() + b.cost(queue) > budget;
        let was_empty = b.is_empty();
        let idx = match b.enqueue(queue, id) {
            Ok(i) => i,
            Err(queues::EnqueueError::ArenaFull) => {
                self.extra.queue_overflow += 1;
                self.push_soon(now, bi, PushReason::Full);
                return None;
            }
        };
        if full {
            self.push_soon(now, bi, PushReason::Full);
        } else if was_empty && b.flush_at.is_none() {
            b.flush_at = Some(now + FLUSH_INTERVAL);
            b.push_reason = PushReason::Timer;
        }
        Some(idx)
    }

    /// Makes bucket `bi` due at `now`.
    fn push_soon(&mut self, now: Instant, bi: usize, reason: PushReason) {
        if let Some(b) = self.buckets.get_mut(bi) {
            b.flush_at = Some(match b.flush_at {
                Some(t) if t <= now => t,
                Some(_) | None => now,
            });
            if b.push_reason != PushReason::Full {
                b.push_reason = reason;
            }
        }
    }

    /// Makes every non-empty bucket due now (stock `pfsync_push_all`).
    fn push_all_soon(&mut self, now: Instant) {
        for bi in 0..self.buckets.len() {
            let has = self.buckets.get(bi).is_some_and(|b| !b.is_empty());
            if has {
                self.push_soon(now, bi, PushReason::Urgent);
            }
        }
    }

    fn queue_plus(&mut self, now: Instant, bi: usize, record: Plus) {
        if let Some(p) = self.plus.get_mut(bi) {
            if p.len() < PLUS_LIMIT {
                p.push(record);
            } else {
                self.extra.plus_dropped += 1;
            }
        }
        self.push_soon(now, bi, PushReason::Urgent);
    }

    fn bulk_params(&self) -> ReqParams {
        ReqParams {
            request_timeout: self.config.bulk_request_timeout,
            idle_timeout: self.config.bulk_idle_timeout,
            max_duration: self.config.bulk_max_duration,
            max_tries: self.config.bulk_max_tries,
            demotion: self.config.carp_demotion_factor,
        }
    }

    /// Feeds the bulk requester and carries out what it decided.
    fn bulk_request_event<H: Host>(&mut self, now: Instant, event: ReqEvent, host: &mut H) {
        let params = self.bulk_params();
        let fx = self.bulk_req.handle(event, now, &params);
        let quiet = fx.ignored || (event == ReqEvent::PeerFrame && fx.from == fx.to);
        if !quiet {
            host.log(&LogEvent::BulkRequestTransition {
                from: fx.from.name(),
                event: fx.event.name(),
                to: fx.to.name(),
            });
        }
        if let Some((adj, reason)) = fx.demote {
            host.carp_demote(adj, reason);
        }
        match fx.timer {
            bulk_req::TimerChange::Keep => {}
            bulk_req::TimerChange::Set(at) => self.timers.set(Timer::BulkRequest, at),
            bulk_req::TimerChange::Stop => self.timers.stop(Timer::BulkRequest),
        }
        if fx.send_request {
            self.extra.bulk_requests_sent += 1;
            self.request_update(now, StateId::BULK_REQUEST);
        }
        if fx.completed {
            self.extra.bulk_completed += 1;
        }
        if fx.gave_up {
            self.extra.bulk_gave_up += 1;
            host.log(&LogEvent::BulkGaveUp {
                tries: self.bulk_req.tries(),
            });
        }
    }

    /// Asks the peer for a full update of `id` (anti-entropy repair): the
    /// same UPD_REQ stock sends for an unknown UPD_C, leaving on the next
    /// `handle_timeout`.
    pub fn request_state_update(&mut self, now: Instant, id: StateId) {
        if self.config.active() {
            self.request_update(now, id);
        }
    }

    /// Queues an UPD_REQ for `id` (deduplicated against requests not yet
    /// sent) and makes its bucket due now, as stock does.
    fn request_update(&mut self, now: Instant, id: StateId) {
        let bi = self.bucket_of(&id);
        let dup = self.buckets.get(bi).is_some_and(|b| b.has_request(&id));
        if dup {
            self.extra.upd_req_deduplicated += 1;
            return;
        }
        if self.enqueue(now, bi, Queue::UpdReq, id).is_some() {
            self.push_soon(now, bi, PushReason::Urgent);
        }
    }

    /// Lets a deferred packet of `id` go (`fate`), clearing the slot's flag.
    fn undefer<H: Host>(
        &mut self,
        _now: Instant,
        id: &StateId,
        slot: &mut SyncSlot,
        fate: deferral::Fate,
        host: &mut H,
    ) {
        slot.deferred = 0;
        let bi = self.bucket_of(id);
        let Some(b) = self.buckets.get_mut(bi) else {
            return;
        };
        let Some(d) = deferral::take(&mut b.deferrals, id) else {
            return;
        };
        b.defer_at = deferral::next_deadline(&b.deferrals);
        self.finish_deferral(d, fate, host);
    }

    fn finish_deferral<H: Host>(
        &mut self,
        d: deferral::Deferral,
        fate: deferral::Fate,
        host: &mut H,
    ) {
        match fate {
            deferral::Fate::ReleaseAck => {
                self.extra.defer_released_ack += 1;
                host.release_deferred(d.packet);
            }
            deferral::Fate::ReleaseUpdate => {
                self.extra.defer_released_update += 1;
                host.release_deferred(d.packet);
            }
            deferral::Fate::ReleaseTimeout => {
                self.extra.defer_released_timeout += 1;
                host.release_deferred(d.packet);
            }
            deferral::Fate::Drop => {
                self.extra.defer_dropped += 1;
                host.drop_deferred(d.packet);
            }
        }
    }

    /// Releases every deferral of bucket `bi` whose time is up (dropped if the
    /// sync interface is gone), and clears the states' flags.
    fn expire_deferrals<H: Host>(&mut self, now: Instant, bi: usize, host: &mut H) {
        let due = self
            .buckets
            .get(bi)
            .and_then(|b| b.defer_at)
            .is_some_and(|t| t <= now);
        if !due {
            return;
        }
        let fate = if self.config.syncdev.is_some() {
            deferral::Fate::ReleaseTimeout
        } else {
            deferral::Fate::Drop
        };
        while let Some(d) = self
            .buckets
            .get_mut(bi)
            .and_then(|b| deferral::take_expired(&mut b.deferrals, now))
        {
            clear_deferred_flag(host, &d.id);
            self.finish_deferral(d, fate, host);
        }
        if let Some(b) = self.buckets.get_mut(bi) {
            b.defer_at = deferral::next_deadline(&b.deferrals);
        }
    }

    fn drop_all_deferrals<H: Host>(&mut self, host: &mut H) {
        for bi in 0..self.buckets.len() {
            while let Some(d) = self.buckets.get_mut(bi).and_then(|b| b.deferrals.pop()) {
                self.finish_deferral(d, deferral::Fate::Drop, host);
            }
            if let Some(b) = self.buckets.get_mut(bi) {
                b.defer_at = None;
            }
        }
    }
}

/// What a local update does to a deferred packet: stock releases it.
const fn deferral_release_on_update() -> deferral::Fate {
    deferral::Fate::ReleaseUpdate
}

/// Clears a state's `deferred` flag through the host (not on hook paths).
fn clear_deferred_flag<H: Host>(host: &mut H, id: &StateId) {
    if let Some(s) = host.lookup(id) {
        if s.slot.deferred != 0 {
            let mut slot = s.slot;
            slot.deferred = 0;
            host.store_slot(id, slot);
        }
    }
}

fn frame_budget<X: FrameExtension>(config: &Config, ext: &X) -> usize {
    usize::from(config.mtu)
        .saturating_sub(config.ip_header_len())
        .saturating_sub(ext.trailer_len())
}
