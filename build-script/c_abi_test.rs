//! The C test shim (`tests/c/abi_from_c.c`): the core's pure entry points
//! called from C through `bindings/pfsync_core.h`, run by
//! `src/ffi/c_abi_tests.rs`. Built with the `cc` crate, with the warnings the
//! kernel build gives the shim (`kmod/cwarnings`, as errors), by the compiler
//! the kernel build uses when it is installed. Only host builds with the
//! `kernel` feature need it; the kernel target itself (`target_os = "none"`)
//! never links it.

use std::env;
use std::fs;
use std::process::Command;

use crate::fail;

const SOURCE: &str = "tests/c/abi_from_c.c";
const WARNINGS: &str = "kmod/cwarnings";
const KERNEL_CC: &str = "clang-14";

pub fn compile() {
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-changed={WARNINGS}");
    println!("cargo:rerun-if-env-changed=CC");
    let kernel_feature = env::var_os("CARGO_FEATURE_KERNEL").is_some();
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if !kernel_feature || target_os == "none" {
        return;
    }

    let warnings =
        fs::read_to_string(WARNINGS).unwrap_or_else(|e| fail(&format!("reading {WARNINGS}: {e}")));
    let mut build = cc::Build::new();
    build
        .file(SOURCE)
        .include("bindings")
        // The kernel's set below and nothing else: cc's -Wall stays (the
        // kernel has it too), its -Wextra goes; `warnings(false)` would add -w.
        .warnings(true)
        .extra_warnings(false)
        .cargo_warnings(false);
    for flag in warnings.split_whitespace() {
        build.flag(flag);
    }
    if env::var_os("CC").is_none() && runs(KERNEL_CC) {
        build.compiler(KERNEL_CC);
    }
    if let Err(e) = build.try_compile("pfsync_c_abi_test") {
        fail(&format!("{SOURCE}: {e}"));
    }
}

fn runs(compiler: &str) -> bool {
    Command::new(compiler)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
