//! Engine log events as kernel log lines (log(9) through the shim), formatted
//! into a fixed buffer: logging never allocates.

use core::fmt::Write;

use crate::engine::host::LogEvent;

/// LOG_INFO and LOG_WARNING of sys/syslog.h.
const LOG_WARNING: i32 = 4;
const LOG_INFO: i32 = 6;

/// A `fmt::Write` into a fixed array that silently truncates.
struct Line {
    buf: [u8; 160],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

pub fn event(event: &LogEvent) {
    let mut line = Line {
        buf: [0; 160],
        len: 0,
    };
    let level = match event {
        LogEvent::BulkRequestTransition { from, event, to } => {
            let _ = write!(line, "bulk req: {} evt {} -> {}", from, event, to);
            LOG_INFO
        }
        LogEvent::BulkSendTransition { from, event, to } => {
            let _ = write!(line, "bulk send: {} evt {} -> {}", from, event, to);
            LOG_INFO
        }
        LogEvent::UnexpectedEvent {
            machine,
            state,
            event,
        } => {
            let _ = write!(line, "{}: unexpected evt {} in {}", machine, event, state);
            LOG_WARNING
        }
        LogEvent::BulkGaveUp { tries } => {
            let _ = write!(line, "bulk update failed after {} tries", tries);
            LOG_WARNING
        }
        LogEvent::OutOfMemory => {
            let _ = write!(line, "out of memory growing the queues");
            LOG_WARNING
        }
        LogEvent::FrameRejected { reason, suppressed } => {
            let _ = write!(
                line,
                "frame refused: {} ({} more not logged)",
                reason, suppressed
            );
            LOG_WARNING
        }
    };
    emit(level, line.buf.get(..line.len).unwrap_or(&[]));
}

#[cfg(all(target_os = "none", not(test)))]
fn emit(level: i32, msg: &[u8]) {
    // SAFETY: `msg` is readable for `msg.len()` bytes; the shim copies it
    // into the kernel log and keeps no pointer.
    unsafe { crate::ffi::sys::pfsync_rs_klog(level, msg.as_ptr(), msg.len()) }
}

#[cfg(not(all(target_os = "none", not(test))))]
fn emit(_level: i32, _msg: &[u8]) {}
