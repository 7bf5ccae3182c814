//! Ignores that cannot rot: each has a reason and may have an end date. An ignore
//! silences its finding until that date; after it the finding is back as an error
//! that says so; an ignore that matches nothing is a stale-config warning.

use crate::error::Failure;
use crate::report::{Check, Code, Finding, Ignored, Severity};
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

/// The ignores of our own config (`ignore = [...]` in Cargo.toml).
pub fn from_config(entries: &[crate::config::IgnoreEntry]) -> Vec<Ignore> {
    entries
        .iter()
        .map(|e| Ignore {
            id: e.id.clone(),
            reason: e.reason.clone(),
            until: e.until,
            source: "Cargo.toml".into(),
            line: Some(e.line),
        })
        .collect()
}

/// cargo-audit's `.cargo/audit.toml` `[advisories] ignore = ["RUSTSEC-…"]`, for teams moving over.
pub fn from_cargo_audit(root: &Path) -> Result<Vec<Ignore>> {
    let path = root.join(".cargo/audit.toml");
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(Vec::new());
    }
    let text = crate::fsutil::read_text(&path, crate::fsutil::TEXT_LIMIT, "cargo-audit config")?;
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
        // A workflow finding can also be ignored in one file: `workflows/CODE:FILE`.
        let in_file = f.location.as_ref().map(|l| format!("{key}:{}", l.file));
        let Some((i, ig)) = ignores
            .iter()
            .enumerate()
            .find(|(_, ig)| ig.id == key || Some(&ig.id) == in_file.as_ref())
        else {
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
                    Code::IgnoreUnused,
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
            Code::advisory(cargo_deny::advisories::Code::Vulnerability),
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
        let stale = v.iter().find(|f| f.code == Code::IgnoreUnused).unwrap();
        assert_eq!(stale.severity, Severity::Warning);
        assert!(stale.message.contains("RUSTSEC-2099-0001"));
    }
}
