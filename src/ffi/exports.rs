//! The `extern "C"` entry points of bindings/pfsync_core.h: each turns one C
//! call into one engine event (or one pure computation). Pointers from C are
//! checked for NULL and turned into references once, at the top of each
//! function; everything below works on references and values.

use core::alloc::Layout;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

use crate::auth::{FrameAuth, KeyError};
use crate::engine::host::{
    DeferredPacket, IpFamily, RxMeta, StateInfo, IPPROTO_PFSYNC, PFSTATE_NOSYNC,
};
use crate::engine::{merge, Config, ConfigError, Engine, Stats};
use crate::ffi::anti_entropy::{self, KernelAntiEntropy};
use crate::ffi::convert::{self, EINVAL};
use crate::ffi::flags::CfgFlags;
use crate::ffi::host::{KernelHost, Ops};
use crate::ffi::sys;
use crate::time::Instant;
use crate::wire::state_format::StateChecks;
use crate::wire::{peer, IfName, MsgVersion, StateFlags, StateRecord};

pub(crate) const ENOMEM: c_int = 12;

/// One VNET's engine with the shim it answers to.
pub struct KernelEngine {
    /// Frames pass through authentication, which is off until a key is set.
    pub(crate) engine: Engine<FrameAuth>,
    pub(crate) host: KernelHost,
    /// Loss repair, off until `net.pfsync.rs.anti_entropy` is set.
    pub(crate) anti_entropy: Option<KernelAntiEntropy>,
    /// `__FreeBSD_version` the module was built for.
    release: u32,
    /// What the counters read when `net.pfsync.stats` was last cleared.
    stats_base: Stats,
    alloc_failures_base: u64,
    /// The latest `now` the shim gave; teardown has no clock of its own.
    last_now: Instant,
    /// Frames counted as sent that ip_output refused afterwards.
    tx_failures: u64,
}

fn now(ns: u64) -> Instant {
    Instant::from_nanos(ns)
}

impl KernelEngine {
    /// The shim's clock for this call, remembered for teardown. Every entry
    /// that may send calls it first, so it also takes pf's live hostid and
    /// checksum (issue 11 item 4).
    pub(crate) fn tick(&mut self, now_ns: u64) -> Instant {
        let t = now(now_ns);
        if t > self.last_now {
            self.last_now = t;
        }
        self.refresh_pf_identity();
        t
    }

    fn refresh_pf_identity(&mut self) {
        let (hostid, cksum) = self.host.pf_status();
        let cfg = self.engine.config();
        if cfg.hostid != hostid || cfg.ruleset_checksum != cksum {
            self.engine.set_pf_identity(hostid, cksum);
            if let Some(ae) = self.anti_entropy.as_mut() {
                ae.set_hostid(hostid);
            }
        }
    }
}

fn config_error(e: ConfigError) -> c_int {
    match e {
        ConfigError::NoMemory => ENOMEM,
        ConfigError::Mtu | ConfigError::Buckets => EINVAL,
    }
}

fn info(st: &sys::pfsync_rs_state_info) -> StateInfo {
    StateInfo {
        id: convert::state_id(&st.sid),
        proto: st.wire_proto,
        state_flags: StateFlags::from_bits_retain(st.state_flags),
        rule_nosync: st.rule_nosync != 0,
    }
}

/// # Safety
/// `eng` is NULL or a pointer returned by `pfsync_rs_engine_create` and not
/// yet destroyed, and the caller holds the engine lock (no other reference).
pub(crate) unsafe fn engine<'a>(eng: *mut sys::pfsync_rs_engine) -> Option<&'a mut KernelEngine> {
    // SAFETY: per the function contract the pointer is NULL or a live,
    // exclusively held KernelEngine.
    unsafe { eng.cast::<KernelEngine>().as_mut() }
}

