//! Conversions between the ABI's plain C structs and the core's types. No
//! `unsafe` here: everything works on values already copied out of C memory.

use core::ffi::{c_char, c_int};

use crate::engine::host::{IpFamily, SyncSlot};
use crate::engine::{Config, Stats};
use crate::ffi::flags::CfgFlags;
use crate::ffi::sys;
use crate::time::Duration;
use crate::wire::{peer, IfName, MsgVersion, Peer, StateId, StateRecord};

pub const EINVAL: c_int = 22;

/// `__FreeBSD_version` of the first 15.x release: message version 1500 and
/// 17 per-action counters exist from here on.
pub const FREEBSD_15: u32 = 1_500_000;

pub fn state_id(s: &sys::pfsync_rs_state_id) -> StateId {
    StateId {
        id: s.id_be,
        creatorid: s.creatorid_be,
    }
}

pub fn sid(id: &StateId) -> sys::pfsync_rs_state_id {
    sys::pfsync_rs_state_id {
        id_be: id.id,
        creatorid_be: id.creatorid,
    }
}

pub fn peer_from_wire(b: &[u8; 32]) -> Peer {
    peer::decode(b)
}

pub fn peer_to_wire(p: &Peer) -> [u8; 32] {
    peer::encode(p)
}

/// The slot is 12 bytes of `#[repr(C)] SyncSlot` in this machine's byte order;
/// the shim treats them as opaque.
pub fn slot_from_bytes(b: &[u8; 12]) -> SyncSlot {
    let [q0, q1, q2, q3, t0, t1, t2, t3, deferred, r0, r1, r2] = *b;
    SyncSlot {
        queue_index: u32::from_ne_bytes([q0, q1, q2, q3]),
        touched: u32::from_ne_bytes([t0, t1, t2, t3]),
        deferred,
        flags: r0,
        reserved: [r1, r2],
    }
}

pub fn slot_to_bytes(s: &SyncSlot) -> [u8; 12] {
    let [q0, q1, q2, q3] = s.queue_index.to_ne_bytes();
    let [t0, t1, t2, t3] = s.touched.to_ne_bytes();
    let [r1, r2] = s.reserved;
    [q0, q1, q2, q3, t0, t1, t2, t3, s.deferred, s.flags, r1, r2]
}

fn name16(n: &IfName) -> [c_char; 16] {
    n.as_wire().map(|b| b as c_char)
}

/// A validated record in the flat form the shim's importer reads.
/// `msg_version` is the format it arrived in (0 when unknown).
pub fn import_record(r: &StateRecord, msg_version: u32) -> sys::pfsync_rs_import {
    let mut key_addr = [[[0u8; 16]; 2]; 2];
    let mut key_port = [[[0u8; 2]; 2]; 2];
    for (k, key) in r.key.iter().enumerate() {
        if let (Some(a), Some(p)) = (key_addr.get_mut(k), key_port.get_mut(k)) {
            *a = key.addr;
            *p = key.port;
        }
    }
    sys::pfsync_rs_import {
        sid: sid(&r.id),
        ifname: name16(&r.ifname),
        orig_ifname: name16(&r.orig_ifname),
        rt_ifname: name16(&r.rt_ifname),
        tagname: r.tagname.as_wire().map(|b| b as c_char),
        key_addr,
        key_port_be: key_port,
        src: peer_to_wire(&r.src),
        dst: peer_to_wire(&r.dst),
        rt_addr: r.rt_addr,
        rule: r.rule,
        anchor: r.anchor,
        creation_age_s: r.creation,
        expire_s: r.expire,
        rtableid: r.rtableid,
        msg_version,
        state_flags: r.state_flags.bits(),
        qid: r.qid,
        pqid: r.pqid,
        dnpipe: r.dnpipe,
        dnrpipe: r.dnrpipe,
        max_mss: r.max_mss,
        wire_af: r.wire_af,
        stack_af: r.stack_af,
        wire_proto: r.wire_proto,
        stack_proto: r.stack_proto,
        direction: r.direction,
        log: r.log,
        timeout: r.timeout,
        rt: r.rt,
        rt_af: r.rt_af,
        min_ttl: r.min_ttl,
        set_tos: r.set_tos,
        set_prio: r.set_prio,
        pad: [0; 3],
    }
}

/// `release_version` of an OpenBSD kernel (`PFSYNC_RS_RELEASE_OPENBSD` in
/// pfsync_core.h): the engine speaks OpenBSD's pfsync v6. Not a
/// `__FreeBSD_version`, all of which are above 1400000.
pub const RELEASE_OPENBSD: u32 = 6;

