//! The anti-entropy state machine of one node (sans-IO; docs/anti-entropy.md).
//!
//! Each node vouches for the states it created (`creatorid` = its hostid):
//! only their owner changes them in the common active/passive setup, so a
//! digest of them is not muddied by the receiver's own changes.
//!
//! Round trip, in both directions:
//! 1. every `period` the owner flushes its queues (so every change made so far
//!    is on the wire ahead of the digest), walks its own states and sends a
//!    DIGEST: one XOR of state fingerprints per bucket;
//! 2. the receiver walks its copies of the owner's states at the owner's
//!    bucket count and asks for the buckets that differ (DETAIL_REQ);
//! 3. the owner flushes again and answers with (id, fingerprint) of each of
//!    its states in those buckets (DETAIL);
//! 4. the requester compares with its copies in those buckets and acts on
//!    each difference: a state the owner has and we lack, or whose content
//!    differs, is requested with a stock UPD_REQ (the owner answers with a
//!    full UPD; the ordinary merge rules decide which copy is newer); a copy
//!    the owner no longer has is deleted here (we missed its DEL_C).
//!
//! Because the owner flushes before it walks, a change it made before the
//! digest or detail reaches us first over the (in-order) link, so what we see
//! differ was lost, not merely late. Where that ordering cannot be relied on
//! (`Config::confirm`), a difference is only kept as a *candidate* and acted
//! on when a second look `confirm_after` later finds it again with our own
//! copy unchanged.

use alloc::vec::Vec;

use super::fingerprint::{bucket_of, fingerprint, StateView};
use super::wire::{FrameWriter, Kind, Message, MAX_BITS, OVERHEAD};
use crate::engine::TableCursor;
use crate::time::{Duration, Instant};
use crate::wire::StateId;

/// Flag bits of the body header.
const FLAG_IN_SYNC: u8 = 1;
const FLAG_LAST: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Digest interval.
    pub period: Duration,
    /// Act on a difference only after seeing it twice (see module docs).
    pub confirm: bool,
    /// Delay before a difference is checked again (longer than the time an
    /// ordinary update may sit in a queue: stock flushes within 1 s).
    pub confirm_after: Duration,
    /// Give up on a DETAIL reply (or a partial DIGEST) after this long.
    pub reply_timeout: Duration,
    /// Bucket count is chosen for about this many states per bucket...
    pub states_per_bucket: u32,
    /// ...within 2^min_bits ..= 2^max_bits buckets.
    pub min_bits: u8,
    pub max_bits: u8,
    /// Buckets asked for per round (bounds DETAIL traffic after a large loss).
    pub max_buckets_per_round: usize,
    /// Entries accepted in one DETAIL reply, and collected from our own
    /// table for one comparison (bounds memory: 20 bytes each); a larger
    /// round is dropped and counted in `no_memory`.
    pub max_detail_entries: usize,
    /// Frame length before the authentication trailer (MTU - IP header - trailer).
    pub frame_len: usize,
    /// Bytes the host appends to each frame (authentication trailer), for the
    /// traffic counters only.
    pub trailer_len: usize,
    /// States visited per call while computing a digest (ours, or our copies
    /// of the peer's for a comparison); 0 walks the whole table in one call.
    /// A kernel cannot hold pf's table for a million states at once, so it
    /// resumes the walk from a cursor every `walk_pause`.
    pub walk_slice: usize,
    pub walk_pause: Duration,
}

