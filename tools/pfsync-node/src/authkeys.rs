//! The authentication key file (`--auth-key-file`) and the sender epoch.
//!
//! Format (docs/auth.md, "Hosts"): one or two lines `ID:HEX`, `ID` a key id
//! 0..=255 in decimal, `HEX` 64 hex digits (a 32-byte key). Blank lines and
//! lines starting with `#` are ignored. The first key signs unless the
//! operator chooses another one (`auth-send`).
//!
//! Key bytes never leave this module except into the engine's write-only
//! `KeySet`; every buffer that held them is zeroed, and no error message
//! quotes a line of the file (only its line number).

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use pfsync::auth::{KeySet, KEY_LEN};
use zeroize::Zeroizing;

/// Largest key file read (two keys with comments fit easily).
const MAX_FILE_LEN: u64 = 4096;
const MAX_KEYS: usize = 2;

pub struct KeyFile {
    /// Key ids in file order; the first is the default send key.
    pub ids: Vec<u8>,
    keys: Vec<Zeroizing<[u8; KEY_LEN]>>,
}

impl KeyFile {
    /// Reads and checks the file: not readable or writable by others, at
    /// most [`MAX_KEYS`] well-formed lines with distinct ids.
    pub fn read(path: &Path) -> Result<KeyFile, String> {
        let shown = path.display();
        let mut file = fs::File::open(path).map_err(|e| format!("auth key file {shown}: {e}"))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("auth key file {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("auth key file {shown}: not a regular file"));
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "auth key file {shown}: mode {:04o} lets group or others read or change it; chmod 600",
                mode & 0o7777
            ));
        }
        if meta.len() > MAX_FILE_LEN {
            return Err(format!(
                "auth key file {shown}: larger than {MAX_FILE_LEN} bytes"
            ));
        }
        let mut text = Zeroizing::new(String::new());
        file.by_ref()
            .take(MAX_FILE_LEN)
            .read_to_string(&mut text)
            .map_err(|e| format!("auth key file {shown}: {e}"))?;
        parse(&text).map_err(|e| format!("auth key file {shown}: {e}"))
    }

    /// A key set holding these keys, signing with `send` if given and
    /// present, else with the first key of the file.
    pub fn key_set(&self, send: Option<u8>) -> Result<KeySet, String> {
        let mut set = KeySet::new();
        for (id, key) in self.ids.iter().zip(&self.keys) {
            set.install(*id, &key[..])
                .map_err(|e| format!("key {id}: {e:?}"))?;
        }
        let chosen = send
            .filter(|id| self.ids.contains(id))
            .or(self.ids.first().copied());
        if let Some(id) = chosen {
            set.set_send(id).map_err(|e| format!("key {id}: {e:?}"))?;
        }
        Ok(set)
    }
}

fn parse(text: &str) -> Result<KeyFile, String> {
    let mut out = KeyFile {
        ids: Vec::new(),
        keys: Vec::new(),
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let lineno = n + 1;
        let (id, hex) = line
            .split_once(':')
            .ok_or(format!("line {lineno}: expected ID:HEX"))?;
        let id: u8 = id
            .trim()
            .parse()
            .map_err(|_| format!("line {lineno}: key id must be 0..=255"))?;
        let key = parse_key(hex.trim()).ok_or(format!(
            "line {lineno}: key must be {} hex digits",
            2 * KEY_LEN
        ))?;
        if out.ids.contains(&id) {
            return Err(format!("line {lineno}: key id {id} appears twice"));
        }
        if out.ids.len() == MAX_KEYS {
            return Err(format!("line {lineno}: at most {MAX_KEYS} keys"));
        }
        out.ids.push(id);
        out.keys.push(key);
    }
    if out.ids.is_empty() {
        return Err("no key in the file".into());
    }
    Ok(out)
}

fn parse_key(hex: &str) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let digits = hex.as_bytes();
    if digits.len() != 2 * KEY_LEN {
        return None;
    }
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    for (byte, pair) in key.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *byte = (hi * 16 + lo) as u8;
    }
    Some(key)
}

/// Where the last epoch used with `key_file` is kept.
pub fn epoch_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".epoch");
    PathBuf::from(name)
}

