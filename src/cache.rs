//! The cache directory and everything kept in it: the findings cache, the warm
//! path's records (`fingerprint`, `tree_record`). A cache is an optimisation, never
//! an authority, so nothing in it is believed unless this user wrote it:
//!
//! - the directory must belong to this user and not be writable by group or others
//!   (else one warning, and nothing is read or written there);
//! - every entry carries an HMAC-SHA256 over its namespace, its name and its bytes,
//!   keyed by a per-user secret kept outside the cache directory (mode 0600): an
//!   entry edited, planted, moved to another name or restored from someone else's
//!   cache (a CI cache, a copied home) is a miss, never a verdict;
//! - entries are opened without following symbolic links and written as new temp
//!   files (0600) renamed into place, so a link planted at an entry's name is
//!   replaced, never written through.
//!
//! The findings cache itself: after `cargo metadata`, a repeated audit rebuilds the
//! same graph and re-runs the same checks on the same inputs. The key is a SHA-256
//! over every input those findings depend on; a hit skips all of it. The release
//! profile, ignores and anything dated (DB age, ignore expiry) are computed fresh.

use crate::report::{DbInfo, Finding};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Bumped when the cached data or its key changes meaning.
const FORMAT: u32 = 2;

/// The first line of every entry: the format and the entry's MAC.
const MAGIC: &str = "cargo-secure-release-cache 1 ";

#[derive(Serialize, Deserialize)]
pub struct Entry {
    pub format: u32,
    pub findings: Vec<Finding>,
    pub databases: Vec<DbInfo>,
}

/// `$CARGO_SECURE_RELEASE_CACHE_DIR`, else `$XDG_CACHE_HOME/cargo-secure-release`,
/// else `~/.cache/cargo-secure-release`. A variable set but empty counts as unset (a
/// relative empty path would put the cache inside the project).
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = var("CARGO_SECURE_RELEASE_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("cargo-secure-release"))
}

/// Where the cache's key lives, outside the cache directory (a cache restored from
/// elsewhere must not bring the key that vouches for it):
/// `$CARGO_SECURE_RELEASE_STATE_DIR`, else `$XDG_STATE_HOME/cargo-secure-release`,
/// else `~/.local/state/cargo-secure-release`.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = var("CARGO_SECURE_RELEASE_STATE_DIR") {
        return Some(PathBuf::from(d));
    }
    let base = var("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("cargo-secure-release"))
}

fn var(k: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(k).filter(|v| !v.is_empty())
}

/// The cache directory with its key: present only when both can be trusted.
pub struct Store {
    dir: PathBuf,
    key: zeroize::Zeroizing<[u8; 32]>,
}

/// How this process uses every cache and record: set once by the command being run
/// (`--no-cache`: neither; `tag`: write only), so that nothing below it, down to the
/// toolchain answers, reads what the command may not trust.
static USE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

pub fn set_use(u: crate::options::CacheUse) {
    use crate::options::CacheUse;
    let v = match u {
        CacheUse::ReadWrite => 0,
        CacheUse::WriteOnly => 1,
        CacheUse::Off => 2,
    };
    USE.store(v, std::sync::atomic::Ordering::Relaxed);
}

fn reads() -> bool {
    USE.load(std::sync::atomic::Ordering::Relaxed) == 0
}

