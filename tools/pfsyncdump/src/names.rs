//! Names for the numbers pf puts in states (netpfil/pf/pf.h, netinet/tcp_fsm.h,
//! net/pfvar.h), so output reads like pfctl's rather than like a hex dump.

use pfsync::wire::{StateFlags, SyncFlags};

/// `enum pf_timeouts`, FreeBSD 14/15 numbering (SCTP entries from 20).
const TIMEOUTS: [&str; 28] = [
    "PFTM_TCP_FIRST_PACKET",
    "PFTM_TCP_OPENING",
    "PFTM_TCP_ESTABLISHED",
    "PFTM_TCP_CLOSING",
    "PFTM_TCP_FIN_WAIT",
    "PFTM_TCP_CLOSED",
    "PFTM_UDP_FIRST_PACKET",
    "PFTM_UDP_SINGLE",
    "PFTM_UDP_MULTIPLE",
    "PFTM_ICMP_FIRST_PACKET",
    "PFTM_ICMP_ERROR_REPLY",
    "PFTM_OTHER_FIRST_PACKET",
    "PFTM_OTHER_SINGLE",
    "PFTM_OTHER_MULTIPLE",
    "PFTM_FRAG",
    "PFTM_INTERVAL",
    "PFTM_ADAPTIVE_START",
    "PFTM_ADAPTIVE_END",
    "PFTM_SRC_NODE",
    "PFTM_TS_DIFF",
    "PFTM_SCTP_FIRST_PACKET",
    "PFTM_SCTP_OPENING",
    "PFTM_SCTP_ESTABLISHED",
    "PFTM_SCTP_CLOSING",
    "PFTM_SCTP_CLOSED",
    "PFTM_MAX",
    "PFTM_PURGE",
    "PFTM_UNLINKED",
];

/// OpenBSD has no SCTP timeouts: its PFTM_MAX is 20.
const OPENBSD_PFTM_MAX: u8 = 20;

/// OpenBSD's numbering agrees with FreeBSD's below 20; from there it goes
/// PFTM_MAX, PFTM_PURGE, PFTM_UNLINKED.
pub fn timeout_openbsd(t: u8) -> String {
    match t.checked_sub(OPENBSD_PFTM_MAX) {
        None => timeout(t),
        Some(0) => "PFTM_MAX".into(),
        Some(1) => "PFTM_PURGE".into(),
        Some(2) => "PFTM_UNLINKED".into(),
        Some(_) => format!("PFTM_{t}?"),
    }
}

pub fn timeout(t: u8) -> String {
    TIMEOUTS
        .get(usize::from(t))
        .map(|s| (*s).to_string())
        .unwrap_or_else(|| format!("PFTM_{t}?"))
}

/// TCPS_* plus pf's two proxy states.
const TCP_STATES: [&str; 13] = [
    "CLOSED",
    "LISTEN",
    "SYN_SENT",
    "SYN_RECEIVED",
    "ESTABLISHED",
    "CLOSE_WAIT",
    "FIN_WAIT_1",
    "CLOSING",
    "LAST_ACK",
    "FIN_WAIT_2",
    "TIME_WAIT",
    "PROXY_SRC",
    "PROXY_DST",
];

/// PFUDPS_* and PFOTHERS_* share their numbering.
const DATAGRAM_STATES: [&str; 3] = ["NO_TRAFFIC", "SINGLE", "MULTIPLE"];

pub const IPPROTO_TCP: u8 = 6;

/// A peer's `state` byte, named the way the protocol gives it meaning.
pub fn peer_state(proto: u8, state: u8) -> String {
    let table: &[&str] = match proto {
        IPPROTO_TCP => &TCP_STATES,
        // SCTP (132) states use a different table in pf; show the number.
        132 => &[],
        _ => &DATAGRAM_STATES,
    };
    table
        .get(usize::from(state))
        .map(|s| (*s).to_string())
        .unwrap_or_else(|| state.to_string())
}

