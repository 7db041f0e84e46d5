//! The receive path: the single funnel every received frame passes through
//! (IP-level checks, extension `open`, frame walk), and one handler per
//! message kind. Every refusal is counted in the `pfsyncstats` counter stock
//! uses for it (pfsync-wire.md section 1.1) and changes nothing.
//!
//! Full states are walked as checked views into the frame: an UPD for a state
//! we have needs only its identity, peers and timeout, so the whole record is
//! decoded only to import it (every INS, an UPD for an unknown state).

use crate::engine::deferral::Fate;
use crate::engine::queues::Queue;
use crate::engine::{
    Engine, FrameExtension, Host, ImportError, ImportRequest, ImportSource, IpFamily, LogEvent,
    MergeOutcome, PeerUpdate, ReqEvent, ReqState, RxMeta, SendEvent, SyncSlot, PFSTATE_ACK,
    PFSTATE_NOSYNC,
};
use crate::time::Instant;
use crate::wire::{
    Action, BusStatus, Error, FrameReader, MessageRef, MsgVersion, OpenBsdState, StateId,
    StateRecord, StateView, ViewEvent,
};

impl<X: FrameExtension> Engine<X> {
    /// A pfsync frame arrived (`bytes` starts at the pfsync header; the IP
    /// header is described by `meta`).
    pub fn on_frame_received<H: Host>(
        &mut self,
        now: Instant,
        meta: RxMeta,
        bytes: &[u8],
        host: &mut H,
    ) {
        match meta.family {
            IpFamily::V4 => self.stats.ipackets += 1,
            IpFamily::V6 => self.stats.ipackets6 += 1,
        }
        if !self.config.active() {
            return;
        }
        if !meta.on_syncdev {
            self.stats.badif += 1;
            return;
        }
        if meta.ttl != 255 {
            self.stats.badttl += 1;
            return;
        }
        let usable = match self.ext.open(now, bytes) {
            Ok(n) => n,
            Err(rejected) => {
                self.stats.badauth += 1;
                if let Some(suppressed) = rejected.log {
                    host.log(&LogEvent::FrameRejected {
                        reason: rejected.reason,
                        suppressed,
                    });
                }
                return;
            }
        };
        let Some(frame) = bytes.get(..usable) else {
            self.stats.badlen += 1;
            return;
        };
        let reader = match FrameReader::with_dialect(frame, self.config.receive_dialect) {
            Ok(r) => r.views(),
            Err(e) => {
                self.count_error(e);
                return;
            }
        };
        // OpenBSD never sends its ruleset checksum (the field stays zero) and
        // never imports with PFSYNC_SI_CKSUM.
        let openbsd = self.config.speaks_openbsd();
        let checksum_match = !openbsd && reader.header().pfcksum == self.config.ruleset_checksum;
        for event in reader {
            match event {
                Ok(ViewEvent::Section { action, count }) => {
                    if let Some(n) = self.stats.iacts.get_mut(usize::from(action)) {
                        *n += u64::from(count);
                    }
                }
                Ok(ViewEvent::Message(m)) => self.on_message(now, m, checksum_match, host),
                Ok(ViewEvent::Rejected { reason, .. }) if openbsd && reason.is_import_check() => {
                    // pf_state_import refuses it: OpenBSD counts `badstate`
                    // for an UPD (and nothing for an INS; counted here too).
                    self.stats.badstate += 1;
                }
                Ok(ViewEvent::Rejected { action, reason, .. }) => {
                    if reason.is_import_check() {
                        match Action::from_u8(action) {
                            Some(Action::Ins1301 | Action::Ins1400 | Action::Ins1500) => {
                                self.stats.badact += 1
                            }
                            _ => self.stats.badstate += 1,
                        }
                    } else {
                        self.count_error(Error::from(reason));
                    }
                }
                // OpenBSD dialect only; the FreeBSD dialects never skip.
                Ok(ViewEvent::Skipped { .. }) => {}
                Err(e) => self.count_error(e),
            }
        }
        self.bulk_request_event(now, ReqEvent::PeerFrame, host);
        // Answers (INS_ACK, UPD_REQ, full UPDs, stale corrections) leave now.
        self.send_due(now, host);
    }

    fn count_error(&mut self, e: Error) {
        let s = &mut self.stats;
        match e {
            Error::HdrOps => s.hdrops += 1,
            Error::BadVer => s.badver += 1,
            Error::BadLen => s.badlen += 1,
            Error::BadAct => s.badact += 1,
            Error::BadVal => s.badval += 1,
            Error::BadAuth => s.badauth += 1,
        }
    }

