//! `cargo secure-release audit`: every release blocker in one pass.

pub mod advisory_db;
pub mod deny;
pub mod prefetch;
mod profile_step;

use crate::cli::{AuditArgs, CheckArgs, Format, GlobalArgs};
use crate::error::Failure;
use crate::findings::{self, Check, Finding, Severity};
use crate::lockfile::Lockfile;
use crate::progress::Progress;
use crate::reach::ReachIndex;
use crate::workspace::Workspace;
use advisory_db::DbInfo;
use anyhow::Result;

/// Everything an audit found, ready for any output format.
pub struct AuditReport {
    pub findings: Vec<Finding>,
    pub databases: Vec<DbInfo>,
    pub workspace_root: std::path::PathBuf,
}

impl AuditReport {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

pub fn run(args: &AuditArgs, global: &GlobalArgs) -> Result<u8> {
    let progress = Progress::new(global.quiet, global.verbose);
    progress.step("Reading the workspace (cargo metadata)");
    let manifest =
        crate::workspace::resolve_manifest_path(args.check.manifest.manifest_path.as_deref())?;
    let pre = prefetch::Prefetch::start(&args.check, &manifest)?;
    // cargo's own error comes first: it is usually the one to fix first.
    let ws = Workspace::load_resolved(&args.check.manifest, manifest)?;
    let fix = match (args.fix, args.dry_run) {
        (false, _) => Fix::No,
        (true, false) => Fix::Write,
        (true, true) => Fix::DryRun {
            diff_to_stdout: args.format == Format::Human,
        },
    };
    let report = audit(&ws, &args.check, pre, fix, &progress)?;
    progress.finish();
    crate::output::emit(&report, args.format, args.output.as_deref(), global)?;
    Ok(if report.has_errors() { 1 } else { 0 })
}

/// What `--fix` should do with the release profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    No,
    Write,
    DryRun { diff_to_stdout: bool },
}

/// The audit proper, on an already-loaded workspace (also used by `tag`).
pub fn audit(
    ws: &Workspace,
    args: &CheckArgs,
    pre: prefetch::Prefetch,
    fix: Fix,
    progress: &Progress,
) -> Result<AuditReport> {
    let selected = ws.selected_members(&args.manifest.packages)?;
    let all_selected = args.manifest.packages.is_empty();

    // The profile check is cheap and --fix must not wait on the advisory database.
    progress.step("Checking the release profile");
    let profile = profile_step::run(ws, &selected, args, fix)?;

    let prefetch::Prefetch {
        mut files,
        cfg,
        background,
    } = pre;
    let lock_bytes = std::fs::read(ws.lockfile_path()).map_err(|e| {
        Failure::new(format!(
            "could not read {}: {e}",
            ws.lockfile_path().display()
        ))
        .help("run `cargo generate-lockfile` and commit Cargo.lock")
    })?;
    let lockfile = Lockfile::parse(&String::from_utf8_lossy(&lock_bytes));
    let max_staleness_days = cfg.advisories.maximum_db_staleness.value.as_secs() / 86_400;
    let deny_ignores = cfg.ignored.clone();
    let deny_file = cfg
        .path
        .as_deref()
        .map(|p| ws.relative(p))
        .unwrap_or_else(|| "deny.toml".into());
    let has_config = cfg.path.is_some();

    progress.step("Looking up the findings cache");
    let key = (!args.no_cache)
        .then(|| cache_key(ws, args, &cfg, &lock_bytes, &lockfile))
        .flatten();
    let cached = key.as_deref().and_then(crate::cache::load);
    let (mut found, databases) = match cached {
        Some(entry) => {
            // The background load is not needed; it ends with the process.
            drop(background);
            (entry.findings, {
                let mut dbs = entry.databases;
                dbs.iter_mut().for_each(DbInfo::refresh_age);
                dbs
            })
        }
        None => {
            progress.step("Loading the advisory database");
            let loaded = background.wait()?;
            // Cargo.lock was read early from a guessed location; trust it only if the guess was right.
            let yanked = match &loaded.lockfile {
                Some((path, _)) if *path == ws.lockfile_path() => loaded.yanked,
                _ => None,
            };
            progress.step("Building the dependency graph");
            let krates = deny::build_krates(ws, &cfg, &selected, all_selected)?;
            let db = loaded.db;
            let mut found = deny::run_checks(
                deny::CheckInputs {
                    ws,
                    cfg,
                    krates: &krates,
                    dbs: Some(&db.set),
                    lockfile: &lockfile,
                    license_store: loaded.license_store,
                    yanked,
                },
                &mut files,
                progress,
            )?;
            found.extend(deny::lockfile_only_advisories(
                &lockfile,
                &krates,
                &db.set,
                &deny_ignores,
            ));
            progress.step("Classifying how vulnerable packages are reached");
            annotate_reach(ws, &selected, &mut found);
            if let Some(k) = &key {
                crate::cache::store(k, &found, &db.info);
            }
            // Large, read-only, and released by process exit anyway (1,200 memory-mapped
            // advisories, the graph): tearing them down piece by piece costs time for nothing.
            std::mem::forget(db.set);
            std::mem::forget(krates);
            (found, db.info)
        }
    };
    std::mem::forget(files);
    found.extend(profile.findings);

    if !has_config {
        found.push(
            Finding::new(
                Check::Licenses,
                "no-config",
                Severity::Note,
                "licenses were not judged: the project has no deny.toml with a license allow-list",
            )
            .with_help(
                "scaffold a deny.toml with the licenses in use: `cargo secure-release init --deny`",
            ),
        );
    }
    for info in &databases {
        if let Some(age) = info.age_days {
            if age > max_staleness_days as i64 {
                found.push(
                    Finding::new(
                        Check::Advisories,
                        "stale-database",
                        Severity::Warning,
                        format!(
                            "the advisory database is {age} days old (newest advisory {}), older than maximum-db-staleness ({max_staleness_days} days)",
                            info.newest_advisory.as_deref().unwrap_or("unknown")
                        ),
                    )
                    .with_help("update the database (run without --offline, or refresh the --advisory-db copy)"),
                );
            }
        }
    }

    mark_deny_ignores(&mut found, &deny_ignores, &deny_file);
    let mut ignores =
        crate::ignores::from_metadata(&ws.metadata, &ws.root_manifest(), &profile.manifest_text)?;
    ignores.extend(crate::ignores::from_cargo_audit(&ws.root)?);
    crate::ignores::apply(&mut found, &ignores, crate::ignores::today()?);
    for f in &mut found {
        if f.location.is_none() {
            let line = match (&f.package, &f.version) {
                (Some(p), Some(v)) => lockfile.line_of(p, v).map(|l| ("Cargo.lock", l)),
                _ => None,
            };
            let (file, line) = line.unwrap_or(("Cargo.toml", 1));
            *f = f.clone().with_location(file, Some(line));
        }
    }

    findings::sort(&mut found);
    Ok(AuditReport {
        findings: found,
        databases,
        workspace_root: ws.root.clone(),
    })
}

