//! The send path: turning bucket queues into frames, and the single transmit
//! funnel every outgoing frame passes through (extension seal, counters,
//! `Host::send_frame`).

use crate::engine::frame_out::FrameWriter;
use crate::engine::queues::{Queue, BUS_LEN, CLR_LEN};
use crate::engine::{Engine, FrameExtension, Host, IpFamily, Plus, PushReason, SendError};
use crate::time::Instant;
use crate::wire::action::ACTION_COUNT;
use crate::wire::{Action, StateId};

impl<X: FrameExtension> Engine<X> {
    /// Sends every bucket whose deadline has come.
    pub(crate) fn send_due<H: Host>(&mut self, now: Instant, host: &mut H) {
        for bi in 0..self.buckets.len() {
            let due = self
                .buckets
                .get(bi)
                .and_then(|b| b.flush_at)
                .is_some_and(|t| t <= now);
            if due {
                self.send_bucket(now, bi, host);
            }
        }
    }

    /// Sends the bucket of `id` at once if a record made it outgrow a frame
    /// (stock sends a frame as soon as it fills). For hosts that call the
    /// state entry points outside pf's locks, one event after another (the
    /// kernel shim's inbox drain): without it a burst fills the bucket's
    /// arena before the next `handle_timeout` and records are lost. Only the
    /// whole frames leave; the rest keeps its flush deadline.
    pub fn send_if_full<H: Host>(&mut self, now: Instant, id: &StateId, host: &mut H) {
        let bi = self.bucket_of(id);
        if self.bucket_is_full(now, bi) {
            self.send_bucket(now, bi, host);
        }
    }

    /// [`Engine::send_if_full`] for every bucket (after a received frame,
    /// whose answers may have filled any of them).
    pub fn send_full<H: Host>(&mut self, now: Instant, host: &mut H) {
        for bi in 0..self.buckets.len() {
            if self.bucket_is_full(now, bi) {
                self.send_bucket(now, bi, host);
            }
        }
    }

    fn bucket_is_full(&self, now: Instant, bi: usize) -> bool {
        self.buckets.get(bi).is_some_and(|b| {
            b.push_reason == PushReason::Full && b.flush_at.is_some_and(|t| t <= now)
        })
    }

    /// Takes pf's current host id and ruleset checksum, which change
    /// without a reconfiguration (`pfctl -f`, `set hostid`): every frame
    /// built afterwards carries them, as stock reads them at send time.
    pub fn set_pf_identity(&mut self, hostid: [u8; 4], ruleset_checksum: [u8; 16]) {
        self.config.hostid = hostid;
        self.config.ruleset_checksum = ruleset_checksum;
    }

    /// Sends every bucket that holds anything, now.
    pub(crate) fn send_all<H: Host>(&mut self, now: Instant, host: &mut H, reason: PushReason) {
        for bi in 0..self.buckets.len() {
            let has = self.buckets.get(bi).is_some_and(|b| !b.is_empty())
                || self.plus.get(bi).is_some_and(|p| !p.is_empty());
            if has {
                if let Some(b) = self.buckets.get_mut(bi) {
                    b.push_reason = reason;
                }
                self.send_bucket(now, bi, host);
            }
        }
    }

    /// Empties bucket `bi` into as many frames as it takes (normally one).
    fn send_bucket<H: Host>(&mut self, now: Instant, bi: usize, host: &mut H) {
        let reason = match self.buckets.get_mut(bi) {
            Some(b) => {
                b.flush_at = None;
                core::mem::replace(&mut b.push_reason, PushReason::Timer)
            }
            None => return,
        };
        let mut pending_plus: [Option<Plus>; super::PLUS_LIMIT] = [None; super::PLUS_LIMIT];
        if let Some(p) = self.plus.get_mut(bi) {
            for (slot, rec) in pending_plus.iter_mut().zip(p.drain(..)) {
                *slot = Some(rec);
            }
        }
        let budget = self.frame_budget();
        let has_plus = pending_plus.iter().any(Option::is_some);
        let mut buf = core::mem::take(&mut self.frame);
        let openbsd = self.config.speaks_openbsd();
        let mut w = FrameWriter::with_dialect(&mut buf, budget, openbsd);
        let order: &[Queue] = if openbsd {
            &Queue::OPENBSD_ORDER
        } else {
            &Queue::FREEBSD_ORDER
        };
        'queues: for &queue in order {
            while let Some(id) = self.buckets.get(bi).and_then(|b| b.front(queue)) {
                let action = queue.action();
                let len = queue.record_len();
                if !w.fits(action, len) {
                    self.transmit_writer(now, &mut w, PushReason::Full, host);
                    // Sent because it overflowed: what is left is less than a
                    // frame, so it waits for its flush (stock queues the
                    // overflowing record into a fresh frame).
                    let rest_fits = self
                        .buckets
                        .get(bi)
                        .is_some_and(|b| b.frame_len() <= budget);
                    if reason == PushReason::Full && rest_fits && !has_plus {
                        if let Some(b) = self.buckets.get_mut(bi) {
                            b.flush_at = Some(now + super::FLUSH_INTERVAL);
                            b.push_reason = PushReason::Timer;
                        }
                        break 'queues;
                    }
                }
                if let Some(b) = self.buckets.get_mut(bi) {
                    b.pop_front(queue);
                }
                self.write_record(&mut w, queue, &id, host);
            }
        }
        for rec in pending_plus.iter().flatten() {
            let (action, len) = match rec {
                Plus::Clr { .. } => (Action::Clr, CLR_LEN),
                Plus::Bus { .. } => (Action::Bus, BUS_LEN),
            };
            if !w.fits(action, len) {
                self.transmit_writer(now, &mut w, PushReason::Full, host);
            }
            if let Some(out) = w.record(action, len) {
                let written = match *rec {
                    Plus::Clr { creatorid, ifname } => {
                        crate::wire::Clr { ifname, creatorid }.emit(out)
                    }
                    Plus::Bus { status, endtime } => crate::wire::Bus {
                        creatorid: self.config.hostid,
                        endtime,
                        status,
                    }
                    .emit(out),
                };
                if written.is_ok() {
                    w.commit(len);
                }
            }
        }
        if w.records() > 0 {
            self.transmit_writer(now, &mut w, reason, host);
        }

