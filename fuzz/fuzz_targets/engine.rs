//! Drives the protocol engine's receive path with arbitrary frames: one
//! engine over the simulator's model pf table, read in the FreeBSD 14, 15 or
//! OpenBSD dialect, with authentication on or off and anti-entropy on or off
//! (all chosen by the input), interleaved with timer runs and local pf
//! events. After every step it checks:
//!
//! - no panic (the harness itself uses only the public engine API);
//! - every frame lands in exactly one counter path: one `ipackets` or
//!   `ipackets6`, then exactly one of {badif, badttl, badauth, a header
//!   refusal, the walk}; a walked frame adds to `iacts` exactly what its
//!   subheaders announce, and its refusals, import failures and stale
//!   merges add between (refused records) and (refused records + messages);
//!   nothing but a frame moves an input counter;
//! - with authentication on, a frame without a valid trailer (unsigned,
//!   altered after signing, or replayed) creates, changes and deletes no
//!   state, nor touches any state's sync slot;
//! - no state in the table has creator id 0;
//! - the bulk request machine holds CARP demotion only while it waits for a
//!   bulk (`Requested`/`Receiving`), exactly `carp_demotion_factor` of it,
//!   and what the host was told adds up to what the engine holds; a bulk in
//!   progress (either direction) always has a timer armed.
//!
//! Input format (`fuzz_target_seeds engine` writes valid examples):
//! byte 0 = setup: bits 0-1 dialect (0 FreeBSD 14, 1 FreeBSD 15, 2 OpenBSD,
//! 3 FreeBSD 15), bit 2 authentication, bit 3 anti-entropy, bit 4 defer,
//! bits 5-6 version we send (1301/1400/1500/1500); byte 1 = local states to
//! create (low 3 bits); then steps until the input ends, each one opcode byte
//! (taken modulo 7) followed by its operands:
//! 0 frame: flags, length (u16 BE, capped at what is left), bytes;
//!   flags bit 0 = not received on syncdev, bit 1 = TTL 254, bit 2 = IPv6,
//!   bit 3 = sign it (authentication on), bit 4 = then flip one byte (two
//!   operand bytes follow the frame: position, xor), bit 5 = send the last
//!   signed frame again instead (no length, no bytes);
//! 1 time: advance by a u16 BE number of milliseconds, running every timer;
//! 2 create local state n; 3 update local state n; 4 delete state n (n = one
//!   byte); 5 operator resync; 6 reconfigure: one byte, bits 0-1 MTU (1500,
//!   9000, 1280, 120), bit 2 no syncdev, bit 3 IPv6 peer, bit 4 next message
//!   version, bit 5 toggle defer, bit 6 down, bit 7 another syncpeer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pfsync::antientropy::{self, EngineIo, Session};
use pfsync::auth::{FrameAuth, KeySet, Signer, KEY_LEN, TRAILER_LEN};
use pfsync::engine::{Config, IpFamily, ReqState, RxMeta, SendState, Stats};
use pfsync::sim::{ModelState, Node};
use pfsync::time::{Duration, Instant};
use pfsync::wire::{samples, Dialect, Error, FrameReader, IfName, MsgVersion, StateId, WalkEvent};

const OUR_HOSTID: [u8; 4] = [0xc1, 0xc2, 0xc3, 0x01];
/// The sample states with an odd last id byte above 1 are the peer's.
const PEER_HOSTID: [u8; 4] = [0xc1, 0xc2, 0xc3, 0x03];
const KEY: [u8; KEY_LEN] = [0x5a; KEY_LEN];
const MAX_FRAME: usize = 4096;
const MTU: u16 = 1500;

struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head
    }
}

struct Harness {
    node: Node<FrameAuth>,
    session: Option<Session>,
    now: Instant,
    auth: bool,
    dialect: Dialect,
    /// The peer's signing side, for frames that should pass.
    peer_keys: KeySet,
    peer_signer: Signer,
    /// The last frame signed, and whether the engine's verifier has seen
    /// it (a frame dropped at the IP checks or altered never reached it).
    last_signed: Option<(Vec<u8>, bool)>,
    scratch: Vec<u8>,
}

