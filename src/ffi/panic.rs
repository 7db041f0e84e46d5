//! Panic handler of the kernel build.
//!
//! The core is written so that no input can reach a panic (clippy denies the
//! usual sources in src/lib.rs). If one happens anyway, the kernel is in a state
//! nobody reasoned about, so we stop it the way FreeBSD code does: panic(9).
//! Host builds (tests, tools) keep std's handler; this one exists only for the
//! freestanding kernel target (target_os = "none").

#[cfg(all(target_os = "none", not(test)))]
mod kernel {
    use core::ffi::c_char;
    use core::panic::PanicInfo;

    extern "C" {
        /// `void panic(const char *fmt, ...) __dead2` from sys/systm.h.
        #[link_name = "panic"]
        fn kernel_panic(fmt: *const c_char, ...) -> !;
    }

    const FORMAT: &[u8] = b"%s\0";
    const MESSAGE: &[u8] = b"pfsync-rs: panic in the Rust core\0";

    #[panic_handler]
    fn on_panic(_info: &PanicInfo<'_>) -> ! {
        // SAFETY: both pointers are to 'static NUL-terminated byte strings, and
        // the fixed "%s" format consumes exactly the one argument passed, so no
        // text of ours is ever interpreted as a format. panic(9) does not return.
        unsafe { kernel_panic(FORMAT.as_ptr().cast(), MESSAGE.as_ptr().cast::<c_char>()) }
    }
}
