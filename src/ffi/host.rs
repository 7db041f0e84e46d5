//! The engine's [`Host`] implemented over the shim's function table
//! (`struct pfsync_rs_host_ops`). Every method is one C call plus the
//! conversion between the engine's types and the ABI's plain structs.

use core::ffi::{c_int, c_void};

use crate::engine::host::{
    DeferredPacket, DemoteReason, Host, ImportError, ImportRequest, LogEvent, MergeOutcome,
    PeerUpdate, SendError, StateSnapshot, SyncSlot, TableCursor,
};
use crate::ffi::convert;
use crate::ffi::flags::ImportFlags;
use crate::ffi::sys;
use crate::wire::{IfName, MsgVersion, StateFlags, StateId, StateRecord};

const ENOBUFS: c_int = 55;
const EEXIST: c_int = 17;

type LookupFn = unsafe extern "C" fn(
    *mut c_void,
    *const sys::pfsync_rs_state_id,
    *mut sys::pfsync_rs_state_snapshot,
) -> c_int;
type ImportFn =
    unsafe extern "C" fn(*mut c_void, *const sys::pfsync_rs_import, u32, *const u8) -> c_int;
type MergeFn = unsafe extern "C" fn(
    *mut c_void,
    *const sys::pfsync_rs_state_id,
    *const u8,
    *const u8,
    u8,
    u32,
    *mut sys::pfsync_rs_merge_out,
) -> c_int;
type StoreSlotFn =
    unsafe extern "C" fn(*mut c_void, *const sys::pfsync_rs_state_id, *const u8) -> c_int;
type DeleteFn = unsafe extern "C" fn(*mut c_void, *const sys::pfsync_rs_state_id) -> c_int;
type ClearFn = unsafe extern "C" fn(*mut c_void, *const u8, *const core::ffi::c_char) -> u64;
type NextFn = unsafe extern "C" fn(
    *mut c_void,
    *mut sys::pfsync_rs_cursor,
    *mut sys::pfsync_rs_state_snapshot,
) -> c_int;
type ExportFn =
    unsafe extern "C" fn(*mut c_void, *const sys::pfsync_rs_state_id, u32, *mut u8, usize) -> c_int;
type SendFn = unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int;
type DemoteFn = unsafe extern "C" fn(*mut c_void, i32, *const core::ffi::c_char);
type ReleaseFn = unsafe extern "C" fn(*mut c_void, u64, c_int);
type PfStatusFn = unsafe extern "C" fn(*mut c_void, *mut u8, *mut u8);

/// The shim's operations, checked non-NULL once at engine creation.
#[derive(Clone, Copy)]
pub struct Ops {
    lookup: LookupFn,
    import: ImportFn,
    merge: MergeFn,
    store_slot: StoreSlotFn,
    delete: DeleteFn,
    clear: ClearFn,
    next: NextFn,
    export: ExportFn,
    send: SendFn,
    demote: DemoteFn,
    release: ReleaseFn,
    pf_status: PfStatusFn,
}

impl Ops {
    /// Copies the table; None if any entry is NULL.
    pub fn from_table(t: &sys::pfsync_rs_host_ops) -> Option<Ops> {
        Some(Ops {
            lookup: t.state_lookup?,
            import: t.state_import?,
            merge: t.state_merge?,
            store_slot: t.state_store_slot?,
            delete: t.state_delete?,
            clear: t.states_clear?,
            next: t.state_next?,
            export: t.state_export?,
            send: t.send?,
            demote: t.carp_demote?,
            release: t.deferred_release?,
            pf_status: t.pf_status?,
        })
    }
}

/// The shim seen from the engine: its operations and its context pointer.
pub struct KernelHost {
    ops: Ops,
    ctx: *mut c_void,
}

impl KernelHost {
    /// `ctx` is passed back untouched to every operation; the creator of the
    /// engine guarantees that the operations accept it for the engine's life.
    pub fn new(ops: Ops, ctx: *mut c_void) -> KernelHost {
        KernelHost { ops, ctx }
    }
}

