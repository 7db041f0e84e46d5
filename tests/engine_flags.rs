//! Flag bits no header names (`PFSTATE_*`, `PFSYNC_FLAG_*`) are passed on
//! to pf exactly as received and counted in `ExtraStats::unknown_flag_bits`;
//! they are never dropped or rejected.

use pfsync::engine::{Config, Engine, IpFamily, RxMeta};
use pfsync::sim::{established_tcp, FlatHost};
use pfsync::time::Instant;
use pfsync::wire::{FrameBuilder, IfName, MsgVersion, StateFlags, StateRecord, SyncFlags};

const NOW: Instant = Instant::from_secs(50);

fn record(n: u64, state_flags: u16, sync_flags: u8) -> StateRecord {
    StateRecord {
        state_flags: StateFlags::from_bits_retain(state_flags),
        sync_flags: SyncFlags::from_bits_retain(sync_flags),
        ..established_tcp(n)
    }
}

fn engine() -> (Engine, FlatHost) {
    let mut cfg = Config::new([0, 0, 0, 9]);
    cfg.syncdev = IfName::new("em1");
    cfg.up = true;
    let mut host = FlatHost::default();
    let mut e = Engine::new(cfg).unwrap();
    e.on_config_changed(NOW, &cfg, &mut host).unwrap();
    (e, host)
}

fn receive(e: &mut Engine, h: &mut FlatHost, fill: impl FnOnce(&mut FrameBuilder<'_>)) {
    let mut buf = vec![0u8; 1500];
    let mut b = FrameBuilder::new(&mut buf, 1480).unwrap();
    fill(&mut b);
    let len = b.finish([0; 16], true);
    e.on_frame_received(NOW, RxMeta::valid(IpFamily::V4), &buf[..len], h);
}

#[test]
fn unknown_flag_bits_reach_pf_unchanged_and_are_counted() {
    let (mut e, mut h) = engine();
    // 0x2000: no PFSTATE_* on any system; 0x80: no PFSYNC_FLAG_*.
    let odd = record(1, 0x2000 | 0x0001, 0x80 | 0x04);
    let plain = record(2, 0x0001, 0x04);
    receive(&mut e, &mut h, |b| {
        b.push_ins(MsgVersion::V1400, &odd).unwrap();
        b.push_ins(MsgVersion::V1400, &plain).unwrap();
    });
    assert_eq!(
        h.states.len(),
        2,
        "both imported: unknown bits are no error"
    );
    let got = h.get(&odd.id).unwrap().record;
    assert_eq!(got.state_flags.bits(), 0x2001, "unknown PFSTATE bit kept");
    assert_eq!(got.sync_flags.bits(), 0x84, "unknown PFSYNC_FLAG bit kept");
    assert_eq!(
        e.extra_stats().unknown_flag_bits,
        1,
        "only the odd record counts"
    );
    let s = e.stats();
    assert_eq!((s.badval, s.badact, s.badstate), (0, 0, 0));

    // A full update of a state we hold counts too, as does 1500's 16-bit word.
    let mut newer = odd;
    newer.state_flags = StateFlags::from_bits_retain(0x0800);
    newer.src.seqlo = 50;
    let fresh = record(3, 0x1000, 0);
    receive(&mut e, &mut h, |b| {
        b.push_upd(MsgVersion::V1400, &newer).unwrap();
        b.push_ins(MsgVersion::V1500, &fresh).unwrap();
    });
    assert_eq!(e.extra_stats().unknown_flag_bits, 3);
    assert_eq!(h.get(&fresh.id).unwrap().record.state_flags.bits(), 0x1000);
}
