//! The event loop: received frames, control requests and deadlines go into
//! the engine; the engine answers through [`LinuxHost`]. Single-threaded,
//! `ppoll(2)` with the earliest of the engine's and the fault injector's
//! deadlines as timeout.
//!
//! Local pf activity (a state created, changed or removed) is what control
//! requests stand for: each edits the model table and runs the engine hook pf
//! would run, in the order pf runs it.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Instant as StdInstant;

use pfsync::antientropy::{self, EngineIo, Session};
use pfsync::auth::{FrameAuth, TRAILER_LEN};

use pfsync::engine::{
    pacing, Config, DeferredPacket, Engine, InsertOutcome, IpFamily, RxMeta, StateInfo,
    PFSTATE_ACK, PFSTATE_NOSYNC,
};
use pfsync::time::{Duration, Instant};
use pfsync::wire::{Dialect, IfName, MsgVersion, StateId, StateKey, StateRecord};
use serde_json::{json, Map, Value};

use crate::authkeys::{self, KeyFile};
use crate::cli::{parse_checksum, parse_hostid, DialectArg, RunArgs};
use crate::clock::{poll_wait, Clock};
use crate::control::{self, ControlServer, Request};
use crate::fault::{FaultConfig, FaultInjector};
use crate::host::LinuxHost;
use crate::signals::StopSignal;
use crate::state_json::{parse_state_id, record_from_json, record_to_json};
use crate::transport::{self, Family, Transport, TransportConfig, RECV_BUF_LEN};
use pfsync::wire::SyncFlags;

