//! The dependency graph from our one `cargo metadata`, and cargo-deny's four checks
//! run on it in parallel.

use super::super::pending::Pending;
use super::config::DenyConfig;
use crate::error::Failure;
use crate::lockfile::Lockfile;
use crate::report::{Check, Code, Finding, Severity};
use crate::workspace::Workspace;
use anyhow::{Context, Result};
use cargo_deny::diag::{self, Files, Pack};
use cargo_deny::{advisories, bans, licenses, sources, CheckCtx};

/// deny.toml's `[graph]` and the `-p` selection, owned: krates' builder itself cannot
/// cross threads.
struct GraphSpec {
    targets: Vec<(krates::Target, Vec<String>)>,
    exclude_dev: bool,
    exclude: Vec<krates::PkgSpec>,
    /// The selected members' manifests (`-p`); None when all are.
    members: Option<Vec<std::path::PathBuf>>,
}

/// cargo-deny's krates graph from the workspace's one metadata JSON. krates parses the
/// JSON into its own model and re-resolves features, about as long as all the checks
/// together, so it is worth building on another core while the audit reads its other
/// inputs.
pub fn graph(
    json: std::sync::Arc<[u8]>,
    cfg: &DenyConfig,
    members: Option<Vec<std::path::PathBuf>>,
    now: bool,
) -> Pending<cargo_deny::Krates> {
    let spec = GraphSpec {
        targets: cfg
            .graph
            .targets
            .iter()
            .map(|t| (t.filter.value.clone(), t.features.clone()))
            .collect(),
        exclude_dev: cfg.graph.exclude_dev,
        exclude: cfg
            .graph
            .exclude
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
        members,
    };
    Pending::start(now, "building the dependency graph", move || {
        build(spec, &json)
    })
}

fn build(spec: GraphSpec, json: &[u8]) -> Result<cargo_deny::Krates> {
    use krates::{Builder, DepKind};
    let mut gb = Builder::new();
    if !spec.targets.is_empty() {
        gb.include_targets(spec.targets);
    }
    gb.ignore_kind(
        DepKind::Dev,
        if spec.exclude_dev {
            krates::Scope::All
        } else {
            krates::Scope::NonWorkspace
        },
    );
    gb.workspace(true);
    if let Some(members) = &spec.members {
        gb.include_workspace_crates(members.iter().map(std::path::PathBuf::as_path));
    }
    if !spec.exclude.is_empty() {
        gb.exclude(spec.exclude);
    }
    let md: krates::cm::Metadata =
        serde_json::from_slice(json).context("could not parse `cargo metadata` output")?;
    gb.build_with_metadata(md, |_filtered: krates::cm::Package| {})
        .context("could not build the dependency graph from `cargo metadata`")
}

/// cargo-deny asks `cargo -V` once per process (which directory name cargo gives
/// the sparse crates.io index's sources), the first time a crates.io package enters
/// its graph. Asked here, on a thread beside `cargo metadata`, the answer is ready
/// when the graph is built on the critical path.
pub fn warm_source_lookup() {
    let pkg = serde_json::json!({
        "name": "warm", "version": "0.0.0",
        "id": "registry+https://github.com/rust-lang/crates.io-index#warm@0.0.0",
        "source": "registry+https://github.com/rust-lang/crates.io-index",
        "dependencies": [], "targets": [], "features": {},
        "manifest_path": "/registry/src/index/warm-0.0.0/Cargo.toml",
    });
    if let Ok(p) = serde_json::from_value::<krates::cm::Package>(pkg) {
        drop(cargo_deny::Krate::from(p));
    }
}

/// The SPDX text store (a hundred milliseconds of decompression), None when licenses
/// are not judged (no deny.toml with an allow-list). cargo-deny consults it only for a
/// package whose `license` is missing, empty, or not an SPDX expression even in its
/// lax mode, to identify the package's license files; when no package is like that,
/// an empty store is the same answer for nothing.
pub fn license_store(
    ws: &Workspace,
    cfg: &DenyConfig,
    now: bool,
) -> Option<Pending<licenses::LicenseStore>> {
    cfg.path.as_ref()?;
    let needed = ws
        .metadata
        .packages
        .iter()
        .any(|p| needs_license_files(p.license.as_deref()));
    Some(Pending::start(
        now && needed,
        "loading the SPDX license store",
        move || match needed {
            true => load_license_store(),
            false => Ok(licenses::LicenseStore::default()),
        },
    ))
}

