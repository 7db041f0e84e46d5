#!/bin/sh
# Builds the Rust core as a static library for the FreeBSD amd64 kernel target
# (targets/x86_64-unknown-freebsd-kernel.json) and prints the library's path.
# core, alloc and compiler_builtins are rebuilt from source for that target
# (-Zbuild-std), which needs a rustc with its matching library source:
#   Linux: Debian's rustc-web + rust-web-src (the defaults below);
#   FreeBSD: a nightly toolchain with rust-src (set RUSTC and CARGO, or have
#   them first on PATH).
# The root crate is rlib-only in Cargo.toml; `cargo rustc --crate-type
# staticlib` asks for the archive for this build alone.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
spec=$top/targets/x86_64-unknown-freebsd-kernel.json
target_dir=$top/target/kernel

if [ "$(uname)" = FreeBSD ]; then
    : "${RUSTC:=rustc}" "${CARGO:=cargo}"
else
    : "${RUSTC:=/usr/bin/rustc}" "${CARGO:=/usr/bin/cargo}"
fi
export RUSTC
# -Z flags on a release toolchain.
export RUSTC_BOOTSTRAP=1

cd "$top"
# compiler_builtins in many codegen units: the linker then pulls in only the
# intrinsics the core really calls instead of one object holding all of them.
"$CARGO" rustc --release --lib --crate-type staticlib --features kernel \
    -Zbuild-std=core,alloc,compiler_builtins -Zjson-target-spec \
    --config 'profile.release.package.compiler_builtins.codegen-units=10000' \
    --target "$spec" --target-dir "$target_dir" >&2

echo "$target_dir/x86_64-unknown-freebsd-kernel/release/libpfsync.a"
