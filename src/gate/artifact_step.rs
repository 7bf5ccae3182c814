//! The audit's artifact part: which files, their header checks, and the packages
//! they embed matched against the advisory database and Cargo.lock.

use crate::artifact::{self, Expect};
use crate::config::ArtifactPolicy;
use crate::deps::prefetch::Background;
use crate::error::{escape, Failure};
use crate::lockfile::Lockfile;
use crate::options::{ArtifactOptions, AuditOptions};
use crate::report::{self, AuditReport, Check, Code, Finding, Severity};
use crate::shell::Shell;
use crate::workspace::Workspace;
use anyhow::Result;
use cargo_deny::advisories::DbSet;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The advisory database: loaded, or still loading after a findings-cache hit.
pub enum Db {
    Loaded(DbSet),
    Pending(Background),
}

impl Db {
    /// The set, and its description when it was loaded here (a workspace audit
    /// reports the databases it already described).
    pub(super) fn get(self) -> Result<(DbSet, Vec<report::DbInfo>)> {
        match self {
            Db::Loaded(set) => Ok((set, Vec::new())),
            Db::Pending(bg) => {
                let db = bg.wait()?.db;
                Ok((db.set, db.info))
            }
        }
    }

    /// Large and read-only: the process exit frees it faster than a teardown.
    pub fn release(self) {
        if let Db::Loaded(set) = self {
            std::mem::forget(set);
        }
    }
}

pub struct Inputs<'a> {
    pub opts: &'a ArtifactOptions,
    pub policy: &'a ArtifactPolicy,
    /// The released profile, for `--artifacts` (its directory) and for `strip`.
    pub profile: &'a str,
    pub strip: &'a str,
    /// The workspace's Cargo.lock, when there is a workspace.
    pub lockfile: Option<&'a Lockfile>,
    pub deny_ignores: &'a [(String, String)],
    /// The workspace, whose build an embedded list is compared with.
    pub workspace: Option<&'a Workspace>,
}

/// The artifacts of this workspace: `--artifact` files and, with `--artifacts`, the
/// bin targets of the selected packages.
pub fn check(
    ws: &Workspace,
    selected: &[&cargo_metadata::Package],
    inputs: &Inputs<'_>,
    db: Db,
) -> Result<Vec<Finding>> {
    let mut files: Vec<(String, PathBuf)> = inputs
        .opts
        .paths
        .iter()
        .map(|p| (ws.relative(&absolute(p)), p.clone()))
        .collect();
    let mut out = Vec::new();
    if inputs.opts.all {
        let target_dir = ws.metadata.target_directory.as_std_path();
        let built = artifact::built_binaries(
            target_dir,
            selected,
            inputs.profile,
            inputs.opts.target.as_deref(),
        );
        for (name, path) in built {
            if path.is_file() {
                files.push((ws.relative(&path), path));
                continue;
            }
            let build = match (&inputs.opts.target, inputs.profile) {
                (None, "release") => "cargo auditable build --release".to_string(),
                (Some(t), "release") => format!("cargo auditable build --release --target {t}"),
                (None, p) => format!("cargo auditable build --profile {p}"),
                (Some(t), p) => format!("cargo auditable build --profile {p} --target {t}"),
            };
            let shown = ws.relative(&path);
            out.push(
                Finding::new(
                    Check::Artifact,
                    Code::NoArtifact,
                    Severity::Error,
                    format!("bin target `{name}` has no built file at {shown}"),
                )
                .with_help(format!("build it first: `{build}`"))
                .with_location(shown, None),
            );
        }
    }
    // The workspace, every path package outside it (rustc gets those paths whole),
    // and the registry sources.
    let mut leaks = vec![ws.root.display().to_string()];
    for p in ws.metadata.packages.iter().filter(|p| p.source.is_none()) {
        if let Some(dir) = p.manifest_path.parent() {
            if !dir.as_std_path().starts_with(&ws.root) {
                leaks.push(dir.to_string());
            }
        }
    }
    leaks.extend(registry_src());
    out.extend(inspect_all(&files, inputs, leaks, db)?.0);
    Ok(out)
}