/// The sender epoch for this start: `CLOCK_REALTIME` in nanoseconds
/// (docs/auth.md), raised above the epoch persisted by the previous start so
/// that a clock stepped backwards cannot make our new frames look like an
/// old boot's. The chosen value is persisted; failing to persist is reported
/// but not fatal (the clock alone still gives a rising epoch).
pub fn next_epoch(key_file: &Path, realtime_ns: u64) -> (u64, Option<String>) {
    let path = epoch_path(key_file);
    let previous = fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let epoch = match previous {
        Some(p) if p >= realtime_ns => p.saturating_add(1),
        _ => realtime_ns.max(1),
    };
    let warning = fs::write(&path, format!("{epoch}\n"))
        .err()
        .map(|e| format!("could not persist the epoch in {}: {e}", path.display()));
    (epoch, warning)
}

/// Where peers' epochs are kept between runs of this node.
pub fn peers_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".peers");
    PathBuf::from(name)
}

/// Peers' epochs persisted by the previous run (lines `HOSTID EPOCH`, both
/// hex/decimal as written by [`write_peer_epochs`]); unreadable or malformed
/// lines are skipped: the file only ever narrows what is accepted.
pub fn read_peer_epochs(key_file: &Path) -> Vec<([u8; 4], u64)> {
    let Ok(text) = fs::read_to_string(peers_path(key_file)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let (host, epoch) = line.trim().split_once(' ')?;
            let host = u32::from_str_radix(host, 16).ok()?;
            Some((host.to_be_bytes(), epoch.trim().parse().ok()?))
        })
        .take(pfsync::auth::REPLAY_SENDERS)
        .collect()
}

pub fn write_peer_epochs(key_file: &Path, peers: &[([u8; 4], u64)]) -> std::io::Result<()> {
    let text: String = peers
        .iter()
        .map(|(host, epoch)| format!("{:08x} {epoch}\n", u32::from_be_bytes(*host)))
        .collect();
    fs::write(peers_path(key_file), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "0101010101010101010101010101010101010101010101010101010101010101";
    const K2: &str = "abcdefABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123";

    #[test]
    fn one_or_two_keys_first_signs() {
        let f = parse(&format!("# cluster key\n7:{K1}\n\n9:{K2}\n")).unwrap();
        assert_eq!(f.ids, vec![7, 9]);
        let set = f.key_set(None).unwrap();
        assert_eq!(set.send_id(), Some(7));
        assert!(set.has_id(9));
        assert_eq!(f.key_set(Some(9)).unwrap().send_id(), Some(9));
        // A send id no longer in the file falls back to the first key.
        assert_eq!(f.key_set(Some(3)).unwrap().send_id(), Some(7));
    }

    #[test]
    fn malformed_files_are_refused_without_quoting_keys() {
        let bad = [
            String::new(),
            "# only a comment\n".to_string(),
            format!("{K1}\n"),
            format!("256:{K1}\n"),
            format!("1:{}\n", &K1[..62]),
            format!("1:{K1}00\n"),
            format!("1:{}zz\n", &K1[..62]),
            format!("1:{K1}\n1:{K2}\n"),
            format!("1:{K1}\n2:{K2}\n3:{K1}\n"),
        ];
        for text in &bad {
            let err = parse(text).err().expect(text);
            assert!(
                !err.contains(&K1[..16]) && !err.contains(&K2[..16]),
                "{err}"
            );
        }
    }

    #[test]
    fn world_readable_file_is_refused_and_epoch_rises() {
        let dir = std::env::temp_dir().join(format!("pfsync-node-keys-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        fs::write(&path, format!("1:{K1}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeyFile::read(&path).err().unwrap();
        assert!(err.contains("chmod 600"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(KeyFile::read(&path).unwrap().ids, vec![1]);

        let (first, w) = next_epoch(&path, 1_000);
        assert_eq!((first, w), (1_000, None));
        // The clock went backwards: the persisted epoch still rises.
        assert_eq!(next_epoch(&path, 500).0, 1_001);
        assert_eq!(next_epoch(&path, 5_000).0, 5_000);

        let peers = [([10, 0, 0, 1], 77u64), ([11, 0, 0, 2], u64::MAX)];
        write_peer_epochs(&path, &peers).unwrap();
        assert_eq!(read_peer_epochs(&path), peers.to_vec());
        fs::write(peers_path(&path), "zz 1\n0b000002 x\n0a000001 5\n").unwrap();
        assert_eq!(read_peer_epochs(&path), vec![([10, 0, 0, 1], 5)]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
