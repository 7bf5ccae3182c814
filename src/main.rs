//! `cargo-secure-release`: parse the command line, call the library, render, exit.

use cargo_secure_release::cli::{AttestArgs, AuditArgs, Cli, Command, TagArgs, VerifyArgs};
use cargo_secure_release::options::ReportFormat;
use cargo_secure_release::shell::{self, Shell};
use cargo_secure_release::{
    attest, audit, error, init, man, output, panic_guard, sbom, tag, verify,
};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    panic_guard::install_hook();
    let cli = match Cli::try_parse_from(cargo_args()) {
        Ok(c) => c,
        Err(e) => {
            // `--help` into a full device is no success either.
            if let Err(io) = e.print() {
                let stream = match e.use_stderr() {
                    true => shell::Stream::Stderr,
                    false => shell::Stream::Stdout,
                };
                shell::record_failure(stream, io);
            }
            return exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let shell = cli.global.shell();
    let result = match &cli.command {
        Command::Audit(args) => run_audit(args, &shell),
        Command::Tag(args) => run_tag(args, &shell),
        Command::Verify(args) => run_verify(args, &shell),
        Command::Attest(args) => run_attest(args, &shell),
        Command::Init(args) => init::run(&args.options()).map(|report| {
            output::init::render(&report, &shell);
            u8::from(!report.ok())
        }),
        Command::Sbom(args) => sbom::run(&args.options(), &shell).map(|summary| {
            output::sbom::render(&summary, &shell);
            0
        }),
        Command::Completions(args) => {
            shell.out_bytes(&args.script());
            Ok(0)
        }
        Command::Man(args) => man::run(args, &shell),
    };
    let code = match result {
        Ok(code) => code,
        Err(err) => {
            let (text, code) = error::render(&err);
            shell.err(&text);
            code
        }
    };
    exit(code)
}

/// The process's exit code: `code`, unless a result could not be written, which is
/// no success: exit 2, with one line naming the stream (none for a closed pipe,
/// whose reader left on purpose).
fn exit(code: u8) -> ExitCode {
    match shell::write_failure() {
        None => ExitCode::from(code),
        Some((_, std::io::ErrorKind::BrokenPipe, _)) => ExitCode::from(2),
        Some((stream, _, why)) => {
            shell::to_stderr(&format!(
                "error: could not write to {}: {}\n  help: check the disk or device {} goes to\n",
                stream.name(),
                error::escape(&why),
                stream.name()
            ));
            ExitCode::from(2)
        }
    }
}

fn run_audit(args: &AuditArgs, shell: &Shell) -> anyhow::Result<u8> {
    let report = audit::run(&args.options(), shell)?;
    let second = args.annotations.then_some(output::Format::Github);
    output::emit(&report, args.format, args.output.as_deref(), second, shell)?;
    Ok(u8::from(report.has_errors()))
}

fn run_tag(args: &TagArgs, shell: &Shell) -> anyhow::Result<u8> {
    let report = tag::run(&args.options(), shell)?;
    let render = match args.report_format {
        ReportFormat::Human => output::tag::human,
        ReportFormat::Json => output::tag::json,
    };
    emit(&report, render, shell)?;
    Ok(0)
}

fn run_verify(args: &VerifyArgs, shell: &Shell) -> anyhow::Result<u8> {
    let opts = args.options();
    let report = match (&opts.bundle, opts.artifacts.is_empty()) {
        (Some(bundle), _) => verify::run_bundle(bundle, shell)?,
        (None, true) => verify::run(&opts, shell)?,
        (None, false) => verify::run_artifacts(&opts, shell)?,
    };
    let render = match args.format {
        ReportFormat::Human => output::verify::human,
        ReportFormat::Json => output::verify::json,
    };
    emit(&report, render, shell)?;
    Ok(u8::from(!report.good()))
}

fn run_attest(args: &AttestArgs, shell: &Shell) -> anyhow::Result<u8> {
    let report = attest::run(&args.options(), shell)?;
    let render = match args.report_format {
        ReportFormat::Human => output::attest::human,
        ReportFormat::Json => output::attest::json,
    };
    emit(&report, render, shell)?;
    Ok(0)
}

/// A report rendered whole, then written to stdout through the shell.
fn emit<R>(
    report: &R,
    render: fn(&R, &mut Vec<u8>) -> anyhow::Result<()>,
    shell: &Shell,
) -> anyhow::Result<()> {
    let mut out = Vec::new();
    render(report, &mut out)?;
    shell.out_bytes(&out);
    Ok(())
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
