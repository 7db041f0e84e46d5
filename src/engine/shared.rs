//! A lock around the engine for hosts that call it from several threads.
//!
//! The engine itself takes `&mut self` and knows nothing about locking. A host
//! wraps it in `lock_api::Mutex` with its own raw lock: the kernel shim backs
//! it with an mtx(9) (`RawMutex` implemented over `mtx_lock`/`mtx_unlock`), the
//! Linux node with a spin or parking lock. One lock for the whole engine keeps
//! the model simple; the buckets are already sharded by state-id hash, so
//! splitting the lock per bucket later changes no data structure.

/// An engine behind a host-supplied raw mutex.
pub type SharedEngine<R, X = crate::engine::NoExtension> =
    lock_api::Mutex<R, crate::engine::Engine<X>>;
