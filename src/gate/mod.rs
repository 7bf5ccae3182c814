//! The audit engine: one `Session` per audit, for `audit`, `tag`'s gate and
//! `verify --audit` alike. A session reads the workspace (with deny.toml and the
//! advisory database started meanwhile), then runs the steps over it: the profile,
//! the dependency findings (cached or computed by cargo-deny), the artifacts, the
//! database notes, then ignores. Callers get an `AuditReport`, never the steps.

mod artifact_step;
mod profile_step;
pub mod release;
mod workflows_step;

use crate::config::Config;
use crate::deps::{advisory_db, deny, pending, prefetch, snapshot};
use crate::error::Failure;
use crate::lockfile::Lockfile;
use crate::options::{ArtifactOptions, AuditOptions, CheckOptions, Fix};
use crate::profile::effective::Source;
use crate::reach::ReachIndex;
use crate::report::{self, AuditReport, Check, Code, DbInfo, Finding, Severity};
use crate::shell::{Progress, Shell};
use crate::workspace::Workspace;
use anyhow::Result;
use std::path::PathBuf;

/// One audit of one workspace, between reading it and judging it: callers look at
/// the workspace and its settings (`tag` names its tag from them) before `run`.
pub struct Session {
    ws: Workspace,
    config: Config,
    root_manifest: Source,
    pre: prefetch::Prefetch,
    check: CheckOptions,
}

impl Session {
    /// Reads the workspace at `manifest` as `check` says (a fingerprint record's
    /// answer when nothing changed and the cache may be read), with deny.toml read
    /// and the advisory database loading meanwhile, then the project's settings.
    pub fn open(check: &CheckOptions, manifest: PathBuf, progress: &Progress) -> Result<Session> {
        crate::cache::set_use(check.cache);
        let mut pre = prefetch::Prefetch::start(check, &manifest)?;
        let ws = load_workspace(check, manifest, &mut pre)?;
        progress.relabel(ws.read_label());
        Session::with(check, ws, pre)
    }

    /// A session on a workspace read by the caller (the library's tests read a
    /// committed `cargo metadata` JSON, without cargo).
    pub fn on(check: &CheckOptions, ws: Workspace) -> Result<Session> {
        crate::cache::set_use(check.cache);
        let pre = prefetch::Prefetch::start(check, &ws.manifest_path)?;
        Session::with(check, ws, pre)
    }

    fn with(check: &CheckOptions, ws: Workspace, pre: prefetch::Prefetch) -> Result<Session> {
        let (config, root_manifest) = Config::load(&ws.root_manifest())?;
        Ok(Session {
            ws,
            config,
            root_manifest,
            pre,
            check: check.clone(),
        })
    }

    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// The project's settings, parsed once for the session and its caller.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The audit proper; the workspace comes back for a caller that has more to do
    /// with it without running cargo again.
    pub fn run(
        self,
        fix: Fix,
        artifacts: &ArtifactOptions,
        progress: &Progress,
        shell: &Shell,
    ) -> Result<(AuditReport, Workspace)> {
        let step = Step {
            ws: &self.ws,
            opts: &self.check,
            progress,
            shell,
        };
        let report = step.audit(self.config, self.root_manifest, self.pre, fix, artifacts)?;
        Ok((report, self.ws))
    }
}

/// `--artifact FILE` outside any workspace: only the artifact checks run.
pub fn artifacts_only(opts: &AuditOptions, shell: &Shell) -> Result<AuditReport> {
    crate::cache::set_use(opts.check.cache);
    artifact_step::outside_a_workspace(opts, shell)
}

