//! [`Io`] over the protocol engine and its host: what a node (Linux, kernel
//! shim, simulator) hands the anti-entropy session.

use super::fingerprint::StateView;
use super::session::Io;
use crate::engine::{Engine, FrameExtension, Host, TableCursor, PFSTATE_NOSYNC, PFTM_MAX};
use crate::time::Instant;
use crate::wire::StateId;

pub struct EngineIo<'a, X: FrameExtension, H: Host> {
    pub engine: &'a mut Engine<X>,
    pub host: &'a mut H,
    pub now: Instant,
}

impl<X: FrameExtension, H: Host> Io for EngineIo<'_, X, H> {
    /// One full pass over the host's table through `Host::next_state` (a
    /// kernel host with a very large table would rather walk in slices; see
    /// docs/anti-entropy.md).
    fn walk_states(&mut self, visit: &mut dyn FnMut(StateView<'_>)) {
        let mut cursor = TableCursor::START;
        self.walk_slice(&mut cursor, usize::MAX, visit);
    }

    /// At most `budget` calls of `Host::next_state` from `cursor` on (the
    /// bulk sender's resumable cursor), so a kernel host never holds pf's
    /// table for a whole pass.
    fn walk_slice(
        &mut self,
        cursor: &mut TableCursor,
        budget: usize,
        visit: &mut dyn FnMut(StateView<'_>),
    ) -> bool {
        for _ in 0..budget {
            let Some(s) = self.host.next_state(cursor) else {
                return false;
            };
            if s.state_flags.contains(PFSTATE_NOSYNC) || s.timeout >= PFTM_MAX {
                continue;
            }
            visit(StateView {
                id: &s.id,
                proto: s.proto,
                timeout: s.timeout,
                src: &s.src,
                dst: &s.dst,
            });
        }
        true
    }

    fn send_frame(&mut self, buf: &mut [u8], len: usize) {
        self.engine
            .send_extension_frame(self.now, buf, len, &mut *self.host);
    }

    fn flush(&mut self) {
        self.engine.flush(self.now, &mut *self.host);
    }

    fn request_update(&mut self, id: &StateId) {
        self.engine.request_state_update(self.now, *id);
        // A repair round may ask for more than a bucket's arena holds.
        self.engine.send_if_full(self.now, id, &mut *self.host);
    }

    fn delete_state(&mut self, id: &StateId) {
        self.host.delete_state(id);
    }

    fn in_sync(&self) -> bool {
        self.engine.sync_ok()
    }

    fn pfcksum(&self) -> [u8; 16] {
        self.engine.config().ruleset_checksum
    }
}
