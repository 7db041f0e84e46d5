//! Bulk update, requesting side: an explicit state machine (OpenBSD style).
//!
//! States × events are matched pair by pair, with no catch-all arm, so adding
//! an event or a state fails to compile until every pair is decided. The
//! machine is pure: it returns [`ReqEffects`] and the engine carries them out.
//!
//! Differences from stock (freebsd-kpi.md 8.4, 9.2):
//! - The failure timer follows progress, not a formula of the state limit:
//!   `bulk_request_timeout` (5 s) until BUS START, then `bulk_idle_timeout`
//!   re-armed by every frame the peer sends, but never past
//!   `bulk_max_duration` after BUS START: ordinary traffic keeps arriving
//!   when only the BUS END was lost (or the peer's pfsync0 was recreated
//!   mid-bulk), and without that bound the node would stay demoted for as
//!   long as the peer talks. Stock arms `4 s + limit / states per frame`
//!   ticks at BUS START, which kept CARP demoted for ~30 minutes in
//!   opnsense/core #10858; a silent peer is noticed here after 3 s, a
//!   chatty one after at most `bulk_max_duration` (120 s by default; a bulk
//!   that needs longer, e.g. millions of states over a slow link, must have
//!   it raised).
//! - The demotion applied is remembered and exactly that amount is undone, so
//!   a sysctl change mid-bulk cannot leave the CARP counter unbalanced.
//! - After the first request and `bulk_max_tries` (12) retries, as stock,
//!   it gives up cleanly: undemotes,
//!   counts `bulk_gave_up`, logs, and reports "sync ok" as stock does.

use crate::engine::host::DemoteReason;
use crate::time::{Duration, Instant};

/// Where the requester is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqState {
    /// No sync interface, or it is down: nothing requested.
    Idle,
    /// UPD_REQ 0/0 sent, waiting for the peer's BUS START.
    Requested,
    /// BUS START seen, the peer's states are arriving.
    Receiving,
    /// The bulk update ended (completed or given up).
    Done,
}

/// What can happen to the requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqEvent {
    /// Sync interface configured/up, or an explicit resync request.
    Start,
    /// Sync interface removed or down, or the engine is being destroyed.
    Stop,
    /// The bulk request timer fired.
    Timeout,
    /// BUS with status START.
    BusStart,
    /// BUS END that passed the endtime check.
    BusEnd,
    /// BUS END for an older request (failed the endtime check).
    BusEndStale,
    /// Any valid frame from the peer.
    PeerFrame,
}

impl ReqState {
    pub const fn name(self) -> &'static str {
        match self {
            ReqState::Idle => "idle",
            ReqState::Requested => "requested",
            ReqState::Receiving => "receiving",
            ReqState::Done => "done",
        }
    }
}

impl ReqEvent {
    pub const fn name(self) -> &'static str {
        match self {
            ReqEvent::Start => "start",
            ReqEvent::Stop => "stop",
            ReqEvent::Timeout => "timeout",
            ReqEvent::BusStart => "bus-start",
            ReqEvent::BusEnd => "bus-end",
            ReqEvent::BusEndStale => "bus-end-stale",
            ReqEvent::PeerFrame => "peer-frame",
        }
    }
}

/// The tunables the machine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReqParams {
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    /// No BUS END this long after BUS START: the bulk failed.
    pub max_duration: Duration,
    pub max_tries: u8,
    /// Current `carp_demotion_factor`.
    pub demotion: i32,
}

/// What the timer should do after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerChange {
    Keep,
    Set(Instant),
    Stop,
}

/// What the engine must do after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReqEffects {
    pub from: ReqState,
    pub event: ReqEvent,
    pub to: ReqState,
    /// Queue an UPD_REQ 0/0 and send it.
    pub send_request: bool,
    /// Adjust CARP demotion by this amount for this reason.
    pub demote: Option<(i32, DemoteReason)>,
    pub timer: TimerChange,
    pub completed: bool,
    pub gave_up: bool,
    /// The pair is legal but meaningless in this state (not an error).
    pub ignored: bool,
}

