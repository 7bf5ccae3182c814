//! Work that does not need `cargo metadata`'s answer runs on another core while cargo
//! resolves: deny.toml, the advisory database and the yanked-version lookups for the
//! packages in Cargo.lock.

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
    /// The advisory files' sizes and times (`tree_record::digest`) for the findings
    /// cache key, from the start on a thread of its own: on a cache hit, confirming
    /// a thousand directories is the longest part of the audit.
    pub db_files: super::pending::Pending<[u8; 32]>,
    /// The dependency graph, when the caller could start it on cargo's JSON before
    /// parsing that JSON itself.
    pub graph: Option<super::pending::Pending<cargo_deny::Krates>>,
    /// The SPDX license store, when it was started beside cargo.
    pub license_store: Option<super::pending::Pending<cargo_deny::licenses::LicenseStore>>,
}

/// The advisory DB and the yanked lookups: loaded on another core while cargo
/// resolves or while the graph is built (`start`), or here when first needed. A
/// findings cache hit never waits for it.
pub struct Background {
    job: Option<Job>,
    running: Option<JoinHandle<Result<Loaded>>>,
}

pub struct Loaded {
    pub db: LoadedDb,
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
            yanked: !cfg.advisories.disable_yank_checking,
            manifest: manifest_path.to_path_buf(),
        };
        let db_root = args
            .advisory_db
            .clone()
            .unwrap_or_else(|| cfg.advisories.db_path.clone().into_std_path_buf());
        let db_files = super::pending::Pending::start(
            args.cache.writes(),
            "listing the advisory database",
            move || {
                // Wanted only for the findings key, after cargo's answer.
                crate::threads::lower_priority();
                Ok(crate::tree_record::digest(&db_root))
            },
        );
        Ok(Prefetch {
            files,
            cfg,
            background: Background {
                job: Some(job),
                running: None,
            },
            db_files,
            graph: None,
            license_store: None,
        })
    }
}

impl Background {
    /// Starts the load on another core; `beside_cargo` lowers its priority, so that
    /// `cargo metadata`, on the critical path, wins the CPU. A second call does nothing.
    pub fn start(&mut self, beside_cargo: bool) {
        if let Some(job) = self.job.take() {
            self.running = Some(std::thread::spawn(move || {
                if beside_cargo {
                    crate::threads::lower_priority();
                }
                job.run()
            }));
        }
    }

    pub fn wait(self) -> Result<Loaded> {
        if let Some(job) = self.job {
            return job.run();
        }
        let Some(handle) = self.running else {
            return Err(anyhow::anyhow!(
                "the advisory database load was neither started nor kept"
            ));
        };
        handle.join().map_err(|_| {
            Failure::new("loading the advisory database failed unexpectedly")
                .help("re-run with -vv and report it")
        })?
    }
}

struct Job {
    db_dir: Option<PathBuf>,
    db_spec: advisory_db::DbSpec,
    offline: bool,
    yanked: bool,
    manifest: PathBuf,
}

impl Job {
    fn run(self) -> Result<Loaded> {
        let lockfile =
            Lockfile::nearest(&self.manifest).and_then(|p| Lockfile::read(&p).ok().map(|l| (p, l)));
        let any_crates_io = |l: &Lockfile| {
            l.packages
                .iter()
                .any(|p| p.source.as_deref().is_some_and(crates_io))
        };
        if lockfile.as_ref().is_some_and(|(_, l)| any_crates_io(l)) {
            deny::warm_source_lookup();
        }
        std::thread::scope(|s| {
            let yanked = s.spawn(|| match (&lockfile, self.yanked) {
                (Some((path, lock)), true) => crates_io_yanked(lock, path.parent()),
                _ => None,
            });
            let db = match &self.db_dir {
                Some(dir) => advisory_db::open_dir(dir)?,
                None => advisory_db::load_configured(&self.db_spec, self.offline)?,
            };
            let yanked = yanked.join().unwrap_or(None);
            Ok(Loaded {
                db,
                lockfile: lockfile.clone(),
                yanked,
            })
        })
    }
}

