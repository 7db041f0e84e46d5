//! Hostile and malformed input: every refusal lands in the stock counter for
//! it and changes nothing; random bytes never panic the engine.

use pfsync::engine::{Config, DeferredPacket, Engine, IpFamily, RxMeta, StateInfo, SyncSlot};
use pfsync::sim::{FlatHost, Rng};
use pfsync::time::Instant;
use pfsync::wire::StateFlags;
use pfsync::wire::{
    DelC, FrameBuilder, IfName, MsgVersion, Peer, StateId, StateRecord, UpdC, UpdReq,
};

const NOW: Instant = Instant::from_secs(50);

fn record(n: u64, creator: u8) -> StateRecord {
    StateRecord {
        id: StateId {
            id: n.to_be_bytes(),
            creatorid: [0, 0, 0, creator],
        },
        ifname: IfName::new("em0").unwrap(),
        wire_af: 2,
        stack_af: 2,
        wire_proto: 6,
        stack_proto: 6,
        direction: 2,
        timeout: 2,
        src: Peer {
            seqlo: 1,
            seqhi: 100,
            max_win: 10,
            state: 4,
            ..Peer::default()
        },
        dst: Peer {
            seqlo: 1,
            seqhi: 100,
            max_win: 10,
            state: 4,
            ..Peer::default()
        },
        ..StateRecord::default()
    }
}

fn engine() -> (Engine, FlatHost) {
    let mut cfg = Config::new([0, 0, 0, 9]);
    cfg.syncdev = IfName::new("em1");
    cfg.up = true;
    cfg.defer = true;
    let mut host = FlatHost::default();
    let mut e = Engine::new(cfg).unwrap();
    e.on_config_changed(NOW, &cfg, &mut host).unwrap();
    (e, host)
}

