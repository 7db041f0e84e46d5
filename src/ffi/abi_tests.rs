//! The C ABI driven the way the kernel shim drives it, against a fake shim
//! written in Rust: entry points in, host operations out, bytes on the wire.

use core::ffi::{c_char, c_int, c_void};
use std::vec::Vec;

use crate::ffi::anti_entropy::*;
use crate::ffi::exports::*;
use crate::ffi::sys;
use crate::wire::reader::{Event, FrameReader};
use crate::wire::{IfName, MsgVersion, StateId, StateRecord};

const RELEASE_15: u32 = 1_500_000;
const RELEASE_14: u32 = 1_400_000;

/// The fake shim: a tiny state table and everything the core asked for.
#[derive(Default)]
struct Fake {
    states: Vec<(StateId, [u8; 12])>,
    sent: Vec<Vec<u8>>,
    imported: Vec<StateId>,
    /// `msg_version` of each import, in order.
    imported_formats: Vec<u32>,
    demotion: i32,
    released: Vec<(u64, c_int)>,
    /// pf's live `V_pf_status.hostid` and `pf_chksum`.
    hostid: [u8; 4],
    cksum: [u8; 16],
}

fn record(id: &StateId) -> StateRecord {
    StateRecord {
        id: *id,
        ifname: IfName::new("em0").unwrap(),
        wire_af: 2,
        stack_af: 2,
        wire_proto: 6,
        stack_proto: 6,
        direction: 1,
        timeout: 4,
        ..StateRecord::default()
    }
}

/// # Safety
/// `ctx` is the `Fake` given to `pfsync_rs_engine_create` by these tests.
unsafe fn fake<'a>(ctx: *mut c_void) -> &'a mut Fake {
    // SAFETY: per the function contract; tests run the engine single-threaded.
    unsafe { &mut *ctx.cast::<Fake>() }
}

unsafe extern "C" fn f_lookup(
    ctx: *mut c_void,
    sid: *const sys::pfsync_rs_state_id,
    out: *mut sys::pfsync_rs_state_snapshot,
) -> c_int {
    // SAFETY: the core passes valid pointers to its locals.
    let (f, sid, out) = unsafe { (fake(ctx), &*sid, &mut *out) };
    let id = StateId {
        id: sid.id_be,
        creatorid: sid.creatorid_be,
    };
    match f.states.iter().find(|(s, _)| *s == id) {
        Some((_, slot)) => {
            out.sid = *sid;
            out.wire_proto = 6;
            out.timeout = 4;
            out.slot = *slot;
            0
        }
        None => 2,
    }
}

unsafe extern "C" fn f_import(
    ctx: *mut c_void,
    rec: *const sys::pfsync_rs_import,
    _flags: u32,
    slot: *const u8,
) -> c_int {
    // SAFETY: the core passes valid pointers to its locals.
    let (f, rec, slot) = unsafe { (fake(ctx), &*rec, &*slot.cast::<[u8; 12]>()) };
    let id = StateId {
        id: rec.sid.id_be,
        creatorid: rec.sid.creatorid_be,
    };
    f.imported.push(id);
    f.imported_formats.push(rec.msg_version);
    f.states.push((id, *slot));
    0
}

unsafe extern "C" fn f_merge(
    _ctx: *mut c_void,
    _sid: *const sys::pfsync_rs_state_id,
    _src: *const u8,
    _dst: *const u8,
    _timeout: u8,
    _touched: u32,
    _out: *mut sys::pfsync_rs_merge_out,
) -> c_int {
    2
}

unsafe extern "C" fn f_store_slot(
    ctx: *mut c_void,
    sid: *const sys::pfsync_rs_state_id,
    slot: *const u8,
) -> c_int {
    // SAFETY: the core passes valid pointers to its locals.
    let (f, sid, slot) = unsafe { (fake(ctx), &*sid, &*slot.cast::<[u8; 12]>()) };
    for (s, v) in f.states.iter_mut() {
        if s.id == sid.id_be && s.creatorid == sid.creatorid_be {
            *v = *slot;
            return 0;
        }
    }
    2
}

unsafe extern "C" fn f_delete(_ctx: *mut c_void, _sid: *const sys::pfsync_rs_state_id) -> c_int {
    2
}

unsafe extern "C" fn f_clear(_ctx: *mut c_void, _c: *const u8, _i: *const c_char) -> u64 {
    0
}

/// Walks the fake table in insertion order, the cursor's position being the
/// index of the next state.
unsafe extern "C" fn f_next(
    ctx: *mut c_void,
    cur: *mut sys::pfsync_rs_cursor,
    out: *mut sys::pfsync_rs_state_snapshot,
) -> c_int {
    // SAFETY: the core passes valid pointers to its locals.
    let (f, cur, out) = unsafe { (fake(ctx), &mut *cur, &mut *out) };
    let Some((id, slot)) = f.states.get(cur.position as usize) else {
        return 2;
    };
    cur.position += 1;
    out.sid = sys::pfsync_rs_state_id {
        id_be: id.id,
        creatorid_be: id.creatorid,
    };
    out.state_flags = 0;
    out.wire_proto = 6;
    out.timeout = 4;
    out.src = [0; 32];
    out.dst = [0; 32];
    out.slot = *slot;
    0
}

unsafe extern "C" fn f_export(
    _ctx: *mut c_void,
    sid: *const sys::pfsync_rs_state_id,
    version: u32,
    out: *mut u8,
    len: usize,
) -> c_int {
    // SAFETY: the core passes its buffer of `len` bytes and a valid id.
    let (sid, buf) = unsafe { (&*sid, core::slice::from_raw_parts_mut(out, len)) };
    let id = StateId {
        id: sid.id_be,
        creatorid: sid.creatorid_be,
    };
    if version == crate::ffi::convert::MSG_OPENBSD {
        return match crate::wire::OpenBsdState::from_record(&record(&id)).emit(buf) {
            Ok(_) => 0,
            Err(_) => 28,
        };
    }
    let v = MsgVersion::from_number(version).unwrap();
    match record(&id).emit(v, buf) {
        Ok(_) => 0,
        Err(_) => 28,
    }
}

unsafe extern "C" fn f_send(ctx: *mut c_void, frame: *const u8, len: usize) -> c_int {
    // SAFETY: the core passes `len` readable bytes.
    let (f, bytes) = unsafe { (fake(ctx), core::slice::from_raw_parts(frame, len)) };
    f.sent.push(bytes.to_vec());
    0
}