/// Reads the local crates.io index cache as cargo-deny's `Indices::load` does, but
/// from Cargo.lock, so it can run before the dependency graph exists.
fn crates_io_yanked(lock: &Lockfile, root: Option<&Path>) -> Option<HashMap<String, Entry>> {
    let home = cargo_deny::PathBuf::from_path_buf(crate::cargo::home()?).ok()?;
    let root = root.and_then(|r| cargo_deny::PathBuf::from_path_buf(r.to_path_buf()).ok());
    // tame-index would run `cargo -V` twice (sparse or git by default, and how the
    // index directory is named); the toolchain record answers without a process.
    let cargo_version = crate::fingerprint::cargo_version();
    let url = tame_index::IndexUrl::crates_io(root, Some(&home), cargo_version.as_deref()).ok()?;
    let mut location = tame_index::IndexLocation::new(url).with_root(Some(home));
    location.cargo_version = cargo_version.and_then(|v| v.parse().ok());
    let index = tame_index::index::ComboIndexCache::new(location).ok()?;
    let mut wanted: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for p in &lock.packages {
        if p.source.as_deref().is_some_and(crates_io) {
            wanted.entry(&p.name).or_default().push(&p.version);
        }
    }
    let out = wanted
        .into_iter()
        .map(|(name, versions)| {
            let entry = match name.try_into() {
                Ok(krate) => yanked_entry(&index, krate, &versions),
                Err(e) => Entry::Error(format!("{e}")),
            };
            (name.to_owned(), entry)
        })
        .collect();
    Some(out)
}

/// Far above the largest crate's index cache file (a few MiB for crates with
/// thousands of releases).
const INDEX_CACHE_LIMIT: u64 = 64 << 20;

/// The yanked flags of the locked `versions` of one crate. Only those versions' JSON
/// lines are parsed, and only for `yanked`: parsing every release with its
/// dependency list (what `cached_krate` does) cost more CPU than cargo's resolve
/// it runs beside. cargo-deny looks up only locked versions in the map.
fn yanked_entry(
    index: &tame_index::index::ComboIndexCache,
    krate: tame_index::KrateName<'_>,
    versions: &[&str],
) -> Entry {
    // No lock: cargo may hold the package lock while it resolves. A torn read shows up as
    // an Entry::Error, and those names are looked up again after cargo is done.
    let unlocked = tame_index::utils::flock::FileLock::unlocked();
    let tame_index::index::ComboIndexCache::Sparse(sparse) = index else {
        // A git index's cache entries carry the revision they were made at, which
        // `cached_krate` checks against HEAD: keep its full read there.
        return match index.cached_krate(krate, &unlocked) {
            Ok(Some(ik)) => Entry::Map(
                ik.versions
                    .into_iter()
                    .filter_map(|iv| Some((iv.version.parse().ok()?, iv.yanked)))
                    .collect(),
            ),
            Ok(None) => Entry::Error("unable to locate index entry for crate".to_owned()),
            Err(e) => Entry::Error(format!("{e:#}")),
        };
    };
    let path = sparse.cache().cache_path(krate);
    if !path.as_std_path().exists() {
        return Entry::Error("unable to locate index entry for crate".to_owned());
    }
    let bytes = match crate::fsutil::read_bounded(
        path.as_std_path(),
        INDEX_CACHE_LIMIT,
        "index cache file",
    ) {
        Ok(b) => b,
        Err(e) => return Entry::Error(format!("{e:#}")),
    };
    match locked_yanked(&bytes, versions) {
        Ok(map) => Entry::Map(map),
        Err(e) => Entry::Error(e),
    }
}

/// From a cargo index cache file (a header, then NUL-separated version / JSON pairs),
/// whether each of `versions` is yanked; versions not in the file are left out, as
/// cargo-deny reports them ("unable to locate version").
fn locked_yanked(
    bytes: &[u8],
    versions: &[&str],
) -> std::result::Result<Vec<(semver::Version, bool)>, String> {
    #[derive(serde::Deserialize)]
    struct Yanked {
        #[serde(default)]
        yanked: bool,
    }
    let entry =
        tame_index::index::cache::ValidCacheEntry::read(bytes).map_err(|e| format!("{e}"))?;
    let mut fields = entry.version_entries.split(|b| *b == 0);
    let mut out = Vec::new();
    while let (Some(version), Some(json)) = (fields.next(), fields.next()) {
        let Some(v) = std::str::from_utf8(version)
            .ok()
            .filter(|v| versions.contains(v))
            .and_then(|v| v.parse::<semver::Version>().ok())
        else {
            continue;
        };
        if !out.iter().any(|(seen, _)| *seen == v) {
            let y: Yanked = serde_json::from_slice(json)
                .map_err(|e| format!("index entry for version {v} does not parse: {e}"))?;
            out.push((v, y.yanked));
        }
    }
    Ok(out)
}

