//! All cargo-deny glue in one place: finding and validating deny.toml, building the
//! krates graph from our one `cargo metadata`, running the four checks and turning
//! cargo-deny's diagnostics into our findings.

use crate::error::Failure;
use crate::findings::{Check, Finding, Severity};
use crate::lockfile::Lockfile;
use crate::profile::effective::line_of;
use crate::workspace::Workspace;
use anyhow::{Context, Result};
use cargo_deny::diag::{self, Files, Pack};
use cargo_deny::{advisories, bans, licenses, sources, CheckCtx};
use std::path::{Path, PathBuf};

pub struct DenyConfig {
    /// The deny.toml in use, if the project has one.
    pub path: Option<PathBuf>,
    pub advisories: advisories::cfg::ValidConfig,
    pub bans: bans::cfg::ValidConfig,
    pub licenses: licenses::cfg::ValidConfig,
    pub sources: sources::cfg::ValidConfig,
    pub graph: cargo_deny::root_cfg::GraphConfig,
    /// deny.toml's `[advisories] ignore` as (id, reason) (cargo-deny keeps its own copy private).
    pub ignored: Vec<(String, String)>,
}

/// Finds deny.toml the way cargo-deny does: `deny.toml`, `.deny.toml`, then
/// `.cargo/deny.toml` in the manifest's directory and each parent.
pub fn find_config(manifest: &Path) -> Option<PathBuf> {
    let mut dir = manifest.parent();
    while let Some(d) = dir {
        for name in ["deny.toml", ".deny.toml", ".cargo/deny.toml"] {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        dir = d.parent();
    }
    None
}

pub fn load_config(path: Option<&Path>, files: &mut Files) -> Result<DenyConfig> {
    use cargo_deny::UnvalidatedConfig;

    let (text, name) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| {
                Failure::new(format!(
                    "could not read cargo-deny config {}: {e}",
                    p.display()
                ))
                .help(
                    "pass --config with a readable deny.toml, or remove the flag to search for one",
                )
            })?,
            p.to_path_buf(),
        ),
        None => (String::new(), PathBuf::from("deny.default.toml")),
    };
    let utf8_name = cargo_deny::PathBuf::from_path_buf(name.clone())
        .map_err(|p| Failure::new(format!("config path {} is not UTF-8", p.display())))?;
    let id = files.add(utf8_name, text.clone());

    let mut parsed = toml_span::parse(files.source(id)).map_err(|e| {
        let line = line_of(&text, e.span.start);
        Failure::new(format!("{}:{line}: invalid TOML: {e}", name.display()))
            .help("fix the TOML syntax at that line (see https://toml.io)")
    })?;
    use cargo_deny::Deserialize;
    let cfg = match cargo_deny::root_cfg::RootConfig::deserialize(&mut parsed) {
        Ok(c) => c,
        Err(err) => {
            let first = err.errors.first();
            let line = first.map(|e| line_of(&text, e.span.start)).unwrap_or(1);
            let all: Vec<String> = err
                .errors
                .iter()
                .map(|e| format!("{}:{}: {e}", name.display(), line_of(&text, e.span.start)))
                .collect();
            return Err(Failure::new(format!(
                "{}:{line}: invalid cargo-deny configuration: {}",
                name.display(),
                first.map(|e| e.to_string()).unwrap_or_default()
            ))
            .help("fix the key at that line; the format is documented at https://embarkstudios.github.io/cargo-deny/checks/cfg.html")
            .detail(all.join("\n"))
            .into());
        }
    };

    let mut diags = Vec::new();
    macro_rules! validate {
        ($section:expr) => {
            $section
                .unwrap_or_default()
                .validate(cargo_deny::cfg::ValidationContext {
                    cfg_id: id,
                    files,
                    diagnostics: &mut diags,
                })
        };
    }
    let advisories = validate!(cfg.advisories);
    let bans = validate!(cfg.bans);
    let licenses = validate!(cfg.licenses);
    let sources = validate!(cfg.sources);

    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity >= diag::Severity::Error)
        .map(|d| {
            let line = d
                .labels
                .first()
                .map(|l| line_of(&text, l.range.start))
                .unwrap_or(1);
            let label = d
                .labels
                .first()
                .map(|l| l.message.clone())
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default();
            format!("{}:{line}: {}{label}", name.display(), d.message)
        })
        .collect();
    if let Some(first) = errors.first() {
        return Err(Failure::new(format!("invalid cargo-deny configuration: {first}"))
            .help("fix the value at that line; see https://embarkstudios.github.io/cargo-deny/checks/cfg.html")
            .detail(errors.join("\n"))
            .into());
    }

    Ok(DenyConfig {
        path: path.map(Path::to_path_buf),
        advisories,
        bans,
        licenses,
        sources,
        graph: cfg.graph,
        ignored: advisory_ignores(&text),
    })
}

