//! The warm path without cargo: `cargo metadata --locked` output kept with a record
//! of everything it was computed from (cargo's own fingerprint idea). When every
//! recorded input is unchanged, the stored JSON is the answer and cargo is not run;
//! anything else is a miss that runs cargo as before and records afresh.
//!
//! The cold run defines the answer, so the record holds every input cargo reads to
//! make it, by class:
//! - manifests: every path package's (members and path dependencies), the root's,
//!   and every `Cargo.toml` up the directory tree from each of them, present or
//!   absent (a parent workspace that appears takes the package in); the manifests of
//!   `[patch]`, `[replace]` and config `paths` entries, whether or not they apply;
//! - auto-discovered targets: whether `src/main.rs`, `src/lib.rs` and `build.rs`
//!   exist, and the listings of `src/bin`, `examples`, `tests`, `benches` and of
//!   their subdirectories (cargo's `*/main.rs` targets);
//! - Cargo.lock and the directories the `members`/`exclude` globs list;
//! - cargo's config files along its search path and in `$CARGO_HOME` (their absence
//!   too), the toolchain selection (`rust-toolchain(.toml)`, rustup's settings, the
//!   `cargo` found on PATH), and the `CARGO_*`/`RUSTUP_*`/`RUSTC*` environment.
//!
//! Files are compared by their stamp (device, inode, size, mtime, ctime: what git's
//! index keeps; user space cannot set ctime) and by SHA-256 of the content whenever
//! any part of the stamp moved, or the file had changed within the clock's
//! resolution of being recorded. Environment values are kept only as keyed hashes,
//! and variables named like secrets (TOKEN, SECRET, PASSWORD, KEY) only as present.
//! Records live in the authenticated store (`cache::Store`).

use crate::cache::Store;
use crate::digest::{hex, sha256_hex};
use crate::fsutil::Stamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Bumped when the record's meaning changes.
const FORMAT: u32 = 3;
const METADATA_NS: &str = "metadata-v2";
const TOOLCHAIN_NS: &str = "toolchain-v2";

#[derive(Serialize, Deserialize, PartialEq, Eq, Debug, Clone)]
enum State {
    Missing,
    File {
        stamp: Stamp,
        /// Empty: judged by the stamp alone (`Watch::Stamp`).
        sha256: String,
        /// Changed within the clock's resolution before it was recorded: an equal
        /// stamp does not prove an equal file; only the content does.
        fresh: bool,
    },
    /// A directory's sorted entries (names and kinds), hashed, and its stamp: adding,
    /// removing or renaming an entry moves the directory's mtime and ctime, so an
    /// unchanged stamp spares the listing, as for a file's content. Not when an entry
    /// is a symbolic link: its target can come and go with the stamp unmoved.
    Dir {
        stamp: Stamp,
        fresh: bool,
        links: bool,
        /// Empty: judged by the stamp alone (`Watch::Stamp`).
        listing: String,
    },
}

impl State {
    /// Content read after the stamp was taken (a hash or a listing): a change between
    /// the two would pair an old stamp with new content.
    fn has_content(&self) -> bool {
        match self {
            State::Missing => false,
            State::File { sha256, .. } => !sha256.is_empty(),
            State::Dir { listing, .. } => !listing.is_empty(),
        }
    }

    fn stamp(&self) -> Option<&Stamp> {
        match self {
            State::Missing => None,
            State::File { stamp, .. } | State::Dir { stamp, .. } => Some(stamp),
        }
    }
}

/// How an input is watched.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Watch {
    /// Content (by stamp, then hash); a directory by its listing.
    Content,
    /// The stamp alone, the content only while the stamp cannot prove it (fresh): a
    /// moved stamp is a miss, never saved by an equal content. For the cargo binary
    /// (tens of megabytes) and the files of packages from a source (a thousand
    /// manifests and listings nobody edits on a large workspace).
    Stamp,
}

#[derive(Serialize, Deserialize)]
struct Record {
    format: u32,
    env: Vec<(String, String)>,
    inputs: Vec<(PathBuf, State)>,
    /// SHA-256 of the `cargo metadata` JSON stored beside the record (raw, so the
    /// warm path parses it once).
    metadata_sha256: String,
}

/// The slot for one question: which manifest, with which flags, from where.
fn slot(manifest_path: &Path, offline: bool, frozen: bool) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(manifest_path.as_os_str().as_encoded_bytes());
    h.update([0, offline as u8, frozen as u8]);
    if let Ok(cwd) = std::env::current_dir() {
        h.update(cwd.as_os_str().as_encoded_bytes());
    }
    hex(&h.finalize())
}

