//! Runs the C test shim (tests/c/abi_from_c.c, built by build.rs with `cc`):
//! the core's pure entry points called from C through the header's own
//! prototypes and constants, with flag bits no header names mixed in.

use core::ffi::c_int;

extern "C" {
    /// 0 when every check passes, else the number of the first that failed.
    fn pfsync_c_abi_check() -> c_int;
}

#[test]
fn the_c_abi_behaves_when_called_from_c() {
    // SAFETY: the C function takes no arguments and only calls the core's
    // pure entry points with pointers to its own locals.
    let first_failure = unsafe { pfsync_c_abi_check() };
    assert_eq!(
        first_failure, 0,
        "check {first_failure} in tests/c/abi_from_c.c failed"
    );
}
