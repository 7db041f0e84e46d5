//! Keeps the C ABI header the single source of truth for the Rust side.
//!
//! On every build, when libclang can be loaded, bindgen turns
//! `bindings/pfsync_core.h` into `$OUT_DIR/pfsync_core_sys.rs` and the build
//! fails if the committed `bindings/pfsync_core_sys.rs` (what `src/ffi/sys.rs`
//! includes) says anything else. The comparison is of Rust tokens, so a
//! different bindgen or prettyplease layout does not count, a changed type,
//! field, constant or prototype does.
//!
//! The committed copy is what the code compiles against so that a kernel
//! build on a machine without libclang (FreeBSD's base system has none) still
//! builds; there the check is skipped with a warning. `PFSYNC_BINDINGS`:
//!   unset        check when libclang loads, warn when it does not;
//!   `require`    fail when libclang does not load (stage 23-bindings-current);
//!   `regenerate` do not fail on a difference (scripts/gen-bindings.sh, which
//!                then copies the generated file over the committed one).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use crate::fail;

const HEADER: &str = "bindings/pfsync_core.h";
const COMMITTED: &str = "bindings/pfsync_core_sys.rs";
const GENERATED: &str = "pfsync_core_sys.rs";
/// Debian 12's libclang, the one the committed copy is generated with; used
/// when the caller has not chosen one, so that a newer LLVM installed beside
/// it does not change the output.
const PREFERRED_LIBCLANG_DIR: &str = "/usr/lib/llvm-14/lib";

#[derive(PartialEq)]
enum Mode {
    Check,
    Require,
    Regenerate,
}

pub fn check() {
    println!("cargo:rerun-if-changed={HEADER}");
    println!("cargo:rerun-if-changed={COMMITTED}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build-script");
    println!("cargo:rerun-if-env-changed=PFSYNC_BINDINGS");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");

    let mode = match env::var("PFSYNC_BINDINGS").as_deref() {
        Err(_) | Ok("") | Ok("check") => Mode::Check,
        Ok("require") => Mode::Require,
        Ok("regenerate") => Mode::Regenerate,
        Ok(other) => fail(&format!(
            "PFSYNC_BINDINGS={other}: expected check, require or regenerate"
        )),
    };

    if env::var_os("LIBCLANG_PATH").is_none() && Path::new(PREFERRED_LIBCLANG_DIR).is_dir() {
        // Build scripts run single-threaded up to here; nothing else reads the environment.
        env::set_var("LIBCLANG_PATH", PREFERRED_LIBCLANG_DIR);
    }
    if let Err(why) = clang_sys::load() {
        let message =
            format!("libclang not loadable ({why}): {COMMITTED} not checked against {HEADER}");
        if mode == Mode::Require {
            fail(&format!(
                "{message} (PFSYNC_BINDINGS=require; install libclang-14-dev)"
            ));
        }
        println!("cargo:warning={message}");
        return;
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR unset")));
    let generated = out_dir.join(GENERATED);
    let text = generate();
    if let Err(e) = fs::write(&generated, &text) {
        fail(&format!("writing {}: {e}", generated.display()));
    }

    let committed = fs::read_to_string(COMMITTED)
        .unwrap_or_else(|e| fail(&format!("reading {COMMITTED}: {e}")));
    if tokens(&committed, COMMITTED) != tokens(&text, "bindgen output") && mode != Mode::Regenerate
    {
        fail(&format!(
            "{COMMITTED} is stale: it no longer matches {HEADER}; run scripts/gen-bindings.sh \
             (bindgen's output is in {})",
            generated.display()
        ));
    }
}

/// The bindgen invocation; the committed copy is exactly its output.
fn generate() -> String {
    let bindings = bindgen::Builder::default()
        .header(HEADER)
        .raw_line("// Generated from bindings/pfsync_core.h by build.rs (bindgen). Do not edit:")
        .raw_line("// change the header and run scripts/gen-bindings.sh; every cargo build")
        .raw_line("// fails while this copy disagrees with the header.")
        .use_core()
        .ctypes_prefix("core::ffi")
        .layout_tests(false)
        .generate_comments(false)
        .allowlist_function("pfsync_rs_.*")
        .allowlist_type("pfsync_rs_.*")
        .allowlist_var("PFSYNC_RS_.*")
        .clang_args([
            "-target",
            "x86_64-unknown-freebsd14.0",
            "-ffreestanding",
            "-DPFSYNC_RS_BINDGEN",
        ])
        .generate()
        .unwrap_or_else(|e| fail(&format!("bindgen on {HEADER}: {e}")));
    bindings.to_string()
}

/// The Rust tokens of a file, comments and layout dropped.
fn tokens(text: &str, what: &str) -> String {
    let file: syn::File =
        syn::parse_str(text).unwrap_or_else(|e| fail(&format!("{what} is not Rust: {e}")));
    quote::ToTokens::to_token_stream(&file).to_string()
}
