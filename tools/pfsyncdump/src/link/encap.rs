//! Puts a pfsync frame (or the IP packet carrying it) into the framing of a
//! chosen link type, for `--write`.

use std::fmt;

use super::ip;
use super::{WriteLink, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN};

/// The fixtures' VLAN id.
const FIXTURE_VLAN: u16 = 42;
/// Locally administered source MAC for the frames we frame ourselves.
const SOURCE_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];
const ARPHRD_ETHER: u16 = 1;
/// `PACKET_MULTICAST`: the packet went to a multicast group.
const PACKET_MULTICAST: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncapError {
    /// LINKTYPE_IPV4/IPV6 cannot hold the other family.
    WrongFamily(WriteLink),
}

impl fmt::Display for EncapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncapError::WrongFamily(l) => {
                write!(f, "link type {} cannot carry this IP version", l.linktype())
            }
        }
    }
}

/// `ip_packet` is the IP packet when there is one; `pfsync` the frame inside
/// it. Without an IP packet, IP links get a FreeBSD-style IPv4 header
/// (0.0.0.0 to 224.0.0.240, TTL 255).
pub fn encapsulate(
    link: WriteLink,
    ip_packet: Option<&[u8]>,
    pfsync: &[u8],
) -> Result<Vec<u8>, EncapError> {
    if !link.carries_ip() {
        return Ok(pfsync.to_vec());
    }
    let owned;
    let packet = match ip_packet {
        Some(p) => p,
        None => {
            owned = ip::build_v4(
                std::net::Ipv4Addr::UNSPECIFIED,
                ip::PFSYNC_GROUP_V4,
                ip::PFSYNC_TTL,
                0,
                pfsync,
            );
            &owned
        }
    };
    let is_v6 = packet.first().map(|b| b >> 4) == Some(6);
    let ethertype = if is_v6 {
        ETHERTYPE_IPV6
    } else {
        ETHERTYPE_IPV4
    };
    let mut out = Vec::with_capacity(packet.len() + 24);
    match link {
        WriteLink::Raw | WriteLink::Raw12 | WriteLink::Raw14 => {}
        WriteLink::Ipv4 if is_v6 => return Err(EncapError::WrongFamily(link)),
        WriteLink::Ipv6 if !is_v6 => return Err(EncapError::WrongFamily(link)),
        WriteLink::Ipv4 | WriteLink::Ipv6 => {}
        WriteLink::Ethernet | WriteLink::Vlan => {
            out.extend_from_slice(&multicast_mac(packet, is_v6));
            out.extend_from_slice(&SOURCE_MAC);
            if link == WriteLink::Vlan {
                out.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
                out.extend_from_slice(&FIXTURE_VLAN.to_be_bytes());
            }
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        WriteLink::Sll => {
            out.extend_from_slice(&u16::from(PACKET_MULTICAST).to_be_bytes());
            out.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
            out.extend_from_slice(&6u16.to_be_bytes());
            out.extend_from_slice(&SOURCE_MAC);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        WriteLink::Sll2 => {
            out.extend_from_slice(&ethertype.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&ARPHRD_ETHER.to_be_bytes());
            out.push(PACKET_MULTICAST);
            out.push(6);
            out.extend_from_slice(&SOURCE_MAC);
            out.extend_from_slice(&[0, 0]);
        }
        WriteLink::Pfsync | WriteLink::PfsyncFreebsd | WriteLink::PfsyncOpenbsd => {}
    }
    out.extend_from_slice(packet);
    Ok(out)
}

/// The Ethernet group address for the packet's IP destination (RFC 1112 /
/// RFC 2464); unicast destinations get the IPv4 pfsync group's MAC.
fn multicast_mac(packet: &[u8], is_v6: bool) -> [u8; 6] {
    let b = |i: usize| packet.get(i).copied().unwrap_or(0);
    if is_v6 {
        [0x33, 0x33, b(36), b(37), b(38), b(39)]
    } else if b(16) & 0xf0 == 0xe0 {
        [0x01, 0x00, 0x5e, b(17) & 0x7f, b(18), b(19)]
    } else {
        [0x01, 0x00, 0x5e, 0x00, 0x00, 0xf0]
    }
}

#[cfg(test)]
mod tests {
    use super::super::{extract, WriteLink};
    use super::*;

    #[test]
    fn every_ip_link_roundtrips_v4_and_v6() {
        let frame = [5u8, 0, 0, 24, 0xcc, 0xcc, 0xcc, 0xcc];
        let v4 = ip::build_v4(
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            ip::PFSYNC_GROUP_V4,
            255,
            1,
            &frame,
        );
        let v6 = ip::build_v6(
            std::net::Ipv6Addr::LOCALHOST,
            ip::PFSYNC_GROUP_V6,
            255,
            &frame,
        );
        let links = [
            WriteLink::Pfsync,
            WriteLink::PfsyncFreebsd,
            WriteLink::PfsyncOpenbsd,
            WriteLink::Raw,
            WriteLink::Raw12,
            WriteLink::Raw14,
            WriteLink::Ipv4,
            WriteLink::Ipv6,
            WriteLink::Ethernet,
            WriteLink::Vlan,
            WriteLink::Sll,
            WriteLink::Sll2,
        ];
        for packet in [&v4, &v6] {
            for link in links {
                let Ok(bytes) = encapsulate(link, Some(packet), &frame) else {
                    assert!(matches!(link, WriteLink::Ipv4 | WriteLink::Ipv6));
                    continue;
                };
                let got = extract(link.linktype(), &bytes).expect("extracts");
                assert_eq!(got.pfsync, &frame, "{link:?}");
                assert_eq!(got.ip.is_some(), link.carries_ip(), "{link:?}");
            }
        }
    }
}
