//! Work that does not need `cargo metadata`'s answer runs on another core while cargo
//! resolves: deny.toml, the advisory database, the SPDX license store, and the
//! yanked-version lookups for the packages in Cargo.lock.

use super::advisory_db::{self, LoadedDb};
use super::deny::{self, DenyConfig};
use crate::error::Failure;
use crate::lockfile::Lockfile;
use crate::options::CheckOptions;
use anyhow::Result;
use cargo_deny::advisories::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// What the audit needs before the graph exists: deny.toml (loaded at once: it is
/// small and part of the cache key) and a background load of the rest.
pub struct Prefetch {
    pub files: cargo_deny::diag::Files,
    pub cfg: DenyConfig,
    pub background: Background,
}

/// The advisory DB, the SPDX store and the yanked lookups, loading on a low-priority
/// thread while cargo resolves. A cache hit never waits for it.
pub struct Background(JoinHandle<Result<Loaded>>);

pub struct Loaded {
    pub db: LoadedDb,
    pub license_store: Option<cargo_deny::licenses::LicenseStore>,
    /// The Cargo.lock read early, with its path (a guess until the workspace root is known).
    pub lockfile: Option<(PathBuf, Lockfile)>,
    /// crates.io yanked lookups by crate name, for the packages of that Cargo.lock.
    pub yanked: Option<HashMap<String, Entry>>,
}

impl Prefetch {
    pub fn start(args: &CheckOptions, manifest_path: &Path) -> Result<Prefetch> {
        let config_path = match &args.config {
            Some(p) if std::fs::symlink_metadata(p).is_err() => {
                return Err(Failure::new(format!("cargo-deny config {} does not exist", crate::error::escape(&p.display().to_string())))
                    .help("pass --config with the path of your deny.toml, or drop it to use deny.toml found in the project")
                    .into())
            }
            Some(p) => Some(p.clone()),
            None => deny::find_config(manifest_path),
        };
        let mut files = cargo_deny::diag::Files::new();
        let cfg = deny::load_config(config_path.as_deref(), &mut files)?;
        let job = Job {
            db_dir: args.advisory_db.clone(),
            db_spec: advisory_db::DbSpec::from_config(&cfg.advisories),
            offline: args.manifest.offline(),
            licenses: cfg.path.is_some(),
            yanked: !cfg.advisories.disable_yank_checking,
            manifest: manifest_path.to_path_buf(),
        };
        let handle = std::thread::spawn(move || {
            lower_priority();
            job.run()
        });
        Ok(Prefetch {
            files,
            cfg,
            background: Background(handle),
        })
    }
}

impl Background {
    pub fn wait(self) -> Result<Loaded> {
        self.0.join().map_err(|_| {
            Failure::new("loading the advisory database failed unexpectedly")
                .help("re-run with -vv and report it")
        })?
    }
}

/// cargo metadata, on the critical path, should win the CPU over our speculative work.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread (who = 0) only changes its nice value.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

struct Job {
    db_dir: Option<PathBuf>,
    db_spec: advisory_db::DbSpec,
    offline: bool,
    licenses: bool,
    yanked: bool,
    manifest: PathBuf,
}

impl Job {
    fn run(self) -> Result<Loaded> {
        let lockfile = self
            .manifest
            .parent()
            .into_iter()
            .flat_map(Path::ancestors)
            .map(|d| d.join("Cargo.lock"))
            .find(|p| p.is_file())
            .and_then(|p| Lockfile::read(&p).ok().map(|l| (p, l)));
        std::thread::scope(|s| {
            let yanked = s.spawn(|| match (&lockfile, self.yanked) {
                (Some((path, lock)), true) => crates_io_yanked(lock, path.parent()),
                _ => None,
            });
            let db = match &self.db_dir {
                Some(dir) => advisory_db::open_dir(dir)?,
                None => advisory_db::load_configured(&self.db_spec, self.offline)?,
            };
            let license_store = if self.licenses {
                Some(
                    cargo_deny::licenses::LicenseStore::from_cache().map_err(|e| {
                        Failure::new(format!("could not load the SPDX license store: {e}"))
                    })?,
                )
            } else {
                None
            };
            let yanked = yanked.join().unwrap_or(None);
            Ok(Loaded {
                db,
                license_store,
                lockfile: lockfile.clone(),
                yanked,
            })
        })
    }
}

/// Reads the local crates.io index cache as cargo-deny's `Indices::load` does, but
/// from Cargo.lock, so it can run before the dependency graph exists.
fn crates_io_yanked(lock: &Lockfile, root: Option<&Path>) -> Option<HashMap<String, Entry>> {
    let home = cargo_deny::PathBuf::from_path_buf(crate::workspace::cargo_home()?).ok()?;
    let root = root.and_then(|r| cargo_deny::PathBuf::from_path_buf(r.to_path_buf()).ok());
    let url = tame_index::IndexUrl::crates_io(root, Some(&home), None).ok()?;
    let index = tame_index::index::ComboIndexCache::new(
        tame_index::IndexLocation::new(url).with_root(Some(home)),
    )
    .ok()?;
    // No lock: cargo may hold the package lock while it resolves. A torn read shows up as
    // an Entry::Error, and those names are looked up again after cargo is done.
    let lock_none = tame_index::utils::flock::FileLock::unlocked();
    let mut out = HashMap::new();
    for p in &lock.packages {
        let crates_io = p.source.as_deref().is_some_and(|s| {
            s == "registry+https://github.com/rust-lang/crates.io-index"
                || s == "sparse+https://index.crates.io/"
        });
        if !crates_io || out.contains_key(&p.name) {
            continue;
        }
        let entry = match p.name.as_str().try_into() {
            Ok(name) => match index.cached_krate(name, &lock_none) {
                Ok(Some(ik)) => Entry::Map(
                    ik.versions
                        .into_iter()
                        .filter_map(|iv| Some((iv.version.parse().ok()?, iv.yanked)))
                        .collect(),
                ),
                Ok(None) => Entry::Error("unable to locate index entry for crate".to_owned()),
                Err(e) => Entry::Error(format!("{e:#}")),
            },
            Err(e) => Entry::Error(format!("{e}")),
        };
        out.insert(p.name.clone(), entry);
    }
    Some(out)
}