unsafe extern "C" fn f_demote(ctx: *mut c_void, adj: i32, _reason: *const c_char) {
    // SAFETY: as in f_send.
    unsafe { fake(ctx) }.demotion += adj;
}

unsafe extern "C" fn f_release(ctx: *mut c_void, token: u64, transmit: c_int) {
    // SAFETY: as in f_send.
    unsafe { fake(ctx) }.released.push((token, transmit));
}

unsafe extern "C" fn f_pf_status(ctx: *mut c_void, hostid: *mut u8, cksum: *mut u8) {
    // SAFETY: as in f_send; the core passes 4 and 16 writable bytes.
    let (f, h, c) = unsafe {
        (
            fake(ctx),
            &mut *hostid.cast::<[u8; 4]>(),
            &mut *cksum.cast::<[u8; 16]>(),
        )
    };
    *h = f.hostid;
    *c = f.cksum;
}

const OPS: sys::pfsync_rs_host_ops = sys::pfsync_rs_host_ops {
    state_lookup: Some(f_lookup),
    state_import: Some(f_import),
    state_merge: Some(f_merge),
    state_store_slot: Some(f_store_slot),
    state_delete: Some(f_delete),
    states_clear: Some(f_clear),
    state_next: Some(f_next),
    state_export: Some(f_export),
    send: Some(f_send),
    carp_demote: Some(f_demote),
    deferred_release: Some(f_release),
    pf_status: Some(f_pf_status),
};

/// The configuration the shim hands over for `syncdev`, as `ifconfig
/// pfsync0 syncdev ...` with stock defaults would.
pub(super) fn config(syncdev: &str) -> sys::pfsync_rs_config {
    let mut name = [0 as c_char; 16];
    for (d, s) in name.iter_mut().zip(syncdev.bytes()) {
        *d = s as c_char;
    }
    sys::pfsync_rs_config {
        syncdev: name,
        syncpeer_af: 0,
        syncdev_multicast: 1,
        pad: [0; 2],
        syncpeer: [0; 16],
        maxupdates: 128,
        flags: 0,
        version: 0,
        syncdev_mtu: 1500,
        ifmtu: 1500,
        defer_delay_ms: 20,
        carp_demotion: 240,
        bulk_pace_us: 0,
        hostid_be: [1, 2, 3, 4],
        pf_cksum: [0; 16],
        syncdev_baudrate: 1_000_000_000,
    }
}

fn info(id: &StateId) -> sys::pfsync_rs_state_info {
    sys::pfsync_rs_state_info {
        sid: sys::pfsync_rs_state_id {
            id_be: id.id,
            creatorid_be: id.creatorid,
        },
        state_flags: 0,
        wire_proto: 6,
        rule_nosync: 0,
        timeout: 4,
        pad: 0,
        pending_updates: 0,
    }
}

/// An engine over `fake`, configured with a sync interface and up.
fn running_engine(fake: &mut Fake, release: u32) -> *mut sys::pfsync_rs_engine {
    running_engine_as(fake, release, [1, 2, 3, 4])
}

fn running_engine_as(fake: &mut Fake, release: u32, hostid: [u8; 4]) -> *mut sys::pfsync_rs_engine {
    fake.hostid = hostid;
    let ctx = (fake as *mut Fake).cast::<c_void>();
    let eng = pfsync_rs_engine_create(
        sys::PFSYNC_RS_ABI_VERSION,
        release,
        &OPS,
        ctx,
        hostid.as_ptr(),
        7,
        0,
    );
    assert!(!eng.is_null());
    let mut cfg = config("em1");
    cfg.hostid_be = hostid;
    assert_eq!(pfsync_rs_on_config_changed(eng, &cfg, 1_000), 0);
    pfsync_rs_on_running_changed(eng, 1, 2_000);
    eng
}

/// Fires the engine's timer until it has nothing left or `until` passes.
fn run_timers(eng: *mut sys::pfsync_rs_engine, mut now: u64, until: u64) -> u64 {
    for _ in 0..1000 {
        let t = pfsync_rs_poll_timeout(eng);
        if t == u64::MAX || t > until {
            break;
        }
        now = now.max(t);
        pfsync_rs_on_timeout(eng, now);
    }
    now
}

fn actions(frame: &[u8]) -> Vec<u8> {
    FrameReader::new(frame)
        .unwrap()
        .filter_map(|e| match e {
            Ok(Event::Section { action, .. }) => Some(action),
            _ => None,
        })
        .collect()
}

fn stat(buf: &[u8], index: usize) -> u64 {
    u64::from_ne_bytes(buf[index * 8..index * 8 + 8].try_into().unwrap())
}

#[test]
fn inserted_state_goes_out_as_ins_1500_and_is_counted() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let id = StateId {
        id: [0, 0, 0, 0, 0, 0, 0, 9],
        creatorid: [1, 2, 3, 4],
    };
    let mut slot = [0u8; 12];
    pfsync_rs_slot_init(slot.as_mut_ptr());
    fake.states.push((id, slot));
    pfsync_rs_on_state_inserted(eng, &info(&id), slot.as_mut_ptr(), 3_000);
    run_timers(eng, 3_000, 5_000_000_000);

    let all: Vec<u8> = fake.sent.iter().flat_map(|f| actions(f)).collect();
    assert!(all.contains(&15), "no INS_1500 section in {all:?}");
    assert!(all.contains(&5), "no bulk request (UPD_REQ) in {all:?}");
    assert!(fake.sent.iter().all(|f| f[0] == 5), "pfsync header version");

    let mut stats = [0u8; 400];
    assert_eq!(
        pfsync_rs_stats_export(eng, stats.as_mut_ptr().cast(), 400),
        0
    );
    assert_eq!(stat(&stats, 12), fake.sent.len() as u64, "opackets");
    assert_eq!(stat(&stats, 16 + 17 + 15), 1, "oacts[INS_1500]");
    pfsync_rs_on_transmit_failed(eng, 1);
    assert_eq!(
        pfsync_rs_stats_export(eng, stats.as_mut_ptr().cast(), 400),
        0
    );
    assert_eq!(stat(&stats, 12), fake.sent.len() as u64 - 1, "opackets");
    assert_eq!(stat(&stats, 15), 1, "oerrors");
    let mut small = [0u8; 368];
    assert_eq!(
        pfsync_rs_stats_export(eng, small.as_mut_ptr().cast(), 368),
        0
    );
    assert_eq!(
        pfsync_rs_stats_export(eng, small.as_mut_ptr().cast(), 360),
        convert_einval()
    );
    pfsync_rs_stats_clear(eng);
    assert_eq!(
        pfsync_rs_stats_export(eng, stats.as_mut_ptr().cast(), 400),
        0
    );
    assert_eq!(stat(&stats, 12), 0, "opackets after clear");

    pfsync_rs_engine_destroy(eng);
}

