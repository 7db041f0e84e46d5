//! From a captured packet to the pfsync frame inside it.

use std::fmt;

use super::ip::{self, IpInfo, IpSkip};
use super::{Link, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN};

/// Bounds the VLAN tag walk (802.1ad allows stacking; nobody stacks this deep).
const MAX_VLAN_TAGS: usize = 4;

/// A pfsync frame found in a packet: the IP header's details if the link
/// carried one, and the bytes starting at `pfsync_header`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extracted<'a> {
    pub ip: Option<IpInfo>,
    pub pfsync: &'a [u8],
    /// The IP packet (header included) when the link carried one.
    pub ip_packet: Option<&'a [u8]>,
}

/// Why a packet holds no pfsync frame. Counted in the summary, not errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    UnknownLinkType(u32),
    /// The link header is cut short.
    ShortLinkHeader,
    /// A link protocol other than IPv4/IPv6.
    NotIp(u16),
    Ip(IpSkip),
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::UnknownLinkType(t) => write!(f, "unsupported link type {t}"),
            Skip::ShortLinkHeader => write!(f, "truncated link header"),
            Skip::NotIp(t) => write!(f, "not IP (ethertype 0x{t:04x})"),
            Skip::Ip(IpSkip::OtherProtocol(p)) => write!(f, "IP protocol {p}, not pfsync"),
            Skip::Ip(IpSkip::Fragment) => write!(f, "IP fragment"),
            Skip::Ip(IpSkip::BadHeader) => write!(f, "malformed IP header"),
            Skip::Ip(IpSkip::NotIp) => write!(f, "not an IPv4/IPv6 packet"),
        }
    }
}

impl Skip {
    /// A short stable key for the summary and JSON.
    pub fn key(&self) -> String {
        match self {
            Skip::UnknownLinkType(t) => format!("linktype-{t}"),
            Skip::ShortLinkHeader => "short-link-header".into(),
            Skip::NotIp(_) => "not-ip".into(),
            Skip::Ip(IpSkip::OtherProtocol(_)) => "other-ip-protocol".into(),
            Skip::Ip(IpSkip::Fragment) => "ip-fragment".into(),
            Skip::Ip(IpSkip::BadHeader) => "bad-ip-header".into(),
            Skip::Ip(IpSkip::NotIp) => "not-ip".into(),
        }
    }
}

pub fn extract(linktype: u32, data: &[u8]) -> Result<Extracted<'_>, Skip> {
    let link = Link::from_linktype(linktype).ok_or(Skip::UnknownLinkType(linktype))?;
    let packet = match link {
        Link::Pfsync => {
            return Ok(Extracted {
                ip: None,
                pfsync: data,
                ip_packet: None,
            })
        }
        Link::RawIp | Link::Ipv4 | Link::Ipv6 => data,
        Link::Ethernet => ethernet_payload(data)?,
        Link::LinuxSll => {
            let proto = be16(data, 14).ok_or(Skip::ShortLinkHeader)?;
            by_ethertype(proto, data.get(16..))?
        }
        Link::LinuxSll2 => {
            let proto = be16(data, 0).ok_or(Skip::ShortLinkHeader)?;
            by_ethertype(proto, data.get(20..))?
        }
    };
    let parsed = match link {
        Link::Ipv4 => ip::parse_v4(packet),
        Link::Ipv6 => ip::parse_v6(packet),
        _ => ip::parse(packet),
    };
    let (info, pfsync) = parsed.map_err(Skip::Ip)?;
    Ok(Extracted {
        ip: Some(info),
        pfsync,
        ip_packet: Some(packet),
    })
}

fn ethernet_payload(frame: &[u8]) -> Result<&[u8], Skip> {
    let mut ethertype = be16(frame, 12).ok_or(Skip::ShortLinkHeader)?;
    let mut at = 14usize;
    for _ in 0..MAX_VLAN_TAGS {
        if ethertype != ETHERTYPE_VLAN && ethertype != ETHERTYPE_QINQ {
            break;
        }
        ethertype = be16(frame, at + 2).ok_or(Skip::ShortLinkHeader)?;
        at += 4;
    }
    by_ethertype(ethertype, frame.get(at..))
}

fn by_ethertype(ethertype: u16, rest: Option<&[u8]>) -> Result<&[u8], Skip> {
    let rest = rest.ok_or(Skip::ShortLinkHeader)?;
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(rest),
        other => Err(Skip::NotIp(other)),
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let raw = b.get(at..at + 2)?;
    Some(u16::from_be_bytes([
        raw.first().copied()?,
        raw.get(1).copied()?,
    ]))
}
