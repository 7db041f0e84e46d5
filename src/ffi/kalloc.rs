//! The kernel build's global allocator: malloc(9) through the shim, with the
//! module's own malloc type and M_NOWAIT, so an allocation never sleeps and
//! may fail. The engine only allocates through fallible APIs (`try_reserve`),
//! so a failure is counted and survived; the count is reported in
//! `pfsyncs_onomem`.

use core::sync::atomic::{AtomicU64, Ordering};

/// Allocations malloc(9) refused since the module was loaded (all VNETs).
static FAILURES: AtomicU64 = AtomicU64::new(0);

pub fn failures() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

#[cfg(all(target_os = "none", not(test)))]
mod kernel {
    use super::{Ordering, FAILURES};
    use crate::ffi::sys;
    use core::alloc::{GlobalAlloc, Layout};

    struct KernelAllocator;

    // SAFETY: pfsync_rs_kmalloc returns either NULL or a block of at least
    // `size` bytes aligned to `align` that stays valid until pfsync_rs_kfree;
    // blocks are never handed out twice. That is the GlobalAlloc contract.
    unsafe impl GlobalAlloc for KernelAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: plain C call; the shim validates size and alignment.
            let p = unsafe { sys::pfsync_rs_kmalloc(layout.size(), layout.align()) };
            if p.is_null() {
                FAILURES.fetch_add(1, Ordering::Relaxed);
            }
            p.cast()
        }

        unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
            // SAFETY: `ptr` came from `alloc` above (GlobalAlloc contract).
            unsafe { sys::pfsync_rs_kfree(ptr.cast()) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: KernelAllocator = KernelAllocator;
}
