//! pfsyncdump: prints pfsync frames from capture files or a live Linux
//! interface, and writes fixture captures made with the core's frame builder.

mod addr;
mod cli;
mod decode;
mod json;
mod link;
mod live;
mod names;
mod run;
mod savefile;
mod summary;
mod synth;
mod text;
mod timefmt;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pfsyncdump: {e}");
            ExitCode::FAILURE
        }
    }
}