/// The workspace for an audit: the fingerprint record's answer when nothing changed;
/// else cargo's, with the advisory database loading meanwhile and, for an audit of
/// every member, the dependency graph started on cargo's JSON before our own parse
/// (the findings cache most likely misses when cargo had to run).
fn load_workspace(
    check: &CheckOptions,
    manifest: std::path::PathBuf,
    pre: &mut prefetch::Prefetch,
) -> Result<Workspace> {
    if check.cache.reads() {
        if let Some(ws) = Workspace::recorded(&check.manifest, &manifest) {
            return Ok(ws);
        }
    }
    pre.background.start(true);
    pre.license_store = deny::license_store_beside_cargo(&pre.cfg);
    // With `-p`, the graph needs our parse to find the members: it starts in `audit`.
    let all_selected = check.manifest.packages.is_empty();
    let mut graph = None;
    let ws = Workspace::load_recording(&check.manifest, manifest, check.cache.writes(), |json| {
        if all_selected {
            graph = Some(deny::graph(json.clone(), &pre.cfg, None, true));
        }
    })?;
    pre.graph = graph;
    Ok(ws)
}

/// What every step of one audit shares.
struct Step<'a> {
    ws: &'a Workspace,
    opts: &'a CheckOptions,
    progress: &'a Progress,
    shell: &'a Shell,
}

