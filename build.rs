//! The core's build script: keeps the committed bindings in line with
//! `bindings/pfsync_core.h` (`build-script/bindings.rs`) and, for host
//! builds with the `kernel` feature, compiles the C test shim that calls the
//! C ABI from C (`build-script/c_abi_test.rs`). docs/build.md.

#[path = "build-script/bindings.rs"]
mod bindings;
#[path = "build-script/c_abi_test.rs"]
mod c_abi_test;

fn main() {
    bindings::check();
    c_abi_test::compile();
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
