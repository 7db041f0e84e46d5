//! The C ABI's flag words as types. Every value comes from
//! `bindings/pfsync_core.h` through bindgen (`sys`), so the header stays the
//! only place the numbers are written down; the shim asserts they equal
//! stock's `PFSYNCF_*` / `PFSYNC_SI_*` (kmod/).

use super::sys;
use bitflags::bitflags;

bitflags! {
    /// `PFSYNC_RS_CFG_*`: `pfsync_rs_config.flags` and the status word the
    /// shim reports as `pfsyncr_flags` (stock's `PFSYNCF_*`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct CfgFlags: u32 {
        /// `PFSYNCF_OK`: no bulk update is being waited for.
        const OK = sys::PFSYNC_RS_CFG_OK;
        /// `PFSYNCF_DEFER`.
        const DEFER = sys::PFSYNC_RS_CFG_DEFER;
    }
}

bitflags! {
    /// `PFSYNC_RS_SI_*`: how an imported state came to be (stock's
    /// `PFSYNC_SI_*`, the `flags` of `pfsync_state_import`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct ImportFlags: u32 {
        const IOCTL = sys::PFSYNC_RS_SI_IOCTL;
        /// The frame's ruleset checksum matched ours.
        const CKSUM = sys::PFSYNC_RS_SI_CKSUM;
        const ACK = sys::PFSYNC_RS_SI_ACK;
    }
}