/// Whether a Cargo.lock `source` is crates.io (git or sparse form).
fn crates_io(source: &str) -> bool {
    source == "registry+https://github.com/rust-lang/crates.io-index"
        || source == "sparse+https://index.crates.io/"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_file(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut b = vec![3u8];
        b.extend(2u32.to_le_bytes());
        b.extend(b"etag: \"x\"\0");
        for (v, json) in entries {
            b.extend(v.as_bytes());
            b.push(0);
            b.extend(json.as_bytes());
            b.push(0);
        }
        b
    }

    #[test]
    fn only_locked_versions_are_read_and_their_yanked_flag_kept() {
        let file = cache_file(&[
            (
                "0.1.0",
                r#"{"name":"a","vers":"0.1.0","deps":[],"cksum":"00","features":{},"yanked":true}"#,
            ),
            (
                "0.2.0",
                r#"{"name":"a","vers":"0.2.0","deps":[],"cksum":"00","features":{},"yanked":false}"#,
            ),
            // Not locked: a line that would not parse is never read.
            ("0.3.0", "not json"),
            (
                "0.4.0",
                r#"{"name":"a","vers":"0.4.0","deps":[],"cksum":"00","features":{}}"#,
            ),
        ]);
        let got = locked_yanked(&file, &["0.1.0", "0.2.0", "0.4.0", "9.9.9"]).unwrap();
        let v = |s: &str| s.parse::<semver::Version>().unwrap();
        assert_eq!(
            got,
            vec![(v("0.1.0"), true), (v("0.2.0"), false), (v("0.4.0"), false)]
        );
        let err = locked_yanked(&file, &["0.3.0"]).unwrap_err();
        assert!(err.contains("version 0.3.0 does not parse"), "{err}");
        assert!(locked_yanked(b"\x01", &["0.1.0"]).is_err());
    }

    /// The lean read agrees with tame-index's full parse on every crates.io package of
    /// this project's own Cargo.lock (the index cache cargo filled when it built us).
    #[test]
    fn lean_lookup_agrees_with_the_full_index_parse() {
        let lock =
            Lockfile::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).unwrap();
        let lean = crates_io_yanked(&lock, Some(Path::new(env!("CARGO_MANIFEST_DIR")))).unwrap();
        let home = cargo_deny::PathBuf::from_path_buf(crate::cargo::home().unwrap()).unwrap();
        let url = tame_index::IndexUrl::crates_io(None, Some(&home), None).unwrap();
        let index = tame_index::index::ComboIndexCache::new(
            tame_index::IndexLocation::new(url).with_root(Some(home)),
        )
        .unwrap();
        let unlocked = tame_index::utils::flock::FileLock::unlocked();
        let mut compared = 0;
        for p in lock
            .packages
            .iter()
            .filter(|p| p.source.as_deref().is_some_and(|s| s.contains("crates.io")))
        {
            let Some(ik) = index
                .cached_krate(p.name.as_str().try_into().unwrap(), &unlocked)
                .unwrap()
            else {
                continue;
            };
            let full = ik
                .versions
                .iter()
                .find(|iv| iv.version.as_str() == p.version)
                .map(|iv| iv.yanked);
            let Some(Entry::Map(map)) = lean.get(&p.name) else {
                panic!("no lean entry for {}", p.name);
            };
            let ours = map
                .iter()
                .find(|(v, _)| v.to_string() == p.version)
                .map(|(_, y)| *y);
            assert_eq!(ours, full, "{} {}", p.name, p.version);
            compared += 1;
        }
        assert!(
            compared > 100,
            "only {compared} packages had an index cache entry"
        );
    }
}
