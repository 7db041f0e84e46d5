//! Arbitrary configurations through the core's configuration entry points,
//! exactly as the kernel shim calls them: `pfsync_rs_config_check` (the
//! SIOCSETPFSYNC / SIOCSETPFSYNCNV pre-check) and
//! `pfsync_rs_on_config_changed` on a live engine, over the C ABI.
//!
//! What is fuzzed is the Rust half of the kernel's validation. The C half
//! (kmod/pfsync_nv.c turning an nvlist into a `struct pfsync_rs_config`,
//! kmod/pfsync_if.c doing the same for a legacy `struct pfsyncreq`) needs
//! FreeBSD's libnv, which no package registry CI can use offers for Linux, so
//! it is not fuzzed here.
//!
//! Checks, for every configuration:
//! - no panic;
//! - the pre-check accepts exactly the configurations an independent
//!   reading of the header's rules accepts (syncdev NUL-terminated, maxupdates
//!   at most 255, version 0/1301/1400 and 1500 only on 15.x, a known
//!   address family, 65 <= ifmtu <= 65535);
//! - a configuration the pre-check refuses is refused by the apply with the
//!   same errno and changes nothing visible (status flags, effective version);
//! - an applied configuration shows: the version asked for (0 = the
//!   release's default) and the defer flag.
//!
//! Input: byte 0 bit 0 picks the release (14.3 or 15.1); then one
//! `struct pfsync_rs_config` after another (raw bytes, any value), each
//! followed by one byte: bit 0 = pfsync0 up, bit 1 = resync request after.
#![no_main]

use core::ffi::{c_char, c_int, c_void};
use libfuzzer_sys::fuzz_target;
use pfsync::ffi::sys;
use pfsync::wire::IfName;

const EINVAL: c_int = 22;
const RELEASE_14: u32 = 1_403_000;
const RELEASE_15: u32 = 1_501_000;

extern "C" {
    fn pfsync_rs_engine_create(
        abi_version: u32,
        release_version: u32,
        host: *const sys::pfsync_rs_host_ops,
        ctx: *mut c_void,
        hostid_be: *const u8,
        auth_epoch: u64,
        now_ns: u64,
    ) -> *mut sys::pfsync_rs_engine;
    fn pfsync_rs_engine_destroy(eng: *mut sys::pfsync_rs_engine);
    fn pfsync_rs_config_check(cfg: *const sys::pfsync_rs_config, release_version: u32) -> c_int;
    fn pfsync_rs_on_config_changed(
        eng: *mut sys::pfsync_rs_engine,
        cfg: *const sys::pfsync_rs_config,
        now_ns: u64,
    ) -> c_int;
    fn pfsync_rs_on_running_changed(eng: *mut sys::pfsync_rs_engine, running: c_int, now_ns: u64);
    fn pfsync_rs_on_resync_requested(eng: *mut sys::pfsync_rs_engine, now_ns: u64);
    fn pfsync_rs_on_timeout(eng: *mut sys::pfsync_rs_engine, now_ns: u64);
    fn pfsync_rs_status_flags(eng: *const sys::pfsync_rs_engine) -> u32;
    fn pfsync_rs_effective_version(eng: *const sys::pfsync_rs_engine) -> u32;
}

// A shim with an empty state table: every state op answers ENOENT.
const ENOENT: c_int = 2;

unsafe extern "C" fn no_lookup(
    _: *mut c_void,
    _: *const sys::pfsync_rs_state_id,
    _: *mut sys::pfsync_rs_state_snapshot,
) -> c_int {
    ENOENT
}
unsafe extern "C" fn no_import(
    _: *mut c_void,
    _: *const sys::pfsync_rs_import,
    _: u32,
    _: *const u8,
) -> c_int {
    EINVAL
}
unsafe extern "C" fn no_merge(
    _: *mut c_void,
    _: *const sys::pfsync_rs_state_id,
    _: *const u8,
    _: *const u8,
    _: u8,
    _: u32,
    _: *mut sys::pfsync_rs_merge_out,
) -> c_int {
    ENOENT
}
unsafe extern "C" fn no_store(
    _: *mut c_void,
    _: *const sys::pfsync_rs_state_id,
    _: *const u8,
) -> c_int {
    ENOENT
}
unsafe extern "C" fn no_delete(_: *mut c_void, _: *const sys::pfsync_rs_state_id) -> c_int {
    ENOENT
}
unsafe extern "C" fn no_clear(_: *mut c_void, _: *const u8, _: *const c_char) -> u64 {
    0
}
unsafe extern "C" fn no_next(
    _: *mut c_void,
    _: *mut sys::pfsync_rs_cursor,
    _: *mut sys::pfsync_rs_state_snapshot,
) -> c_int {
    ENOENT
}
unsafe extern "C" fn no_export(
    _: *mut c_void,
    _: *const sys::pfsync_rs_state_id,
    _: u32,
    _: *mut u8,
    _: usize,
) -> c_int {
    ENOENT
}
unsafe extern "C" fn sent(_: *mut c_void, _: *const u8, _: usize) -> c_int {
    0
}
unsafe extern "C" fn demote(_: *mut c_void, _: i32, _: *const c_char) {}
unsafe extern "C" fn release(_: *mut c_void, _: u64, _: c_int) {}
unsafe extern "C" fn pf_status(_: *mut c_void, hostid: *mut u8, cksum: *mut u8) {
    // SAFETY: the core passes 4 and 16 writable bytes.
    unsafe {
        core::ptr::write_bytes(hostid, 0, 4);
        *hostid.add(3) = 1;
        core::ptr::write_bytes(cksum, 0, 16);
    }
}

