//! `cargo-secure-release`: parse the command line, dispatch, map the outcome to an exit code.

mod audit;
mod cache;
mod cli;
mod error;
mod findings;
mod fsutil;
mod ignores;
mod init;
mod lockfile;
mod output;
mod panic_guard;
mod profile;
mod progress;
mod reach;
mod signer;
mod tag;
mod verify;
mod workspace;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    panic_guard::install_hook();
    let cli = match cli::Cli::try_parse_from(cargo_args()) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match &cli.command {
        cli::Command::Audit(args) => audit::run(args, &cli.global),
        cli::Command::Tag(args) => tag::run(args, &cli.global),
        cli::Command::Verify(args) => verify::run(args),
        cli::Command::Init(args) => init::run(args, &cli.global),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let (text, code) = error::render(&err);
            eprint!("{text}");
            ExitCode::from(code)
        }
    }
}

/// Cargo runs us as `cargo-secure-release secure-release <command> …`; drop that word
/// so both `cargo secure-release audit` and `cargo-secure-release audit` parse.
fn cargo_args() -> Vec<std::ffi::OsString> {
    let mut args: Vec<_> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "secure-release") {
        args.remove(1);
    }
    args
}
