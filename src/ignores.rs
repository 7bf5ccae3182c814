//! Ignores that cannot rot: each has a reason and may have an end date. An ignore
//! silences its finding until that date; after it the finding is back as an error
//! that says so; an ignore that matches nothing is a stale-config warning.

use crate::error::Failure;
use crate::findings::{Check, Finding, Ignored, Severity};
use anyhow::Result;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub id: String,
    pub reason: String,
    pub until: Option<jiff::civil::Date>,
    /// Where it was declared, relative to the workspace root.
    pub source: String,
    pub line: Option<usize>,
}

/// "Today" for expiry: `CARGO_SECURE_RELEASE_TODAY=YYYY-MM-DD` pins it (for tests and
/// reproducible CI runs); otherwise the local date.
pub fn today() -> Result<jiff::civil::Date> {
    match std::env::var("CARGO_SECURE_RELEASE_TODAY") {
        Ok(v) => v.parse().map_err(|e| {
            Failure::new(format!(
                "CARGO_SECURE_RELEASE_TODAY=`{v}` is not a YYYY-MM-DD date: {e}"
            ))
            .help("unset it, or set it like 2026-01-31")
            .into()
        }),
        Err(_) => Ok(jiff::Zoned::now().date()),
    }
}

/// `[workspace.metadata.secure-release] ignore = [...]`, else the root package's.
pub fn from_metadata(
    meta: &cargo_metadata::Metadata,
    root_manifest: &Path,
    manifest_text: &str,
) -> Result<Vec<Ignore>> {
    let Some(list) = crate::workspace::secure_release_setting(meta, root_manifest, "ignore") else {
        return Ok(Vec::new());
    };
    let bad = |what: String| -> anyhow::Error {
        Failure::new(format!(
            "{}: secure-release `ignore` {what}",
            root_manifest.display()
        ))
        .help("write entries as { id = \"RUSTSEC-…\", reason = \"why\", until = \"YYYY-MM-DD\" }")
        .into()
    };
    let items = list
        .as_array()
        .ok_or_else(|| bad("must be an array".into()))?;
    let mut out = Vec::new();
    for item in items {
        let id = item
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad(format!("entry {item} has no `id`")))?;
        let line = manifest_text
            .lines()
            .position(|l| l.contains(&format!("\"{id}\"")))
            .map(|i| i + 1);
        let at = line
            .map(|l| format!(" (Cargo.toml:{l})"))
            .unwrap_or_default();
        let reason = item
            .get("reason")
            .and_then(|v| v.as_str())
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| {
                bad(format!(
                    "entry `{id}`{at} has no `reason`: say why it is safe to ignore"
                ))
            })?;
        let until = match item.get("until") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| s.parse::<jiff::civil::Date>().ok())
                    .ok_or_else(|| {
                        bad(format!(
                            "entry `{id}`{at}: `until = {v}` is not a YYYY-MM-DD date"
                        ))
                    })?,
            ),
        };
        out.push(Ignore {
            id: id.to_string(),
            reason: reason.to_string(),
            until,
            source: "Cargo.toml".into(),
            line,
        });
    }
    Ok(out)
}

/// cargo-audit's `.cargo/audit.toml` `[advisories] ignore = ["RUSTSEC-…"]`, for teams moving over.
pub fn from_cargo_audit(root: &Path) -> Result<Vec<Ignore>> {
    let path = root.join(".cargo/audit.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let doc = toml_edit::Document::parse(text.clone()).map_err(|e| {
        let line = e
            .span()
            .map(|s| crate::profile::effective::line_of(&text, s.start))
            .unwrap_or(1);
        Failure::new(format!(
            "{}:{line}: invalid TOML: {}",
            path.display(),
            e.message().lines().next().unwrap_or("")
        ))
        .help("fix the TOML at that line")
    })?;
    let Some(arr) = doc
        .get("advisories")
        .and_then(|a| a.get("ignore"))
        .and_then(|i| i.as_array())
    else {
        return Ok(Vec::new());
    };
    Ok(arr
        .iter()
        .filter_map(|v| {
            let id = v.as_str()?.to_string();
            let line = v
                .span()
                .map(|s| crate::profile::effective::line_of(&text, s.start));
            Some(Ignore {
                id,
                reason: "listed in .cargo/audit.toml (cargo-audit)".into(),
                until: None,
                source: ".cargo/audit.toml".into(),
                line,
            })
        })
        .collect())
}

