#!/bin/sh
# Lints as errors, once as the host build sees the crate and once with the
# kernel feature so that src/ffi/ is linted too.
set -eu
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --features pfsync/kernel -- -D warnings
