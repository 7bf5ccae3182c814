//! A release's binaries, for `attest` (its gate) and `verify --artifact`: the
//! executables among the release files and inside their archives (`archive`),
//! each judged as `audit --artifact` judges a file (the header checks, the
//! advisories of its embedded packages, the project's artifact policy and
//! ignores), with every package of its embedded list required in the tagged
//! Cargo.lock. The tagged tree is read from git's objects, never the work tree.

use super::artifact_step::{self, Db, Inputs};
use crate::artifact::{self, EmbeddedPackage, Expect};
use crate::config::{ArtifactPolicy, Config};
use crate::error::{escape, Failure};
use crate::lockfile::Lockfile;
use crate::options::{ArtifactOptions, CheckOptions, ManifestOptions};
use crate::report::{self, AuditReport, Check, Code, Finding, Severity};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// One executable of the release.
pub struct Binary {
    /// Its name in the attestations: the release file's name in `SHA256SUMS`, or
    /// `ARCHIVE!PATH` for a member of an archive.
    pub subject: String,
    /// As findings and messages show it (the path given, `!PATH` for a member).
    pub shown: String,
    /// The file (a member's copy in a temporary directory).
    pub path: PathBuf,
    pub sha256: String,
}

/// The executables found; the copies of archive members live as long as this.
pub struct Found {
    _dir: Option<tempfile::TempDir>,
    pub binaries: Vec<Binary>,
    /// `(file, suffix)` of each archive whose members cannot be read (`.tar.xz`…):
    /// its binaries were not found.
    pub unopened: Vec<(String, &'static str)>,
}

impl Found {
    /// A sentence per archive whose binaries were not looked at.
    pub fn unopened_notes(&self) -> Vec<String> {
        self.unopened
            .iter()
            .map(|(file, suffix)| {
                format!(
                    "{}: {suffix} archives are not opened, so the binaries inside are not checked and have no SBOM statement (.tar.gz, .tar.zst and .zip are)",
                    escape(file)
                )
            })
            .collect()
    }
}

/// A release file: where it is, its name in `SHA256SUMS`, its SHA-256.
pub struct ReleaseFile<'a> {
    pub path: &'a Path,
    pub name: &'a str,
    pub sha256: &'a str,
}

/// The executables among `files` and inside those that are archives.
pub fn find(files: &[ReleaseFile<'_>]) -> Result<Found> {
    let mut dir: Option<tempfile::TempDir> = None;
    let mut binaries = Vec::new();
    let mut unopened = Vec::new();
    for f in files {
        let shown = f.path.display().to_string();
        if let Some(kind) = crate::archive::kind(f.name) {
            if dir.is_none() {
                dir = Some(
                    tempfile::Builder::new()
                        .prefix("secure-release-archive-")
                        .tempdir()?,
                );
            }
            let Some(base) = dir.as_ref() else { continue };
            let d = base.path().join(binaries.len().to_string());
            std::fs::create_dir_all(&d)?;
            for m in crate::archive::executables(f.path, &shown, kind, &d)? {
                binaries.push(Binary {
                    subject: format!("{}!{}", f.name, m.name),
                    shown: format!("{shown}!{}", m.name),
                    path: m.path,
                    sha256: m.sha256,
                });
            }
        } else if let Some(suffix) = crate::archive::unopened(f.name) {
            unopened.push((shown, suffix));
        } else if is_executable(f.path)? {
            binaries.push(Binary {
                subject: f.name.to_string(),
                shown,
                path: f.path.to_path_buf(),
                sha256: f.sha256.to_string(),
            });
        }
    }
    Ok(Found {
        _dir: dir,
        binaries,
        unopened,
    })
}

fn is_executable(path: &Path) -> Result<bool> {
    let file = crate::fsutil::open_regular(path).map_err(|e| {
        Failure::new(format!(
            "{} cannot be read: {e}",
            escape(&path.display().to_string())
        ))
    })?;
    Ok(artifact::looks_executable(&artifact::read_head(file)?))
}

/// What the binaries are judged against.
pub struct Judge<'a> {
    /// The advisory database (`advisory_db`, `offline`) and deny.toml, found from
    /// `check.manifest.manifest_path` as `audit` finds them.
    pub check: &'a CheckOptions,
    /// The tagged tree's root Cargo.toml (its artifact policy, ignores and profile).
    pub tagged_manifest: Option<String>,
    /// The tagged tree's Cargo.lock, parsed, and the SHA-256 of its bytes.
    pub tagged_lock: &'a Lockfile,
    pub tagged_lock_sha256: String,
    pub tag: &'a str,
    /// The released profile (its `strip`).
    pub profile: &'a str,
    /// The build machine's directories that must not be in a binary.
    pub leaks: Vec<String>,
}

