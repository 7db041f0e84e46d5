//! Attacks on signed frames: every one must be refused and counted, and no
//! refused frame may reach the parser. Each test counts what it tried and how
//! many got through; `cargo test --test auth_attacks -- --nocapture` prints the
//! tallies quoted in docs/auth.md.

use pfsync::auth::{KeySet, Reject, Signer, Verifier, KEY_LEN, REPLAY_WINDOW, TRAILER_LEN};
use pfsync::wire::Error;
use proptest::prelude::*;

const NODE_A: [u8; 4] = [0x0a, 0, 0, 1];
const NODE_B: [u8; 4] = [0x0b, 0, 0, 2];
const KEY_1: [u8; KEY_LEN] = [0x11; KEY_LEN];
const KEY_2: [u8; KEY_LEN] = [0x22; KEY_LEN];

/// A plausible unsigned frame: header, one UPD_C section with `n` records, EOF.
fn plain_frame(n: u16, seed: u8) -> Vec<u8> {
    let body = 4 + 84 * usize::from(n);
    let len = 20 + body + 4;
    let mut f = vec![5, 0];
    f.extend_from_slice(&(len as u16).to_be_bytes());
    f.extend((0..16).map(|i| seed ^ i));
    f.extend_from_slice(&[4, 0]);
    f.extend_from_slice(&n.to_be_bytes());
    f.extend((0..84 * usize::from(n)).map(|i| (i as u8).wrapping_mul(seed | 1)));
    f.extend_from_slice(&[12, 0, 0, 1]);
    f
}

/// The same content as a signed frame: EOF dropped (docs/auth.md explains
/// why), header `len` adjusted, trailer appended.
fn signed_frame(signer: &mut Signer, keys: &KeySet, n: u16, seed: u8) -> Vec<u8> {
    let mut f = plain_frame(n, seed);
    f.truncate(f.len() - 4);
    let len = f.len();
    f[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    f.resize(len + TRAILER_LEN, 0);
    let total = signer.sign(keys, &mut f, len).unwrap();
    assert_eq!(total, f.len());
    f
}

/// A signed frame carrying `ext` between the header's `len` and the trailer.
fn signed_frame_with_extension(signer: &mut Signer, keys: &KeySet, ext: &[u8]) -> Vec<u8> {
    let mut f = plain_frame(1, 0x42);
    f.truncate(f.len() - 4);
    let len = f.len();
    f[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    f.extend_from_slice(ext);
    let used = f.len();
    f.resize(used + TRAILER_LEN, 0);
    assert_eq!(signer.sign(keys, &mut f, used), Ok(f.len()));
    f
}

fn keys(list: &[(u8, [u8; KEY_LEN])]) -> KeySet {
    let mut k = KeySet::new();
    for (id, key) in list {
        k.install(*id, key).unwrap();
    }
    k
}

#[derive(Default, Debug)]
struct Tally {
    tried: u64,
    accepted: u64,
    by_reason: std::collections::BTreeMap<&'static str, u64>,
}

impl Tally {
    fn record(&mut self, r: Result<pfsync::auth::Authenticated<'_>, Reject>) {
        self.tried += 1;
        match r {
            Ok(_) => self.accepted += 1,
            Err(e) => *self.by_reason.entry(e.as_str()).or_default() += 1,
        }
    }
    fn report(&self, what: &str) {
        eprintln!(
            "{what}: tried {} accepted {} {:?}",
            self.tried, self.accepted, self.by_reason
        );
    }
}

#[test]
fn genuine_frame_is_accepted_and_returns_the_frame_up_to_len() {
    let ks = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 7);
    let f = signed_frame(&mut tx, &ks, 3, 1);
    let mut rx = Verifier::new(NODE_B);
    let ok = rx.verify(&ks, &f).unwrap();
    assert_eq!(ok.frame, &f[..f.len() - TRAILER_LEN]);
    assert_eq!(
        (ok.sender, ok.epoch, ok.counter, ok.key_id),
        (NODE_A, 7, 1, 1)
    );
}

#[test]
fn modification_of_every_byte_is_refused() {
    let ks = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let mut tally = Tally::default();
    let frames = [
        signed_frame(&mut tx, &ks, 1, 3),
        signed_frame(&mut tx, &ks, 16, 3),
        signed_frame_with_extension(&mut tx, &ks, &[0x5a; 40]),
    ];
    for f in frames {
        for pos in 0..f.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = f.clone();
                bad[pos] ^= mask;
                // A fresh receiver each time: only the modification can refuse it.
                tally.record(Verifier::new(NODE_B).verify(&ks, &bad));
            }
        }
    }
    tally.report("modified byte");
    assert_eq!(tally.accepted, 0);
}

