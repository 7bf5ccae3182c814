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
    // A bans label names what its span is ("lock entries", "banned here"): a
    // location, not a fix. Those codes get the fix here instead.
    for label in &d.diag.labels {
        if !label.message.is_empty() && !matches!(check, Check::Advisories | Check::Bans) {
            help.push(label.message.clone());
        }
    }
    if let Some(fix) = krate.and_then(|k| bans_fix(d.code, &k.name)) {
        help.push(fix);
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

/// What to do about a bans diagnostic of `code` on the crate `name`, where there is
/// one thing to do.
fn bans_fix(code: Option<diag::DiagnosticCode>, name: &str) -> Option<String> {
    use cargo_deny::bans::Code as Ban;
    let name = crate::error::escape(name);
    Some(match code? {
        diag::DiagnosticCode::Bans(Ban::Duplicate) => format!(
            "see what pulls in each version with `cargo tree -d -i {name}` and move those \
             dependencies to one version, or list `{name}` in deny.toml's [bans] skip"
        ),
        diag::DiagnosticCode::Bans(Ban::WorkspaceDuplicate) => format!(
            "depend on one version of `{name}` in every member, e.g. through \
             [workspace.dependencies] and `{name}.workspace = true`"
        ),
        diag::DiagnosticCode::Bans(Ban::Banned) => format!(
            "remove `{name}` (see which crate needs it with `cargo tree -i {name}`), or \
             change deny.toml's [bans] deny"
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cargo_deny::bans::Code as Ban;

    #[test]
    fn bans_findings_get_a_fix_not_a_label() {
        let dup = bans_fix(Some(diag::DiagnosticCode::Bans(Ban::Duplicate)), "syn").unwrap();
        assert!(dup.contains("`cargo tree -d -i syn`"), "{dup}");
        assert!(!dup.contains("lock entries"), "{dup}");
        let ws = bans_fix(
            Some(diag::DiagnosticCode::Bans(Ban::WorkspaceDuplicate)),
            "syn",
        );
        assert!(ws.unwrap().contains("[workspace.dependencies]"));
        let banned = bans_fix(Some(diag::DiagnosticCode::Bans(Ban::Banned)), "openssl").unwrap();
        assert!(banned.contains("`cargo tree -i openssl`"), "{banned}");
        // A value echoed into a human line is escaped.
        let odd = bans_fix(
            Some(diag::DiagnosticCode::Bans(Ban::Duplicate)),
            "a\u{1b}[31m",
        )
        .unwrap();
        assert!(!odd.contains('\u{1b}'), "{odd:?}");
        assert_eq!(bans_fix(None, "syn"), None);
    }
}
