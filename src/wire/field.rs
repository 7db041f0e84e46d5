//! Where each C struct member lives, and the only accessors the codec reads
//! and writes bytes with.
//!
//! Every wire struct has a `field` module of [`Field`] constants and a
//! [`StructLayout`] built from the *same* constants. The codec reads through
//! the constants, the layout oracle (`scripts/stages/30-layout-oracle.sh`)
//! compiles the layout tables against the real FreeBSD/OpenBSD headers, and a
//! unit test checks that each table tiles its struct without gaps, so a field
//! the codec uses cannot sit at an offset the headers disagree with.

/// A struct member of `N` bytes at byte offset `off`. The width is part of the
/// type, so a 2-byte accessor cannot be pointed at a 4-byte member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<const N: usize> {
    pub off: usize,
}

impl<const N: usize> Field<N> {
    pub const LEN: usize = N;

    pub const fn at(off: usize) -> Field<N> {
        Field { off }
    }

    /// First byte after this member; the next member's offset.
    pub const fn end(self) -> usize {
        self.off + N
    }

    /// The member that starts where this one ends.
    pub const fn next<const M: usize>(self) -> Field<M> {
        Field { off: self.end() }
    }

    /// This member's row in a [`StructLayout`], under its C designator
    /// (what `offsetof` accepts: `src.scrub.pfss_flags`, `packets[1][0]`).
    pub const fn named(self, c_field: &'static str) -> FieldLayout {
        FieldLayout {
            c_field,
            off: self.off,
            len: N,
        }
    }
}

/// One row of a layout table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    pub c_field: &'static str,
    pub off: usize,
    pub len: usize,
}

/// Which header set a layout is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderSet {
    /// FreeBSD 14.x and 15.x (identical for this struct).
    FreeBsd,
    /// FreeBSD 15.x only (format 1500).
    FreeBsd15,
    OpenBsd,
}

/// The byte layout of one C struct as this codec reads and writes it.
#[derive(Clone, Copy, Debug)]
pub struct StructLayout {
    /// The C struct's name, for reports.
    pub name: &'static str,
    /// A C type expression `offsetof`/`sizeof` accept, e.g. `struct pfsync_upd_c`,
    /// or a `__typeof__` for members whose struct name differs between releases.
    pub c_type: &'static str,
    pub headers: HeaderSet,
    /// `sizeof` of the struct.
    pub size: usize,
    /// Every member, in offset order, padding included.
    pub fields: &'static [FieldLayout],
}

impl StructLayout {
    /// True when the rows are in order and cover `0..size` exactly once.
    pub fn is_tiled(&self) -> bool {
        let mut at = 0;
        for f in self.fields {
            if f.off != at || f.len == 0 {
                return false;
            }
            at += f.len;
        }
        at == self.size
    }
}

// The accessors below take a slice whose length the caller has already checked
// (each `parse` first narrows its input to a `&[u8; LEN]`). With constant
// offsets the compiler folds the range checks away; if a caller ever passed a
// short slice, reads yield zeros and writes do nothing rather than panic.

#[inline(always)]
pub(crate) fn get<const N: usize>(buf: &[u8], f: Field<N>) -> [u8; N] {
    buf.get(f.off..)
        .and_then(|s| s.first_chunk::<N>())
        .copied()
        .unwrap_or([0; N])
}

#[inline(always)]
pub(crate) fn put<const N: usize>(buf: &mut [u8], f: Field<N>, value: [u8; N]) {
    if let Some(dst) = buf.get_mut(f.off..).and_then(|s| s.first_chunk_mut::<N>()) {
        *dst = value;
    }
}

#[inline(always)]
pub(crate) fn u8_at(buf: &[u8], f: Field<1>) -> u8 {
    get(buf, f)[0]
}

#[inline(always)]
pub(crate) fn be16(buf: &[u8], f: Field<2>) -> u16 {
    u16::from_be_bytes(get(buf, f))
}

#[inline(always)]
pub(crate) fn be32(buf: &[u8], f: Field<4>) -> u32 {
    u32::from_be_bytes(get(buf, f))
}

#[inline(always)]
pub(crate) fn be64(buf: &[u8], f: Field<8>) -> u64 {
    u64::from_be_bytes(get(buf, f))
}

#[inline(always)]
pub(crate) fn set_u8(buf: &mut [u8], f: Field<1>, v: u8) {
    put(buf, f, [v]);
}

#[inline(always)]
pub(crate) fn set_be16(buf: &mut [u8], f: Field<2>, v: u16) {
    put(buf, f, v.to_be_bytes());
}

#[inline(always)]
pub(crate) fn set_be32(buf: &mut [u8], f: Field<4>, v: u32) {
    put(buf, f, v.to_be_bytes());
}

#[inline(always)]
pub(crate) fn set_be64(buf: &mut [u8], f: Field<8>, v: u64) {
    put(buf, f, v.to_be_bytes());
}

/// A 64-bit counter as pf's `pf_state_counter_hton` writes it: {high, low}
/// 32-bit halves, each big-endian. Byte-for-byte that is one big-endian u64.
#[inline(always)]
pub(crate) fn counter(buf: &[u8], high: Field<4>, low: Field<4>) -> u64 {
    (u64::from(be32(buf, high)) << 32) | u64::from(be32(buf, low))
}

#[inline(always)]
pub(crate) fn set_counter(buf: &mut [u8], high: Field<4>, low: Field<4>, v: u64) {
    set_be32(buf, high, (v >> 32) as u32);
    set_be32(buf, low, v as u32);
}

/// The fixed-size prefix of `bytes` a record of `N` bytes is decoded from.
#[inline(always)]
pub(crate) fn record<const N: usize>(bytes: &[u8]) -> super::Result<&[u8; N]> {
    bytes.first_chunk::<N>().ok_or(super::Error::BadLen)
}

#[inline(always)]
pub(crate) fn record_mut<const N: usize>(bytes: &mut [u8]) -> super::Result<&mut [u8; N]> {
    bytes.first_chunk_mut::<N>().ok_or(super::Error::BadLen)
}
