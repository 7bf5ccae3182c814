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
        } else if note.starts_with("Announcement: ")
            || matches!(check, Check::Advisories | Check::Licenses)
        {
            // The advisory's long description stays in the database, the URL points
            // to it; a license's notes describe the license (OSI approved…), no fix.
        } else {
            help.push(note.clone());
        }
    }
    // Bans and licenses labels name what their span is ("lock entries", "rejected:
    // license is not explicitly allowed"): a location, not a fix. Those codes get
    // the fix here instead, or no help at all.
    for label in &d.diag.labels {
        if !label.message.is_empty()
            && !matches!(check, Check::Advisories | Check::Bans | Check::Licenses)
        {
            help.push(label.message.clone());
        }
    }
    if let Some(fix) = krate.and_then(|k| fix_for(d.code, &Subject::of(k))) {
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

    // A license finding about one of the workspace's own crates is fixed in that
    // crate's Cargo.toml, not in Cargo.lock.
    let own_manifest = krate
        .filter(|k| check == Check::Licenses && k.source.is_none())
        .map(|k| ws.relative(k.manifest_path.as_std_path()));
    if let (Some(manifest), true) = (
        own_manifest,
        d.diag
            .labels
            .first()
            .is_none_or(|l| l.file_id == spans.lock_id),
    ) {
        f = f.with_location(manifest, None);
    } else if let Some(label) = d.diag.labels.first() {
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
                // cargo-deny names the manifest it synthesises for a workspace crate
                // after the package id (`path+file:///…#0.1.0-synthesized.toml`): no
                // such file exists; the crate's own Cargo.toml is where the fix goes.
                Some(k) if k.source.is_none() && !name.as_std_path().exists() => {
                    f = f.with_location(ws.relative(k.manifest_path.as_std_path()), None);
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

/// The crate a bans or licenses diagnostic is about, as far as its fix needs.
struct Subject {
    name: String,
    license: Option<String>,
    /// A package of this workspace (a path dependency), not one from a registry.
    local: bool,
}

impl Subject {
    fn of(k: &cargo_deny::Krate) -> Subject {
        Subject {
            name: k.name.clone(),
            license: k.license.clone(),
            local: k.source.is_none(),
        }
    }
}

/// What to do about a bans or licenses diagnostic of `code`, where there is one thing
/// to do.
fn fix_for(code: Option<diag::DiagnosticCode>, k: &Subject) -> Option<String> {
    use cargo_deny::bans::Code as Ban;
    use cargo_deny::licenses::Code as Lic;
    use diag::DiagnosticCode as D;
    let name = crate::error::escape(&k.name);
    let set_license = format!(
        "set `license` (an SPDX expression such as \"MIT OR Apache-2.0\") in [package] of \
         `{name}`'s Cargo.toml, or mark it `publish = false` and set `ignore = true` in \
         deny.toml's [licenses.private]"
    );
    Some(match code? {
        D::Bans(Ban::Duplicate) => format!(
            "see what pulls in each version with `cargo tree -d -i {name}` and move those \
             dependencies to one version, or list `{name}` in deny.toml's [bans] skip"
        ),
        D::Bans(Ban::WorkspaceDuplicate) => format!(
            "depend on one version of `{name}` in every member, e.g. through \
             [workspace.dependencies] and `{name}.workspace = true`"
        ),
        D::Bans(Ban::Banned) => format!(
            "remove `{name}` (see which crate needs it with `cargo tree -i {name}`), or \
             change deny.toml's [bans] deny"
        ),
        D::License(Lic::Rejected) if k.local => format!(
            "license `{name}` under a license deny.toml's [licenses] allow lists, or add its \
             license there; or mark it `publish = false` and set `ignore = true` in [licenses.private]"
        ),
        D::License(Lic::Rejected) => match &k.license {
            Some(expr) => format!(
                "`{name}` is licensed `{}`: add a license you accept from it to deny.toml's \
                 [licenses] allow, or replace `{name}` (`cargo tree -i {name}` shows who needs it)",
                crate::error::escape(expr)
            ),
            None => format!(
                "add the license you accept for `{name}` to deny.toml's [licenses] allow, or \
                 replace it (`cargo tree -i {name}` shows who needs it)"
            ),
        },
        D::License(Lic::Unlicensed | Lic::NoLicenseField | Lic::EmptyLicenseField)
            if k.local =>
        {
            set_license
        }
        D::License(Lic::Unlicensed | Lic::NoLicenseField | Lic::EmptyLicenseField) => format!(
            "add a [[licenses.clarify]] entry for `{name}` to deny.toml with its license \
             expression and license file"
        ),
        D::License(Lic::ParseError) if k.local => format!(
            "write `license` in [package] of `{name}`'s Cargo.toml as an SPDX expression \
             (`MIT OR Apache-2.0`, not `MIT/Apache-2.0`)"
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cargo_deny::bans::Code as Ban;

    fn bans_fix(code: Option<diag::DiagnosticCode>, name: &str) -> Option<String> {
        let k = Subject {
            name: name.into(),
            license: None,
            local: false,
        };
        fix_for(code, &k)
    }

    #[test]
    fn license_findings_get_a_fix_that_fits_whose_crate_it_is() {
        use cargo_deny::licenses::Code as Lic;
        let code = |c| Some(diag::DiagnosticCode::License(c));
        let dep = Subject {
            name: "ring".into(),
            license: Some("ISC AND OpenSSL".into()),
            local: false,
        };
        let own = Subject {
            name: "vp".into(),
            license: None,
            local: true,
        };
        let rejected = fix_for(code(Lic::Rejected), &dep).unwrap();
        assert!(
            rejected.contains("licensed `ISC AND OpenSSL`"),
            "{rejected}"
        );
        assert!(rejected.contains("[licenses] allow"), "{rejected}");
        let unlicensed = fix_for(code(Lic::Unlicensed), &own).unwrap();
        assert!(unlicensed.contains("set `license`"), "{unlicensed}");
        assert!(unlicensed.contains("[licenses.private]"), "{unlicensed}");
        assert_eq!(fix_for(code(Lic::NoLicenseField), &own), Some(unlicensed));
        let clarify = fix_for(code(Lic::Unlicensed), &dep).unwrap();
        assert!(clarify.contains("[[licenses.clarify]]"), "{clarify}");
        assert_eq!(fix_for(code(Lic::LicenseNotEncountered), &dep), None);
    }

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
