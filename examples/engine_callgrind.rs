//! Workloads for `scripts/bench-callgrind.sh`: each mode runs one engine
//! operation N times inside a non-inlined function, so callgrind can count the
//! instructions of exactly that function (`--toggle-collect`).
//!
//!   engine_callgrind baseline N   a minimal slot read-modify-write (the yardstick)
//!   engine_callgrind update N [W] the update hook in steady state: TCP states
//!                                 updated round-robin over a working set of W
//!                                 (default 4096: every update queues a new
//!                                 UPD_C; small W: updates fold), the host runs
//!                                 `handle_timeout` whenever a bucket is due
//!   engine_callgrind updc N       N received frames of 17 UPD_C records each
//!   engine_callgrind upd N [V]    N received frames of full UPD records in
//!                                 format V (1500 default, 1400, 1301), as many
//!                                 as fit a 1500-byte MTU, all for states the
//!                                 host already has (merge, no import)
//!   engine_callgrind upd-openbsd N  the same with OpenBSD's 264-byte UPD (14)
//!                                 on an engine speaking OpenBSD's dialect

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use pfsync::engine::{Config, Engine, IpFamily, RxMeta, StateInfo, SyncSlot};
use pfsync::sim::{established_tcp, FlatHost};
use pfsync::time::{Duration, Instant};
use pfsync::wire::StateFlags;
use pfsync::wire::{openbsd, FrameBuilder, IfName, MsgVersion, OpenBsdState, StateId, UpdC};

const STATES: u64 = 4096;

/// Counts allocations made while `COUNTING` is set (around hook calls only).
struct CountingAlloc;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn config(host: u8) -> Config {
    let mut c = Config::new([0, 0, 0, host]);
    c.syncdev = IfName::new("em1");
    c.up = true;
    c.peer_family = IpFamily::V4;
    c
}

fn setup(host_id: u8) -> (Engine, FlatHost) {
    setup_with(config(host_id))
}

fn setup_with(cfg: Config) -> (Engine, FlatHost) {
    let mut host = FlatHost::with_established_tcp(STATES);
    let mut engine = Engine::new(cfg).unwrap_or_else(|e| panic!("engine: {e:?}"));
    let _ = engine.on_config_changed(Instant::from_secs(100), &cfg, &mut host);
    (engine, host)
}

#[inline(never)]
fn baseline_call(slot: &mut SyncSlot, id: &StateId) {
    let s = black_box(slot);
    if black_box(id).id[7] != 0xff {
        s.queue_index = s.queue_index.wrapping_add(1);
    }
}

/// One update hook: the engine's share only (the host's copy of the slot in
/// and out of its state happens outside).
#[inline(never)]
fn hook_call(
    engine: &mut Engine,
    now: Instant,
    info: &StateInfo,
    slot: &mut SyncSlot,
    host: &mut FlatHost,
) {
    engine.on_state_updated(now, info, slot, host);
}

#[inline(never)]
fn timeout_call(engine: &mut Engine, now: Instant, host: &mut FlatHost) {
    engine.handle_timeout(now, host);
}

#[inline(never)]
fn rx_call(engine: &mut Engine, now: Instant, frame: &[u8], host: &mut FlatHost) {
    engine.on_frame_received(now, RxMeta::valid(IpFamily::V4), frame, host);
}

/// `count` frames of UPD_C (`version` None) or full UPD records in `version`,
/// each packed to a 1500-byte MTU (at most 17 UPD_C per frame, as stock),
/// naming the host's states round-robin.
fn received_frames(count: usize, version: Option<MsgVersion>) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 1500];
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut next = 1u64;
    for _ in 0..count {
        let Ok(mut b) = FrameBuilder::new(&mut buf, 1480) else {
            break;
        };
        for _ in 0..17 {
            let r = established_tcp(next);
            let pushed = match version {
                Some(v) => b.push_upd(v, &r),
                None => b.push_upd_c(&UpdC {
                    id: r.id.id,
                    src: r.src,
                    dst: r.dst,
                    creatorid: r.id.creatorid,
                    expire: 0,
                    timeout: 2,
                    state_flags: 0,
                }),
            };
            if pushed.is_err() {
                break;
            }
            next = next % STATES + 1;
        }
        let len = b.finish([0; 16], true);
        frames.push(buf.get(..len).unwrap_or_default().to_vec());
    }
    frames
}