/// The entries of `[advisories] ignore`, as strings or `{ id = …, reason = … }` tables.
fn advisory_ignores(text: &str) -> Vec<(String, String)> {
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
    };
    let Some(arr) = doc
        .get("advisories")
        .and_then(|a| a.get("ignore"))
        .and_then(|i| i.as_array())
    else {
        return Vec::new();
    };
    arr.iter()
        .filter_map(|v| {
            if let Some(id) = v.as_str() {
                return Some((id.to_string(), "ignored in deny.toml".to_string()));
            }
            let t = v.as_inline_table()?;
            let id = t.get("id")?.as_str()?.to_string();
            let reason = t
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("ignored in deny.toml")
                .to_string();
            Some((id, reason))
        })
        .collect()
}

/// Builds cargo-deny's krates graph from the workspace's one metadata JSON.
pub fn build_krates(
    ws: &Workspace,
    cfg: &DenyConfig,
    selected: &[&cargo_metadata::Package],
    all_selected: bool,
) -> Result<cargo_deny::Krates> {
    use krates::{Builder, DepKind};
    let mut gb = Builder::new();
    if !cfg.graph.targets.is_empty() {
        gb.include_targets(
            cfg.graph
                .targets
                .iter()
                .map(|t| (t.filter.value.clone(), t.features.clone())),
        );
    }
    gb.ignore_kind(
        DepKind::Dev,
        if cfg.graph.exclude_dev {
            krates::Scope::All
        } else {
            krates::Scope::NonWorkspace
        },
    );
    gb.workspace(true);
    if !all_selected {
        gb.include_workspace_crates(selected.iter().map(|p| p.manifest_path.as_std_path()));
    }
    if !cfg.graph.exclude.is_empty() {
        gb.exclude(cfg.graph.exclude.iter().filter_map(|s| s.parse().ok()));
    }
    let graph = gb
        .build_with_metadata(ws.krates_metadata()?, |_filtered: krates::cm::Package| {})
        .context("could not build the dependency graph from `cargo metadata`")?;
    Ok(graph)
}

pub struct CheckInputs<'a> {
    pub ws: &'a Workspace,
    pub cfg: DenyConfig,
    pub krates: &'a cargo_deny::Krates,
    pub dbs: Option<&'a advisories::DbSet>,
    pub lockfile: &'a Lockfile,
    /// Loaded only when licenses are judged (the project has a deny.toml).
    pub license_store: Option<licenses::LicenseStore>,
    /// Yanked lookups prefetched from Cargo.lock (crates.io only).
    pub yanked: Option<std::collections::HashMap<String, advisories::Entry>>,
}

/// Runs the four cargo-deny checks in parallel and converts their diagnostics.
pub fn run_checks(
    inputs: CheckInputs<'_>,
    files: &mut Files,
    progress: &crate::progress::Progress,
) -> Result<Vec<Finding>> {
    let CheckInputs {
        ws,
        cfg,
        krates,
        dbs,
        lockfile,
        license_store,
        yanked,
    } = inputs;
    let root = ws.root.to_string_lossy().into_owned();
    let krate_spans = diag::KrateSpans::synthesize(krates, &root, files);

    progress.step("Gathering licenses");
    let license_summary = license_store.map(|store| {
        let gatherer = licenses::Gatherer::default()
            .with_store(std::sync::Arc::new(store))
            .with_confidence_threshold(cfg.licenses.confidence_threshold);
        gatherer.gather(krates, files, &cfg.licenses)
    });

    progress.step("Checking advisories, licenses, bans and sources");
    let (tx, rx) = crossbeam_channel::unbounded::<Pack>();
    let files_ref: &Files = files;
    let sink = |tx: &crossbeam_channel::Sender<Pack>| diag::ErrorSink {
        overrides: None,
        channel: tx.clone(),
    };
    let cargo_home = cargo_home();
    let DenyConfig {
        advisories: adv_cfg,
        bans: bans_cfg,
        licenses: lic_cfg,
        sources: src_cfg,
        ..
    } = cfg;

    let panicked = crate::panic_guard::catch(|| {
        std::thread::scope(|s| {
            // A macro, not a closure: each check has its own config type.
            macro_rules! ctx {
                ($c:expr) => {
                    CheckCtx {
                        cfg: $c,
                        krates,
                        krate_spans: &krate_spans,
                        colorize: false,
                        log_level: log::LevelFilter::Warn,
                        files: files_ref,
                    }
                };
            }
            if let Some(summary) = license_summary {
                let (ctx, sink) = (ctx!(lic_cfg), sink(&tx));
                s.spawn(move || licenses::check(ctx, summary, sink));
            }
            let (bctx, bsink) = (ctx!(bans_cfg), sink(&tx));
            s.spawn(move || bans::check(bctx, None, bsink));
            let (sctx, ssink) = (ctx!(src_cfg), sink(&tx));
            s.spawn(move || sources::check(sctx, ssink));
            if let Some(dbs) = dbs {
                let (actx, asink) = (ctx!(adv_cfg), sink(&tx));
                let cargo_home = cargo_home.clone();
                s.spawn(move || {
                    let indices = match (&cargo_home, actx.cfg.disable_yank_checking) {
                        (Some(home), false) => Some(
                            prebuilt_indices(krates, yanked.as_ref())
                                .unwrap_or_else(|| advisories::Indices::load(krates, home.clone())),
                        ),
                        _ => None,
                    };
                    advisories::check(
                        actx,
                        dbs,
                        None::<advisories::NoneReporter>,
                        cargo_deny::SerializeAdvisory::No,
                        indices,
                        asink,
                    );
                });
            }
            drop(tx);
        })
    });
    if let Err(msg) = panicked {
        return Err(
            Failure::new(format!("cargo-deny's checks failed unexpectedly: {msg}"))
                .help("re-run with -v and report this with your deny.toml")
                .into(),
        );
    }

    let mut out = Vec::new();
    for pack in rx.iter() {
        let check = match pack.check {
            diag::Check::Advisories => Check::Advisories,
            diag::Check::Bans => Check::Bans,
            diag::Check::Licenses => Check::Licenses,
            diag::Check::Sources => Check::Sources,
        };
        for d in pack {
            // "license accepted" is a confirmation, not a finding.
            if d.code.is_some_and(|c| c.as_str() == "accepted") {
                continue;
            }
            out.push(convert(
                check,
                d,
                krates,
                &krate_spans,
                files_ref,
                ws,
                lockfile,
            ));
        }
    }
    Ok(out)
}

