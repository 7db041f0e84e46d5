//! Bulk update, sending side: walk the host's state table with a cursor and
//! send every eligible state as a full UPD, paced by a token bucket.
//!
//! Stock sends one bucket's worth per clock tick and re-walks hash rows; here
//! frames are packed to the byte (every frame holds the largest whole number
//! of records the MTU allows) and released at `bulk_rate_bytes_per_sec`, woken
//! every `bulk_tick`. Bulk frames bypass the bucket queues, so a bulk of a
//! million states costs no engine memory per state.
//!
//! A state is skipped (as stock) when it is already queued for sending, is
//! being unlinked (`timeout >= PFTM_MAX`), must not be synced, or was touched
//! by pfsync after the request arrived (the requester sent it to us).
//!
//! | state \ event | Request | Tick | Stop |
//! |---|---|---|---|
//! | Idle | BUS START, cursor to start, tick now -> Sending | ignored (stale timer) | ignored |
//! | Sending | restart: BUS START, cursor to start -> Sending | send paced frames; at the end BUS END -> Idle | stop timer -> Idle |

use crate::engine::frame_out::FrameWriter;
use crate::engine::host::TableCursor;
use crate::engine::timers::Timer;
use crate::engine::{
    Engine, FrameExtension, Host, LogEvent, Plus, PushReason, StateSnapshot, IPPROTO_PFSYNC,
    PFSTATE_NOSYNC,
};
use crate::time::{Duration, Instant};
use crate::wire::BusStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendState {
    Idle,
    Sending,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendEvent {
    /// UPD_REQ 0/0 received.
    Request,
    /// The bulk send timer fired.
    Tick,
    /// Sync interface gone or engine destroyed.
    Stop,
}

impl SendState {
    pub const fn name(self) -> &'static str {
        match self {
            SendState::Idle => "idle",
            SendState::Sending => "sending",
        }
    }
}

impl SendEvent {
    pub const fn name(self) -> &'static str {
        match self {
            SendEvent::Request => "request",
            SendEvent::Tick => "tick",
            SendEvent::Stop => "stop",
        }
    }
}

/// The sender's memory: walk position and pacing.
#[derive(Clone, Copy, Debug)]
pub struct BulkSender {
    state: SendState,
    cursor: TableCursor,
    request_received: Instant,
    /// Token bucket, in bytes.
    tokens: u64,
    last_refill: Instant,
}

impl Default for BulkSender {
    fn default() -> Self {
        BulkSender {
            state: SendState::Idle,
            cursor: TableCursor::START,
            request_received: Instant::ZERO,
            tokens: 0,
            last_refill: Instant::ZERO,
        }
    }
}

impl BulkSender {
    pub fn state(&self) -> SendState {
        self.state
    }

    fn refill(&mut self, now: Instant, rate: u64, cap: u64) {
        let dt = u128::from(now.saturating_since(self.last_refill).as_nanos());
        let add = dt * u128::from(rate) / 1_000_000_000;
        self.tokens = u64::try_from(u128::from(self.tokens) + add)
            .unwrap_or(u64::MAX)
            .min(cap);
        self.last_refill = now;
    }
}

