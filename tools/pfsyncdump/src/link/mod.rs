//! Link layers a pfsync frame can arrive in, and how to get from a captured
//! packet to the bytes that start at `pfsync_header` (and back, for writing).

mod decap;
mod encap;
pub mod ip;

pub use decap::{extract, Skip};
pub use encap::encapsulate;

/// `LINKTYPE_PFSYNC`, what libpcap writes into savefiles for pfsync taps.
pub const LINKTYPE_PFSYNC: u32 = 246;
/// FreeBSD's `DLT_PFSYNC` (collides with `DLT_HHDLC` elsewhere).
pub const DLT_PFSYNC_FREEBSD: u32 = 121;
/// `DLT_PFSYNC` on OpenBSD, NetBSD, DragonFly and macOS.
pub const DLT_PFSYNC_OPENBSD: u32 = 18;
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_RAW: u32 = 101;
/// `DLT_RAW` on most systems.
pub const DLT_RAW: u32 = 12;
/// `DLT_RAW` on OpenBSD.
pub const DLT_RAW_OPENBSD: u32 = 14;
pub const LINKTYPE_IPV4: u32 = 228;
pub const LINKTYPE_IPV6: u32 = 229;
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_QINQ: u16 = 0x88a8;

/// The framing that precedes the IP header (or the pfsync header) in a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Frames start at `pfsync_header`, as pfsync0's BPF tap delivers them.
    Pfsync,
    /// An IPv4 or IPv6 header, told apart by its version nibble.
    RawIp,
    Ipv4,
    Ipv6,
    /// Ethernet II, with any number of 802.1Q / 802.1ad tags.
    Ethernet,
    /// Linux "cooked" capture, version 1 (16-byte header).
    LinuxSll,
    /// Linux "cooked" capture, version 2 (20-byte header).
    LinuxSll2,
}

impl Link {
    pub fn from_linktype(linktype: u32) -> Option<Link> {
        Some(match linktype {
            LINKTYPE_PFSYNC | DLT_PFSYNC_FREEBSD | DLT_PFSYNC_OPENBSD => Link::Pfsync,
            LINKTYPE_RAW | DLT_RAW | DLT_RAW_OPENBSD => Link::RawIp,
            LINKTYPE_IPV4 => Link::Ipv4,
            LINKTYPE_IPV6 => Link::Ipv6,
            LINKTYPE_ETHERNET => Link::Ethernet,
            LINKTYPE_LINUX_SLL => Link::LinuxSll,
            LINKTYPE_LINUX_SLL2 => Link::LinuxSll2,
            _ => return None,
        })
    }
}

/// What `--write` produces: a link type number and the framing to put
/// around each IP packet (or pfsync frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WriteLink {
    /// LINKTYPE_PFSYNC 246: frames start at the pfsync header (no IP).
    Pfsync,
    /// FreeBSD DLT_PFSYNC 121.
    PfsyncFreebsd,
    /// OpenBSD DLT_PFSYNC 18.
    PfsyncOpenbsd,
    /// LINKTYPE_RAW 101.
    Raw,
    /// DLT_RAW 12.
    Raw12,
    /// OpenBSD DLT_RAW 14.
    Raw14,
    /// LINKTYPE_IPV4 228 (IPv4 packets only).
    Ipv4,
    /// LINKTYPE_IPV6 229 (IPv6 packets only).
    Ipv6,
    /// Ethernet to the pfsync multicast MAC.
    Ethernet,
    /// Ethernet with an 802.1Q tag (VLAN 42).
    Vlan,
    /// Linux cooked v1.
    Sll,
    /// Linux cooked v2.
    Sll2,
}

impl WriteLink {
    pub fn linktype(self) -> u32 {
        match self {
            WriteLink::Pfsync => LINKTYPE_PFSYNC,
            WriteLink::PfsyncFreebsd => DLT_PFSYNC_FREEBSD,
            WriteLink::PfsyncOpenbsd => DLT_PFSYNC_OPENBSD,
            WriteLink::Raw => LINKTYPE_RAW,
            WriteLink::Raw12 => DLT_RAW,
            WriteLink::Raw14 => DLT_RAW_OPENBSD,
            WriteLink::Ipv4 => LINKTYPE_IPV4,
            WriteLink::Ipv6 => LINKTYPE_IPV6,
            WriteLink::Ethernet | WriteLink::Vlan => LINKTYPE_ETHERNET,
            WriteLink::Sll => LINKTYPE_LINUX_SLL,
            WriteLink::Sll2 => LINKTYPE_LINUX_SLL2,
        }
    }

    pub fn carries_ip(self) -> bool {
        !matches!(
            self,
            WriteLink::Pfsync | WriteLink::PfsyncFreebsd | WriteLink::PfsyncOpenbsd
        )
    }
}
