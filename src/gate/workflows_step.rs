//! The audit's workflow part: the repository's GitHub Actions workflows and action
//! metadata through the `workflows` engine, each hit a finding with its line and
//! column; `--fix` makes the certain edits first and judges the edited text.

use super::Step;
use crate::error::{escape, Failure};
use crate::options::{Fix, WorkflowSource};
use crate::report::{Check, Code, Finding, Severity};
use crate::workflows::{self, rule::Rule};
use anyhow::Result;

pub fn run(step: &Step<'_>, fix: Fix) -> Result<Vec<Finding>> {
    // The repository's files are named from the workspace root, as every other
    // finding's (SARIF's %SRCROOT%); a directory given by --workflows from itself.
    let (root, from_workspace) = match &step.opts.workflows {
        WorkflowSource::Off => return Ok(Vec::new()),
        WorkflowSource::Repository => (workflows::repository_root(&step.ws.root), true),
        WorkflowSource::Dir(d) => {
            if !d.is_dir() {
                return Err(Failure::new(format!(
                    "--workflows {}: not a directory",
                    escape(&d.display().to_string())
                ))
                .help("pass the directory that holds .github/workflows (a repository's top)")
                .into());
            }
            (d.clone(), false)
        }
    };
    let mut sources = workflows::read(workflows::files_of(&root)?)?;
    for src in &mut sources {
        if from_workspace {
            if let Some(rel) = crate::fsutil::relative_path(&src.path, &step.ws.root) {
                src.name = rel;
            }
        }
        if fix == Fix::No {
            continue;
        }
        let hits = workflows::check(src)?;
        let edits: Vec<_> = hits.iter().filter_map(|h| h.edit.as_ref()).collect();
        let new = workflows::fix::apply(&src.text, &edits);
        let what = hits
            .iter()
            .filter(|h| h.edit.is_some())
            .map(|h| h.rule.name())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(", ");
        if step.fix_file(fix, &src.path, &src.name, &src.text, &new, &what)? {
            src.text = new;
        }
    }
    let mut out = Vec::new();
    for (src, hits) in sources.iter().zip(workflows::check_all(&sources)?) {
        out.extend(hits.into_iter().map(|h| {
            Finding::new(
                Check::Workflows,
                Code::Workflow(h.rule),
                severity(h.rule),
                h.message,
            )
            .with_help(h.help)
            .with_position(src.name.clone(), h.line, h.col)
        }));
    }
    Ok(out)
}

/// Errors are the ways a release build is taken over; warnings weaken it.
pub fn severity(rule: Rule) -> Severity {
    match rule {
        Rule::UnpinnedUses
        | Rule::TemplateInjection
        | Rule::DangerousTriggers
        | Rule::CachePoisoning
        | Rule::Artipacked
        | Rule::PipeToShell
        | Rule::RustupPipe => Severity::Error,
        Rule::ExcessivePermissions
        | Rule::CargoInstallUnlocked
        | Rule::CargoInstallUnpinned
        | Rule::ToolchainFromRef
        | Rule::ArchivedAction
        | Rule::RegistryToken
        | Rule::ReleaseUnlockedBuild
        | Rule::ReleaseNoAudit
        | Rule::ReleaseNoVerify
        | Rule::ReleaseNoAttest => Severity::Warning,
    }
}