/// The requester's memory.
#[derive(Clone, Copy, Debug)]
pub struct BulkRequester {
    state: ReqState,
    tries: u8,
    /// Demotion currently applied by us (0 = none).
    demoted_by: i32,
    /// When the current request cycle began (for the BUS END endtime check).
    cycle_started: Instant,
    /// While receiving: the bulk has failed if no BUS END came by then.
    receive_deadline: Instant,
}

impl Default for BulkRequester {
    fn default() -> Self {
        BulkRequester {
            state: ReqState::Idle,
            tries: 0,
            demoted_by: 0,
            cycle_started: Instant::ZERO,
            receive_deadline: Instant::ZERO,
        }
    }
}

impl BulkRequester {
    pub fn state(&self) -> ReqState {
        self.state
    }

    pub fn tries(&self) -> u8 {
        self.tries
    }

    /// The CARP demotion this machine currently holds.
    pub fn demoted_by(&self) -> i32 {
        self.demoted_by
    }

    /// Stock's `PFSYNCF_OK`: not waiting for a bulk update.
    pub fn sync_ok(&self) -> bool {
        matches!(self.state, ReqState::Idle | ReqState::Done)
    }

    /// Stock's BUS END test: `now - endtime >= time the request was sent`, in
    /// whole seconds, with one second of slack for the two sides' rounding.
    pub fn end_is_current(&self, now: Instant, endtime_secs: u32) -> bool {
        now.as_secs().saturating_sub(u64::from(endtime_secs)) + 1 >= self.cycle_started.as_secs()
    }

    /// Feeds one event; the only entry point.
    pub fn handle(&mut self, event: ReqEvent, now: Instant, p: &ReqParams) -> ReqEffects {
        use ReqEvent as E;
        use ReqState as S;
        let from = self.state;
        let mut fx = ReqEffects {
            from,
            event,
            to: from,
            send_request: false,
            demote: None,
            timer: TimerChange::Keep,
            completed: false,
            gave_up: false,
            ignored: false,
        };
        let to = match (from, event) {
            (S::Idle, E::Start)
            | (S::Done, E::Start)
            | (S::Requested, E::Start)
            | (S::Receiving, E::Start) => self.begin_cycle(now, p, &mut fx),

            (S::Idle, E::Stop) => S::Idle,
            (S::Requested, E::Stop) | (S::Receiving, E::Stop) | (S::Done, E::Stop) => {
                self.undemote(DemoteReason::Destroy, &mut fx);
                fx.timer = TimerChange::Stop;
                S::Idle
            }

            (S::Requested, E::Timeout) | (S::Receiving, E::Timeout) => {
                // `max_tries` counts retries after the first request, as
                // stock's PFSYNC_MAX_BULKTRIES does (13 requests in all).
                if self.tries <= p.max_tries {
                    self.tries += 1;
                    fx.send_request = true;
                    fx.timer = TimerChange::Set(now + p.request_timeout);
                    S::Requested
                } else {
                    self.undemote(DemoteReason::BulkFail, &mut fx);
                    fx.gave_up = true;
                    fx.timer = TimerChange::Stop;
                    S::Done
                }
            }

            (S::Requested, E::BusStart) => {
                self.receive_deadline = now + p.max_duration;
                fx.timer = TimerChange::Set(self.idle_deadline(now, p));
                S::Receiving
            }
            // A repeated START (a second peer answering) does not extend it.
            (S::Receiving, E::BusStart) | (S::Receiving, E::PeerFrame) => {
                fx.timer = TimerChange::Set(self.idle_deadline(now, p));
                S::Receiving
            }

            (S::Requested, E::BusEnd) | (S::Receiving, E::BusEnd) => {
                self.undemote(DemoteReason::BulkDone, &mut fx);
                fx.completed = true;
                fx.timer = TimerChange::Stop;
                S::Done
            }

            // Before BUS START, ordinary traffic tells nothing about the bulk.
            (S::Requested, E::PeerFrame)
            // An END for an older request: the current one is still running.
            | (S::Requested, E::BusEndStale)
            | (S::Receiving, E::BusEndStale)
            // Nothing is being waited for: stock ignores BUS when not waiting.
            | (S::Idle, E::Timeout)
            | (S::Idle, E::BusStart)
            | (S::Idle, E::BusEnd)
            | (S::Idle, E::BusEndStale)
            | (S::Idle, E::PeerFrame)
            | (S::Done, E::Timeout)
            | (S::Done, E::BusStart)
            | (S::Done, E::BusEnd)
            | (S::Done, E::BusEndStale)
            | (S::Done, E::PeerFrame) => {
                fx.ignored = true;
                from
            }
        };
        self.state = to;
        fx.to = to;
        fx
    }

