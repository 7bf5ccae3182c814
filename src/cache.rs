//! A persistent cache of the audit's dependency findings.
//!
//! After `cargo metadata`, the rest of a repeated audit rebuilds the same graph and
//! re-runs the same checks on the same inputs. The cache key is a SHA-256 over every
//! input those findings depend on; a hit skips all of it. The release-profile check,
//! ignores and anything dated (DB age, ignore expiry) are always computed fresh.
//! Entries are written atomically; a corrupt or unreadable entry is a miss.

use crate::report::{DbInfo, Finding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bumped when the cached data or its key changes meaning.
const FORMAT: u32 = 1;

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
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = var("CARGO_SECURE_RELEASE_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("cargo-secure-release"))
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

    /// Size and modification time of one file, or its absence.
    pub fn stat(&mut self, label: &str, path: &Path) {
        let v = match std::fs::metadata(path) {
            Ok(m) => format!("{} {}", m.len(), crate::fsutil::mtime_ns(&m)),
            Err(_) => "missing".to_string(),
        };
        self.part(label, v.as_bytes());
    }

    pub fn finish(self) -> String {
        crate::digest::hex(&self.0.finalize())
    }
}

fn entry_path(key: &str) -> Option<PathBuf> {
    Some(
        dir()?
            .join(format!("audit-v{FORMAT}"))
            .join(format!("{key}.json")),
    )
}

pub fn load(key: &str) -> Option<Entry> {
    let text = crate::fsutil::read_bounded(
        &entry_path(key)?,
        crate::fsutil::LOCKFILE_LIMIT,
        "findings cache entry",
    )
    .ok()?;
    let e: Entry = serde_json::from_slice(&text).ok()?;
    (e.format == FORMAT).then_some(e)
}

/// Best effort: a cache that cannot be written only costs the next run time.
pub fn store(key: &str, findings: &[Finding], databases: &[DbInfo]) {
    let Some(path) = entry_path(key) else { return };
    let Some(parent) = path.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    let entry = Entry {
        format: FORMAT,
        findings: findings.to_vec(),
        databases: databases.to_vec(),
    };
    if let Ok(json) = serde_json::to_string(&entry) {
        let _ = crate::fsutil::write_atomic(&path, &json);
    }
}

/// The crates.io index cache file cargo keeps for `name` (cargo's directory layout).
pub fn index_cache_paths(cargo_home: &Path, name: &str) -> Vec<PathBuf> {
    let n = name.to_ascii_lowercase();
    let rel = match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    };
    let Ok(rd) = std::fs::read_dir(cargo_home.join("registry/index")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path().join(".cache").join(&rel))
        .collect();
    out.sort();
    out
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
        let p = |n| {
            index_cache_paths(d.path(), n)[0]
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
