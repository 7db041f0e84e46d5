//! The read-decode-print loop shared by files, live capture and synthesis.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};

use crate::cli::Cli;
use crate::decode;
use crate::json;
use crate::link::{self, ip::IpInfo};
use crate::live::LiveCapture;
use crate::savefile::{Packet, SavefileFormat, SavefileReader, SavefileWriter, Timestamp};
use crate::summary::Summary;
use crate::synth;
use crate::text;

/// Where a frame came from and what carried it, for the frame line.
pub struct FrameContext {
    pub number: u64,
    pub ts: Timestamp,
    pub linktype: u32,
    pub ip: Option<IpInfo>,
    /// Bytes captured and bytes on the wire, when the capture cut the packet.
    pub cut: Option<(usize, u32)>,
}

enum Source {
    File(SavefileReader<Box<dyn Read>>),
    Live(LiveCapture),
    Synth(std::vec::IntoIter<Packet>),
}

impl Source {
    fn next(&mut self) -> Option<Result<Packet, String>> {
        match self {
            Source::File(r) => r.next_packet().map(|p| p.map_err(|e| e.to_string())),
            Source::Live(c) => c.next_packet().map_err(|e| e.to_string()).transpose(),
            Source::Synth(it) => it.next().map(Ok),
        }
    }
}

pub fn run(cli: &Cli) -> Result<(), String> {
    let mut source = open_source(cli)?;
    let mut writer = match &cli.write {
        None => None,
        Some(path) => {
            let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let format = if cli.pcapng {
                SavefileFormat::PcapNg
            } else {
                SavefileFormat::Pcap
            };
            Some(
                SavefileWriter::new(
                    BufWriter::new(file),
                    format,
                    cli.write_link.linktype(),
                    cli.snaplen,
                )
                .map_err(|e| format!("{}: {e}", path.display()))?,
            )
        }
    };
    if let Some(dir) = &cli.frames_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut summary = Summary::default();
    let mut source_error = None;

    while cli.count.is_none_or(|c| summary.frames < c) {
        let packet = match source.next() {
            None => break,
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                source_error = Some(e);
                break;
            }
        };
        summary.packets += 1;
        let number = summary.packets;
        let extracted = match link::extract(packet.linktype, &packet.data) {
            Ok(x) => x,
            Err(skip) => {
                summary.skip(skip.key());
                // Synthesised noise (a non-pfsync IP packet) belongs in the
                // fixture file too, so readers of it see something to skip.
                if let (Some(w), true) = (writer.as_mut(), cli.synth.is_some()) {
                    if cli.write_link.carries_ip() {
                        let bytes = link::encapsulate(cli.write_link, Some(&packet.data), &[])
                            .map_err(|e| format!("packet {number}: {e}"))?;
                        w.write_packet(packet.ts, &bytes)
                            .map_err(|e| format!("writing: {e}"))?;
                    }
                }
                if !cli.quiet {
                    if cli.json {
                        emit(&mut out, &json::skipped(number, &skip).to_string())?;
                    } else if cli.verbose {
                        emit(&mut out, &format!("#{number} skipped: {skip}"))?;
                    }
                }
                continue;
            }
        };
        summary.frames += 1;
        let cut = u64::from(packet.orig_len) > packet.data.len() as u64;
        let mut decoded = decode::decode(extracted.pfsync, cli.dialect, cut);
        decoded.bad_ttl = extracted
            .ip
            .map(|ip| ip.ttl)
            .filter(|&ttl| ttl != link::ip::PFSYNC_TTL);
        decoded.count_into(&mut summary);
        let ctx = FrameContext {
            number,
            ts: packet.ts,
            linktype: packet.linktype,
            ip: extracted.ip,
            cut: cut.then_some((packet.data.len(), packet.orig_len)),
        };
        if !cli.quiet {
            let rendered = if cli.json {
                json::frame(&ctx, &decoded).to_string()
            } else {
                text::frame(&ctx, &decoded, cli.verbose)
            };
            emit(&mut out, &rendered)?;
            // Someone is watching a live capture: show each frame as it comes.
            if matches!(source, Source::Live(_)) {
                flush(&mut out)?;
            }
        }
        if let Some(dir) = &cli.frames_dir {
            let path = dir.join(format!("{}{:04}.bin", cli.frames_prefix, summary.frames));
            std::fs::write(&path, extracted.pfsync)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        if let Some(w) = writer.as_mut() {
            let bytes = link::encapsulate(cli.write_link, extracted.ip_packet, extracted.pfsync)
                .map_err(|e| format!("frame {number}: {e}"))?;
            w.write_packet(packet.ts, &bytes)
                .map_err(|e| format!("writing: {e}"))?;
        }
    }

    if let Some(w) = writer.as_mut() {
        w.flush().map_err(|e| format!("writing: {e}"))?;
    }
    if let Some(e) = &source_error {
        // The packets before the damage were printed; say where it stopped.
        let msg = format!("input error after packet {}: {e}", summary.packets);
        if cli.json {
            emit(
                &mut out,
                &serde_json::json!({ "input_error": msg }).to_string(),
            )?;
        } else {
            emit(&mut out, &msg)?;
        }
    }
    if !cli.no_summary {
        let rendered = if cli.json {
            summary.to_json().to_string()
        } else {
            summary.to_text().trim_end().to_string()
        };
        emit(&mut out, &rendered)?;
    }
    out.flush().map_err(|e| e.to_string())?;
    match source_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn open_source(cli: &Cli) -> Result<Source, String> {
    if let Some(path) = &cli.read {
        let input: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(BufReader::new(io::stdin()))
        } else {
            Box::new(BufReader::new(
                File::open(path).map_err(|e| format!("{}: {e}", path.display()))?,
            ))
        };
        let reader = SavefileReader::open(input).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(Source::File(reader));
    }
    if let Some(iface) = &cli.interface {
        let capture = LiveCapture::open(iface, cli.timeout).map_err(|e| format!("{iface}: {e}"))?;
        // Like tcpdump: tells the user (and tests) that capture has begun.
        eprintln!("pfsyncdump: listening on {iface} (IP protocol 240)");
        return Ok(Source::Live(capture));
    }
    if let Some(kind) = cli.synth {
        let packets = synth::packets(kind, cli.synth_ipv6)?;
        return Ok(Source::Synth(packets.into_iter()));
    }
    Err("no packet source given (-r, -i or --synth)".into())
}

fn flush<W: Write>(out: &mut W) -> Result<(), String> {
    match out.flush() {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.to_string()),
    }
}

/// Writes one line; a closed pipe (e.g. `| head`) ends the program quietly.
fn emit<W: Write>(out: &mut W, line: &str) -> Result<(), String> {
    match writeln!(out, "{line}") {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.to_string()),
    }
}