    fn on_message<H: Host>(
        &mut self,
        now: Instant,
        m: MessageRef<'_>,
        checksum_match: bool,
        host: &mut H,
    ) {
        match m {
            MessageRef::Clr(c) => self.on_clr(c.creatorid, &c.ifname, host),
            MessageRef::Ins(view) => {
                self.count_unknown_flags(&view);
                self.on_ins(now, &view.to_record(), view.version(), checksum_match, host)
            }
            MessageRef::Upd(view) => {
                self.count_unknown_flags(&view);
                self.on_upd(now, &view, checksum_match, host)
            }
            MessageRef::InsAck(a) => self.on_ins_ack(now, &a.state, host),
            MessageRef::UpdC(u) => {
                let update = PeerUpdate {
                    src: u.src_wire(),
                    dst: u.dst_wire(),
                    timeout: u.timeout(),
                };
                let id = u.state_id();
                match self.merge(now, &id, &update, host) {
                    Some(outcome) => self.after_merge(now, &id, outcome, host),
                    None => self.request_update(now, id),
                }
            }
            MessageRef::UpdReq(r) => {
                if r.is_bulk_request() {
                    self.bulk_send_event(now, SendEvent::Request, host);
                } else {
                    self.on_upd_req(now, &r.state, host);
                }
            }
            MessageRef::DelC(d) => self.on_del_c(now, &d.state, host),
            MessageRef::Bus(b) => match b.status {
                BusStatus::Start => self.bulk_request_event(now, ReqEvent::BusStart, host),
                // OpenBSD sends `endtime` 0 and does not look at it, but
                // takes a BUS END only after a BUS START (in its SENT state
                // an END is ignored: it may close someone else's bulk).
                BusStatus::End if self.config.speaks_openbsd() => {
                    let event = if self.bulk_req.state() == ReqState::Requested {
                        self.extra.bulk_end_stale += 1;
                        ReqEvent::BusEndStale
                    } else {
                        ReqEvent::BusEnd
                    };
                    self.bulk_request_event(now, event, host)
                }
                BusStatus::End => {
                    if self.bulk_req.end_is_current(now, b.endtime) {
                        self.bulk_request_event(now, ReqEvent::BusEnd, host);
                    } else {
                        self.extra.bulk_end_stale += 1;
                        self.bulk_request_event(now, ReqEvent::BusEndStale, host);
                    }
                }
                // Stock ignores unknown statuses.
                BusStatus::Unknown(_) => {}
            },
            // Stock without IPSEC steps over TDB records; pf-only hosts have no SAs.
            MessageRef::Tdb(_) => {}
            // Only the OpenBSD dialect yields these.
            MessageRef::OpenBsdIns(rec) => match OpenBsdState::decode(rec, true) {
                Ok(state) => self.on_openbsd_ins(now, &state, host),
                Err(_) => self.stats.badval += 1,
            },
            MessageRef::OpenBsdUpd(rec) => self.on_openbsd_upd(now, rec, host),
            MessageRef::OpenBsdDel(id) => self.on_del_c(now, &id, host),
        }
    }

    fn on_clr<H: Host>(&mut self, creatorid: [u8; 4], ifname: &crate::wire::IfName, host: &mut H) {
        let filter = if ifname.is_empty() {
            None
        } else {
            Some(ifname)
        };
        host.clear_states(creatorid, filter);
        // Cleared states are gone without a delete hook: drop their packets.
        for bi in 0..self.buckets.len() {
            let mut i = 0;
            while let Some(d) = self
                .buckets
                .get(bi)
                .and_then(|b| b.deferrals.get(i))
                .copied()
            {
                if host.lookup(&d.id).is_some() {
                    i += 1;
                    continue;
                }
                if let Some(b) = self.buckets.get_mut(bi) {
                    b.deferrals.remove(i);
                    b.defer_at = crate::engine::deferral::next_deadline(&b.deferrals);
                }
                self.finish_deferral(d, Fate::Drop, host);
            }
        }
    }

    /// Imports a state a peer sent and acknowledges it when the sender asked:
    /// stock FreeBSD and OpenBSD both ack every network import carrying
    /// `PFSTATE_ACK`, whether it came as INS or as UPD.
    fn import_from_peer<H: Host>(
        &mut self,
        now: Instant,
        record: &StateRecord,
        request: &ImportRequest,
        host: &mut H,
    ) -> Result<(), ImportError> {
        host.import_state(record, request)?;
        if record.state_flags.contains(PFSTATE_ACK) {
            self.queue_ins_ack(now, record.id, host);
        }
        Ok(())
    }

    /// Unknown flag bits are kept (the record reaches pf as sent), only counted.
    fn count_unknown_flags(&mut self, view: &StateView<'_>) {
        if view.state_flags().unknown() != 0 || view.sync_flags().unknown() != 0 {
            self.extra.unknown_flag_bits += 1;
        }
    }