#[test]
fn truncation_and_extension_at_every_length_are_refused() {
    let ks = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let f = signed_frame(&mut tx, &ks, 4, 9);
    let mut tally = Tally::default();
    for cut in 0..f.len() {
        tally.record(Verifier::new(NODE_B).verify(&ks, &f[..cut]));
    }
    for extra in 1..=64 {
        let mut long = f.clone();
        long.resize(f.len() + extra, 0);
        tally.record(Verifier::new(NODE_B).verify(&ks, &long));
    }
    tally.report("truncated/extended");
    assert_eq!(tally.accepted, 0);
    assert_eq!(tally.tried, f.len() as u64 + 64);
}

#[test]
fn wrong_key_unknown_key_id_and_plain_frames_are_refused() {
    let ks_tx = keys(&[(1, KEY_2)]);
    let ks_rx = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let mut tally = Tally::default();
    for i in 0..200u8 {
        let f = signed_frame(&mut tx, &ks_tx, 2, i);
        let r = Verifier::new(NODE_B).verify(&ks_rx, &f);
        assert_eq!(r, Err(Reject::BadTag));
        tally.record(r);
    }
    let mut other_id = Signer::new(NODE_A, 1);
    let f = signed_frame(&mut other_id, &keys(&[(9, KEY_1)]), 2, 0);
    let r = Verifier::new(NODE_B).verify(&ks_rx, &f);
    assert_eq!(r, Err(Reject::UnknownKey));
    tally.record(r);
    let plain = plain_frame(2, 0);
    let r = Verifier::new(NODE_B).verify(&ks_rx, &plain);
    assert_eq!(r, Err(Reject::Length));
    assert_eq!(Error::from(Reject::Length), Error::BadAuth);
    tally.record(r);
    tally.report("wrong key / unknown id / plain");
    assert_eq!(tally.accepted, 0);
}

#[test]
fn forged_trailers_with_random_tags_are_refused() {
    let ks = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let template = signed_frame(&mut tx, &ks, 1, 5);
    let tag_at = template.len() - 16;
    let mut tally = Tally::default();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..20_000u64 {
        let mut f = template.clone();
        // A forger that knows everything but the key: valid layout, any counter,
        // a guessed tag.
        f[tag_at - 8..tag_at].copy_from_slice(&(i + 2).to_be_bytes());
        for b in &mut f[tag_at..] {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            *b = rng as u8;
        }
        tally.record(Verifier::new(NODE_B).verify(&ks, &f));
    }
    tally.report("forged tag");
    assert_eq!(tally.accepted, 0);
}

#[test]
fn replay_within_a_boot_is_refused_and_reordering_in_the_window_accepted() {
    let ks = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let frames: Vec<Vec<u8>> = (0..100).map(|i| signed_frame(&mut tx, &ks, 1, i)).collect();
    let mut rx = Verifier::new(NODE_B);
    // Deliver in a scrambled order (a permutation of 0..100 by a unit mod 100).
    for i in 0..100usize {
        let j = (i * 37 + 11) % 100;
        assert!(rx.verify(&ks, &frames[j]).is_ok(), "frame {j} in window");
    }
    let mut tally = Tally::default();
    for f in &frames {
        let r = rx.verify(&ks, f);
        assert_eq!(r, Err(Reject::Replayed));
        tally.record(r);
    }
    // Frames that fall out of the window are refused even if never seen.
    let late = signed_frame(&mut tx, &ks, 1, 0);
    for _ in 0..REPLAY_WINDOW {
        let f = signed_frame(&mut tx, &ks, 1, 0);
        rx.verify(&ks, &f).unwrap();
    }
    let r = rx.verify(&ks, &late);
    assert_eq!(r, Err(Reject::Replayed));
    tally.record(r);
    tally.report("replay same boot");
    assert_eq!(tally.accepted, 0);
}

#[test]
fn replay_across_a_sender_restart_is_refused() {
    let ks = keys(&[(1, KEY_1)]);
    let mut boot1 = Signer::new(NODE_A, 1000);
    let old: Vec<Vec<u8>> = (0..50)
        .map(|i| signed_frame(&mut boot1, &ks, 1, i))
        .collect();
    let mut rx = Verifier::new(NODE_B);
    for f in &old[..10] {
        rx.verify(&ks, f).unwrap();
    }
    // The sender reboots with a higher epoch; its counter starts again at 1.
    let mut boot2 = Signer::new(NODE_A, 1001);
    let new = signed_frame(&mut boot2, &ks, 1, 0);
    rx.verify(&ks, &new).unwrap();
    let mut tally = Tally::default();
    // Every frame of the old boot, seen or not (higher counters included), is refused.
    for f in &old {
        let r = rx.verify(&ks, f);
        assert_eq!(r, Err(Reject::StaleEpoch));
        tally.record(r);
    }
    // A sender whose epoch went backwards (misconfigured host) is refused too.
    let mut bad_boot = Signer::new(NODE_A, 999);
    tally.record(rx.verify(&ks, &signed_frame(&mut bad_boot, &ks, 1, 0)));
    tally.report("replay across restart");
    assert_eq!(tally.accepted, 0);
}

