//! pcapng: a sequence of blocks (type, total length, body, total length).
//! Section headers set the byte order and reset the interface list; interface
//! descriptions give each interface its link type and timestamp resolution;
//! enhanced, simple and obsolete packet blocks carry packets. Every other
//! block is skipped by its length.

use std::io::Read;

use super::{read_full, Endian, Packet, SavefileError, Timestamp, MAX_PACKET};

pub const BLOCK_SECTION_HEADER: u32 = 0x0a0d_0d0a;
pub const BLOCK_INTERFACE: u32 = 0x0000_0001;
pub const BLOCK_OBSOLETE_PACKET: u32 = 0x0000_0002;
pub const BLOCK_SIMPLE_PACKET: u32 = 0x0000_0003;
pub const BLOCK_ENHANCED_PACKET: u32 = 0x0000_0006;
pub const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
pub const OPTION_END: u16 = 0;
pub const OPTION_IF_TSRESOL: u16 = 9;

/// Blocks bigger than this are corruption: a packet block is bounded by
/// `MAX_PACKET`, and no metadata block we read comes near it.
const MAX_BLOCK: usize = MAX_PACKET + 4096;
/// A file declaring more interfaces than this is not one a person captured.
const MAX_INTERFACES: usize = 4096;

pub fn is_magic(magic: [u8; 4]) -> bool {
    u32::from_le_bytes(magic) == BLOCK_SECTION_HEADER
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: u32,
    resolution: Resolution,
}

/// Timestamp units per second, as `if_tsresol` encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolution {
    PowerOfTen(u8),
    PowerOfTwo(u8),
}

impl Resolution {
    const DEFAULT: Resolution = Resolution::PowerOfTen(6);

    fn from_option(byte: u8) -> Resolution {
        if byte & 0x80 == 0 {
            Resolution::PowerOfTen(byte)
        } else {
            Resolution::PowerOfTwo(byte & 0x7f)
        }
    }

    fn to_timestamp(self, units: u64) -> Timestamp {
        let units = u128::from(units);
        let per_second: u128 = match self {
            Resolution::PowerOfTen(e) => 10u128.checked_pow(u32::from(e)).unwrap_or(u128::MAX),
            Resolution::PowerOfTwo(e) => 1u128.checked_shl(u32::from(e)).unwrap_or(u128::MAX),
        };
        let per_second = per_second.max(1);
        let secs = units / per_second;
        let frac = units % per_second;
        let nanos = frac * 1_000_000_000 / per_second;
        Timestamp {
            secs: u64::try_from(secs).unwrap_or(u64::MAX),
            nanos: u32::try_from(nanos).unwrap_or(0),
        }
    }
}

pub struct PcapNgReader<R: Read> {
    input: R,
    endian: Endian,
    interfaces: Vec<Interface>,
    /// The first block type was consumed by the magic check.
    pending_type: Option<[u8; 4]>,
    done: bool,
}

impl<R: Read> PcapNgReader<R> {
    /// `input` is positioned just after the first block's type field.
    pub fn new(input: R, first_type: [u8; 4]) -> Result<Self, SavefileError> {
        Ok(PcapNgReader {
            input,
            endian: Endian::Little,
            interfaces: Vec::new(),
            pending_type: Some(first_type),
            done: false,
        })
    }

