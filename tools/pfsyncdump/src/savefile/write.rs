//! Writes packets of one link type as a little-endian microsecond pcap file
//! or as a pcapng file with one interface (default microsecond resolution).

use std::io::{self, Write};

use super::pcap::MAGIC_MICROS;
use super::pcapng::{
    BLOCK_ENHANCED_PACKET, BLOCK_INTERFACE, BLOCK_SECTION_HEADER, BYTE_ORDER_MAGIC, OPTION_END,
};
use super::{Timestamp, MAX_PACKET};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavefileFormat {
    Pcap,
    PcapNg,
}

pub struct SavefileWriter<W: Write> {
    out: W,
    format: SavefileFormat,
    snaplen: usize,
}

impl<W: Write> SavefileWriter<W> {
    /// Packets longer than `snaplen` are cut to it, their full length kept
    /// in the record (as `tcpdump -s` does).
    pub fn new(
        mut out: W,
        format: SavefileFormat,
        linktype: u32,
        snaplen: Option<usize>,
    ) -> io::Result<Self> {
        let snaplen = snaplen.unwrap_or(MAX_PACKET).min(MAX_PACKET);
        let snaplen_field = snaplen as u32;
        match format {
            SavefileFormat::Pcap => {
                let mut hdr = Vec::with_capacity(24);
                hdr.extend_from_slice(&MAGIC_MICROS.to_le_bytes());
                hdr.extend_from_slice(&2u16.to_le_bytes());
                hdr.extend_from_slice(&4u16.to_le_bytes());
                hdr.extend_from_slice(&0i32.to_le_bytes());
                hdr.extend_from_slice(&0u32.to_le_bytes());
                hdr.extend_from_slice(&snaplen_field.to_le_bytes());
                hdr.extend_from_slice(&linktype.to_le_bytes());
                out.write_all(&hdr)?;
            }
            SavefileFormat::PcapNg => {
                let mut shb = Vec::new();
                shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
                shb.extend_from_slice(&1u16.to_le_bytes());
                shb.extend_from_slice(&0u16.to_le_bytes());
                // Section length unknown.
                shb.extend_from_slice(&u64::MAX.to_le_bytes());
                write_block(&mut out, BLOCK_SECTION_HEADER, &shb)?;
                let link16 = u16::try_from(linktype).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("link type {linktype} does not fit pcapng's 16 bits"),
                    )
                })?;
                let mut idb = Vec::new();
                idb.extend_from_slice(&link16.to_le_bytes());
                idb.extend_from_slice(&0u16.to_le_bytes());
                idb.extend_from_slice(&snaplen_field.to_le_bytes());
                idb.extend_from_slice(&OPTION_END.to_le_bytes());
                idb.extend_from_slice(&0u16.to_le_bytes());
                write_block(&mut out, BLOCK_INTERFACE, &idb)?;
            }
        }
        Ok(SavefileWriter {
            out,
            format,
            snaplen,
        })
    }

    pub fn write_packet(&mut self, ts: Timestamp, packet: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(packet.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too large"))?;
        let data = packet.get(..self.snaplen).unwrap_or(packet);
        let len = data.len() as u32;
        let micros = ts.nanos / 1000;
        match self.format {
            SavefileFormat::Pcap => {
                let mut rec = Vec::with_capacity(16 + data.len());
                // pcap keeps 32-bit seconds; later dates wrap, as libpcap's do.
                rec.extend_from_slice(&(ts.secs as u32).to_le_bytes());
                rec.extend_from_slice(&micros.to_le_bytes());
                rec.extend_from_slice(&len.to_le_bytes());
                rec.extend_from_slice(&orig_len.to_le_bytes());
                rec.extend_from_slice(data);
                self.out.write_all(&rec)
            }
            SavefileFormat::PcapNg => {
                let units = ts.secs.saturating_mul(1_000_000) + u64::from(micros);
                let mut epb = Vec::with_capacity(20 + data.len() + 4);
                epb.extend_from_slice(&0u32.to_le_bytes());
                epb.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
                epb.extend_from_slice(&(units as u32).to_le_bytes());
                epb.extend_from_slice(&len.to_le_bytes());
                epb.extend_from_slice(&orig_len.to_le_bytes());
                epb.extend_from_slice(data);
                while !epb.len().is_multiple_of(4) {
                    epb.push(0);
                }
                write_block(&mut self.out, BLOCK_ENHANCED_PACKET, &epb)
            }
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn write_block<W: Write>(out: &mut W, block_type: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block too large"))?;
    let mut block = Vec::with_capacity(body.len() + 12);
    block.extend_from_slice(&block_type.to_le_bytes());
    block.extend_from_slice(&total.to_le_bytes());
    block.extend_from_slice(body);
    block.extend_from_slice(&total.to_le_bytes());
    out.write_all(&block)
}

#[cfg(test)]
mod tests {
    use super::super::{Packet, SavefileReader};
    use super::*;

    fn roundtrip(format: SavefileFormat) {
        let mut file = Vec::new();
        let mut w = SavefileWriter::new(&mut file, format, 246, None).expect("header");
        let ts = Timestamp {
            secs: 1_700_000_000,
            nanos: 123_456_000,
        };
        w.write_packet(ts, &[5, 0, 0, 20, 1, 2, 3]).expect("packet");
        w.write_packet(ts, &[]).expect("empty packet");
        let mut r = SavefileReader::open(file.as_slice()).expect("open");
        assert_eq!(r.format(), format);
        let first = r.next_packet().expect("one").expect("ok");
        assert_eq!(
            first,
            Packet {
                ts,
                linktype: 246,
                data: vec![5, 0, 0, 20, 1, 2, 3],
                orig_len: 7
            }
        );
        assert_eq!(
            r.next_packet().expect("two").expect("ok").data,
            Vec::<u8>::new()
        );
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn pcap_roundtrip() {
        roundtrip(SavefileFormat::Pcap);
    }

    #[test]
    fn pcapng_roundtrip() {
        roundtrip(SavefileFormat::PcapNg);
    }

    #[test]
    fn every_truncation_of_a_file_ends_cleanly() {
        for format in [SavefileFormat::Pcap, SavefileFormat::PcapNg] {
            let mut file = Vec::new();
            let mut w = SavefileWriter::new(&mut file, format, 1, None).expect("header");
            w.write_packet(Timestamp::default(), &[0xaa; 61])
                .expect("packet");
            for cut in 0..file.len() {
                if let Ok(mut r) = SavefileReader::open(file.get(..cut).expect("cut")) {
                    while let Some(item) = r.next_packet() {
                        if item.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }
}