impl KernelHost {
    /// pf's hostid and ruleset checksum as they are now.
    pub fn pf_status(&mut self) -> ([u8; 4], [u8; 16]) {
        let mut hostid = [0u8; 4];
        let mut cksum = [0u8; 16];
        // SAFETY: as in `lookup`; the op writes 4 and 16 bytes into locals.
        unsafe { (self.ops.pf_status)(self.ctx, hostid.as_mut_ptr(), cksum.as_mut_ptr()) };
        (hostid, cksum)
    }
}

fn snapshot(s: &sys::pfsync_rs_state_snapshot) -> StateSnapshot {
    StateSnapshot {
        id: convert::state_id(&s.sid),
        proto: s.wire_proto,
        state_flags: StateFlags::from_bits_retain(s.state_flags),
        timeout: s.timeout,
        src: convert::peer_from_wire(&s.src),
        dst: convert::peer_from_wire(&s.dst),
        slot: convert::slot_from_bytes(&s.slot),
    }
}

fn empty_snapshot() -> sys::pfsync_rs_state_snapshot {
    sys::pfsync_rs_state_snapshot {
        sid: convert::sid(&StateId::default()),
        state_flags: 0,
        wire_proto: 0,
        timeout: 0,
        src: [0; 32],
        dst: [0; 32],
        slot: [0; 12],
    }
}

impl Host for KernelHost {
    fn lookup(&mut self, id: &StateId) -> Option<StateSnapshot> {
        let sid = convert::sid(id);
        let mut out = empty_snapshot();
        // SAFETY: the op and ctx come from the engine's creator (see `new`);
        // both pointers are to live locals for the duration of the call.
        let rc = unsafe { (self.ops.lookup)(self.ctx, &sid, &mut out) };
        (rc == 0).then(|| snapshot(&out))
    }

    fn import_state(
        &mut self,
        record: &StateRecord,
        request: &ImportRequest,
    ) -> Result<(), ImportError> {
        let format = request.format.map_or(0, MsgVersion::number);
        let rec = convert::import_record(record, format);
        let slot = convert::slot_to_bytes(&request.slot);
        let mut flags = ImportFlags::empty();
        flags.set(ImportFlags::CKSUM, request.checksum_match);
        let flags = flags.bits();
        // SAFETY: as in `lookup`; `rec` and `slot` outlive the call.
        let rc = unsafe { (self.ops.import)(self.ctx, &rec, flags, slot.as_ptr()) };
        match rc {
            0 => Ok(()),
            EEXIST => Err(ImportError::Exists),
            _ => Err(ImportError::Refused),
        }
    }

    fn merge_update(
        &mut self,
        id: &StateId,
        update: &PeerUpdate,
        touched: u32,
    ) -> Option<MergeOutcome> {
        let sid = convert::sid(id);
        let mut out = sys::pfsync_rs_merge_out {
            stale_sides: 0,
            wire_proto: 0,
            state_flags: 0,
            slot: [0; 12],
        };
        // SAFETY: as in `lookup`; the peers are the received 32-byte records,
        // which is what the op reads, and `update` outlives the call.
        let rc = unsafe {
            (self.ops.merge)(
                self.ctx,
                &sid,
                update.src.as_bytes().as_ptr(),
                update.dst.as_bytes().as_ptr(),
                update.timeout,
                touched,
                &mut out,
            )
        };
        (rc == 0).then(|| MergeOutcome {
            stale_sides: out.stale_sides,
            slot: convert::slot_from_bytes(&out.slot),
            proto: out.wire_proto,
            state_flags: StateFlags::from_bits_retain(out.state_flags),
        })
    }

    fn store_slot(&mut self, id: &StateId, slot: SyncSlot) -> bool {
        let sid = convert::sid(id);
        let bytes = convert::slot_to_bytes(&slot);
        // SAFETY: as in `lookup`; `bytes` is the 12-byte slot the op copies.
        unsafe { (self.ops.store_slot)(self.ctx, &sid, bytes.as_ptr()) == 0 }
    }

