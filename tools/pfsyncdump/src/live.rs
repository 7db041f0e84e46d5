//! Live capture on a Linux interface through an `AF_PACKET` datagram socket:
//! the kernel strips the link header and tells us the ethertype, so every
//! packet arrives as an IPv4 or IPv6 packet (LINKTYPE_RAW).
//!
//! Filtering to IP protocol 240 happens in user space (other packets are
//! dropped before they are counted); pfsync traffic is light enough that a
//! BPF program would buy nothing here.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::link::ip::{self, IpSkip};
use crate::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE_RAW};
use crate::savefile::{Packet, Timestamp, MAX_PACKET};

/// `ARPHRD_LOOPBACK`: the hardware type of `lo`.
const ARPHRD_LOOPBACK: u16 = 772;

/// Set by SIGINT/SIGTERM so a capture ends with its summary.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

pub struct LiveCapture {
    fd: OwnedFd,
    deadline: Option<Instant>,
    buf: Vec<u8>,
}

impl LiveCapture {
    pub fn open(iface: &str, timeout: Option<Duration>) -> io::Result<LiveCapture> {
        let name = CString::new(iface)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has a NUL"))?;
        // "any", as with tcpdump: index 0 binds to every interface.
        let ifindex = if iface == "any" {
            0
        } else {
            // SAFETY: `name` is a valid NUL-terminated string for the call's duration.
            unsafe { libc::if_nametoindex(name.as_ptr()) }
        };
        if ifindex == 0 && iface != "any" {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no interface named {iface}"),
            ));
        }
        let all = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(all)) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor we own exclusively.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = all;
        addr.sll_ifindex = i32::try_from(ifindex)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index"))?;
        // SAFETY: `addr` is a valid sockaddr_ll and the length passed matches it.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: installs an async-signal-safe handler that only stores an atomic.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
        Ok(LiveCapture {
            fd,
            deadline: timeout.map(|t| Instant::now() + t),
            buf: vec![0u8; MAX_PACKET],
        })
    }

    /// The next IP packet (as LINKTYPE_RAW); `Ok(None)` when the timeout
    /// passed or the user interrupted.
    pub fn next_packet(&mut self) -> io::Result<Option<Packet>> {
        loop {
            if INTERRUPTED.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let wait_ms = match self.deadline {
                None => 250,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    left.as_millis().clamp(1, 250) as i32
                }
            };
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, count 1.
            let rc = unsafe { libc::poll(&mut pfd, 1, wait_ms) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if rc == 0 {
                continue;
            }
            // SAFETY: all-zero is a valid sockaddr_ll.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: the buffer and address pointers are valid for the lengths given.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_DONTWAIT,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) {
                    continue;
                }
                return Err(e);
            }
            // On loopback every packet shows up twice, once leaving and once
            // arriving; keep the arrival, as libpcap does.
            if from.sll_hatype == ARPHRD_LOOPBACK && from.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            let proto = u16::from_be(from.sll_protocol);
            if proto != ETHERTYPE_IPV4 && proto != ETHERTYPE_IPV6 {
                continue;
            }
            let len = usize::try_from(n).unwrap_or(0).min(self.buf.len());
            let packet = self.buf.get(..len).unwrap_or(&[]);
            // The capture filter: only IP protocol 240 reaches the decoder
            // (and the summary), as with tcpdump's `ip proto 240`.
            if matches!(
                ip::parse(packet),
                Err(IpSkip::OtherProtocol(_) | IpSkip::NotIp)
            ) {
                continue;
            }
            let data = packet.to_vec();
            return Ok(Some(Packet {
                ts: Timestamp::now(),
                linktype: LINKTYPE_RAW,
                orig_len: u32::try_from(len).unwrap_or(u32::MAX),
                data,
            }));
        }
    }
}
