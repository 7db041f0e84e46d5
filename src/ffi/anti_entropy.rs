//! Anti-entropy (docs/anti-entropy.md) in the kernel: the optional session
//! next to the engine, its knob, its share of the timer and of input.
//!
//! The session, its frame and receive buffers and the hash buffer of its
//! digest walks (2^16 buckets) are allocated when it is enabled, fallibly (a
//! refusal is counted in onomem by the allocator). Per round the session
//! still allocates, fallibly, the peer's digest and the DETAIL lists, never
//! per frame. Its walks (digests, and the DETAIL lists a received
//! DETAIL_REQ or DETAIL asks for) are sliced (`Config::walk_slice` states per
//! timer call) and run from the timer only, so pf's table is never walked
//! whole in one call, nor in the network thread under the rules lock.

use alloc::vec::Vec;
use core::ffi::c_int;

use crate::antientropy::{Config, EngineIo, Session};
use crate::auth::{EXTENSION_MAX, TRAILER_LEN};
use crate::ffi::convert::EINVAL;
use crate::ffi::exports::{engine, KernelEngine, ENOMEM};
use crate::ffi::sys;
use crate::time::{Duration, Instant};

/// Bounds of `net.pfsync.rs.ae_period_ms`.
pub const PERIOD_MIN_MS: u32 = 100;
pub const PERIOD_MAX_MS: u32 = 3_600_000;
/// States visited per timer call while a digest is computed, and the pause
/// between two calls: a million states take 245 slices of about 100 us.
const WALK_SLICE: usize = 4096;
const WALK_PAUSE: Duration = Duration::from_millis(1);
/// IPv6's header, the larger one: digests fit either family.
const IP_HEADER: usize = 40;

pub struct KernelAntiEntropy {
    session: Session,
    period_ms: u32,
    /// The bytes past `len` of the frame just accepted.
    rx: Vec<u8>,
}

impl KernelAntiEntropy {
    fn new(k: &KernelEngine, period_ms: u32, now: Instant) -> Option<KernelAntiEntropy> {
        let mut rx = Vec::new();
        rx.try_reserve_exact(EXTENSION_MAX).ok()?;
        rx.resize(EXTENSION_MAX, 0);
        let cfg = k.engine.config();
        // Room for a trailer whether or not a key is installed now: a key
        // set later must not make digest frames outgrow the MTU.
        let config = Config {
            period: Duration::from_millis(u64::from(period_ms)),
            frame_len: usize::from(cfg.mtu).saturating_sub(IP_HEADER + TRAILER_LEN),
            trailer_len: if k.engine.extension().is_enabled() {
                TRAILER_LEN
            } else {
                0
            },
            walk_slice: WALK_SLICE,
            walk_pause: WALK_PAUSE,
            ..Config::new()
        };
        let mut session = Session::new(config, cfg.hostid)?;
        // Peers enabled together should not walk in lock-step.
        let spread = u64::from(cfg.hostid[3] % 8) * u64::from(period_ms) / 16;
        session.start(
            now,
            Duration::from_millis(u64::from(period_ms) / 2 + spread),
        );
        Some(KernelAntiEntropy {
            session,
            period_ms,
            rx,
        })
    }
}

impl KernelAntiEntropy {
    /// pf's hostid changed: our own states are those of the new creator.
    pub fn set_hostid(&mut self, hostid: [u8; 4]) {
        self.session.set_hostid(hostid);
    }
}

/// The session's next deadline, if it runs.
pub fn deadline(k: &KernelEngine) -> Option<Instant> {
    k.anti_entropy.as_ref()?.session.poll_timeout()
}

/// Runs the session's due work: a digest, a slice of a walk, a timeout.
pub fn on_timeout(k: &mut KernelEngine, now: Instant) {
    let Some(ae) = k.anti_entropy.as_mut() else {
        return;
    };
    if ae.session.poll_timeout().is_some_and(|t| t <= now) {
        let mut io = EngineIo {
            engine: &mut k.engine,
            host: &mut k.host,
            now,
        };
        ae.session.handle_timeout(now, &mut io);
    }
}

/// Hands the payload past `len` of the frame just accepted to the session.
pub fn after_frame(k: &mut KernelEngine, now: Instant) {
    let Some(ae) = k.anti_entropy.as_mut() else {
        return;
    };
    let Some(n) = k.engine.extension_mut().take_extension(&mut ae.rx) else {
        return;
    };
    let mut io = EngineIo {
        engine: &mut k.engine,
        host: &mut k.host,
        now,
    };
    ae.session
        .on_extension(now, ae.rx.get(..n).unwrap_or(&[]), &mut io);
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_anti_entropy_set(
    eng: *mut sys::pfsync_rs_engine,
    enabled: c_int,
    period_ms: u32,
    now_ns: u64,
) -> c_int {
    // SAFETY: contract of `engine`.
    let Some(k) = (unsafe { engine(eng) }) else {
        return EINVAL;
    };
    if enabled == 0 {
        k.anti_entropy = None;
        return 0;
    }
    // Its digests travel in FreeBSD frames, which an OpenBSD peer refuses.
    if !(PERIOD_MIN_MS..=PERIOD_MAX_MS).contains(&period_ms) || k.engine.config().speaks_openbsd() {
        return EINVAL;
    }
    if k.anti_entropy
        .as_ref()
        .is_some_and(|ae| ae.period_ms == period_ms)
    {
        return 0;
    }
    let now = k.tick(now_ns);
    match KernelAntiEntropy::new(k, period_ms, now) {
        Some(ae) => {
            k.anti_entropy = Some(ae);
            0
        }
        None => ENOMEM,
    }
}

#[no_mangle]
pub(crate) extern "C" fn pfsync_rs_anti_entropy_stats(
    eng: *const sys::pfsync_rs_engine,
    out: *mut sys::pfsync_rs_ae_stats,
) {
    // SAFETY: contract of `engine` (read-only use).
    let Some(k) = (unsafe { engine(eng.cast_mut()) }) else {
        return;
    };
    // SAFETY: the shim passes NULL or its local struct.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return;
    };
    *out = match &k.anti_entropy {
        None => sys::pfsync_rs_ae_stats {
            enabled: 0,
            digests_sent: 0,
            frames_sent: 0,
            bytes_sent: 0,
            rounds_compared: 0,
            buckets_mismatched: 0,
            updates_requested: 0,
            states_deleted: 0,
            ignored: 0,
            no_memory: 0,
            states_walked: 0,
            walk_slices: 0,
        },
        Some(ae) => {
            let s = ae.session.stats();
            sys::pfsync_rs_ae_stats {
                enabled: 1,
                digests_sent: s.digests_sent,
                frames_sent: s.frames_sent,
                bytes_sent: s.bytes_sent,
                rounds_compared: s.rounds_compared,
                buckets_mismatched: s.buckets_mismatched,
                updates_requested: s.updates_requested,
                states_deleted: s.states_deleted,
                ignored: s.ignored,
                no_memory: s.no_memory,
                states_walked: s.states_walked,
                walk_slices: s.walk_slices,
            }
        }
    };
}