    fn on_ins<H: Host>(
        &mut self,
        now: Instant,
        s: &StateRecord,
        format: MsgVersion,
        checksum_match: bool,
        host: &mut H,
    ) {
        let request = ImportRequest {
            source: ImportSource::Insert,
            checksum_match,
            slot: SyncSlot::touched_at(now.as_secs()),
            format: Some(format),
        };
        match self.import_from_peer(now, s, &request, host) {
            Ok(()) => {}
            // Stock: pf_state_insert refuses the existing state, so the
            // import fails and pfsync_in_ins counts badact; nothing is merged
            // or acknowledged.
            Err(ImportError::Exists) => {
                self.extra.ins_existing += 1;
                self.stats.badact += 1;
            }
            Err(ImportError::Refused) => self.stats.badact += 1,
        }
    }

    /// A full state from the peer: merged into ours if we have it (from the
    /// view's identity, peers and timeout alone), else decoded and imported.
    fn on_upd<H: Host>(
        &mut self,
        now: Instant,
        view: &StateView<'_>,
        checksum_match: bool,
        host: &mut H,
    ) {
        let id = view.state_id();
        let update = PeerUpdate {
            src: view.src_wire(),
            dst: view.dst_wire(),
            timeout: view.timeout(),
        };
        if let Some(outcome) = self.merge(now, &id, &update, host) {
            self.after_merge(now, &id, outcome, host);
            return;
        }
        let record = view.to_record();
        let request = ImportRequest {
            source: ImportSource::Update,
            checksum_match,
            slot: SyncSlot::touched_at(now.as_secs()),
            format: Some(view.version()),
        };
        if self.import_from_peer(now, &record, &request, host).is_err() {
            self.stats.badstate += 1;
        }
    }

    /// OpenBSD's INS (`pfsync_in_ins`): imported; an existing state is left
    /// alone and, as in OpenBSD, not counted in `pfsyncstats`.
    fn on_openbsd_ins<H: Host>(&mut self, now: Instant, state: &OpenBsdState, host: &mut H) {
        if state.state_flags.unknown() != 0 || state.sync_flags.unknown() != 0 {
            self.extra.unknown_flag_bits += 1;
        }
        let record = state.to_record();
        let request = ImportRequest {
            source: ImportSource::Insert,
            checksum_match: false,
            slot: SyncSlot::touched_at(now.as_secs()),
            format: None,
        };
        match self.import_from_peer(now, &record, &request, host) {
            Ok(()) => {}
            Err(ImportError::Exists) => self.extra.ins_existing += 1,
            Err(ImportError::Refused) => self.stats.badstate += 1,
        }
    }

    /// OpenBSD's full UPD (`pfsync_in_upd`), a record the reader checked:
    /// merged into a known state from its identity, peers and timeout alone,
    /// else decoded and imported (`badstate` if that fails).
    fn on_openbsd_upd<H: Host>(&mut self, now: Instant, rec: &[u8], host: &mut H) {
        let Some((id, src, dst, timeout)) = OpenBsdState::update_fields(rec) else {
            self.stats.badlen += 1;
            return;
        };
        let update = PeerUpdate { src, dst, timeout };
        if let Some(outcome) = self.merge(now, &id, &update, host) {
            self.after_merge(now, &id, outcome, host);
            return;
        }
        let Ok(state) = OpenBsdState::decode(rec, false) else {
            self.stats.badval += 1;
            return;
        };
        let record = state.to_record();
        let request = ImportRequest {
            source: ImportSource::Update,
            checksum_match: false,
            slot: SyncSlot::touched_at(now.as_secs()),
            format: None,
        };
        if self.import_from_peer(now, &record, &request, host).is_err() {
            self.stats.badstate += 1;
        }
    }

    fn merge<H: Host>(
        &mut self,
        now: Instant,
        id: &StateId,
        update: &PeerUpdate,
        host: &mut H,
    ) -> Option<MergeOutcome> {
        host.merge_update(
            id,
            update,
            crate::engine::host::encode_touched(now.as_secs()),
        )
    }

    /// After a peer's update was merged: a deferred packet is dropped (the
    /// peer handles the flow now); if our copy was newer on any side, count it
    /// and send ours back at once (stock: `stale`, `pfsync_update_state`,
    /// `pfsync_push_all`).
    fn after_merge<H: Host>(
        &mut self,
        now: Instant,
        id: &StateId,
        outcome: MergeOutcome,
        host: &mut H,
    ) {
        let mut slot = outcome.slot;
        let mut dirty = false;
        if slot.deferred != 0 {
            // OpenBSD takes the peer's update as its answer and sends the
            // packet on (`pfsync_deferred`); FreeBSD drops it.
            let fate = if self.config.speaks_openbsd() {
                Fate::ReleaseAck
            } else {
                Fate::Drop
            };
            self.undefer(now, id, &mut slot, fate, host);
            dirty = true;
        }
        if outcome.stale_sides > 0 {
            self.stats.stale += 1;
            if !outcome.state_flags.contains(PFSTATE_NOSYNC) {
                let before = slot.queue_index;
                self.queue_local_update(now, id, &mut slot);
                dirty |= slot.queue_index != before;
            }
            self.push_all_soon(now);
        }
        if dirty {
            host.store_slot(id, slot);
        }
    }