    fn delete_state(&mut self, id: &StateId) -> bool {
        let sid = convert::sid(id);
        // SAFETY: as in `lookup`.
        unsafe { (self.ops.delete)(self.ctx, &sid) == 0 }
    }

    fn clear_states(&mut self, creatorid: [u8; 4], ifname: Option<&IfName>) -> u64 {
        let name = ifname.copied().unwrap_or(IfName::EMPTY);
        let wire = name.as_wire();
        // SAFETY: as in `lookup`; `wire` is 16 bytes holding a NUL (IfName
        // guarantees it), which is what the op reads.
        unsafe { (self.ops.clear)(self.ctx, creatorid.as_ptr(), wire.as_ptr().cast()) }
    }

    fn next_state(&mut self, cursor: &mut TableCursor) -> Option<StateSnapshot> {
        let mut cur = sys::pfsync_rs_cursor {
            row: cursor.row,
            position: cursor.position,
            last: convert::sid(&cursor.last),
            pad: [0; 4],
        };
        let mut out = empty_snapshot();
        // SAFETY: as in `lookup`.
        let rc = unsafe { (self.ops.next)(self.ctx, &mut cur, &mut out) };
        cursor.row = cur.row;
        cursor.position = cur.position;
        cursor.last = convert::state_id(&cur.last);
        (rc == 0).then(|| snapshot(&out))
    }

    fn export_state(&mut self, id: &StateId, version: MsgVersion, out: &mut [u8]) -> bool {
        let sid = convert::sid(id);
        // SAFETY: as in `lookup`; `out` is writable for `out.len()` bytes and
        // the op writes at most that many.
        let rc = unsafe {
            (self.ops.export)(
                self.ctx,
                &sid,
                version.number(),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        rc == 0
    }

    fn export_state_openbsd(&mut self, id: &StateId, out: &mut [u8]) -> bool {
        let sid = convert::sid(id);
        // SAFETY: as in `export_state`; the OpenBSD shim's exporter writes
        // pf's own `struct pfsync_state` for this message version.
        let rc = unsafe {
            (self.ops.export)(
                self.ctx,
                &sid,
                convert::MSG_OPENBSD,
                out.as_mut_ptr(),
                out.len(),
            )
        };
        rc == 0
    }

    fn send_frame(&mut self, frame: &[u8]) -> Result<(), SendError> {
        // SAFETY: as in `lookup`; the op copies `frame.len()` readable bytes.
        let rc = unsafe { (self.ops.send)(self.ctx, frame.as_ptr(), frame.len()) };
        match rc {
            0 => Ok(()),
            ENOBUFS => Err(SendError::NoMemory),
            _ => Err(SendError::Output),
        }
    }

    fn carp_demote(&mut self, adjustment: i32, reason: DemoteReason) {
        let text: &[u8] = match reason {
            DemoteReason::BulkStart => b"pfsync bulk start\0",
            DemoteReason::BulkDone => b"pfsync bulk done\0",
            DemoteReason::BulkFail => b"pfsync bulk fail\0",
            DemoteReason::Destroy => b"pfsync destroy\0",
        };
        // SAFETY: as in `lookup`; `text` is a static NUL-terminated string.
        unsafe { (self.ops.demote)(self.ctx, adjustment, text.as_ptr().cast()) }
    }

    fn release_deferred(&mut self, packet: DeferredPacket) {
        // SAFETY: as in `lookup`; the token came from the shim and is handed
        // back exactly once (the engine's contract).
        unsafe { (self.ops.release)(self.ctx, packet.0, 1) }
    }

    fn drop_deferred(&mut self, packet: DeferredPacket) {
        // SAFETY: as in `release_deferred`.
        unsafe { (self.ops.release)(self.ctx, packet.0, 0) }
    }

    fn log(&mut self, event: &LogEvent) {
        crate::ffi::log::event(event);
    }
}
