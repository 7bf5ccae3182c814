//! cargo-deny's diagnostics as our findings: the package, advisory id, URL and
//! solution, and a location inside the repository.

use crate::lockfile::Lockfile;
use crate::report::{Check, Code, Finding, Severity};
use crate::workspace::Workspace;
use cargo_deny::diag::{self, Files};

pub fn convert(
    check: Check,
    d: diag::Diag,
    krates: &cargo_deny::Krates,
    spans: &diag::KrateSpans<'_>,
    files: &Files,
    ws: &Workspace,
    lockfile: &Lockfile,
) -> Finding {
    use codespan_reporting::files::Files as _;
    let severity = match d.diag.severity {
        diag::Severity::Bug | diag::Severity::Error => Severity::Error,
        diag::Severity::Warning => Severity::Warning,
        diag::Severity::Note | diag::Severity::Help => Severity::Note,
    };
    let code = d.code.map_or(Code::Diagnostic, Code::Deny);
    let mut f = Finding::new(check, code, severity, d.diag.message.clone());

    let krate = d
        .graph_nodes
        .first()
        .and_then(|n| krates.nid_for_kid(&n.kid))
        .map(|nid| &krates[nid]);
    if let Some(k) = krate {
        f = f.with_package(k.name.clone(), k.version.to_string());
    }

    let mut help = Vec::new();
    for note in &d.diag.notes {
        if let Some(id) = note.strip_prefix("ID: ") {
            f.id = Some(id.to_string());
        } else if let Some(url) = note.strip_prefix("Advisory: ") {
            f.url = Some(url.to_string());
        } else if let Some(sol) = note.strip_prefix("Solution: ") {
            help.push(sol.to_string());
        } else if note.starts_with("Announcement: ") || check == Check::Advisories {
            // The advisory's long description stays in the database; the URL points to it.
        } else {
            help.push(note.clone());
        }
    }
    for label in &d.diag.labels {
        if !label.message.is_empty() && check != Check::Advisories {
            help.push(label.message.clone());
        }
    }
    if !help.is_empty() {
        f.help = Some(help.join("; "));
    }
    // A stale ignore in deny.toml: the diagnostic's label is on the id; say which.
    use cargo_deny::advisories::Code as Adv;
    let about_an_ignore = [
        Adv::AdvisoryNotDetected,
        Adv::UnknownAdvisory,
        Adv::YankedNotDetected,
    ]
    .iter()
    .any(|c| f.code == Code::advisory(*c));
    if about_an_ignore && f.id.is_none() {
        let quoted = d.diag.labels.first().and_then(|l| {
            let text = files.source(l.file_id).get(l.range.clone())?;
            Some(
                text.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                    .to_string(),
            )
        });
        if let Some(id) = quoted.filter(|q| !q.is_empty()) {
            f.message = format!("{}: `{}`", f.message, crate::error::escape(&id));
            f.help = Some("remove it from deny.toml's [advisories] ignore, or check the id".into());
        }
    }

    if let Some(label) = d.diag.labels.first() {
        if label.file_id == spans.lock_id {
            if let Some(k) = krate {
                let line = lockfile.line_of(&k.name, &k.version.to_string());
                f = f.with_location("Cargo.lock", line);
            }
        } else if let Ok(name) = files.name(label.file_id) {
            let inside = name.as_std_path().starts_with(&ws.root) || name.is_relative();
            match krate {
                // A dependency's own Cargo.toml lives in the registry cache, outside the
                // repository: point at its Cargo.lock entry instead.
                Some(k) if !inside => {
                    let line = lockfile.line_of(&k.name, &k.version.to_string());
                    f = f.with_location("Cargo.lock", line);
                }
                _ => {
                    let line = files
                        .line_index(label.file_id, label.range.start)
                        .ok()
                        .map(|l| l + 1);
                    f = f.with_location(ws.relative(name.as_std_path()), line);
                }
            }
        }
    } else if let Some(k) = krate {
        let line = lockfile.line_of(&k.name, &k.version.to_string());
        f = f.with_location("Cargo.lock", line);
    }
    f
}