#[test]
fn an_openbsd_release_speaks_pfsync_v6_and_exports_openbsd_records() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, crate::ffi::convert::RELEASE_OPENBSD);
    let id = StateId {
        id: [0, 0, 0, 0, 0, 0, 0, 9],
        creatorid: [1, 2, 3, 4],
    };
    let mut slot = [0u8; 12];
    pfsync_rs_slot_init(slot.as_mut_ptr());
    fake.states.push((id, slot));
    pfsync_rs_on_state_inserted(eng, &info(&id), slot.as_mut_ptr(), 3_000);
    run_timers(eng, 3_000, 5_000_000_000);

    assert!(!fake.sent.is_empty());
    assert!(
        fake.sent.iter().all(|f| f[0] == 6),
        "OpenBSD header version"
    );
    let inserts: Vec<crate::wire::OpenBsdState> = fake
        .sent
        .iter()
        .flat_map(|f| FrameReader::new_openbsd(f).unwrap())
        .filter_map(|e| match e {
            Ok(Event::Message(crate::wire::Message::OpenBsdIns(s))) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(inserts.len(), 1, "one OpenBSD INS (13)");
    assert_eq!(inserts[0].id, id);
    // A FreeBSD frame is another protocol to this engine.
    let mut buf = [0u8; 64];
    let mut b = crate::wire::FrameBuilder::new(&mut buf, 64).unwrap();
    b.push_del_c(&crate::wire::DelC { state: id }).unwrap();
    let len = b.finish([0; 16], true);
    pfsync_rs_on_frame_received(eng, buf.as_ptr(), len, &rx_meta(len), 6_000_000_000);
    let mut stats = [0u8; 400];
    assert_eq!(
        pfsync_rs_stats_export(eng, stats.as_mut_ptr().cast(), 400),
        0
    );
    assert_eq!(stat(&stats, 5), 1, "badver");
    // Anti-entropy and authentication work on FreeBSD frames: refused.
    assert_eq!(
        pfsync_rs_anti_entropy_set(eng, 1, 1_000, 7_000_000_000),
        convert_einval()
    );
    let key = [0x42u8; 32];
    assert_eq!(
        pfsync_rs_auth_set_key(eng, 1, key.as_ptr(), key.len(), 7_000_000_000),
        convert_einval()
    );
    pfsync_rs_engine_destroy(eng);
}

fn convert_einval() -> c_int {
    crate::ffi::convert::EINVAL
}

#[test]
fn frames_with_a_bad_ttl_or_interface_are_counted_and_ignored() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    run_timers(eng, 2_000, 2_000_000_000);
    let frame = fake.sent.first().cloned().expect("the bulk request frame");
    let mut meta = sys::pfsync_rs_rx_meta {
        af: 2,
        ttl: 254,
        rcvif_is_syncdev: 1,
        pf_running: 1,
        if_running: 1,
        truncated: 0,
        pad: [0; 2],
        ip_total_len: 20 + frame.len() as u32,
        src_addr: [0; 16],
        local_pf_cksum: [0; 16],
    };
    pfsync_rs_on_frame_received(eng, frame.as_ptr(), frame.len(), &meta, 3_000_000_000);
    meta.ttl = 255;
    meta.rcvif_is_syncdev = 0;
    pfsync_rs_on_frame_received(eng, frame.as_ptr(), frame.len(), &meta, 3_000_000_001);
    meta.rcvif_is_syncdev = 1;
    meta.truncated = 1;
    pfsync_rs_on_frame_received(eng, core::ptr::null(), 0, &meta, 3_000_000_002);

    let mut stats = [0u8; 400];
    assert_eq!(
        pfsync_rs_stats_export(eng, stats.as_mut_ptr().cast(), 400),
        0
    );
    assert_eq!(stat(&stats, 0), 3, "ipackets");
    assert_eq!(stat(&stats, 2), 1, "badif");
    assert_eq!(stat(&stats, 3), 1, "badttl");
    assert_eq!(stat(&stats, 4), 1, "hdrops");
    assert!(fake.imported.is_empty());
    pfsync_rs_engine_destroy(eng);
}

#[test]
fn import_decode_accepts_valid_records_and_refuses_unterminated_names() {
    let id = StateId {
        id: [0, 0, 0, 0, 0, 0, 0, 1],
        creatorid: [9, 9, 9, 9],
    };
    let mut buf = [0u8; 360];
    record(&id).emit(MsgVersion::V1500, &mut buf).unwrap();
    let mut out = core::mem::MaybeUninit::<sys::pfsync_rs_import>::zeroed();
    assert_eq!(
        pfsync_rs_import_decode(buf.as_ptr(), buf.len(), 1500, out.as_mut_ptr()),
        0
    );
    // SAFETY: the call returned 0, so it wrote the whole struct.
    let rec = unsafe { out.assume_init() };
    assert_eq!(rec.sid.creatorid_be, [9, 9, 9, 9]);
    assert_eq!(
        rec.ifname[..4],
        [b'e' as c_char, b'm' as c_char, b'0' as c_char, 0]
    );
    assert_eq!((rec.wire_af, rec.wire_proto, rec.msg_version), (2, 6, 1500));

    // ifname is the first field after the id-independent key block: find it
    // by its bytes rather than by offset, and fill all 16 bytes.
    let at = buf.windows(4).position(|w| w == b"em0\0").unwrap();
    buf[at..at + 16].fill(b'x');
    assert_eq!(
        pfsync_rs_import_decode(buf.as_ptr(), buf.len(), 1500, out.as_mut_ptr()),
        convert_einval()
    );
    assert_eq!(
        pfsync_rs_import_decode(buf.as_ptr(), buf.len(), 1234, out.as_mut_ptr()),
        convert_einval()
    );
    assert_eq!(
        pfsync_rs_import_decode(buf.as_ptr(), 100, 1500, out.as_mut_ptr()),
        convert_einval()
    );
}

#[test]
fn config_check_refuses_values_out_of_their_domain() {
    let ok = config("em1");
    assert_eq!(pfsync_rs_config_check(&ok, RELEASE_14), 0);
    let mut c = ok;
    c.maxupdates = 256;
    assert_eq!(pfsync_rs_config_check(&c, RELEASE_15), convert_einval());
    let mut c = ok;
    c.version = 1500;
    assert_eq!(pfsync_rs_config_check(&c, RELEASE_14), convert_einval());
    assert_eq!(pfsync_rs_config_check(&c, RELEASE_15), 0);
    let mut c = ok;
    c.syncpeer_af = 7;
    assert_eq!(pfsync_rs_config_check(&c, RELEASE_15), convert_einval());
    let mut c = ok;
    c.syncdev = [b'x' as c_char; 16];
    assert_eq!(pfsync_rs_config_check(&c, RELEASE_15), convert_einval());
}