/// The stored `cargo metadata` JSON when nothing it depends on changed, and the
/// SHA-256 (hex) it was recorded with: the caller, which hashes the JSON anyway,
/// must find the same, or two runs recording at once paired one's record with the
/// other's JSON.
pub fn lookup(manifest_path: &Path, offline: bool, frozen: bool) -> Option<(Vec<u8>, String)> {
    let store = crate::cache::store()?;
    let name = slot(manifest_path, offline, frozen);
    // The stored JSON (megabytes to read and authenticate) is read on another core
    // while the record and its inputs are looked at: a warm run needs both. After a
    // miss the read ends on its own beside cargo, unused.
    let stored = format!("{name}.metadata");
    let read_json = move || store.read(METADATA_NS, &stored, crate::fsutil::LOCKFILE_LIMIT);
    let reading = std::thread::Builder::new().spawn(read_json.clone()).ok();
    let bytes = store.read(
        METADATA_NS,
        &format!("{name}.json"),
        crate::fsutil::LOCKFILE_LIMIT,
    )?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    if record.format != FORMAT || record.env != env(store) {
        return None;
    }
    if !all_unchanged(&record.inputs) {
        return None;
    }
    let json = match reading {
        Some(r) => r.join().ok()??,
        None => read_json()?,
    };
    Some((json, record.metadata_sha256))
}

/// What a record is made from: the JSON with its SHA-256 (hex), the workspace root
/// and the manifests of its path packages (both read from the parsed JSON).
pub struct Answer {
    pub json: std::sync::Arc<[u8]>,
    pub sha256: String,
    pub root: PathBuf,
    pub path_manifests: Vec<PathBuf>,
    /// The manifests cargo read for every other package: extracted registry sources,
    /// git checkouts, vendored directories. Normally never edited, but a file there
    /// is what cargo reads, and a `git pull` can change a vendored one.
    pub source_manifests: Vec<PathBuf>,
}

/// The inputs' state, taken before cargo runs: an input changed while cargo reads
/// leaves a record that misses next time rather than one that pairs the old answer
/// with the new state. The path packages are known only from cargo's answer, so
/// their part is taken after it (`record`); an edit in between shows in their ctime.
pub struct Before {
    env: Vec<(String, String)>,
    inputs: Vec<(PathBuf, State)>,
    started_ns: u128,
    predicted: Option<std::thread::JoinHandle<Predicted>>,
}

/// What cargo's answer will most likely name, looked at while cargo runs on the
/// other core: the packages Cargo.lock pins from a registry, unpacked under
/// `$CARGO_HOME` (a thousand directories on a large workspace, most of what a
/// record holds). They are judged by their stamps alone, so when a state was taken
/// does not matter: `record` holds each stamp against the time cargo started, as
/// for every stamp-only input. A guess that is not in the answer is never used.
#[derive(Default)]
struct Predicted {
    /// Each package directory's target inputs (`target_inputs`), as listed then.
    /// Keyed by the paths' bytes: `Path` hashes component by component, and the
    /// record looks up ten thousand of them.
    targets: HashMap<OsString, Vec<(PathBuf, Watch)>>,
    /// The state of each of those inputs and the manifests, and whether it is a link.
    states: HashMap<(OsString, Watch), (State, bool)>,
}

fn predict(manifest_path: &Path) -> Predicted {
    let mut out = Predicted::default();
    let lock = crate::lockfile::Lockfile::nearest(manifest_path);
    let Some(lock) = lock.and_then(|l| crate::lockfile::Lockfile::read(&l).ok()) else {
        return out;
    };
    let Some(home) = crate::cargo::home() else {
        return out;
    };
    // One directory per registry (its name ends in a hash of the URL cargo computes):
    // each is tried; a package not unpacked there is a few missing paths.
    let indexes: Vec<PathBuf> = std::fs::read_dir(home.join("registry/src"))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let now = crate::fsutil::now_ns();
    for p in &lock.packages {
        let from_registry = p
            .source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"));
        if !from_registry {
            continue;
        }
        for index in &indexes {
            let dir = index.join(format!("{}-{}", p.name, p.version));
            let targets = target_inputs(&dir, Watch::Stamp);
            let manifest = (dir.join("Cargo.toml"), Watch::Stamp);
            for (path, watch) in targets.iter().cloned().chain([manifest]) {
                let st = state(&path, watch, now);
                out.states.insert((path.into_os_string(), watch), st);
            }
            out.targets.insert(dir.into_os_string(), targets);
        }
    }
    out
}

