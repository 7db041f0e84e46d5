#!/bin/sh
# Host unit, integration and doc tests of every workspace member.
set -eu
cargo test --workspace
