//! Loading the advisory database: a local directory (`--advisory-db`, no git needed)
//! or the databases deny.toml names, fetched by cargo-deny when online.

use crate::error::{escape, Failure};
use crate::report::DbInfo;
use anyhow::Result;
use cargo_deny::advisories::{self, AdvisoryDb, DbSet};
use std::path::{Path, PathBuf};

pub struct LoadedDb {
    pub set: DbSet,
    pub info: Vec<DbInfo>,
}

const NO_DB_HELP: &str = "pass --advisory-db DIR with a local copy of the RustSec advisory database \
(a directory with crates/<name>/RUSTSEC-*.md), or run once without --offline to fetch it into the cache";

/// Opens a plain directory laid out like the RustSec repository.
pub fn open_dir(dir: &Path) -> Result<LoadedDb> {
    let crates = dir.join("crates");
    if !crates.is_dir() {
        return Err(Failure::new(format!(
            "advisory database {} has no `crates` directory",
            dir.display()
        ))
        .help(NO_DB_HELP)
        .into());
    }
    let utf8 = cargo_deny::PathBuf::from_path_buf(dir.to_path_buf()).map_err(|p| {
        Failure::new(format!(
            "advisory database path {} is not UTF-8",
            p.display()
        ))
    })?;
    let db = open_guarded(&utf8)?;
    let commit = git_head(dir);
    let url = url::Url::parse("file:///").expect("static url");
    let fetch_time = commit
        .as_ref()
        .map(|(_, t)| *t)
        .unwrap_or_else(jiff::Timestamp::now);
    let info = describe(&db, dir, None, commit.map(|(c, _)| c));
    Ok(LoadedDb {
        set: DbSet {
            dbs: vec![AdvisoryDb {
                url,
                db,
                path: utf8,
                fetch_time,
            }],
            lock: None,
        },
        info: vec![info],
    })
}

/// The part of deny.toml's `[advisories]` that says where the databases are.
#[derive(Clone)]
pub struct DbSpec {
    pub urls: Vec<url::Url>,
    pub db_path: cargo_deny::PathBuf,
    pub max_staleness: std::time::Duration,
    pub git_cli: bool,
}

impl DbSpec {
    pub fn from_config(cfg: &advisories::cfg::ValidConfig) -> DbSpec {
        DbSpec {
            urls: cfg.db_urls.iter().map(|u| u.value.clone()).collect(),
            db_path: cfg.db_path.clone(),
            max_staleness: cfg.maximum_db_staleness.value,
            git_cli: cfg.git_fetch_with_cli,
        }
    }
}

/// Loads the databases configured in deny.toml (default: RustSec), fetching with git
/// when online, and from the cache only when offline.
pub fn load_configured(cfg: &DbSpec, offline: bool) -> Result<LoadedDb> {
    let mut urls = cfg.urls.clone();
    if urls.is_empty() {
        urls.push(url::Url::parse(advisories::db::DEFAULT_URL).expect("static url"));
    }
    let fetch = if offline {
        advisories::Fetch::Disallow(cfg.max_staleness)
    } else if cfg.git_cli {
        advisories::Fetch::AllowWithGitCli
    } else {
        advisories::Fetch::Allow
    };
    let mut dbs = Vec::new();
    let mut info = Vec::new();
    for url in urls {
        let loaded =
            crate::panic_guard::catch(|| AdvisoryDb::load(url.clone(), cfg.db_path.clone(), fetch));
        let db = match loaded {
            Ok(Ok(db)) => db,
            Ok(Err(err)) => {
                let mode = if offline {
                    " from the cache (offline)"
                } else {
                    ""
                };
                // The cause chain only: anyhow's Debug form would add a backtrace.
                let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
                return Err(Failure::new(format!(
                    "could not load advisory database {url}{mode}: {err}"
                ))
                .help(NO_DB_HELP)
                .detail(causes.join("\n"))
                .into());
            }
            Err(panic) => {
                return Err(Failure::new(format!(
                    "advisory database {url} in {} could not be parsed: {panic}",
                    cfg.db_path
                ))
                .help("delete that directory so it is fetched again, or pass --advisory-db DIR")
                .into())
            }
        };
        let commit = git_head(db.path.as_std_path()).map(|(c, _)| c);
        info.push(describe(
            &db.db,
            db.path.as_std_path(),
            Some(url.to_string()),
            commit,
        ));
        dbs.push(db);
    }
    Ok(LoadedDb {
        set: DbSet { dbs, lock: None },
        info,
    })
}

fn describe(
    db: &advisories::db::Database,
    path: &Path,
    url: Option<String>,
    commit: Option<String>,
) -> DbInfo {
    let newest = db
        .advisories
        .values()
        .map(|e| e.advisory.advisory.date)
        .max();
    let mut info = DbInfo {
        path: path.display().to_string(),
        url,
        commit,
        newest_advisory: newest.map(|d| d.to_string()),
        age_days: None,
        advisories: db.advisories.len(),
    };
    info.refresh_age();
    info
}

