//! SIGTERM/SIGINT to a pipe the event loop polls (the self-pipe trick), so a
//! signal that lands just before `poll` still wakes it.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(_sig: libc::c_int) {
    let fd = WAKE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; `byte` lives for the call.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// Read end of the pipe that becomes readable once a stop signal arrived.
pub struct StopSignal {
    read_fd: RawFd,
}

impl StopSignal {
    pub fn install() -> io::Result<StopSignal> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        WAKE_FD.store(fds[1], Ordering::Relaxed);
        for sig in [libc::SIGTERM, libc::SIGINT] {
            // SAFETY: zeroed sigaction is valid; the handler only calls write(2).
            let ret = unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut())
            };
            if ret < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(StopSignal { read_fd: fds[0] })
    }

    pub fn fd(&self) -> RawFd {
        self.read_fd
    }

    /// True once a signal was seen; drains the pipe.
    pub fn fired(&self) -> bool {
        let mut buf = [0u8; 16];
        // SAFETY: reading into a local buffer from our own non-blocking pipe.
        let n = unsafe { libc::read(self.read_fd, buf.as_mut_ptr().cast(), buf.len()) };
        n > 0
    }
}
