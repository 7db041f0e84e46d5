//! Instruction counts of signing and verifying against a memcpy of the same
//! bytes, for `scripts/bench-auth-callgrind.sh` (valgrind's callgrind counts
//! instructions per function, which a loaded machine does not disturb).

use std::hint::black_box;

use pfsync::auth::{KeySet, Signer, Verifier, KEY_LEN, TRAILER_LEN};

const ROUNDS: usize = 1000;

fn frame(len: usize) -> Vec<u8> {
    let mut f: Vec<u8> = (0..len + TRAILER_LEN).map(|i| (i * 31 + 7) as u8).collect();
    f[0] = 5;
    f[1] = 0;
    f[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    f
}

/// One set of measured functions per frame size, each with its own symbol.
macro_rules! measured {
    ($copy:ident, $sign:ident, $verify:ident, $len:expr) => {
        #[inline(never)]
        fn $copy(src: &[u8], dst: &mut [u8]) {
            for _ in 0..ROUNDS {
                dst.copy_from_slice(black_box(&src[..$len]));
                black_box(&mut *dst);
            }
        }

        #[inline(never)]
        fn $sign(keys: &KeySet, signer: &mut Signer, frames: &mut [Vec<u8>]) {
            for f in frames.iter_mut() {
                black_box(signer.sign(keys, black_box(f), $len).unwrap());
            }
        }

        #[inline(never)]
        fn $verify(keys: &KeySet, verifier: &mut Verifier, frames: &[Vec<u8>]) {
            for f in frames {
                black_box(verifier.verify(keys, black_box(f)).unwrap());
            }
        }
    };
}

measured!(copy_108, sign_108, verify_108, 108);
measured!(copy_1416, sign_1416, verify_1416, 1416);

type Fns = (
    fn(&[u8], &mut [u8]),
    fn(&KeySet, &mut Signer, &mut [Vec<u8>]),
    fn(&KeySet, &mut Verifier, &[Vec<u8>]),
);

fn main() {
    let mut keys = KeySet::new();
    keys.install(1, &[0x5a; KEY_LEN]).unwrap();
    let sets: [(usize, Fns); 2] = [
        (108, (copy_108, sign_108, verify_108)),
        (1416, (copy_1416, sign_1416, verify_1416)),
    ];
    for (len, (copy, sign, verify)) in sets {
        let src = frame(len);
        let mut dst = vec![0u8; len];
        copy(&src, &mut dst);
        let mut frames: Vec<Vec<u8>> = (0..ROUNDS).map(|_| frame(len)).collect();
        sign(&keys, &mut Signer::new([0, 0, 0, 1], 1), &mut frames);
        verify(&keys, &mut Verifier::new([0, 0, 0, 2]), &frames);
    }
}