const OPS: sys::pfsync_rs_host_ops = sys::pfsync_rs_host_ops {
    state_lookup: Some(no_lookup),
    state_import: Some(no_import),
    state_merge: Some(no_merge),
    state_store_slot: Some(no_store),
    state_delete: Some(no_delete),
    states_clear: Some(no_clear),
    state_next: Some(no_next),
    state_export: Some(no_export),
    send: Some(sent),
    carp_demote: Some(demote),
    deferred_release: Some(release),
    pf_status: Some(pf_status),
};

const CONFIG_LEN: usize = core::mem::size_of::<sys::pfsync_rs_config>();

fn config_from(bytes: &[u8]) -> Option<sys::pfsync_rs_config> {
    let raw: &[u8; CONFIG_LEN] = bytes.get(..CONFIG_LEN)?.try_into().ok()?;
    // SAFETY: the struct is plain integers and integer arrays (bindgen
    // output of bindings/pfsync_core.h), so every bit pattern is a value;
    // the read is unaligned-safe.
    Some(unsafe { core::ptr::read_unaligned(raw.as_ptr().cast::<sys::pfsync_rs_config>()) })
}

/// The header's rules, read independently of the core.
fn acceptable(c: &sys::pfsync_rs_config, release: u32) -> bool {
    let name: [u8; 16] = c.syncdev.map(|b| b as u8);
    let version_ok = match c.version {
        0 | 1301 | 1400 => true,
        1500 => release >= 1_500_000,
        _ => false,
    };
    IfName::from_wire(&name).is_some()
        && c.maxupdates <= 255
        && version_ok
        && matches!(
            u32::from(c.syncpeer_af),
            sys::PFSYNC_RS_AF_UNSPEC | sys::PFSYNC_RS_AF_INET | sys::PFSYNC_RS_AF_INET6
        )
        && (65..=65535).contains(&c.ifmtu)
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut rest)) = data.split_first() else {
        return;
    };
    let release = if setup & 1 != 0 {
        RELEASE_15
    } else {
        RELEASE_14
    };
    let hostid = [0u8, 0, 0, 1];
    let mut now: u64 = 1_000_000_000;
    // SAFETY: a static, complete ops table; the context is never read by
    // these ops; hostid points at 4 bytes.
    let eng = unsafe {
        pfsync_rs_engine_create(
            sys::PFSYNC_RS_ABI_VERSION,
            release,
            &OPS,
            core::ptr::null_mut(),
            hostid.as_ptr(),
            1,
            now,
        )
    };
    assert!(!eng.is_null());
    while let Some(cfg) = config_from(rest) {
        let Some(&knobs) = rest.get(CONFIG_LEN) else {
            break;
        };
        rest = rest.get(CONFIG_LEN + 1..).unwrap_or(&[]);
        now += 10_000_000;
        // SAFETY: `eng` is live until destroyed below; `cfg` is a local.
        unsafe {
            let check = pfsync_rs_config_check(&cfg, release);
            assert!(check == 0 || check == EINVAL, "errno {check}");
            assert_eq!(check == 0, acceptable(&cfg, release), "{cfg:?}");
            let (flags, version) = (
                pfsync_rs_status_flags(eng),
                pfsync_rs_effective_version(eng),
            );
            let applied = pfsync_rs_on_config_changed(eng, &cfg, now);
            if check != 0 {
                assert_eq!(applied, check, "the apply refused differently");
                assert_eq!(pfsync_rs_status_flags(eng), flags);
                assert_eq!(pfsync_rs_effective_version(eng), version);
            } else if applied == 0 {
                let want = match cfg.version {
                    0 if release >= 1_500_000 => 1500,
                    0 => 1400,
                    v => v,
                };
                assert_eq!(pfsync_rs_effective_version(eng), want);
                let defer = pfsync_rs_status_flags(eng) & sys::PFSYNC_RS_CFG_DEFER != 0;
                assert_eq!(defer, cfg.flags & sys::PFSYNC_RS_CFG_DEFER != 0);
            } else {
                assert_eq!(
                    pfsync_rs_effective_version(eng),
                    version,
                    "a refused apply changed the version"
                );
            }
            pfsync_rs_on_running_changed(eng, c_int::from(knobs & 1), now);
            if knobs & 2 != 0 {
                pfsync_rs_on_resync_requested(eng, now);
            }
            now += 5_000_000_000;
            pfsync_rs_on_timeout(eng, now);
        }
    }
    // SAFETY: created above, not used afterwards.
    unsafe { pfsync_rs_engine_destroy(eng) };
});
