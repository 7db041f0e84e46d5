//! The kernel build's global allocator: malloc(9) with M_NOWAIT, so an
//! allocation never sleeps and may fail (the engine only allocates through
//! `try_reserve` at configuration time). Exists only for the freestanding
//! kernel target; host builds use std's allocator.

#[cfg(all(target_os = "none", not(test)))]
mod kernel {
    use core::alloc::{GlobalAlloc, Layout};
    use core::ffi::{c_int, c_void};

    /// `struct malloc_type` (sys/malloc.h), only ever used by address.
    #[repr(C)]
    struct MallocType {
        _opaque: [u8; 0],
    }

    extern "C" {
        /// `MALLOC_DECLARE(M_DEVBUF)`: `extern struct malloc_type M_DEVBUF[1]`.
        static mut M_DEVBUF: [MallocType; 1];
        /// `void *malloc_aligned(size_t, size_t, struct malloc_type *, int)`.
        fn malloc_aligned(
            size: usize,
            align: usize,
            mtp: *mut MallocType,
            flags: c_int,
        ) -> *mut c_void;
        /// `void free(void *, struct malloc_type *)`.
        fn free(addr: *mut c_void, mtp: *mut MallocType);
    }

    /// sys/malloc.h (kernel section).
    const M_NOWAIT: c_int = 0x0001;
    const M_ZERO: c_int = 0x0100;

    struct KernelMalloc;

    fn devbuf() -> *mut MallocType {
        // Only the address of the kernel's static is taken, never a reference.
        core::ptr::addr_of_mut!(M_DEVBUF).cast()
    }

    // SAFETY: malloc_aligned returns NULL or a block of at least `size` bytes
    // aligned to `align` (a power of two, as Layout guarantees) that stays
    // valid until free(9); that is the GlobalAlloc contract.
    unsafe impl GlobalAlloc for KernelMalloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: plain C call with a valid malloc type.
            unsafe {
                malloc_aligned(layout.size().max(1), layout.align(), devbuf(), M_NOWAIT).cast()
            }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: as above.
            unsafe {
                malloc_aligned(
                    layout.size().max(1),
                    layout.align(),
                    devbuf(),
                    M_NOWAIT | M_ZERO,
                )
                .cast()
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
            // SAFETY: `ptr` came from `alloc` above with the same malloc type.
            unsafe { free(ptr.cast(), devbuf()) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: KernelMalloc = KernelMalloc;
}