/// The binaries' findings, and each binary's embedded list (in `found`'s order).
pub struct Judged {
    pub report: AuditReport,
    pub lists: Vec<Option<Vec<EmbeddedPackage>>>,
}

/// Each binary judged as `audit --artifact` judges a file, every package of its
/// embedded list looked up in the tagged Cargo.lock (path and git packages too:
/// a binary of another version of the released package is not this release's).
pub fn judge(found: &Found, j: &Judge<'_>) -> Result<Judged> {
    let manifest_path = j
        .check
        .manifest
        .manifest_path
        .clone()
        .unwrap_or_else(|| "Cargo.toml".into());
    let (config, strip) = match &j.tagged_manifest {
        Some(text) => {
            let src = crate::profile::effective::Source::parse(&manifest_path, text.clone(), true)?;
            let config = Config::from_manifest(&src)?;
            let eff = crate::profile::gather_sources(src)?.resolve(j.profile)?;
            let strip = match eff.values[&crate::profile::value::Key::Strip].value {
                Ok(crate::profile::value::Canon::Str(s)) => s,
                _ => "none",
            };
            (config, strip)
        }
        // No Cargo.toml at the tag: the strictest expectation, as outside a workspace.
        None => (Config::default(), "symbols"),
    };
    let pre = crate::deps::prefetch::Prefetch::start(j.check, &manifest_path)?;
    let deny_ignores = pre.cfg.ignored.clone();
    let deny_file = pre
        .cfg
        .path
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "deny.toml".into());
    let expect = Expect {
        strip,
        leaks: j
            .leaks
            .iter()
            .cloned()
            .chain(artifact_step::registry_src())
            .filter(|l| l.len() > 1)
            .collect(),
    };
    let mut inspected = Vec::new();
    for b in &found.binaries {
        inspected.push(artifact::inspect(&b.path, &b.shown, &expect)?);
    }
    let needs_db = inspected.iter().any(|i| i.packages.is_some());
    let db = Db::Pending(pre.background);
    let (dbs, databases) = match needs_db {
        true => {
            let (set, info) = db.get()?;
            (Some(set), info)
        }
        false => {
            db.release();
            (None, Vec::new())
        }
    };
    let no_opts = ArtifactOptions::default();
    let inputs = Inputs {
        opts: &no_opts,
        policy: &config.artifact,
        profile: j.profile,
        strip,
        lockfile: Some(j.tagged_lock),
        deny_ignores: &deny_ignores,
        workspace: None,
    };
    let mut found_all = Vec::new();
    let mut lists = Vec::new();
    for a in inspected {
        found_all.extend(a.findings);
        match (&a.packages, &dbs) {
            (Some(packages), Some(dbs)) => {
                found_all.extend(artifact_step::embedded(&a.shown, packages, dbs, &inputs));
                found_all.extend(not_at_tag(&a.shown, packages, j.tagged_lock, j.tag));
            }
            _ => found_all.push(artifact_step::no_audit_data(&a.shown, &config.artifact)),
        }
        lists.push(a.packages);
    }
    if let Some(dbs) = dbs {
        std::mem::forget(dbs);
    }
    artifact_step::accept(&mut found_all, &config.artifact);
    super::mark_deny_ignores(&mut found_all, &deny_ignores, &deny_file);
    let ignores = crate::ignores::from_config(&config.ignore);
    crate::ignores::apply(&mut found_all, &ignores, report::today()?);
    report::sort(&mut found_all);
    Ok(Judged {
        report: AuditReport {
            findings: found_all,
            databases,
            workspace_root: manifest_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            lockfile_sha256: Some(j.tagged_lock_sha256.clone()),
        },
        lists,
    })
}

