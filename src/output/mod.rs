//! Renderers: every format of a command reads the same report (`AuditReport`,
//! `VerifyReport`, `TagReport`, `InitReport`, `SbomSummary`).

pub mod attest;
pub mod github;
pub mod human;
pub mod init;
pub mod json;
pub mod sarif;
pub mod sbom;
pub mod tag;
pub mod verify;

pub use crate::options::Format;

use crate::report::AuditReport;
use crate::shell::Shell;
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// The English plural suffix for a count: "" for one, "s" otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Writes the report in `format` to stdout, or to `output` (atomically) with the
/// human report on stderr, or with a second format (`on_stdout`) on stdout.
pub fn emit(
    report: &AuditReport,
    format: Format,
    output: Option<&Path>,
    on_stdout: Option<Format>,
    shell: &Shell,
) -> Result<()> {
    if let Some(path) = output {
        let mut buf = Vec::new();
        render(report, format, &mut buf, false, shell.verbose)?;
        crate::fsutil::write_atomic(path, &String::from_utf8_lossy(&buf))?;
        if let Some(second) = on_stdout {
            // `--output FILE --annotations`: the file, and annotations for the workflow log.
            let mut out = Vec::new();
            render(report, second, &mut out, false, shell.verbose)?;
            shell.out_bytes(&out);
        } else if !shell.quiet {
            let mut err = Vec::new();
            human::render(report, &mut err, shell.stderr_color(), shell.verbose)?;
            shell.err(&String::from_utf8_lossy(&err));
        }
        // Every write says what it wrote, last, so it is not lost in the report.
        let n = report.findings.len();
        shell.status(&format!(
            "wrote {} ({n} finding{})",
            crate::error::escape(&path.display().to_string()),
            plural(n)
        ));
        return Ok(());
    }
    // Rendered whole, then written: a failed write to stdout (a closed pipe, a full
    // device) is the shell's to remember, and `main` makes it exit 2.
    let mut out = Vec::new();
    render(
        report,
        format,
        &mut out,
        shell.stdout_color(),
        shell.verbose,
    )?;
    shell.out_bytes(&out);
    Ok(())
}

fn render(
    report: &AuditReport,
    format: Format,
    out: &mut impl Write,
    color: bool,
    verbose: u8,
) -> Result<()> {
    match format {
        Format::Human => human::render(report, out, color, verbose)?,
        Format::Json => json::render(report, out)?,
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif::to_value(report))?;
            writeln!(out)?;
        }
        Format::Github => {
            github::render(report, out)?;
            human::summary(report, out, false, 0)?;
        }
    }
    Ok(())
}
