//! The RustSec advisory database as it was when this binary was built: the audit's
//! answer where the database cannot be fetched (offline, no route to GitHub) and no
//! copy is cached. The file is refreshed from a local checkout with
//! `cargo xtask advisory-snapshot DIR` and compressed with zstd (already in the tree
//! for the SPDX license store).
//!
//! The format, before compression, is ours and small: a header of lines
//! (`cargo-secure-release advisory snapshot 1`, `commit <hex>`, `date <YYYY-MM-DD>`,
//! an empty line), then for each advisory its path under the database (`crates/…md`),
//! a line with its length in bytes, and the bytes. cargo-deny reads only `crates/`.

use crate::error::Failure;
use anyhow::Result;
use std::path::Path;

const MAGIC: &str = "cargo-secure-release advisory snapshot 1";

/// The compressed snapshot this binary carries.
const EMBEDDED: &[u8] = include_bytes!("../../assets/advisory-db.snapshot.zst");

/// Larger than the real database (8.4 MiB for 1,205 advisories in 2026) by a wide
/// margin, and a bound on what decompression may allocate.
const DECOMPRESSED_LIMIT: usize = 64 << 20;

/// Which database a snapshot was taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub commit: String,
    /// The commit's date, YYYY-MM-DD.
    pub date: String,
}

impl Meta {
    /// `RustSec commit bf5c0d245a92, 2026-08-21`.
    pub fn describe(&self) -> String {
        format!(
            "RustSec commit {}, {}",
            &self.commit[..self.commit.len().min(12)],
            self.date
        )
    }
}

/// The snapshot's identity, for cache keys: another build's snapshot is another input.
pub fn embedded_id() -> String {
    crate::digest::sha256_hex(EMBEDDED)
}

/// Serialises and compresses `files` (paths relative to the database, `/`-separated).
pub fn encode(meta: &Meta, files: &Files) -> Result<Vec<u8>> {
    let mut raw = format!("{MAGIC}\ncommit {}\ndate {}\n\n", meta.commit, meta.date).into_bytes();
    for (path, bytes) in files {
        check_path(path)?;
        raw.extend_from_slice(format!("{path}\n{}\n", bytes.len()).as_bytes());
        raw.extend_from_slice(bytes);
    }
    Ok(zstd::bulk::compress(&raw, 19)?)
}

/// A snapshot's advisories: (path under the database, content).
pub type Files = Vec<(String, Vec<u8>)>;

/// The files of a snapshot, with where it came from.
pub fn decode(compressed: &[u8]) -> Result<(Meta, Files)> {
    let raw = zstd::bulk::decompress(compressed, DECOMPRESSED_LIMIT)
        .map_err(|e| corrupt(&format!("does not decompress: {e}")))?;
    let mut rest: &[u8] = &raw;
    let mut line = || -> Result<String> {
        let end = memchr::memchr(b'\n', rest).ok_or_else(|| corrupt("a line is cut short"))?;
        let text = std::str::from_utf8(&rest[..end])
            .map_err(|_| corrupt("a header line is not UTF-8"))?
            .to_owned();
        rest = &rest[end + 1..];
        Ok(text)
    };
    if line()? != MAGIC {
        return Err(corrupt("has an unknown format"));
    }
    let commit = line()?
        .strip_prefix("commit ")
        .ok_or_else(|| corrupt("has no commit line"))?
        .to_owned();
    let date = line()?
        .strip_prefix("date ")
        .ok_or_else(|| corrupt("has no date line"))?
        .to_owned();
    if !line()?.is_empty() {
        return Err(corrupt("has no end to its header"));
    }
    let mut files = Vec::new();
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).ok_or_else(|| corrupt("a path is cut short"))?;
        let path = std::str::from_utf8(&rest[..end])
            .map_err(|_| corrupt("a path is not UTF-8"))?
            .to_owned();
        check_path(&path)?;
        rest = &rest[end + 1..];
        let end = memchr::memchr(b'\n', rest).ok_or_else(|| corrupt("a length is cut short"))?;
        let len: usize = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt("a length is not a number"))?;
        rest = &rest[end + 1..];
        if len > rest.len() {
            return Err(corrupt("a file is cut short"));
        }
        files.push((path, rest[..len].to_vec()));
        rest = &rest[len..];
    }
    if files.is_empty() {
        return Err(corrupt("holds no advisories"));
    }
    Ok((Meta { commit, date }, files))
}