/// Datagrams read per wake-up before timers get a turn.
const RECV_BATCH: usize = 256;
/// Longest sleep; every wake-up source is polled, so this only bounds how
/// stale a wrong deadline could leave us.
const MAX_POLL_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Headroom for the IP header in an anti-entropy frame (IPv6's, the larger).
const AE_IP_HEADER: usize = 40;

pub struct Node {
    /// With no key installed `FrameAuth` changes nothing on the wire; it also
    /// hands over the payload of anti-entropy frames.
    engine: Engine<FrameAuth>,
    host: LinuxHost,
    /// `--auth-key-file`, re-read by `auth-reload`.
    key_file: Option<PathBuf>,
    /// Ids installed from the key file (the key set itself reveals none).
    key_ids: Vec<u8>,
    epoch: u64,
    /// Senders whose frames verified, so their epochs can be persisted.
    peers: Vec<[u8; 4]>,
    anti_entropy: Option<Session>,
    /// Extension payload of the frame just received.
    ext_buf: Vec<u8>,
    clock: Clock,
    config: Config,
    rxbuf: Vec<u8>,
    next_token: u64,
    shutdown: bool,
}

fn state_info(r: &StateRecord) -> StateInfo {
    StateInfo {
        id: r.id,
        proto: r.wire_proto,
        state_flags: r.state_flags,
        rule_nosync: false,
    }
}

fn engine_config(args: &RunArgs, family: Family, hostid: u32) -> Result<Config, String> {
    let openbsd = args.dialect == DialectArg::Openbsd;
    if openbsd && args.emulate_release == 14 {
        return Err("--emulate-release is a FreeBSD setting".into());
    }
    if openbsd && (args.anti_entropy || args.auth_key_file.is_some()) {
        // Digests travel in, and trailers are verified on, FreeBSD (version 5) frames.
        return Err(
            "--anti-entropy and --auth-key-file are not available with --dialect openbsd".into(),
        );
    }
    let mut c = if openbsd {
        Config::openbsd(hostid.to_be_bytes())
    } else {
        Config::new(hostid.to_be_bytes())
    };
    c.syncdev = Some(IfName::new(&args.syncdev).ok_or("syncdev name longer than 15 bytes")?);
    c.up = true;
    c.peer_family = match family {
        Family::V4 => IpFamily::V4,
        Family::V6 => IpFamily::V6,
    };
    c.maxupd = args.maxupd;
    c.defer = args.defer;
    c.defer_delay = Duration::from_millis(args.defer_delay_ms);
    let release_default = if args.emulate_release == 14 {
        1400
    } else {
        1500
    };
    let number = if args.msg_version == 0 {
        release_default
    } else {
        args.msg_version
    };
    c.version =
        MsgVersion::from_number(number).ok_or(format!("unknown message version {number}"))?;
    if args.emulate_release == 14 && c.version == MsgVersion::V1500 {
        return Err("a 14.x node cannot send format 1500".into());
    }
    c.receive_dialect = if openbsd {
        Dialect::OpenBsd
    } else if args.emulate_release == 14 {
        Dialect::FreeBsd14
    } else {
        Dialect::FreeBsd15
    };
    if args.buckets != 0 {
        c.buckets = u16::try_from(args.buckets).map_err(|_| "too many buckets")?;
    } else {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        c.buckets = u16::try_from(2 * cpus).unwrap_or(u16::MAX);
    }
    // Stock: pfsync0 starts at ETHERMTU and may not exceed the syncdev's MTU.
    let dev_mtu = transport::mtu_of(&args.syncdev).map_err(|e| format!("{}: {e}", args.syncdev))?;
    let mtu = args.mtu.unwrap_or(dev_mtu.min(1500));
    if mtu > dev_mtu {
        return Err(format!(
            "mtu {mtu} exceeds {}'s MTU {dev_mtu}",
            args.syncdev
        ));
    }
    c.mtu = u16::try_from(mtu).map_err(|_| "mtu too large")?;
    let link_bits = match args.link_speed_mbps {
        0 => transport::link_speed_bits(std::path::Path::new("/sys"), &args.syncdev),
        mbps => mbps.saturating_mul(1_000_000),
    };
    // OpenBSD sends one bulk frame every 20 ms, whatever the MTU, unless
    // the operator set a rate.
    let explicit = match args.bulk_rate {
        0 if openbsd => u64::from(c.mtu) * 50,
        rate => rate,
    };
    c.bulk_rate_bytes_per_sec = pacing::bulk_rate(explicit, link_bits);
    if args.bulk_tick_us != 0 {
        c.bulk_tick = Duration::from_micros(args.bulk_tick_us);
    }
    if let Some(factor) = args.carp_demotion_factor {
        c.carp_demotion_factor = factor;
    }
    if args.bulk_request_timeout_ms != 0 {
        c.bulk_request_timeout = Duration::from_millis(args.bulk_request_timeout_ms);
    }
    if args.bulk_idle_timeout_ms != 0 {
        c.bulk_idle_timeout = Duration::from_millis(args.bulk_idle_timeout_ms);
    }
    if args.bulk_max_tries != 0 {
        c.bulk_max_tries = args.bulk_max_tries;
    }
    if let Some(sum) = &args.ruleset_checksum {
        c.ruleset_checksum = parse_checksum(sum)?;
    }
    Ok(c)
}

pub fn run(args: RunArgs) -> Result<(), String> {
    if let Some(path) = &args.auth_key_file {
        // Refuse a bad key file before touching the network.
        KeyFile::read(path)?;
    }
    let family = match (args.family.as_deref(), args.syncpeer) {
        (Some("6"), _) | (None, Some(std::net::IpAddr::V6(_))) => Family::V6,
        _ => Family::V4,
    };
    let hostid = match &args.hostid {
        Some(s) => parse_hostid(s)?,
        // Like pf: a random non-zero host id when none is configured.
        None => (std::process::id() ^ 0x5bd1_e995).max(1),
    };
    let config = engine_config(&args, family, hostid)?;
    let transport = Transport::open(&TransportConfig {
        syncdev: args.syncdev.clone(),
        family,
        syncpeer: args.syncpeer,
        rcvbuf: args.rcvbuf,
    })
    .map_err(|e| format!("sync socket on {}: {e}", args.syncdev))?;
    let fault = FaultInjector::new(FaultConfig {
        drop_pct: args.fault_drop_pct,
        delay: std::time::Duration::from_millis(args.fault_delay_ms),
        reorder_pct: args.fault_reorder_pct,
        reorder_hold: std::time::Duration::from_millis(args.fault_reorder_ms),
        seed: args.fault_seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        }),
    });
    let stop = StopSignal::install().map_err(|e| format!("signal handlers: {e}"))?;
    let mut server = ControlServer::bind(&args.control)
        .map_err(|e| format!("{}: {e}", args.control.display()))?;
    let epoch = match &args.auth_key_file {
        Some(path) => {
            let realtime_ns = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
            let (epoch, warning) = authkeys::next_epoch(path, realtime_ns);
            if let Some(w) = warning {
                eprintln!("pfsync-node: {w}");
            }
            epoch
        }
        None => 0,
    };
    let auth = FrameAuth::new(config.hostid, epoch).ok_or("no memory for the frame extension")?;
    let engine =
        Engine::with_extension(config, auth).map_err(|e| format!("engine configuration: {e:?}"))?;
    let mut node = Node {
        engine,
        host: LinuxHost::new(transport, fault, args.verbose),
        key_file: args.auth_key_file.clone(),
        key_ids: Vec::new(),
        epoch,
        peers: Vec::new(),
        anti_entropy: None,
        ext_buf: vec![0u8; RECV_BUF_LEN],
        clock: Clock::new(),
        config,
        rxbuf: vec![0u8; RECV_BUF_LEN],
        next_token: 1,
        shutdown: false,
    };
    eprintln!(
        "pfsync-node: hostid {hostid:08x} syncdev {} {:?} peer {} version {} mtu {} buckets {}",
        args.syncdev,
        family,
        args.syncpeer.map_or("group".into(), |p| p.to_string()),
        if config.speaks_openbsd() {
            "openbsd (pfsync v6)".to_string()
        } else {
            config.version.number().to_string()
        },
        config.mtu,
        config.buckets
    );
    if node.key_file.is_some() {
        // Keys go in before the first configuration, so not one frame leaves unsigned.
        let installed = node.load_keys(None)?;
        node.restore_peer_epochs();
        eprintln!(
            "pfsync-node: authentication on, keys {:?}, sending with {installed}, epoch {epoch}",
            node.key_ids
        );
    }
    if args.anti_entropy {
        let trailer = if node.key_file.is_some() {
            TRAILER_LEN
        } else {
            0
        };
        let ae = antientropy::Config {
            period: Duration::from_millis(args.ae_period_ms),
            frame_len: usize::from(config.mtu).saturating_sub(AE_IP_HEADER + trailer),
            trailer_len: trailer,
            ..antientropy::Config::new()
        };
        let mut session =
            Session::new(ae, config.hostid).ok_or("no memory for the anti-entropy session")?;
        // Spread peers' digests over the period instead of walking in lock-step.
        let offset = args.ae_period_ms / 2 + u64::from(hostid % 8) * args.ae_period_ms / 16;
        session.start(node.clock.now(), Duration::from_millis(offset));
        node.anti_entropy = Some(session);
    }
    // The first configuration brings pfsync up and asks the peer for a bulk update.
    let now = node.tick();
    let first = node.config;
    node.engine
        .on_config_changed(now, &first, &mut node.host)
        .map_err(|e| format!("engine configuration: {e:?}"))?;
    node.pump();

    while !node.shutdown {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(8);
        let watch = |fd: RawFd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        fds.push(watch(node.host.transport.raw_fd()));
        fds.push(watch(stop.fd()));
        fds.extend(server.fds().into_iter().map(watch));
        let wait = node.poll_wait();
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(wait.as_secs()).unwrap_or(1),
            tv_nsec: libc::c_long::from(wait.subsec_nanos()),
        };
        // SAFETY: `fds` is a live, correctly sized array of pollfd for the call.
        let ready = unsafe {
            libc::ppoll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                &ts,
                std::ptr::null(),
            )
        };
        if ready < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(format!("poll: {err}"));
            }
        }
        if fds[1].revents != 0 && stop.fired() {
            break;
        }
        if fds[0].revents != 0 {
            node.receive_batch();
        }
        if fds.iter().skip(2).any(|p| p.revents != 0) {
            for req in server.service() {
                let response = node.handle_request(&req);
                server.reply(req.client, &response);
            }
        }
        node.pump();
    }
    node.finish();
    eprintln!("pfsync-node: stopped");
    Ok(())
}

