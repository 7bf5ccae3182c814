//! The warm path without cargo: `cargo metadata --locked` output kept with a record
//! of everything it was computed from (cargo's own fingerprint idea). When every
//! recorded input is unchanged, the stored JSON is the answer and cargo is not run;
//! anything else is a miss that runs cargo as before and records afresh.
//!
//! Recorded: every path package's manifest (members and path dependencies), the
//! workspace root manifest, Cargo.lock, the directories the `members`/`exclude`
//! globs list, cargo's config files along its search path and in `$CARGO_HOME`
//! (their absence too), the toolchain selection (`rust-toolchain(.toml)` from the
//! current directory up, rustup's settings, the `cargo` found on PATH), and the
//! `CARGO_*`/`RUSTUP_*`/`RUSTC*` environment. Files are compared by size and mtime
//! first and by SHA-256 only when those differ, so a `touch` alone is not a miss. A
//! file changed in the two seconds before it was recorded is judged by its content
//! alone: file times are coarse, and an edit in the same tick keeps the time.

use crate::cache::dir as cache_dir;
use crate::digest::{hex, sha256_hex};
use crate::fsutil::mtime_ns;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bumped when the record's meaning changes.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize, PartialEq, Eq, Debug, Clone)]
enum State {
    Missing,
    File {
        size: u64,
        mtime_ns: u128,
        sha256: String,
        /// Changed in the seconds before it was recorded: file times are coarse, so
        /// an equal time does not prove an equal file; only the content does.
        #[serde(default)]
        fresh: bool,
    },
    /// A directory's sorted entry names, hashed.
    Dir {
        listing: String,
    },
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
fn slot(manifest_path: &Path, offline: bool, frozen: bool) -> Option<PathBuf> {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(manifest_path.as_os_str().as_encoded_bytes());
    h.update([0, offline as u8, frozen as u8]);
    if let Ok(cwd) = std::env::current_dir() {
        h.update(cwd.as_os_str().as_encoded_bytes());
    }
    let name = hex(&h.finalize());
    Some(
        cache_dir()?
            .join(format!("metadata-v{FORMAT}"))
            .join(format!("{name}.json")),
    )
}

/// The stored `cargo metadata` JSON when nothing it depends on changed, and the
/// SHA-256 (hex) it was recorded with: the caller, which hashes the JSON anyway,
/// must find the same, or two runs recording at once paired one's record with the
/// other's JSON.
pub fn lookup(manifest_path: &Path, offline: bool, frozen: bool) -> Option<(Vec<u8>, String)> {
    let path = slot(manifest_path, offline, frozen)?;
    let bytes =
        crate::fsutil::read_bounded(&path, crate::fsutil::LOCKFILE_LIMIT, "metadata record")
            .ok()?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    if record.format != FORMAT || record.env != env() {
        return None;
    }
    for (p, recorded) in &record.inputs {
        if !unchanged(p, recorded) {
            return None;
        }
    }
    let json = crate::fsutil::read_bounded(
        &path.with_extension("metadata"),
        crate::fsutil::LOCKFILE_LIMIT,
        "metadata record",
    )
    .ok()?;
    Some((json, record.metadata_sha256))
}

/// What a record is made from: the JSON with its SHA-256 (hex), the workspace root
/// and the manifests of its path packages (both read from the parsed JSON).
pub struct Answer {
    pub json: std::sync::Arc<[u8]>,
    pub sha256: String,
    pub root: PathBuf,
    pub path_manifests: Vec<PathBuf>,
}

/// Records the answer with the state of its inputs. Best effort: a record that
/// cannot be written only means cargo runs next time.
pub fn record(manifest_path: &Path, offline: bool, frozen: bool, answer: Answer) {
    let Some(path) = slot(manifest_path, offline, frozen) else {
        return;
    };
    let cargo = cargo_on_path();
    let inputs = inputs(manifest_path, &answer.root, answer.path_manifests)
        .into_iter()
        .map(|p| {
            // The cargo binary (tens of MB) is judged by size and time alone.
            let s = state(&p, Some(&p) != cargo.as_ref());
            (p, s)
        })
        .collect();
    let record = Record {
        format: FORMAT,
        env: env(),
        inputs,
        metadata_sha256: answer.sha256,
    };
    let Some(parent) = path.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    // The JSON first: a record never points at a metadata file not yet written.
    let Ok(text) = std::str::from_utf8(&answer.json) else {
        return;
    };
    if crate::fsutil::write_atomic(&path.with_extension("metadata"), text).is_err() {
        return;
    }
    if let Ok(out) = serde_json::to_string(&record) {
        let _ = crate::fsutil::write_atomic(&path, &out);
    }
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
    let slot = tool_slot(tool, args);
    if let Some(stdout) = slot.as_deref().and_then(tool_lookup) {
        return Ok(std::process::Output {
            status: success(),
            stdout,
            stderr: Vec::new(),
        });
    }
    // The inputs' state before the run: a toolchain changing meanwhile leaves a
    // record that misses next time rather than one that pairs the old answer with
    // the new state.
    let inputs: Vec<(PathBuf, State)> = tool_inputs(tool)
        .into_iter()
        .map(|(p, hash)| {
            let s = state(&p, hash);
            (p, s)
        })
        .collect();
    let out = run()?;
    if let (Some(slot), true, Ok(text)) =
        (slot, out.status.success(), std::str::from_utf8(&out.stdout))
    {
        let record = ToolRecord {
            format: FORMAT,
            env: env(),
            inputs,
            stdout: text.to_string(),
        };
        if let (Some(parent), Ok(json)) = (slot.parent(), serde_json::to_string(&record)) {
            if std::fs::create_dir_all(parent).is_ok() {
                let _ = crate::fsutil::write_atomic(&slot, &json);
            }
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

#[derive(Serialize, Deserialize)]
struct ToolRecord {
    format: u32,
    env: Vec<(String, String)>,
    inputs: Vec<(PathBuf, State)>,
    stdout: String,
}

fn tool_slot(tool: Tool, args: &[&str]) -> Option<PathBuf> {
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
    Some(
        cache_dir()?
            .join(format!("toolchain-v{FORMAT}"))
            .join(format!("{}.json", hex(&h.finalize()))),
    )
}

fn tool_lookup(slot: &Path) -> Option<Vec<u8>> {
    let bytes =
        crate::fsutil::read_bounded(slot, crate::fsutil::KEY_LIMIT, "toolchain record").ok()?;
    let record: ToolRecord = serde_json::from_slice(&bytes).ok()?;
    if record.format != FORMAT || record.env != env() {
        return None;
    }
    if record.inputs.iter().any(|(p, s)| !unchanged(p, s)) {
        return None;
    }
    Some(record.stdout.into_bytes())
}

/// The files that decide which program answers, each with whether its content is
/// hashed (binaries are judged by size and time).
fn tool_inputs(tool: Tool) -> Vec<(PathBuf, bool)> {
    let mut v = Vec::new();
    if let Some(b) = tool.binary() {
        v.push((b, false));
    }
    if let Ok(cwd) = std::env::current_dir() {
        for d in cwd.ancestors() {
            v.push((d.join("rust-toolchain.toml"), true));
            v.push((d.join("rust-toolchain"), true));
        }
    }
    if let Some(r) = rustup_home() {
        v.push((r.join("settings.toml"), true));
        v.push((r.join("toolchains"), true));
        v.push((r.join("update-hashes"), true));
        if let Ok(rd) = std::fs::read_dir(r.join("update-hashes")) {
            v.extend(rd.flatten().map(|e| (e.path(), true)));
        }
    }
    v.sort();
    v.dedup();
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

/// The variables that can change what cargo resolves or which cargo runs.
fn env() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, val)| Some((k.into_string().ok()?, val.to_string_lossy().into_owned())))
        .filter(|(k, _)| {
            (k.starts_with("CARGO")
                && !k.starts_with("CARGO_SECURE_RELEASE")
                && !k.starts_with("CARGO_TERM"))
                || k.starts_with("RUSTUP_")
                || k.starts_with("RUSTC")
                || k == "PATH"
                || k == "HOME"
        })
        .collect();
    v.sort();
    v
}

/// What `cargo metadata` read, as far as this module can tell.
fn inputs(manifest_path: &Path, root: &Path, path_manifests: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut v = path_manifests;
    v.push(manifest_path.to_path_buf());
    v.push(root.join("Cargo.toml"));
    v.push(root.join("Cargo.lock"));
    v.extend(glob_dirs(root));
    // Cargo reads config from the current directory up, then $CARGO_HOME.
    let cwd = std::env::current_dir().unwrap_or_else(|_| root.to_path_buf());
    for d in cwd
        .ancestors()
        .chain(manifest_path.parent().into_iter().flat_map(Path::ancestors))
    {
        v.push(d.join(".cargo/config.toml"));
        v.push(d.join(".cargo/config"));
        v.push(d.join("rust-toolchain.toml"));
        v.push(d.join("rust-toolchain"));
    }
    if let Some(home) = crate::workspace::cargo_home() {
        v.push(home.join("config.toml"));
        v.push(home.join("config"));
    }
    if let Some(r) = rustup_home() {
        v.push(r.join("settings.toml"));
    }
    if let Some(cargo) = cargo_on_path() {
        v.push(cargo);
    }
    v.sort();
    v.dedup();
    v
}

/// The directories the root manifest's `[workspace] members`/`exclude` globs list: a
/// new directory there may be a new member.
fn glob_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(text) = crate::fsutil::read_text(
        &root.join("Cargo.toml"),
        crate::fsutil::TEXT_LIMIT,
        "manifest",
    ) else {
        return Vec::new();
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
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
            if let Some(i) = pattern.find(['*', '?', '[']) {
                let prefix = &pattern[..i];
                let dir = match prefix.rfind('/') {
                    Some(j) => root.join(&prefix[..j]),
                    None => root.to_path_buf(),
                };
                dirs.push(dir);
            }
        }
    }
    dirs
}