/// `msg_version` the engine passes to `state_export` for OpenBSD's 264-byte
/// `struct pfsync_state` (`PFSYNC_RS_MSG_OPENBSD`).
pub const MSG_OPENBSD: u32 = 6;

/// True for the OpenBSD release value.
pub const fn is_openbsd(release: u32) -> bool {
    release == RELEASE_OPENBSD
}

/// The message version a release sends when configured with version 0.
pub fn default_version(release: u32) -> MsgVersion {
    if release >= FREEBSD_15 {
        MsgVersion::V1500
    } else {
        MsgVersion::V1400
    }
}

/// The receive rules of stock pfsync on `release`.
pub fn receive_dialect(release: u32) -> crate::wire::Dialect {
    if is_openbsd(release) {
        crate::wire::Dialect::OpenBsd
    } else if release >= FREEBSD_15 {
        crate::wire::Dialect::FreeBsd15
    } else {
        crate::wire::Dialect::FreeBsd14
    }
}

/// Maps an ioctl version number for `release`; 0 = the release default.
pub fn version_for(n: u32, release: u32) -> Option<MsgVersion> {
    match (n, MsgVersion::from_number(n)) {
        (0, _) => Some(default_version(release)),
        (_, Some(MsgVersion::V1500)) if release < FREEBSD_15 => None,
        (_, v) => v,
    }
}

fn syncdev(c: &sys::pfsync_rs_config) -> Result<Option<IfName>, c_int> {
    let raw = c.syncdev.map(|b| b as u8);
    let name = IfName::from_wire(&raw).ok_or(EINVAL)?;
    Ok((!name.is_empty()).then_some(name))
}

/// Checks what the engine cannot check later: values out of their domain.
pub fn check(c: &sys::pfsync_rs_config, release: u32) -> Result<(), c_int> {
    syncdev(c)?;
    if c.maxupdates > u32::from(u8::MAX)
        || version_for(c.version, release).is_none()
        || !matches!(
            c.syncpeer_af as u32,
            sys::PFSYNC_RS_AF_UNSPEC | sys::PFSYNC_RS_AF_INET | sys::PFSYNC_RS_AF_INET6
        )
        || c.ifmtu < u32::from(crate::engine::MIN_MTU)
        || c.ifmtu > u32::from(u16::MAX)
    {
        return Err(EINVAL);
    }
    Ok(())
}

/// The engine configuration for a C configuration; `base` supplies what the
/// shim does not configure (up/down, buckets, bulk timers).
pub fn engine_config(
    c: &sys::pfsync_rs_config,
    base: &Config,
    release: u32,
) -> Result<Config, c_int> {
    check(c, release)?;
    let mut cfg = *base;
    cfg.syncdev = syncdev(c)?;
    cfg.peer_family = if c.syncpeer_af as u32 == sys::PFSYNC_RS_AF_INET6 {
        IpFamily::V6
    } else {
        IpFamily::V4
    };
    cfg.syncpeer = c.syncpeer;
    cfg.maxupd = u8::try_from(c.maxupdates).map_err(|_| EINVAL)?;
    cfg.defer = CfgFlags::from_bits_retain(c.flags).contains(CfgFlags::DEFER);
    cfg.defer_delay = Duration::from_millis(u64::from(c.defer_delay_ms));
    cfg.version = version_for(c.version, release).ok_or(EINVAL)?;
    cfg.mtu = u16::try_from(c.ifmtu).map_err(|_| EINVAL)?;
    // One full frame per `bulk_pace_us` when the operator set it; else
    // OpenBSD's one bulk frame per 20 ms in that dialect; else 80% of
    // syncdev's speed, at most 100 MB/s (recomputed on every configuration, so a new syncdev,
    // or one whose speed became known, gets its own pace).
    let explicit = match c.bulk_pace_us {
        0 if cfg.speaks_openbsd() => u64::from(cfg.mtu) * 50,
        0 => 0,
        us => u64::from(cfg.mtu) * 1_000_000 / u64::from(us),
    };
    cfg.bulk_rate_bytes_per_sec = crate::engine::pacing::bulk_rate(explicit, c.syncdev_baudrate);
    cfg.carp_demotion_factor = c.carp_demotion;
    cfg.hostid = c.hostid_be;
    cfg.ruleset_checksum = c.pf_cksum;
    Ok(cfg)
}