/// Everything the dependency findings depend on. None when an input cannot be
/// fingerprinted cheaply (a path crate whose license comes from its license files).
fn cache_key(
    ws: &Workspace,
    args: &CheckArgs,
    cfg: &deny::DenyConfig,
    lock_bytes: &[u8],
    lockfile: &Lockfile,
) -> Option<String> {
    let unlicensed_local = ws.metadata.packages.iter().any(|p| {
        p.source.is_none()
            && p.license.as_deref().is_none_or(str::is_empty)
            && !p.publish.as_ref().is_some_and(|r| r.is_empty())
    });
    if unlicensed_local && cfg.path.is_some() {
        return None;
    }
    let mut k = crate::cache::Key::new();
    k.part("metadata", &ws.metadata_hash);
    k.part("Cargo.lock", lock_bytes);
    match &cfg.path {
        Some(p) => {
            k.part("deny.toml path", p.as_os_str().as_encoded_bytes());
            k.part("deny.toml", &std::fs::read(p).ok()?);
        }
        None => k.part("deny.toml", b"none"),
    }
    k.part("packages", args.manifest.packages.join("\n").as_bytes());
    k.part("offline", &[u8::from(args.manifest.offline())]);
    match &args.advisory_db {
        Some(dir) => {
            k.part("db", dir.as_os_str().as_encoded_bytes());
            k.tree("db files", dir);
        }
        None => k.tree("db files", cfg.advisories.db_path.as_std_path()),
    }
    if !cfg.advisories.disable_yank_checking {
        let home = crate::workspace::cargo_home()?;
        k.part("cargo home", home.as_os_str().as_encoded_bytes());
        for p in lockfile.packages.iter().filter(|p| {
            p.source
                .as_deref()
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        }) {
            for path in crate::cache::index_cache_paths(&home, &p.name) {
                k.stat("index", &path);
            }
        }
    }
    Some(k.finish())
}

/// cargo-deny reports an ignored advisory twice (an `advisory-ignored` note and the
/// advisory at note level); fold that into one finding that carries its ignore.
fn mark_deny_ignores(found: &mut Vec<Finding>, ignores: &[(String, String)], file: &str) {
    found.retain(|f| f.code != "advisory-ignored");
    for f in found.iter_mut() {
        let Some(id) = &f.id else { continue };
        if let Some((_, reason)) = ignores.iter().find(|(i, _)| i == id) {
            if f.severity == Severity::Note && f.ignored.is_none() {
                f.ignored = Some(crate::findings::Ignored {
                    reason: reason.clone(),
                    until: None,
                    source: file.to_string(),
                    severity: Severity::Error,
                });
            }
        }
    }
}

/// Says, for each advisory finding about a package, how that package is built.
fn annotate_reach(ws: &Workspace, roots: &[&cargo_metadata::Package], found: &mut [Finding]) {
    let idx: Vec<usize> = found
        .iter()
        .enumerate()
        .filter(|(_, f)| f.check == Check::Advisories && f.package.is_some() && f.version.is_some())
        .map(|(i, _)| i)
        .collect();
    if idx.is_empty() {
        return;
    }
    let reach = ReachIndex::new(&ws.metadata, roots);
    let targets: Vec<(&str, &str)> = idx
        .iter()
        .map(|i| {
            let f = &found[*i];
            (
                f.package.as_deref().unwrap_or(""),
                f.version.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let classes = reach.classify(&targets);
    for (i, class) in idx.into_iter().zip(classes) {
        found[i].reach = Some(class.describe());
    }
}
