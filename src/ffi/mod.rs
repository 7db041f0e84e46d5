//! The C ABI that the kernel shim (kmod/*.c) links against.
//!
//! This is the only module allowed to use `unsafe`, and it only exists with the
//! `kernel` feature. Every exported symbol is prefixed `pfsync_rs_`. Nothing here
//! may panic: the panic handler brings the whole machine down.
//!
//! The ABI itself is documented in bindings/pfsync_core.h; `sys` is its
//! bindgen output. `exports` holds the entry points the shim calls, `host` the
//! engine's `Host` over the shim's function table, `convert` the plain
//! conversions between the two, `kalloc` the kernel's global allocator and
//! `log` the kernel log lines.

use core::ffi::{c_char, c_int};

#[cfg(test)]
mod abi_tests;
mod anti_entropy;
#[cfg(test)]
mod c_abi_tests;
mod convert;
pub mod exports;
mod flags;
mod host;
mod kalloc;
mod log;
mod panic;
pub mod sys;

/// Version of the Rust core, NUL-terminated, for the shim's load message and
/// for telling which core a running module carries.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// Called once from the module's `MOD_LOAD` handler before anything else of
/// the core is used. Returns 0 on success or an errno value; the core has no
/// global state yet, so there is nothing that can fail.
#[no_mangle]
pub extern "C" fn pfsync_rs_core_init() -> c_int {
    0
}

/// The core's version as a static NUL-terminated string (never freed, never NULL).
#[no_mangle]
pub extern "C" fn pfsync_rs_core_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_succeeds() {
        assert_eq!(pfsync_rs_core_init(), 0);
    }

    #[test]
    fn version_is_the_crate_version_nul_terminated() {
        // SAFETY: the pointer comes from a 'static string that ends in NUL.
        #[allow(unsafe_code)]
        let v = unsafe { core::ffi::CStr::from_ptr(pfsync_rs_core_version()) };
        assert_eq!(v.to_str(), Ok(env!("CARGO_PKG_VERSION")));
    }
}
