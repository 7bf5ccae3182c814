//! `cargo secure-release audit`: every release blocker in one pass, as a plan over
//! the audit engine (`gate`): find the manifest, open a session, run it. The
//! outputs render the report.

use crate::gate::{self, Session};
use crate::options::{AuditOptions, Fix};
use crate::report::AuditReport;
use crate::shell::Shell;
use anyhow::Result;

pub fn run(opts: &AuditOptions, shell: &Shell) -> Result<AuditReport> {
    let progress = shell.progress();
    progress.step(crate::workspace::READING);
    let manifest =
        match crate::workspace::resolve_manifest_path(opts.check.manifest.manifest_path.as_deref())
        {
            Ok(m) => m,
            Err(_)
                if opts.check.manifest.manifest_path.is_none()
                    && !opts.artifacts.paths.is_empty() =>
            {
                return gate::artifacts_only(opts, shell);
            }
            Err(e) => return Err(e),
        };
    // `--fix --dry-run` writes nothing, not even a missing Cargo.lock.
    let mut check = opts.check.clone();
    check.manifest.locked |= matches!(opts.fix, Fix::DryRun { .. });
    let session = Session::open(&check, manifest, &progress)?;
    // Said before any cache can answer: the write happened either way.
    if let Some(note) = session.workspace().lockfile_note() {
        progress.suspend(|| shell.status(&format!("note: {note}")));
    }
    let (report, ws) = session.run(opts.fix, &opts.artifacts, &progress, shell)?;
    progress.finish();
    ws.release();
    Ok(report)
}
