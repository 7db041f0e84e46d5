//! pf addresses (16-byte `pf_addr`) shown as the state's address family says.

use std::net::{Ipv4Addr, Ipv6Addr};

use pfsync::wire::StateKey;

use crate::names::{hex, AF_INET, AF_INET6_FREEBSD, AF_INET6_OPENBSD};

/// How a family number maps to IPv6: FreeBSD uses 28, OpenBSD 24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    FreeBsd,
    OpenBsd,
}

impl Dialect {
    fn inet6(self) -> u8 {
        match self {
            Dialect::FreeBsd => AF_INET6_FREEBSD,
            Dialect::OpenBsd => AF_INET6_OPENBSD,
        }
    }
}

/// The address as text: dotted quad for inet, RFC 5952 for inet6, hex otherwise.
pub fn pf_addr(raw: &[u8; 16], af: u8, dialect: Dialect) -> String {
    if af == AF_INET {
        Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]).to_string()
    } else if af == dialect.inet6() {
        Ipv6Addr::from(*raw).to_string()
    } else {
        format!("0x{}", hex(raw))
    }
}

pub fn port(raw: &[u8; 2]) -> u16 {
    u16::from_be_bytes(*raw)
}

/// `addr:port`, with brackets around IPv6 addresses.
pub fn endpoint(raw: &[u8; 16], port_raw: &[u8; 2], af: u8, dialect: Dialect) -> String {
    let a = pf_addr(raw, af, dialect);
    if af == dialect.inet6() {
        format!("[{a}]:{}", port(port_raw))
    } else {
        format!("{a}:{}", port(port_raw))
    }
}

/// Both ends of a state key, `a:p <> b:q`.
pub fn key(k: &StateKey, af: u8, dialect: Dialect) -> String {
    format!(
        "{} <> {}",
        endpoint(&k.addr[0], &k.port[0], af, dialect),
        endpoint(&k.addr[1], &k.port[1], af, dialect)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_pick_the_notation() {
        let mut raw = [0u8; 16];
        raw[..4].copy_from_slice(&[192, 0, 2, 7]);
        assert_eq!(pf_addr(&raw, 2, Dialect::FreeBsd), "192.0.2.7");
        let v6: [u8; 16] = "2001:db8::1".parse::<Ipv6Addr>().expect("v6").octets();
        assert_eq!(pf_addr(&v6, 28, Dialect::FreeBsd), "2001:db8::1");
        assert_eq!(pf_addr(&v6, 24, Dialect::OpenBsd), "2001:db8::1");
        assert!(pf_addr(&v6, 24, Dialect::FreeBsd).starts_with("0x2001"));
        assert_eq!(
            endpoint(&v6, &[1, 187], 28, Dialect::FreeBsd),
            "[2001:db8::1]:443"
        );
    }
}
