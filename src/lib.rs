//! pfsync-rs core: the pfsync wire codec and a sans-IO protocol engine.
//!
//! `no_std` everywhere except under test or the `std` feature. The same crate is
//! linked into the FreeBSD kernel module (as a staticlib built for the kernel
//! target), into the Linux userspace node, and into the simulator.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

extern crate alloc;

pub mod antientropy;
pub mod auth;
pub mod engine;
#[cfg(feature = "kernel")]
#[allow(unsafe_code)]
pub mod ffi;
#[cfg(feature = "sim")]
pub mod sim;
pub mod time;
pub mod wire;
