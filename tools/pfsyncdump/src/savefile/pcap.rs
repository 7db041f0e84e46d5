//! Classic libpcap savefiles: a 24-byte file header, then 16-byte record
//! headers each followed by the captured bytes.

use std::io::Read;

use super::{read_full, Endian, Packet, SavefileError, Timestamp, MAX_PACKET};

pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// The link type sits in the low 26 bits of the header's `network` field;
/// the bits above carry FCS information we do not need.
const LINKTYPE_MASK: u32 = 0x03ff_ffff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    endian: Endian,
    nanos: bool,
}

impl Format {
    pub fn from_magic(magic: [u8; 4]) -> Option<Format> {
        let le = u32::from_le_bytes(magic);
        let be = u32::from_be_bytes(magic);
        let (endian, value) = if le == MAGIC_MICROS || le == MAGIC_NANOS {
            (Endian::Little, le)
        } else if be == MAGIC_MICROS || be == MAGIC_NANOS {
            (Endian::Big, be)
        } else {
            return None;
        };
        Some(Format {
            endian,
            nanos: value == MAGIC_NANOS,
        })
    }
}

pub struct PcapReader<R: Read> {
    input: R,
    format: Format,
    linktype: u32,
    done: bool,
}

impl<R: Read> PcapReader<R> {
    /// `input` is positioned just after the magic number.
    pub fn new(mut input: R, format: Format) -> Result<Self, SavefileError> {
        let mut rest = [0u8; 20];
        if !read_full(&mut input, &mut rest)? {
            return Err(SavefileError::Truncated("the pcap file header"));
        }
        let major = format.endian.u16(&rest, 0);
        if major != 2 {
            return Err(SavefileError::Corrupt(format!(
                "pcap major version {major}, expected 2"
            )));
        }
        let linktype = format.endian.u32(&rest, 16) & LINKTYPE_MASK;
        Ok(PcapReader {
            input,
            format,
            linktype,
            done: false,
        })
    }

    pub fn next_packet(&mut self) -> Option<Result<Packet, SavefileError>> {
        if self.done {
            return None;
        }
        let result = self.read_record();
        if !matches!(result, Some(Ok(_))) {
            self.done = true;
        }
        result
    }

    fn read_record(&mut self) -> Option<Result<Packet, SavefileError>> {
        let mut hdr = [0u8; 16];
        match read_full(&mut self.input, &mut hdr) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => return Some(Err(e)),
        }
        let e = self.format.endian;
        let secs = e.u32(&hdr, 0);
        let frac = e.u32(&hdr, 4);
        let caplen = e.u32(&hdr, 8);
        let orig_len = e.u32(&hdr, 12);
        let caplen = match usize::try_from(caplen) {
            Ok(n) if n <= MAX_PACKET => n,
            _ => {
                return Some(Err(SavefileError::Corrupt(format!(
                    "record length {caplen} exceeds {MAX_PACKET}"
                ))))
            }
        };
        let mut data = vec![0u8; caplen];
        match read_full(&mut self.input, &mut data) {
            Ok(true) => {}
            Ok(false) if caplen == 0 => {}
            Ok(false) => return Some(Err(SavefileError::Truncated("a packet record"))),
            Err(e) => return Some(Err(e)),
        }
        let nanos = if self.format.nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        Some(Ok(Packet {
            ts: Timestamp {
                secs: u64::from(secs),
                nanos: nanos.min(999_999_999),
            },
            linktype: self.linktype,
            data,
            orig_len,
        }))
    }
}