/// Writes `stats` in the layout of `struct pfsyncstats` with `actions`
/// per-action counters (15 on 14.x, 17 on 15.x), native byte order.
/// `extra_onomem` is added to `onomem` (allocator failures).
pub fn write_stats(stats: &Stats, extra_onomem: u64, out: &mut [u8]) -> Result<(), c_int> {
    const SCALARS: usize = 16;
    let actions = match out.len().checked_sub(SCALARS * 8) {
        Some(rest) if rest % 16 == 0 => rest / 16,
        _ => return Err(EINVAL),
    };
    if actions != 15 && actions != 17 {
        return Err(EINVAL);
    }
    let scalars = [
        stats.ipackets,
        stats.ipackets6,
        stats.badif,
        stats.badttl,
        stats.hdrops,
        stats.badver,
        stats.badact,
        stats.badlen,
        stats.badauth,
        stats.stale,
        stats.badval,
        stats.badstate,
        stats.opackets,
        stats.opackets6,
        stats.onomem.saturating_add(extra_onomem),
        stats.oerrors,
    ];
    let values = scalars
        .iter()
        .chain(stats.iacts.iter().take(actions))
        .chain(stats.oacts.iter().take(actions));
    for (chunk, v) in out.chunks_exact_mut(8).zip(values) {
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_round_trips_through_bytes() {
        let s = SyncSlot {
            queue_index: 7,
            touched: 0x0102_0304,
            deferred: 1,
            flags: SyncSlot::UPDATED,
            reserved: [0; 2],
        };
        assert_eq!(slot_from_bytes(&slot_to_bytes(&s)), s);
        assert_eq!(
            core::mem::size_of::<SyncSlot>(),
            sys::PFSYNC_RS_SLOT_LEN as usize
        );
    }

    #[test]
    fn version_zero_is_the_release_default_and_1500_needs_15() {
        assert_eq!(version_for(0, 1_400_000), Some(MsgVersion::V1400));
        assert_eq!(version_for(0, 1_500_000), Some(MsgVersion::V1500));
        assert_eq!(version_for(1500, 1_400_000), None);
        assert_eq!(version_for(1301, 1_400_000), Some(MsgVersion::V1301));
        assert_eq!(version_for(1234, 1_500_000), None);
    }

    #[test]
    fn stats_layout_has_16_scalars_then_both_action_arrays() {
        let mut stats = Stats {
            ipackets: 1,
            oerrors: 16,
            ..Stats::default()
        };
        for (i, v) in stats.iacts.iter_mut().enumerate() {
            *v = 100 + i as u64;
        }
        for (i, v) in stats.oacts.iter_mut().enumerate() {
            *v = 200 + i as u64;
        }
        let read = |b: &[u8], i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            u64::from_ne_bytes(w)
        };
        let mut b14 = [0u8; 368];
        write_stats(&stats, 5, &mut b14).unwrap();
        assert_eq!(read(&b14, 0), 1);
        assert_eq!(read(&b14, 14), 5); // onomem += allocator failures
        assert_eq!(read(&b14, 15), 16);
        assert_eq!(read(&b14, 16), 100);
        assert_eq!(read(&b14, 16 + 14), 114);
        assert_eq!(read(&b14, 16 + 15), 200); // oacts start after 15 iacts
        let mut b15 = [0u8; 400];
        write_stats(&stats, 0, &mut b15).unwrap();
        assert_eq!(read(&b15, 16 + 16), 116);
        assert_eq!(read(&b15, 16 + 17), 200);
        assert_eq!(write_stats(&stats, 0, &mut [0u8; 384]), Err(EINVAL));
    }

    fn shim_config(baudrate: u64, pace_us: u32) -> sys::pfsync_rs_config {
        sys::pfsync_rs_config {
            bulk_pace_us: pace_us,
            syncdev_baudrate: baudrate,
            ..crate::ffi::abi_tests::config("em1")
        }
    }

    #[test]
    fn bulk_pace_follows_the_syncdev_speed_unless_set() {
        let base = Config::new([1, 2, 3, 4]);
        let rate = |baud, us| {
            engine_config(&shim_config(baud, us), &base, 1_500_000)
                .unwrap()
                .bulk_rate_bytes_per_sec
        };
        assert_eq!(rate(100_000_000, 0), 10_000_000);
        assert_eq!(rate(1_000_000_000, 0), 100_000_000);
        assert_eq!(
            rate(10_000_000_000, 0),
            100_000_000,
            "capped: vtnet claims 10 Gb/s"
        );
        assert_eq!(rate(0, 0), 100_000_000, "speed unknown: the old default");
        // net.pfsync.rs.bulk_pace_us: one 1500-byte frame per 150 us.
        assert_eq!(rate(10_000_000_000, 150), 10_000_000);
        // A syncdev that changed to an unknown speed does not keep the old pace.
        let mut fast = base;
        fast.bulk_rate_bytes_per_sec = 1_000_000_000;
        let again = engine_config(&shim_config(0, 0), &fast, 1_500_000).unwrap();
        assert_eq!(again.bulk_rate_bytes_per_sec, 100_000_000);
    }
}
