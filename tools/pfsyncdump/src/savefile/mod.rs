//! Capture files: pcap (microsecond and nanosecond, either byte order) and
//! pcapng, read as one stream of link-layer packets; written as pcap or pcapng.
//!
//! The file structure is as hostile as the packets in it: every length is
//! bounded before anything is allocated, and a broken structure ends the
//! stream with an error instead of a panic or a runaway allocation.

mod pcap;
mod pcapng;
mod write;

use std::fmt;
use std::io::{self, Read};

pub use pcap::PcapReader;
pub use pcapng::PcapNgReader;
pub use write::{SavefileFormat, SavefileWriter};

/// No captured packet we care about is larger than this; a record claiming
/// more is a corrupt file, not a packet.
pub const MAX_PACKET: usize = 256 * 1024;

/// Seconds and nanoseconds since the Unix epoch, as the capture recorded them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub secs: u64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn now() -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            secs: since.as_secs(),
            nanos: since.subsec_nanos(),
        }
    }
}

/// One captured packet and the link type its bytes start with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub ts: Timestamp,
    pub linktype: u32,
    pub data: Vec<u8>,
    /// Length on the wire; larger than `data.len()` when the capture was cut by a snap length.
    pub orig_len: u32,
}

#[derive(Debug)]
pub enum SavefileError {
    Io(io::Error),
    /// The first four bytes are neither a pcap nor a pcapng magic number.
    UnknownMagic([u8; 4]),
    /// The file ends inside a header or record.
    Truncated(&'static str),
    /// A structural field is impossible (length, version, interface index).
    Corrupt(String),
}

impl fmt::Display for SavefileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SavefileError::Io(e) => write!(f, "read error: {e}"),
            SavefileError::UnknownMagic(m) => write!(
                f,
                "not a pcap or pcapng file (magic {:02x}{:02x}{:02x}{:02x})",
                m[0], m[1], m[2], m[3]
            ),
            SavefileError::Truncated(what) => write!(f, "file truncated inside {what}"),
            SavefileError::Corrupt(what) => write!(f, "corrupt capture file: {what}"),
        }
    }
}

impl std::error::Error for SavefileError {}

impl From<io::Error> for SavefileError {
    fn from(e: io::Error) -> Self {
        SavefileError::Io(e)
    }
}

/// Either kind of capture file, chosen by its magic number.
pub enum SavefileReader<R: Read> {
    Pcap(PcapReader<R>),
    PcapNg(PcapNgReader<R>),
}

impl<R: Read> SavefileReader<R> {
    pub fn open(mut input: R) -> Result<Self, SavefileError> {
        let mut magic = [0u8; 4];
        if !read_full(&mut input, &mut magic)? {
            return Err(SavefileError::Truncated("the file header"));
        }
        if pcapng::is_magic(magic) {
            Ok(SavefileReader::PcapNg(PcapNgReader::new(input, magic)?))
        } else if let Some(format) = pcap::Format::from_magic(magic) {
            Ok(SavefileReader::Pcap(PcapReader::new(input, format)?))
        } else {
            Err(SavefileError::UnknownMagic(magic))
        }
    }

    /// The next packet; `None` at a clean end of file. After an error the
    /// stream is over: a damaged file has no reliable next record boundary.
    pub fn next_packet(&mut self) -> Option<Result<Packet, SavefileError>> {
        match self {
            SavefileReader::Pcap(r) => r.next_packet(),
            SavefileReader::PcapNg(r) => r.next_packet(),
        }
    }

    #[cfg(test)]
    pub fn format(&self) -> SavefileFormat {
        match self {
            SavefileReader::Pcap(_) => SavefileFormat::Pcap,
            SavefileReader::PcapNg(_) => SavefileFormat::PcapNg,
        }
    }
}

/// Fills `buf` completely. `Ok(false)` if the input ended before the first
/// byte; a partial fill is a truncation error.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> Result<bool, SavefileError> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match input.read(rest) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(SavefileError::Truncated("a record")),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// Integer reads in the byte order a file header declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, b: &[u8], at: usize) -> u16 {
        let mut raw = [0u8; 2];
        if let Some(src) = b.get(at..at + 2) {
            raw.copy_from_slice(src);
        }
        match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        }
    }

    fn u32(self, b: &[u8], at: usize) -> u32 {
        let mut raw = [0u8; 4];
        if let Some(src) = b.get(at..at + 4) {
            raw.copy_from_slice(src);
        }
        match self {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        }
    }
}