fn local_state(n: u8) -> pfsync::wire::StateRecord {
    let mut s = samples::state(MsgVersion::V1500, n);
    s.id.creatorid = OUR_HOSTID;
    s
}

fn table(node: &Node<FrameAuth>) -> Vec<(StateId, ModelState)> {
    node.table.iter().map(|(id, s)| (*id, *s)).collect()
}

fn header_len(frame: &[u8]) -> usize {
    frame
        .get(2..4)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])))
}

/// What the engine's receive funnel must have counted for one frame.
enum Path<'a> {
    /// pfsync0 down or without syncdev: counted as received, nothing else.
    Inactive,
    BadIf,
    BadTtl,
    BadAuth,
    /// Parsed: these are the bytes the engine walked.
    Walk(&'a [u8]),
}

fn input_counters(s: &Stats) -> [u64; 12] {
    [
        s.ipackets,
        s.ipackets6,
        s.badif,
        s.badttl,
        s.hdrops,
        s.badver,
        s.badact,
        s.badlen,
        s.badauth,
        s.stale,
        s.badval,
        s.badstate,
    ]
}

fn error_counter(before: &Stats, after: &Stats, e: Error) -> u64 {
    match e {
        Error::HdrOps => after.hdrops - before.hdrops,
        Error::BadVer => after.badver - before.badver,
        Error::BadLen => after.badlen - before.badlen,
        Error::BadAct => after.badact - before.badact,
        Error::BadVal => after.badval - before.badval,
        Error::BadAuth => after.badauth - before.badauth,
    }
}

/// Checks the counter deltas of one frame against the path it must take.
fn check_accounting(
    before: &Stats,
    after: &Stats,
    family: IpFamily,
    path: Path<'_>,
    dialect: Dialect,
) {
    let (v4, v6) = match family {
        IpFamily::V4 => (1, 0),
        IpFamily::V6 => (0, 1),
    };
    assert_eq!(after.ipackets - before.ipackets, v4, "ipackets");
    assert_eq!(after.ipackets6 - before.ipackets6, v6, "ipackets6");
    let mut expect = *before;
    expect.ipackets = after.ipackets;
    expect.ipackets6 = after.ipackets6;
    match path {
        Path::Inactive => {}
        Path::BadIf => expect.badif += 1,
        Path::BadTtl => expect.badttl += 1,
        Path::BadAuth => expect.badauth += 1,
        Path::Walk(frame) => {
            let reader = match FrameReader::with_dialect(frame, dialect) {
                Ok(r) => r.views(),
                Err(e) => {
                    assert_eq!(error_counter(before, after, e), 1, "header refusal {e:?}");
                    let mut rest_after = *after;
                    let mut rest_before = expect;
                    zero_error(&mut rest_after, e);
                    zero_error(&mut rest_before, e);
                    assert_eq!(input_counters(&rest_after), input_counters(&rest_before));
                    return;
                }
            };
            let mut iacts = before.iacts;
            let (mut refused, mut messages) = (0u64, 0u64);
            for event in reader {
                match event {
                    Ok(WalkEvent::Section { action, count }) => {
                        if let Some(n) = iacts.get_mut(usize::from(action)) {
                            *n += u64::from(count);
                        }
                    }
                    Ok(WalkEvent::Message(_)) => messages += 1,
                    Ok(WalkEvent::Rejected { .. }) | Err(_) => refused += 1,
                    Ok(WalkEvent::Skipped { .. }) => {}
                }
            }
            assert_eq!(
                after.iacts, iacts,
                "iacts must add exactly the announced counts"
            );
            let counted = [
                after.hdrops - before.hdrops,
                after.badver - before.badver,
                after.badlen - before.badlen,
                after.badact - before.badact,
                after.badval - before.badval,
                after.badstate - before.badstate,
                after.stale - before.stale,
            ]
            .iter()
            .sum::<u64>();
            assert!(
                (refused..=refused + messages).contains(&counted),
                "walk counted {counted}, {refused} refused of {messages} messages"
            );
            for (name, b, a) in [
                ("badif", before.badif, after.badif),
                ("badttl", before.badttl, after.badttl),
                ("badauth", before.badauth, after.badauth),
            ] {
                assert_eq!(a, b, "{name} moved for a walked frame");
            }
            return;
        }
    }
    assert_eq!(
        input_counters(after),
        input_counters(&expect),
        "frame-level refusal"
    );
    assert_eq!(after.iacts, before.iacts, "a refused frame has no sections");
}