/// `audit --artifact FILE` with no Cargo.toml around: only the artifact checks, with
/// the strictest profile expectation (`strip = "symbols"`).
pub fn outside_a_workspace(opts: &AuditOptions, shell: &Shell) -> Result<AuditReport> {
    let progress = shell.progress();
    progress.step("Checking the built artifacts");
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::new(format!("could not read the current directory: {e}")))?;
    let pre = crate::deps::prefetch::Prefetch::start(&opts.check, &cwd.join("Cargo.toml"))?;
    let deny_ignores = pre.cfg.ignored.clone();
    let files: Vec<(String, PathBuf)> = opts
        .artifacts
        .paths
        .iter()
        .map(|p| (p.display().to_string(), p.clone()))
        .collect();
    let policy = ArtifactPolicy::default();
    let inputs = Inputs {
        opts: &opts.artifacts,
        policy: &policy,
        profile: "release",
        strip: "symbols",
        lockfile: None,
        deny_ignores: &deny_ignores,
        workspace: None,
    };
    let leaks = registry_src().into_iter().collect();
    let (mut found, databases) = inspect_all(&files, &inputs, leaks, Db::Pending(pre.background))?;
    crate::ignores::apply(&mut found, &[], report::today()?);
    report::sort(&mut found);
    progress.finish();
    Ok(AuditReport {
        findings: found,
        databases,
        workspace_root: cwd,
        lockfile_sha256: None,
    })
}

/// The findings of every file, and the databases used (when an artifact embeds its
/// dependency list, the database is waited for; otherwise never loaded).
fn inspect_all(
    files: &[(String, PathBuf)],
    inputs: &Inputs<'_>,
    leaks: Vec<String>,
    db: Db,
) -> Result<(Vec<Finding>, Vec<report::DbInfo>)> {
    let expect = Expect {
        strip: inputs.strip,
        leaks: leaks.into_iter().filter(|l| l.len() > 1).collect(),
    };
    let mut inspected = Vec::new();
    for (shown, path) in files {
        inspected.push(artifact::inspect(path, shown, &expect)?);
    }
    let needs_db = inspected.iter().any(|i| i.packages.is_some());
    let (dbs, infos) = if needs_db {
        let (set, info) = db.get()?;
        (Some(set), info)
    } else {
        db.release();
        (None, Vec::new())
    };
    let mut out = Vec::new();
    // The workspace's build, asked of rustc and resolved once for every artifact.
    let mut view = None;
    for a in inspected {
        out.extend(a.findings);
        match (&a.packages, &dbs) {
            (Some(packages), Some(dbs)) => {
                out.extend(embedded(&a.shown, packages, dbs, inputs));
                if let Some(ws) = inputs.workspace {
                    out.extend(compare_with_build(
                        ws, inputs, &mut view, &a.shown, packages,
                    )?);
                }
            }
            _ => out.push(no_audit_data(&a.shown, inputs.policy)),
        }
    }
    if let Some(dbs) = dbs {
        std::mem::forget(dbs);
    }
    accept(&mut out, inputs.policy);
    Ok((out, infos))
}

/// A binary without cargo-auditable's list: an error when the policy requires one.
pub(super) fn no_audit_data(shown: &str, policy: &ArtifactPolicy) -> Finding {
    let severity = if policy.require_audit_data {
        Severity::Error
    } else {
        Severity::Warning
    };
    Finding::new(
        Check::Artifact,
        Code::NoAuditData,
        severity,
        format!(
            "{shown}: no embedded dependency list, so nothing shows which crates the binary contains"
        ),
    )
    .with_help("cargo install cargo-auditable && cargo auditable build --release")
    .with_location(shown.to_string(), None)
}

/// The advisories of every embedded package, and the packages Cargo.lock does not have.
pub(super) fn embedded(
    shown: &str,
    packages: &[artifact::EmbeddedPackage],
    dbs: &DbSet,
    inputs: &Inputs<'_>,
) -> Vec<Finding> {
    let name = Path::new(shown)
        .file_name()
        .map_or(shown.to_string(), |n| n.to_string_lossy().into_owned());
    let mut out = Vec::new();
    for p in packages {
        for mut f in crate::deps::deny::advisory_findings(
            Check::Artifact,
            &p.name,
            &p.version,
            dbs,
            inputs.deny_ignores,
        ) {
            f.reach = Some(format!(
                "in artifact {name}{}",
                if p.build_only {
                    " (build-time only)"
                } else {
                    ""
                }
            ));
            out.push(f.with_location(shown.to_string(), None));
        }
        if let Some(lock) = inputs.lockfile {
            if p.from_registry && lock.line_of(&p.name, &p.version).is_none() {
                out.push(
                    Finding::new(
                        Check::Artifact,
                        Code::LockfileMismatch,
                        Severity::Error,
                        format!(
                            "{shown} embeds {} {}, which Cargo.lock does not have: the binary was not built from this lockfile",
                            p.name, p.version
                        ),
                    )
                    .with_package(p.name.clone(), p.version.clone())
                    .with_help("rebuild from this commit with `--locked`, or check that the artifact is the one you mean to ship")
                    .with_location(shown.to_string(), None),
                );
            }
        }
    }
    out
}