#[test]
fn receiver_restart_keeps_older_boots_out_when_the_epoch_was_persisted() {
    let ks = keys(&[(1, KEY_1)]);
    let mut boot1 = Signer::new(NODE_A, 10);
    let old = signed_frame(&mut boot1, &ks, 1, 0);
    let mut boot2 = Signer::new(NODE_A, 11);
    let current = signed_frame(&mut boot2, &ks, 1, 0);
    let mut rx = Verifier::new(NODE_B);
    rx.verify(&ks, &current).unwrap();
    let persisted = rx.replay_table().epoch_of(NODE_A).unwrap();

    // The receiver restarts and the host restores what it persisted.
    let mut rx = Verifier::new(NODE_B);
    assert!(rx.replay_table().seed_epoch(NODE_A, persisted));
    assert_eq!(rx.verify(&ks, &old), Err(Reject::StaleEpoch));
    // Documented limit: without a window for the current boot, the first
    // authentic frame of that boot that arrives is taken; a copy is not.
    assert!(rx.verify(&ks, &current).is_ok());
    assert_eq!(rx.verify(&ks, &current), Err(Reject::Replayed));
}

#[test]
fn key_rotation_accepts_old_and_new_then_refuses_the_retired_key() {
    let mut tx_keys = keys(&[(1, KEY_1)]);
    let mut rx_keys = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let mut rx = Verifier::new(NODE_B);
    let with_old = signed_frame(&mut tx, &tx_keys, 1, 0);
    // Step 1: every node learns the new key, still sending with the old one.
    rx_keys.install(2, &KEY_2).unwrap();
    tx_keys.install(2, &KEY_2).unwrap();
    let with_old_2 = signed_frame(&mut tx, &tx_keys, 1, 1);
    // Step 2: senders switch; receivers accept both during the overlap.
    tx_keys.set_send(2).unwrap();
    let with_new = signed_frame(&mut tx, &tx_keys, 1, 2);
    assert!(rx.verify(&rx_keys, &with_old).is_ok());
    assert!(rx.verify(&rx_keys, &with_new).is_ok());
    // Step 3: the old key is retired; frames tagged with it are refused.
    rx_keys.retire(1).unwrap();
    assert_eq!(rx.verify(&rx_keys, &with_old_2), Err(Reject::UnknownKey));
    let with_new_2 = signed_frame(&mut tx, &tx_keys, 1, 3);
    assert!(rx.verify(&rx_keys, &with_new_2).is_ok());
    // A retired key can't sign either.
    tx_keys.retire(2).unwrap();
    let mut buf = plain_frame(1, 0);
    let len = buf.len();
    buf.resize(len + TRAILER_LEN, 0);
    assert_eq!(
        tx.sign(&tx_keys, &mut buf, len),
        Err(pfsync::auth::SignError::NoSendKey)
    );
}

#[test]
fn own_frames_reflected_back_are_refused() {
    let ks = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let f = signed_frame(&mut tx, &ks, 1, 0);
    assert_eq!(
        Verifier::new(NODE_A).verify(&ks, &f),
        Err(Reject::Reflected)
    );
}

#[test]
fn signing_refuses_bad_input_without_moving_the_counter() {
    let ks = keys(&[(1, KEY_1)]);
    let mut tx = Signer::new(NODE_A, 1);
    let mut f = plain_frame(1, 0);
    let len = f.len();
    assert_eq!(
        tx.sign(&ks, &mut f, len),
        Err(pfsync::auth::SignError::NoRoom)
    );
    f.resize(len + TRAILER_LEN, 0);
    assert_eq!(
        tx.sign(&ks, &mut f, len - 1),
        Err(pfsync::auth::SignError::NotAFrame)
    );
    assert_eq!(
        tx.sign(&ks, &mut f, 3),
        Err(pfsync::auth::SignError::NotAFrame)
    );
    assert_eq!(tx.signed_count(), 0);
    assert_eq!(tx.sign(&ks, &mut f, len), Ok(len + TRAILER_LEN));
    assert_eq!(tx.signed_count(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any non-empty set of byte changes to a signed frame is refused.
    #[test]
    fn arbitrary_modifications_are_refused(
        n in 0u16..8,
        seed in any::<u8>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
    ) {
        let ks = keys(&[(1, KEY_1)]);
        let mut tx = Signer::new(NODE_A, 1);
        let f = signed_frame(&mut tx, &ks, n, seed);
        let mut bad = f.clone();
        for (at, mask) in edits {
            bad[at.index(f.len())] ^= mask;
        }
        prop_assume!(bad != f);
        prop_assert!(Verifier::new(NODE_B).verify(&ks, &bad).is_err());
    }

    /// Random bytes never authenticate, whatever their length.
    #[test]
    fn random_packets_are_refused(packet in proptest::collection::vec(any::<u8>(), 0..1600)) {
        let ks = keys(&[(1, KEY_1)]);
        prop_assert!(Verifier::new(NODE_B).verify(&ks, &packet).is_err());
    }
}