fn zero_error(s: &mut Stats, e: Error) {
    match e {
        Error::HdrOps => s.hdrops = 0,
        Error::BadVer => s.badver = 0,
        Error::BadLen => s.badlen = 0,
        Error::BadAct => s.badact = 0,
        Error::BadVal => s.badval = 0,
        Error::BadAuth => s.badauth = 0,
    }
}

impl Harness {
    fn new(setup: u8) -> Option<Harness> {
        let dialect = match setup & 3 {
            0 => Dialect::FreeBsd14,
            2 => Dialect::OpenBsd,
            _ => Dialect::FreeBsd15,
        };
        let auth = setup & 4 != 0;
        let anti_entropy = setup & 8 != 0;
        let mut config = Config::new(OUR_HOSTID);
        config.syncdev = IfName::new("em1");
        config.up = true;
        config.mtu = MTU;
        config.defer = setup & 16 != 0;
        config.receive_dialect = dialect;
        config.version = match (setup >> 5) & 3 {
            0 => MsgVersion::V1301,
            1 => MsgVersion::V1400,
            _ => MsgVersion::V1500,
        };
        let mut ext = FrameAuth::new(OUR_HOSTID, 1)?;
        let mut peer_keys = KeySet::new();
        if auth {
            ext.keys_mut().install(1, &KEY).ok()?;
            peer_keys.install(1, &KEY).ok()?;
            if peer_keys.send_id().is_none() {
                peer_keys.set_send(1).ok()?;
            }
        }
        let now = Instant::from_secs(1000);
        let mut node = Node::with_extension(config, ext).ok()?;
        node.configure(now, config).ok()?;
        let session = anti_entropy.then(|| {
            let trailer = if auth { TRAILER_LEN } else { 0 };
            let c = antientropy::Config {
                period: Duration::from_secs(5),
                frame_len: usize::from(MTU) - 20 - trailer,
                trailer_len: trailer,
                ..antientropy::Config::new()
            };
            let mut s = Session::new(c, OUR_HOSTID).expect("session");
            s.start(now, Duration::from_millis(500));
            s
        });
        Some(Harness {
            node,
            session,
            now,
            auth,
            dialect,
            peer_keys,
            peer_signer: Signer::new(PEER_HOSTID, 7),
            last_signed: None,
            scratch: vec![0; 9216],
        })
    }

    fn check_invariants(&self) {
        for (id, _) in self.node.table.iter() {
            assert_ne!(id.creatorid, [0; 4], "state with creator id 0");
        }
        let e = &self.node.engine;
        let demotion = e.demotion();
        assert_eq!(
            self.node.io.demotion, demotion,
            "host told a different demotion"
        );
        match e.bulk_request_state() {
            ReqState::Idle | ReqState::Done => assert_eq!(demotion, 0, "demoted while not waiting"),
            ReqState::Requested | ReqState::Receiving => {
                assert!(
                    demotion == 0 || demotion == e.config().carp_demotion_factor,
                    "demotion {demotion}"
                );
                assert!(e.poll_timeout().is_some(), "bulk request without a timer");
            }
        }
        if e.bulk_send_state() == SendState::Sending {
            assert!(e.poll_timeout().is_some(), "bulk send without a timer");
        }
    }

