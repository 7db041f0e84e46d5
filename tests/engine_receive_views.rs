//! The receive path walks full states as views into the frame: an UPD for a
//! known state is merged from the view alone, the whole record is decoded
//! only for an import, and every import, merge and counter is what the owned
//! walk (`FrameReader` decoding every record) would have produced.

use pfsync::engine::{
    Config, DeferredPacket, DemoteReason, Engine, Host, ImportError, ImportRequest, ImportSource,
    IpFamily, MergeOutcome, PeerUpdate, RxMeta, SendError, StateSnapshot, Stats, SyncSlot,
    TableCursor,
};
use pfsync::sim::ModelTable;
use pfsync::time::Instant;
use pfsync::wire::action::ACTION_COUNT;
use pfsync::wire::samples;
use pfsync::wire::{
    Action, Event, FrameBuilder, FrameReader, IfName, Message, MessageRef, MsgVersion, StateChecks,
    StateId, StateRecord, TagName, ViewEvent,
};

const NOW: Instant = Instant::from_secs(50);
const VERSIONS: [MsgVersion; 3] = [MsgVersion::V1301, MsgVersion::V1400, MsgVersion::V1500];

/// A model table that remembers every import and merge the engine asks for.
#[derive(Default)]
struct RecordingHost {
    table: ModelTable,
    imports: Vec<(StateRecord, ImportRequest)>,
    merges: Vec<(StateId, PeerUpdate)>,
    refuse_imports: bool,
}