impl Config {
    pub const fn new() -> Config {
        Config {
            period: Duration::from_secs(5),
            confirm: false,
            confirm_after: Duration::from_millis(2500),
            reply_timeout: Duration::from_secs(1),
            states_per_bucket: 16,
            min_bits: 4,
            max_bits: 16,
            max_buckets_per_round: 32768,
            max_detail_entries: 1 << 19,
            frame_len: 1460,
            trailer_len: 0,
            walk_slice: 0,
            walk_pause: Duration::from_millis(1),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// What the session needs from its host.
pub trait Io {
    /// Calls `visit` once for every synchronised state (not `NOSYNC`, not
    /// being unlinked).
    fn walk_states(&mut self, visit: &mut dyn FnMut(StateView<'_>));
    /// Transmits `buf[..len]` after sealing it (authentication); `buf` has
    /// room for the trailer after `len`.
    fn send_frame(&mut self, buf: &mut [u8], len: usize);
    /// Sends every queued change now, so that it travels ahead of the
    /// digest or detail that follows.
    fn flush(&mut self);
    /// Queues a stock UPD_REQ for `id` to the peer.
    fn request_update(&mut self, id: &StateId);
    /// Removes a state without telling the engine (no DEL_C goes out).
    fn delete_state(&mut self, id: &StateId);
    /// Our own bulk update is complete (`syncok`).
    fn in_sync(&self) -> bool;
    fn pfcksum(&self) -> [u8; 16];
    /// Visits at most `budget` states from `cursor` on (as `walk_states`
    /// does) and advances it; returns false once the table is exhausted. A
    /// host that can only walk in one go keeps this default.
    fn walk_slice(
        &mut self,
        cursor: &mut TableCursor,
        budget: usize,
        visit: &mut dyn FnMut(StateView<'_>),
    ) -> bool {
        let _ = (cursor, budget);
        self.walk_states(visit);
        false
    }
}

/// Counters, all monotonic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub frames_sent: u64,
    pub bytes_sent: u64,
    pub digests_sent: u64,
    pub digest_frames_sent: u64,
    pub detail_requests_sent: u64,
    pub detail_entries_sent: u64,
    pub rounds_compared: u64,
    pub buckets_mismatched: u64,
    pub candidates: u64,
    pub updates_requested: u64,
    pub states_deleted: u64,
    /// Messages refused (malformed, unexpected, out of round).
    pub ignored: u64,
    /// Allocation failures (a round is skipped).
    pub no_memory: u64,
    /// States walked, for the CPU cost.
    pub states_walked: u64,
    /// Calls that advanced a sliced digest walk (`Config::walk_slice`).
    pub walk_slices: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Difference {
    /// The peer has it, we don't.
    Missing,
    /// Both have it with different content.
    Differs,
    /// We have it, the peer doesn't.
    Extra,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    id: StateId,
    kind: Difference,
    local_fp: u64,
}

struct PeerDigest {
    sender: [u8; 4],
    round: u32,
    bits: u8,
    in_sync: bool,
    hashes: Vec<u64>,
    received: Vec<bool>,
    missing: usize,
    started: Instant,
}

/// What a sliced walk computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WalkGoal {
    /// Our own states, counted to size the digest.
    CountOwn,
    /// Our own digest, sent when the walk ends.
    OwnDigest,
    /// Our copies of the peer's states, compared with its digest at the end.
    PeerCopies,
}

/// What a sliced walk for DETAIL entries is for.
enum EntriesGoal {
    /// Answer a DETAIL_REQ of round `round`: our own states, sent as DETAIL.
    Reply { round: u32 },
    /// Compare the peer's DETAIL entries with our copies of its states.
    Reconcile {
        peer: [u8; 4],
        theirs: Vec<(StateId, u64)>,
    },
}

/// The (id, fingerprint) list of one creator's states in some buckets,
/// gathered over several timer calls (`Config::walk_slice` states each) so
/// a received DETAIL_REQ or DETAIL never walks the table where it arrives
/// (the kernel's network thread, under pf's rules lock).
struct EntriesWalk {
    goal: EntriesGoal,
    creator: [u8; 4],
    bits: u8,
    /// Sorted.
    buckets: Vec<u32>,
    cursor: TableCursor,
    entries: Vec<(StateId, u64)>,
    failed: bool,
    resume_at: Instant,
}

/// A digest computation spread over several calls.
struct Walk {
    goal: WalkGoal,
    creator: [u8; 4],
    bits: u8,
    cursor: TableCursor,
    counted: u64,
    hashes: Vec<u64>,
    resume_at: Instant,
}

struct Pending {
    peer: [u8; 4],
    request: u32,
    bits: u8,
    buckets: Vec<u32>,
    replies_expected: u32,
    replies_done: u32,
    theirs: Vec<(StateId, u64)>,
    sent_at: Instant,
}

pub struct Session {
    config: Config,
    hostid: [u8; 4],
    round: u32,
    request_seq: u32,
    next_digest: Option<Instant>,
    peer: Option<PeerDigest>,
    pending: Option<Pending>,
    candidates: Vec<Candidate>,
    candidates_peer: [u8; 4],
    candidates_at: Instant,
    confirm_at: Option<Instant>,
    frame: Vec<u8>,
    walk: Option<Walk>,
    /// Sliced DETAIL walks: answering a request, reconciling a reply.
    reply_walk: Option<EntriesWalk>,
    reconcile_walk: Option<EntriesWalk>,
    /// Hash buffer of sliced walks, reserved for `2^max_bits` buckets when
    /// the session is created and reused by every walk.
    walk_buf: Vec<u64>,
    /// A complete peer digest waits for the walk in progress to end.
    compare_due: bool,
    stats: Stats,
}

fn try_vec<T: Clone>(n: usize, v: T) -> Option<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(n).ok()?;
    out.resize(n, v);
    Some(out)
}

fn push<T>(v: &mut Vec<T>, item: T) -> bool {
    if v.try_reserve(1).is_err() {
        return false;
    }
    v.push(item);
    true
}

impl Session {
    pub fn new(config: Config, hostid: [u8; 4]) -> Option<Session> {
        let frame = try_vec(
            config.frame_len.max(OVERHEAD) + config.trailer_len.max(64),
            0u8,
        )?;
        let mut walk_buf = Vec::new();
        if config.walk_slice != 0 {
            walk_buf
                .try_reserve_exact(1usize << config.max_bits.min(MAX_BITS))
                .ok()?;
        }
        Some(Session {
            config,
            hostid,
            round: 0,
            request_seq: 0,
            next_digest: None,
            peer: None,
            pending: None,
            candidates: Vec::new(),
            candidates_peer: [0; 4],
            candidates_at: Instant::ZERO,
            confirm_at: None,
            frame,
            walk: None,
            reply_walk: None,
            reconcile_walk: None,
            walk_buf,
            compare_due: false,
            stats: Stats::default(),
        })
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The node's pf hostid changed (`set hostid` in pf.conf): its own
    /// states are those created under the new one from now on.
    pub fn set_hostid(&mut self, hostid: [u8; 4]) {
        self.hostid = hostid;
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts the periodic digests (first one after `offset`, so that peers
    /// started together do not walk in lock-step).
    pub fn start(&mut self, now: Instant, offset: Duration) {
        self.next_digest = Some(now + offset);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        // A due digest waits for the walk in progress, which is resumed first.
        let next_digest = match &self.walk {
            Some(w) => Some(w.resume_at),
            None => self.next_digest,
        };
        let peer_deadline = self
            .peer
            .as_ref()
            .filter(|p| p.missing > 0)
            .map(|p| p.started + self.config.reply_timeout);
        let pending_deadline = self
            .pending
            .as_ref()
            .map(|p| p.sent_at + self.config.reply_timeout);
        [
            next_digest,
            self.confirm_at,
            peer_deadline,
            pending_deadline,
            self.reply_walk.as_ref().map(|w| w.resume_at),
            self.reconcile_walk.as_ref().map(|w| w.resume_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn handle_timeout<I: Io>(&mut self, now: Instant, io: &mut I) {
        if self.walk.as_ref().is_some_and(|w| w.resume_at <= now) {
            self.advance_walk(now, io);
        }
        if self.reply_walk.as_ref().is_some_and(|w| w.resume_at <= now) {
            if let Some(w) = self.reply_walk.take() {
                self.advance_entries(w, now, io);
            }
        }
        if self
            .reconcile_walk
            .as_ref()
            .is_some_and(|w| w.resume_at <= now)
        {
            if let Some(w) = self.reconcile_walk.take() {
                self.advance_entries(w, now, io);
            }
        }
        if self.walk.is_none() && self.next_digest.is_some_and(|t| t <= now) {
            self.next_digest = Some(now + self.config.period);
            if self.config.walk_slice == 0 {
                self.send_digest(io);
            } else {
                let own = self.hostid;
                self.begin_walk(now, WalkGoal::CountOwn, own, 0, true, io);
            }
        }
        let digest_overdue = self
            .peer
            .as_ref()
            .is_some_and(|p| p.missing > 0 && p.started + self.config.reply_timeout <= now);
        if digest_overdue {
            self.compare_digest(now, io);
        }
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.sent_at + self.config.reply_timeout <= now)
        {
            // An incomplete reply would make absent entries look like deletions.
            self.pending = None;
        }
        if self.confirm_at.is_some_and(|t| t <= now)
            && self.pending.is_none()
            && self.reconcile_walk.is_none()
        {
            self.confirm_at = None;
            let mut buckets = Vec::new();
            let bits = self.peer.as_ref().map_or(self.config.min_bits, |p| p.bits);
            for c in &self.candidates {
                if !push(&mut buckets, bucket_of(&c.id, bits)) {
                    self.stats.no_memory += 1;
                    return;
                }
            }
            buckets.sort_unstable();
            buckets.dedup();
            let peer = self.candidates_peer;
            self.request_details(now, peer, bits, buckets, io);
        }
    }

    /// Handles the extension bytes of an accepted frame (past `len`, auth
    /// trailer removed). Returns false if they are not an anti-entropy message.
    pub fn on_extension<I: Io>(&mut self, now: Instant, bytes: &[u8], io: &mut I) -> bool {
        let Some(msg) = Message::parse(bytes) else {
            return false;
        };
        if msg.sender == self.hostid {
            self.stats.ignored += 1;
            return true;
        }
        match msg.kind {
            Kind::Digest => self.on_digest(now, &msg, io),
            Kind::DetailReq => self.on_detail_request(now, &msg, io),
            Kind::Detail => self.on_detail(now, &msg, io),
        }
        true
    }

    fn bits_for(&self, states: u64) -> u8 {
        let per = u64::from(self.config.states_per_bucket.max(1));
        let wanted = states.div_ceil(per).max(1);
        let bits = (64 - (wanted - 1).leading_zeros()) as u8;
        bits.clamp(self.config.min_bits, self.config.max_bits.min(MAX_BITS))
    }

    /// XOR of fingerprints per bucket over the states created by `creator`.
    fn local_hashes<I: Io>(&mut self, creator: [u8; 4], bits: u8, io: &mut I) -> Option<Vec<u64>> {
        let mut hashes = try_vec(1usize << bits, 0u64)?;
        let mut walked = 0u64;
        io.walk_states(&mut |v| {
            walked += 1;
            if v.id.creatorid == creator {
                if let Some(h) = hashes.get_mut(bucket_of(v.id, bits) as usize) {
                    *h ^= fingerprint(&v);
                }
            }
        });
        self.stats.states_walked += walked;
        Some(hashes)
    }

    /// (id, fingerprint) of the states created by `creator` in `buckets`
    /// (sorted), sorted by id.
    fn entries_in<I: Io>(
        &mut self,
        creator: [u8; 4],
        bits: u8,
        buckets: &[u32],
        io: &mut I,
    ) -> Option<Vec<(StateId, u64)>> {
        let mut entries = Vec::new();
        let mut failed = false;
        let mut walked = 0u64;
        let limit = self.config.max_detail_entries;
        io.walk_states(&mut |v| {
            walked += 1;
            if v.id.creatorid == creator
                && buckets.binary_search(&bucket_of(v.id, bits)).is_ok()
                && (entries.len() >= limit || !push(&mut entries, (*v.id, fingerprint(&v))))
            {
                failed = true;
            }
        });
        self.stats.states_walked += walked;
        if failed {
            return None;
        }
        entries.sort_unstable();
        Some(entries)
    }

    fn send_digest<I: Io>(&mut self, io: &mut I) {
        let own = self.hostid;
        let mut states = 0u64;
        io.walk_states(&mut |v| states += u64::from(v.id.creatorid == own));
        let bits = self.bits_for(states);
        io.flush();
        let Some(hashes) = self.local_hashes(own, bits, io) else {
            self.stats.no_memory += 1;
            return;
        };
        self.send_hashes(bits, &hashes, io);
    }

    /// Sends `hashes` as this round's DIGEST.
    fn send_hashes<I: Io>(&mut self, bits: u8, hashes: &[u64], io: &mut I) {
        self.round = self.round.wrapping_add(1);
        self.stats.digests_sent += 1;
        let flags = if io.in_sync() { FLAG_IN_SYNC } else { 0 };
        let mut at = 0usize;
        while at < hashes.len() {
            let sent =
                self.with_writer(io, Kind::Digest, self.round, bits, flags, at as u32, |w| {
                    let mut n = 0;
                    for h in hashes.iter().skip(at) {
                        if !w.push_hash(*h) {
                            break;
                        }
                        n += 1;
                    }
                    n
                });
            if sent == 0 {
                return;
            }
            self.stats.digest_frames_sent += 1;
            at += sent;
        }
    }

    /// Starts a sliced walk towards `goal` and, when `inline` (called from
    /// the timer), takes its first slice; otherwise the timer takes it.
    fn begin_walk<I: Io>(
        &mut self,
        now: Instant,
        goal: WalkGoal,
        creator: [u8; 4],
        bits: u8,
        inline: bool,
        io: &mut I,
    ) {
        let hashes = if goal == WalkGoal::CountOwn {
            Vec::new()
        } else {
            // Within the capacity reserved at creation: no allocation.
            let mut h = core::mem::take(&mut self.walk_buf);
            h.clear();
            let n = 1usize << bits;
            if h.try_reserve_exact(n).is_err() {
                self.stats.no_memory += 1;
                self.walk_buf = h;
                return;
            }
            h.resize(n, 0);
            h
        };
        self.walk = Some(Walk {
            goal,
            creator,
            bits,
            cursor: TableCursor::START,
            counted: 0,
            hashes,
            resume_at: now,
        });
        if inline {
            self.advance_walk(now, io);
        }
    }

    /// Visits the next `walk_slice` states of the walk in progress and, when
    /// the table is exhausted, acts on the result.
    fn advance_walk<I: Io>(&mut self, now: Instant, io: &mut I) {
        let Some(mut w) = self.walk.take() else {
            return;
        };
        let mut walked = 0u64;
        let budget = self.config.walk_slice.max(1);
        let (goal, creator, bits) = (w.goal, w.creator, w.bits);
        let (counted, hashes) = (&mut w.counted, &mut w.hashes);
        let more = io.walk_slice(&mut w.cursor, budget, &mut |v| {
            walked += 1;
            if v.id.creatorid != creator {
                return;
            }
            if goal == WalkGoal::CountOwn {
                *counted += 1;
            } else if let Some(h) = hashes.get_mut(bucket_of(v.id, bits) as usize) {
                *h ^= fingerprint(&v);
            }
        });
        self.stats.states_walked += walked;
        self.stats.walk_slices += 1;
        if more {
            w.resume_at = now + self.config.walk_pause;
            self.walk = Some(w);
            return;
        }
        match goal {
            WalkGoal::CountOwn => {
                let bits = self.bits_for(w.counted);
                self.begin_walk(now, WalkGoal::OwnDigest, creator, bits, true, io);
            }
            WalkGoal::OwnDigest => {
                // Every change already folded into the hashes leaves ahead of the digest.
                io.flush();
                self.send_hashes(bits, &w.hashes, io);
                self.walk_buf = w.hashes;
            }
            WalkGoal::PeerCopies => {
                let same_peer = self
                    .peer
                    .as_ref()
                    .is_some_and(|p| p.sender == creator && p.bits == bits);
                if same_peer && io.in_sync() {
                    self.compare_with(now, &w.hashes, io);
                }
                self.walk_buf = w.hashes;
            }
        }
        if self.walk.is_none() && core::mem::take(&mut self.compare_due) {
            if let Some((sender, b)) = self.peer.as_ref().map(|p| (p.sender, p.bits)) {
                self.begin_walk(now, WalkGoal::PeerCopies, sender, b, true, io);
            }
        }
    }

    /// Builds one frame with `fill` and sends it; returns what `fill` returned.
    #[allow(clippy::too_many_arguments)]
    fn with_writer<I: Io>(
        &mut self,
        io: &mut I,
        kind: Kind,
        round: u32,
        bits: u8,
        flags: u8,
        first: u32,
        fill: impl FnOnce(&mut FrameWriter<'_>) -> usize,
    ) -> usize {
        let cksum = io.pfcksum();
        let limit = self.config.frame_len;
        let Some(mut w) = FrameWriter::new(
            &mut self.frame,
            limit,
            &cksum,
            kind,
            self.hostid,
            round,
            bits,
            flags,
            first,
        ) else {
            return 0;
        };
        let n = fill(&mut w);
        let len = w.finish();
        io.send_frame(&mut self.frame, len);
        self.stats.frames_sent += 1;
        self.stats.bytes_sent += (len + self.config.trailer_len) as u64;
        n
    }

    fn on_digest<I: Io>(&mut self, now: Instant, msg: &Message<'_>, io: &mut I) {
        // The bucket count sizes our allocation: never more than we would use.
        if msg.bits > self.config.max_bits.min(MAX_BITS) {
            self.stats.ignored += 1;
            return;
        }
        let same_round = self
            .peer
            .as_ref()
            .is_some_and(|p| p.sender == msg.sender && p.round == msg.round && p.bits == msg.bits);
        if !same_round {
            let n = 1usize << msg.bits;
            let (Some(hashes), Some(received)) = (try_vec(n, 0u64), try_vec(n, false)) else {
                self.stats.no_memory += 1;
                return;
            };
            self.peer = Some(PeerDigest {
                sender: msg.sender,
                round: msg.round,
                bits: msg.bits,
                in_sync: msg.flags & FLAG_IN_SYNC != 0,
                hashes,
                received,
                missing: n,
                started: now,
            });
        }
        let Some(p) = self.peer.as_mut() else { return };
        for (i, h) in msg.digest_hashes() {
            if let (Some(slot), Some(seen)) =
                (p.hashes.get_mut(i as usize), p.received.get_mut(i as usize))
            {
                *slot = h;
                if !*seen {
                    *seen = true;
                    p.missing -= 1;
                }
            }
        }
        if p.missing == 0 {
            self.compare_digest(now, io);
        }
    }

    /// Compares the peer's (possibly partial) digest with our table and asks
    /// for the buckets that differ.
    fn compare_digest<I: Io>(&mut self, now: Instant, io: &mut I) {
        let Some(p) = self.peer.as_mut() else { return };
        // Consumed: a lost chunk is not waited for twice.
        p.missing = 0;
        let (bits, sender, peer_in_sync) = (p.bits, p.sender, p.in_sync);
        if !peer_in_sync || !io.in_sync() || self.pending.is_some() || self.reconcile_walk.is_some()
        {
            return;
        }
        if self.config.walk_slice != 0 {
            if self.walk.is_some() {
                self.compare_due = true;
            } else {
                // Reached on receipt of a digest: the timer walks.
                self.begin_walk(now, WalkGoal::PeerCopies, sender, bits, false, io);
            }
            return;
        }
        let Some(local) = self.local_hashes(sender, bits, io) else {
            self.stats.no_memory += 1;
            return;
        };
        self.compare_with(now, &local, io);
    }

    /// Asks for the buckets where the peer's digest and our `local` hashes of
    /// its states differ.
    fn compare_with<I: Io>(&mut self, now: Instant, local: &[u64], io: &mut I) {
        let Some(p) = self.peer.as_ref() else { return };
        let (bits, sender) = (p.bits, p.sender);
        if self.pending.is_some() || local.len() != p.hashes.len() {
            return;
        }
        self.stats.rounds_compared += 1;
        let mut differing = Vec::new();
        for (i, ((theirs, seen), mine)) in p.hashes.iter().zip(&p.received).zip(local).enumerate() {
            if *seen && theirs != mine {
                self.stats.buckets_mismatched += 1;
                if differing.len() < self.config.max_buckets_per_round
                    && !push(&mut differing, i as u32)
                {
                    self.stats.no_memory += 1;
                    return;
                }
            }
        }
        if !differing.is_empty() {
            self.request_details(now, sender, bits, differing, io);
        }
    }

    fn request_details<I: Io>(
        &mut self,
        now: Instant,
        peer: [u8; 4],
        bits: u8,
        buckets: Vec<u32>,
        io: &mut I,
    ) {
        if buckets.is_empty() {
            return;
        }
        self.request_seq = self.request_seq.wrapping_add(1);
        let request = self.request_seq;
        let mut frames = 0u32;
        let mut at = 0usize;
        while at < buckets.len() {
            let sent = self.with_writer(io, Kind::DetailReq, request, bits, 0, 0, |w| {
                let mut n = 0;
                for b in buckets.iter().skip(at) {
                    if !w.push_bucket(*b) {
                        break;
                    }
                    n += 1;
                }
                n
            });
            if sent == 0 {
                return;
            }
            self.stats.detail_requests_sent += 1;
            frames += 1;
            at += sent;
        }
        self.pending = Some(Pending {
            peer,
            request,
            bits,
            buckets,
            replies_expected: frames,
            replies_done: 0,
            theirs: Vec::new(),
            sent_at: now,
        });
    }

    fn on_detail_request<I: Io>(&mut self, now: Instant, msg: &Message<'_>, io: &mut I) {
        let mut wanted = Vec::new();
        for b in msg.requested_buckets() {
            if !push(&mut wanted, b) {
                self.stats.no_memory += 1;
                return;
            }
        }
        wanted.sort_unstable();
        let bits = msg.bits;
        if self.config.walk_slice != 0 {
            if self.reply_walk.is_some() {
                // One answer at a time; the peer's round times out and the
                // next digest asks again.
                self.stats.ignored += 1;
                return;
            }
            self.reply_walk = Some(EntriesWalk {
                goal: EntriesGoal::Reply { round: msg.round },
                creator: self.hostid,
                bits,
                buckets: wanted,
                cursor: TableCursor::START,
                entries: Vec::new(),
                failed: false,
                resume_at: now,
            });
            return;
        }
        io.flush();
        let Some(entries) = self.entries_in(self.hostid, bits, &wanted, io) else {
            self.stats.no_memory += 1;
            return;
        };
        self.send_details(msg.round, bits, &entries, io);
    }

    /// Sends `entries` as DETAIL frames answering round `round`.
    fn send_details<I: Io>(
        &mut self,
        round: u32,
        bits: u8,
        entries: &[(StateId, u64)],
        io: &mut I,
    ) {
        let mut at = 0usize;
        loop {
            let sent = self.with_writer(io, Kind::Detail, round, bits, 0, 0, |w| {
                let mut n = 0;
                for (id, fp) in entries.iter().skip(at) {
                    if !w.push_entry(id, *fp) {
                        break;
                    }
                    n += 1;
                }
                if at + n == entries.len() {
                    w.set_flags(FLAG_LAST);
                }
                n
            });
            self.stats.detail_entries_sent += sent as u64;
            at += sent;
            if at >= entries.len() || sent == 0 {
                break;
            }
        }
    }

    fn on_detail<I: Io>(&mut self, now: Instant, msg: &Message<'_>, io: &mut I) {
        let Some(p) = self.pending.as_mut() else {
            self.stats.ignored += 1;
            return;
        };
        if p.peer != msg.sender || p.request != msg.round || p.bits != msg.bits {
            self.stats.ignored += 1;
            return;
        }
        for e in msg.detail_entries() {
            if p.theirs.len() >= self.config.max_detail_entries || !push(&mut p.theirs, e) {
                self.stats.no_memory += 1;
                self.pending = None;
                return;
            }
        }
        if msg.flags & FLAG_LAST != 0 {
            p.replies_done += 1;
        }
        if p.replies_done >= p.replies_expected {
            if let Some(done) = self.pending.take() {
                if self.config.walk_slice == 0 {
                    self.reconcile(now, done, io);
                } else {
                    // The timer walks our copies; no other round starts
                    // meanwhile (compare_digest checks reconcile_walk).
                    self.reconcile_walk = Some(EntriesWalk {
                        goal: EntriesGoal::Reconcile {
                            peer: done.peer,
                            theirs: done.theirs,
                        },
                        creator: done.peer,
                        bits: done.bits,
                        buckets: done.buckets,
                        cursor: TableCursor::START,
                        entries: Vec::new(),
                        failed: false,
                        resume_at: now,
                    });
                }
            }
        }
    }

    /// Visits the next `walk_slice` states for a DETAIL walk and, when the
    /// table is exhausted, sends the answer or reconciles.
    fn advance_entries<I: Io>(&mut self, mut w: EntriesWalk, now: Instant, io: &mut I) {
        let budget = self.config.walk_slice.max(1);
        let limit = self.config.max_detail_entries;
        let mut walked = 0u64;
        let (creator, bits) = (w.creator, w.bits);
        let (buckets, entries, failed) = (&w.buckets, &mut w.entries, &mut w.failed);
        let more = io.walk_slice(&mut w.cursor, budget, &mut |v| {
            walked += 1;
            if v.id.creatorid == creator
                && buckets.binary_search(&bucket_of(v.id, bits)).is_ok()
                && (entries.len() >= limit || !push(entries, (*v.id, fingerprint(&v))))
            {
                *failed = true;
            }
        });
        self.stats.states_walked += walked;
        self.stats.walk_slices += 1;
        if w.failed {
            self.stats.no_memory += 1;
            return;
        }
        if more {
            w.resume_at = now + self.config.walk_pause;
            match w.goal {
                EntriesGoal::Reply { .. } => self.reply_walk = Some(w),
                EntriesGoal::Reconcile { .. } => self.reconcile_walk = Some(w),
            }
            return;
        }
        w.entries.sort_unstable();
        match w.goal {
            EntriesGoal::Reply { round } => {
                // Changes folded into the entries leave ahead of them.
                io.flush();
                self.send_details(round, bits, &w.entries, io);
            }
            EntriesGoal::Reconcile { peer, theirs } => {
                self.compare_entries(now, peer, theirs, &w.entries, io);
            }
        }
    }

    /// Compares the peer's entries with ours for the same buckets, confirms
    /// differences seen before, and acts on the confirmed ones.
    fn reconcile<I: Io>(&mut self, now: Instant, done: Pending, io: &mut I) {
        let Pending {
            peer,
            bits,
            buckets,
            theirs,
            ..
        } = done;
        let Some(mine) = self.entries_in(peer, bits, &buckets, io) else {
            self.stats.no_memory += 1;
            return;
        };
        self.compare_entries(now, peer, theirs, &mine, io);
    }

    /// The comparison half of [`Session::reconcile`]; `mine` is sorted.
    fn compare_entries<I: Io>(
        &mut self,
        now: Instant,
        peer: [u8; 4],
        mut theirs: Vec<(StateId, u64)>,
        mine: &[(StateId, u64)],
        io: &mut I,
    ) {
        theirs.sort_unstable();
        let mut found = Vec::new();
        let (mut a, mut b) = (theirs.iter().peekable(), mine.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(t), None) => Some((t.0, Difference::Missing, 0, true, false)),
                (None, Some(m)) => Some((m.0, Difference::Extra, m.1, false, true)),
                (Some(t), Some(m)) if t.0 < m.0 => Some((t.0, Difference::Missing, 0, true, false)),
                (Some(t), Some(m)) if m.0 < t.0 => Some((m.0, Difference::Extra, m.1, false, true)),
                (Some(t), Some(m)) if t.1 != m.1 => {
                    Some((m.0, Difference::Differs, m.1, true, true))
                }
                (Some(_), Some(_)) => {
                    a.next();
                    b.next();
                    None
                }
            };
            if let Some((id, kind, local_fp, step_a, step_b)) = next {
                if step_a {
                    a.next();
                }
                if step_b {
                    b.next();
                }
                if !push(&mut found, Candidate { id, kind, local_fp }) {
                    self.stats.no_memory += 1;
                    return;
                }
            }
        }
        let confirmable = !self.config.confirm
            || self.candidates_peer == peer
                && self.candidates_at
                    + Duration::from_nanos(self.config.confirm_after.as_nanos() / 2)
                    <= now;
        let mut unconfirmed = Vec::new();
        for c in found {
            if !self.config.confirm || (confirmable && self.candidates.binary_search(&c).is_ok()) {
                match c.kind {
                    Difference::Missing | Difference::Differs => {
                        io.request_update(&c.id);
                        self.stats.updates_requested += 1;
                    }
                    Difference::Extra => {
                        io.delete_state(&c.id);
                        self.stats.states_deleted += 1;
                    }
                }
            } else if !push(&mut unconfirmed, c) {
                self.stats.no_memory += 1;
                return;
            }
        }
        self.stats.candidates += unconfirmed.len() as u64;
        unconfirmed.sort_unstable();
        self.candidates = unconfirmed;
        self.candidates_peer = peer;
        self.candidates_at = now;
        self.confirm_at = if self.candidates.is_empty() {
            None
        } else {
            Some(now + self.config.confirm_after)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::antientropy::wire::{extension_region, FrameWriter};
    use crate::wire::Peer;
    use proptest::prelude::*;

    /// A table of `n` states created by host 1, and everything the session asks for.
    struct Fake {
        states: Vec<(StateId, Peer)>,
        sent: Vec<Vec<u8>>,
        requested: Vec<StateId>,
        deleted: Vec<StateId>,
    }

    impl Fake {
        fn new(n: u64) -> Fake {
            let states = (1..=n)
                .map(|i| {
                    let id = StateId {
                        id: i.to_be_bytes(),
                        creatorid: [0, 0, 0, 1],
                    };
                    let peer = Peer {
                        seqlo: i as u32,
                        ..Peer::default()
                    };
                    (id, peer)
                })
                .collect();
            Fake {
                states,
                sent: Vec::new(),
                requested: Vec::new(),
                deleted: Vec::new(),
            }
        }
    }

    impl Io for Fake {
        fn walk_states(&mut self, visit: &mut dyn FnMut(StateView<'_>)) {
            for (id, p) in &self.states {
                visit(StateView {
                    id,
                    proto: 6,
                    timeout: 2,
                    src: p,
                    dst: p,
                });
            }
        }
        fn send_frame(&mut self, buf: &mut [u8], len: usize) {
            self.sent.push(buf[..len].to_vec());
        }
        fn flush(&mut self) {}
        fn request_update(&mut self, id: &StateId) {
            self.requested.push(*id);
        }
        fn delete_state(&mut self, id: &StateId) {
            self.deleted.push(*id);
        }
        fn in_sync(&self) -> bool {
            true
        }
        fn pfcksum(&self) -> [u8; 16] {
            [0; 16]
        }
        fn walk_slice(
            &mut self,
            cursor: &mut TableCursor,
            budget: usize,
            visit: &mut dyn FnMut(StateView<'_>),
        ) -> bool {
            let from = cursor.position as usize;
            for (id, p) in self.states.iter().skip(from).take(budget) {
                visit(StateView {
                    id,
                    proto: 6,
                    timeout: 2,
                    src: p,
                    dst: p,
                });
            }
            cursor.position = (from + budget).min(self.states.len()) as u64;
            from + budget < self.states.len()
        }
    }

    /// Drives both sessions' timers and shuttles frames until both are
    /// quiet. Returns the time and how many states were walked while a
    /// received message was handled (the kernel does that in the network
    /// thread, under pf's rules lock).
    fn run_sliced(
        owner: &mut Session,
        a: &mut Fake,
        copy: &mut Session,
        b: &mut Fake,
    ) -> (Instant, u64) {
        let mut t = Instant::from_secs(1);
        let mut on_receipt = 0;
        for _ in 0..2000 {
            for (s, io) in [(&mut *owner, &mut *a), (&mut *copy, &mut *b)] {
                if s.poll_timeout().is_some_and(|d| d <= t) {
                    s.handle_timeout(t, io);
                }
            }
            for f in core::mem::take(&mut a.sent) {
                let before = copy.stats().states_walked;
                copy.on_extension(t, extension_region(&f), b);
                on_receipt += copy.stats().states_walked - before;
            }
            for f in core::mem::take(&mut b.sent) {
                let before = owner.stats().states_walked;
                owner.on_extension(t, extension_region(&f), a);
                on_receipt += owner.stats().states_walked - before;
            }
            if !b.requested.is_empty() && copy.walk.is_none() && owner.walk.is_none() {
                break;
            }
            t = t + Duration::from_millis(1);
        }
        (t, on_receipt)
    }

    #[test]
    fn a_sliced_walk_visits_a_bounded_number_of_states_per_call_and_repairs_the_same() {
        let config = Config {
            walk_slice: 64,
            ..Config::new()
        };
        let mut owner = Session::new(config, [0, 0, 0, 1]).unwrap();
        let owner_buf = owner.walk_buf.as_ptr();
        let mut copy = Session::new(config, [0, 0, 0, 2]).unwrap();
        let mut a = Fake::new(1000);
        let mut b = Fake::new(1000);
        b.states.retain(|(id, _)| id.id != 77u64.to_be_bytes());
        owner.start(Instant::from_secs(1), Duration::ZERO);
        owner.handle_timeout(Instant::from_secs(1), &mut a);
        // One slice so far: nothing sent, the walk waits for the next tick.
        assert!(a.sent.is_empty());
        assert_eq!(owner.stats().states_walked, 64);
        let cap = 1usize << config.max_bits;
        assert_eq!(
            owner.poll_timeout(),
            Some(Instant::from_secs(1) + config.walk_pause)
        );
        let (_, on_receipt) = run_sliced(&mut owner, &mut a, &mut copy, &mut b);
        // Issue 11 item 14: DETAIL_REQ and DETAIL are answered by walks on
        // the timer too, never while the received frame is handled.
        assert_eq!(on_receipt, 0, "states walked on receipt");
        let requested: Vec<u64> = b
            .requested
            .iter()
            .map(|id| u64::from_be_bytes(id.id))
            .collect();
        assert_eq!(requested, vec![77]);
        // Count, hash and DETAIL passes on the owner (1000 states each, 64
        // per slice), comparison and reconcile passes on the copy: each
        // slice is bounded.
        assert_eq!(owner.stats().walk_slices, 3 * 16);
        assert_eq!(copy.stats().walk_slices, 2 * 16);
        assert_eq!(owner.stats().digests_sent, 1);
        // The hash pass used the buffer reserved at creation, which is back
        // for the next round (no allocation per round).
        assert_eq!(owner.walk_buf.as_ptr(), owner_buf);
        assert_eq!(owner.walk_buf.capacity(), cap);
    }

    #[test]
    fn owner_and_copy_agree_then_one_lost_and_one_extra_state_are_repaired() {
        let owner_id = [0, 0, 0, 1];
        let mut owner = Session::new(Config::new(), owner_id).unwrap();
        let mut copy = Session::new(Config::new(), [0, 0, 0, 2]).unwrap();
        let mut a = Fake::new(500);
        let mut b = Fake::new(500);
        b.states.retain(|(id, _)| id.id != 7u64.to_be_bytes());
        let extra = StateId {
            id: 9999u64.to_be_bytes(),
            creatorid: owner_id,
        };
        b.states.push((extra, Peer::default()));
        if let Some(s) = b
            .states
            .iter_mut()
            .find(|(id, _)| id.id == 8u64.to_be_bytes())
        {
            s.1.seqhi = 1;
        }
        let t = Instant::from_secs(1);
        owner.start(t, Duration::ZERO);
        owner.handle_timeout(t, &mut a);
        // Shuttle frames until both sides are quiet.
        for _ in 0..10 {
            for f in core::mem::take(&mut a.sent) {
                copy.on_extension(t, extension_region(&f), &mut b);
            }
            for f in core::mem::take(&mut b.sent) {
                owner.on_extension(t, extension_region(&f), &mut a);
            }
        }
        let mut requested: Vec<u64> = b
            .requested
            .iter()
            .map(|id| u64::from_be_bytes(id.id))
            .collect();
        requested.sort_unstable();
        assert_eq!(requested, vec![7, 8]);
        assert_eq!(b.deleted, vec![extra]);
        assert!(a.requested.is_empty() && a.deleted.is_empty());
    }

    #[test]
    fn oversized_digest_is_ignored_before_allocating() {
        let mut s = Session::new(Config::new(), [0, 0, 0, 2]).unwrap();
        let mut io = Fake::new(1);
        let mut buf = [0u8; 100];
        let w = FrameWriter::new(
            &mut buf,
            100,
            &[0; 16],
            Kind::Digest,
            [0, 0, 0, 1],
            1,
            24,
            1,
            0,
        )
        .unwrap();
        let n = w.finish();
        assert!(s.on_extension(Instant::ZERO, extension_region(&buf[..n]), &mut io));
        assert_eq!(s.stats().ignored, 1);
        assert!(s.peer.is_none());
    }

    proptest! {
        /// Arbitrary bytes, and well-formed messages with arbitrary fields, never
        /// panic and never act without a matching request.
        #[test]
        fn hostile_messages_are_harmless(
            raw in proptest::collection::vec(any::<u8>(), 0..400),
            kind in 1u8..=3,
            bits in 0u8..=30,
            round in any::<u32>(),
            flags in any::<u8>(),
            first in any::<u32>(),
            items in proptest::collection::vec(any::<u64>(), 0..40),
        ) {
            let mut s = Session::new(Config::new(), [0, 0, 0, 2]).unwrap();
            let mut io = Fake::new(50);
            s.on_extension(Instant::ZERO, &raw, &mut io);
            let kind = match kind { 1 => Kind::Digest, 2 => Kind::DetailReq, _ => Kind::Detail };
            let mut buf = vec![0u8; 1500];
            if let Some(mut w) = FrameWriter::new(&mut buf, 1500, &[0; 16], kind, [0, 0, 0, 1], round, bits, flags, first) {
                for (i, v) in items.iter().enumerate() {
                    let id = StateId { id: v.to_be_bytes(), creatorid: [0, 0, 0, 1] };
                    let _ = match kind {
                        Kind::Digest => w.push_hash(*v),
                        Kind::DetailReq => w.push_bucket(*v as u32),
                        Kind::Detail => w.push_entry(&id, i as u64),
                    };
                }
                let n = w.finish();
                s.on_extension(Instant::ZERO, extension_region(&buf[..n]), &mut io);
                s.handle_timeout(Instant::from_secs(100), &mut io);
            }
            prop_assert!(io.requested.is_empty() && io.deleted.is_empty());
        }
    }
}