impl Step<'_> {
    /// `--fix`'s one way to change a file: with --dry-run its diff (on stdout for the
    /// human report, else stderr), otherwise the atomic write and a status line that
    /// says what it wrote. True when the file was written.
    fn fix_file(
        &self,
        fix: Fix,
        path: &std::path::Path,
        shown: &str,
        old: &str,
        new: &str,
        what: &str,
    ) -> Result<bool> {
        match fix {
            Fix::No => Ok(false),
            _ if new == old => Ok(false),
            Fix::DryRun { diff_to_stdout } => {
                let d = crate::profile::fix::diff(old, new, shown);
                if diff_to_stdout {
                    self.shell.out(&d);
                } else {
                    self.shell.err(&d);
                }
                Ok(false)
            }
            Fix::Write => {
                crate::fsutil::write_atomic(path, new)?;
                self.shell.status(&format!(
                    "fixed {}: {what}",
                    crate::error::escape(&path.display().to_string())
                ));
                Ok(true)
            }
        }
    }

    fn audit(
        &self,
        config: Config,
        root_manifest: Source,
        mut pre: prefetch::Prefetch,
        fix: Fix,
        artifacts: &ArtifactOptions,
    ) -> Result<AuditReport> {
        let ws = self.ws;
        let selected = ws.selected_members(&self.opts.manifest.packages)?;
        // When cargo had to run, the findings cache most likely misses too: start the
        // graph (and the license store, if needed) now. After a fingerprint hit they
        // are built only if the findings cache misses.
        let early = !ws.cargo_spared;
        let members = (!self.opts.manifest.packages.is_empty()).then(|| {
            selected
                .iter()
                .map(|p| p.manifest_path.clone().into_std_path_buf())
                .collect()
        });
        let graph = match pre.graph.take() {
            Some(g) => g,
            None => deny::graph(ws.json(), &pre.cfg, members, early),
        };
        let store = match pre.license_store.take() {
            Some(s) => Some(s),
            None => deny::license_store(ws, &pre.cfg, early),
        };
        let later = (graph, store);

        // The profile check is cheap and --fix must not wait on the advisory database.
        self.progress.step("Checking the release profile");
        let profile = profile_step::run(self, &selected, &config, root_manifest, fix)?;
        // --fix rewrote the manifest: read the settings (and their lines) again.
        let config = match profile.rewritten {
            Some(src) => Config::from_manifest(&src)?,
            None => config,
        };

        self.progress.step("Checking the workflows");
        let workflow_findings = workflows_step::run(self, fix)?;
        self.progress.step("Reading Cargo.lock");

        // cargo-deny's warnings about deny.toml (deprecated keys…), with its labels.
        if let (Some(w), false) = (&pre.cfg.warnings, self.shell.quiet) {
            self.shell.err(w);
        }

        let lock_bytes = ws.read_lockfile("run `cargo generate-lockfile` and commit Cargo.lock")?;
        let lockfile = Lockfile::parse(&String::from_utf8_lossy(&lock_bytes));
        let deny_ignores = pre.cfg.ignored.clone();
        let deny_file = pre
            .cfg
            .path
            .as_deref()
            .map(|p| ws.relative(p))
            .unwrap_or_else(|| "deny.toml".into());
        let has_config = pre.cfg.path.is_some();
        let max_staleness_days = pre.cfg.advisories.maximum_db_staleness.value.as_secs() / 86_400;

        let (mut found, databases, db) =
            self.dependency_findings(pre, later, &selected, &lock_bytes, &lockfile)?;
        if artifacts.requested() {
            self.progress.step("Checking the built artifacts");
            let inputs = artifact_step::Inputs {
                opts: artifacts,
                policy: &config.artifact,
                profile: &profile.name,
                strip: profile.strip,
                lockfile: Some(&lockfile),
                deny_ignores: &deny_ignores,
                workspace: Some(self.ws),
            };
            found.extend(artifact_step::check(self.ws, &selected, &inputs, db)?);
        } else {
            db.release();
        }
        found.extend(profile.findings);
        found.extend(workflow_findings);
        if !has_config {
            found.push(no_config());
        }
        found.extend(stale_databases(&databases, max_staleness_days));

        mark_deny_ignores(&mut found, &deny_ignores, &deny_file);
        let mut ignores = crate::ignores::from_config(&config.ignore);
        ignores.extend(crate::ignores::from_cargo_audit(&ws.root)?);
        crate::ignores::apply(&mut found, &ignores, report::today()?);
        default_locations(&mut found, &lockfile);

        report::sort(&mut found);
        Ok(AuditReport {
            findings: found,
            databases,
            workspace_root: ws.root.clone(),
            lockfile_sha256: Some(crate::digest::sha256_hex(&lock_bytes)),
        })
    }

    /// cargo-deny's four checks and the lockfile-only advisories, from the findings
    /// cache when every input is unchanged. The database comes back for the artifact
    /// step (still loading, on a cache hit).
    fn dependency_findings(
        &self,
        pre: prefetch::Prefetch,
        (graph, license_store): (
            pending::Pending<cargo_deny::Krates>,
            Option<pending::Pending<cargo_deny::licenses::LicenseStore>>,
        ),
        selected: &[&cargo_metadata::Package],
        lock_bytes: &[u8],
        lockfile: &Lockfile,
    ) -> Result<(Vec<Finding>, Vec<DbInfo>, artifact_step::Db)> {
        let ws = self.ws;
        let prefetch::Prefetch {
            mut files,
            cfg,
            background,
            db_files,
            graph: _,
            license_store: _,
        } = pre;
        self.progress.step("Looking up the findings cache");
        let key = match self.opts.cache.writes() {
            false => None,
            true => cache_key(ws, self.opts, &cfg, db_files.get()?, lock_bytes, lockfile),
        };
        let hit = key
            .as_deref()
            .filter(|_| self.opts.cache.reads())
            .and_then(crate::cache::load);
        if let Some(entry) = hit {
            // The background load is waited for only if an artifact needs the database;
            // otherwise it ends with the process, as does a graph being built.
            std::mem::forget(files);
            std::mem::forget((graph, license_store));
            let mut dbs = entry.databases;
            dbs.iter_mut().for_each(DbInfo::refresh_age);
            return Ok((entry.findings, dbs, artifact_step::Db::Pending(background)));
        }
        // After a fingerprint hit nothing has started yet: the database loads on
        // another core while the graph is built here.
        let mut background = background;
        background.start(false);
        self.progress.step("Building the dependency graph");
        // How a vulnerable package is reached starts from the default build, which
        // needs neither the graph nor the findings: it is resolved on a thread of its
        // own while the graph, the database and the checks are waited for.
        std::thread::scope(|s| {
            let reach = s.spawn(|| -> Result<ReachIndex<'_>> {
                Ok(ReachIndex::new(&ws.metadata, selected, ws.resolver()?))
            });
            let krates = graph.get()?;
            self.progress.step("Loading the advisory database");
            let loaded = background.wait()?;
            // Cargo.lock was read early from a guessed location; trust it only if the guess was right.
            let yanked = match &loaded.lockfile {
                Some((path, _)) if *path == ws.lockfile_path() => loaded.yanked,
                _ => None,
            };
            let db = loaded.db;
            for note in &db.notes {
                self.progress
                    .suspend(|| self.shell.status(&format!("note: {note}")));
            }
            let deny_ignores = cfg.ignored.clone();
            let mut found = deny::run_checks(
                deny::CheckInputs {
                    ws,
                    cfg,
                    krates: &krates,
                    dbs: Some(&db.set),
                    lockfile,
                    license_store,
                    yanked,
                },
                &mut files,
                self.progress,
            )?;
            found.extend(deny::lockfile_only_advisories(
                lockfile,
                &krates,
                &db.set,
                &deny_ignores,
            ));
            self.progress
                .step("Classifying how vulnerable packages are reached");
            annotate_reach(reach, &mut found)?;
            if let Some(k) = &key {
                crate::cache::store_findings(k, &found, &db.info);
            }
            // Large, read-only, and released by process exit anyway (1,200 memory-mapped
            // advisories, the graph): tearing them down piece by piece costs time for nothing.
            std::mem::forget(krates);
            std::mem::forget(files);
            Ok((found, db.info, artifact_step::Db::Loaded(db.set)))
        })
    }
}