/// The store loaded while `cargo metadata` runs, before anyone knows whether a
/// package will need it: that wait leaves a core idle, and on a large workspace the
/// store is the longest step after cargo's. A store nobody needed answers as the
/// empty one would.
pub fn license_store_beside_cargo(cfg: &DenyConfig) -> Option<Pending<licenses::LicenseStore>> {
    cfg.path.as_ref()?;
    Some(Pending::start(
        true,
        "loading the SPDX license store",
        || {
            crate::threads::lower_priority();
            load_license_store()
        },
    ))
}

fn load_license_store() -> Result<licenses::LicenseStore> {
    licenses::LicenseStore::from_cache()
        .map_err(|e| Failure::new(format!("could not load the SPDX license store: {e}")).into())
}

/// Whether cargo-deny's license check would read some package's license files.
fn reads_license_files(p: &cargo_metadata::Package, cfg: &DenyConfig) -> bool {
    needs_license_files(p.license.as_deref())
        || cfg
            .licenses
            .clarifications
            .iter()
            .any(|c| c.spec.name.value == p.name.as_str())
}

/// The largest license file whose bytes go into the findings key; a larger one makes
/// the audit run cold.
const LICENSE_FILE_LIMIT: u64 = 1 << 20;

/// Adds to the findings key every file cargo-deny's license gatherer reads
/// (licenses::gather's `LicensePack`): for each package whose `license` field does
/// not say, or that a `clarify` entry names (by name: over-inclusive), which
/// `LICENSE*`/`COPYING*` regular files its directory holds and their bytes, its
/// `license-file` and the clarified paths (present or absent). None when one cannot
/// be read whole: the audit then runs cold.
pub fn key_license_files(
    ws: &Workspace,
    cfg: &DenyConfig,
    k: &mut crate::cache::Key,
) -> Option<()> {
    cfg.path.as_ref()?;
    for p in ws
        .metadata
        .packages
        .iter()
        .filter(|p| reads_license_files(p, cfg))
    {
        let root = p.manifest_path.parent()?.as_std_path();
        k.part("license pack", root.as_os_str().as_encoded_bytes());
        // A directory that cannot be listed is an error cargo-deny reports: the
        // cold run says it.
        let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(root)
            .ok()?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()
            .ok()?;
        names.sort();
        let mut files: Vec<std::path::PathBuf> = names
            .iter()
            .filter(|n| {
                let b = n.as_encoded_bytes();
                b.starts_with(b"LICENSE") || b.starts_with(b"COPYING")
            })
            .map(|n| root.join(n))
            .collect();
        files.extend(p.license_file.iter().map(|f| root.join(f)));
        for c in cfg.licenses.clarifications.iter() {
            if c.spec.name.value == p.name.as_str() {
                files.extend(c.license_files.iter().map(|f| root.join(&f.path.value)));
            }
        }
        for f in &files {
            k.part("license file", f.as_os_str().as_encoded_bytes());
            match std::fs::metadata(f) {
                // Followed, as cargo-deny's `is_file` follows a link.
                Ok(m) if m.is_file() => {
                    let bytes =
                        crate::fsutil::read_bounded(f, LICENSE_FILE_LIMIT, "license file").ok()?;
                    k.part("license bytes", &bytes);
                }
                Ok(_) => k.part("license bytes", b"not a regular file"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    k.part("license bytes", b"absent")
                }
                Err(_) => return None,
            }
        }
    }
    Some(())
}

/// cargo-deny's own rule (licenses::gather): the `license` field is tried strictly,
/// then laxly; only when both fail, or it is absent, are license files read.
fn needs_license_files(license: Option<&str>) -> bool {
    const LAX: spdx::ParseMode = spdx::ParseMode {
        allow_slash_as_or_operator: true,
        allow_imprecise_license_names: true,
        allow_postfix_plus_on_gpl: true,
        allow_deprecated: true,
        allow_unknown: false,
    };
    match license.filter(|l| !l.is_empty()) {
        Some(l) => spdx::Expression::parse_mode(l, LAX).is_err(),
        None => true,
    }
}