        self.frame = buf;
    }

    /// Writes one queued record; a state that vanished is skipped and counted.
    fn write_record<H: Host>(
        &mut self,
        w: &mut FrameWriter<'_>,
        queue: Queue,
        id: &StateId,
        host: &mut H,
    ) {
        let action = queue.action();
        let len = queue.record_len();
        let written = match queue.version() {
            Some(version) => match w.record(action, len) {
                Some(out) => host.export_state(id, version, out),
                None => false,
            },
            None => match queue {
                Queue::UpdC => match host.lookup(id) {
                    Some(s) => w.record(action, len).is_some_and(|out| {
                        let upd_c = crate::wire::UpdC {
                            id: id.id,
                            src: s.src,
                            dst: s.dst,
                            creatorid: id.creatorid,
                            expire: 0,
                            timeout: s.timeout,
                            state_flags: 0,
                        };
                        if self.config.speaks_openbsd() {
                            upd_c.emit_openbsd(out).is_ok()
                        } else {
                            upd_c.emit(out).is_ok()
                        }
                    }),
                    None => false,
                },
                Queue::InsOpenBsd | Queue::UpdOpenBsd => w
                    .record(action, len)
                    .is_some_and(|out| host.export_state_openbsd(id, out)),
                Queue::InsAck => w
                    .record(action, len)
                    .is_some_and(|out| crate::wire::InsAck { state: *id }.emit(out).is_ok()),
                Queue::DelC => w
                    .record(action, len)
                    .is_some_and(|out| crate::wire::DelC { state: *id }.emit(out).is_ok()),
                Queue::UpdReq => w
                    .record(action, len)
                    .is_some_and(|out| crate::wire::UpdReq { state: *id }.emit(out).is_ok()),
                Queue::Ins1301
                | Queue::Ins1400
                | Queue::Ins1500
                | Queue::Upd1301
                | Queue::Upd1400
                | Queue::Upd1500 => false,
            },
        };
        if written {
            w.commit(len);
        } else {
            self.extra.export_gone += 1;
        }
    }

    /// Finishes the writer's frame, sends it, and starts a new one.
    pub(crate) fn transmit_writer<H: Host>(
        &mut self,
        now: Instant,
        w: &mut FrameWriter<'_>,
        reason: PushReason,
        host: &mut H,
    ) {
        if w.records() == 0 {
            return;
        }
        let mut per_action = w.per_action;
        if w.has_eof() {
            if let Some(n) = per_action.get_mut(Action::Eof as usize) {
                *n += 1;
            }
        }
        let len = w.finish(&self.config.ruleset_checksum);
        match reason {
            PushReason::Timer => self.extra.push_timer += 1,
            PushReason::Urgent => self.extra.push_urgent += 1,
            PushReason::Full => self.extra.push_full += 1,
            PushReason::Bulk => {}
        }
        self.transmit(now, w.buffer_mut(), len, &per_action, host);
        w.reset();
    }

    /// Sends everything queued now (anti-entropy: changes must travel ahead
    /// of a digest).
    pub fn flush<H: Host>(&mut self, now: Instant, host: &mut H) {
        if self.config.active() {
            self.send_all(now, host, PushReason::Urgent);
        }
    }

    /// Sends a frame built outside the engine (an anti-entropy message:
    /// `buf[..len]` is a complete pfsync frame, `buf` has room for the
    /// extension trailer) through the same seal-and-count funnel.
    pub fn send_extension_frame<H: Host>(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        len: usize,
        host: &mut H,
    ) {
        if !self.config.active() {
            return;
        }
        self.transmit(now, buf, len, &[0; ACTION_COUNT], host);
    }

    /// The transmit funnel: every frame leaves through here.
    pub(crate) fn transmit<H: Host>(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        len: usize,
        per_action: &[u32; ACTION_COUNT],
        host: &mut H,
    ) {
        for (total, n) in self.stats.oacts.iter_mut().zip(per_action.iter()) {
            *total += u64::from(*n);
        }
        let Some(frame) = self
            .ext
            .seal(now, buf, len)
            .and_then(|sealed| buf.get(..sealed))
        else {
            self.stats.oerrors += 1;
            return;
        };
        match host.send_frame(frame) {
            Ok(()) => match self.config.peer_family {
                IpFamily::V4 => self.stats.opackets += 1,
                IpFamily::V6 => self.stats.opackets6 += 1,
            },
            Err(SendError::NoMemory) => self.stats.onomem += 1,
            Err(SendError::Output) => self.stats.oerrors += 1,
        }
    }
}