#[test]
fn policy_matches_stock_insert_hook() {
    let id = StateId::default();
    let mut i = info(&id);
    assert_eq!(
        pfsync_rs_state_policy(&i),
        sys::PFSYNC_RS_POLICY_SYNC as c_int
    );
    i.wire_proto = 240;
    assert_eq!(
        pfsync_rs_state_policy(&i),
        sys::PFSYNC_RS_POLICY_NOSYNC as c_int
    );
    i.wire_proto = 6;
    i.rule_nosync = 1;
    assert_eq!(
        pfsync_rs_state_policy(&i),
        sys::PFSYNC_RS_POLICY_NOSYNC as c_int
    );
    i.state_flags = 0x0008;
    assert_eq!(
        pfsync_rs_state_policy(&i),
        sys::PFSYNC_RS_POLICY_IGNORE as c_int
    );
    assert_eq!(
        pfsync_rs_state_policy(core::ptr::null()),
        sys::PFSYNC_RS_POLICY_IGNORE as c_int
    );
}

#[test]
fn merge_never_moves_a_tcp_side_backwards() {
    use crate::wire::{peer, Peer};
    let ours_dst = Peer {
        state: 4,
        seqlo: 100_000,
        seqhi: 200_000,
        max_win: 1000,
        ..Peer::default()
    };
    let theirs_dst = Peer {
        seqlo: 50_000,
        ..ours_dst
    };
    let src = Peer {
        state: 4,
        seqlo: 10,
        seqhi: 20,
        ..Peer::default()
    };
    let newer_src = Peer { seqlo: 15, ..src };
    let (mut s, mut d) = (peer::encode(&src), peer::encode(&ours_dst));
    let (is, id) = (peer::encode(&newer_src), peer::encode(&theirs_dst));
    let mut timeout = 4u8;
    let mut refresh = 0;
    let stale = pfsync_rs_merge_peers(
        6,
        s.as_mut_ptr(),
        d.as_mut_ptr(),
        &mut timeout,
        is.as_ptr(),
        id.as_ptr(),
        5,
        &mut refresh,
    );
    assert_eq!(stale, 1);
    assert_eq!(peer::decode(&d).seqlo, 100_000, "stale dst kept");
    assert_eq!(peer::decode(&s).seqlo, 15, "fresh src taken");
    assert_eq!((refresh, timeout), (1, 5));
}

#[test]
fn engine_creation_refuses_a_wrong_abi_or_missing_ops() {
    let mut fake = Fake::default();
    let ctx = (&mut fake as *mut Fake).cast::<c_void>();
    let hostid = [1u8, 2, 3, 4];
    let h = hostid.as_ptr();
    assert!(pfsync_rs_engine_create(99, RELEASE_15, &OPS, ctx, h, 7, 0).is_null());
    let mut holes = OPS;
    holes.send = None;
    assert!(pfsync_rs_engine_create(1, RELEASE_15, &holes, ctx, h, 7, 0).is_null());
    assert!(pfsync_rs_engine_create(1, RELEASE_15, core::ptr::null(), ctx, h, 7, 0).is_null());
    assert!(pfsync_rs_engine_create(1, RELEASE_15, &OPS, ctx, core::ptr::null(), 7, 0).is_null());
}

#[test]
fn an_installed_key_signs_every_frame_and_clearing_it_stops() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let (mut enabled, mut send) = (0, 0);
    pfsync_rs_auth_status(eng, &mut enabled, &mut send);
    assert_eq!((enabled, send), (0, -1));

    assert_eq!(
        pfsync_rs_auth_set_key(eng, 3, [7u8; 31].as_ptr(), 31, 3_000),
        convert_einval()
    );
    assert_eq!(
        pfsync_rs_auth_set_key(eng, 3, [7u8; 32].as_ptr(), 32, 3_000),
        0
    );
    pfsync_rs_auth_status(eng, &mut enabled, &mut send);
    assert_eq!((enabled, send), (1, 3));

    run_timers(eng, 3_000, 20_000_000_000);
    let signed = fake.sent.last().cloned().expect("a frame after the key");
    let len = usize::from(u16::from_be_bytes([signed[2], signed[3]]));
    assert_eq!(signed.len(), len + 44, "44-byte trailer after len");
    assert_eq!(&signed[len..len + 4], b"PFSA");

    pfsync_rs_auth_clear(eng, 21_000_000_000);
    pfsync_rs_auth_status(eng, &mut enabled, &mut send);
    assert_eq!((enabled, send), (0, -1));
    pfsync_rs_on_resync_requested(eng, 21_000_000_001);
    run_timers(eng, 21_000_000_001, 40_000_000_000);
    let plain = fake.sent.last().cloned().unwrap();
    let len = usize::from(u16::from_be_bytes([plain[2], plain[3]]));
    assert_eq!(plain.len(), len, "unsigned again");
    pfsync_rs_engine_destroy(eng);
}

/// Item 17 of issue 11: a module built for 14.x reads frames as stock 14
/// does: actions 15/16 (INS/UPD 1500) are beyond its PFSYNC_ACT_MAX, so the
/// frame is dropped from there on and `badact` counted.
#[test]
fn a_14x_build_refuses_format_1500_as_stock_14_does() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_14);
    let id = StateId {
        id: [0, 0, 0, 0, 0, 0, 0, 3],
        creatorid: [9, 9, 9, 9],
    };
    let mut buf = vec![0u8; 1500];
    let mut b = crate::wire::FrameBuilder::new(&mut buf, 1480).unwrap();
    b.push_ins(MsgVersion::V1500, &record(&id)).unwrap();
    let len = b.finish([0; 16], true);
    let meta = rx_meta(len);
    pfsync_rs_on_frame_received(eng, buf.as_ptr(), len, &meta, 5_000);
    assert!(fake.imported.is_empty());
    let mut stats = vec![0u8; 128 + 15 * 16];
    assert_eq!(
        pfsync_rs_stats_export(eng, stats.as_mut_ptr().cast(), stats.len()),
        0
    );
    assert_eq!(stat(&stats, 6), 1, "badact");
    pfsync_rs_engine_destroy(eng);
}