fn no_config() -> Finding {
    Finding::new(
        Check::Licenses,
        Code::NoConfig,
        Severity::Note,
        "licenses were not judged: the project has no deny.toml with a license allow-list",
    )
    .with_help("scaffold a deny.toml with the licenses in use: `cargo secure-release init --deny`")
}

fn stale_databases(databases: &[DbInfo], max_staleness_days: u64) -> Vec<Finding> {
    databases
        .iter()
        .filter_map(|info| {
            let age = info.age_days?;
            (age > max_staleness_days as i64).then(|| {
                Finding::new(
                    Check::Advisories,
                    Code::StaleDatabase,
                    Severity::Warning,
                    format!(
                        "the advisory database is {age} days old (newest advisory {}), older than maximum-db-staleness ({max_staleness_days} days)",
                        info.newest_advisory.as_deref().unwrap_or("unknown")
                    ),
                )
                .with_help(if info.embedded {
                    "this is the snapshot built into this binary: run online (without --offline) to fetch the current database, pass --advisory-db DIR with a current copy, or install a newer cargo-secure-release"
                } else if info.url.is_none() {
                    "refresh the --advisory-db copy (`git pull` in it), or drop --advisory-db to fetch the current database"
                } else {
                    "run without --offline to fetch the current database"
                })
            })
        })
        .collect()
}

/// A finding with no place of its own points at its package's Cargo.lock entry,
/// else at Cargo.toml.
fn default_locations(found: &mut [Finding], lockfile: &Lockfile) {
    for f in found.iter_mut().filter(|f| f.location.is_none()) {
        let line = match (&f.package, &f.version) {
            (Some(p), Some(v)) => lockfile.line_of(p, v).map(|l| ("Cargo.lock", l)),
            _ => None,
        };
        let (file, line) = line.unwrap_or(("Cargo.toml", 1));
        *f = f.clone().with_location(file, Some(line));
    }
}