/// File times come from a coarse clock that lags the fine one by up to a tick.
const TICK_NS: u128 = 5_000_000;

/// The state of the inputs known before cargo's answer (None without a store).
pub fn before(manifest_path: &Path) -> Option<Before> {
    let store = crate::cache::store()?;
    let env = env(store);
    let inputs = states(static_inputs(manifest_path));
    let started_ns = crate::fsutil::now_ns();
    let manifest = manifest_path.to_path_buf();
    // Wanted only when cargo's answer comes: it yields to everything else.
    let predicted = std::thread::Builder::new()
        .spawn(move || {
            crate::threads::lower_priority();
            predict(&manifest)
        })
        .ok();
    Some(Before {
        env,
        inputs,
        started_ns,
        predicted,
    })
}

/// Records the answer with the state of its inputs. Best effort: a record that
/// cannot be written only means cargo runs next time.
pub fn record(manifest_path: &Path, offline: bool, frozen: bool, before: Before, answer: Answer) {
    let Some(store) = crate::cache::store() else {
        return;
    };
    let mut inputs = before.inputs;
    let mut predicted = before
        .predicted
        .and_then(|p| p.join().ok())
        .unwrap_or_default();
    let known: std::collections::HashSet<&std::ffi::OsStr> =
        inputs.iter().map(|(p, _)| p.as_os_str()).collect();
    // None: more inputs than a record should hold; cargo runs every time.
    let Some(more) = answer_inputs(
        &answer.root,
        answer.path_manifests,
        answer.source_manifests,
        &mut predicted.targets,
    ) else {
        return;
    };
    let now = crate::fsutil::now_ns();
    let more_states: Vec<(PathBuf, State, bool)> = more
        .into_iter()
        .filter(|(p, _)| !known.contains(p.as_os_str()))
        .map(|(path, watch)| {
            let key = (path.into_os_string(), watch);
            let taken = predicted.states.remove(&key);
            let path = PathBuf::from(key.0);
            let (st, link) = taken.unwrap_or_else(|| state(&path, watch, now));
            (path, st, link)
        })
        .collect();
    // One of these changed since cargo started: whether cargo saw the old or the new
    // state cannot be told, so nothing is recorded. An edit moves a file's ctime, an
    // entry added or removed its directory's, a rename the moved inode's. What was
    // judged by its stamp alone is judged by the stamp recorded: a change after it
    // was taken moves it, so the next run misses. Content (a hash, a listing) is read
    // after the stamp, so there the path is looked at again: a change up to that
    // moment is caught by its time. What leaves no time on the path itself is a file
    // removed (absent now) or a link retargeted: for those, the directory holding it.
    let moved = |st: &Stamp| st.mtime_ns.max(st.ctime_ns) + TICK_NS > before.started_ns;
    let moved_since = |p: &Path| std::fs::metadata(p).is_ok_and(|m| moved(&Stamp::of(&m)));
    let raced_at = |(p, s, _): &(PathBuf, State, bool)| match s.has_content() {
        true => moved_since(p),
        false => s.stamp().is_some_and(moved),
    };
    // A thousand registry packages share one parent: each directory once.
    let parents: std::collections::BTreeSet<&Path> = more_states
        .iter()
        .filter(|(_, s, link)| *link || matches!(s, State::Missing))
        .filter_map(|(p, _, _)| p.parent())
        .collect();
    let raced = more_states.iter().any(raced_at) || parents.into_iter().any(moved_since);
    if raced {
        return;
    }
    inputs.extend(more_states.into_iter().map(|(p, s, _)| (p, s)));
    inputs.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    let record = Record {
        format: FORMAT,
        env: before.env,
        inputs,
        metadata_sha256: answer.sha256,
    };
    let name = slot(manifest_path, offline, frozen);
    // The JSON first: a record never points at a metadata file not yet written.
    store.write(METADATA_NS, &format!("{name}.metadata"), &answer.json);
    if let Ok(out) = serde_json::to_vec(&record) {
        store.write(METADATA_NS, &format!("{name}.json"), &out);
    }
}

fn states(inputs: Vec<(PathBuf, Watch)>) -> Vec<(PathBuf, State)> {
    let now = crate::fsutil::now_ns();
    inputs
        .into_iter()
        .map(|(p, w)| {
            let s = state(&p, w, now).0;
            (p, s)
        })
        .collect()
}

