//! The engine's host on Linux: the simulator's model pf table for state
//! storage, a raw socket for frames, and records of what pf would have done
//! with CARP demotion and deferred packets.
//!
//! State-table methods delegate to [`ModelTable`], which offers each of them
//! with the trait's signature for exactly this purpose.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::time::Instant as StdInstant;

use pfsync::engine::{
    DeferredPacket, DemoteReason, Host, ImportError, ImportRequest, LogEvent, MergeOutcome,
    PeerUpdate, SendError, StateSnapshot, SyncSlot, TableCursor, PFSTATE_ACK,
};
use pfsync::sim::ModelTable;
use pfsync::wire::{IfName, MsgVersion, StateId, StateRecord};
use serde::Serialize;

use crate::fault::{FaultInjector, Verdict};
use crate::state_json::state_id_json;
use crate::transport::Transport;

/// Log lines kept for the `log` control command.
const LOG_LINES: usize = 512;

/// Frame and byte counts as the node sees them at the socket.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct IoCounters {
    pub frames_sent: u64,
    pub bytes_sent: u64,
    /// Sends that failed after the fault injector held a frame (the engine
    /// already counted it as sent); direct send failures are the engine's
    /// `oerrors`/`onomem`.
    pub late_send_errors: u64,
    pub frames_received: u64,
    pub bytes_received: u64,
    /// The kernel's count of datagrams dropped because our socket queue was full.
    pub rxq_dropped: u64,
}

/// What became of one deferred packet.
#[derive(Clone, Debug, Serialize)]
pub struct DeferredOutcome {
    pub token: u64,
    pub id: String,
    pub creatorid: String,
    /// "sent" (released) or "dropped".
    pub outcome: &'static str,
    pub held_ms: u64,
}

struct PendingDeferral {
    id: StateId,
    since: StdInstant,
}

pub struct LinuxHost {
    pub table: ModelTable,
    pub transport: Transport,
    pub fault: FaultInjector,
    /// Wall-clock time of the engine call in progress (for held-frame and deferral timing).
    pub std_now: StdInstant,
    pub io: IoCounters,
    pending: HashMap<u64, PendingDeferral>,
    pub deferred_log: Vec<DeferredOutcome>,
    /// Sum of the adjustments the engine asked for: what CARP's demotion counter would show.
    pub carp_demotion: i32,
    pub demotions: u64,
    pub undemotions: u64,
    pub log: VecDeque<String>,
    pub verbose: bool,
}

impl LinuxHost {
    pub fn new(transport: Transport, fault: FaultInjector, verbose: bool) -> LinuxHost {
        LinuxHost {
            table: ModelTable::new(),
            transport,
            fault,
            std_now: StdInstant::now(),
            io: IoCounters::default(),
            pending: HashMap::new(),
            deferred_log: Vec::new(),
            carp_demotion: 0,
            demotions: 0,
            undemotions: 0,
            log: VecDeque::new(),
            verbose,
        }
    }