/// The epoch field of a signed frame's trailer.
fn trailer_epoch(frame: &[u8]) -> u64 {
    let len = usize::from(u16::from_be_bytes([frame[2], frame[3]]));
    u64::from_be_bytes(frame[len + 12..len + 20].try_into().unwrap())
}

/// Item 16 of issue 11: preloaded at boot the engine is created before
/// inittodr(), so the creation epoch is about the uptime (7 ns here); the
/// wall clock at the first key install must be what peers see.
#[test]
fn a_boot_time_engine_signs_with_the_wall_clock_of_its_first_key() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let wall_at_install = 1_780_000_000_000_000_000u64;
    assert_eq!(
        pfsync_rs_auth_set_key_at(eng, 3, [7u8; 32].as_ptr(), 32, wall_at_install, 3_000),
        0
    );
    pfsync_rs_on_resync_requested(eng, 3_001);
    run_timers(eng, 3_001, 20_000_000_000);
    let signed = fake.sent.last().cloned().expect("a signed frame");
    assert_eq!(trailer_epoch(&signed), wall_at_install);

    // A second key (rotation) must not move the epoch again: the counter
    // would restart within what receivers already hold as this boot.
    assert_eq!(
        pfsync_rs_auth_set_key_at(
            eng,
            4,
            [8u8; 32].as_ptr(),
            32,
            wall_at_install + 9,
            30_000_000_000
        ),
        0
    );
    pfsync_rs_on_resync_requested(eng, 30_000_000_001);
    run_timers(eng, 30_000_000_001, 50_000_000_000);
    let signed = fake.sent.last().cloned().expect("a signed frame");
    assert_eq!(trailer_epoch(&signed), wall_at_install);
    pfsync_rs_engine_destroy(eng);
}

#[test]
fn a_deferred_packet_comes_back_through_its_token_exactly_once() {
    let mut fake = Fake::default();
    let ctx = (&mut fake as *mut Fake).cast::<c_void>();
    let hostid = [1u8, 2, 3, 4];
    let eng = pfsync_rs_engine_create(1, RELEASE_15, &OPS, ctx, hostid.as_ptr(), 7, 0);
    assert!(!eng.is_null());
    let mut cfg = config("em1");
    cfg.flags = sys::PFSYNC_RS_CFG_DEFER;
    assert_eq!(pfsync_rs_on_config_changed(eng, &cfg, 1_000), 0);
    pfsync_rs_on_running_changed(eng, 1, 2_000);
    let mut flags = pfsync_rs_status_flags(eng);
    assert_ne!(flags & sys::PFSYNC_RS_CFG_DEFER, 0);

    let id = StateId {
        id: [0, 0, 0, 0, 0, 0, 0, 5],
        creatorid: [1, 2, 3, 4],
    };
    let mut slot = [0u8; 12];
    pfsync_rs_slot_init(slot.as_mut_ptr());
    fake.states.push((id, slot));
    pfsync_rs_on_state_inserted(eng, &info(&id), slot.as_mut_ptr(), 3_000);
    let kept = pfsync_rs_on_defer_requested(eng, &info(&id), slot.as_mut_ptr(), 42, 3_001);
    assert_eq!(kept, 1);
    assert!(fake.released.is_empty());

    // defer_delay is 20 ms: by then the packet must have been let go, once.
    run_timers(eng, 3_001, 1_000_000_000);
    assert_eq!(fake.released, [(42, 1)]);
    flags = pfsync_rs_status_flags(eng);
    assert_ne!(flags & sys::PFSYNC_RS_CFG_DEFER, 0);
    pfsync_rs_engine_destroy(eng);
    assert_eq!(fake.released.len(), 1, "destroy does not release it again");
}

/// The anti-entropy message kind of a frame, if it carries one.
fn ae_kind(frame: &[u8]) -> Option<crate::antientropy::wire::Kind> {
    crate::antientropy::wire::Message::parse(crate::antientropy::wire::extension_region(frame))
        .map(|m| m.kind)
}

fn ae_stats(eng: *mut sys::pfsync_rs_engine) -> sys::pfsync_rs_ae_stats {
    // SAFETY: plain old data; every field is an integer.
    let mut st: sys::pfsync_rs_ae_stats = unsafe { core::mem::zeroed() };
    pfsync_rs_anti_entropy_stats(eng, &mut st);
    st
}

fn rx_meta(len: usize) -> sys::pfsync_rs_rx_meta {
    sys::pfsync_rs_rx_meta {
        af: 2,
        ttl: 255,
        rcvif_is_syncdev: 1,
        pf_running: 1,
        if_running: 1,
        truncated: 0,
        pad: [0; 2],
        ip_total_len: 20 + len as u32,
        src_addr: [0; 16],
        local_pf_cksum: [0; 16],
    }
}

#[test]
fn anti_entropy_is_off_by_default_and_sends_nothing() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    run_timers(eng, 2_000, 30_000_000_000);
    assert!(!fake.sent.is_empty());
    assert!(fake.sent.iter().all(|f| ae_kind(f).is_none()));
    assert_eq!(ae_stats(eng).enabled, 0);
    pfsync_rs_engine_destroy(eng);
}

#[test]
fn enabling_anti_entropy_sends_digests_on_the_timer() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    for i in 0..3u64 {
        let id = StateId {
            id: (100 + i).to_be_bytes(),
            creatorid: [1, 2, 3, 4],
        };
        fake.states.push((id, [0; 12]));
    }
    assert_eq!(
        pfsync_rs_anti_entropy_set(eng, 1, 50, 3_000),
        convert_einval()
    );
    assert_eq!(ae_stats(eng).enabled, 0);
    assert_eq!(pfsync_rs_anti_entropy_set(eng, 1, 1_000, 3_000), 0);
    run_timers(eng, 3_000, 3_000_000_000);
    let digests = fake
        .sent
        .iter()
        .filter(|f| ae_kind(f) == Some(crate::antientropy::wire::Kind::Digest))
        .count();
    let st = ae_stats(eng);
    assert_eq!(st.enabled, 1);
    // First digest within a period (spread over the first half), then one per period.
    assert!((2..=3).contains(&digests), "{digests} digest frames");
    assert_eq!(st.digests_sent, digests as u64);
    assert_eq!(
        st.states_walked,
        2 * 3 * st.digests_sent,
        "count and hash passes"
    );
    assert_eq!(pfsync_rs_anti_entropy_set(eng, 0, 0, 3_000_000_001), 0);
    let before = fake.sent.len();
    run_timers(eng, 3_000_000_001, 10_000_000_000);
    assert!(fake.sent[before..].iter().all(|f| ae_kind(f).is_none()));
    assert_eq!(ae_stats(eng).enabled, 0);
    pfsync_rs_engine_destroy(eng);
}