/// The embedded packages that are not registry packages (those are `embedded`'s)
/// and that the tagged Cargo.lock does not have.
fn not_at_tag(
    shown: &str,
    packages: &[EmbeddedPackage],
    lock: &Lockfile,
    tag: &str,
) -> Vec<Finding> {
    packages
        .iter()
        .filter(|p| !p.from_registry && lock.line_of(&p.name, &p.version).is_none())
        .map(|p| {
            Finding::new(
                Check::Artifact,
                Code::LockfileMismatch,
                Severity::Error,
                format!(
                    "{shown} embeds {} {}, which the Cargo.lock of tag `{}` does not have: the binary was not built from the tagged commit",
                    escape(&p.name),
                    escape(&p.version),
                    escape(tag)
                ),
            )
            .with_package(p.name.clone(), p.version.clone())
            .with_help("build the release from the tagged commit (`git checkout TAG && cargo auditable build --release --locked`)")
            .with_location(shown.to_string(), None)
        })
        .collect()
}

/// The packages of the binaries' lists against today's advisory database (as
/// `audit --artifact` looks them up): `verify --artifact --audit`.
pub fn audit_lists(
    check: &CheckOptions,
    lists: &[(String, Vec<EmbeddedPackage>)],
) -> Result<AuditReport> {
    let manifest_path = check
        .manifest
        .manifest_path
        .clone()
        .unwrap_or_else(|| "Cargo.toml".into());
    let pre = crate::deps::prefetch::Prefetch::start(check, &manifest_path)?;
    let deny_ignores = pre.cfg.ignored.clone();
    let (dbs, databases) = Db::Pending(pre.background).get()?;
    let policy = ArtifactPolicy::default();
    let no_opts = ArtifactOptions::default();
    let inputs = Inputs {
        opts: &no_opts,
        policy: &policy,
        profile: "release",
        strip: "none",
        lockfile: None,
        deny_ignores: &deny_ignores,
        workspace: None,
    };
    let mut found = Vec::new();
    for (shown, packages) in lists {
        found.extend(artifact_step::embedded(shown, packages, &dbs, &inputs));
    }
    std::mem::forget(dbs);
    super::mark_deny_ignores(&mut found, &deny_ignores, "deny.toml");
    report::sort(&mut found);
    Ok(AuditReport {
        findings: found,
        databases,
        workspace_root: manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        lockfile_sha256: None,
    })
}

/// `attest --artifacts`: the bin targets of the workspace's members where cargo
/// builds them for `profile` (and `target`), as `audit --artifacts` finds them; a
/// missing one is a refusal naming it and the build command.
pub fn built_binaries(
    manifest: &ManifestOptions,
    profile: &str,
    target: Option<&str>,
) -> Result<Vec<PathBuf>> {
    let ws = crate::workspace::Workspace::load(manifest)?;
    let selected = ws.selected_members(&manifest.packages)?;
    let built = artifact::built_binaries(
        ws.metadata.target_directory.as_std_path(),
        &selected,
        profile,
        target,
    );
    let mut out = Vec::new();
    for (name, path) in built {
        if !path.is_file() {
            let build = match (target, profile) {
                (None, "release") => "cargo auditable build --release".to_string(),
                (Some(t), "release") => format!("cargo auditable build --release --target {t}"),
                (None, p) => format!("cargo auditable build --profile {p}"),
                (Some(t), p) => format!("cargo auditable build --profile {p} --target {t}"),
            };
            return Err(Failure::new(format!(
                "bin target `{}` has no built file at {}; nothing was written",
                escape(&name),
                escape(&ws.relative(&path))
            ))
            .help(format!("build it first: `{build}`"))
            .refusal()
            .into());
        }
        out.push(path);
    }
    if out.is_empty() {
        return Err(
            Failure::new("--artifacts: the workspace has no bin targets to attest")
                .help("name the release's files: `cargo secure-release attest dist/*.tar.gz`")
                .into(),
        );
    }
    Ok(out)
}