/// Which toolchain program answered: its binary is one of the record's inputs.
#[derive(Clone, Copy)]
pub enum Tool {
    /// `$RUSTC`, else `rustc` on PATH.
    Rustc,
    /// `$CARGO`, else `cargo` on PATH.
    Cargo,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Rustc => "rustc",
            Tool::Cargo => "cargo",
        }
    }

    fn binary(self) -> Option<PathBuf> {
        match self {
            Tool::Rustc => std::env::var_os("RUSTC")
                .map(PathBuf::from)
                .and_then(|r| match r.components().count() > 1 {
                    true => Some(r),
                    false => on_path(&r.to_string_lossy()),
                })
                .or_else(|| on_path("rustc")),
            Tool::Cargo => cargo_on_path(),
        }
    }
}

/// A toolchain program's answer to a question whose answer only a new toolchain
/// changes (rustc's host triple and a target's cfg, cargo's version), kept the same
/// way: starting rustc or cargo through the rustup proxy costs 10-20 ms, most of what
/// `tag` spends of its own. Inputs: the environment above, the program found (`$RUSTC`
/// or `$CARGO`, else on PATH; size and time), the toolchain selection
/// (`rust-toolchain(.toml)` from the current directory up, rustup's settings) and what
/// `rustup update`/`install` rewrite (`$RUSTUP_HOME/update-hashes`, the toolchains
/// directory). Only answers of a successful run are kept. `run` is the real question.
pub fn toolchain_answer(
    tool: Tool,
    args: &[&str],
    run: impl FnOnce() -> std::io::Result<std::process::Output>,
) -> std::io::Result<std::process::Output> {
    let store = crate::cache::store();
    let slot = tool_slot(tool, args);
    if let Some(stdout) = store.and_then(|s| tool_lookup(s, &slot)) {
        return Ok(std::process::Output {
            status: success(),
            stdout,
            stderr: Vec::new(),
        });
    }
    // The inputs' state before the run: a toolchain changing meanwhile leaves a
    // record that misses next time rather than one that pairs the old answer with
    // the new state.
    let inputs = store.map(|_| states(tool_inputs(tool)));
    let out = run()?;
    if let (Some(store), Some(inputs), true, Ok(text)) = (
        store,
        inputs,
        out.status.success(),
        std::str::from_utf8(&out.stdout),
    ) {
        let record = ToolRecord {
            format: FORMAT,
            env: env(store),
            inputs,
            stdout: text.to_string(),
        };
        if let Ok(json) = serde_json::to_vec(&record) {
            store.write(TOOLCHAIN_NS, &slot, &json);
        }
    }
    Ok(out)
}

/// The version of the cargo that `cargo metadata` runs (`cargo -V`'s second word),
/// from the record when the toolchain is unchanged.
pub fn cargo_version() -> Option<String> {
    let cargo = cargo_on_path().unwrap_or_else(|| PathBuf::from("cargo"));
    let out = toolchain_answer(Tool::Cargo, &["-V"], || {
        std::process::Command::new(&cargo).arg("-V").output()
    })
    .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let v = text.split_whitespace().nth(1)?;
    // tame-index wants a bare semver version; `1.80.0-nightly` parses, build metadata too.
    Some(v.to_string())
}

/// `rustc -vV` (`$RUSTC`, else rustc on PATH), from the record when the toolchain
/// is unchanged: the compiler a release's provenance names.
pub fn rustc_version_verbose() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = toolchain_answer(Tool::Rustc, &["-vV"], || {
        std::process::Command::new(&rustc).arg("-vV").output()
    })
    .ok()?;
    match out.status.success() {
        true => String::from_utf8(out.stdout).ok(),
        false => None,
    }
}

#[derive(Serialize, Deserialize)]
struct ToolRecord {
    format: u32,
    env: Vec<(String, String)>,
    inputs: Vec<(PathBuf, State)>,
    stdout: String,
}

fn tool_slot(tool: Tool, args: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(tool.name().as_bytes());
    h.update([0]);
    for a in args {
        h.update(a.as_bytes());
        h.update([0]);
    }
    if let Ok(cwd) = std::env::current_dir() {
        h.update(cwd.as_os_str().as_encoded_bytes());
    }
    format!("{}.json", hex(&h.finalize()))
}

fn tool_lookup(store: &Store, slot: &str) -> Option<Vec<u8>> {
    let bytes = store.read(TOOLCHAIN_NS, slot, crate::fsutil::KEY_LIMIT)?;
    let record: ToolRecord = serde_json::from_slice(&bytes).ok()?;
    if record.format != FORMAT || record.env != env(store) {
        return None;
    }
    if record.inputs.iter().any(|(p, s)| !unchanged(p, s)) {
        return None;
    }
    Some(record.stdout.into_bytes())
}