    pub fn note(&mut self, line: String) {
        if self.verbose {
            eprintln!("pfsync-node: {line}");
        }
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    /// Remembers a packet handed to the engine for deferral.
    pub fn deferral_started(&mut self, token: u64, id: StateId) {
        self.pending.insert(
            token,
            PendingDeferral {
                id,
                since: self.std_now,
            },
        );
    }

    fn deferral_ended(&mut self, packet: DeferredPacket, outcome: &'static str) {
        let Some(p) = self.pending.remove(&packet.0) else {
            self.note(format!(
                "deferred packet {} came back twice or unknown",
                packet.0
            ));
            return;
        };
        // Stock's undefer clears the mark the deferral put on the state.
        if let Some(s) = self.table.get_mut(&p.id) {
            s.record.state_flags.remove(PFSTATE_ACK);
        }
        let (id, creatorid) = state_id_json(&p.id);
        let held_ms =
            u64::try_from(self.std_now.duration_since(p.since).as_millis()).unwrap_or(u64::MAX);
        self.note(format!(
            "deferred packet {} for {id}/{creatorid} {outcome} after {held_ms} ms",
            packet.0
        ));
        self.deferred_log.push(DeferredOutcome {
            token: packet.0,
            id,
            creatorid,
            outcome,
            held_ms,
        });
    }

    /// Puts one frame on the wire, counting it.
    fn transmit(&mut self, frame: &[u8]) -> io::Result<()> {
        self.transport.send(frame)?;
        self.io.frames_sent += 1;
        self.io.bytes_sent += frame.len() as u64;
        Ok(())
    }

    /// Sends frames the fault injector held whose time has come.
    pub fn release_held_frames(&mut self) {
        for frame in self.fault.due(self.std_now) {
            if self.transmit(&frame).is_err() {
                self.io.late_send_errors += 1;
            }
        }
    }

    /// Sends every held frame now (shutdown).
    pub fn drain_held_frames(&mut self) {
        for frame in self.fault.drain_all() {
            if self.transmit(&frame).is_err() {
                self.io.late_send_errors += 1;
            }
        }
    }
}

impl Host for LinuxHost {
    fn lookup(&mut self, id: &StateId) -> Option<StateSnapshot> {
        self.table.lookup(id)
    }

    fn import_state(
        &mut self,
        record: &StateRecord,
        request: &ImportRequest,
    ) -> Result<(), ImportError> {
        self.table.import_state(record, request)
    }

    fn merge_update(
        &mut self,
        id: &StateId,
        update: &PeerUpdate,
        touched: u32,
    ) -> Option<MergeOutcome> {
        self.table.merge_update(id, update, touched)
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

    fn export_state(&mut self, id: &StateId, version: MsgVersion, out: &mut [u8]) -> bool {
        self.table.export_state(id, version, out)
    }
    fn export_state_openbsd(&mut self, id: &StateId, out: &mut [u8]) -> bool {
        self.table.export_state_openbsd(id, out)
    }

    fn send_frame(&mut self, frame: &[u8]) -> Result<(), SendError> {
        if self.fault.config().is_active() || self.fault.next_release().is_some() {
            return match self.fault.admit(frame.to_vec(), self.std_now) {
                Verdict::SendNow(f) => self.transmit(&f).map_err(send_error),
                // A frame the "network" lost or holds has left us as far as pfsync knows.
                Verdict::Dropped | Verdict::Held => Ok(()),
            };
        }
        self.transmit(frame).map_err(send_error)
    }

    fn carp_demote(&mut self, adjustment: i32, reason: DemoteReason) {
        self.carp_demotion += adjustment;
        if adjustment > 0 {
            self.demotions += 1;
        } else {
            self.undemotions += 1;
        }
        // Always on stderr: a demotion is what an operator would see in CARP.
        eprintln!(
            "pfsync-node: carp demote {adjustment:+} ({}), demotion now {}",
            reason.name(),
            self.carp_demotion
        );
        let line = format!(
            "carp demote {adjustment:+} ({}), demotion now {}",
            reason.name(),
            self.carp_demotion
        );
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    fn release_deferred(&mut self, packet: DeferredPacket) {
        self.deferral_ended(packet, "sent");
    }

    fn drop_deferred(&mut self, packet: DeferredPacket) {
        self.deferral_ended(packet, "dropped");
    }

    fn log(&mut self, event: &LogEvent) {
        let line = match event {
            LogEvent::BulkRequestTransition { from, event, to } => {
                format!("bulk req: {from} evt {event} -> {to}")
            }
            LogEvent::BulkSendTransition { from, event, to } => {
                format!("bulk send: {from} evt {event} -> {to}")
            }
            other => format!("{other:?}"),
        };
        self.note(line);
    }
}

fn send_error(e: io::Error) -> SendError {
    match e.raw_os_error() {
        Some(libc::ENOBUFS) | Some(libc::ENOMEM) => SendError::NoMemory,
        _ => SendError::Output,
    }
}