    pub fn next_packet(&mut self) -> Option<Result<Packet, SavefileError>> {
        while !self.done {
            match self.next_block() {
                Ok(Some(Some(packet))) => return Some(Ok(packet)),
                Ok(Some(None)) => {}
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }

    /// `Ok(None)` at end of file, `Ok(Some(None))` for a block without a packet.
    fn next_block(&mut self) -> Result<Option<Option<Packet>>, SavefileError> {
        let mut type_raw = [0u8; 4];
        if let Some(t) = self.pending_type.take() {
            type_raw = t;
        } else if !read_full(&mut self.input, &mut type_raw)? {
            return Ok(None);
        }
        let mut len_raw = [0u8; 4];
        if !read_full(&mut self.input, &mut len_raw)? {
            return Err(SavefileError::Truncated("a block header"));
        }
        if u32::from_le_bytes(type_raw) == BLOCK_SECTION_HEADER {
            return self.section_header(len_raw).map(|()| Some(None));
        }
        let block_type = self.endian.u32(&type_raw, 0);
        let total = self.endian.u32(&len_raw, 0);
        let body = self.read_body(total, 0)?;
        match block_type {
            BLOCK_INTERFACE => {
                self.interface(&body)?;
                Ok(Some(None))
            }
            BLOCK_ENHANCED_PACKET => self.enhanced(&body).map(Some),
            BLOCK_SIMPLE_PACKET => self.simple(&body).map(Some),
            BLOCK_OBSOLETE_PACKET => self.obsolete(&body).map(Some),
            _ => Ok(Some(None)),
        }
    }

    /// Reads the rest of the body (after `consumed` body bytes already read)
    /// and the trailing length copy of a block whose total length is `total`,
    /// checking both lengths agree.
    fn read_body(&mut self, total: u32, consumed: usize) -> Result<Vec<u8>, SavefileError> {
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        if total < 12 + consumed || !total.is_multiple_of(4) || total > MAX_BLOCK {
            return Err(SavefileError::Corrupt(format!(
                "block length {total} (must be a multiple of 4 in {}..={MAX_BLOCK})",
                12 + consumed
            )));
        }
        let mut body = vec![0u8; total - 8 - consumed];
        if !read_full(&mut self.input, &mut body)? {
            return Err(SavefileError::Truncated("a block"));
        }
        let trailer_at = body.len() - 4;
        let trailer = self.endian.u32(&body, trailer_at);
        if usize::try_from(trailer).ok() != Some(total) {
            return Err(SavefileError::Corrupt(format!(
                "block length {total} and its trailing copy {trailer} differ"
            )));
        }
        body.truncate(trailer_at);
        Ok(body)
    }

    fn section_header(&mut self, len_raw: [u8; 4]) -> Result<(), SavefileError> {
        let mut magic = [0u8; 4];
        if !read_full(&mut self.input, &mut magic)? {
            return Err(SavefileError::Truncated("a section header"));
        }
        self.endian = if u32::from_le_bytes(magic) == BYTE_ORDER_MAGIC {
            Endian::Little
        } else if u32::from_be_bytes(magic) == BYTE_ORDER_MAGIC {
            Endian::Big
        } else {
            return Err(SavefileError::Corrupt(
                "section header byte-order magic is wrong".into(),
            ));
        };
        let total = self.endian.u32(&len_raw, 0);
        // The byte-order magic already read is the first 4 bytes of the body.
        let rest = self.read_body(total, 4)?;
        let major = self.endian.u16(&rest, 0);
        if major != 1 {
            return Err(SavefileError::Corrupt(format!(
                "pcapng major version {major}, expected 1"
            )));
        }
        self.interfaces.clear();
        Ok(())
    }

    fn interface(&mut self, body: &[u8]) -> Result<(), SavefileError> {
        if body.len() < 8 {
            return Err(SavefileError::Corrupt(
                "interface description block too short".into(),
            ));
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(SavefileError::Corrupt(format!(
                "more than {MAX_INTERFACES} interfaces"
            )));
        }
        let linktype = u32::from(self.endian.u16(body, 0));
        let mut resolution = Resolution::DEFAULT;
        let mut at = 8usize;
        while let (Some(_), Some(_)) = (body.get(at..at + 2), body.get(at + 2..at + 4)) {
            let code = self.endian.u16(body, at);
            let len = usize::from(self.endian.u16(body, at + 2));
            if code == OPTION_END {
                break;
            }
            let value = body.get(at + 4..at + 4 + len).ok_or_else(|| {
                SavefileError::Corrupt("interface option runs past its block".into())
            })?;
            if code == OPTION_IF_TSRESOL {
                if let Some(&b) = value.first() {
                    resolution = Resolution::from_option(b);
                }
            }
            at += 4 + len.div_ceil(4) * 4;
        }
        self.interfaces.push(Interface {
            linktype,
            resolution,
        });
        Ok(())
    }

    fn interface_at(&self, index: u32) -> Result<Interface, SavefileError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
            .ok_or_else(|| {
                SavefileError::Corrupt(format!("packet names interface {index}, not described"))
            })
    }

    fn enhanced(&self, body: &[u8]) -> Result<Option<Packet>, SavefileError> {
        if body.len() < 20 {
            return Err(SavefileError::Corrupt(
                "enhanced packet block too short".into(),
            ));
        }
        let e = self.endian;
        let iface = self.interface_at(e.u32(body, 0))?;
        let units = (u64::from(e.u32(body, 4)) << 32) | u64::from(e.u32(body, 8));
        let caplen = usize::try_from(e.u32(body, 12)).unwrap_or(usize::MAX);
        let orig_len = e.u32(body, 16);
        let data = body
            .get(20..20usize.saturating_add(caplen))
            .ok_or_else(|| {
                SavefileError::Corrupt(format!("captured length {caplen} runs past its block"))
            })?;
        Ok(Some(Packet {
            ts: iface.resolution.to_timestamp(units),
            linktype: iface.linktype,
            data: data.to_vec(),
            orig_len,
        }))
    }

    fn simple(&self, body: &[u8]) -> Result<Option<Packet>, SavefileError> {
        let iface = self.interface_at(0)?;
        let orig_len = self.endian.u32(body, 0);
        let data = body.get(4..).unwrap_or(&[]);
        let caplen = data
            .len()
            .min(usize::try_from(orig_len).unwrap_or(usize::MAX));
        Ok(Some(Packet {
            ts: Timestamp::default(),
            linktype: iface.linktype,
            data: data.get(..caplen).unwrap_or(&[]).to_vec(),
            orig_len,
        }))
    }

    fn obsolete(&self, body: &[u8]) -> Result<Option<Packet>, SavefileError> {
        if body.len() < 20 {
            return Err(SavefileError::Corrupt("packet block too short".into()));
        }
        let e = self.endian;
        let iface = self.interface_at(u32::from(e.u16(body, 0)))?;
        let units = (u64::from(e.u32(body, 4)) << 32) | u64::from(e.u32(body, 8));
        let caplen = usize::try_from(e.u32(body, 12)).unwrap_or(usize::MAX);
        let orig_len = e.u32(body, 16);
        let data = body
            .get(20..20usize.saturating_add(caplen))
            .ok_or_else(|| {
                SavefileError::Corrupt(format!("captured length {caplen} runs past its block"))
            })?;
        Ok(Some(Packet {
            ts: iface.resolution.to_timestamp(units),
            linktype: iface.linktype,
            data: data.to_vec(),
            orig_len,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_convert_to_nanoseconds() {
        let micro = Resolution::DEFAULT.to_timestamp(1_500_000_250);
        assert_eq!((micro.secs, micro.nanos), (1500, 250_000));
        let nano = Resolution::from_option(9).to_timestamp(2_000_000_001);
        assert_eq!((nano.secs, nano.nanos), (2, 1));
        let binary = Resolution::from_option(0x80 | 1).to_timestamp(3);
        assert_eq!((binary.secs, binary.nanos), (1, 500_000_000));
        // An absurd exponent must not overflow or divide by zero.
        let huge = Resolution::from_option(0x7f).to_timestamp(u64::MAX);
        assert_eq!(huge.secs, 0);
    }
}
