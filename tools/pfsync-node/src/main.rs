//! pfsync-node: the pfsync-rs engine on Linux raw sockets.
//!
//! `pfsync-node run` is one "firewall": the engine, a model pf state table
//! standing in for pf, IP protocol 240 on a sync interface, and a JSON-lines
//! control socket through which tests create, update and delete states, read
//! the table and the counters, and reconfigure. `pfsync-node ctl` is the
//! matching client, so shell scripts need nothing else.

mod authkeys;
mod cli;
mod clock;
mod control;
mod fault;
mod host;
mod node;
mod signals;
mod state_json;
mod transport;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Run(args) => match node::run(*args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pfsync-node: {e}");
                ExitCode::FAILURE
            }
        },
        cli::Command::Ctl(args) => {
            let wait = Duration::from_secs_f64(args.wait.max(0.0));
            match control::run_client(&args.control, &args.requests, wait) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("pfsync-node ctl: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