impl Host for RecordingHost {
    fn lookup(&mut self, id: &StateId) -> Option<StateSnapshot> {
        self.table.lookup(id)
    }
    fn import_state(&mut self, r: &StateRecord, q: &ImportRequest) -> Result<(), ImportError> {
        self.imports.push((*r, *q));
        if self.refuse_imports {
            return Err(ImportError::Refused);
        }
        self.table.import_state(r, q)
    }
    fn merge_update(&mut self, id: &StateId, u: &PeerUpdate, touched: u32) -> Option<MergeOutcome> {
        self.merges.push((*id, *u));
        self.table.merge_update(id, u, touched)
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
    fn export_state(&mut self, id: &StateId, v: MsgVersion, out: &mut [u8]) -> bool {
        self.table.export_state(id, v, out)
    }
    fn send_frame(&mut self, _frame: &[u8]) -> Result<(), SendError> {
        Ok(())
    }
    fn carp_demote(&mut self, _adjustment: i32, _reason: DemoteReason) {}
    fn release_deferred(&mut self, _packet: DeferredPacket) {}
    fn drop_deferred(&mut self, _packet: DeferredPacket) {}
}

fn engine() -> (Engine, RecordingHost) {
    let mut cfg = Config::new([0, 0, 0, 9]);
    cfg.syncdev = IfName::new("em1");
    cfg.up = true;
    let mut host = RecordingHost::default();
    host.table.set_now(NOW);
    let mut e = Engine::new(cfg).unwrap();
    e.on_config_changed(NOW, &cfg, &mut host).unwrap();
    host.imports.clear();
    host.merges.clear();
    (e, host)
}

/// One frame holding `records` (already encoded) under `action`.
fn frame_of(action: u8, records: &[Vec<u8>]) -> Vec<u8> {
    let mut buf = vec![0u8; 9000];
    let mut b = FrameBuilder::new(&mut buf, 8980).unwrap();
    for r in records {
        b.push_raw(action, r).unwrap();
    }
    let len = b.finish([0; 16], true);
    buf.truncate(len);
    buf
}

fn encoded(version: MsgVersion, s: &StateRecord) -> Vec<u8> {
    let mut out = vec![0u8; version.state_len()];
    s.emit(version, &mut out).unwrap();
    out
}

fn rx(e: &mut Engine, h: &mut RecordingHost, bytes: &[u8]) {
    e.on_frame_received(NOW, RxMeta::valid(IpFamily::V4), bytes, h);
}

#[test]
fn full_upd_for_a_known_state_is_merged_without_import() {
    for v in VERSIONS {
        let (mut e, mut h) = engine();
        let theirs = samples::state(v, 1);
        // Ours differs from theirs outside the peers: only a merge keeps it.
        let mut ours = theirs;
        ours.rule = 99;
        ours.packets = [1, 2];
        ours.src.seqlo = theirs.src.seqlo - 10;
        ours.dst.seqlo = theirs.dst.seqlo - 10;
        h.table.insert_local(ours).unwrap();

        rx(
            &mut e,
            &mut h,
            &frame_of(v.upd_action() as u8, &[encoded(v, &theirs)]),
        );

        assert!(h.imports.is_empty(), "{v:?}: no import for a known state");
        let merged: Vec<_> = h
            .merges
            .iter()
            .map(|(id, u)| (*id, u.src.decode(), u.dst.decode(), u.timeout))
            .collect();
        let expected = (theirs.id, theirs.src, theirs.dst, theirs.timeout);
        assert_eq!(merged, vec![expected], "{v:?}");
        let kept = h.table.get(&theirs.id).unwrap().record;
        assert_eq!((kept.rule, kept.packets), (99, [1, 2]), "{v:?}: ours kept");
        assert_eq!(kept.src.seqlo, theirs.src.seqlo, "{v:?}: peer merged");
        let s = e.stats();
        assert_eq!(s.iacts[v.upd_action() as usize], 1);
        assert_eq!((s.badstate, s.badval, s.badact), (0, 0, 0), "{v:?}");
    }
}

#[test]
fn full_upd_for_an_unknown_state_is_imported_whole() {
    for v in VERSIONS {
        let (mut e, mut h) = engine();
        let theirs = samples::state(v, 2);
        let rec = encoded(v, &theirs);
        let frame = frame_of(v.upd_action() as u8, std::slice::from_ref(&rec));

        rx(&mut e, &mut h, &frame);

        let owned = StateRecord::decode(&rec, v, StateChecks::Update).unwrap();
        let walked = FrameReader::new(&frame)
            .unwrap()
            .find_map(|ev| match ev {
                Ok(Event::Message(Message::Upd { state, .. })) => Some(state),
                _ => None,
            })
            .unwrap();
        assert_eq!(owned, walked);
        // The merge found nothing, then the whole record went to the host.
        assert_eq!(h.merges.len(), 1, "{v:?}");
        assert_eq!(h.imports.len(), 1, "{v:?}");
        let (imported, request) = h.imports[0];
        assert_eq!(imported, owned, "{v:?}: every field of the owned decode");
        assert_eq!(request.source, ImportSource::Update);
        assert!(h.table.get(&theirs.id).is_some());
        assert_eq!(e.stats().badstate, 0);
    }
}

/// Item 17 of issue 11: stock's pfsync_in_ins counts `badact` when
/// pfsync_state_import fails, as pf_state_insert does for an existing state,
/// and neither merges nor acknowledges it.
#[test]
fn ins_imports_the_owned_decode_and_a_duplicate_is_badact_as_stock() {
    for v in VERSIONS {
        let (mut e, mut h) = engine();
        let theirs = samples::state(v, 3);
        let rec = encoded(v, &theirs);
        let frame = frame_of(v.ins_action() as u8, std::slice::from_ref(&rec));

        rx(&mut e, &mut h, &frame);
        let owned = StateRecord::decode(&rec, v, StateChecks::Insert).unwrap();
        assert_eq!(h.imports.len(), 1, "{v:?}");
        assert_eq!(h.imports[0].0, owned, "{v:?}");
        assert_eq!(h.imports[0].1.source, ImportSource::Insert);
        assert!(h.merges.is_empty());

        let badact = e.stats().badact;
        rx(&mut e, &mut h, &frame);
        assert_eq!(h.imports.len(), 2, "{v:?}: the duplicate is offered");
        assert!(h.merges.is_empty(), "{v:?}: and not merged");
        assert_eq!(e.stats().badact, badact + 1, "{v:?}");
        assert_eq!(e.extra_stats().ins_existing, 1);
    }
}

/// Fills the NUL-terminated name `name` found in `rec` (the first match) up to
/// `width` bytes with non-NUL, so it lacks its terminator.
fn unterminate(rec: &mut [u8], name: &str, width: usize) -> bool {
    let Some(at) = rec.windows(name.len()).position(|w| w == name.as_bytes()) else {
        return false;
    };
    rec[at..at + width].fill(b'x');
    true
}

/// Records of format `v` each failing one receive check (or passing the UPD
/// checks but not the INS ones), and one intact record.
fn hostile_records(v: MsgVersion, n: u8) -> Vec<Vec<u8>> {
    let mut base = samples::state(v, n);
    base.ifname = IfName::new("ifnm").unwrap();
    if v != MsgVersion::V1301 {
        base.rt_ifname = IfName::new("rtif").unwrap();
    }
    if v == MsgVersion::V1500 {
        base.orig_ifname = IfName::new("orig").unwrap();
        base.tagname = TagName::new("tagx").unwrap();
    }
    let mutations: [fn(&mut StateRecord); 6] = [
        |s| s.timeout = 200,
        |s| s.src.state = 13,
        |s| s.dst.state = 200,
        |s| s.direction = 7,
        |s| s.wire_af = 99,
        |s| s.id.creatorid = [0; 4],
    ];
    let mut out = vec![encoded(v, &base)];
    for (i, m) in mutations.iter().enumerate() {
        let mut s = base;
        s.id.id[0] = 0x80 | i as u8;
        m(&mut s);
        out.push(encoded(v, &s));
    }
    for (i, (name, width)) in [("ifnm", 16), ("rtif", 16), ("orig", 16), ("tagx", 64)]
        .into_iter()
        .enumerate()
    {
        let mut s = base;
        s.id.id[0] = 0x90 | i as u8;
        let mut rec = encoded(v, &s);
        if unterminate(&mut rec, name, width) {
            out.push(rec);
        }
    }
    out
}

/// The counters the engine kept before it walked views: the owned walk, with
/// its mapping of every rejection, and imports the host accepts.
fn owned_walk_counters(frame: &[u8]) -> Stats {
    let mut s = Stats::default();
    let Ok(reader) = FrameReader::new(frame) else {
        return s;
    };
    for ev in reader {
        match ev {
            Ok(Event::Section { action, count }) => {
                s.iacts[usize::from(action)] += u64::from(count)
            }
            Ok(Event::Rejected { action, reason, .. }) => {
                if reason.is_import_check() {
                    match Action::from_u8(action) {
                        Some(Action::Ins1301 | Action::Ins1400 | Action::Ins1500) => s.badact += 1,
                        _ => s.badstate += 1,
                    }
                } else {
                    s.badval += 1;
                }
            }
            Ok(_) => {}
            Err(_) => s.badlen += 1,
        }
    }
    s
}

fn rejection_counters(s: &Stats) -> (u64, u64, u64, u64, [u64; ACTION_COUNT]) {
    (s.badval, s.badstate, s.badact, s.badlen, s.iacts)
}

/// Both walks of `frame` yield the same sections, rejections and errors, and
/// the same full states.
fn assert_walks_agree(frame: &[u8]) {
    let owned: Vec<_> = FrameReader::new(frame).unwrap().collect();
    let views: Vec<_> = FrameReader::new(frame).unwrap().views().collect();
    assert_eq!(owned.len(), views.len());
    for (o, w) in owned.iter().zip(&views) {
        match (o, w) {
            (
                Ok(Event::Message(Message::Ins { state, .. })),
                Ok(ViewEvent::Message(MessageRef::Ins(v))),
            )
            | (
                Ok(Event::Message(Message::Upd { state, .. })),
                Ok(ViewEvent::Message(MessageRef::Upd(v))),
            ) => {
                assert_eq!(*state, v.to_record());
                assert_eq!(state.id, v.state_id());
            }
            (
                Ok(Event::Rejected {
                    action,
                    index,
                    reason,
                }),
                Ok(ViewEvent::Rejected {
                    action: a,
                    index: i,
                    reason: r,
                }),
            ) => assert_eq!((action, index, reason), (a, i, r)),
            (
                Ok(Event::Section { action, count }),
                Ok(ViewEvent::Section {
                    action: a,
                    count: c,
                }),
            ) => {
                assert_eq!((action, count), (a, c))
            }
            (Err(x), Err(y)) => assert_eq!(x, y),
            (o, w) => panic!("walks differ: {o:?} vs {w:?}"),
        }
    }
}

#[test]
fn ins_and_upd_rejection_counters_match_the_owned_walk() {
    for v in VERSIONS {
        for (action, n) in [(v.ins_action() as u8, 10), (v.upd_action() as u8, 20)] {
            let records = hostile_records(v, n);
            let mut frames: Vec<Vec<u8>> = records
                .iter()
                .map(|r| frame_of(action, std::slice::from_ref(r)))
                .collect();
            frames.push(frame_of(action, &records));
            // A section announcing one record more than the frame holds.
            let mut cut = frame_of(action, &records);
            let eof_and_last = 4 + v.state_len();
            cut.truncate(cut.len() - eof_and_last);
            let len = cut.len() as u16;
            cut[2..4].copy_from_slice(&len.to_be_bytes());
            frames.push(cut);

            let mut seen = Stats::default();
            for f in &frames {
                assert_walks_agree(f);
                let (mut e, mut h) = engine();
                rx(&mut e, &mut h, f);
                let expected = owned_walk_counters(f);
                assert_eq!(
                    rejection_counters(e.stats()),
                    rejection_counters(&expected),
                    "{v:?} action {action}"
                );
                seen.badval += expected.badval;
                seen.badstate += expected.badstate;
                seen.badact += expected.badact;
                seen.badlen += expected.badlen;
            }
            // The set reaches every mapping: value checks, import checks
            // (INS: badact, UPD: badstate) and a cut section.
            let import_checks = if action == v.ins_action() as u8 {
                seen.badact
            } else {
                seen.badstate
            };
            assert!(
                seen.badval > 0 && import_checks > 0 && seen.badlen > 0,
                "{v:?} {seen:?}"
            );
        }
    }
}

#[test]
fn refused_imports_count_as_before() {
    for v in VERSIONS {
        let (mut e, mut h) = engine();
        h.refuse_imports = true;
        let ins = frame_of(v.ins_action() as u8, &[encoded(v, &samples::state(v, 4))]);
        let upd = frame_of(v.upd_action() as u8, &[encoded(v, &samples::state(v, 5))]);
        rx(&mut e, &mut h, &ins);
        rx(&mut e, &mut h, &upd);
        let s = e.stats();
        // Stock: a refused INS is `badact`, a refused UPD import `badstate`.
        assert_eq!((s.badact, s.badstate, s.badval), (1, 1, 0), "{v:?}");
        assert_eq!(h.imports.len(), 2);
    }
}
