//! Authentication as the engine's frame extension: signs on the way out,
//! verifies on the way in, and keeps the authenticated extension payload (an
//! anti-entropy message) for the host to pick up after the frame was handled.
//!
//! With no key installed it changes nothing: frames leave exactly as the
//! engine built them and arriving frames are parsed exactly as stock would
//! parse them (a signed frame's trailer lies past `len` and is ignored).

use alloc::vec::Vec;

use super::keys::KeySet;
use super::ratelimit::{Admission, LogLimiter};
use super::sign::Signer;
use super::trailer::TRAILER_LEN;
use super::verify::Verifier;
use crate::engine::ext::{FrameExtension, Rejected};
use crate::time::{Duration, Instant};

const HEADER_LEN: usize = crate::wire::Header::LEN;
/// EOF subheader as the engine writes it: action 12, count 1.
const EOF_SUBHEADER: [u8; 4] = [crate::wire::Action::Eof as u8, 0, 0, 1];
/// Largest extension payload kept for the host (one MTU).
pub const EXTENSION_MAX: usize = 9216;

pub struct FrameAuth {
    keys: KeySet,
    signer: Signer,
    verifier: Verifier,
    limiter: LogLimiter,
    extension: Vec<u8>,
    has_extension: bool,
}

impl core::fmt::Debug for FrameAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FrameAuth")
            .field("keys", &self.keys)
            .field("signer", &self.signer)
            .finish()
    }
}

impl FrameAuth {
    /// `hostid` is this node's pf hostid; `epoch` must be higher than at any
    /// earlier start of this node (docs/auth.md, "Epoch"). No key installed:
    /// authentication off. `None` if the payload buffer cannot be allocated.
    pub fn new(hostid: [u8; 4], epoch: u64) -> Option<FrameAuth> {
        let mut extension = Vec::new();
        extension.try_reserve_exact(EXTENSION_MAX).ok()?;
        Some(FrameAuth {
            keys: KeySet::new(),
            signer: Signer::new(hostid, epoch),
            verifier: Verifier::new(hostid),
            // Ten lines at once, then one per second.
            limiter: LogLimiter::new(10, Duration::from_secs(1)),
            extension,
            has_extension: false,
        })
    }

    pub fn is_enabled(&self) -> bool {
        self.keys.is_enabled()
    }

    /// The key set, to install, choose, retire or clear keys. Turning
    /// authentication on or off changes the trailer room, so the host must
    /// re-apply the engine configuration afterwards (`on_config_changed`).
    pub fn keys_mut(&mut self) -> &mut KeySet {
        &mut self.keys
    }

    /// Installs key `id` and, if it is the first key (authentication was
    /// off), signs from now on under `epoch` when that is higher than the one
    /// given at creation. A kernel module preloaded at boot is created before
    /// the wall clock is set, so its creation epoch is about the uptime and
    /// lower than what peers recorded from its previous boot; by the time an
    /// operator installs a key the clock is right.
    pub fn install_key(
        &mut self,
        id: u8,
        key: &[u8],
        epoch: u64,
    ) -> Result<(), super::keys::KeyError> {
        let first = !self.is_enabled();
        self.keys.install(id, key)?;
        if first {
            self.signer.advance_epoch(epoch);
        }
        Ok(())
    }

    pub fn signer_epoch(&self) -> u64 {
        self.signer.epoch()
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Replay state, for hosts that persist peers' epochs.
    pub fn verifier_mut(&mut self) -> &mut Verifier {
        &mut self.verifier
    }

    pub fn signed_count(&self) -> u64 {
        self.signer.signed_count()
    }

    /// Copies the extension payload of the frame accepted last into `out`
    /// and forgets it; `None` if it had none or `out` is too small.
    pub fn take_extension(&mut self, out: &mut [u8]) -> Option<usize> {
        if !core::mem::take(&mut self.has_extension) {
            return None;
        }
        let n = self.extension.len();
        out.get_mut(..n)?.copy_from_slice(&self.extension);
        Some(n)
    }

    fn keep_extension(&mut self, bytes: &[u8]) {
        self.extension.clear();
        self.has_extension = false;
        if !bytes.is_empty() && bytes.len() <= EXTENSION_MAX {
            self.extension.extend_from_slice(bytes);
            self.has_extension = true;
        }
    }
}

fn header_len(frame: &[u8]) -> Option<usize> {
    match frame.get(2..4)? {
        [hi, lo] => Some(usize::from(u16::from_be_bytes([*hi, *lo]))),
        _ => None,
    }
}

impl FrameExtension for FrameAuth {
    fn trailer_len(&self) -> usize {
        if self.is_enabled() {
            TRAILER_LEN
        } else {
            0
        }
    }

    fn seal(&mut self, _now: Instant, buf: &mut [u8], len: usize) -> Option<usize> {
        if !self.is_enabled() {
            return Some(len);
        }
        let mut used = len;
        // A stock receiver counts `badlen` when EOF is not the last byte of
        // the packet, so signed frames go without it (docs/auth.md).
        let ends_in_eof = len >= HEADER_LEN + EOF_SUBHEADER.len()
            && header_len(buf) == Some(len)
            && buf.get(len - EOF_SUBHEADER.len()..len) == Some(&EOF_SUBHEADER[..]);
        if ends_in_eof {
            used = len - EOF_SUBHEADER.len();
            let field = u16::try_from(used).ok()?.to_be_bytes();
            buf.get_mut(2..4)?.copy_from_slice(&field);
        }
        self.signer.sign(&self.keys, buf, used).ok()
    }

    fn open(&mut self, now: Instant, frame: &[u8]) -> Result<usize, Rejected> {
        if !self.is_enabled() {
            let past_len = header_len(frame)
                .and_then(|len| frame.get(len.max(HEADER_LEN)..))
                .unwrap_or(&[]);
            self.keep_extension(past_len);
            return Ok(frame.len());
        }
        match self.verifier.verify(&self.keys, frame) {
            Ok(ok) => {
                let (n, ext) = (ok.frame.len(), ok.extension);
                self.keep_extension(ext);
                Ok(n)
            }
            Err(reject) => {
                self.keep_extension(&[]);
                let log = match self.limiter.admit(now) {
                    Admission::Log { suppressed } => Some(suppressed),
                    Admission::Suppressed => None,
                };
                Err(Rejected {
                    reason: reject.as_str(),
                    log,
                })
            }
        }
    }
}