/// Delivers each side's frames to the other (A's dropped if `drop_a`), then
/// runs both timers up to `now`.
fn exchange(
    a: (*mut sys::pfsync_rs_engine, &mut Fake),
    b: (*mut sys::pfsync_rs_engine, &mut Fake),
    now: u64,
    drop_a: bool,
    log: &mut Vec<(char, Vec<u8>)>,
) {
    for _ in 0..4 {
        let from_a = core::mem::take(&mut a.1.sent);
        let from_b = core::mem::take(&mut b.1.sent);
        for f in &from_a {
            log.push(('a', f.clone()));
            if !drop_a {
                pfsync_rs_on_frame_received(b.0, f.as_ptr(), f.len(), &rx_meta(f.len()), now);
            }
        }
        for f in &from_b {
            log.push(('b', f.clone()));
            pfsync_rs_on_frame_received(a.0, f.as_ptr(), f.len(), &rx_meta(f.len()), now);
        }
        run_timers(a.0, now, now);
        run_timers(b.0, now, now);
    }
}

#[test]
fn two_shims_with_anti_entropy_repair_a_lost_insert_without_a_bulk_update() {
    let (mut fa, mut fb) = (Fake::default(), Fake::default());
    let a_id = [1, 2, 3, 4];
    let a = running_engine_as(&mut fa, RELEASE_15, a_id);
    let b = running_engine_as(&mut fb, RELEASE_15, [5, 6, 7, 8]);
    let mut log = Vec::new();
    let step = 10_000_000u64;
    // Both start up, ask each other for a bulk update and get it.
    let mut now = 3_000;
    while now < 6_000_000_000 {
        exchange((a, &mut fa), (b, &mut fb), now, false, &mut log);
        now += step;
    }
    assert_ne!(pfsync_rs_status_flags(a) & sys::PFSYNC_RS_CFG_OK, 0);
    assert_ne!(pfsync_rs_status_flags(b) & sys::PFSYNC_RS_CFG_OK, 0);
    assert_eq!(pfsync_rs_anti_entropy_set(a, 1, 1_000, now), 0);
    assert_eq!(pfsync_rs_anti_entropy_set(b, 1, 1_000, now), 0);
    let state = |n: u64| StateId {
        id: n.to_be_bytes(),
        creatorid: a_id,
    };
    let insert = |fake: &mut Fake, eng, id: StateId, now| {
        let mut slot = [0u8; 12];
        pfsync_rs_slot_init(slot.as_mut_ptr());
        fake.states.push((id, slot));
        pfsync_rs_on_state_inserted(eng, &info(&id), slot.as_mut_ptr(), now);
        let last = fake.states.len() - 1;
        fake.states[last].1 = slot;
    };
    // One insert arrives, the next one is lost on the way.
    insert(&mut fa, a, state(1), now);
    let end = now + 2_000_000_000;
    while now < end {
        exchange((a, &mut fa), (b, &mut fb), now, false, &mut log);
        now += step;
    }
    assert!(fb.imported.contains(&state(1)));
    insert(&mut fa, a, state(2), now);
    let end = now + 1_500_000_000;
    while now < end {
        exchange((a, &mut fa), (b, &mut fb), now, true, &mut log);
        now += step;
    }
    assert!(!fb.imported.contains(&state(2)));
    let lost_at = log.len();
    // Anti-entropy finds and repairs it within two periods.
    let end = now + 2_500_000_000;
    while now < end && !fb.imported.contains(&state(2)) {
        exchange((a, &mut fa), (b, &mut fb), now, false, &mut log);
        now += step;
    }
    assert!(
        fb.imported.contains(&state(2)),
        "the lost insert was not repaired"
    );
    let st = ae_stats(b);
    assert!(
        st.rounds_compared >= 1 && st.updates_requested == 1,
        "{st:?}"
    );
    // No bulk update: nobody asked for one and A sent no BUS after the loss.
    let after: Vec<u8> = log[lost_at..]
        .iter()
        .filter(|(from, _)| *from == 'a')
        .flat_map(|(_, f)| actions(f))
        .collect();
    assert!(
        !after.contains(&(crate::wire::Action::Bus as u8)),
        "{after:?}"
    );
    assert!(log[lost_at..].iter().any(
        |(from, f)| *from == 'a' && ae_kind(f) == Some(crate::antientropy::wire::Kind::Detail)
    ));
    pfsync_rs_engine_destroy(a);
    pfsync_rs_engine_destroy(b);
}

/// Records of `action` over every frame in `frames`.
fn records_of(frames: &[Vec<u8>], action: crate::wire::Action) -> u64 {
    frames
        .iter()
        .flat_map(|f| FrameReader::new(f).unwrap())
        .filter_map(|e| match e {
            Ok(Event::Section { action: a, count }) if a == action as u8 => Some(u64::from(count)),
            _ => None,
        })
        .sum()
}

fn numbered(n: u64) -> StateId {
    StateId {
        id: n.to_be_bytes(),
        creatorid: [1, 2, 3, 4],
    }
}

/// Issue 11 item 2: the shim's inbox drain calls the state entry points back
/// to back, with no timer call in between, and only lets the tx task send
/// after the drain. Every record must still reach the wire.
#[test]
fn one_drain_of_100k_inserts_and_100k_deletes_loses_no_record() {
    const N: u64 = 100_000;
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let mut now = run_timers(eng, 2_000, 2_000_000_000);

    // States the peer already knows (their INS went out long ago).
    let mut old = vec![[0u8; 12]; N as usize];
    for (i, slot) in old.iter_mut().enumerate() {
        pfsync_rs_slot_init(slot.as_mut_ptr());
        now += 1_000;
        pfsync_rs_on_state_inserted(eng, &info(&numbered(i as u64)), slot.as_mut_ptr(), now);
        if i % 64 == 63 {
            now = run_timers(eng, now, now);
        }
    }
    now = run_timers(eng, now + 1, now + 1_500_000_000);
    fake.sent.clear();

    // One drain: a new state created and an old one deleted, 100,000 times.
    let mut new = vec![[0u8; 12]; N as usize];
    for (i, slot) in new.iter_mut().enumerate() {
        pfsync_rs_slot_init(slot.as_mut_ptr());
        let i = i as u64;
        pfsync_rs_on_state_inserted(eng, &info(&numbered(N + i)), slot.as_mut_ptr(), now);
        pfsync_rs_on_state_deleted(eng, &info(&numbered(i)), old[i as usize].as_mut_ptr(), now);
    }
    run_timers(eng, now, now + 1_500_000_000);

    let ins = records_of(&fake.sent, crate::wire::Action::Ins1500);
    let del = records_of(&fake.sent, crate::wire::Action::DelC);
    assert_eq!((ins, del), (N, N), "INS_1500 and DEL_C records sent");
    assert_eq!(pfsync_rs_queue_drops(eng), 0);
    pfsync_rs_engine_destroy(eng);
}