/// FreeBSD address families (OpenBSD's AF_INET6 is 24).
pub const AF_INET: u8 = 2;
pub const AF_INET6_FREEBSD: u8 = 28;
pub const AF_INET6_OPENBSD: u8 = 24;

pub fn af(af: u8, openbsd: bool) -> String {
    match (af, openbsd) {
        (AF_INET, _) => "inet".into(),
        (AF_INET6_FREEBSD, false) | (AF_INET6_OPENBSD, true) => "inet6".into(),
        (other, _) => format!("af{other}"),
    }
}

pub fn ip_proto(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmp6".into(),
        132 => "sctp".into(),
        other => format!("proto{other}"),
    }
}

pub fn direction(d: u8) -> String {
    match d {
        0 => "inout".into(),
        1 => "in".into(),
        2 => "out".into(),
        other => format!("dir{other}?"),
    }
}

/// PF_ROUTETO and friends (`enum { PF_NOPFROUTE, PF_FASTROUTE, PF_ROUTETO, ... }`).
pub fn route_type(rt: u8) -> String {
    match rt {
        0 => "none".into(),
        1 => "fastroute".into(),
        2 => "route-to".into(),
        3 => "dup-to".into(),
        4 => "reply-to".into(),
        other => format!("rt{other}?"),
    }
}

/// Flag names joined by `|`, unknown bits as hex; `-` for none.
fn flags(bits: u32, table: &[(u32, &str)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = bits;
    for &(bit, name) in table {
        if bits & bit != 0 {
            parts.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("|")
    }
}

/// `PFSTATE_*` names from the core's [`StateFlags`]; unnamed bits in hex.
pub fn state_flags(f: StateFlags) -> String {
    named_flags(f.iter_names().map(|(name, _)| name), u32::from(f.unknown()))
}

pub fn log_flags(f: u8) -> String {
    flags(
        u32::from(f),
        &[
            (0x01, "LOG"),
            (0x02, "ALL"),
            (0x04, "USER"),
            (0x08, "FORCE"),
            (0x10, "MATCHES"),
        ],
    )
}

/// `PFSYNC_FLAG_*` names from the core's [`SyncFlags`]; unnamed bits in hex.
pub fn sync_flags(f: SyncFlags) -> String {
    named_flags(f.iter_names().map(|(name, _)| name), u32::from(f.unknown()))
}

/// "A|B|0x..." as `flags` prints it, "-" for none.
fn named_flags<'a>(names: impl Iterator<Item = &'a str>, unknown: u32) -> String {
    let mut parts: Vec<String> = names.map(str::to_string).collect();
    if unknown != 0 {
        parts.push(format!("0x{unknown:x}"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("|")
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A NUL-padded text field as a string (lossy for non-UTF-8 bytes).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_the_header_enums() {
        assert_eq!(timeout(2), "PFTM_TCP_ESTABLISHED");
        assert_eq!(timeout(24), "PFTM_SCTP_CLOSED");
        assert_eq!(timeout(99), "PFTM_99?");
        assert_eq!(timeout_openbsd(19), "PFTM_TS_DIFF");
        assert_eq!(timeout_openbsd(21), "PFTM_PURGE");
        assert_eq!(peer_state(6, 4), "ESTABLISHED");
        assert_eq!(peer_state(6, 12), "PROXY_DST");
        assert_eq!(peer_state(17, 2), "MULTIPLE");
        assert_eq!(
            state_flags(StateFlags::from_bits_retain(0x0009)),
            "ALLOWOPTS|NOSYNC"
        );
        assert_eq!(state_flags(StateFlags::from_bits_retain(0x1000)), "0x1000");
        assert_eq!(
            state_flags(StateFlags::from_bits_retain(0x4410)),
            "ACK|INP_UNLINKED|DN_IS_PIPE"
        );
        assert_eq!(sync_flags(SyncFlags::empty()), "-");
        assert_eq!(
            sync_flags(SyncFlags::from_bits_retain(0x0c | 0x80)),
            "SRCNODE|NATSRCNODE|0x80"
        );
        assert_eq!(af(28, false), "inet6");
        assert_eq!(af(24, true), "inet6");
    }
}
