//! The flag sets a state record carries: `PFSTATE_*` (pf's per-state flags,
//! `netpfil/pf/pf.h`) and `PFSYNC_FLAG_*` (`net/pfvar.h`).
//!
//! Bits no header names are *kept*: every value is built with
//! `from_bits_retain`, so a record decodes and re-encodes byte for byte
//! whatever a peer put there, and [`StateFlags::unknown`] /
//! [`SyncFlags::unknown`] let the engine count them
//! (`ExtraStats::unknown_flag_bits`). Never use `from_bits_truncate` on
//! received data: it would silently change what the peer sent.
//!
//! The values are checked against the real FreeBSD 14.x/15.x and OpenBSD
//! headers by the layout oracle (`examples/wire_oracle.rs`, stage 30).

use bitflags::bitflags;

bitflags! {
    /// `PFSTATE_*`: the union of what FreeBSD 14.x/15.x and OpenBSD define.
    /// 1301 and OpenBSD's UPD_C carry only the low 8 bits.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct StateFlags: u16 {
        const ALLOWOPTS = 0x0001;
        const SLOPPY = 0x0002;
        /// FreeBSD 15.x and OpenBSD; a retired value on 14.x.
        const PFLOW = 0x0004;
        /// Never synchronise this state.
        const NOSYNC = 0x0008;
        /// The peer should acknowledge this insert (a packet is deferred).
        const ACK = 0x0010;
        const NODF = 0x0020;
        const SETTOS = 0x0040;
        const RANDOMID = 0x0080;
        const SCRUB_TCP = 0x0100;
        const SETPRIO = 0x0200;
        /// OpenBSD only; retired on FreeBSD.
        const INP_UNLINKED = 0x0400;
        /// FreeBSD only (dummynet).
        const DN_IS_PIPE = 0x4000;
        /// FreeBSD only (dummynet).
        const DN_IS_QUEUE = 0x8000;
    }
}

bitflags! {
    /// `PFSYNC_FLAG_*`, the `sync_flags` byte of 1301/1400 and OpenBSD records.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct SyncFlags: u8 {
        const SRCNODE = 0x04;
        const NATSRCNODE = 0x08;
    }
}

impl StateFlags {
    /// The bits no `PFSTATE_*` names, as received.
    pub const fn unknown(self) -> u16 {
        self.bits() & !Self::all().bits()
    }
}

impl SyncFlags {
    /// The bits no `PFSYNC_FLAG_*` names, as received.
    pub const fn unknown(self) -> u8 {
        self.bits() & !Self::all().bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_bits_are_kept_and_reported() {
        let f = StateFlags::from_bits_retain(0x1009);
        assert!(f.contains(StateFlags::NOSYNC | StateFlags::ALLOWOPTS));
        assert_eq!(f.bits(), 0x1009, "the unnamed 0x1000 survives");
        assert_eq!(f.unknown(), 0x1000);
        assert_eq!(
            (f - StateFlags::NOSYNC).bits(),
            0x1001,
            "removing a flag keeps the rest"
        );
        assert_eq!(StateFlags::all().unknown(), 0);

        let s = SyncFlags::from_bits_retain(0x8d);
        assert_eq!(s.bits(), 0x8d);
        assert_eq!(s.unknown(), 0x81);
        assert_eq!(SyncFlags::SRCNODE.unknown(), 0);
    }
}