impl Node {
    /// Reads the clock and hands it to the parts that need it.
    fn tick(&mut self) -> Instant {
        let now = self.clock.now();
        self.host.table.set_now(now);
        self.host.std_now = StdInstant::now();
        now
    }

    fn poll_wait(&self) -> std::time::Duration {
        let session_at = self.anti_entropy.as_ref().and_then(Session::poll_timeout);
        let engine_at = match (self.engine.poll_timeout(), session_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|t| self.clock.to_std(t));
        let fault_at = self.host.fault.next_release();
        let deadline = match (engine_at, fault_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        poll_wait(StdInstant::now(), deadline, MAX_POLL_WAIT)
    }

    /// Runs whatever is due: engine timers (bucket flushes, deferrals, bulk)
    /// and frames the fault injector held.
    fn pump(&mut self) {
        let now = self.tick();
        // Bounded: a due bucket is emptied by one call; a few rounds cover
        // work that a timer schedules for "now".
        for _ in 0..8 {
            match self.engine.poll_timeout() {
                Some(t) if t <= now => self.engine.handle_timeout(now, &mut self.host),
                Some(_) | None => break,
            }
        }
        if let Some(session) = self.anti_entropy.as_mut() {
            if session.poll_timeout().is_some_and(|t| t <= now) {
                let mut io = EngineIo {
                    engine: &mut self.engine,
                    host: &mut self.host,
                    now,
                };
                session.handle_timeout(now, &mut io);
            }
        }
        self.host.release_held_frames();
    }

    /// Hands the payload past `len` of the frame just accepted (an
    /// anti-entropy message, if any) to the session.
    fn deliver_extension(&mut self, now: Instant) {
        let Some(n) = self
            .engine
            .extension_mut()
            .take_extension(&mut self.ext_buf)
        else {
            return;
        };
        let Some(session) = self.anti_entropy.as_mut() else {
            return;
        };
        let mut io = EngineIo {
            engine: &mut self.engine,
            host: &mut self.host,
            now,
        };
        session.on_extension(now, self.ext_buf.get(..n).unwrap_or(&[]), &mut io);
    }

    /// (Re)reads the key file and replaces the installed keys with its
    /// keys, signing with `send` if the file still has it, else with the
    /// file's first key. Returns the send key id. Nothing changes if the
    /// file is unreadable or malformed.
    fn load_keys(&mut self, send: Option<u8>) -> Result<u8, String> {
        let path = self.key_file.clone().ok_or("no --auth-key-file")?;
        let file = KeyFile::read(&path)?;
        let set = file.key_set(send)?;
        let chosen = set.send_id().ok_or("no send key")?;
        // The replaced set zeroes its keys when dropped.
        *self.engine.extension_mut().keys_mut() = set;
        self.key_ids.clone_from(&file.ids);
        let now = self.tick();
        let config = self.config;
        // Authentication on changes the trailer room: re-apply the configuration.
        self.engine
            .on_config_changed(now, &config, &mut self.host)
            .map_err(|e| format!("engine configuration: {e:?}"))?;
        self.host.note(format!(
            "auth keys loaded: ids {:?}, sending with {chosen}",
            self.key_ids
        ));
        Ok(chosen)
    }

    /// Seeds the replay table with the epochs persisted at our last
    /// shutdown, so that frames of a peer's earlier boots stay refused
    /// (docs/auth.md, "Receiver restarts").
    fn restore_peer_epochs(&mut self) {
        let Some(path) = self.key_file.clone() else {
            return;
        };
        for (sender, epoch) in authkeys::read_peer_epochs(&path) {
            let table = self.engine.extension_mut().verifier_mut().replay_table();
            if table.seed_epoch(sender, epoch) && !self.peers.contains(&sender) {
                self.peers.push(sender);
            }
        }
        if !self.peers.is_empty() {
            self.host.note(format!(
                "auth: restored the epochs of {} peer(s)",
                self.peers.len()
            ));
        }
    }

    fn save_peer_epochs(&mut self) {
        let Some(path) = self.key_file.clone() else {
            return;
        };
        let table = self.engine.extension_mut().verifier_mut().replay_table();
        let known: Vec<([u8; 4], u64)> = self
            .peers
            .iter()
            .filter_map(|p| table.epoch_of(*p).map(|e| (*p, e)))
            .collect();
        if let Err(e) = authkeys::write_peer_epochs(&path, &known) {
            eprintln!("pfsync-node: could not persist peers' epochs: {e}");
        }
    }

    fn auth_reload(&mut self) -> Result<Value, String> {
        let keep = self.engine.extension().keys().send_id();
        let send = self.load_keys(keep)?;
        Ok(json!({ "auth": self.auth_json(), "send_id": send }))
    }

    /// Chooses which installed key signs (rotation step 2).
    fn auth_send(&mut self, req: &Value) -> Result<Value, String> {
        if self.key_file.is_none() {
            return Err("authentication is off (no --auth-key-file)".into());
        }
        let id = req
            .get("id")
            .and_then(Value::as_u64)
            .and_then(|v| u8::try_from(v).ok())
            .ok_or("missing key \"id\" (0..=255)")?;
        self.engine
            .extension_mut()
            .keys_mut()
            .set_send(id)
            .map_err(|_| format!("key {id} is not installed"))?;
        self.host.note(format!("auth: sending with key {id}"));
        Ok(json!({ "auth": self.auth_json() }))
    }

    /// What an operator may see about authentication: ids, never key bytes.
    fn auth_json(&self) -> Value {
        let ext = self.engine.extension();
        json!({
            "enabled": ext.is_enabled(),
            "key_ids": self.key_ids,
            "send_id": ext.keys().send_id(),
            "epoch": self.epoch,
            "signed": ext.signed_count(),
        })
    }

    fn receive_batch(&mut self) {
        let now = self.tick();
        let syncdev = self.host.transport.ifindex();
        let family = match self.host.transport.family() {
            Family::V4 => IpFamily::V4,
            Family::V6 => IpFamily::V6,
        };
        for _ in 0..RECV_BATCH {
            let got = match self.host.transport.recv(&mut self.rxbuf) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.host.note(format!("receive: {e}"));
                    break;
                }
            };
            self.host.io.frames_received += 1;
            self.host.io.bytes_received += got.len as u64;
            if let Some(d) = got.rxq_dropped {
                self.host.io.rxq_dropped = u64::from(d);
            }
            let meta = RxMeta {
                family,
                ttl: got.ttl,
                on_syncdev: got.ifindex.is_none_or(|i| i == syncdev),
            };
            let frame = self
                .rxbuf
                .get(got.start..got.start + got.len)
                .unwrap_or(&[]);
            self.engine
                .on_frame_received(now, meta, frame, &mut self.host);
            if self.key_file.is_some() {
                note_peer(&mut self.peers, self.engine.extension_mut(), frame);
            }
            self.deliver_extension(now);
            // Answers (UPD_REQ replies, INS_ACKs, bulk frames) leave promptly.
            if self.engine.poll_timeout().is_some_and(|t| t <= now) {
                self.engine.handle_timeout(now, &mut self.host);
            }
        }
    }

    /// Sends everything queued now.
    fn flush(&mut self) {
        let now = self.tick();
        self.engine.flush(now, &mut self.host);
        self.pump();
    }

    /// Shutdown: queued records out, held frames out, demotion given back.
    fn finish(&mut self) {
        self.flush();
        let now = self.tick();
        self.engine.on_destroy(now, &mut self.host);
        self.host.drain_held_frames();
        self.save_peer_epochs();
    }

    // ----- local pf activity -----

    fn insert(&mut self, req: &Value) -> Result<Value, String> {
        let record = record_from_json(req.get("state").ok_or("missing \"state\"")?)?;
        let defer = req.get("defer").and_then(Value::as_bool).unwrap_or(false);
        let now = self.tick();
        self.host
            .table
            .insert_local(record)
            .map_err(|e| format!("insert: {e:?}"))?;
        let deferred = self.run_insert_hook(now, &record, defer);
        Ok(json!({ "deferred": deferred }))
    }

    /// pf's insert hook, then (for the packet that created the state) the defer hook.
    fn run_insert_hook(&mut self, now: Instant, record: &StateRecord, defer: bool) -> bool {
        let info = state_info(record);
        let mut slot = self
            .host
            .table
            .get(&record.id)
            .map(|s| s.slot)
            .unwrap_or_default();
        let outcome = self.engine.on_state_inserted(now, &info, &mut slot);
        let mut deferred = false;
        if outcome == InsertOutcome::SetNoSync {
            if let Some(s) = self.host.table.get_mut(&record.id) {
                s.record.state_flags.insert(PFSTATE_NOSYNC);
            }
        } else if defer {
            let token = self.next_token;
            self.next_token += 1;
            deferred = self.engine.on_defer_requested(
                now,
                &info,
                &mut slot,
                DeferredPacket(token),
                &mut self.host,
            );
            // Not taken: pf would send the packet at once; nothing to track.
            if deferred {
                self.host.deferral_started(token, record.id);
                // Stock's pfsync_defer marks the state so the INS asks for an INS_ACK.
                if let Some(s) = self.host.table.get_mut(&record.id) {
                    s.record.state_flags.insert(PFSTATE_ACK);
                }
            }
        }
        self.host.table.store_slot(&record.id, slot);
        deferred
    }

    fn update(&mut self, req: &Value) -> Result<Value, String> {
        let id = parse_state_id(req)?;
        let now = self.tick();
        let current = self.host.table.get(&id).ok_or("no such state")?.record;
        let mut merged =
            serde_json::to_value(record_to_json(&current)).map_err(|e| e.to_string())?;
        if let Some(change) = req.get("state") {
            deep_merge(&mut merged, change);
        }
        let mut record = record_from_json(&merged)?;
        record.id = id;
        let slot = match self.host.table.get_mut(&id) {
            Some(s) => {
                s.record = record;
                s.slot
            }
            None => return Err("state vanished".into()),
        };
        let mut slot = slot;
        self.engine
            .on_state_updated(now, &state_info(&record), &mut slot, &mut self.host);
        self.host.table.store_slot(&id, slot);
        Ok(json!({}))
    }

    fn delete(&mut self, req: &Value) -> Result<Value, String> {
        let id = parse_state_id(req)?;
        let now = self.tick();
        let gone = self.host.table.remove(&id).ok_or("no such state")?;
        let mut slot = gone.slot;
        self.engine
            .on_state_deleted(now, &state_info(&gone.record), &mut slot, &mut self.host);
        Ok(json!({}))
    }

    /// `pfctl -k`-style flush of our own states, announced with one CLR.
    fn clear(&mut self, req: &Value) -> Result<Value, String> {
        let ifname = match req.get("ifname").and_then(Value::as_str) {
            Some(n) => IfName::new(n).ok_or("bad ifname")?,
            None => IfName::EMPTY,
        };
        let now = self.tick();
        let hostid = self.config.hostid;
        let filter = if ifname.is_empty() {
            None
        } else {
            Some(&ifname)
        };
        let removed = self.host.table.clear_states(hostid, filter);
        self.engine.on_states_cleared(now, hostid, &ifname);
        Ok(json!({ "removed": removed }))
    }

    /// Creates `count` TCP states server-side (benchmarks: no JSON per state).
    /// With `"announce": false` they are added as if they predated pfsync, so
    /// only a bulk update carries them.
    fn generate(&mut self, req: &Value) -> Result<Value, String> {
        let count = req
            .get("count")
            .and_then(Value::as_u64)
            .ok_or("missing count")?;
        let first = req.get("first_id").and_then(Value::as_u64).unwrap_or(1);
        let announce = req.get("announce").and_then(Value::as_bool).unwrap_or(true);
        let creator = match req.get("creatorid") {
            // Same notation as in requests that name a state.
            Some(c) => parse_state_id(&json!({ "id": 0, "creatorid": c }))?.creatorid,
            None => self.config.hostid,
        };
        let ifname = IfName::new(req.get("ifname").and_then(Value::as_str).unwrap_or(""))
            .ok_or("bad ifname")?;
        let mut made = 0u64;
        for n in first..first.saturating_add(count) {
            let record = generated_state(n, creator, ifname);
            let now = self.tick();
            if self.host.table.insert_local(record).is_err() {
                continue;
            }
            made += 1;
            if announce {
                self.run_insert_hook(now, &record, false);
                if self.engine.poll_timeout().is_some_and(|t| t <= now) {
                    self.engine.handle_timeout(now, &mut self.host);
                    self.host.release_held_frames();
                }
            }
        }
        Ok(json!({ "created": made, "states": self.host.table.len() }))
    }

    // ----- reading -----

    fn dump(&self, req: &Value) -> Value {
        let limit = req.get("limit").and_then(Value::as_u64).unwrap_or(u64::MAX);
        let now = self.clock.now();
        let states: Vec<Value> = self
            .host
            .table
            .iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, s)| {
                let mut r = s.record;
                r.creation =
                    u32::try_from(now.saturating_since(s.created_at).as_secs()).unwrap_or(u32::MAX);
                r.expire =
                    u32::try_from(s.expires_at.saturating_since(now).as_secs()).unwrap_or(u32::MAX);
                serde_json::to_value(record_to_json(&r)).unwrap_or(Value::Null)
            })
            .collect();
        json!({ "count": self.host.table.len(), "states": states })
    }

    /// Order-independent digest of the table's synchronised fields (those
    /// `netlab.sync_view` compares), so two 1M-state tables compare cheaply.
    fn digest(&self) -> Value {
        let mut sum = 0u64;
        for (_, s) in self.host.table.iter() {
            let mut r = s.record;
            r.creation = 0;
            r.expire = 0;
            r.rule = 0;
            r.anchor = 0;
            r.nat_rule = 0;
            r.sync_flags = SyncFlags::empty();
            let mut h = DefaultHasher::new();
            r.hash(&mut h);
            sum = sum.wrapping_add(h.finish());
        }
        json!({ "count": self.host.table.len(), "digest": format!("{sum:016x}") })
    }

    fn stats(&self) -> Value {
        let s = self.engine.stats();
        // Counters are named as the dialect spoken names its actions.
        let openbsd = self.engine.config().speaks_openbsd();
        let per_action = |counts: &[u64]| -> Value {
            let mut m = Map::new();
            for (a, n) in pfsync::wire::Action::ALL.iter().zip(counts) {
                let name = if openbsd {
                    pfsync::wire::openbsd::action::name(*a as u8)
                } else {
                    Some(a.name())
                };
                if let Some(name) = name {
                    m.insert(name.to_string(), json!(n));
                }
            }
            Value::Object(m)
        };
        let stats = json!({
            "ipackets": s.ipackets, "ipackets6": s.ipackets6, "badif": s.badif,
            "badttl": s.badttl, "hdrops": s.hdrops, "badver": s.badver,
            "badact": s.badact, "badlen": s.badlen, "badauth": s.badauth,
            "stale": s.stale, "badval": s.badval, "badstate": s.badstate,
            "opackets": s.opackets, "opackets6": s.opackets6, "onomem": s.onomem,
            "oerrors": s.oerrors, "iacts": per_action(&s.iacts), "oacts": per_action(&s.oacts),
        });
        let io = &self.host.io;
        let node = json!({
            "frames_sent": io.frames_sent, "bytes_sent": io.bytes_sent,
            "late_send_errors": io.late_send_errors,
            "frames_received": io.frames_received, "bytes_received": io.bytes_received,
            "rxq_dropped": io.rxq_dropped,
            "carp_demotion": self.host.carp_demotion,
            "demotions": self.host.demotions, "undemotions": self.host.undemotions,
            "engine_demotion": self.engine.demotion(),
            "sync_ok": self.engine.sync_ok(),
            "bulk_request_state": format!("{:?}", self.engine.bulk_request_state()),
            "bulk_send_state": format!("{:?}", self.engine.bulk_send_state()),
            "states": self.host.table.len(),
            "deferred_held": self.engine.deferred_count(),
            "engine_memory_bytes": self.engine.memory_bytes(),
            "fault": self.host.fault.counters,
        });
        let anti_entropy = match &self.anti_entropy {
            Some(s) => debug_fields(&format!("{:?}", s.stats())),
            None => Value::Null,
        };
        json!({
            "stats": stats,
            "extra": debug_fields(&format!("{:?}", self.engine.extra_stats())),
            "node": node,
            "auth": self.auth_json(),
            "anti_entropy": anti_entropy,
        })
    }

    fn config_json(&self) -> Value {
        let c = &self.config;
        let f = self.host.fault.config();
        json!({
            "hostid": format!("{:08x}", u32::from_be_bytes(c.hostid)),
            "maxupd": c.maxupd, "defer": c.defer, "defer_delay_ms": c.defer_delay.as_millis(),
            "msg_version": c.version.number(), "mtu": c.mtu, "buckets": c.buckets,
            "bulk_rate": c.bulk_rate_bytes_per_sec, "bulk_tick_us": c.bulk_tick.as_nanos() / 1000,
            "carp_demotion_factor": c.carp_demotion_factor,
            "receive_dialect": format!("{:?}", c.receive_dialect),
            "fault_drop_pct": f.drop_pct, "fault_delay_ms": f.delay.as_millis() as u64,
            "fault_reorder_pct": f.reorder_pct, "fault_reorder_ms": f.reorder_hold.as_millis() as u64,
        })
    }

    /// Runtime reconfiguration; like `ifconfig pfsync0 ...` each call is one
    /// full reconfiguration of the engine.
    fn configure(&mut self, req: &Value) -> Result<Value, String> {
        let mut c = self.config;
        let num = |k: &str| req.get(k).and_then(Value::as_u64);
        if let Some(v) = num("maxupd") {
            c.maxupd = u8::try_from(v).map_err(|_| "maxupd is 0..=255")?;
        }
        if let Some(v) = req.get("defer").and_then(Value::as_bool) {
            c.defer = v;
        }
        if let Some(v) = num("defer_delay_ms") {
            c.defer_delay = Duration::from_millis(v);
        }
        if let Some(v) = num("msg_version") {
            let n = u32::try_from(v).map_err(|_| "bad msg_version")?;
            c.version = MsgVersion::from_number(n).ok_or(format!("unknown message version {n}"))?;
        }
        if let Some(v) = num("mtu") {
            c.mtu = u16::try_from(v).map_err(|_| "bad mtu")?;
        }
        if let Some(v) = num("bulk_rate") {
            c.bulk_rate_bytes_per_sec = v;
        }
        if let Some(v) = req.get("carp_demotion_factor").and_then(Value::as_i64) {
            c.carp_demotion_factor = i32::try_from(v).map_err(|_| "bad carp_demotion_factor")?;
        }
        let now = self.tick();
        self.engine
            .on_config_changed(now, &c, &mut self.host)
            .map_err(|e| format!("refused: {e:?}"))?;
        self.config = c;

        let mut f = self.host.fault.config();
        let pct = |k: &str, cur: u8| -> Result<u8, String> {
            match num(k) {
                Some(v) if v <= 100 => Ok(v as u8),
                Some(_) => Err(format!("{k} is 0..=100")),
                None => Ok(cur),
            }
        };
        f.drop_pct = pct("fault_drop_pct", f.drop_pct)?;
        f.reorder_pct = pct("fault_reorder_pct", f.reorder_pct)?;
        if let Some(v) = num("fault_delay_ms") {
            f.delay = std::time::Duration::from_millis(v);
        }
        if let Some(v) = num("fault_reorder_ms") {
            f.reorder_hold = std::time::Duration::from_millis(v);
        }
        self.host.fault.reconfigure(f);
        Ok(json!({ "config": self.config_json() }))
    }

    fn handle_request(&mut self, req: &Request) -> Value {
        let body = match &req.body {
            Ok(v) => v,
            Err(e) => return control::error(e.clone()),
        };
        let cmd = body.get("cmd").and_then(Value::as_str).unwrap_or("");
        let result = match cmd {
            "insert" => self.insert(body),
            "update" => self.update(body),
            "delete" => self.delete(body),
            "clear" => self.clear(body),
            "generate" => self.generate(body),
            "get" => parse_state_id(body).and_then(|id| {
                let s = self.host.table.get(&id).ok_or("no such state")?;
                serde_json::to_value(record_to_json(&s.record))
                    .map(|v| json!({ "state": v }))
                    .map_err(|e| e.to_string())
            }),
            "dump" => Ok(self.dump(body)),
            "digest" => Ok(self.digest()),
            "stats" => Ok(self.stats()),
            "deferred" => Ok(json!({ "packets": self.host.deferred_log })),
            "log" => Ok(json!({ "lines": self.host.log })),
            "config" => {
                if body.as_object().is_some_and(|o| o.len() > 1) {
                    self.configure(body)
                } else {
                    Ok(json!({ "config": self.config_json() }))
                }
            }
            "resync" => {
                let now = self.tick();
                self.engine.on_resync_requested(now, &mut self.host);
                Ok(json!({}))
            }
            "auth-reload" => self.auth_reload(),
            "auth-send" => self.auth_send(body),
            "flush" => {
                self.flush();
                Ok(json!({}))
            }
            "shutdown" => {
                self.shutdown = true;
                Ok(json!({}))
            }
            "" => Err("missing \"cmd\"".into()),
            other => Err(format!("unknown cmd {other:?}")),
        };
        self.pump();
        match result {
            Ok(v) => control::ok(v),
            Err(e) => control::error(e),
        }
    }
}

