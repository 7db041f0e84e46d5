//! Command line: `pfsync-node run ...` starts a node, `pfsync-node ctl ...`
//! talks to one.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--dialect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    Freebsd,
    Openbsd,
}

#[derive(Parser, Debug)]
#[command(
    name = "pfsync-node",
    about = "The pfsync-rs engine on Linux raw sockets, with a model pf state table"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a node until SIGTERM/SIGINT or a `shutdown` request.
    Run(Box<RunArgs>),
    /// Send JSON requests to a running node, print one response line each.
    Ctl(CtlArgs),
}

#[derive(Args, Debug)]
pub struct CtlArgs {
    /// The node's control socket.
    #[arg(long)]
    pub control: PathBuf,
    /// Keep retrying the connection this many seconds (a node still starting).
    #[arg(long, default_value_t = 0.0)]
    pub wait: f64,
    /// Requests, one JSON object each, e.g. '{"cmd":"stats"}'.
    #[arg(required = true)]
    pub requests: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Sync interface (`ifconfig pfsync0 syncdev`).
    #[arg(long)]
    pub syncdev: String,
    /// Unicast peer instead of the multicast group (`syncpeer`).
    #[arg(long)]
    pub syncpeer: Option<IpAddr>,
    /// Transport family: 4 (224.0.0.240) or 6 (ff12::f0). Implied by --syncpeer.
    #[arg(long, value_parser = ["4", "6"])]
    pub family: Option<String>,
    /// Control socket path (JSON lines).
    #[arg(long)]
    pub control: PathBuf,
    /// This node's creator id (`pf_status.hostid`), hex or decimal; random if absent.
    #[arg(long)]
    pub hostid: Option<String>,
    /// `maxupd`: TCP updates folded into one queued record before a push (0..=255).
    #[arg(long, default_value_t = 128)]
    pub maxupd: u8,
    /// Hold the packet that created a state until the peer acknowledges it.
    #[arg(long)]
    pub defer: bool,
    /// `net.pfsync.defer_delay`, milliseconds.
    #[arg(long, default_value_t = 20)]
    pub defer_delay_ms: u64,
    /// Full-state message format sent: 1301, 1400 or 1500 (0 = the emulated
    /// release's default: 1500 for 15, 1400 for 14).
    #[arg(long = "msg-version", default_value_t = 0)]
    pub msg_version: u32,
    /// Behave as a receiver of this FreeBSD release (14 or 15): a 14.x
    /// receiver does not know actions 15/16 (format 1500).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u8).range(14..=15))]
    pub emulate_release: u8,
    /// Protocol spoken: FreeBSD's pfsync (header version 5) or OpenBSD's
    /// pfsync v6, sent and received as OpenBSD's if_pfsync.c does.
    #[arg(long, value_enum, default_value_t = DialectArg::Freebsd)]
    pub dialect: DialectArg,
    /// `net.pfsync.pfsync_buckets` (0 = 2 x CPUs, as stock).
    #[arg(long, default_value_t = 0)]
    pub buckets: u32,
    /// pfsync0 MTU (frame budget); default: the syncdev's MTU, at most 1500 like stock.
    #[arg(long)]
    pub mtu: Option<u32>,
    /// Bulk sender pacing, bytes of frames per second (0 = 80% of the
    /// syncdev's link speed, or 100 MB/s if that is unknown).
    #[arg(long, default_value_t = 0)]
    pub bulk_rate: u64,
    /// The syncdev's link speed in Mb/s, for the default bulk pace (0 = read
    /// /sys/class/net/SYNCDEV/speed; a veth or a shaped link reports a speed
    /// it does not deliver).
    #[arg(long, default_value_t = 0)]
    pub link_speed_mbps: u64,
    /// Bulk sender wake-up granularity, microseconds (0 = the engine's default).
    #[arg(long, default_value_t = 0)]
    pub bulk_tick_us: u64,
    /// Bulk request: wait this long for BUS START before retrying, ms (0 = stock's 5 s).
    #[arg(long, default_value_t = 0)]
    pub bulk_request_timeout_ms: u64,
    /// Bulk request: give up on a running bulk after this long without a frame, ms (0 = engine default).
    #[arg(long, default_value_t = 0)]
    pub bulk_idle_timeout_ms: u64,
    /// Bulk request: attempts before giving up (0 = stock's 12).
    #[arg(long, default_value_t = 0)]
    pub bulk_max_tries: u8,
    /// pf ruleset checksum sent in every header and compared on receipt, 32 hex digits.
    #[arg(long)]
    pub ruleset_checksum: Option<String>,
    /// `net.pfsync.carp_demotion_factor` (default: 240; OpenBSD's dialect
    /// demotes by 32).
    #[arg(long)]
    pub carp_demotion_factor: Option<i32>,
    /// Socket receive buffer, bytes. Generous because this receiver is a
    /// userspace process sharing CPUs with its sender: a bulk update arrives
    /// at line rate, and the buffer absorbs scheduling gaps a kernel
    /// receiver would not have.
    #[arg(long, default_value_t = 32 << 20)]
    pub rcvbuf: usize,
    /// Egress fault injection: percentage of frames dropped.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub fault_drop_pct: u8,
    /// Egress fault injection: delay every frame by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub fault_delay_ms: u64,
    /// Egress fault injection: percentage of frames held back so later ones overtake them.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub fault_reorder_pct: u8,
    /// How long a reordered frame is held back, milliseconds.
    #[arg(long, default_value_t = 30)]
    pub fault_reorder_ms: u64,
    /// Seed for the fault injector (default: from the clock).
    #[arg(long)]
    pub fault_seed: Option<u64>,
    /// Sign every frame and refuse unsigned ones: a file (mode 0600 or
    /// stricter) with one or two lines `ID:HEX` (64 hex digits); the first
    /// key signs. Re-read with the `auth-reload` control request.
    #[arg(long)]
    pub auth_key_file: Option<PathBuf>,
    /// Repair lost updates with periodic digests (docs/anti-entropy.md).
    #[arg(long)]
    pub anti_entropy: bool,
    /// Anti-entropy digest period, milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..))]
    pub ae_period_ms: u64,
    /// Print engine log events and demotions to stderr.
    #[arg(long)]
    pub verbose: bool,
}

/// Parses a 16-byte checksum written as 32 hex digits.
pub fn parse_checksum(s: &str) -> Result<[u8; 16], String> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("ruleset checksum: 32 hex digits".into());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Parses a host id given as `0x...` hex or decimal.
pub fn parse_hostid(s: &str) -> Result<u32, String> {
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    match parsed {
        Ok(0) => Err("hostid 0 is refused by every receiver (creatorid 0)".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(format!("hostid {s}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostid_and_checksum_notations() {
        assert_eq!(parse_hostid("0x0a000001"), Ok(0x0a00_0001));
        assert_eq!(parse_hostid("17"), Ok(17));
        assert!(parse_hostid("0").is_err());
        let c = parse_checksum("000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(c[15], 15);
        assert!(parse_checksum("00").is_err());
        assert!(parse_checksum("zz0102030405060708090a0b0c0d0e0f").is_err());
    }
}