/// The store for this process, opened (and checked) once. None without a home
/// directory, with `--no-cache`, or when the directory or key cannot be trusted
/// (said once, as a warning on stderr).
pub fn store() -> Option<&'static Store> {
    if USE.load(std::sync::atomic::Ordering::Relaxed) == 2 {
        return None;
    }
    static STORE: OnceLock<Option<Store>> = OnceLock::new();
    STORE
        .get_or_init(|| match Store::open() {
            Ok(s) => s,
            Err(why) => {
                if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
                    crate::shell::to_stderr(&format!("warning: {why}\n"));
                }
                None
            }
        })
        .as_ref()
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-q`: the untrusted-cache warning is not shown (the cache is still not used).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

impl Store {
    fn open() -> Result<Option<Store>, String> {
        let (Some(dir), Some(state)) = (dir(), state_dir()) else {
            return Ok(None);
        };
        let shown = |p: &Path| crate::error::escape(&p.display().to_string());
        private_dir(&dir).map_err(|e| format!("the cache directory {} {e}; the cache is not used (run with --no-cache, or fix the directory)", shown(&dir)))?;
        private_dir(&state).map_err(|e| {
            format!(
                "the cache key's directory {} {e}; the cache is not used",
                shown(&state)
            )
        })?;
        if let (Ok(c), Ok(s)) = (std::fs::canonicalize(&dir), std::fs::canonicalize(&state)) {
            if s.starts_with(&c) {
                return Err(format!(
                    "the cache key's directory {} is inside the cache directory {}; the cache is not used (set CARGO_SECURE_RELEASE_STATE_DIR elsewhere)",
                    shown(&state),
                    shown(&dir)
                ));
            }
        }
        let key = load_or_create_key(&state.join("cache-key")).map_err(|e| {
            format!(
                "the cache key {} {e}; the cache is not used",
                shown(&state.join("cache-key"))
            )
        })?;
        Ok(Some(Store { dir, key }))
    }

    fn mac(&self, namespace: &str, name: &str, bytes: &[u8]) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&*self.key).expect("any key length");
        for part in [namespace.as_bytes(), name.as_bytes()] {
            m.update(&(part.len() as u64).to_le_bytes());
            m.update(part);
        }
        m.update(bytes);
        m
    }

    /// A keyed hash of `value` (hex): what records keep of environment values, so
    /// that the cache holds no value it could leak.
    pub fn keyed_hash(&self, value: &[u8]) -> String {
        crate::digest::hex(&self.mac("value", "", value).finalize().into_bytes())
    }

    /// The bytes of entry `name` in `namespace`, if this user's key vouches for them;
    /// anything else (missing, a link, not ours, too large, edited) is None.
    pub fn read(&self, namespace: &str, name: &str, limit: u64) -> Option<Vec<u8>> {
        if !reads() || !safe_name(namespace) || !safe_name(name) {
            return None;
        }
        let mut bytes = read_private(&self.dir.join(namespace).join(name), limit)?;
        let nl = bytes.iter().position(|b| *b == b'\n')?;
        let head = std::str::from_utf8(&bytes[..nl]).ok()?;
        let tag = crate::digest::from_hex(head.strip_prefix(MAGIC)?)?;
        self.mac(namespace, name, &bytes[nl + 1..])
            .verify_slice(&tag)
            .ok()?;
        // The body moved down in place: a copy of `cargo metadata`'s megabytes would
        // fault in as many fresh pages.
        bytes.drain(..nl + 1);
        Some(bytes)
    }

    /// Writes entry `name` in `namespace`: a new 0600 temp file renamed into place.
    /// Best effort: a cache that cannot be written only costs the next run time.
    pub fn write(&self, namespace: &str, name: &str, bytes: &[u8]) {
        if !safe_name(namespace) || !safe_name(name) {
            return;
        }
        let sub = self.dir.join(namespace);
        if private_dir(&sub).is_err() {
            return;
        }
        let tag = self.mac(namespace, name, bytes).finalize().into_bytes();
        let head = format!("{MAGIC}{}\n", crate::digest::hex(&tag));
        use std::io::Write;
        // tempfile creates its file with O_EXCL and mode 0600; the rename replaces
        // whatever is at the name (a planted link included) without following it.
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(&sub) else {
            return;
        };
        // Head and body written apart: the body is not copied behind the head first.
        if tmp.write_all(head.as_bytes()).is_ok() && tmp.write_all(bytes).is_ok() {
            let _ = tmp.persist(sub.join(name));
        }
    }
}

/// Entry and namespace names are ours (hex digests and fixed words): never a path.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Creates `dir` (mode 0700) if missing, then requires it to be a directory of this
/// user's that nobody else can write; the reason otherwise (after the path).
fn private_dir(dir: &Path) -> Result<(), String> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .map_err(|e| format!("could not be created ({e})"))?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("could not be read ({e})"))?;
    if !meta.is_dir() {
        return Err("is not a directory".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // A link to it must be ours too (or root's): whoever owns a link can retarget it.
        if let Ok(l) = std::fs::symlink_metadata(dir) {
            if l.file_type().is_symlink() && l.uid() != euid() && l.uid() != 0 {
                return Err(format!(
                    "is a symbolic link owned by another user (uid {})",
                    l.uid()
                ));
            }
        }
        if meta.uid() != euid() {
            return Err(format!("belongs to another user (uid {})", meta.uid()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "is writable by other users (mode {:o}); `chmod 700` it",
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// A regular file of this user's, opened without following a link and without
/// blocking; its bytes if at most `limit`.
fn read_private(path: &Path, limit: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut o,
        libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
    );
    let f = o.open(path).ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() > limit {
        return None;
    }
    #[cfg(unix)]
    if std::os::unix::fs::MetadataExt::uid(&meta) != euid() {
        return None;
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.take(limit + 1).read_to_end(&mut buf).ok()?;
    (buf.len() as u64 <= limit).then_some(buf)
}

/// The per-user secret: read, or made once from the OS's random source. Kept as 64
/// hex digits in a 0600 file; two processes making it at once agree on the one that
/// was linked into place first.
fn load_or_create_key(path: &Path) -> Result<zeroize::Zeroizing<[u8; 32]>, String> {
    let parse = |bytes: &[u8]| {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|t| crate::digest::from_hex(t.trim_end()))
            .map(zeroize::Zeroizing::new)
    };
    let check = || -> Result<Option<zeroize::Zeroizing<[u8; 32]>>, String> {
        match std::fs::symlink_metadata(path) {
            Err(_) => Ok(None),
            Ok(m) if !m.is_file() => Err("is not a regular file".into()),
            Ok(_m) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    if _m.uid() != euid() {
                        return Err(format!("belongs to another user (uid {})", _m.uid()));
                    }
                    if _m.mode() & 0o077 != 0 {
                        return Err(format!(
                            "can be read or written by other users (mode {:o}); `chmod 600` it",
                            _m.mode() & 0o7777
                        ));
                    }
                }
                let bytes =
                    zeroize::Zeroizing::new(read_private(path, 1024).ok_or("could not be read")?);
                parse(&bytes).map(Some).ok_or_else(|| {
                    "is not a cache key (64 hex digits); delete it to make a new one".into()
                })
            }
        }
    };
    if let Some(k) = check()? {
        return Ok(k);
    }
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *key).map_err(|e| format!("could not be made: {e}"))?;
    let text = zeroize::Zeroizing::new(crate::digest::hex(&*key) + "\n");
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("could not be made: {e}"))?;
    use std::io::Write;
    tmp.as_file()
        .write_all(text.as_bytes())
        .map_err(|e| format!("could not be written: {e}"))?;
    // A link, not a rename: it fails if another process linked its key first, and
    // then both use that one.
    let _ = std::fs::hard_link(tmp.path(), path);
    drop(tmp);
    check()?.ok_or_else(|| "could not be made".into())
}

/// Builds a key from labelled parts, so that moving bytes between parts changes it.
#[derive(Default)]
pub struct Key(Sha256);

impl Key {
    pub fn new() -> Key {
        let mut k = Key(Sha256::new());
        k.part(
            "tool",
            format!(
                "{} {} cache {FORMAT}",
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION")
            )
            .as_bytes(),
        );
        k
    }

    pub fn part(&mut self, label: &str, bytes: &[u8]) {
        self.0.update((label.len() as u64).to_le_bytes());
        self.0.update(label.as_bytes());
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// One file's stamp (device, inode, size, both times), or its absence; a file
    /// changed too recently for its stamp to vouch for it also adds its content.
    pub fn stat(&mut self, label: &str, path: &Path) {
        let v = match std::fs::metadata(path) {
            Ok(m) => {
                let st = crate::fsutil::Stamp::of(&m);
                let mut v = format!(
                    "{} {} {} {} {}",
                    st.dev, st.ino, st.size, st.mtime_ns, st.ctime_ns
                );
                if st.fresh(crate::fsutil::now_ns()) {
                    let bytes = crate::fsutil::read_bounded(
                        path,
                        crate::fsutil::LOCKFILE_LIMIT,
                        "index file",
                    )
                    .unwrap_or_default();
                    v.push_str(&format!(" {}", crate::digest::sha256_hex(&bytes)));
                }
                v
            }
            Err(_) => "missing".to_string(),
        };
        self.part(label, v.as_bytes());
    }

    pub fn finish(self) -> String {
        crate::digest::hex(&self.0.finalize())
    }
}

const NAMESPACE: &str = "audit-v2";

pub fn load(key: &str) -> Option<Entry> {
    let text = store()?.read(
        NAMESPACE,
        &format!("{key}.json"),
        crate::fsutil::LOCKFILE_LIMIT,
    )?;
    let e: Entry = serde_json::from_slice(&text).ok()?;
    (e.format == FORMAT).then_some(e)
}

/// Best effort: a cache that cannot be written only costs the next run time.
pub fn store_findings(key: &str, findings: &[Finding], databases: &[DbInfo]) {
    let Some(s) = store() else { return };
    let entry = Entry {
        format: FORMAT,
        findings: findings.to_vec(),
        databases: databases.to_vec(),
    };
    if let Ok(json) = serde_json::to_vec(&entry) {
        s.write(NAMESPACE, &format!("{key}.json"), &json);
    }
}

/// The registry index directories under `$CARGO_HOME` (one per registry), sorted.
pub fn index_dirs(cargo_home: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(cargo_home.join("registry/index")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    out.sort();
    out
}

/// The index cache file cargo keeps for `name` in the index directory `dir`
/// (cargo's directory layout).
pub fn index_cache_path(dir: &Path, name: &str) -> PathBuf {
    let n = name.to_ascii_lowercase();
    let rel = match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    };
    dir.join(".cache").join(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_any_part_and_its_label() {
        let k = |parts: &[(&str, &[u8])]| {
            let mut k = Key::new();
            for (l, b) in parts {
                k.part(l, b);
            }
            k.finish()
        };
        let base = k(&[("a", b"xy"), ("b", b"z")]);
        assert_eq!(base, k(&[("a", b"xy"), ("b", b"z")]));
        assert_ne!(base, k(&[("a", b"x"), ("b", b"yz")]));
        assert_ne!(base, k(&[("a", b"xy"), ("c", b"z")]));
    }

    #[test]
    fn index_cache_layout() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("registry/index/index.crates.io-x")).unwrap();
        let dirs = index_dirs(d.path());
        assert_eq!(dirs.len(), 1);
        let p = |n| {
            index_cache_path(&dirs[0], n)
                .strip_prefix(d.path())
                .unwrap()
                .to_path_buf()
        };
        assert_eq!(
            p("a"),
            Path::new("registry/index/index.crates.io-x/.cache/1/a")
        );
        assert_eq!(
            p("ab"),
            Path::new("registry/index/index.crates.io-x/.cache/2/ab")
        );
        assert_eq!(
            p("abc"),
            Path::new("registry/index/index.crates.io-x/.cache/3/a/abc")
        );
        assert_eq!(
            p("Serde"),
            Path::new("registry/index/index.crates.io-x/.cache/se/rd/serde")
        );
    }
}