/// The files that decide which program answers (binaries by their stamp).
fn tool_inputs(tool: Tool) -> Vec<(PathBuf, Watch)> {
    let mut v = Vec::new();
    if let Some(b) = tool.binary() {
        v.push((b, Watch::Stamp));
    }
    if let Ok(cwd) = std::env::current_dir() {
        for d in cwd.ancestors() {
            v.push((d.join("rust-toolchain.toml"), Watch::Content));
            v.push((d.join("rust-toolchain"), Watch::Content));
        }
    }
    if let Some(r) = rustup_home() {
        v.push((r.join("settings.toml"), Watch::Content));
        v.push((r.join("toolchains"), Watch::Content));
        v.push((r.join("update-hashes"), Watch::Content));
        if let Ok(rd) = std::fs::read_dir(r.join("update-hashes")) {
            v.extend(rd.flatten().map(|e| (e.path(), Watch::Content)));
        }
    }
    v.sort();
    v.dedup_by(|a, b| a.0 == b.0);
    v
}

fn rustup_home() -> Option<PathBuf> {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".rustup")))
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(format!("{program}{}", std::env::consts::EXE_SUFFIX)))
        .find(|p| p.is_file())
}

#[cfg(unix)]
fn success() -> std::process::ExitStatus {
    std::os::unix::process::ExitStatusExt::from_raw(0)
}

#[cfg(windows)]
fn success() -> std::process::ExitStatus {
    std::os::windows::process::ExitStatusExt::from_raw(0)
}

/// The variables that can change what cargo resolves or which cargo runs, each
/// with a keyed hash of its value: a record must notice a change without holding
/// the value. A variable named like a secret is kept as present, and nothing more.
fn env(store: &Store) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, val)| Some((k.into_string().ok()?, val)))
        .filter(|(k, _)| {
            (k.starts_with("CARGO")
                && !k.starts_with("CARGO_SECURE_RELEASE")
                && !k.starts_with("CARGO_TERM"))
                || k.starts_with("__CARGO")
                || k.starts_with("RUSTUP_")
                || k.starts_with("RUSTC")
                || k.starts_with("RUSTFLAGS")
                || k.starts_with("RUSTDOCFLAGS")
                || k == "PATH"
                || k == "HOME"
        })
        .map(|(k, val)| {
            let kept = match secret_name(&k) {
                true => "set".to_string(),
                false => store.keyed_hash(val.as_encoded_bytes()),
            };
            (k, kept)
        })
        .collect();
    v.sort();
    v
}

/// Names whose values are credentials by convention (cargo's `CARGO_REGISTRY_TOKEN`,
/// `CARGO_REGISTRIES_<NAME>_TOKEN`, a signing key's passphrase...).
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSPHRASE",
        "KEY",
        "CREDENTIAL",
        // A proxy URL can carry a user and password.
        "PROXY",
        "AUTH",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// What `cargo metadata` reads that is known before its answer: the manifest given
/// and every `Cargo.toml` above it (a parent workspace that appears takes the
/// package in), cargo's config files on its search path and in `$CARGO_HOME`, the
/// toolchain selection and the cargo binary.
fn static_inputs(manifest_path: &Path) -> Vec<(PathBuf, Watch)> {
    let mut v = vec![(manifest_path.to_path_buf(), Watch::Content)];
    if let Some(dir) = manifest_path.parent() {
        v.extend(ancestor_manifests(dir));
    }
    // Cargo reads config from the current directory up, then $CARGO_HOME.
    let cwd = std::env::current_dir().ok();
    let dirs = cwd
        .iter()
        .flat_map(|c| c.ancestors())
        .chain(manifest_path.parent().into_iter().flat_map(Path::ancestors));
    let mut configs = Vec::new();
    for d in dirs {
        configs.push(d.join(".cargo/config.toml"));
        configs.push(d.join(".cargo/config"));
        v.push((d.join("rust-toolchain.toml"), Watch::Content));
        v.push((d.join("rust-toolchain"), Watch::Content));
    }
    if let Some(home) = crate::cargo::home() {
        configs.push(home.join("config.toml"));
        configs.push(home.join("config"));
    }
    let configs = with_includes(configs);
    // Paths a config file names (`[patch]`, `paths`, `[source] directory`): relative
    // to the directory that holds its `.cargo` directory.
    for c in &configs {
        let base = c.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
        v.extend(patched_manifests(c, base, true));
    }
    v.extend(configs.into_iter().map(|c| (c, Watch::Content)));
    // The toolchain: the cargo found and what `rustup update`/`install` rewrite (the
    // proxy on PATH stays the same file when the real cargo behind it changes).
    v.extend(tool_inputs(Tool::Cargo));
    v.sort();
    v.dedup_by(|a, b| a.0 == b.0);
    v
}