    fn idle_deadline(&self, now: Instant, p: &ReqParams) -> Instant {
        (now + p.idle_timeout).min(self.receive_deadline)
    }

    fn begin_cycle(&mut self, now: Instant, p: &ReqParams, fx: &mut ReqEffects) -> ReqState {
        if self.demoted_by == 0 && p.demotion != 0 {
            // The sysctl takes any int; i32::MIN could not be undone.
            let amount = p.demotion.max(-i32::MAX);
            self.demoted_by = amount;
            fx.demote = Some((amount, DemoteReason::BulkStart));
        }
        self.tries = 1;
        self.cycle_started = now;
        fx.send_request = true;
        fx.timer = TimerChange::Set(now + p.request_timeout);
        ReqState::Requested
    }

    fn undemote(&mut self, reason: DemoteReason, fx: &mut ReqEffects) {
        if self.demoted_by != 0 {
            fx.demote = Some((-self.demoted_by, reason));
            self.demoted_by = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: ReqParams = ReqParams {
        request_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(3),
        max_duration: Duration::from_secs(120),
        max_tries: 12,
        demotion: 240,
    };

    const STATES: [ReqState; 4] = [
        ReqState::Idle,
        ReqState::Requested,
        ReqState::Receiving,
        ReqState::Done,
    ];
    const EVENTS: [ReqEvent; 7] = [
        ReqEvent::Start,
        ReqEvent::Stop,
        ReqEvent::Timeout,
        ReqEvent::BusStart,
        ReqEvent::BusEnd,
        ReqEvent::BusEndStale,
        ReqEvent::PeerFrame,
    ];

    fn in_state(s: ReqState) -> BulkRequester {
        let mut m = BulkRequester::default();
        let t = Instant::from_secs(100);
        match s {
            ReqState::Idle => {}
            ReqState::Requested => {
                m.handle(ReqEvent::Start, t, &P);
            }
            ReqState::Receiving => {
                m.handle(ReqEvent::Start, t, &P);
                m.handle(ReqEvent::BusStart, t, &P);
            }
            ReqState::Done => {
                m.handle(ReqEvent::Start, t, &P);
                m.handle(ReqEvent::BusEnd, t, &P);
            }
        }
        assert_eq!(m.state(), s);
        m
    }

    /// The full transition table, one row per (state, event) pair, and the
    /// demotion balance after each.
    #[test]
    fn every_pair_is_decided() {
        use ReqState::*;
        let expect = |s: ReqState, e: ReqEvent| -> ReqState {
            match (s, e) {
                (_, ReqEvent::Start) => Requested,
                (_, ReqEvent::Stop) => Idle,
                (Requested | Receiving, ReqEvent::Timeout) => Requested,
                (Requested | Receiving, ReqEvent::BusStart) => Receiving,
                (Requested | Receiving, ReqEvent::BusEnd) => Done,
                (s, _) => s,
            }
        };
        for s in STATES {
            for e in EVENTS {
                let mut m = in_state(s);
                let fx = m.handle(e, Instant::from_secs(101), &P);
                assert_eq!(fx.to, expect(s, e), "{} evt {}", s.name(), e.name());
                let waiting = matches!(fx.to, Requested | Receiving);
                assert_eq!(
                    m.demoted_by() != 0,
                    waiting,
                    "{} evt {}",
                    s.name(),
                    e.name()
                );
                assert_eq!(m.sync_ok(), !waiting);
            }
        }
    }

    #[test]
    fn frames_keep_the_idle_timer_alive_not_a_state_limit_formula() {
        let mut m = in_state(ReqState::Receiving);
        let fx = m.handle(ReqEvent::PeerFrame, Instant::from_secs(200), &P);
        assert_eq!(fx.timer, TimerChange::Set(Instant::from_secs(203)));
    }

    #[test]
    fn peer_frames_cannot_extend_a_bulk_past_its_deadline() {
        let mut m = BulkRequester::default();
        m.handle(ReqEvent::Start, Instant::from_secs(100), &P);
        m.handle(ReqEvent::BusStart, Instant::from_secs(101), &P);
        let fx = m.handle(ReqEvent::PeerFrame, Instant::from_secs(219), &P);
        assert_eq!(fx.timer, TimerChange::Set(Instant::from_secs(221)));
        let fx = m.handle(ReqEvent::BusStart, Instant::from_secs(220), &P);
        assert_eq!(fx.timer, TimerChange::Set(Instant::from_secs(221)));
    }

    #[test]
    fn gives_up_after_max_tries_and_undemotes_once() {
        let mut m = BulkRequester::default();
        let fx = m.handle(ReqEvent::Start, Instant::ZERO, &P);
        assert_eq!(fx.demote, Some((240, DemoteReason::BulkStart)));
        let mut requests = 1;
        let mut t = Instant::ZERO;
        loop {
            t = t + P.request_timeout;
            let fx = m.handle(ReqEvent::Timeout, t, &P);
            if fx.gave_up {
                assert_eq!(fx.demote, Some((-240, DemoteReason::BulkFail)));
                break;
            }
            assert!(fx.send_request);
            requests += 1;
        }
        // Stock: the first request, then PFSYNC_MAX_BULKTRIES (12) retries.
        assert_eq!(requests, 13);
        assert_eq!(m.state(), ReqState::Done);
        assert_eq!(m.demoted_by(), 0);
    }

    #[test]
    fn undemotes_by_what_was_applied_even_if_the_factor_changed() {
        let mut m = BulkRequester::default();
        m.handle(ReqEvent::Start, Instant::ZERO, &P);
        let changed = ReqParams { demotion: 10, ..P };
        let fx = m.handle(ReqEvent::BusEnd, Instant::ZERO, &changed);
        assert_eq!(fx.demote, Some((-240, DemoteReason::BulkDone)));
    }

    #[test]
    fn endtime_check_rejects_answers_to_older_requests() {
        let mut m = BulkRequester::default();
        m.handle(ReqEvent::Start, Instant::from_secs(100), &P);
        // The peer says its bulk started 10 s before now = 90 s: an older request.
        assert!(!m.end_is_current(Instant::from_secs(100), 10));
        assert!(m.end_is_current(Instant::from_secs(130), 25));
    }

    /// Found by the config fuzz target: `net.pfsync.carp_demotion_factor`
    /// accepts any int, and undoing a demotion of `i32::MIN` overflowed.
    #[test]
    fn the_most_negative_demotion_factor_is_undone_without_overflow() {
        let p = ReqParams {
            demotion: i32::MIN,
            ..P
        };
        let mut m = BulkRequester::default();
        let t = Instant::from_secs(100);
        let applied = m
            .handle(ReqEvent::Start, t, &p)
            .demote
            .map_or(0, |(adj, _)| adj);
        let undone = m
            .handle(ReqEvent::Stop, t, &p)
            .demote
            .map_or(0, |(adj, _)| adj);
        assert_ne!(applied, 0);
        assert_eq!(
            i64::from(applied) + i64::from(undone),
            0,
            "{applied} then {undone}"
        );
        assert_eq!(m.demoted_by(), 0);
    }
}