/// # Safety
/// `slot` is NULL or points at PFSYNC_RS_SLOT_LEN writable bytes that nothing
/// else touches during the call (the engine lock covers every slot).
unsafe fn slot_bytes<'a>(slot: *mut u8) -> Option<&'a mut [u8; 12]> {
    // SAFETY: per the function contract.
    unsafe { slot.cast::<[u8; 12]>().as_mut() }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_engine_create(
    abi_version: u32,
    release_version: u32,
    host: *const sys::pfsync_rs_host_ops,
    ctx: *mut c_void,
    hostid_be: *const u8,
    auth_epoch: u64,
    now_ns: u64,
) -> *mut sys::pfsync_rs_engine {
    if abi_version != sys::PFSYNC_RS_ABI_VERSION {
        return ptr::null_mut();
    }
    // SAFETY: the shim passes NULL or its static, fully initialised table.
    let Some(table) = (unsafe { host.as_ref() }) else {
        return ptr::null_mut();
    };
    let Some(ops) = Ops::from_table(table) else {
        return ptr::null_mut();
    };
    // SAFETY: the shim passes NULL or 4 readable bytes.
    let Some(hostid) = (unsafe { hostid_be.cast::<[u8; 4]>().as_ref() }).copied() else {
        return ptr::null_mut();
    };
    // Allocate first and build the engine straight into the block: a
    // KernelEngine is over a kilobyte and kernel stack frames must stay small.
    let layout = Layout::new::<KernelEngine>();
    // SAFETY: the layout has non-zero size.
    let p = unsafe { alloc::alloc::alloc(layout) }.cast::<KernelEngine>();
    if p.is_null() {
        return ptr::null_mut();
    }
    let Ok(engine) = new_engine(release_version, hostid, auth_epoch) else {
        // SAFETY: `p` was allocated just above with `layout` and holds nothing.
        unsafe { alloc::alloc::dealloc(p.cast(), layout) };
        return ptr::null_mut();
    };
    // SAFETY: `p` is a fresh allocation for one KernelEngine; every field is
    // written exactly once before the pointer escapes.
    unsafe {
        ptr::addr_of_mut!((*p).engine).write(engine);
        ptr::addr_of_mut!((*p).host).write(KernelHost::new(ops, ctx));
        ptr::addr_of_mut!((*p).anti_entropy).write(None);
        ptr::addr_of_mut!((*p).release).write(release_version);
        ptr::addr_of_mut!((*p).stats_base).write(Stats::default());
        ptr::addr_of_mut!((*p).alloc_failures_base).write(crate::ffi::kalloc::failures());
        ptr::addr_of_mut!((*p).last_now).write(now(now_ns));
        ptr::addr_of_mut!((*p).tx_failures).write(0);
    }
    p.cast()
}

/// Kept out of line so the engine's construction has a stack frame of its
/// own instead of adding to pfsync_rs_engine_create's.
#[inline(never)]
fn new_engine(release: u32, hostid: [u8; 4], epoch: u64) -> Result<Engine<FrameAuth>, ConfigError> {
    // An OpenBSD kernel gets OpenBSD's protocol and timings.
    let mut config = if convert::is_openbsd(release) {
        Config::openbsd(hostid)
    } else {
        Config::new(hostid)
    };
    config.version = convert::default_version(release);
    // Stock 14 stops reading a frame at actions 15/16 (format 1500).
    config.receive_dialect = convert::receive_dialect(release);
    let auth = FrameAuth::new(hostid, epoch).ok_or(ConfigError::NoMemory)?;
    Engine::with_extension(config, auth)
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_engine_destroy(eng: *mut sys::pfsync_rs_engine) {
    // SAFETY: contract of `engine`; the shim destroys each engine once.
    let Some(k) = (unsafe { engine(eng) }) else {
        return;
    };
    k.engine.on_destroy(k.last_now, &mut k.host);
    let p = eng.cast::<KernelEngine>();
    // SAFETY: `p` was allocated in pfsync_rs_engine_create with this layout
    // and initialised; after this nothing uses it (the shim forgets it).
    unsafe {
        ptr::drop_in_place(p);
        alloc::alloc::dealloc(p.cast(), Layout::new::<KernelEngine>());
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_frame_received(
    eng: *mut sys::pfsync_rs_engine,
    frame: *const u8,
    len: usize,
    meta: *const sys::pfsync_rs_rx_meta,
    now_ns: u64,
) {
    // SAFETY: contract of `engine`.
    let Some(k) = (unsafe { engine(eng) }) else {
        return;
    };
    // SAFETY: the shim passes NULL or its local meta for the call.
    let Some(meta) = (unsafe { meta.as_ref() }) else {
        return;
    };
    let bytes: &[u8] = if frame.is_null() || meta.truncated != 0 {
        &[]
    } else {
        // SAFETY: the shim hands over `len` readable bytes it owns until the
        // call returns.
        unsafe { core::slice::from_raw_parts(frame, len) }
    };
    // Stock drops frames silently while pf is disabled.
    if meta.pf_running == 0 {
        return;
    }
    // tick() reads pf's checksum through `pf_status`; local_pf_cksum is
    // the same value, kept in the struct for the ABI's layout.
    let now = k.tick(now_ns);
    let rx = RxMeta {
        family: if meta.af as u32 == sys::PFSYNC_RS_AF_INET6 {
            IpFamily::V6
        } else {
            IpFamily::V4
        },
        ttl: meta.ttl,
        on_syncdev: meta.rcvif_is_syncdev != 0,
    };
    k.engine.on_frame_received(now, rx, bytes, &mut k.host);
    anti_entropy::after_frame(k, now);
    k.engine.send_full(now, &mut k.host);
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_state_policy(st: *const sys::pfsync_rs_state_info) -> c_int {
    // SAFETY: the shim passes NULL or its local info for the call.
    let Some(st) = (unsafe { st.as_ref() }) else {
        return sys::PFSYNC_RS_POLICY_IGNORE as c_int;
    };
    let verdict = if StateFlags::from_bits_retain(st.state_flags).contains(PFSTATE_NOSYNC) {
        sys::PFSYNC_RS_POLICY_IGNORE
    } else if st.rule_nosync != 0 || st.wire_proto == IPPROTO_PFSYNC {
        sys::PFSYNC_RS_POLICY_NOSYNC
    } else {
        sys::PFSYNC_RS_POLICY_SYNC
    };
    verdict as c_int
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_defer_policy(
    st: *const sys::pfsync_rs_state_info,
    cfg_flags: u32,
    running: c_int,
    has_syncdev: c_int,
) -> c_int {
    // SAFETY: the shim passes NULL or its local info for the call.
    let Some(st) = (unsafe { st.as_ref() }) else {
        return 0;
    };
    // The conditions of Engine::on_defer_requested, which are all the shim
    // can know in the hook; the engine's own answer comes later.
    let keep = CfgFlags::from_bits_retain(cfg_flags).contains(CfgFlags::DEFER)
        && running != 0
        && has_syncdev != 0
        && !StateFlags::from_bits_retain(st.state_flags).contains(PFSTATE_NOSYNC);
    c_int::from(keep)
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_slot_init(slot: *mut u8) {
    // SAFETY: contract of `slot_bytes`.
    if let Some(s) = unsafe { slot_bytes(slot) } {
        *s = convert::slot_to_bytes(&crate::engine::host::SyncSlot::NEW);
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_slot_set_touched(slot: *mut u8, touched: u32) {
    // SAFETY: contract of `slot_bytes`.
    if let Some(s) = unsafe { slot_bytes(slot) } {
        let mut v = convert::slot_from_bytes(s);
        v.touched = touched;
        *s = convert::slot_to_bytes(&v);
    }
}

/// Shared shape of the three state hooks: engine, info, slot in; slot out.
fn with_state(
    eng: *mut sys::pfsync_rs_engine,
    st: *const sys::pfsync_rs_state_info,
    slot: *mut u8,
    now_ns: u64,
    f: impl FnOnce(&mut KernelEngine, Instant, &StateInfo, &mut crate::engine::host::SyncSlot),
) {
    // SAFETY: contract of `engine`.
    let Some(k) = (unsafe { engine(eng) }) else {
        return;
    };
    // SAFETY: the shim passes NULL or its local info for the call.
    let Some(st) = (unsafe { st.as_ref() }) else {
        return;
    };
    // SAFETY: contract of `slot_bytes`: the slot inside the pf state, which
    // the shim keeps referenced during the call.
    let Some(bytes) = (unsafe { slot_bytes(slot) }) else {
        return;
    };
    let mut s = convert::slot_from_bytes(bytes);
    let t = k.tick(now_ns);
    let i = info(st);
    f(k, t, &i, &mut s);
    *bytes = convert::slot_to_bytes(&s);
    // The shim calls these from its inbox drain, with no pf lock held, so a
    // frame that just filled can be built (and queued for the tx task) now.
    k.engine.send_if_full(t, &i.id, &mut k.host);
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_state_inserted(
    eng: *mut sys::pfsync_rs_engine,
    st: *const sys::pfsync_rs_state_info,
    slot: *mut u8,
    now_ns: u64,
) {
    // The shim already applied pfsync_rs_state_policy(), which makes the same
    // no-sync decision, so the outcome needs no action here.
    with_state(eng, st, slot, now_ns, |k, t, i, s| {
        let _ = k.engine.on_state_inserted(t, i, s);
    });
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_state_updated(
    eng: *mut sys::pfsync_rs_engine,
    st: *const sys::pfsync_rs_state_info,
    slot: *mut u8,
    now_ns: u64,
) {
    // SAFETY: the shim passes NULL or its local info for the call.
    let updates = unsafe { st.as_ref() }.map_or(1, |i| i.pending_updates);
    with_state(eng, st, slot, now_ns, |k, t, i, s| {
        k.engine.on_state_updates(t, i, s, updates, &mut k.host);
    });
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_state_deleted(
    eng: *mut sys::pfsync_rs_engine,
    st: *const sys::pfsync_rs_state_info,
    slot: *mut u8,
    now_ns: u64,
) {
    with_state(eng, st, slot, now_ns, |k, t, i, s| {
        k.engine.on_state_deleted(t, i, s, &mut k.host);
    });
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_states_cleared(
    eng: *mut sys::pfsync_rs_engine,
    creatorid_be: *const u8,
    ifname: *const c_char,
    now_ns: u64,
) {
    // SAFETY: contract of `engine`.
    let Some(k) = (unsafe { engine(eng) }) else {
        return;
    };
    // SAFETY: the shim passes 4 readable bytes (or NULL).
    let Some(creatorid) = (unsafe { creatorid_be.cast::<[u8; 4]>().as_ref() }) else {
        return;
    };
    // SAFETY: the shim passes 16 readable bytes (or NULL).
    let raw = unsafe { ifname.cast::<[u8; 16]>().as_ref() };
    let name = raw.and_then(IfName::from_wire).unwrap_or(IfName::EMPTY);
    let t = k.tick(now_ns);
    k.engine.on_states_cleared(t, *creatorid, &name);
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_defer_requested(
    eng: *mut sys::pfsync_rs_engine,
    st: *const sys::pfsync_rs_state_info,
    slot: *mut u8,
    token: u64,
    now_ns: u64,
) -> c_int {
    let mut kept = false;
    with_state(eng, st, slot, now_ns, |k, t, i, s| {
        kept = k
            .engine
            .on_defer_requested(t, i, s, DeferredPacket(token), &mut k.host);
    });
    c_int::from(kept)
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_merge_peers(
    wire_proto: u8,
    src: *mut u8,
    dst: *mut u8,
    timeout: *mut u8,
    in_src: *const u8,
    in_dst: *const u8,
    in_timeout: u8,
    refresh_expiry: *mut c_int,
) -> c_int {
    // SAFETY: the shim passes its own 32-byte locals (or NULL) and a timeout
    // and flag it owns, all exclusively for the call.
    let (Some(src), Some(dst), Some(timeout), Some(in_src), Some(in_dst), Some(refresh)) = (unsafe {
        (
            src.cast::<[u8; 32]>().as_mut(),
            dst.cast::<[u8; 32]>().as_mut(),
            timeout.as_mut(),
            in_src.cast::<[u8; 32]>().as_ref(),
            in_dst.cast::<[u8; 32]>().as_ref(),
            refresh_expiry.as_mut(),
        )
    }) else {
        return -1;
    };
    let mut ours_src = peer::decode(src);
    let mut ours_dst = peer::decode(dst);
    let r = merge::merge_update(
        wire_proto,
        &mut ours_src,
        &mut ours_dst,
        timeout,
        &peer::decode(in_src),
        &peer::decode(in_dst),
        in_timeout,
    );
    *src = peer::encode(&ours_src);
    *dst = peer::encode(&ours_dst);
    *refresh = c_int::from(r.refresh_expiry);
    c_int::from(r.stale_sides)
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_import_decode(
    bytes: *const u8,
    len: usize,
    msg_version: u32,
    out: *mut sys::pfsync_rs_import,
) -> c_int {
    if bytes.is_null() || out.is_null() {
        return EINVAL;
    }
    let Some(version) = MsgVersion::from_number(msg_version) else {
        return EINVAL;
    };
    // SAFETY: the shim passes the `len` bytes of pf's record, readable for
    // the call.
    let raw = unsafe { core::slice::from_raw_parts(bytes, len) };
    let Ok(record) = StateRecord::decode(raw, version, StateChecks::Insert) else {
        return EINVAL;
    };
    // SAFETY: `out` is the shim's local, writable and not aliased.
    unsafe { out.write(convert::import_record(&record, msg_version)) };
    0
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_timeout(eng: *mut sys::pfsync_rs_engine, now_ns: u64) {
    // SAFETY: contract of `engine`.
    if let Some(k) = unsafe { engine(eng) } {
        let t = k.tick(now_ns);
        k.engine.handle_timeout(t, &mut k.host);
        anti_entropy::on_timeout(k, t);
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_poll_timeout(eng: *const sys::pfsync_rs_engine) -> u64 {
    // SAFETY: contract of `engine` (read-only use).
    match unsafe { engine(eng.cast_mut()) } {
        Some(k) => {
            let engine_at = k.engine.poll_timeout();
            let session_at = anti_entropy::deadline(k);
            let next = match (engine_at, session_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            next.map_or(u64::MAX, |t| t.as_nanos())
        }
        None => u64::MAX,
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_config_check(
    cfg: *const sys::pfsync_rs_config,
    release_version: u32,
) -> c_int {
    // SAFETY: the shim passes NULL or its configuration for the call.
    match unsafe { cfg.as_ref() } {
        Some(c) => convert::check(c, release_version).err().unwrap_or(0),
        None => EINVAL,
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_config_changed(
    eng: *mut sys::pfsync_rs_engine,
    cfg: *const sys::pfsync_rs_config,
    now_ns: u64,
) -> c_int {
    // SAFETY: contract of `engine`.
    let Some(k) = (unsafe { engine(eng) }) else {
        return EINVAL;
    };
    // SAFETY: the shim passes NULL or its configuration for the call.
    let Some(c) = (unsafe { cfg.as_ref() }) else {
        return EINVAL;
    };
    let mut new = match convert::engine_config(c, k.engine.config(), k.release) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let t = k.tick(now_ns);
    // The copy in `c` may be older than what tick() just read from pf.
    new.hostid = k.engine.config().hostid;
    new.ruleset_checksum = k.engine.config().ruleset_checksum;
    match k.engine.on_config_changed(t, &new, &mut k.host) {
        Ok(()) => 0,
        Err(e) => config_error(e),
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_running_changed(
    eng: *mut sys::pfsync_rs_engine,
    running: c_int,
    now_ns: u64,
) {
    // SAFETY: contract of `engine`.
    if let Some(k) = unsafe { engine(eng) } {
        let mut cfg = *k.engine.config();
        cfg.up = running != 0;
        let t = k.tick(now_ns);
        let _ = k.engine.on_config_changed(t, &cfg, &mut k.host);
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_resync_requested(
    eng: *mut sys::pfsync_rs_engine,
    now_ns: u64,
) {
    // SAFETY: contract of `engine`.
    if let Some(k) = unsafe { engine(eng) } {
        let t = k.tick(now_ns);
        k.engine.on_resync_requested(t, &mut k.host);
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_status_flags(eng: *const sys::pfsync_rs_engine) -> u32 {
    // SAFETY: contract of `engine` (read-only use).
    let Some(k) = (unsafe { engine(eng.cast_mut()) }) else {
        return 0;
    };
    let mut flags = CfgFlags::empty();
    flags.set(CfgFlags::OK, k.engine.sync_ok());
    flags.set(CfgFlags::DEFER, k.engine.config().defer);
    flags.bits()
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_effective_version(eng: *const sys::pfsync_rs_engine) -> u32 {
    // SAFETY: contract of `engine` (read-only use).
    match unsafe { engine(eng.cast_mut()) } {
        Some(k) => k.engine.config().version.number(),
        None => 0,
    }
}

fn since(now: &Stats, base: &Stats) -> Stats {
    let mut d = *now;
    let pairs = [
        (&mut d.ipackets, base.ipackets),
        (&mut d.ipackets6, base.ipackets6),
        (&mut d.badif, base.badif),
        (&mut d.badttl, base.badttl),
        (&mut d.hdrops, base.hdrops),
        (&mut d.badver, base.badver),
        (&mut d.badact, base.badact),
        (&mut d.badlen, base.badlen),
        (&mut d.badauth, base.badauth),
        (&mut d.stale, base.stale),
        (&mut d.badval, base.badval),
        (&mut d.badstate, base.badstate),
        (&mut d.opackets, base.opackets),
        (&mut d.opackets6, base.opackets6),
        (&mut d.onomem, base.onomem),
        (&mut d.oerrors, base.oerrors),
    ];
    for (v, b) in pairs {
        *v = v.saturating_sub(b);
    }
    for (v, b) in d.iacts.iter_mut().zip(base.iacts.iter()) {
        *v = v.saturating_sub(*b);
    }
    for (v, b) in d.oacts.iter_mut().zip(base.oacts.iter()) {
        *v = v.saturating_sub(*b);
    }
    d
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_stats_export(
    eng: *const sys::pfsync_rs_engine,
    out: *mut c_void,
    len: usize,
) -> c_int {
    // SAFETY: contract of `engine` (read-only use).
    let Some(k) = (unsafe { engine(eng.cast_mut()) }) else {
        return EINVAL;
    };
    if out.is_null() {
        return EINVAL;
    }
    // SAFETY: the shim passes its local struct pfsyncstats of `len` bytes.
    let buf = unsafe { core::slice::from_raw_parts_mut(out.cast::<u8>(), len) };
    let mut stats = since(k.engine.stats(), &k.stats_base);
    // Stock counts IPv6 sync in ipackets/opackets (pfsync6_input, pfsync_tx)
    // and never touches the *6 counters; netstat readers expect that.
    stats.ipackets = stats
        .ipackets
        .saturating_add(core::mem::take(&mut stats.ipackets6));
    stats.opackets = stats
        .opackets
        .saturating_add(core::mem::take(&mut stats.opackets6));
    stats.opackets = stats.opackets.saturating_sub(k.tx_failures);
    stats.oerrors = stats.oerrors.saturating_add(k.tx_failures);
    let nomem = crate::ffi::kalloc::failures().saturating_sub(k.alloc_failures_base);
    convert::write_stats(&stats, nomem, buf).err().unwrap_or(0)
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_on_transmit_failed(
    eng: *mut sys::pfsync_rs_engine,
    frames: u32,
) {
    // SAFETY: contract of `engine`.
    if let Some(k) = unsafe { engine(eng) } {
        k.tx_failures = k.tx_failures.saturating_add(u64::from(frames));
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_stats_clear(eng: *mut sys::pfsync_rs_engine) {
    // SAFETY: contract of `engine`.
    if let Some(k) = unsafe { engine(eng) } {
        k.stats_base = *k.engine.stats();
        k.alloc_failures_base = crate::ffi::kalloc::failures();
        k.tx_failures = 0;
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_queue_drops(eng: *const sys::pfsync_rs_engine) -> u64 {
    // SAFETY: contract of `engine` (read-only use).
    match unsafe { engine(eng.cast_mut()) } {
        Some(k) => k.engine.extra_stats().queue_overflow,
        None => 0,
    }
}

/// Copies what fits of `text` into `out` after `*at`, always leaving room for
/// a NUL; `*at` counts every byte offered, so the caller learns the size
/// that would have been needed.
fn put_text(out: &mut [u8], at: &mut usize, text: &[u8]) {
    let room = out.len().saturating_sub(1);
    for &b in text {
        if *at < room {
            if let Some(slot) = out.get_mut(*at) {
                *slot = b;
            }
        }
        *at += 1;
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_counters_format(
    eng: *const sys::pfsync_rs_engine,
    buf: *mut core::ffi::c_char,
    len: usize,
) -> usize {
    // SAFETY: contract of `engine` (read-only use).
    let Some(k) = (unsafe { engine(eng.cast_mut()) }) else {
        return 0;
    };
    if buf.is_null() || len == 0 {
        return 0;
    }
    // SAFETY: the caller passes a writable buffer of `len` bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    let mut at = 0usize;
    for (name, value) in k.engine.extra_stats().named() {
        put_text(out, &mut at, name.as_bytes());
        put_text(out, &mut at, b" ");
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = value;
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        put_text(out, &mut at, digits.get(i..).unwrap_or(&[]));
        put_text(out, &mut at, b"\n");
    }
    if let Some(nul) = out.get_mut(at.min(len - 1)) {
        *nul = 0;
    }
    at
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_bulk_progress(
    eng: *const sys::pfsync_rs_engine,
    states_sent: *mut u64,
    request_pending: *mut u32,
) {
    // SAFETY: contract of `engine` (read-only use).
    let Some(k) = (unsafe { engine(eng.cast_mut()) }) else {
        return;
    };
    // SAFETY: the shim passes its locals (or NULL).
    if let Some(s) = unsafe { states_sent.as_mut() } {
        *s = k.engine.extra_stats().bulk_states;
    }
    // SAFETY: as above.
    if let Some(p) = unsafe { request_pending.as_mut() } {
        *p = u32::from(!k.engine.sync_ok());
    }
}

/// Re-applies the configuration after a key change: the trailer room changes.
fn reapply(k: &mut KernelEngine, t: Instant) -> c_int {
    let cfg = *k.engine.config();
    match k.engine.on_config_changed(t, &cfg, &mut k.host) {
        Ok(()) => 0,
        Err(e) => config_error(e),
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_auth_set_key(
    eng: *mut sys::pfsync_rs_engine,
    id: u8,
    key: *const u8,
    len: usize,
    now_ns: u64,
) -> c_int {
    // Epoch 0 is never higher than the creation epoch: it stays in force.
    pfsync_rs_auth_set_key_at(eng, id, key, len, 0, now_ns)
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_auth_set_key_at(
    eng: *mut sys::pfsync_rs_engine,
    id: u8,
    key: *const u8,
    len: usize,
    wall_ns: u64,
    now_ns: u64,
) -> c_int {
    const ENOSPC: c_int = 28;
    // SAFETY: contract of `engine`.
    let Some(k) = (unsafe { engine(eng) }) else {
        return EINVAL;
    };
    // The trailer is verified on FreeBSD (version 5) frames only.
    if key.is_null() || k.engine.config().speaks_openbsd() {
        return EINVAL;
    }
    // SAFETY: the shim passes `len` readable bytes it wipes afterwards.
    let bytes = unsafe { core::slice::from_raw_parts(key, len) };
    let installed = k.engine.extension_mut().install_key(id, bytes, wall_ns);
    match installed {
        Ok(()) => {
            let t = k.tick(now_ns);
            reapply(k, t)
        }
        Err(KeyError::Full) => ENOSPC,
        Err(_) => EINVAL,
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_auth_clear(eng: *mut sys::pfsync_rs_engine, now_ns: u64) {
    // SAFETY: contract of `engine`.
    if let Some(k) = unsafe { engine(eng) } {
        k.engine.extension_mut().keys_mut().clear();
        let t = k.tick(now_ns);
        let _ = reapply(k, t);
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_auth_status(
    eng: *const sys::pfsync_rs_engine,
    enabled: *mut c_int,
    send_key_id: *mut c_int,
) {
    // SAFETY: contract of `engine` (read-only use).
    let Some(k) = (unsafe { engine(eng.cast_mut()) }) else {
        return;
    };
    let auth = k.engine.extension();
    // SAFETY: the shim passes its locals (or NULL).
    if let Some(e) = unsafe { enabled.as_mut() } {
        *e = c_int::from(auth.is_enabled());
    }
    // SAFETY: as above.
    if let Some(s) = unsafe { send_key_id.as_mut() } {
        *s = auth.keys().send_id().map_or(-1, c_int::from);
    }
}