    /// Queues an UPD_C for a state unless a record for it is already queued.
    fn queue_local_update(&mut self, now: Instant, id: &StateId, slot: &mut SyncSlot) {
        let bi = self.bucket_of(id);
        let queued = self
            .buckets
            .get(bi)
            .and_then(|b| b.queued(slot.queue_index, id));
        match queued {
            Some(Queue::InsAck) => {
                if let Some(b) = self.buckets.get_mut(bi) {
                    b.remove(slot.queue_index);
                }
                slot.queue_index = self
                    .enqueue(now, bi, Queue::UpdC, *id)
                    .unwrap_or(SyncSlot::NOT_QUEUED);
            }
            Some(_) => {}
            None => {
                slot.queue_index = self
                    .enqueue(now, bi, Queue::UpdC, *id)
                    .unwrap_or(SyncSlot::NOT_QUEUED);
            }
        }
    }

    fn queue_ins_ack<H: Host>(&mut self, now: Instant, id: StateId, host: &mut H) {
        let Some(s) = host.lookup(&id) else {
            return;
        };
        let mut slot = s.slot;
        let bi = self.bucket_of(&id);
        let queued = self
            .buckets
            .get(bi)
            .and_then(|b| b.queued(slot.queue_index, &id));
        if queued.is_none() {
            slot.queue_index = self
                .enqueue(now, bi, Queue::InsAck, id)
                .unwrap_or(SyncSlot::NOT_QUEUED);
            host.store_slot(&id, slot);
        }
        self.push_soon(now, bi, crate::engine::PushReason::Urgent);
    }

    /// The peer asks for one state in full (`pfsync_update_state_req`).
    fn on_upd_req<H: Host>(&mut self, now: Instant, id: &StateId, host: &mut H) {
        let Some(s) = host.lookup(id) else {
            self.stats.badstate += 1;
            return;
        };
        let openbsd = self.config.speaks_openbsd();
        if openbsd
            && (s.timeout >= self.config.pftm_max() || s.state_flags.contains(PFSTATE_NOSYNC))
        {
            // OpenBSD treats a state being unlinked or not synced as unknown.
            self.stats.badstate += 1;
            return;
        }
        if s.state_flags.contains(PFSTATE_NOSYNC) {
            return;
        }
        let mut slot = s.slot;
        let bi = self.bucket_of(id);
        let queued = self
            .buckets
            .get(bi)
            .and_then(|b| b.queued(slot.queue_index, id));
        let replace = match queued {
            // Already going out in full.
            Some(q) if q.is_full_state() => false,
            // Being deleted: the DEL_C answers.
            Some(Queue::DelC) => false,
            Some(Queue::InsAck | Queue::UpdC | Queue::UpdReq) => {
                if let Some(b) = self.buckets.get_mut(bi) {
                    b.remove(slot.queue_index);
                }
                true
            }
            Some(_) | None => true,
        };
        if replace {
            slot.queue_index = self
                .enqueue(now, bi, Queue::upd_for(openbsd, self.config.version), *id)
                .unwrap_or(SyncSlot::NOT_QUEUED);
            host.store_slot(id, slot);
        }
        self.push_soon(now, bi, crate::engine::PushReason::Urgent);
    }

    fn on_del_c<H: Host>(&mut self, now: Instant, id: &StateId, host: &mut H) {
        let Some(s) = host.lookup(id) else {
            self.stats.badstate += 1;
            return;
        };
        let mut slot = s.slot;
        if slot.deferred != 0 {
            self.undefer(now, id, &mut slot, Fate::Drop, host);
        }
        let bi = self.bucket_of(id);
        if let Some(b) = self.buckets.get_mut(bi) {
            if b.queued(slot.queue_index, id).is_some() {
                b.remove(slot.queue_index);
            }
        }
        host.delete_state(id);
    }

    fn on_ins_ack<H: Host>(&mut self, now: Instant, id: &StateId, host: &mut H) {
        let bi = self.bucket_of(id);
        let Some(d) = self
            .buckets
            .get_mut(bi)
            .and_then(|b| crate::engine::deferral::take(&mut b.deferrals, id))
        else {
            return;
        };
        if let Some(b) = self.buckets.get_mut(bi) {
            b.defer_at = crate::engine::deferral::next_deadline(&b.deferrals);
        }
        let _ = now;
        super::clear_deferred_flag(host, id);
        self.finish_deferral(d, Fate::ReleaseAck, host);
    }
}
