//! `cargo-secure-release`: parse the command line, call the library, render, exit.

use cargo_secure_release::cli::{AuditArgs, Cli, Command};
use cargo_secure_release::shell::Shell;
use cargo_secure_release::{audit, error, init, man, output, panic_guard, sbom, tag, verify};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    panic_guard::install_hook();
    let cli = match Cli::try_parse_from(cargo_args()) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let shell = cli.global.shell();
    let result = match &cli.command {
        Command::Audit(args) => run_audit(args, &shell),
        Command::Tag(args) => tag::run(&args.options(), &shell),
        Command::Verify(args) => verify::run(&args.options(), &shell),
        Command::Init(args) => init::run(&args.options(), &shell),
        Command::Sbom(args) => sbom::run(&args.options(), &shell),
        Command::Completions(args) => {
            shell.out_bytes(&args.script());
            Ok(0)
        }
        Command::Man(args) => man::run(args, &shell),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let (text, code) = error::render(&err);
            shell.err(&text);
            ExitCode::from(code)
        }
    }
}

fn run_audit(args: &AuditArgs, shell: &Shell) -> anyhow::Result<u8> {
    let report = audit::run(&args.options(), shell)?;
    let second = args.annotations.then_some(output::Format::Github);
    output::emit(
        &report,
        args.format.into(),
        args.output.as_deref(),
        second,
        shell,
    )?;
    Ok(u8::from(report.has_errors()))
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