/// How long until a token bucket at `rate` bytes/s gains `missing` bytes.
fn time_for(missing: u64, rate: u64) -> Duration {
    if rate == 0 {
        return Duration::from_secs(1);
    }
    let ns = (u128::from(missing) * 1_000_000_000).div_ceil(u128::from(rate));
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

impl<X: FrameExtension> Engine<X> {
    /// Feeds the bulk sender; the only entry point of its state machine.
    pub(crate) fn bulk_send_event<H: Host>(
        &mut self,
        now: Instant,
        event: SendEvent,
        host: &mut H,
    ) {
        let from = self.bulk_send.state;
        let to = match (from, event) {
            (SendState::Idle, SendEvent::Request) | (SendState::Sending, SendEvent::Request) => {
                self.extra.bulk_requests_answered += 1;
                self.bulk_send.request_received = now;
                self.bulk_send.cursor = TableCursor::START;
                self.bulk_send.tokens = self.frame_bytes_estimate();
                self.bulk_send.last_refill = now;
                self.queue_plus(
                    now,
                    0,
                    Plus::Bus {
                        status: BusStatus::Start,
                        endtime: 0,
                    },
                );
                self.timers.set(Timer::BulkSend, now);
                SendState::Sending
            }
            (SendState::Sending, SendEvent::Tick) => self.bulk_send_burst(now, host),
            (SendState::Sending, SendEvent::Stop) => {
                self.timers.stop(Timer::BulkSend);
                SendState::Idle
            }
            // A timer that fired after a stop, or a stop with nothing running.
            (SendState::Idle, SendEvent::Tick) | (SendState::Idle, SendEvent::Stop) => {
                self.timers.stop(Timer::BulkSend);
                SendState::Idle
            }
        };
        self.bulk_send.state = to;
        let quiet = event == SendEvent::Tick && from == to;
        if !quiet {
            host.log(&LogEvent::BulkSendTransition {
                from: from.name(),
                event: event.name(),
                to: to.name(),
            });
        }
    }

    /// Bytes a full bulk frame occupies on the link (IP header included).
    fn frame_bytes_estimate(&self) -> u64 {
        let budget = self.frame_budget();
        let rec = self.bulk_record_len();
        let per_frame = budget.saturating_sub(
            crate::engine::queues::EMPTY_FRAME_LEN + crate::engine::queues::SUBHEADER_LEN,
        ) / rec;
        let bytes = crate::engine::queues::EMPTY_FRAME_LEN
            + crate::engine::queues::SUBHEADER_LEN
            + per_frame.max(1) * rec
            + self.config.ip_header_len()
            + self.ext.trailer_len();
        bytes as u64
    }

    /// Sends as many full frames as the token bucket allows; at the end of the
    /// table queues BUS END and returns to idle.
    fn bulk_send_burst<H: Host>(&mut self, now: Instant, host: &mut H) -> SendState {
        let frame_cost = self.frame_bytes_estimate();
        // 0 = no pacing: the whole table in one go.
        let rate = match self.config.bulk_rate_bytes_per_sec {
            0 => u64::MAX / 4,
            r => r,
        };
        // A burst may hold two ticks' worth, and always at least one frame.
        let tick = self.config.bulk_tick;
        let cap = (u128::from(rate) * 2 * u128::from(tick.as_nanos()) / 1_000_000_000)
            .max(u128::from(frame_cost));
        self.bulk_send
            .refill(now, rate, u64::try_from(cap).unwrap_or(u64::MAX));
        while self.bulk_send.tokens >= frame_cost {
            let (sent_bytes, finished) = self.bulk_send_frame(now, host);
            if sent_bytes == 0 && !finished {
                // Not one state fits an empty frame (pfsync0's MTU is too
                // small for this message version): no frame can make
                // progress, so give the bulk up rather than spin. No BUS
                // END: the requester must not think it has our table.
                self.extra.bulk_send_abandoned += 1;
                self.timers.stop(Timer::BulkSend);
                return SendState::Idle;
            }
            self.bulk_send.tokens = self.bulk_send.tokens.saturating_sub(sent_bytes);
            if finished {
                // OpenBSD's BUS END carries 0; FreeBSD's the seconds the
                // bulk took, which its receiver checks.
                let elapsed = if self.config.speaks_openbsd() {
                    0
                } else {
                    now.saturating_since(self.bulk_send.request_received)
                        .as_secs()
                };
                self.queue_plus(
                    now,
                    0,
                    Plus::Bus {
                        status: BusStatus::End,
                        endtime: u32::try_from(elapsed).unwrap_or(u32::MAX),
                    },
                );
                self.timers.stop(Timer::BulkSend);
                return SendState::Idle;
            }
        }
        let missing = frame_cost.saturating_sub(self.bulk_send.tokens);
        let wait = time_for(missing, rate);
        let wait = if wait < tick { tick } else { wait };
        self.timers.set(Timer::BulkSend, now + wait);
        SendState::Sending
    }

    /// Fills one frame from the cursor and sends it. Returns the bytes it
    /// cost on the link and whether the walk reached the end of the table.
    fn bulk_send_frame<H: Host>(&mut self, now: Instant, host: &mut H) -> (u64, bool) {
        let version = self.config.version;
        let openbsd = self.config.speaks_openbsd();
        let queue = crate::engine::queues::Queue::upd_for(openbsd, version);
        let action = queue.action();
        let len = queue.record_len();
        let budget = self.frame_budget();
        let mut buf = core::mem::take(&mut self.frame);
        let mut w = FrameWriter::with_dialect(&mut buf, budget, openbsd);
        let mut finished = false;
        while w.fits(action, len) {
            let Some(s) = host.next_state(&mut self.bulk_send.cursor) else {
                finished = true;
                break;
            };
            if !self.bulk_eligible(&s) {
                continue;
            }
            let exported = w.record(action, len).is_some_and(|out| {
                if openbsd {
                    host.export_state_openbsd(&s.id, out)
                } else {
                    host.export_state(&s.id, version, out)
                }
            });
            if exported {
                w.commit(len);
                self.extra.bulk_states += 1;
            } else {
                self.extra.export_gone += 1;
            }
        }
        let mut cost = 0;
        if w.records() > 0 {
            cost = (w.written()
                + crate::engine::queues::SUBHEADER_LEN
                + self.config.ip_header_len()
                + self.ext.trailer_len()) as u64;
            self.extra.bulk_frames += 1;
            self.transmit_writer(now, &mut w, PushReason::Bulk, host);
        }

        self.frame = buf;
        (cost, finished)
    }

    /// Bytes of one full state in the dialect spoken.
    fn bulk_record_len(&self) -> usize {
        crate::engine::queues::Queue::upd_for(self.config.speaks_openbsd(), self.config.version)
            .record_len()
    }

    fn bulk_eligible(&self, s: &StateSnapshot) -> bool {
        if s.state_flags.contains(PFSTATE_NOSYNC)
            || s.proto == IPPROTO_PFSYNC
            || s.timeout >= self.config.pftm_max()
        {
            return false;
        }
        let queued = self
            .buckets
            .get(self.bucket_of(&s.id))
            .is_some_and(|b| b.queued(s.slot.queue_index, &s.id).is_some());
        if queued {
            return false;
        }
        match s.slot.touched_secs() {
            Some(t) => t <= self.bulk_send.request_received.as_secs(),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_refills_at_rate_and_caps() {
        let mut s = BulkSender::default();
        s.refill(Instant::from_millis(1), 100_000_000, 1_000_000);
        assert_eq!(s.tokens, 100_000);
        s.refill(Instant::from_secs(10), 100_000_000, 1_000_000);
        assert_eq!(s.tokens, 1_000_000);
        assert_eq!(time_for(1500, 100_000_000), Duration::from_nanos(15_000));
    }
}