/// The other way round from `embedded`: what this commit's build of the binary's
/// root package compiles (its default features, this machine's build settings)
/// against the list the binary carries. A list naming fewer packages hides what
/// ships; one naming others was built from other sources or features. Either is a
/// finding: a list that cannot be compared is one too, never silence.
fn compare_with_build<'w>(
    ws: &'w Workspace,
    inputs: &Inputs<'_>,
    view: &mut Option<(crate::platform::Build, crate::unify::Index<'w>)>,
    shown: &str,
    packages: &[artifact::EmbeddedPackage],
) -> Result<Vec<Finding>> {
    let finding = |msg: String, help: &str| {
        Finding::new(
            Check::Artifact,
            Code::LockfileMismatch,
            Severity::Warning,
            msg,
        )
        .with_help(help)
        .with_location(shown.to_string(), None)
    };
    let roots: Vec<&artifact::EmbeddedPackage> = packages.iter().filter(|p| p.root).collect();
    let members = ws.metadata.workspace_packages();
    let member = match roots.as_slice() {
        [one] => members
            .iter()
            .find(|m| m.name.as_str() == one.name && m.version.to_string() == one.version),
        _ => None,
    };
    let Some(member) = member else {
        let named: Vec<String> = roots
            .iter()
            .map(|r| format!("{} {}", escape(&r.name), escape(&r.version)))
            .collect();
        return Ok(vec![finding(
            format!(
                "{shown}: its embedded dependency list's root ({}) is not one package of this workspace, so the list cannot be checked against this commit's build",
                if named.is_empty() { "none".to_string() } else { named.join(", ") }
            ),
            "audit the binary from the workspace that built it",
        )]);
    };
    let (build, index) = match view {
        Some(v) => &*v,
        None => &*view.insert((
            crate::platform::Build::here(inputs.opts.target.as_deref())?,
            crate::unify::Index::new(&ws.metadata, ws.resolver()?),
        )),
    };
    let graph = index.build(
        &[*member],
        Some(*member),
        &crate::unify::Features::default(),
        &build.target,
        &build.host,
    )?;
    let ours: BTreeSet<(String, String)> = graph
        .packages
        .values()
        .map(|(p, _)| (p.name.to_string(), p.version.to_string()))
        .collect();
    let theirs: BTreeSet<(String, String)> = packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let list = |set: Vec<&(String, String)>| {
        let mut names: Vec<String> = set
            .iter()
            .take(5)
            .map(|(n, v)| format!("{} {}", escape(n), escape(v)))
            .collect();
        if set.len() > 5 {
            names.push(format!("and {} more", set.len() - 5));
        }
        names.join(", ")
    };
    let mut out = Vec::new();
    let missing: Vec<&(String, String)> = ours.difference(&theirs).collect();
    if !missing.is_empty() {
        out.push(finding(
            format!(
                "{shown} does not list {}, which this commit's release build of `{}` compiles: the embedded list names fewer packages than the build",
                list(missing),
                member.name
            ),
            "rebuild with `cargo auditable build --release` from this commit; a list that leaves packages out hides them from every scanner",
        ));
    }
    // Registry packages Cargo.lock lacks are already their own finding (`embedded`).
    let extra: Vec<&(String, String)> = theirs
        .difference(&ours)
        .filter(|(n, v)| inputs.lockfile.is_none_or(|l| l.line_of(n, v).is_some()))
        .collect();
    if !extra.is_empty() {
        out.push(finding(
            format!(
                "{shown} lists {}, which this commit's release build of `{}` (default features) does not compile",
                list(extra),
                member.name
            ),
            "if the binary was built with other features or for another target, audit it with those; otherwise it was not built from this commit",
        ));
    }
    Ok(out)
}

/// Findings whose code the policy accepts become notes that carry the reason.
pub(super) fn accept(found: &mut [Finding], policy: &ArtifactPolicy) {
    for f in found.iter_mut() {
        if let Some(reason) = policy.accept.get(f.code.as_str()) {
            f.ignored = Some(report::Ignored {
                reason: reason.clone(),
                until: None,
                source: "Cargo.toml".into(),
                severity: f.severity,
            });
            f.severity = Severity::Note;
        }
    }
}

/// `$CARGO_HOME/registry/src/`: dependencies' sources, named in panic locations.
pub(super) fn registry_src() -> Option<String> {
    let home = crate::cargo::home()?;
    Some(format!("{}/", home.join("registry").join("src").display()))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