fn cargo_on_path() -> Option<PathBuf> {
    match std::env::var_os("CARGO") {
        Some(c) => Some(PathBuf::from(c)),
        None => on_path("cargo"),
    }
}

fn state(path: &Path, hash: bool) -> State {
    let Ok(meta) = std::fs::metadata(path) else {
        return State::Missing;
    };
    if meta.is_dir() {
        return State::Dir {
            listing: listing(path),
        };
    }
    let t = mtime_ns(&meta);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let fresh = t + 2_000_000_000 > now;
    State::File {
        size: meta.len(),
        mtime_ns: t,
        fresh,
        // Empty: compared by size and time only (binaries, once settled).
        sha256: if hash || fresh {
            file_hash(path).unwrap_or_default()
        } else {
            String::new()
        },
    }
}

fn unchanged(path: &Path, recorded: &State) -> bool {
    let meta = std::fs::metadata(path);
    match (recorded, meta) {
        (State::Missing, Err(_)) => true,
        (State::Dir { listing: l }, Ok(m)) if m.is_dir() => *l == listing(path),
        (
            State::File {
                size,
                mtime_ns: t,
                sha256,
                fresh,
            },
            Ok(m),
        ) if m.is_file() => {
            // Cheap first; the content only when size or time moved (or the time
            // cannot be trusted).
            (!fresh && m.len() == *size && mtime_ns(&m) == *t)
                || (m.len() == *size
                    && !sha256.is_empty()
                    && file_hash(path).as_deref() == Some(sha256.as_str()))
        }
        _ => false,
    }
}

fn listing(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut h = Sha256::new();
    for n in names {
        h.update(n.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

fn file_hash(path: &Path) -> Option<String> {
    // The cargo binary is the largest input; the lockfile limit covers it.
    let bytes = crate::fsutil::read_bounded(path, crate::fsutil::LOCKFILE_LIMIT, "input").ok()?;
    Some(sha256_hex(&bytes))
}
