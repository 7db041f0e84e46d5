//! IP protocol 240 over Linux raw sockets, set up the way stock pfsync sets up
//! its multicast options, with the two receive checks that belong to the IP
//! layer (arrival interface, TTL / hop limit) done here.
//!
//! The socket is deliberately *not* bound to the sync interface: a bound raw
//! socket never sees frames from other interfaces, so it could not count them
//! in `badif` the way stock does. The arrival interface comes from
//! `IP_PKTINFO` / `IPV6_PKTINFO` instead.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `IPPROTO_PFSYNC`.
pub const IPPROTO_PFSYNC: i32 = 240;
/// `INADDR_PFSYNC_GROUP`.
pub const GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 240);
/// `in6addr_linklocal_pfsync_group`.
pub const GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff12, 0, 0, 0, 0, 0, 0, 0xf0);
/// `PFSYNC_DFLTTL`: sent with, and required on receipt.
pub const SYNC_TTL: u8 = 255;
/// `IPTOS_LOWDELAY`, as stock puts in the IPv4 header.
const IPTOS_LOWDELAY: i32 = 0x10;
/// Largest datagram we accept; pfsync frames never exceed the syncdev MTU.
pub const RECV_BUF_LEN: usize = 65_536;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// Where frames go: the link-local group on the syncdev, or a unicast `syncpeer`.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    pub syncdev: String,
    pub family: Family,
    pub syncpeer: Option<IpAddr>,
    /// Receive buffer asked of the kernel (bytes); root may exceed `rmem_max`.
    pub rcvbuf: usize,
}

/// One received datagram and what the IP layer says about it. The checks
/// themselves (interface, TTL, lengths) are the engine's, so that every
/// counter is bumped in one place.
#[derive(Debug, PartialEq, Eq)]
pub struct Received {
    /// The pfsync bytes (header onwards) are `buf[start..start + len]`.
    pub start: usize,
    pub len: usize,
    /// IPv4 TTL or IPv6 hop limit; 0 when the kernel did not report it.
    pub ttl: u8,
    /// Interface the datagram arrived on, if the kernel said.
    pub ifindex: Option<u32>,
    /// `SO_RXQ_OVFL`: datagrams the kernel dropped so far because our receive queue was full.
    pub rxq_dropped: Option<u32>,
}

pub struct Transport {
    fd: OwnedFd,
    family: Family,
    ifindex: u32,
    dest: Destination,
}