/// cargo-deny's yanked-lookup table, built from lookups made before the graph
/// existed. None (so cargo-deny loads it itself) unless every registry crate is from
/// crates.io and was looked up cleanly.
fn prebuilt_indices<'k>(
    krates: &'k cargo_deny::Krates,
    yanked: Option<&std::collections::HashMap<String, advisories::Entry>>,
) -> Option<advisories::Indices<'k>> {
    let yanked = yanked?;
    let mut cache = std::collections::BTreeMap::new();
    for k in krates.krates() {
        let Some(src) = k.source.as_ref().filter(|s| s.is_registry()) else {
            continue;
        };
        if !matches!(src, cargo_deny::Source::CratesIo(_)) {
            return None;
        }
        match yanked.get(&k.name) {
            Some(e @ advisories::Entry::Map(_)) => {
                cache.insert((k.name.as_str(), src), e.clone());
            }
            _ => return None,
        }
    }
    Some(advisories::Indices {
        indices: Vec::new(),
        cache,
    })
}

fn cargo_home() -> Option<cargo_deny::PathBuf> {
    cargo_deny::PathBuf::from_path_buf(crate::workspace::cargo_home()?).ok()
}

fn convert(
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
    let code = d
        .code
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| "diagnostic".into());
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
    for label in &d.diag.labels {
        if !label.message.is_empty() && check != Check::Advisories {
            help.push(label.message.clone());
        }
    }
    if !help.is_empty() {
        f.help = Some(help.join("; "));
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

/// Packages in Cargo.lock that cargo-deny's graph does not contain are matched
/// against the advisory databases here, so that nothing in the lockfile escapes.
pub fn lockfile_only_advisories(
    lockfile: &Lockfile,
    krates: &cargo_deny::Krates,
    dbs: &advisories::DbSet,
    ignored: &[(String, String)],
) -> Vec<Finding> {
    use std::collections::HashSet;
    let in_graph: HashSet<(String, String)> = krates
        .krates()
        .map(|k| (k.name.clone(), k.version.to_string()))
        .collect();
    let mut out = Vec::new();
    for pkg in &lockfile.packages {
        if in_graph.contains(&(pkg.name.clone(), pkg.version.clone())) {
            continue;
        }
        let Ok(version) = pkg.version.parse::<semver::Version>() else {
            continue;
        };
        for db in dbs.iter() {
            for entry in db.db.advisories.values() {
                let adv = &entry.advisory;
                let md = &adv.advisory;
                if md.krate != pkg.name || md.withdrawn.is_some() {
                    continue;
                }
                if !advisories::db::is_affected(&adv.versions, &version) {
                    continue;
                }
                let ignored = ignored.iter().any(|(i, _)| i == md.id);
                let code = match &md.informational {
                    None => "vulnerability",
                    Some(advisories::model::Informational::Unmaintained) => "unmaintained",
                    Some(advisories::model::Informational::Unsound) => "unsound",
                    Some(_) => "notice",
                };
                let severity = if ignored {
                    Severity::Note
                } else {
                    Severity::Error
                };
                let mut f = Finding::new(Check::Advisories, code, severity, md.title.to_string())
                    .with_package(pkg.name.clone(), pkg.version.clone())
                    .with_location("Cargo.lock", Some(pkg.line));
                f.id = Some(md.id.to_string());
                f.url = Some(format!("https://rustsec.org/advisories/{}", md.id));
                let patched: Vec<String> =
                    adv.versions.patched.iter().map(|r| r.to_string()).collect();
                f.help = Some(if patched.is_empty() {
                    "No safe upgrade is available!".into()
                } else {
                    format!(
                        "Upgrade to {} (try `cargo update -p {}`)",
                        patched.join(" OR "),
                        pkg.name
                    )
                });
                out.push(f);
            }
        }
    }
    out
}