/// Remembers the sender of a received frame if its trailer verified (only
/// then does the replay table hold an entry for it), so its epoch can be
/// persisted at shutdown.
fn note_peer(peers: &mut Vec<[u8; 4]>, auth: &mut FrameAuth, frame: &[u8]) {
    let Some(trailer) = frame
        .len()
        .checked_sub(TRAILER_LEN)
        .and_then(|at| frame.get(at..))
    else {
        return;
    };
    let Some(sender) = trailer.get(8..12).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
        return;
    };
    if trailer.get(..4) != Some(b"PFSA".as_slice())
        || peers.contains(&sender)
        || peers.len() >= pfsync::auth::REPLAY_SENDERS
    {
        return;
    }
    if auth
        .verifier_mut()
        .replay_table()
        .epoch_of(sender)
        .is_some()
    {
        peers.push(sender);
    }
}

/// A plausible established TCP state numbered `n` (same shape as the test helpers').
fn generated_state(n: u64, creatorid: [u8; 4], ifname: IfName) -> StateRecord {
    let b = n.to_be_bytes();
    let mut key = StateKey::default();
    key.addr[0][..4].copy_from_slice(&[10, b[5], b[6], b[7]]);
    key.addr[1][..4].copy_from_slice(&[172, 16, b[6], b[7]]);
    key.port = [
        (10_000 + (n % 50_000) as u16).to_be_bytes(),
        443u16.to_be_bytes(),
    ];
    let mut r = StateRecord {
        id: StateId { id: b, creatorid },
        ifname,
        key: [key, key],
        wire_af: crate::state_json::AF_INET,
        stack_af: crate::state_json::AF_INET,
        wire_proto: 6,
        stack_proto: 6,
        direction: 1,
        timeout: 2,
        expire: 86_400,
        rt_af: crate::state_json::AF_INET,
        ..StateRecord::default()
    };
    for (peer, base, win) in [(&mut r.src, 1000u32, 8192), (&mut r.dst, 5000u32, 512)] {
        peer.seqlo = base.wrapping_add(n as u32);
        peer.seqhi = peer.seqlo.wrapping_add(65_535);
        peer.max_win = win;
        peer.state = 4;
        peer.wscale = 7;
    }
    r.packets = [1, 1];
    r.bytes = [60, 60];
    r
}