/// The embedded snapshot, written out under `dir` as the database directory cargo-deny
/// opens (`dir/crates/<name>/RUSTSEC-….md`).
pub fn extract_embedded(dir: &Path) -> Result<Meta> {
    let (meta, files) = decode(EMBEDDED)?;
    for (path, bytes) in files {
        let dest = dir.join(&path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&dest, bytes)?;
    }
    Ok(meta)
}

/// Only advisory files under `crates/`, by plain relative names: nothing a snapshot
/// holds can be written outside the directory it is extracted into.
fn check_path(path: &str) -> Result<()> {
    let ok = path.starts_with("crates/")
        && path.ends_with(".md")
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'));
    if ok {
        Ok(())
    } else {
        Err(corrupt(&format!(
            "holds a path that is not an advisory under crates/: {}",
            crate::error::escape(path)
        )))
    }
}

fn corrupt(what: &str) -> anyhow::Error {
    Failure::new(format!("the advisory database snapshot {what}"))
        .help("rebuild it with `cargo xtask advisory-snapshot DIR` from a RustSec checkout")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            commit: "0123456789abcdef".into(),
            date: "2026-01-02".into(),
        }
    }

    #[test]
    fn a_snapshot_decodes_to_what_was_encoded() {
        let files = vec![
            (
                "crates/a/RUSTSEC-2020-0001.md".to_string(),
                b"one\n".to_vec(),
            ),
            ("crates/b/RUSTSEC-2021-0002.md".to_string(), Vec::new()),
            (
                "crates/c/RUSTSEC-2022-0003.md".to_string(),
                b"x\n3\ny".to_vec(),
            ),
        ];
        let blob = encode(&meta(), &files).unwrap();
        assert_eq!(decode(&blob).unwrap(), (meta(), files));
    }

    #[test]
    fn paths_outside_crates_are_refused_both_ways() {
        for bad in [
            "../x.md",
            "crates/../../x.md",
            "/etc/x.md",
            "crates/a/b.txt",
            "crates//a.md",
        ] {
            let files = vec![(bad.to_string(), b"x".to_vec())];
            assert!(encode(&meta(), &files).is_err(), "{bad}");
            let raw = format!("{MAGIC}\ncommit c\ndate d\n\n{bad}\n1\nx");
            let blob = zstd::bulk::compress(raw.as_bytes(), 1).unwrap();
            let err = decode(&blob).unwrap_err().to_string();
            assert!(
                err.contains("not an advisory under crates/"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_cut_or_foreign_snapshot_is_an_error_not_a_panic() {
        let blob = encode(&meta(), &vec![("crates/a/R.md".into(), b"12345".to_vec())]).unwrap();
        let raw = zstd::bulk::decompress(&blob, 1 << 20).unwrap();
        for cut in 0..raw.len() {
            let blob = zstd::bulk::compress(&raw[..cut], 1).unwrap();
            assert!(decode(&blob).is_err(), "cut at {cut}");
        }
        assert!(decode(b"not zstd").is_err());
    }

    #[test]
    fn the_embedded_snapshot_is_the_rustsec_database() {
        let dir = tempfile::tempdir().unwrap();
        let meta = extract_embedded(dir.path()).unwrap();
        assert_eq!(meta.commit.len(), 40, "{meta:?}");
        let n = crate::fsutil::files_under(&dir.path().join("crates")).len();
        assert!(n > 1000, "{n} advisories");
    }
}
