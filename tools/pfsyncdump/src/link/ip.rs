//! IPv4 and IPv6 headers: parsing down to the protocol-240 payload, and
//! building the headers FreeBSD puts on pfsync frames (for fixtures).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `IPPROTO_PFSYNC`.
pub const IPPROTO_PFSYNC: u8 = 240;
/// `PFSYNC_DFLTTL`: what senders use and receivers require.
pub const PFSYNC_TTL: u8 = 255;
pub const PFSYNC_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 240);
pub const PFSYNC_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff12, 0, 0, 0, 0, 0, 0, 0xf0);

const IPTOS_LOWDELAY: u8 = 0x10;
const IP_DF: u16 = 0x4000;
const IP_MF: u16 = 0x2000;
const IP_OFFMASK: u16 = 0x1fff;

const IPV6_HOPOPTS: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DSTOPTS: u8 = 60;
/// Bounds the extension-header walk so a loop of headers cannot spin.
const MAX_EXTENSION_HEADERS: usize = 8;

/// The parts of the IP header the frame line shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub ttl: u8,
}

/// Why an IP packet carries no pfsync frame for us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpSkip {
    /// Some other IP protocol.
    OtherProtocol(u8),
    /// A fragment: pfsync sets DF, and reassembly is not this tool's job.
    Fragment,
    /// The header itself is cut short or inconsistent.
    BadHeader,
    /// The version nibble is neither 4 nor 6.
    NotIp,
}

/// Splits an IPv4 or IPv6 packet into its header info and its pfsync payload.
/// The payload is clipped to the IP length (link padding removed) but may be
/// shorter than it says when the capture was cut.
pub fn parse(packet: &[u8]) -> Result<(IpInfo, &[u8]), IpSkip> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => parse_v4(packet),
        Some(6) => parse_v6(packet),
        _ => Err(IpSkip::NotIp),
    }
}

pub fn parse_v4(packet: &[u8]) -> Result<(IpInfo, &[u8]), IpSkip> {
    let hdr = packet.get(..20).ok_or(IpSkip::BadHeader)?;
    let byte = |i: usize| hdr.get(i).copied().unwrap_or(0);
    if byte(0) >> 4 != 4 {
        return Err(IpSkip::NotIp);
    }
    let ihl = usize::from(byte(0) & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([byte(2), byte(3)]));
    if ihl < 20 || total < ihl {
        return Err(IpSkip::BadHeader);
    }
    let frag = u16::from_be_bytes([byte(6), byte(7)]);
    let proto = byte(9);
    if proto != IPPROTO_PFSYNC {
        return Err(IpSkip::OtherProtocol(proto));
    }
    if frag & (IP_MF | IP_OFFMASK) != 0 {
        return Err(IpSkip::Fragment);
    }
    let src = Ipv4Addr::new(byte(12), byte(13), byte(14), byte(15));
    let dst = Ipv4Addr::new(byte(16), byte(17), byte(18), byte(19));
    let end = total.min(packet.len());
    let payload = packet.get(ihl..end).ok_or(IpSkip::BadHeader)?;
    Ok((
        IpInfo {
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            ttl: byte(8),
        },
        payload,
    ))
}

pub fn parse_v6(packet: &[u8]) -> Result<(IpInfo, &[u8]), IpSkip> {
    let hdr = packet.get(..40).ok_or(IpSkip::BadHeader)?;
    if hdr.first().map(|b| b >> 4) != Some(6) {
        return Err(IpSkip::NotIp);
    }
    let addr = |at: usize| -> Ipv6Addr {
        let mut raw = [0u8; 16];
        if let Some(src) = hdr.get(at..at + 16) {
            raw.copy_from_slice(src);
        }
        Ipv6Addr::from(raw)
    };
    let byte = |i: usize| hdr.get(i).copied().unwrap_or(0);
    let payload_len = usize::from(u16::from_be_bytes([byte(4), byte(5)]));
    let end = (40 + payload_len).min(packet.len());
    let mut next = byte(6);
    let mut at = 40usize;
    for _ in 0..MAX_EXTENSION_HEADERS {
        match next {
            IPV6_HOPOPTS | IPV6_ROUTING | IPV6_DSTOPTS => {
                let ext = packet.get(at..at + 2).ok_or(IpSkip::BadHeader)?;
                next = ext.first().copied().unwrap_or(0);
                at += (usize::from(ext.get(1).copied().unwrap_or(0)) + 1) * 8;
            }
            IPV6_FRAGMENT => return Err(IpSkip::Fragment),
            _ => break,
        }
    }
    if next != IPPROTO_PFSYNC {
        return Err(IpSkip::OtherProtocol(next));
    }
    let payload = packet.get(at..end.max(at)).ok_or(IpSkip::BadHeader)?;
    Ok((
        IpInfo {
            src: IpAddr::V6(addr(8)),
            dst: IpAddr::V6(addr(24)),
            ttl: byte(7),
        },
        payload,
    ))
}