/// Applies ignores to findings: silences live ones, revives expired ones as errors,
/// and reports ignores that matched nothing.
pub fn apply(findings: &mut Vec<Finding>, ignores: &[Ignore], today: jiff::civil::Date) {
    let mut used = vec![false; ignores.len()];
    for f in findings.iter_mut() {
        if f.ignored.is_some() {
            continue;
        }
        let key = f.ignore_key();
        let Some((i, ig)) = ignores.iter().enumerate().find(|(_, ig)| ig.id == key) else {
            continue;
        };
        used[i] = true;
        match ig.until {
            Some(until) if until < today => {
                f.severity = Severity::Error;
                f.message = format!(
                    "{} — the ignore expired on {until} (reason: {})",
                    f.message, ig.reason
                );
                f.help = Some(format!(
                    "fix it, or extend `until` in {}{} with a new reason",
                    ig.source,
                    ig.line.map(|l| format!(":{l}")).unwrap_or_default()
                ));
            }
            _ => {
                f.ignored = Some(Ignored {
                    reason: ig.reason.clone(),
                    until: ig.until.map(|d| d.to_string()),
                    source: ig.source.clone(),
                    severity: f.severity,
                });
                f.severity = Severity::Note;
            }
        }
    }
    for (ig, used) in ignores.iter().zip(used) {
        if !used {
            findings.push(
                Finding::new(
                    Check::Advisories,
                    "ignore-unused",
                    Severity::Warning,
                    format!(
                        "ignore entry `{}` matches no finding: stale configuration",
                        ig.id
                    ),
                )
                .with_help(
                    "remove the entry (the advisory no longer applies, or the crate is gone)",
                )
                .with_location(ig.source.clone(), ig.line),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Finding {
        let mut f = Finding::new(
            Check::Advisories,
            "vulnerability",
            Severity::Error,
            "Potential segfault",
        );
        f.id = Some("RUSTSEC-2020-0071".into());
        f
    }

    fn ignore(until: Option<&str>) -> Ignore {
        Ignore {
            id: "RUSTSEC-2020-0071".into(),
            reason: "not reachable".into(),
            until: until.map(|d| d.parse().unwrap()),
            source: "Cargo.toml".into(),
            line: Some(9),
        }
    }

    fn day(s: &str) -> jiff::civil::Date {
        s.parse().unwrap()
    }

    #[test]
    fn live_ignore_silences_but_keeps_the_finding() {
        let mut v = vec![finding()];
        apply(&mut v, &[ignore(Some("2026-12-31"))], day("2026-12-31"));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].severity, Severity::Note);
        let ig = v[0].ignored.as_ref().unwrap();
        assert_eq!(ig.until.as_deref(), Some("2026-12-31"));
        assert_eq!(ig.severity, Severity::Error);
    }

    #[test]
    fn expired_ignore_brings_the_error_back_with_the_reason() {
        let mut v = vec![finding()];
        apply(&mut v, &[ignore(Some("2026-01-01"))], day("2026-01-02"));
        assert_eq!(v[0].severity, Severity::Error);
        assert!(v[0].ignored.is_none());
        assert!(
            v[0].message
                .contains("the ignore expired on 2026-01-01 (reason: not reachable)"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn ignore_without_date_never_expires_and_unused_ones_warn() {
        let mut v = vec![finding()];
        let mut other = ignore(None);
        other.id = "RUSTSEC-2099-0001".into();
        apply(&mut v, &[ignore(None), other], day("2100-01-01"));
        assert_eq!(v[0].severity, Severity::Note);
        let stale = v.iter().find(|f| f.code == "ignore-unused").unwrap();
        assert_eq!(stale.severity, Severity::Warning);
        assert!(stale.message.contains("RUSTSEC-2099-0001"));
    }
}