fn frame(fill: impl FnOnce(&mut FrameBuilder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let mut b = FrameBuilder::new(&mut buf, 1480).unwrap();
    fill(&mut b);
    let len = b.finish([0; 16], true);
    buf.truncate(len);
    buf
}

fn rx(e: &mut Engine, h: &mut FlatHost, bytes: &[u8]) {
    e.on_frame_received(NOW, RxMeta::valid(IpFamily::V4), bytes, h);
}

#[test]
fn ip_level_refusals_are_counted() {
    let (mut e, mut h) = engine();
    let ok = frame(|b| b.push_ins(MsgVersion::V1500, &record(1, 1)).unwrap());
    let meta = RxMeta {
        family: IpFamily::V4,
        ttl: 254,
        on_syncdev: true,
    };
    e.on_frame_received(NOW, meta, &ok, &mut h);
    let meta = RxMeta {
        family: IpFamily::V6,
        ttl: 255,
        on_syncdev: false,
    };
    e.on_frame_received(NOW, meta, &ok, &mut h);
    let s = e.stats();
    assert_eq!((s.badttl, s.badif, s.ipackets, s.ipackets6), (1, 1, 1, 1));
    assert!(h.states.is_empty(), "nothing imported");
}

#[test]
fn frame_level_refusals_are_counted() {
    let (mut e, mut h) = engine();
    let ok = frame(|b| b.push_ins(MsgVersion::V1500, &record(1, 1)).unwrap());
    rx(&mut e, &mut h, &ok[..10]);
    let mut v6 = ok.clone();
    v6[0] = 6;
    rx(&mut e, &mut h, &v6);
    let mut long = ok.clone();
    long[2..4].copy_from_slice(&(ok.len() as u16 + 1).to_be_bytes());
    rx(&mut e, &mut h, &long);
    let mut act = ok.clone();
    act[20] = 40;
    rx(&mut e, &mut h, &act);
    let mut del = ok.clone();
    del[20] = 6;
    rx(&mut e, &mut h, &del);
    let s = e.stats();
    assert_eq!((s.hdrops, s.badver, s.badlen, s.badact), (1, 1, 1, 2));
    assert!(h.states.is_empty());
    rx(&mut e, &mut h, &ok);
    assert_eq!(h.states.len(), 1, "the intact frame is accepted");
    assert_eq!(e.stats().iacts[15], 1);
}

#[test]
fn message_level_refusals_are_counted_and_the_rest_of_the_frame_is_used() {
    let (mut e, mut h) = engine();
    let mut bad_timeout = record(2, 1);
    bad_timeout.timeout = 30;
    let mut no_creator = record(3, 1);
    no_creator.id.creatorid = [0; 4];
    let good = record(1, 1);
    let f = frame(|b| {
        b.push_ins(MsgVersion::V1500, &bad_timeout).unwrap();
        b.push_ins(MsgVersion::V1500, &no_creator).unwrap();
        b.push_ins(MsgVersion::V1500, &good).unwrap();
    });
    rx(&mut e, &mut h, &f);
    let s = e.stats();
    assert_eq!(s.badval, 1, "timeout >= PFTM_MAX");
    assert_eq!(
        s.badact, 1,
        "creatorid 0 fails the import, counted as stock does for INS"
    );
    assert_eq!(h.states.len(), 1);
    assert!(h.get(&good.id).is_some() && h.get(&bad_timeout.id).is_none());
    let mut bad = UpdC {
        id: good.id.id,
        src: good.src,
        dst: good.dst,
        creatorid: good.id.creatorid,
        expire: 0,
        timeout: 2,
        state_flags: 0,
    };
    bad.src.state = 13;
    let unknown = StateId {
        id: [7; 8],
        creatorid: [0, 0, 0, 1],
    };
    let f = frame(|b| {
        b.push_upd_c(&bad).unwrap();
        b.push_del_c(&DelC { state: unknown }).unwrap();
        b.push_upd_req(&UpdReq { state: unknown }).unwrap();
    });
    rx(&mut e, &mut h, &f);
    let s = e.stats();
    assert_eq!(s.badval, 2);
    assert_eq!(s.badstate, 2, "DEL_C and UPD_REQ for an unknown state");
    assert_eq!(
        h.get(&good.id).unwrap().record.src.state,
        4,
        "the bad UPD_C changed nothing"
    );
}

#[test]
fn random_bytes_never_panic_and_change_nothing_we_own() {
    let (mut e, mut h) = engine();
    h.insert(record(1, 1));
    let before = h.get(&record(1, 1).id).unwrap().record;
    let mut rng = Rng::new(99);
    let valid = frame(|b| b.push_ins(MsgVersion::V1500, &record(2, 1)).unwrap());
    for i in 0..20_000u32 {
        let len = rng.below(1600) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
        if i % 2 == 0 && len >= 20 {
            // Keep a plausible header so the walk reaches the sections.
            bytes[0] = 5;
            bytes[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        } else if i % 3 == 0 {
            // Flip a few bytes of a valid frame.
            bytes = valid.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= 1 << rng.below(8);
            }
        }
        rx(&mut e, &mut h, &bytes);
    }
    let s = e.stats();
    let refused = s.hdrops + s.badver + s.badlen + s.badact + s.badval + s.badstate;
    assert!(refused > 10_000, "{s:?}");
    // Random UPD_C/UPD records could only move our state forwards.
    let after = h.get(&record(1, 1).id).map(|s| s.record);
    if let Some(after) = after {
        assert!(after.src.state >= before.src.state);
    }
}

#[test]
fn at_most_128_deferrals_per_bucket_oldest_released_first() {
    let (mut e, mut h) = engine();
    let buckets = u64::from(e.config().buckets);
    let mut released_first = None;
    for k in 0..129u64 {
        // Same bucket: ids that are multiples of the bucket count.
        let r = record((k + 1) * buckets, 9);
        h.insert(r);
        let info = StateInfo {
            id: r.id,
            proto: 6,
            state_flags: StateFlags::empty(),
            rule_nosync: false,
        };
        let mut slot = SyncSlot::NEW;
        e.on_state_inserted(NOW, &info, &mut slot);
        assert!(e.on_defer_requested(NOW, &info, &mut slot, DeferredPacket(k), &mut h));
        if k == 128 {
            released_first = Some(e.extra_stats().defer_released_overflow);
        }
    }
    assert_eq!(released_first, Some(1));
    assert_eq!(e.deferred_count(), 128);
}