/// What cargo read that only its answer names: each path package's manifest, the
/// manifests above it, its auto-discovered targets; the root manifest's globbed
/// directories and `[patch]`/`[replace]` paths; Cargo.lock.
/// `listed`: package directories whose target inputs were listed already (`predict`).
fn answer_inputs(
    root: &Path,
    path_manifests: Vec<PathBuf>,
    source_manifests: Vec<PathBuf>,
    listed: &mut HashMap<OsString, Vec<(PathBuf, Watch)>>,
) -> Option<Vec<(PathBuf, Watch)>> {
    let mut v = Vec::new();
    for m in path_manifests.iter().chain([&root.join("Cargo.toml")]) {
        v.push((m.clone(), Watch::Content));
        let Some(dir) = m.parent() else { continue };
        v.extend(ancestor_manifests(dir));
        v.extend(target_inputs(dir, Watch::Content));
    }
    // Packages from a source: no workspace is searched for above them, but their
    // targets are discovered like any package's.
    for m in &source_manifests {
        v.push((m.clone(), Watch::Stamp));
        if let Some(dir) = m.parent() {
            match listed.remove(dir.as_os_str()) {
                Some(targets) => v.extend(targets),
                None => v.extend(target_inputs(dir, Watch::Stamp)),
            }
        }
    }
    v.push((root.join("Cargo.lock"), Watch::Content));
    v.extend(glob_dirs(root)?.into_iter().map(|d| (d, Watch::Content)));
    v.extend(patched_manifests(&root.join("Cargo.toml"), root, false));
    sort_inputs(&mut v);
    Some(v)
}

/// Sorted by path (as bytes), each path once: content watched where both are asked.
/// `Path`'s own order compares component by component, which over a large
/// workspace's ten thousand inputs cost twenty milliseconds; only the record's
/// layout depends on the order.
fn sort_inputs(v: &mut Vec<(PathBuf, Watch)>) {
    v.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()).then(a.1.cmp(&b.1)));
    v.dedup_by(|a, b| a.0 == b.0);
}

/// `Cargo.toml` in every directory above `dir`, present or absent.
fn ancestor_manifests(dir: &Path) -> impl Iterator<Item = (PathBuf, Watch)> + '_ {
    dir.ancestors()
        .skip(1)
        .map(|d| (d.join("Cargo.toml"), Watch::Content))
}

/// What cargo's target auto-discovery looks at in a package directory.
fn target_inputs(dir: &Path, watch: Watch) -> Vec<(PathBuf, Watch)> {
    // The package directory's and `src`'s listings (names and kinds) say whether
    // `build.rs`, a README (cargo fills an unset `readme` with the one it finds),
    // `src/main.rs`, `src/lib.rs` and the target directories below exist: two stats
    // on a warm run where naming each would be ten.
    let mut v = vec![(dir.to_path_buf(), watch), (dir.join("src"), watch)];
    for sub in ["src/bin", "examples", "tests", "benches"] {
        let d = dir.join(sub);
        // Each `name/main.rs` is a target too: the subdirectories' listings.
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir()) {
                    v.push((e.path(), watch));
                }
            }
            v.push((d, watch));
        }
    }
    v
}

/// The config files and, recursively (a few levels), those their `include` key
/// names, relative to the including file's directory; absent ones too.
fn with_includes(configs: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut next = configs;
    for _ in 0..4 {
        let mut found = Vec::new();
        for c in &next {
            let Some(doc) = read_toml(c) else { continue };
            let dir = c.parent().unwrap_or(Path::new("/"));
            let entry = |v: &toml_edit::Value| match v {
                toml_edit::Value::String(s) => Some(s.value().clone()),
                toml_edit::Value::InlineTable(t) => {
                    t.get("path").and_then(|p| p.as_str()).map(String::from)
                }
                _ => None,
            };
            match doc.get("include") {
                Some(toml_edit::Item::Value(toml_edit::Value::Array(a))) => {
                    found.extend(a.iter().filter_map(entry).map(|p| dir.join(p)))
                }
                Some(toml_edit::Item::Value(v)) => found.extend(entry(v).map(|p| dir.join(p))),
                Some(toml_edit::Item::ArrayOfTables(t)) => found.extend(
                    t.iter()
                        .filter_map(|t| t.get("path").and_then(|p| p.as_str()))
                        .map(|p| dir.join(p)),
                ),
                _ => {}
            }
        }
        out.append(&mut next);
        found.retain(|f| !out.contains(f));
        if found.is_empty() {
            break;
        }
        next = found;
    }
    out
}

