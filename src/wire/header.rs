//! `struct pfsync_header` (20 bytes) and `struct pfsync_subheader` (4 bytes),
//! sys/net/if_pfsync.h.

use super::field::{
    be16, get, put, record, record_mut, set_be16, set_u8, u8_at, Field, HeaderSet, StructLayout,
};
use super::Result;

/// `PFSYNC_VERSION` of FreeBSD.
pub const VERSION_FREEBSD: u8 = 5;
/// OpenBSD's header version; its frames also carry message lengths in the subheader.
pub const VERSION_OPENBSD: u8 = 6;

pub mod field {
    use super::Field;
    pub const VERSION: Field<1> = Field::at(0);
    pub const PAD: Field<1> = VERSION.next();
    pub const LEN: Field<2> = PAD.next();
    pub const PFCKSUM: Field<16> = LEN.next();
    pub const HEADER_LEN: usize = PFCKSUM.end();
}

pub const HEADER_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_header",
    c_type: "struct pfsync_header",
    headers: HeaderSet::FreeBsd,
    size: Header::LEN,
    fields: &[
        field::VERSION.named("version"),
        field::PAD.named("_pad"),
        field::LEN.named("len"),
        field::PFCKSUM.named("pfcksum"),
    ],
};

/// The frame header. `len` counts from the first byte of this header to the
/// end of the frame (EOF subheader included, IP header excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub version: u8,
    pub len: u16,
    /// The sender's pf ruleset MD5 (FreeBSD); `spare`, zero, on OpenBSD.
    pub pfcksum: [u8; 16],
}

impl Header {
    pub const LEN: usize = field::HEADER_LEN;

    /// Decodes the first 20 bytes; `HdrOps` when there are fewer. The version is
    /// not judged here: that is the frame reader's call (FreeBSD 5, OpenBSD 6).
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        let b: &[u8; Header::LEN] = record(bytes).map_err(|_| super::Error::HdrOps)?;
        Ok(Header {
            version: u8_at(b, field::VERSION),
            len: be16(b, field::LEN),
            pfcksum: get(b, field::PFCKSUM),
        })
    }

    /// Writes 20 bytes; returns them, or `BadLen` if `buf` is shorter.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; Header::LEN] = record_mut(buf)?;
        set_u8(b, field::VERSION, self.version);
        set_u8(b, field::PAD, 0);
        set_be16(b, field::LEN, self.len);
        put(b, field::PFCKSUM, self.pfcksum);
        Ok(Header::LEN)
    }
}

pub mod sub_field {
    use super::Field;
    pub const ACTION: Field<1> = Field::at(0);
    /// FreeBSD `_pad` (0); OpenBSD `len`, the message length in 32-bit words.
    pub const PAD: Field<1> = ACTION.next();
    pub const COUNT: Field<2> = PAD.next();
    pub const SUBHEADER_LEN: usize = COUNT.end();
}

pub const SUBHEADER_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_subheader",
    c_type: "struct pfsync_subheader",
    headers: HeaderSet::FreeBsd,
    size: Subheader::LEN,
    fields: &[
        sub_field::ACTION.named("action"),
        sub_field::PAD.named("_pad"),
        sub_field::COUNT.named("count"),
    ],
};

pub const OPENBSD_SUBHEADER_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_subheader",
    c_type: "struct pfsync_subheader",
    headers: HeaderSet::OpenBsd,
    size: Subheader::LEN,
    fields: &[
        sub_field::ACTION.named("action"),
        sub_field::PAD.named("len"),
        sub_field::COUNT.named("count"),
    ],
};

pub const OPENBSD_HEADER_LAYOUT: StructLayout = StructLayout {
    name: "pfsync_header",
    c_type: "struct pfsync_header",
    headers: HeaderSet::OpenBsd,
    size: Header::LEN,
    fields: &[
        field::VERSION.named("version"),
        field::PAD.named("_pad"),
        field::LEN.named("len"),
        field::PFCKSUM.named("spare"),
    ],
};

/// Introduces `count` records of one action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subheader {
    /// Raw action number; its meaning depends on the dialect (FreeBSD 13 is
    /// INS_1400, OpenBSD 13 is INS), so it is not decoded here.
    pub action: u8,
    /// OpenBSD: record length in 32-bit words. FreeBSD: padding, sent as 0.
    pub len_words: u8,
    pub count: u16,
}

impl Subheader {
    pub const LEN: usize = sub_field::SUBHEADER_LEN;

    pub fn parse(bytes: &[u8]) -> Result<Subheader> {
        let b: &[u8; Subheader::LEN] = record(bytes)?;
        Ok(Subheader {
            action: u8_at(b, sub_field::ACTION),
            len_words: u8_at(b, sub_field::PAD),
            count: be16(b, sub_field::COUNT),
        })
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let b: &mut [u8; Subheader::LEN] = record_mut(buf)?;
        set_u8(b, sub_field::ACTION, self.action);
        set_u8(b, sub_field::PAD, self.len_words);
        set_be16(b, sub_field::COUNT, self.count);
        Ok(Subheader::LEN)
    }
}
