//! The installed authentication keys: at most two at a time, so a cluster can
//! roll from one key to the next without a moment where peers disagree.
//!
//! Write-only by construction: keys go in through [`KeySet::install`] and are
//! only ever used to compute tags inside this module tree. No method, `Debug`
//! output or error carries key bytes. Replaced and retired keys are zeroed.

use zeroize::Zeroize;

/// Key length in bytes (keyed BLAKE2b accepts 1..=64; 32 gives a 256-bit key).
pub const KEY_LEN: usize = 32;
const SLOTS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The key is not exactly [`KEY_LEN`] bytes long.
    Length,
    /// Two other keys are installed: retire one before installing a third.
    Full,
    /// No key with this id is installed.
    UnknownId,
}

struct Slot {
    id: u8,
    key: [u8; KEY_LEN],
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

#[derive(Default)]
pub struct KeySet {
    slots: [Option<Slot>; SLOTS],
    send_id: Option<u8>,
}

impl core::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut ids = self.slots.iter().flatten().map(|s| s.id);
        f.debug_struct("KeySet")
            .field("ids", &(ids.next(), ids.next()))
            .field("send_id", &self.send_id)
            .finish()
    }
}

impl KeySet {
    pub const fn new() -> Self {
        KeySet {
            slots: [None, None],
            send_id: None,
        }
    }

    /// Authentication is on as soon as one key is installed.
    pub fn is_enabled(&self) -> bool {
        self.slots.iter().any(Option::is_some)
    }

    /// Installs `key` under `id`, replacing (and zeroing) a key already under
    /// that id. A new id takes a free slot; with both slots taken it fails.
    /// The first key installed also becomes the send key.
    pub fn install(&mut self, id: u8, key: &[u8]) -> Result<(), KeyError> {
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| KeyError::Length)?;
        let slot = match self.position(id) {
            Some(i) => self.slots.get_mut(i),
            None => self.slots.iter_mut().find(|s| s.is_none()),
        }
        .ok_or(KeyError::Full)?;
        *slot = Some(Slot { id, key });
        if self.send_id.is_none() {
            self.send_id = Some(id);
        }
        Ok(())
    }

    /// Chooses which installed key signs outgoing frames.
    pub fn set_send(&mut self, id: u8) -> Result<(), KeyError> {
        self.position(id).ok_or(KeyError::UnknownId)?;
        self.send_id = Some(id);
        Ok(())
    }

    /// Removes and zeroes the key `id`; frames tagged with it are refused from
    /// now on. Retiring the send key leaves the node unable to sign until
    /// another key is chosen with [`KeySet::set_send`].
    pub fn retire(&mut self, id: u8) -> Result<(), KeyError> {
        let i = self.position(id).ok_or(KeyError::UnknownId)?;
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = None;
        }
        if self.send_id == Some(id) {
            self.send_id = None;
        }
        Ok(())
    }

    /// Removes every key: authentication off.
    pub fn clear(&mut self) {
        self.slots = [None, None];
        self.send_id = None;
    }

    pub fn send_id(&self) -> Option<u8> {
        self.send_id
    }

    pub fn has_id(&self, id: u8) -> bool {
        self.position(id).is_some()
    }

    /// The key bytes for `id`, visible only to the signing and verifying code.
    pub(super) fn key(&self, id: u8) -> Option<&[u8; KEY_LEN]> {
        self.slots
            .iter()
            .flatten()
            .find(|s| s.id == id)
            .map(|s| &s.key)
    }

    fn position(&self, id: u8) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.id == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_keys_at_most_and_first_becomes_send_key() {
        let mut ks = KeySet::new();
        assert!(!ks.is_enabled());
        ks.install(1, &[1; KEY_LEN]).unwrap();
        ks.install(2, &[2; KEY_LEN]).unwrap();
        assert_eq!(ks.send_id(), Some(1));
        assert_eq!(ks.install(3, &[3; KEY_LEN]), Err(KeyError::Full));
        ks.install(2, &[4; KEY_LEN]).unwrap();
        assert_eq!(ks.key(2), Some(&[4; KEY_LEN]));
        ks.set_send(2).unwrap();
        ks.retire(1).unwrap();
        assert!(!ks.has_id(1));
        ks.install(3, &[3; KEY_LEN]).unwrap();
        assert_eq!(ks.set_send(9), Err(KeyError::UnknownId));
        ks.retire(2).unwrap();
        assert_eq!(ks.send_id(), None);
    }

    #[test]
    fn rejects_wrong_length_and_never_prints_key_bytes() {
        let mut ks = KeySet::new();
        assert_eq!(ks.install(1, &[0; 16]), Err(KeyError::Length));
        assert_eq!(ks.install(1, &[0; 33]), Err(KeyError::Length));
        ks.install(5, &[0xab; KEY_LEN]).unwrap();
        let shown = format!("{ks:?}");
        assert!(shown.contains("send_id: Some(5)"));
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab,"));
    }
}