pub struct CheckInputs<'a> {
    pub ws: &'a Workspace,
    pub cfg: DenyConfig,
    pub krates: &'a cargo_deny::Krates,
    pub dbs: Option<&'a advisories::DbSet>,
    pub lockfile: &'a Lockfile,
    /// None when licenses are not judged.
    pub license_store: Option<Pending<licenses::LicenseStore>>,
    /// Yanked lookups prefetched from Cargo.lock (crates.io only).
    pub yanked: Option<std::collections::HashMap<String, advisories::Entry>>,
}

/// Runs the four cargo-deny checks in parallel and converts their diagnostics.
pub fn run_checks(
    inputs: CheckInputs<'_>,
    files: &mut Files,
    progress: &crate::shell::Progress,
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
    let store = license_store.map(Pending::get).transpose()?;
    let license_summary = store.map(|store| {
        let store = std::sync::Arc::new(store);
        // Thousands of SPDX texts: freeing them took ~15 ms of a check thread that
        // the audit waits for, right before the process exits and frees them anyway.
        std::mem::forget(store.clone());
        let gatherer = licenses::Gatherer::default()
            .with_store(store)
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
            if d.code == Some(diag::DiagnosticCode::License(licenses::Code::Accepted)) {
                continue;
            }
            out.push(super::convert::convert(
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
    cargo_deny::PathBuf::from_path_buf(crate::cargo::home()?).ok()
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
        out.extend(
            advisory_findings(Check::Advisories, &pkg.name, &pkg.version, dbs, ignored)
                .into_iter()
                .map(|f| f.with_location("Cargo.lock", Some(pkg.line))),
        );
    }
    out
}

/// A finding for every advisory in `dbs` that affects `name` at `version`: the one
/// matcher for lockfile packages and for packages embedded in a built artifact.
pub fn advisory_findings(
    check: Check,
    name: &str,
    version: &str,
    dbs: &advisories::DbSet,
    ignored: &[(String, String)],
) -> Vec<Finding> {
    let Ok(parsed) = version.parse::<semver::Version>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for db in dbs.iter() {
        for entry in db.db.advisories.values() {
            let adv = &entry.advisory;
            let md = &adv.advisory;
            if md.krate != name || md.withdrawn.is_some() {
                continue;
            }
            if !advisories::db::is_affected(&adv.versions, &parsed) {
                continue;
            }
            let ignored = ignored.iter().any(|(i, _)| i == md.id);
            use advisories::Code as Adv;
            let code = Code::advisory(match &md.informational {
                None => Adv::Vulnerability,
                Some(advisories::model::Informational::Unmaintained) => Adv::Unmaintained,
                Some(advisories::model::Informational::Unsound) => Adv::Unsound,
                Some(_) => Adv::Notice,
            });
            let severity = if ignored {
                Severity::Note
            } else {
                Severity::Error
            };
            let mut f = Finding::new(check, code, severity, md.title.to_string())
                .with_package(name, version);
            f.id = Some(md.id.to_string());
            f.url = Some(format!("https://rustsec.org/advisories/{}", md.id));
            let patched: Vec<String> = adv.versions.patched.iter().map(|r| r.to_string()).collect();
            f.help = Some(if patched.is_empty() {
                "No safe upgrade is available!".into()
            } else {
                format!(
                    "Upgrade to {} (try `cargo update -p {name}`)",
                    patched.join(" OR ")
                )
            });
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn license_files_are_read_only_where_the_license_field_does_not_say() {
        for (field, needs) in [
            (Some("MIT OR Apache-2.0"), false),
            (Some("MIT/Apache-2.0"), false),
            (Some("GPL-2.0+"), false),
            (Some(""), true),
            (None, true),
            (Some("see LICENSE"), true),
            (Some("Custom-Proprietary"), true),
        ] {
            assert_eq!(super::needs_license_files(field), needs, "{field:?}");
        }
    }
}
