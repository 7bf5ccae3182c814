//! The report model that every output format renders: findings, their codes, the
//! databases an audit used. A leaf: it imports nothing of the commands.

pub mod attest;
pub mod init;
pub mod sbom;
pub mod tag;
pub mod verify;

use crate::error::Failure;
use crate::profile::value::Key as ProfileKey;
use crate::workflows::rule::Rule as WorkflowRule;
use cargo_deny::diag::DiagnosticCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    Advisories,
    Licenses,
    Bans,
    Sources,
    Profile,
    Artifact,
    Workflows,
}

impl Check {
    pub const ALL: [Check; 7] = [
        Check::Advisories,
        Check::Licenses,
        Check::Bans,
        Check::Sources,
        Check::Profile,
        Check::Artifact,
        Check::Workflows,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::Advisories => "advisories",
            Check::Licenses => "licenses",
            Check::Bans => "bans",
            Check::Sources => "sources",
            Check::Profile => "profile",
            Check::Artifact => "artifact",
            Check::Workflows => "workflows",
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
    /// 1-based column (in characters), where the finding knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: Check,
    /// Stable machine code: cargo-deny's diagnostic code, or one of ours.
    pub code: Code,
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
    pub fn new(check: Check, code: Code, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            check,
            code,
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
            column: None,
        });
        self
    }

    pub fn with_position(mut self, file: impl Into<String>, line: usize, column: usize) -> Self {
        self.location = Some(Location {
            file: file.into(),
            line: Some(line),
            column: Some(column),
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

/// A finding's machine code: cargo-deny's own diagnostic codes, and ours. The JSON
/// carries its kebab-case string; SARIF rules take their description and help URL
/// from here, so a rule never depends on which of its findings came first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    Deny(DiagnosticCode),
    /// A cargo-deny diagnostic that carries no code.
    Diagnostic,
    /// deny.toml is missing, so licenses were not judged.
    NoConfig,
    StaleDatabase,
    IgnoreUnused,
    /// A `[profile]` table in a member manifest, which Cargo ignores.
    MemberProfile,
    /// A release-profile rule on this key is not met.
    Profile(ProfileKey),
    // Built artifacts (`audit --artifact`).
    NotPie,
    ExecStack,
    NoRelro,
    LazyBinding,
    Rpath,
    NotStripped,
    NoAslr,
    NoHighEntropyVa,
    NoDep,
    NoCfg,
    PathLeak,
    NoAuditData,
    AmbiguousAuditData,
    LockfileMismatch,
    NoArtifact,
    /// A workflow rule (`audit`'s workflow check).
    Workflow(WorkflowRule),
}

impl Code {
    /// Our codes other than those of the artifact checks.
    const GENERAL: [Code; 5] = [
        Code::Diagnostic,
        Code::NoConfig,
        Code::StaleDatabase,
        Code::IgnoreUnused,
        Code::MemberProfile,
    ];

    /// The codes of `audit --artifact` findings.
    pub const ARTIFACT: [Code; 15] = [
        Code::NotPie,
        Code::ExecStack,
        Code::NoRelro,
        Code::LazyBinding,
        Code::Rpath,
        Code::NotStripped,
        Code::NoAslr,
        Code::NoHighEntropyVa,
        Code::NoDep,
        Code::NoCfg,
        Code::PathLeak,
        Code::NoAuditData,
        Code::AmbiguousAuditData,
        Code::LockfileMismatch,
        Code::NoArtifact,
    ];

    /// Every code of ours (not cargo-deny's).
    pub fn ours() -> impl Iterator<Item = Code> {
        Code::GENERAL
            .into_iter()
            .chain(ProfileKey::ALL.map(Code::Profile))
            .chain(Code::ARTIFACT)
            .chain(WorkflowRule::ALL.map(Code::Workflow))
    }

    pub fn advisory(c: cargo_deny::advisories::Code) -> Code {
        Code::Deny(DiagnosticCode::Advisory(c))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Deny(c) => c.as_str(),
            Code::Diagnostic => "diagnostic",
            Code::NoConfig => "no-config",
            Code::StaleDatabase => "stale-database",
            Code::IgnoreUnused => "ignore-unused",
            Code::MemberProfile => "member-profile",
            Code::Profile(k) => k.name(),
            Code::NotPie => "not-pie",
            Code::ExecStack => "exec-stack",
            Code::NoRelro => "no-relro",
            Code::LazyBinding => "lazy-binding",
            Code::Rpath => "rpath",
            Code::NotStripped => "not-stripped",
            Code::NoAslr => "no-aslr",
            Code::NoHighEntropyVa => "no-high-entropy-va",
            Code::NoDep => "no-dep",
            Code::NoCfg => "no-cfg",
            Code::PathLeak => "path-leak",
            Code::NoAuditData => "no-audit-data",
            Code::AmbiguousAuditData => "ambiguous-audit-data",
            Code::LockfileMismatch => "lockfile-mismatch",
            Code::NoArtifact => "no-artifact",
            Code::Workflow(r) => r.name(),
        }
    }

    /// What any finding with this code means, independent of the finding.
    pub fn description(self) -> &'static str {
        match self {
            Code::Deny(c) => c.description(),
            Code::Diagnostic => "A cargo-deny diagnostic without a code",
            Code::NoConfig => "Licenses were not judged: the project has no deny.toml",
            Code::StaleDatabase => "The advisory database is older than maximum-db-staleness",
            Code::IgnoreUnused => "An ignore entry matches no finding",
            Code::MemberProfile => "A member manifest has a [profile] table, which Cargo ignores",
            Code::Profile(k) => k.description(),
            Code::NotPie => "The executable is not position-independent, so ASLR cannot move it",
            Code::ExecStack => "The executable's stack is executable",
            Code::NoRelro => "The executable has no RELRO: relocations stay writable",
            Code::LazyBinding => "Partial RELRO: symbols are bound lazily (no BIND_NOW)",
            Code::Rpath => "The executable sets RPATH or RUNPATH",
            Code::NotStripped => {
                "The artifact keeps symbols or debug info the released profile strips"
            }
            Code::NoAslr => "The PE image has no ASLR (DYNAMIC_BASE)",
            Code::NoHighEntropyVa => "The 64-bit PE image has no high-entropy ASLR",
            Code::NoDep => "The PE image has no DEP (NX_COMPAT)",
            Code::NoCfg => "The PE image has no Control Flow Guard",
            Code::PathLeak => "The artifact contains the build machine's absolute paths",
            Code::NoAuditData => "The artifact has no embedded dependency list (cargo auditable)",
            Code::AmbiguousAuditData => {
                "The artifact has more than one embedded dependency list: which one describes it is unknown"
            }
            Code::LockfileMismatch => {
                "The artifact embeds a package version that Cargo.lock does not have"
            }
            Code::NoArtifact => "A bin target has no built file to check",
            Code::Workflow(r) => r.description(),
        }
    }

    /// Where the code is documented.
    pub fn help_url(self) -> String {
        let deny = |check: &str, code: &str| {
            format!("https://embarkstudios.github.io/cargo-deny/checks/{check}/diags.html#{code}")
        };
        match self {
            Code::Deny(c @ DiagnosticCode::Advisory(_)) => deny("advisories", c.as_str()),
            Code::Deny(c @ DiagnosticCode::Bans(_)) => deny("bans", c.as_str()),
            Code::Deny(c @ DiagnosticCode::License(_)) => deny("licenses", c.as_str()),
            Code::Deny(c @ DiagnosticCode::Source(_)) => deny("sources", c.as_str()),
            Code::Deny(DiagnosticCode::General(_)) => {
                "https://embarkstudios.github.io/cargo-deny/checks/cfg.html".into()
            }
            // Ours: one anchor each in docs/codes.md.
            _ => crate::docs::code(self.as_str()),
        }
    }

    pub fn parse(s: &str) -> Option<Code> {
        Code::ours().find(|c| c.as_str() == s).or_else(|| {
            DiagnosticCode::iter()
                .find(|c| c.as_str() == s)
                .map(Code::Deny)
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s = String::deserialize(d)?;
        Code::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown code `{s}`")))
    }
}

/// Everything an audit found, ready for any output format.
pub struct AuditReport {
    pub findings: Vec<Finding>,
    pub databases: Vec<DbInfo>,
    pub workspace_root: PathBuf,
    /// SHA-256 (hex) of the Cargo.lock bytes the audit judged; None outside a
    /// workspace. `tag` attests this hash, so what it attests is what was audited.
    pub lockfile_sha256: Option<String>,
}

impl AuditReport {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// What the report says about an advisory database the audit used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DbInfo {
    pub path: String,
    pub url: Option<String>,
    /// Git commit of the database checkout, when it is one.
    pub commit: Option<String>,
    /// Date of the newest advisory in the database (YYYY-MM-DD).
    pub newest_advisory: Option<String>,
    /// Days between the newest advisory (or last fetch) and today.
    pub age_days: Option<i64>,
    pub advisories: usize,
    /// The snapshot this binary embeds stood in for the configured database (no
    /// route to it, or offline with no cached copy).
    #[serde(default)]
    pub embedded: bool,
}

impl DbInfo {
    /// Days from the newest advisory to today (`CARGO_SECURE_RELEASE_TODAY` pins today).
    /// Recomputed whenever a description is reused, since the age changes daily.
    pub fn refresh_age(&mut self) {
        let today = today().unwrap_or_else(|_| jiff::Zoned::now().date());
        self.age_days = self
            .newest_advisory
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .map(|newest| i64::from((today - newest).get_days()));
    }
}

/// "Today" for expiry and database age: `CARGO_SECURE_RELEASE_TODAY=YYYY-MM-DD` pins
/// it (for tests and reproducible CI runs); otherwise the local date.
pub fn today() -> anyhow::Result<jiff::civil::Date> {
    match std::env::var("CARGO_SECURE_RELEASE_TODAY") {
        Ok(v) => v.parse().map_err(|e| {
            Failure::new(format!(
                "CARGO_SECURE_RELEASE_TODAY=`{}` is not a YYYY-MM-DD date: {e}",
                crate::error::escape(&v)
            ))
            .help("unset it, or set it like 2026-01-31")
            .into()
        }),
        Err(_) => Ok(jiff::Zoned::now().date()),
    }
}

/// Orders findings for stable output: by check, then worst first, then package and id.
pub fn sort(findings: &mut [Finding]) {
    fn place(f: &Finding) -> Option<(&String, Option<usize>, Option<usize>)> {
        f.location.as_ref().map(|l| (&l.file, l.line, l.column))
    }
    findings.sort_by(|a, b| {
        a.check
            .cmp(&b.check)
            .then(b.severity.cmp(&a.severity))
            .then(a.package.cmp(&b.package))
            .then(a.version.cmp(&b.version))
            .then(a.id.cmp(&b.id))
            .then(a.code.as_str().cmp(b.code.as_str()))
            // A workflow rule's findings read down each file.
            .then(
                if a.check == Check::Workflows && b.check == Check::Workflows {
                    place(a).cmp(&place(b))
                } else {
                    std::cmp::Ordering::Equal
                },
            )
            .then(a.message.cmp(&b.message))
            .then(
                a.location
                    .as_ref()
                    .map(|l| (&l.file, l.line, l.column))
                    .cmp(&b.location.as_ref().map(|l| (&l.file, l.line, l.column))),
            )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use cargo_deny::advisories::Code as AdvCode;
    use cargo_deny::bans::Code as BansCode;

    #[test]
    fn summary_counts_each_severity() {
        let f = |s| {
            Finding::new(
                Check::Bans,
                Code::Deny(DiagnosticCode::Bans(BansCode::Banned)),
                s,
                "m",
            )
        };
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
            Finding::new(
                Check::Profile,
                Code::Profile(ProfileKey::Lto),
                Severity::Error,
                "p",
            ),
            Finding::new(
                Check::Advisories,
                Code::advisory(AdvCode::Unmaintained),
                Severity::Warning,
                "w",
            ),
            Finding::new(
                Check::Advisories,
                Code::advisory(AdvCode::Vulnerability),
                Severity::Error,
                "e",
            ),
        ];
        sort(&mut v);
        let codes: Vec<_> = v.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["vulnerability", "unmaintained", "lto"]);
    }
}
