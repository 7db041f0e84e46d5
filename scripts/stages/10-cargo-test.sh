#!/bin/sh
# Host unit, integration and doc tests of every workspace member, then the
# core's tests once more with the kernel feature, which adds src/ffi/.
set -eu
cargo test --workspace
cargo test -p pfsync --features kernel