/// Issue 11 item 4: `pfctl -f` changes pf's ruleset checksum after pfsync0
/// was configured (rc.d/pf runs after pfsync), and nothing reconfigures
/// pfsync0; stock copies the live checksum into every frame header and
/// uses the live hostid as the creatorid of its BUS records.
#[test]
fn frames_carry_pf_checksum_and_hostid_as_they_are_when_sent() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let mut now = run_timers(eng, 2_000, 2_000_000_000);
    fake.cksum = [0xab; 16];
    fake.hostid = [9, 8, 7, 6];
    fake.sent.clear();

    let mut slot = [0u8; 12];
    pfsync_rs_slot_init(slot.as_mut_ptr());
    now += 1_000;
    pfsync_rs_on_state_inserted(eng, &info(&numbered(77)), slot.as_mut_ptr(), now);
    // A peer's bulk request, answered with BUS START/END from us.
    let mut req = std::vec![0u8; 64];
    let mut b = crate::wire::builder::FrameBuilder::new(&mut req, 64).unwrap();
    b.push_upd_req(&crate::wire::UpdReq {
        state: StateId::BULK_REQUEST,
    })
    .unwrap();
    let n = b.finish([0; 16], true);
    pfsync_rs_on_frame_received(eng, req.as_ptr(), n, &rx_meta(n), now);
    run_timers(eng, now, now + 3_000_000_000);

    assert!(!fake.sent.is_empty());
    for f in &fake.sent {
        assert_eq!(
            f[4..20],
            [0xab; 16],
            "pfcksum of a frame sent after the change"
        );
    }
    let bus: Vec<[u8; 4]> = fake
        .sent
        .iter()
        .flat_map(|f| FrameReader::new(f).unwrap())
        .filter_map(|e| match e {
            Ok(Event::Message(crate::wire::reader::Message::Bus(b))) => Some(b.creatorid),
            _ => None,
        })
        .collect();
    assert!(!bus.is_empty(), "a BUS answer");
    assert!(bus.iter().all(|c| *c == [9, 8, 7, 6]), "{bus:?}");
    pfsync_rs_engine_destroy(eng);
}

/// Issue 11 item 8: pf's defer hook must decide at once whether pfsync keeps
/// the packet. If it answers yes and the engine later refuses, the packet is
/// let go while pf_test() still works on it (`ifconfig pfsync0 defer up`
/// before `syncdev`). The hook's verdict must be the engine's, in every case.
#[test]
fn the_defer_hook_accepts_exactly_what_the_engine_keeps() {
    for (syncdev, defer, up, nosync) in
        (0..16).map(|b| (b & 1 != 0, b & 2 != 0, b & 4 != 0, b & 8 != 0))
    {
        let mut fake = Fake::default();
        let ctx = (&mut fake as *mut Fake).cast::<c_void>();
        let hostid = [1u8, 2, 3, 4];
        let eng = pfsync_rs_engine_create(1, RELEASE_15, &OPS, ctx, hostid.as_ptr(), 7, 0);
        let mut cfg = config(if syncdev { "em1" } else { "" });
        cfg.flags = if defer { sys::PFSYNC_RS_CFG_DEFER } else { 0 };
        assert_eq!(pfsync_rs_on_config_changed(eng, &cfg, 1_000), 0);
        pfsync_rs_on_running_changed(eng, c_int::from(up), 2_000);
        let id = numbered(5);
        let mut i = info(&id);
        if nosync {
            i.state_flags = 0x0008;
        }
        let hook = pfsync_rs_defer_policy(&i, cfg.flags, c_int::from(up), c_int::from(syncdev));
        let mut slot = [0u8; 12];
        pfsync_rs_slot_init(slot.as_mut_ptr());
        let kept = pfsync_rs_on_defer_requested(eng, &i, slot.as_mut_ptr(), 42, 3_000);
        assert_eq!(
            hook, kept,
            "syncdev {syncdev} defer {defer} up {up} nosync {nosync}"
        );
        pfsync_rs_engine_destroy(eng);
    }
}

/// Issue 11 item 13: the shim installs a SET's interface and peer, asks the
/// engine, and puts its old values back when the engine refuses. That is
/// only all-or-nothing if a refused configuration leaves the engine as it
/// was: same message version, same flags, no bulk request for the new one.
#[test]
fn a_refused_configuration_changes_nothing_in_the_engine() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let now = run_timers(eng, 2_000, 6_000_000_000);
    let (version, flags) = (
        pfsync_rs_effective_version(eng),
        pfsync_rs_status_flags(eng),
    );
    fake.sent.clear();
    let mut cfg = config("em2");
    cfg.version = 1400;
    cfg.flags = sys::PFSYNC_RS_CFG_DEFER;
    cfg.ifmtu = 40;
    assert_ne!(pfsync_rs_on_config_changed(eng, &cfg, now + 1), 0);
    assert_eq!(pfsync_rs_effective_version(eng), version);
    assert_eq!(pfsync_rs_status_flags(eng), flags);
    run_timers(eng, now + 1, now + 100_000_000);
    let requests = records_of(&fake.sent, crate::wire::Action::UpdReq);
    assert_eq!(requests, 0, "no bulk request for the refused interface");
    pfsync_rs_engine_destroy(eng);
}

