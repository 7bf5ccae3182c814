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
    /// One line each for what the user should know about where the databases came
    /// from (the embedded snapshot stood in, and why).
    pub notes: Vec<String>,
}

const NO_DB_HELP: &str =
    "pass --advisory-db DIR with a local copy of the RustSec advisory database \
(a directory with crates/<name>/RUSTSEC-*.md)";

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
        notes: Vec::new(),
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

/// Loads the databases configured in deny.toml (default: RustSec): fetched with git
/// when online, from the cache when offline. For RustSec, when neither works (no
/// route to GitHub, offline with nothing cached) the snapshot this binary embeds
/// answers instead, and `notes` says why, with its date.
pub fn load_configured(cfg: &DbSpec, offline: bool) -> Result<LoadedDb> {
    let rustsec = url::Url::parse(advisories::db::DEFAULT_URL).expect("static url");
    let mut urls = cfg.urls.clone();
    if urls.is_empty() {
        urls.push(rustsec.clone());
    }
    let mut loaded = LoadedDb {
        set: DbSet {
            dbs: Vec::new(),
            lock: None,
        },
        info: Vec::new(),
        notes: Vec::new(),
    };
    for url in urls {
        let db = match load_one(&url, cfg, offline) {
            Ok(db) => db,
            Err(why) if same_url(&url, &rustsec) => {
                let (db, info, meta) = open_snapshot()?;
                loaded.notes.push(format!(
                    "{}; using the copy built into this binary ({})",
                    why.reason,
                    meta.describe()
                ));
                loaded.set.dbs.push(db);
                loaded.info.push(info);
                continue;
            }
            Err(why) => return Err(why.into_error(offline)),
        };
        let commit = git_head(db.path.as_std_path()).map(|(c, _)| c);
        loaded.info.push(describe(
            &db.db,
            db.path.as_std_path(),
            Some(url.to_string()),
            commit,
        ));
        loaded.set.dbs.push(db);
    }
    Ok(loaded)
}

/// cargo-deny lower-cases a database URL before naming its directory.
fn same_url(a: &url::Url, b: &url::Url) -> bool {
    let norm = |u: &url::Url| {
        u.as_str()
            .to_lowercase()
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .to_string()
    };
    norm(a) == norm(b)
}

/// Why a configured database could not be loaded: a one-line reason naming it, the git command
/// that failed (as a shell line), and cargo-deny's causes.
struct NotLoaded {
    reason: String,
    command: Option<String>,
    causes: Vec<String>,
}

impl NotLoaded {
    fn into_error(self, offline: bool) -> anyhow::Error {
        let help = if offline {
            "run once without --offline to fetch it into the cache, or pass --advisory-db DIR with a local copy"
        } else {
            "check the network and the URL in deny.toml's [advisories] db-urls, or pass --advisory-db DIR with a local copy"
        };
        let mut detail = self
            .command
            .map(|c| format!("ran: {c}"))
            .into_iter()
            .collect::<Vec<_>>();
        detail.extend(self.causes);
        Failure::new(self.reason)
            .help(help)
            .detail(detail.join("\n"))
            .into()
    }
}

/// One configured database: fetched (online) or read from the cache (offline, or when
/// the fetch fails and a cached copy loads). A failed fetch leaves behind no directory
/// that was not there before it.
fn load_one(url: &url::Url, cfg: &DbSpec, offline: bool) -> Result<AdvisoryDb, NotLoaded> {
    let shown = escape(url.as_str());
    let cached = |fetch, what: &str| match crate::panic_guard::catch(|| {
        AdvisoryDb::load(url.clone(), cfg.db_path.clone(), fetch)
    }) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(err)) => {
            let mut e = not_loaded(&err);
            e.reason = format!("{what} advisory database {shown} ({})", e.reason);
            Err(e)
        }
        Err(panic) => Err(NotLoaded {
            reason: format!(
                "advisory database {shown} in {} could not be parsed: {}",
                escape(cfg.db_path.as_str()),
                escape(&panic)
            ),
            command: None,
            causes: Vec::new(),
        }),
    };
    let from_cache = || {
        if !has_cached_copy(&cfg.db_path, url) {
            return Err(NotLoaded {
                reason: format!(
                    "no copy of advisory database {shown} is cached in {}",
                    escape(cfg.db_path.as_str())
                ),
                command: None,
                causes: Vec::new(),
            });
        }
        cached(
            advisories::Fetch::Disallow(cfg.max_staleness),
            "could not read the cached copy of",
        )
    };
    if offline {
        return from_cache().map_err(|mut e| {
            e.reason = format!("{} and --offline was given", e.reason);
            e
        });
    }
    let fetch = if cfg.git_cli {
        advisories::Fetch::AllowWithGitCli
    } else {
        advisories::Fetch::Allow
    };
    let before = Litter::before(cfg.db_path.as_std_path());
    match cached(fetch, "could not fetch") {
        Ok(db) => Ok(db),
        Err(fetch_failed) => {
            before.clean_up();
            from_cache().map_err(|_| fetch_failed)
        }
    }
}

