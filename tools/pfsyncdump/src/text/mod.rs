//! Text output in the spirit of `tcpdump -v`: a frame line, then one line per
//! message (and with `-v`, every field of every message).

pub mod messages;
pub mod openbsd;
pub mod state;

use std::fmt::Write as _;
use std::net::IpAddr;

use pfsync::wire::{Action, Dialect, Error};

use crate::decode::{action_name, error_name, reject_name, Decoded, Item};
use crate::names;
use crate::run::FrameContext;
use crate::timefmt;

const MSG_INDENT: &str = "  ";
const FIELD_INDENT: &str = "      ";

pub fn frame(ctx: &FrameContext, d: &Decoded, verbose: bool) -> String {
    let mut out = String::new();
    let _ = write!(out, "#{} {} ", ctx.number, timefmt::time_of_day(ctx.ts));
    if let Some(ip) = &ctx.ip {
        let (family, ttl_name) = match ip.src {
            IpAddr::V4(_) => ("IP", "ttl"),
            IpAddr::V6(_) => ("IP6", "hlim"),
        };
        let _ = write!(
            out,
            "{family} {} > {}: {ttl_name} {}, ",
            ip.src, ip.dst, ip.ttl
        );
    }
    match &d.header {
        Some(h) => {
            let _ = write!(
                out,
                "pfsync {}, len {}, {} {}",
                version_name(h.version),
                h.len,
                if h.version == pfsync::wire::VERSION_OPENBSD {
                    "spare"
                } else {
                    "pfcksum"
                },
                names::hex(&h.pfcksum)
            );
        }
        None => {
            let _ = write!(out, "pfsync, {} bytes", d.captured);
        }
    }
    if let Some((captured, wire)) = ctx.cut {
        let _ = write!(out, " [captured {captured} of {wire} bytes]");
    }
    if let Some(ttl) = d.bad_ttl {
        let _ = write!(
            out,
            "\n{MSG_INDENT}error frame {}: badttl: {}",
            ctx.number,
            bad_ttl_detail(ttl)
        );
    }
    if let (Some(e), Some(kind)) = (d.frame_error, d.frame_error_name()) {
        let _ = write!(
            out,
            "\n{MSG_INDENT}error frame {}: {kind}: {}",
            ctx.number,
            frame_error_detail(e, d)
        );
    }
    for item in &d.events {
        match item {
            Item::Section { action, count } => {
                if verbose {
                    let _ = write!(
                        out,
                        "\n{MSG_INDENT}section {} ({action}) count {count}",
                        action_name(*action, d.dialect)
                    );
                }
                if *action == Action::Eof as u8 && d.dialect != Dialect::OpenBsd {
                    let _ = write!(out, "\n{MSG_INDENT}EOF");
                }
            }
            Item::Message { message: m, .. } => {
                let lines = messages::render(m, verbose);
                let mut it = lines.into_iter();
                if let Some(first) = it.next() {
                    let _ = write!(out, "\n{MSG_INDENT}{first}");
                }
                for line in it {
                    let _ = write!(out, "\n{FIELD_INDENT}{line}");
                }
            }
            Item::Rejected {
                action,
                index,
                reason,
            } => {
                let _ = write!(
                    out,
                    "\n{MSG_INDENT}error frame {}: badval: {} record {index} refused ({}); message skipped",
                    ctx.number,
                    action_name(*action, d.dialect),
                    reject_name(*reason)
                );
            }
            Item::Skipped { action, count } => {
                let _ = write!(
                    out,
                    "\n{MSG_INDENT}{} count {count} skipped (unknown to this receiver, stepped over by its length)",
                    action_name(*action, d.dialect)
                );
            }
            Item::Stopped { error, section } => {
                let _ = write!(
                    out,
                    "\n{MSG_INDENT}error frame {}: {}: {}; rest of frame dropped",
                    ctx.number,
                    error_name(*error),
                    walk_error_detail(*error, *section, d.dialect)
                );
            }
        }
    }
    out
}

pub fn version_name(v: u8) -> String {
    match v {
        pfsync::wire::VERSION_FREEBSD => "FreeBSD v5".into(),
        pfsync::wire::VERSION_OPENBSD => "OpenBSD v6".into(),
        other => format!("unknown v{other}"),
    }
}

pub fn bad_ttl_detail(ttl: u8) -> String {
    format!("TTL {ttl}, receivers require 255 and drop the packet (decoded anyway)")
}

pub fn frame_error_detail(e: Error, d: &Decoded) -> String {
    let captured = d.captured;
    if let (Error::BadLen, true, Some(h)) = (e, d.capture_cut, d.header.as_ref()) {
        return format!(
            "header len {} but the capture holds {captured} bytes (cut by its snap length); not decoded",
            h.len
        );
    }
    match (e, d.header.as_ref()) {
        (Error::HdrOps, _) | (_, None) => {
            format!("only {captured} bytes, the pfsync header needs 20")
        }
        (Error::BadVer, Some(h)) => format!(
            "header version {} is not 5 (FreeBSD) or 6 (OpenBSD)",
            h.version
        ),
        (Error::BadLen, Some(h)) => {
            format!("header len {} exceeds the {captured} bytes present", h.len)
        }
        (other, Some(_)) => format!("frame refused ({})", error_name(other)),
    }
}

pub fn walk_error_detail(e: Error, section: Option<(u8, u16)>, dialect: Dialect) -> String {
    match (e, section) {
        (Error::BadLen, Some((a, _))) if a == Action::Eof as u8 && dialect != Dialect::OpenBsd => {
            "EOF is not at the end of the packet".into()
        }
        (Error::BadLen, Some((a, count))) => format!(
            "{count} {} records do not fit before the end given by len",
            action_name(a, dialect)
        ),
        (Error::BadLen, None) => "subheader cut short".into(),
        (Error::BadAct, Some((a, _))) => format!(
            "action {} ({a}) is refused by this receiver",
            action_name(a, dialect)
        ),
        (Error::BadAct, None) => "unknown action (>= PFSYNC_ACT_MAX)".into(),
        (other, _) => format!("walk stopped ({})", error_name(other)),
    }
}
