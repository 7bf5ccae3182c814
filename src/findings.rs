//! The one findings model that every output format renders.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    Advisories,
    Licenses,
    Bans,
    Sources,
    Profile,
}

impl Check {
    pub const ALL: [Check; 5] = [
        Check::Advisories,
        Check::Licenses,
        Check::Bans,
        Check::Sources,
        Check::Profile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Advisories => "advisories",
            Check::Licenses => "licenses",
            Check::Bans => "bans",
            Check::Sources => "sources",
            Check::Profile => "profile",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered so that `max()` over findings gives the worst one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A place in a file of the project that a finding points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Path relative to the workspace root where possible.
    pub file: String,
    /// 1-based line number.
    pub line: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: Check,
    /// Stable machine code: cargo-deny's diagnostic code, or the Cargo key for profile findings.
    pub code: String,
    pub severity: Severity,
    pub package: Option<String>,
    pub version: Option<String>,
    /// Advisory id (RUSTSEC-…) where the finding is about an advisory.
    pub id: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// How the package is reached from the workspace (default build, only with feature X, …).
    pub reach: Option<String>,
    pub url: Option<String>,
    pub location: Option<Location>,
    /// Set when an ignore entry silences this finding (it is still reported).
    pub ignored: Option<Ignored>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    pub reason: String,
    /// YYYY-MM-DD after which the ignore no longer applies.
    pub until: Option<String>,
    /// Where the ignore was declared (`Cargo.toml`, `deny.toml`, `.cargo/audit.toml`).
    pub source: String,
    /// The severity the finding had before it was silenced.
    pub severity: Severity,
}

impl Finding {
    pub fn new(
        check: Check,
        code: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        Self {
            check,
            code: code.into(),
            severity,
            package: None,
            version: None,
            id: None,
            message: message.into(),
            help: None,
            reach: None,
            url: None,
            location: None,
            ignored: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_package(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.package = Some(name.into());
        self.version = Some(version.into());
        self
    }

    /// The id ignores match on: the advisory id, else `check/code` (e.g. `profile/strip`).
    pub fn ignore_key(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.check, self.code))
    }

    pub fn with_location(mut self, file: impl Into<String>, line: Option<usize>) -> Self {
        self.location = Some(Location {
            file: file.into(),
            line,
        });
        self
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Self {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note => s.notes += 1,
            }
        }
        s
    }
}

/// Orders findings for stable output: by check, then worst first, then package and id.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.check
            .cmp(&b.check)
            .then(b.severity.cmp(&a.severity))
            .then(a.package.cmp(&b.package))
            .then(a.version.cmp(&b.version))
            .then(a.id.cmp(&b.id))
            .then(a.code.cmp(&b.code))
            .then(a.message.cmp(&b.message))
            .then(
                a.location
                    .as_ref()
                    .map(|l| (&l.file, l.line))
                    .cmp(&b.location.as_ref().map(|l| (&l.file, l.line))),
            )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_each_severity() {
        let f = |s| Finding::new(Check::Bans, "banned", s, "m");
        let s = Summary::of(&[
            f(Severity::Error),
            f(Severity::Note),
            f(Severity::Error),
            f(Severity::Warning),
        ]);
        assert_eq!(
            s,
            Summary {
                errors: 2,
                warnings: 1,
                notes: 1
            }
        );
    }

    #[test]
    fn sort_puts_errors_first_within_a_check() {
        let mut v = vec![
            Finding::new(Check::Profile, "lto", Severity::Error, "p"),
            Finding::new(Check::Advisories, "unmaintained", Severity::Warning, "w"),
            Finding::new(Check::Advisories, "vulnerability", Severity::Error, "e"),
        ];
        sort(&mut v);
        let codes: Vec<_> = v.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["vulnerability", "unmaintained", "lto"]);
    }
}