/// Everything the dependency findings depend on, the license files cargo-deny reads
/// among them. None when the checks would read files the key cannot vouch for
/// cheaply, so the audit runs cold: the crate sources `[bans.build]` scans and
/// `std-replacements` data; and
/// online without `--advisory-db`, where a cold run fetches the databases first
/// (a key taken from the files before the fetch would hide a new advisory).
fn cache_key(
    ws: &Workspace,
    args: &CheckOptions,
    cfg: &deny::DenyConfig,
    db_files: [u8; 32],
    lock_bytes: &[u8],
    lockfile: &Lockfile,
) -> Option<String> {
    if !args.manifest.offline() && args.advisory_db.is_none() {
        return None;
    }
    if cfg.path.is_some() && (cfg.bans.build.is_some() || cfg.bans.std_replacements.is_some()) {
        return None;
    }
    let mut k = crate::cache::Key::new();
    if cfg.path.is_some() {
        deny::key_license_files(ws, cfg, &mut k)?;
    }
    k.part("metadata", &ws.metadata_hash);
    // cargo-deny reads every path package's manifest and the root manifest itself
    // (the findings' lines, `workspace = true` dependencies): their bytes, not only
    // what cargo metadata makes of them. An unreadable one is no key at all.
    let mut manifests: Vec<std::path::PathBuf> = ws
        .metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .map(|p| p.manifest_path.clone().into_std_path_buf())
        .chain([ws.root_manifest()])
        .collect();
    manifests.sort();
    manifests.dedup();
    for m in &manifests {
        let bytes = crate::fsutil::read_bounded(m, crate::fsutil::TEXT_LIMIT, "manifest").ok()?;
        k.part("manifest path", m.as_os_str().as_encoded_bytes());
        k.part("manifest", &bytes);
    }
    k.part("Cargo.lock", lock_bytes);
    match &cfg.path {
        Some(p) => {
            k.part("deny.toml path", p.as_os_str().as_encoded_bytes());
            k.part("deny.toml", cfg.text.as_bytes());
        }
        None => k.part("deny.toml", b"none"),
    }
    k.part("packages", args.manifest.packages.join("\n").as_bytes());
    k.part("offline", &[u8::from(args.manifest.offline())]);
    match &args.advisory_db {
        Some(dir) => k.part("db", dir.as_os_str().as_encoded_bytes()),
        // Without a cached copy the embedded snapshot answers: another build's
        // snapshot is another input.
        None => k.part("embedded db", snapshot::embedded_id().as_bytes()),
    }
    k.part("db files", &db_files);
    // The databases' commits are in the report; a commit that changes no file moves
    // only the git directory, which the tree's digest leaves out.
    for head in advisory_db::heads(args.advisory_db.as_deref(), &cfg.advisories) {
        k.part("db head", head.as_bytes());
    }
    if !cfg.advisories.disable_yank_checking {
        let home = crate::cargo::home()?;
        k.part("cargo home", home.as_os_str().as_encoded_bytes());
        // Listed once: a thousand packages share the few index directories.
        let indexes = crate::cache::index_dirs(&home);
        for p in lockfile.packages.iter().filter(|p| {
            p.source
                .as_deref()
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        }) {
            for dir in &indexes {
                k.stat("index", &crate::cache::index_cache_path(dir, &p.name));
            }
        }
    }
    Some(k.finish())
}

/// cargo-deny reports an ignored advisory twice (an `advisory-ignored` note and the
/// advisory at note level); fold that into one finding that carries its ignore.
fn mark_deny_ignores(found: &mut Vec<Finding>, ignores: &[(String, String)], file: &str) {
    use cargo_deny::advisories::Code as Adv;
    found.retain(|f| f.code != Code::advisory(Adv::AdvisoryIgnored));
    for f in found.iter_mut() {
        let Some(id) = &f.id else { continue };
        if let Some((_, reason)) = ignores.iter().find(|(i, _)| i == id) {
            if f.severity == Severity::Note && f.ignored.is_none() {
                f.ignored = Some(report::Ignored {
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
/// `reach` (resolved beside the checks) is waited for, and its failure reported,
/// only when there is such a finding.
fn annotate_reach<'m>(
    reach: std::thread::ScopedJoinHandle<'_, Result<ReachIndex<'m>>>,
    found: &mut [Finding],
) -> Result<()> {
    let idx: Vec<usize> = found
        .iter()
        .enumerate()
        .filter(|(_, f)| f.check == Check::Advisories && f.package.is_some() && f.version.is_some())
        .map(|(i, _)| i)
        .collect();
    if idx.is_empty() {
        return Ok(());
    }
    let reach = reach.join().map_err(|_| {
        Failure::new("classifying how vulnerable packages are reached failed unexpectedly")
            .help("re-run with -vv and report it")
    })??;
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
    // Released by process exit, as the graph is.
    std::mem::forget(reach);
    for (i, class) in idx.into_iter().zip(classes) {
        found[i].reach = Some(class.describe());
    }
    Ok(())
}