/// The HEAD commits of the databases an audit reads (`--advisory-db`, else each
/// database under the configured `db-path`) that are git checkouts.
pub fn heads(dir: Option<&Path>, cfg: &advisories::cfg::ValidConfig) -> Vec<String> {
    let root = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cfg.db_path.clone().into_std_path_buf());
    let mut dirs = vec![root.clone()];
    if let Ok(rd) = std::fs::read_dir(&root) {
        dirs.extend(rd.flatten().map(|e| e.path()));
    }
    dirs.sort();
    dirs.iter()
        .filter(|d| d.join(".git").exists())
        .filter_map(|d| git_head(d).map(|(c, _)| format!("{}\0{c}", d.display())))
        .collect()
}

/// The commit of a database that is a git checkout, with its time.
fn git_head(dir: &Path) -> Option<(String, jiff::Timestamp)> {
    let (id, secs) = crate::git::head_of(dir)?;
    Some((id, jiff::Timestamp::from_second(secs).ok()?))
}

/// cargo-deny's `Database::open` panics on some malformed advisories; turn that into
/// an error that names the offending file.
fn open_guarded(dir: &cargo_deny::Path) -> Result<advisories::db::Database> {
    check_sizes(dir.as_std_path())?;
    match crate::panic_guard::catch(|| advisories::db::Database::open(dir)) {
        Ok(Ok(db)) => {
            // cargo-deny accepts an advisory with no `package`; it would then match nothing.
            if let Some((id, _)) = db
                .advisories
                .iter()
                .find(|(_, e)| e.advisory.advisory.krate.is_empty())
            {
                let no_package = |r: Result<Result<advisories::db::Database>, String>| matches!(r, Ok(Ok(db)) if db.advisories.values().any(|e| e.advisory.advisory.krate.is_empty()));
                let what = match culprit(dir.as_std_path(), no_package) {
                    Some(f) => format!("advisory file {}", escape(&f.display().to_string())),
                    None => format!("advisory `{}`", escape(id)),
                };
                return Err(Failure::new(format!("{what} has no `package` key"))
                    .help("fix or remove that advisory file, or use an unmodified copy of the database")
                    .into());
            }
            Ok(db)
        }
        Ok(Err(err)) => {
            let text = format!("{err:#}");
            let help = if text.contains("failed to load any advisories") {
                "the directory holds no advisories: point --advisory-db at a copy of the RustSec database".to_string()
            } else {
                "fix or remove that advisory file, or use an unmodified copy of the database"
                    .to_string()
            };
            Err(Failure::new(format!("advisory database {dir}: {text}"))
                .help(help)
                .into())
        }
        Err(panic) => {
            let culprit = culprit(dir.as_std_path(), |r| r.is_err());
            let what = match &culprit {
                Some(f) => format!("advisory file {} could not be parsed", f.display()),
                None => format!("advisory database {dir} could not be parsed"),
            };
            Err(Failure::new(format!("{what}: {panic}"))
                .help("fix or remove that advisory file, or use an unmodified copy of the database")
                .into())
        }
    }
}

/// Opens each advisory on its own in a scratch database to find the first one for
/// which `bad` holds (it panics, or it has no package): cargo-deny keeps no paths.
fn culprit(
    dir: &Path,
    bad: impl Fn(Result<Result<advisories::db::Database>, String>) -> bool,
) -> Option<PathBuf> {
    let scratch = tempfile::tempdir().ok()?;
    for (file, _) in advisory_files(dir) {
        let sub = scratch.path().join("crates").join("x");
        let _ = std::fs::remove_dir_all(scratch.path().join("crates"));
        std::fs::create_dir_all(&sub).ok()?;
        std::fs::copy(&file, sub.join(file.file_name()?)).ok()?;
        let p = cargo_deny::Path::from_path(scratch.path())?;
        let r = crate::panic_guard::catch(|| advisories::db::Database::open(p));
        if bad(r) {
            return Some(file);
        }
    }
    None
}

/// The largest advisory file we let cargo-deny read: RustSec's largest is about
/// 10 KiB, and cargo-deny reads each file whole.
const ADVISORY_LIMIT: u64 = 1 << 20;

/// cargo-deny reads every `.md` regular file under `crates/` (it skips links and
/// special files) without a bound: the sizes are checked first. This listing is mostly
/// off the critical path, as the database loads while cargo resolves; after a
/// fingerprint hit whose findings cache misses, the load is waited on, and it with it.
fn check_sizes(dir: &Path) -> Result<()> {
    let big = advisory_files(dir)
        .into_iter()
        .find(|(_, m)| m.is_file() && m.len() > ADVISORY_LIMIT);
    match big {
        None => Ok(()),
        Some((p, m)) => Err(Failure::new(format!(
            "advisory file {} is {} bytes, more than the {ADVISORY_LIMIT} bytes this tool reads",
            escape(&p.display().to_string()),
            m.len()
        ))
        .help("remove that file, or use an unmodified copy of the database")
        .into()),
    }
}

/// The `.md` entries under the database's `crates/`, with their (unfollowed) metadata.
fn advisory_files(db_dir: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    crate::fsutil::files_under(&db_dir.join("crates"))
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|x| x == "md"))
        .collect()
}