/// An IPv4 header as FreeBSD's pfsync sends it (TOS low delay, DF, TTL 255,
/// protocol 240), with a correct header checksum, followed by `payload`.
pub fn build_v4(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, ident: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut p = Vec::with_capacity(20 + payload.len());
    p.push(0x45);
    p.push(IPTOS_LOWDELAY);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&IP_DF.to_be_bytes());
    p.push(ttl);
    p.push(IPPROTO_PFSYNC);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let sum = checksum(&p);
    if let Some(field) = p.get_mut(10..12) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
    p.extend_from_slice(payload);
    p
}

/// An IPv6 header with next header 240 and the given hop limit, then `payload`.
pub fn build_v6(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let plen = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    let mut p = Vec::with_capacity(40 + payload.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&plen.to_be_bytes());
    p.push(IPPROTO_PFSYNC);
    p.push(hop_limit);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// The Internet checksum (RFC 1071) of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in data.chunks(2) {
        let hi = pair.first().copied().unwrap_or(0);
        let lo = pair.get(1).copied().unwrap_or(0);
        sum += u32::from(u16::from_be_bytes([hi, lo]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_roundtrip_and_checksum() {
        let p = build_v4(
            Ipv4Addr::new(192, 0, 2, 1),
            PFSYNC_GROUP_V4,
            255,
            7,
            &[1, 2, 3],
        );
        assert_eq!(checksum(&p[..20]), 0, "a correct header sums to zero");
        let (info, payload) = parse(&p).expect("parses");
        assert_eq!(info.ttl, 255);
        assert_eq!(info.dst, IpAddr::V4(PFSYNC_GROUP_V4));
        assert_eq!(payload, &[1, 2, 3]);
    }

    #[test]
    fn v4_link_padding_is_removed_and_fragments_skipped() {
        let mut p = build_v4(Ipv4Addr::LOCALHOST, PFSYNC_GROUP_V4, 255, 1, &[9; 4]);
        p.extend_from_slice(&[0; 6]);
        assert_eq!(parse(&p).expect("parses").1, &[9; 4]);
        p[6] = 0x20; // MF
        assert_eq!(parse(&p), Err(IpSkip::Fragment));
        p[6] = 0x40;
        p[9] = 6;
        assert_eq!(parse(&p), Err(IpSkip::OtherProtocol(6)));
    }

    #[test]
    fn v6_walks_extension_headers() {
        let mut p = build_v6(Ipv6Addr::LOCALHOST, PFSYNC_GROUP_V6, 255, &[]);
        p[6] = IPV6_DSTOPTS;
        p.extend_from_slice(&[IPPROTO_PFSYNC, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[7, 7]);
        p[5] = 10;
        let (info, payload) = parse(&p).expect("parses");
        assert_eq!(payload, &[7, 7]);
        assert_eq!(info.dst, IpAddr::V6(PFSYNC_GROUP_V6));
    }

    #[test]
    fn every_truncation_is_refused_or_parsed_without_panic() {
        let v4 = build_v4(Ipv4Addr::LOCALHOST, PFSYNC_GROUP_V4, 255, 1, &[1; 30]);
        let v6 = build_v6(Ipv6Addr::LOCALHOST, PFSYNC_GROUP_V6, 255, &[1; 30]);
        for p in [v4, v6] {
            for cut in 0..p.len() {
                let _ = parse(&p[..cut]);
            }
        }
    }
}