/// `count` OpenBSD frames of full UPD records (as many as fit a 1500-byte
/// MTU), naming the host's states round-robin.
fn received_openbsd_frames(count: usize) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; 1500];
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut next = 1u64;
    for _ in 0..count {
        let Ok(mut b) = FrameBuilder::new_openbsd(&mut buf, 1480) else {
            break;
        };
        loop {
            let s = OpenBsdState::from_record(&established_tcp(next));
            if b.push_openbsd_state(openbsd::action::UPD, &s).is_err() {
                break;
            }
            next = next % STATES + 1;
        }
        let len = b.finish_openbsd();
        frames.push(buf.get(..len).unwrap_or_default().to_vec());
    }
    frames
}

/// Receives `n` frames cycling through `frames`, inside `rx_call`.
fn receive(engine: &mut Engine, host: &mut FlatHost, frames: &[Vec<u8>], n: u64) {
    let mut now = Instant::from_secs(200);
    for i in 0..n {
        now = now + Duration::from_micros(10);
        let f = frames
            .get(i as usize % frames.len().max(1))
            .map_or(&[][..], |f| f.as_slice());
        rx_call(engine, now, f, host);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    // `update`: how many distinct states the updates cycle through. With many,
    // nearly every update queues a new UPD_C; with few, they fold into queued ones.
    // `upd`: the format of the received records.
    let working_set_arg: Option<u64> = args.next().and_then(|s| s.parse().ok());
    let working_set = working_set_arg.unwrap_or(STATES).clamp(1, STATES);
    match mode.as_str() {
        "baseline" => {
            let mut slot = SyncSlot::NEW;
            let id = established_tcp(1).id;
            for _ in 0..n {
                baseline_call(&mut slot, &id);
            }
            black_box(slot);
        }
        "update" => {
            let (mut engine, mut host) = setup(1);
            let mut now = Instant::from_secs(200);
            for i in 0..n {
                let id = established_tcp(i * 7919 % working_set + 1).id;
                let info = StateInfo {
                    id,
                    proto: 6,
                    state_flags: StateFlags::empty(),
                    rule_nosync: false,
                };
                now = now + Duration::from_micros(1);
                let Some(mut slot) = host.get(&id).map(|s| s.slot) else {
                    continue;
                };
                COUNTING.store(true, Ordering::Relaxed);
                hook_call(&mut engine, now, &info, &mut slot, &mut host);
                COUNTING.store(false, Ordering::Relaxed);
                if let Some(state) = host.get_mut(&id) {
                    state.slot = slot;
                }
                if engine.poll_timeout().is_some_and(|t| t <= now) {
                    timeout_call(&mut engine, now, &mut host);
                }
            }
            println!(
                "frames {} bytes {} allocations-in-hook {}",
                host.frames,
                host.bytes,
                ALLOCS.load(Ordering::Relaxed)
            );
        }
        "updc" => {
            let (mut engine, mut host) = setup(2);
            let frames = received_frames(64, None);
            receive(&mut engine, &mut host, &frames, n);
            println!(
                "iacts[UPD_C] {} stale {}",
                engine.stats().iacts[4],
                engine.stats().stale
            );
        }
        "upd" => {
            let version = MsgVersion::from_number(working_set_arg.unwrap_or(1500) as u32)
                .unwrap_or(MsgVersion::V1500);
            let (mut engine, mut host) = setup(2);
            let frames = received_frames(64, Some(version));
            receive(&mut engine, &mut host, &frames, n);
            let s = engine.stats();
            let records = s
                .iacts
                .get(usize::from(version.upd_action() as u8))
                .copied()
                .unwrap_or(0);
            // Every record must have merged into an existing state: nothing
            // rejected, nothing imported.
            println!(
                "records {records} stale {} badstate {} badval {} states {}",
                s.stale,
                s.badstate,
                s.badval,
                host.states.iter().flatten().count()
            );
        }
        "upd-openbsd" => {
            let mut cfg = config(2);
            cfg.receive_dialect = pfsync::wire::Dialect::OpenBsd;
            let (mut engine, mut host) = setup_with(cfg);
            let frames = received_openbsd_frames(64);
            receive(&mut engine, &mut host, &frames, n);
            let s = engine.stats();
            let records = s
                .iacts
                .get(usize::from(openbsd::action::UPD))
                .copied()
                .unwrap_or(0);
            println!(
                "records {records} stale {} badstate {} badval {} states {}",
                s.stale,
                s.badstate,
                s.badval,
                host.states.iter().flatten().count()
            );
        }
        _ => eprintln!("usage: engine_callgrind baseline|update|updc|upd|upd-openbsd N [W|V]"),
    }
}