fn read_toml(file: &Path) -> Option<toml_edit::DocumentMut> {
    let text = crate::fsutil::read_text(file, crate::fsutil::TEXT_LIMIT, "manifest").ok()?;
    text.parse::<toml_edit::DocumentMut>().ok()
}

/// The manifests that `[patch.*]`, `[replace]` (and, in a config file, `paths`)
/// entries of the TOML file `file` point at, relative to `base`: whether a patch
/// applies depends on the version its manifest says, so each counts, applied or not.
fn patched_manifests(file: &Path, base: &Path, config: bool) -> Vec<(PathBuf, Watch)> {
    let Ok(text) = crate::fsutil::read_text(file, crate::fsutil::TEXT_LIMIT, "manifest") else {
        return Vec::new();
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let path_of =
        |item: &toml_edit::Item| item.get("path").and_then(|p| p.as_str()).map(String::from);
    if let Some(patch) = doc.get("patch").and_then(|p| p.as_table_like()) {
        for (_, source) in patch.iter() {
            let Some(source) = source.as_table_like() else {
                continue;
            };
            paths.extend(source.iter().filter_map(|(_, dep)| path_of(dep)));
        }
    }
    if let Some(replace) = doc.get("replace").and_then(|p| p.as_table_like()) {
        paths.extend(replace.iter().filter_map(|(_, dep)| path_of(dep)));
    }
    let mut v = Vec::new();
    if config {
        if let Some(list) = doc.get("paths").and_then(|p| p.as_array()) {
            paths.extend(list.iter().filter_map(|p| p.as_str().map(String::from)));
        }
        // Vendored sources: cargo reads their packages from this directory (their
        // manifests are recorded from cargo's answer; a package added here is seen
        // in the listing).
        if let Some(sources) = doc.get("source").and_then(|s| s.as_table_like()) {
            for (_, src) in sources.iter() {
                if let Some(d) = src.get("directory").and_then(|d| d.as_str()) {
                    v.push((base.join(d), Watch::Content));
                }
            }
        }
    }
    for p in paths {
        let dir = base.join(p);
        v.push((dir.join("Cargo.toml"), Watch::Content));
        v.extend(ancestor_manifests(&dir).collect::<Vec<_>>());
    }
    v
}

/// The directories the root manifest's `[workspace] members`/`exclude` globs list: a
/// new directory there may be a new member.
fn glob_dirs(root: &Path) -> Option<Vec<PathBuf>> {
    let Ok(text) = crate::fsutil::read_text(
        &root.join("Cargo.toml"),
        crate::fsutil::TEXT_LIMIT,
        "manifest",
    ) else {
        return Some(Vec::new());
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Some(Vec::new());
    };
    let mut dirs = Vec::new();
    for key in ["members", "exclude"] {
        let Some(list) = doc
            .get("workspace")
            .and_then(|w| w.get(key))
            .and_then(|m| m.as_array())
        else {
            continue;
        };
        for pattern in list.iter().filter_map(|v| v.as_str()) {
            dirs.extend(glob_watch(root, pattern)?);
        }
    }
    Some(dirs)
}

/// What a `members` glob's expansion depends on: the listing of every directory a
/// wildcard component is matched in, and the paths the components after it name
/// under each subdirectory (present or absent), so that `crates/*/x` notices a new
/// `crates/b/x` in an old `crates/b`. A `**` component watches every directory
/// below. Over-inclusive (every subdirectory counts, matching or not); None past
/// a bound, where a partial watch could miss a new member.
fn glob_watch(root: &Path, pattern: &str) -> Option<Vec<PathBuf>> {
    const LIMIT: usize = 20_000;
    if !pattern.contains(['*', '?', '[']) {
        return Some(Vec::new());
    }
    let subdirs = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut watch = Vec::new();
    let mut current = vec![root.to_path_buf()];
    for comp in pattern.split('/').filter(|c| !c.is_empty() && *c != ".") {
        let mut next = Vec::new();
        if comp == "**" {
            let mut stack = current.clone();
            while let Some(d) = stack.pop() {
                if watch.len() > LIMIT {
                    return None;
                }
                watch.push(d.clone());
                let subs = subdirs(&d);
                stack.extend(subs.iter().cloned());
                next.push(d);
            }
        } else if comp.contains(['*', '?', '[']) {
            for d in &current {
                watch.push(d.clone());
                next.extend(subdirs(d));
            }
        } else {
            for d in &current {
                let p = d.join(comp);
                watch.push(p.clone());
                next.push(p);
            }
        }
        if watch.len() > LIMIT {
            return None;
        }
        current = next;
    }
    Some(watch)
}

fn cargo_on_path() -> Option<PathBuf> {
    match std::env::var_os("CARGO") {
        Some(c) => Some(PathBuf::from(c)),
        None => on_path("cargo"),
    }
}

/// The state of `path` and whether it is a symbolic link (its target's state).
fn state(path: &Path, watch: Watch, now: u128) -> (State, bool) {
    // One call for what is not a link, the common case; a link needs its target's.
    let (meta, link) = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => (std::fs::metadata(path), true),
        other => (other, false),
    };
    let Ok(meta) = meta else {
        return (State::Missing, link);
    };
    let stamp = Stamp::of(&meta);
    let fresh = stamp.fresh(now);
    // Without ctime (not unix) a stamp can be put back: the content decides.
    let by_stamp = watch == Watch::Stamp && !fresh && cfg!(unix);
    if meta.is_dir() {
        let (listing, links) = listing(path);
        let listing = match by_stamp && !links {
            true => String::new(),
            false => listing,
        };
        let state = State::Dir {
            stamp,
            fresh,
            links,
            listing,
        };
        return (state, link);
    }
    let sha256 = match by_stamp {
        true => String::new(),
        false => file_hash(path).unwrap_or_default(),
    };
    let state = State::File {
        stamp,
        fresh,
        sha256,
    };
    (state, link)
}