    /// Runs the anti-entropy session on the extension bytes of the frame
    /// just accepted; it may not move an input counter.
    fn feed_extension(&mut self) {
        let now = self.now;
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let Some(n) = self
            .node
            .engine
            .extension_mut()
            .take_extension(&mut self.scratch)
        else {
            return;
        };
        let before = *self.node.engine.stats();
        let (engine, mut host) = self.node.host(now);
        let mut io = EngineIo {
            engine,
            host: &mut host,
            now,
        };
        session.on_extension(now, &self.scratch[..n], &mut io);
        assert_eq!(
            input_counters(self.node.engine.stats()),
            input_counters(&before)
        );
        assert_eq!(self.node.engine.stats().iacts, before.iacts);
    }

    fn frame(&mut self, input: &mut Input<'_>) -> Option<()> {
        let flags = input.byte()?;
        let meta = RxMeta {
            family: if flags & 4 != 0 {
                IpFamily::V6
            } else {
                IpFamily::V4
            },
            ttl: if flags & 2 != 0 { 254 } else { 255 },
            on_syncdev: flags & 1 == 0,
        };
        // `valid`: the bytes carry a trailer this engine must accept.
        let c = self.node.engine.config();
        let reaches_verifier = c.up && c.syncdev.is_some() && meta.on_syncdev && meta.ttl == 255;
        let (bytes, valid) = if flags & 32 != 0 {
            let (bytes, seen) = self.last_signed.clone()?;
            self.last_signed = Some((bytes.clone(), seen || reaches_verifier));
            (bytes, !seen)
        } else {
            let len = usize::from(input.u16()?).min(MAX_FRAME);
            let body = input.take(len);
            if self.auth && flags & 8 != 0 {
                let mut buf = body.to_vec();
                buf.resize(body.len() + TRAILER_LEN, 0);
                match self.peer_signer.sign(&self.peer_keys, &mut buf, body.len()) {
                    Ok(n) => {
                        buf.truncate(n);
                        let signed = buf.clone();
                        let mut valid = true;
                        if flags & 16 != 0 {
                            let at = usize::from(input.byte()?);
                            let xor = input.byte()? | 1;
                            if let Some(b) = buf.get_mut(at % n.max(1)) {
                                *b ^= xor;
                                valid = false;
                            }
                        }
                        // An altered copy fails its tag before the replay
                        // check, so the intact one stays fresh.
                        self.last_signed = Some((signed, valid && reaches_verifier));
                        (buf, valid)
                    }
                    Err(_) => (body.to_vec(), false),
                }
            } else {
                (body.to_vec(), !self.auth)
            }
        };
        // The verifier takes only FreeBSD headers, whatever was signed.
        let valid = valid && (!self.auth || bytes.first() == Some(&pfsync::wire::VERSION_FREEBSD));
        let active = {
            let c = self.node.engine.config();
            c.up && c.syncdev.is_some()
        };
        let path = if !active {
            Path::Inactive
        } else if !meta.on_syncdev {
            Path::BadIf
        } else if meta.ttl != 255 {
            Path::BadTtl
        } else if !valid {
            Path::BadAuth
        } else if self.auth {
            Path::Walk(bytes.get(..header_len(&bytes)).unwrap_or(&[]))
        } else {
            Path::Walk(&bytes)
        };
        let before_stats = *self.node.engine.stats();
        let before_table = (!valid).then(|| table(&self.node));
        self.node.receive(self.now, meta, &bytes);
        let after_stats = *self.node.engine.stats();
        if let Some(t) = before_table {
            assert_eq!(
                table(&self.node),
                t,
                "a frame without a valid trailer changed the table"
            );
        }
        check_accounting(&before_stats, &after_stats, meta.family, path, self.dialect);
        self.feed_extension();
        Some(())
    }

    fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        let before = *self.node.engine.stats();
        for _ in 0..256 {
            let next = [
                self.node.poll_timeout(),
                self.session.as_ref().and_then(Session::poll_timeout),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= target => {
                    if t > self.now {
                        self.now = t;
                    }
                    self.run_timers();
                }
                _ => break,
            }
        }
        self.now = target;
        self.run_timers();
        let after = self.node.engine.stats();
        assert_eq!(
            input_counters(after),
            input_counters(&before),
            "timers moved an input counter"
        );
        assert_eq!(after.iacts, before.iacts);
    }

    fn run_timers(&mut self) {
        let now = self.now;
        self.node.handle_timeout(now);
        if let Some(session) = self.session.as_mut() {
            if session.poll_timeout().is_some_and(|t| t <= now) {
                let (engine, mut host) = self.node.host(now);
                let mut io = EngineIo {
                    engine,
                    host: &mut host,
                    now,
                };
                session.handle_timeout(now, &mut io);
            }
        }
        self.node.io.outbox.clear();
    }

    /// `ifconfig pfsync0 ...` (or a sysctl) mid-run. A refused configuration
    /// must leave the engine's in force.
    fn reconfigure(&mut self, how: u8) {
        let mut c = *self.node.engine.config();
        c.mtu = match how & 3 {
            0 => MTU,
            1 => 9000,
            2 => 1280,
            _ => 120,
        };
        c.syncdev = if how & 4 != 0 {
            None
        } else {
            IfName::new("em1")
        };
        c.peer_family = if how & 8 != 0 {
            IpFamily::V6
        } else {
            IpFamily::V4
        };
        if how & 16 != 0 {
            c.version = match c.version {
                MsgVersion::V1301 => MsgVersion::V1400,
                MsgVersion::V1400 => MsgVersion::V1500,
                MsgVersion::V1500 => MsgVersion::V1301,
            };
        }
        c.defer ^= how & 32 != 0;
        c.up = how & 64 == 0;
        c.syncpeer[3] = how >> 7;
        let before = *self.node.engine.config();
        let input_before = *self.node.engine.stats();
        if self.node.configure(self.now, c).is_err() {
            assert_eq!(
                *self.node.engine.config(),
                before,
                "a refused configuration took effect"
            );
        }
        assert_eq!(
            input_counters(self.node.engine.stats()),
            input_counters(&input_before)
        );
    }

    fn step(&mut self, input: &mut Input<'_>) -> Option<()> {
        match input.byte()? % 7 {
            0 => self.frame(input)?,
            1 => self.advance(Duration::from_millis(u64::from(input.u16()?))),
            2 => {
                self.node.create_state(self.now, local_state(input.byte()?));
            }
            3 => {
                let id = local_state(input.byte()?).id;
                self.node.update_state(self.now, &id, |r| {
                    r.src.seqlo = r.src.seqlo.wrapping_add(1000);
                    r.src.seqhi = r.src.seqhi.wrapping_add(1000);
                });
            }
            4 => {
                let n = input.byte()?;
                let id = if n & 0x80 != 0 {
                    samples::state_id(n & 0x7f)
                } else {
                    local_state(n).id
                };
                self.node.delete_state(self.now, &id);
            }
            5 => {
                let now = self.now;
                let (engine, mut host) = self.node.host(now);
                engine.on_resync_requested(now, &mut host);
            }
            _ => self.reconfigure(input.byte()?),
        }
        self.node.io.outbox.clear();
        self.node.io.released.clear();
        self.node.io.dropped.clear();
        self.node.io.log.clear();
        self.node.io.demotion_log.clear();
        Some(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input { bytes: data };
    let Some(setup) = input.byte() else {
        return;
    };
    let Some(mut h) = Harness::new(setup) else {
        return;
    };
    let locals = input.byte().unwrap_or(0) & 7;
    for n in 0..locals {
        h.node.create_state(h.now, local_state(n));
    }
    h.check_invariants();
    while h.step(&mut input).is_some() {
        h.check_invariants();
    }
    h.check_invariants();
});