enum Destination {
    V4(libc::sockaddr_in),
    V6(libc::sockaddr_in6),
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn setsockopt<T>(fd: RawFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` and we pass exactly its size.
    let ret = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    check(ret).map(|_| ())
}

/// Interface index of `name`, or an error naming it.
pub fn ifindex_of(name: &str) -> io::Result<u32> {
    let cname = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has a NUL"))?;
    // SAFETY: `cname` is a valid NUL-terminated string for the duration of the call.
    let idx = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if idx == 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface named {name}"),
        ));
    }
    Ok(idx)
}

/// MTU of interface `name`, read from sysfs (no ioctl needed).
pub fn mtu_of(name: &str) -> io::Result<u32> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "unreadable MTU"))
}

/// Link speed of interface `name` in bits/s as its driver reports it
/// (`/sys/class/net/IF/speed`, in Mb/s); 0 when unknown: no such file, or
/// the driver reports -1 or nothing (Linux's if_baudrate). Read relative to
/// `sysfs` so tests can supply their own tree.
pub fn link_speed_bits(sysfs: &std::path::Path, name: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string(sysfs.join("class/net").join(name).join("speed")) else {
        return 0;
    };
    match text.trim().parse::<i64>() {
        Ok(mbps) if mbps > 0 => (mbps as u64).saturating_mul(1_000_000),
        _ => 0,
    }
}

impl Transport {
    pub fn open(cfg: &TransportConfig) -> io::Result<Transport> {
        let ifindex = ifindex_of(&cfg.syncdev)?;
        match cfg.family {
            Family::V4 => Self::open_v4(cfg, ifindex),
            Family::V6 => Self::open_v6(cfg, ifindex),
        }
    }

    fn raw_socket(domain: i32) -> io::Result<OwnedFd> {
        // SAFETY: plain socket(2) call; the returned descriptor is owned below.
        let fd = check(unsafe {
            libc::socket(domain, libc::SOCK_RAW | libc::SOCK_CLOEXEC, IPPROTO_PFSYNC)
        })?;
        // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let raw = fd.as_raw_fd();
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, &1i32)?;
        // A send never blocks the event loop for long; a stuck device counts as oerrors.
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 200_000,
        };
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &tv)?;
        Ok(fd)
    }

    fn set_rcvbuf(fd: RawFd, bytes: usize) -> io::Result<()> {
        let want = i32::try_from(bytes).unwrap_or(i32::MAX);
        // Root can go past net.core.rmem_max; fall back to the capped option otherwise.
        setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &want)
            .or_else(|_| setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &want))
    }

    fn open_v4(cfg: &TransportConfig, ifindex: u32) -> io::Result<Transport> {
        let fd = Self::raw_socket(libc::AF_INET)?;
        let raw = fd.as_raw_fd();
        Self::set_rcvbuf(raw, cfg.rcvbuf)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_PKTINFO, &1i32)?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_TTL, &i32::from(SYNC_TTL))?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_TOS, &IPTOS_LOWDELAY)?;
        // DF on every frame, as stock sets ip_off = IP_DF.
        setsockopt(
            raw,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            &libc::IP_PMTUDISC_DO,
        )?;
        setsockopt(
            raw,
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_TTL,
            &i32::from(SYNC_TTL),
        )?;
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &0i32)?;
        let mreqn = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr { s_addr: 0 },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: ifindex as i32,
        };
        setsockopt(raw, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &mreqn)?;

        let peer = match cfg.syncpeer {
            Some(IpAddr::V4(a)) if !a.is_unspecified() => a,
            Some(IpAddr::V6(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "IPv6 syncpeer needs --family 6",
                ))
            }
            _ => GROUP_V4,
        };
        // Stock joins the group only when the peer is multicast.
        if peer.is_multicast() {
            let join = libc::ip_mreqn {
                imr_multiaddr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(peer.octets()),
                },
                imr_address: libc::in_addr { s_addr: 0 },
                imr_ifindex: ifindex as i32,
            };
            setsockopt(raw, libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, &join)?;
        }
        // SAFETY: all-zero is a valid sockaddr_in.
        let mut sin: libc::sockaddr_in = unsafe { zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from_ne_bytes(peer.octets());
        Ok(Transport {
            fd,
            family: Family::V4,
            ifindex,
            dest: Destination::V4(sin),
        })
    }

    fn open_v6(cfg: &TransportConfig, ifindex: u32) -> io::Result<Transport> {
        let fd = Self::raw_socket(libc::AF_INET6)?;
        let raw = fd.as_raw_fd();
        Self::set_rcvbuf(raw, cfg.rcvbuf)?;
        setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, &1i32)?;
        setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, &1i32)?;
        setsockopt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            &i32::from(SYNC_TTL),
        )?;
        setsockopt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_MULTICAST_HOPS,
            &i32::from(SYNC_TTL),
        )?;
        setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, &0i32)?;
        setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_IF, &ifindex)?;
        setsockopt(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            &libc::IPV6_PMTUDISC_DO,
        )?;

        let peer = match cfg.syncpeer {
            Some(IpAddr::V6(a)) if !a.is_unspecified() => a,
            Some(IpAddr::V4(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "IPv4 syncpeer needs --family 4",
                ))
            }
            _ => GROUP_V6,
        };
        if peer.is_multicast() {
            let join = libc::ipv6_mreq {
                ipv6mr_multiaddr: libc::in6_addr {
                    s6_addr: peer.octets(),
                },
                ipv6mr_interface: ifindex,
            };
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_ADD_MEMBERSHIP, &join)?;
        }
        // SAFETY: all-zero is a valid sockaddr_in6.
        let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sin6.sin6_addr.s6_addr = peer.octets();
        // Link-scoped destinations (the group, fe80:: peers) need the syncdev as scope.
        let segments = peer.segments();
        if peer.is_multicast() || (segments[0] & 0xffc0) == 0xfe80 {
            sin6.sin6_scope_id = ifindex;
        }
        Ok(Transport {
            fd,
            family: Family::V6,
            ifindex,
            dest: Destination::V6(sin6),
        })
    }

    pub fn family(&self) -> Family {
        self.family
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Sends one pfsync frame (header onwards) to the configured destination.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let (addr, len): (*const libc::sockaddr, usize) = match &self.dest {
            Destination::V4(sin) => (
                (sin as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>(),
            ),
            Destination::V6(sin6) => (
                (sin6 as *const libc::sockaddr_in6).cast(),
                size_of::<libc::sockaddr_in6>(),
            ),
        };
        // SAFETY: `frame` is a live slice; `addr` points into `self.dest`, valid for `len` bytes.
        let ret = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                addr,
                len as libc::socklen_t,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receives one datagram without blocking; `Ok(None)` when the queue is empty.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // u64 elements keep the control buffer aligned for cmsghdr.
        let mut control = [0u64; 32];
        // SAFETY: all-zero is a valid msghdr; the pointers are filled in below.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 32]>();
        // SAFETY: `msg` points at `iov` (into `buf`) and `control`, all live for the call.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::WouldBlock {
                return Ok(None);
            }
            return Err(err);
        }
        let len = (n as usize).min(buf.len());
        let meta = read_cmsgs(&msg);
        let (start, ttl) = match self.family {
            Family::V4 => locate_v4_payload(buf.get(..len).unwrap_or(&[])),
            Family::V6 => (0, meta.hoplimit.unwrap_or(0)),
        };
        Ok(Some(Received {
            start,
            len: len - start,
            ttl,
            ifindex: meta.ifindex,
            rxq_dropped: meta.rxq_dropped,
        }))
    }
}

#[derive(Default)]
struct CmsgMeta {
    ifindex: Option<u32>,
    hoplimit: Option<u8>,
    rxq_dropped: Option<u32>,
}

fn read_cmsgs(msg: &libc::msghdr) -> CmsgMeta {
    let mut meta = CmsgMeta::default();
    // SAFETY: `msg` was filled by recvmsg; the CMSG_* macros walk its control
    // buffer within msg_controllen, and each payload is read unaligned with the
    // size the kernel documents for that (level, type).
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let level = (*cmsg).cmsg_level;
            let kind = (*cmsg).cmsg_type;
            let data = libc::CMSG_DATA(cmsg);
            if level == libc::IPPROTO_IP && kind == libc::IP_PKTINFO {
                let info: libc::in_pktinfo = std::ptr::read_unaligned(data.cast());
                meta.ifindex = u32::try_from(info.ipi_ifindex).ok();
            } else if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_PKTINFO {
                let info: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                meta.ifindex = Some(info.ipi6_ifindex);
            } else if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_HOPLIMIT {
                let hops: libc::c_int = std::ptr::read_unaligned(data.cast());
                meta.hoplimit = u8::try_from(hops).ok();
            } else if level == libc::SOL_SOCKET && kind == libc::SO_RXQ_OVFL {
                meta.rxq_dropped = Some(std::ptr::read_unaligned(data.cast()));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    meta
}

/// A raw IPv4 socket hands us the IP header: TTL is byte 8, IHL the low
/// nibble of byte 0. Returns (payload offset, TTL). A header that is
/// truncated or claims more bytes than arrived yields an empty payload, which
/// the engine counts as `hdrops` like any frame too short for a pfsync header.
fn locate_v4_payload(datagram: &[u8]) -> (usize, u8) {
    let ttl = datagram.get(8).copied().unwrap_or(0);
    let ihl = datagram.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    if ihl < 20 || ihl > datagram.len() {
        return (datagram.len(), ttl);
    }
    (ihl, ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_header(ttl: u8, ihl_words: u8) -> Vec<u8> {
        let mut h = vec![0u8; 20];
        h[0] = 0x40 | ihl_words;
        h[8] = ttl;
        h[9] = 240;
        h
    }

    #[test]
    fn link_speed_is_read_in_mbits_and_unknown_is_zero() {
        let root = std::env::temp_dir().join(format!("pfsync-node-sysfs-{}", std::process::id()));
        let speed = |name: &str, text: Option<&str>| {
            let dir = root.join("class/net").join(name);
            std::fs::create_dir_all(&dir).unwrap();
            if let Some(t) = text {
                std::fs::write(dir.join("speed"), t).unwrap();
            }
            link_speed_bits(&root, name)
        };
        assert_eq!(speed("em0", Some("100\n")), 100_000_000);
        assert_eq!(speed("em1", Some("10000\n")), 10_000_000_000);
        assert_eq!(speed("wg0", Some("-1\n")), 0);
        assert_eq!(speed("tun0", None), 0);
        assert_eq!(speed("odd0", Some("fast\n")), 0);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn v4_payload_starts_after_header_options() {
        let mut d = ipv4_header(254, 6);
        d.extend_from_slice(&[0; 4]);
        d.extend_from_slice(&[5, 0, 0, 20]);
        assert_eq!(locate_v4_payload(&d), (24, 254));
    }

    #[test]
    fn v4_truncated_or_lying_header_leaves_no_payload() {
        assert_eq!(locate_v4_payload(&[0x45; 4]), (4, 0));
        let d = ipv4_header(255, 15);
        assert_eq!(locate_v4_payload(&d), (20, 255));
        let d = ipv4_header(255, 2);
        assert_eq!(locate_v4_payload(&d), (20, 255));
    }
}