/// Issue 11 item 17: stock's pfsync6_input counts pfsyncs_ipackets and its
/// pfsync_tx counts pfsyncs_opackets for both families; ipackets6 and
/// opackets6 stay 0, and `netstat -s -p pfsync` shows IPv6 sync there.
#[test]
fn ipv6_traffic_is_counted_where_stock_counts_it() {
    let mut fake = Fake::default();
    let ctx = (&mut fake as *mut Fake).cast::<c_void>();
    let hostid = [1u8, 2, 3, 4];
    let eng = pfsync_rs_engine_create(1, RELEASE_15, &OPS, ctx, hostid.as_ptr(), 7, 0);
    let mut cfg = config("em1");
    cfg.syncpeer_af = sys::PFSYNC_RS_AF_INET6 as u8;
    assert_eq!(pfsync_rs_on_config_changed(eng, &cfg, 1_000), 0);
    pfsync_rs_on_running_changed(eng, 1, 2_000);
    let now = run_timers(eng, 2_000, 2_000_000_000);
    let sent = fake.sent.len() as u64;
    assert!(sent > 0);
    let frame = fake.sent[0].clone();
    let mut meta = rx_meta(frame.len());
    meta.af = sys::PFSYNC_RS_AF_INET6 as u8;
    pfsync_rs_on_frame_received(eng, frame.as_ptr(), frame.len(), &meta, now + 1);

    let mut stats = [0u8; 400];
    assert_eq!(
        pfsync_rs_stats_export(eng, stats.as_mut_ptr().cast(), 400),
        0
    );
    assert_eq!(
        (stat(&stats, 0), stat(&stats, 1)),
        (1, 0),
        "ipackets, ipackets6"
    );
    assert_eq!(
        (stat(&stats, 12), stat(&stats, 13)),
        (fake.sent.len() as u64, 0),
        "opackets, opackets6"
    );
    pfsync_rs_engine_destroy(eng);
}

/// One drain of `n` inserts, `n` updates (two each, folded by the shim into
/// one call as `pending_updates`) and `n` deletes of other, already-sent
/// states, through the C entry points exactly as the shim's inbox drain
/// calls them. Kept out of line so callgrind can count it alone.
#[inline(never)]
fn drain_burst(
    eng: *mut sys::pfsync_rs_engine,
    new: &mut [[u8; 12]],
    old: &mut [[u8; 12]],
    base: u64,
    now: u64,
) {
    let n = new.len() as u64;
    for (i, (a, b)) in new.iter_mut().zip(old.iter_mut()).enumerate() {
        let i = i as u64;
        pfsync_rs_slot_init(a.as_mut_ptr());
        pfsync_rs_on_state_inserted(eng, &info(&numbered(base + n + i)), a.as_mut_ptr(), now);
        let mut up = info(&numbered(base + n + i));
        up.pending_updates = 2;
        pfsync_rs_on_state_updated(eng, &up, a.as_mut_ptr(), now);
        pfsync_rs_on_state_deleted(eng, &info(&numbered(base + i)), b.as_mut_ptr(), now);
    }
}

/// Cost of the kernel's drain path per event (docs/engine.md, the design
/// question of issue 11): `PFSYNC_BENCH_N=N cargo test --release
/// --features kernel --lib drain_cost -- --ignored --nocapture`, under
/// callgrind with `--toggle-collect='*drain_burst*'` for N and 2N.
#[test]
#[ignore]
fn drain_cost() {
    let n: u64 = std::env::var("PFSYNC_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let mut now = run_timers(eng, 2_000, 2_000_000_000);
    let mut old = vec![[0u8; 12]; n as usize];
    for (i, slot) in old.iter_mut().enumerate() {
        pfsync_rs_slot_init(slot.as_mut_ptr());
        now += 1_000;
        pfsync_rs_on_state_inserted(eng, &info(&numbered(i as u64)), slot.as_mut_ptr(), now);
    }
    now = run_timers(eng, now + 1, now + 1_500_000_000);
    fake.sent.clear();
    fake.sent.reserve(4 * n as usize);
    let mut new = vec![[0u8; 12]; n as usize];
    // Three seconds later: the updates are not "recently touched" pushes.
    now += 3_000_000_000;
    let t = std::time::Instant::now();
    drain_burst(eng, &mut new, &mut old, 0, now);
    let wall = t.elapsed();
    let frames = fake.sent.len();
    run_timers(eng, now, now + 1_500_000_000);
    let ins = records_of(&fake.sent, crate::wire::Action::Ins1500);
    let del = records_of(&fake.sent, crate::wire::Action::DelC);
    std::println!(
        "events {} frames_during_drain {} ins {} del {} drops {} wall_ns_per_event {}",
        3 * n,
        frames,
        ins,
        del,
        pfsync_rs_queue_drops(eng),
        wall.as_nanos() / u128::from(3 * n)
    );
    pfsync_rs_engine_destroy(eng);
}

/// Issue 11 item 7: the shim recovers a 1301 record's route-to interface and
/// rule options from the matched rule, which it can only do when told the
/// record came as 1301; a network import used to say "unknown" (0).
#[test]
fn a_network_import_names_the_format_the_record_came_in() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let mut buf = vec![0u8; 1500];
    let mut b = crate::wire::FrameBuilder::new(&mut buf, 1480).unwrap();
    for (n, version) in [
        (1u8, MsgVersion::V1301),
        (2, MsgVersion::V1400),
        (3, MsgVersion::V1500),
    ] {
        let id = StateId {
            id: [0, 0, 0, 0, 0, 0, 0, n],
            creatorid: [9, 9, 9, 9],
        };
        b.push_ins(version, &record(&id)).unwrap();
    }
    let len = b.finish([0; 16], true);
    let meta = rx_meta(len);
    pfsync_rs_on_frame_received(eng, buf.as_ptr(), len, &meta, 5_000);
    assert_eq!(fake.imported_formats, vec![1301, 1400, 1500]);
    pfsync_rs_engine_destroy(eng);
}

/// `net.pfsync.rs.counters`: the engine's own counters as text (a running
/// engine has asked for one bulk), safe with a short buffer.
#[test]
fn counters_are_formatted_as_name_value_lines_and_truncated_safely() {
    let mut fake = Fake::default();
    let eng = running_engine(&mut fake, RELEASE_15);
    let mut text = vec![0u8; 4096];
    let need = pfsync_rs_counters_format(eng, text.as_mut_ptr().cast(), text.len());
    let end = text.iter().position(|&c| c == 0).unwrap();
    assert_eq!(end, need);
    let text = core::str::from_utf8(&text[..end]).unwrap();
    assert!(text.lines().any(|l| l == "bulk_requests_sent 1"), "{text}");
    assert!(text.lines().any(|l| l == "unknown_flag_bits 0"), "{text}");
    assert_eq!(
        text.lines().count(),
        crate::engine::ExtraStats::default().named().len()
    );

    let mut short = [0xffu8; 10];
    assert_eq!(
        pfsync_rs_counters_format(eng, short.as_mut_ptr().cast(), short.len()),
        need
    );
    assert_eq!(short[9], 0);
    assert_eq!(&short[..9], &text.as_bytes()[..9]);
    assert_eq!(pfsync_rs_counters_format(eng, core::ptr::null_mut(), 10), 0);
    pfsync_rs_engine_destroy(eng);
}
