//! Command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser};

use crate::decode::DialectChoice;
use crate::link::WriteLink;
use crate::synth::SynthKind;

#[derive(Debug, Parser)]
#[command(
    name = "pfsyncdump",
    version,
    about = "Print pfsync frames (FreeBSD v5 / OpenBSD v6) from pcap/pcapng files or a live Linux interface",
    group(ArgGroup::new("source").required(true).args(["read", "interface", "synth"]))
)]
pub struct Cli {
    /// Read packets from a pcap or pcapng file ("-" for standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,

    /// Capture live on a Linux interface, or "any" (IP protocol 240 only; needs CAP_NET_RAW).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,

    /// Generate fixture frames with the core's frame builder instead of reading any.
    #[arg(long, value_name = "KIND")]
    pub synth: Option<SynthKind>,

    /// Carry synthesised frames in IPv6 (ff12::f0) instead of IPv4 (224.0.0.240).
    #[arg(long, requires = "synth")]
    pub synth_ipv6: bool,

    /// Stop after this many pfsync frames.
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,

    /// Stop a live capture after this long (e.g. 5, 0.5, 250ms, 2s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Receiver rules to decode with.
    #[arg(long, value_enum, default_value = "auto")]
    pub dialect: DialectChoice,

    /// Print every field of every message.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// One JSON object per frame (and a closing summary object) instead of text.
    #[arg(long)]
    pub json: bool,

    /// Print nothing per frame, only the summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Leave out the closing summary.
    #[arg(long)]
    pub no_summary: bool,

    /// Write the pfsync frames read, captured or synthesised to this file.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Link type of the written file.
    #[arg(long, value_enum, default_value = "pfsync")]
    pub write_link: WriteLink,

    /// Cut written packets to this many bytes (like tcpdump -s), keeping
    /// their full length in the file.
    #[arg(long, value_name = "BYTES", requires = "write")]
    pub snaplen: Option<usize>,

    /// Write pcapng instead of pcap.
    #[arg(long)]
    pub pcapng: bool,

    /// Also write each pfsync frame (from its header on, no link or IP
    /// header) to its own file in this directory, e.g. for a fuzz corpus.
    #[arg(long, value_name = "DIR")]
    pub frames_dir: Option<PathBuf>,

    /// File name prefix for --frames-dir (files are PREFIX0001.bin, ...).
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "frame-",
        requires = "frames_dir"
    )]
    pub frames_prefix: String,
}

/// Seconds (fractions allowed), or a number with an `ms` or `s` suffix.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, scale) = if let Some(ms) = s.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(secs) = s.strip_suffix('s') {
        (secs, 1.0)
    } else {
        (s, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration"))?;
    if !value.is_finite() || value < 0.0 || value * scale > 1e9 {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