/// Whether the database directory cargo-deny names after the URL's last path
/// segment (`advisory-db-<hash>`) exists under `root`.
fn has_cached_copy(root: &cargo_deny::Path, url: &url::Url) -> bool {
    let name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("empty_")
        .to_lowercase();
    std::fs::read_dir(root).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix(&name))
                .is_some_and(|rest| rest.starts_with('-') && e.path().join(".git").exists())
        })
    })
}

/// cargo-deny's error for a database, as one line: git's own last message when git
/// failed, with the command it ran rebuilt as a shell line (cargo-deny's text holds
/// its arguments in Rust's Debug form).
fn not_loaded(err: &anyhow::Error) -> NotLoaded {
    let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    let git = chain.iter().find_map(|c| {
        c.split_once('\n')
            .filter(|(first, _)| first.starts_with('['))
    });
    match git {
        Some((args, stderr)) => {
            let said = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
                .or_else(|| stderr.lines().map(str::trim).rfind(|l| !l.is_empty()))
                .unwrap_or("git failed");
            NotLoaded {
                reason: format!("git: {}", escape(said)),
                command: debug_args(args).map(|a| {
                    std::iter::once("git".to_string())
                        .chain(a.iter().map(|w| shell_word(w)))
                        .collect::<Vec<_>>()
                        .join(" ")
                }),
                causes: chain
                    .iter()
                    .filter(|c| !c.contains('\n'))
                    .map(|c| escape(c))
                    .collect(),
            }
        }
        None => NotLoaded {
            reason: escape(&chain.join(": ")),
            command: None,
            causes: Vec::new(),
        },
    }
}

/// `["clone", "--depth=1", …]` (a `Vec<&OsStr>`'s Debug form) back into its words.
fn debug_args(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut words = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut word = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => word.push(chars.next()?),
                        c => word.push(c),
                    }
                }
                words.push(word);
            }
            ',' | ' ' => {}
            _ => return None,
        }
    }
    Some(words)
}

/// A word quoted for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:@+,%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", escape(&word.replace('\'', "'\\''")))
    }
}

/// The directories a fetch may create (the root and its missing ancestors, the
/// database's own), so that a failed fetch can take them away again.
struct Litter {
    root: PathBuf,
    missing_ancestors: Vec<PathBuf>,
    entries: Option<std::collections::BTreeSet<std::ffi::OsString>>,
}

impl Litter {
    fn before(root: &Path) -> Litter {
        let missing_ancestors = root
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && std::fs::symlink_metadata(a).is_err())
            .map(Path::to_path_buf)
            .collect();
        let entries = std::fs::read_dir(root)
            .ok()
            .map(|rd| rd.flatten().map(|e| e.file_name()).collect());
        Litter {
            root: root.to_path_buf(),
            missing_ancestors,
            entries,
        }
    }

    /// Removes what appeared under the root since `before` (a partial clone), then the
    /// directories that did not exist, innermost first, if they are empty.
    fn clean_up(self) {
        if let (Some(old), Ok(rd)) = (&self.entries, std::fs::read_dir(&self.root)) {
            for e in rd.flatten() {
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                if is_dir && !old.contains(&e.file_name()) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        if self.entries.is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
        for dir in &self.missing_ancestors {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The embedded snapshot, extracted into a scratch directory and opened there. On
/// Unix the directory is removed at once: cargo-deny keeps each advisory mapped in
/// memory, which outlives the names.
fn open_snapshot() -> Result<(AdvisoryDb, DbInfo, super::snapshot::Meta)> {
    let scratch = tempfile::Builder::new()
        .prefix("cargo-secure-release-advisory-db-")
        .tempdir()
        .map_err(|e| {
            Failure::new(format!(
                "could not make a scratch directory for the advisory snapshot: {e}"
            ))
            .help("set TMPDIR to a writable directory")
        })?;
    let meta = super::snapshot::extract_embedded(scratch.path())?;
    let utf8 = cargo_deny::PathBuf::from_path_buf(scratch.path().to_path_buf()).map_err(|p| {
        Failure::new(format!("scratch directory {} is not UTF-8", p.display()))
            .help("set TMPDIR to a directory with a UTF-8 path")
    })?;
    let db = open_guarded(&utf8)?;
    let mut info = describe(
        &db,
        scratch.path(),
        Some(advisories::db::DEFAULT_URL.to_string()),
        Some(meta.commit.clone()),
    );
    info.embedded = true;
    info.path = "built into this binary".to_string();
    let fetch_time = format!("{}T00:00:00Z", meta.date)
        .parse()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    #[cfg(unix)]
    drop(scratch);
    #[cfg(not(unix))]
    std::mem::forget(scratch);
    let db = AdvisoryDb {
        url: url::Url::parse(advisories::db::DEFAULT_URL).expect("static url"),
        db,
        path: utf8,
        fetch_time,
    };
    Ok((db, info, meta))
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
        embedded: false,
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

/// The `.md` entries under the database's `crates/`, with their (unfollowed) metadata
/// (also what `cargo xtask advisory-snapshot` packs).
pub fn advisory_files(db_dir: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    crate::fsutil::files_under(&db_dir.join("crates"))
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|x| x == "md"))
        .collect()
}