/// Objects merge key by key; anything else replaces.
fn deep_merge(base: &mut Value, change: &Value) {
    match (base, change) {
        (Value::Object(b), Value::Object(c)) => {
            for (k, v) in c {
                match b.get_mut(k) {
                    Some(slot) => deep_merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// `Name { a: 1, b: 2 }` (a derived Debug of plain counters) to `{"a":1,"b":2}`,
/// so new engine counters show up without touching the node.
fn debug_fields(text: &str) -> Value {
    let inner = text
        .split_once('{')
        .and_then(|(_, rest)| rest.rsplit_once('}'))
        .map_or("", |(body, _)| body);
    let mut m = Map::new();
    for pair in inner.split(',') {
        if let Some((k, v)) = pair.split_once(':') {
            if let Ok(n) = v.trim().parse::<u64>() {
                m.insert(k.trim().to_string(), json!(n));
            }
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_counters_become_json() {
        let v = debug_fields("ExtraStats { push_full: 3, bulk_frames: 0, deferred: 12 }");
        assert_eq!(v, json!({"push_full": 3, "bulk_frames": 0, "deferred": 12}));
    }

    #[test]
    fn deep_merge_changes_only_named_fields() {
        let mut base = json!({"src": {"seqlo": 1, "max_win": 2}, "timeout": 3});
        deep_merge(&mut base, &json!({"src": {"seqlo": 9}}));
        assert_eq!(
            base,
            json!({"src": {"seqlo": 9, "max_win": 2}, "timeout": 3})
        );
    }

    #[test]
    fn generated_states_are_distinct_and_valid() {
        let a = generated_state(1, [0, 0, 0, 1], IfName::EMPTY);
        let b = generated_state(2, [0, 0, 0, 1], IfName::EMPTY);
        assert_ne!(a.id, b.id);
        assert_ne!(a.key, b.key);
        let mut buf = vec![0u8; MsgVersion::V1500.state_len()];
        assert!(a.emit(MsgVersion::V1500, &mut buf).is_ok());
    }
}