/// Whether every input is as recorded. A large workspace's record holds ten
/// thousand paths, each a `stat` that waits on the kernel: a few threads share them,
/// and the first change stops all.
fn all_unchanged(inputs: &[(PathBuf, State)]) -> bool {
    use std::sync::atomic::{AtomicBool, Ordering};
    const CHUNK: usize = 512;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if threads == 1 || inputs.len() < 2 * CHUNK {
        return inputs.iter().all(|(p, s)| unchanged(p, s));
    }
    let changed = AtomicBool::new(false);
    let per = inputs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for part in inputs.chunks(per) {
            let changed = &changed;
            scope.spawn(move || {
                for block in part.chunks(CHUNK) {
                    if changed.load(Ordering::Relaxed) {
                        return;
                    }
                    if !block.iter().all(|(p, s)| unchanged(p, s)) {
                        changed.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            });
        }
    });
    !changed.load(Ordering::Relaxed)
}

fn unchanged(path: &Path, recorded: &State) -> bool {
    let meta = std::fs::metadata(path);
    match (recorded, meta) {
        (State::Missing, Err(_)) => true,
        (
            State::Dir {
                stamp,
                fresh,
                links,
                listing: l,
            },
            Ok(m),
        ) if m.is_dir() => (!fresh && !links && Stamp::of(&m) == *stamp) || *l == listing(path).0,
        (
            State::File {
                stamp,
                sha256,
                fresh,
            },
            Ok(m),
        ) if m.is_file() => {
            // The stamp first; the content whenever any part of it moved (or it
            // cannot be trusted).
            let now = Stamp::of(&m);
            (!fresh && now == *stamp)
                || (now.size == stamp.size
                    && !sha256.is_empty()
                    && file_hash(path).as_deref() == Some(sha256.as_str()))
        }
        _ => false,
    }
}

/// The hash of a directory's entries, each name with its kind (a link with its
/// target's, as cargo follows links), and whether any entry is a link.
fn listing(dir: &Path) -> (String, bool) {
    let mut links = false;
    let mut entries: Vec<(Vec<u8>, u8)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let kind = |t: std::fs::FileType| match () {
                        _ if t.is_dir() => b'd',
                        _ if t.is_file() => b'f',
                        _ => b'o',
                    };
                    let k = match e.file_type() {
                        Ok(t) if t.is_symlink() => {
                            links = true;
                            std::fs::metadata(e.path()).map_or(b'-', |m| kind(m.file_type()))
                        }
                        Ok(t) => kind(t),
                        Err(_) => b'?',
                    };
                    (e.file_name().as_encoded_bytes().to_vec(), k)
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    let mut h = Sha256::new();
    for (name, kind) in entries {
        h.update(&name);
        h.update([0, kind]);
    }
    (hex(&h.finalize()), links)
}

fn file_hash(path: &Path) -> Option<String> {
    // The cargo binary is the largest input; the lockfile limit covers it.
    let bytes = crate::fsutil::read_bounded(path, crate::fsutil::LOCKFILE_LIMIT, "input").ok()?;
    Some(sha256_hex(&bytes))
}
