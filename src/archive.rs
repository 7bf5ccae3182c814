//! The executables inside a release archive (`.tar`, `.tar.gz`, `.tgz`, `.tar.zst`,
//! `.tzst`, `.zip`): each member
//! whose first bytes are an executable's (`artifact::looks_executable`) is copied
//! into a temporary directory, so the artifact checks read it as they read any
//! built binary. Other members are skipped unread. Bounded: a member over the
//! artifact limit, or more than `MEMBER_LIMIT` members, is an error naming the
//! archive, so a hostile archive cannot fill the disk or run for ever.

use crate::artifact::{looks_executable, read_head, ARTIFACT_LIMIT};
use crate::error::{escape, Failure};
use anyhow::Result;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// More members than any release archive holds.
const MEMBER_LIMIT: usize = 100_000;
/// The sum of the executables copied out of one archive.
const COPIED_LIMIT: u64 = 4 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tar,
    TarGz,
    TarZst,
    Zip,
}

/// The archive kind a release file's name says.
pub fn kind(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| lower.ends_with(s));
    if ends(&[".tar.gz", ".tgz"]) {
        Some(Kind::TarGz)
    } else if ends(&[".tar.zst", ".tzst"]) {
        Some(Kind::TarZst)
    } else if ends(&[".tar"]) {
        Some(Kind::Tar)
    } else if ends(&[".zip"]) {
        Some(Kind::Zip)
    } else {
        None
    }
}

/// The suffix of an archive whose members this module cannot read (xz, bzip2,
/// lzip, 7-Zip): its binaries are not judged, which callers must say.
pub fn unopened(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    [".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.lz", ".7z"]
        .into_iter()
        .find(|s| lower.ends_with(s))
}

/// One executable copied out of an archive.
pub struct Member {
    /// Its path inside the archive, `/`-separated, as the archive names it.
    pub name: String,
    /// Its copy in `dir`.
    pub path: PathBuf,
    /// Its SHA-256 (hex), taken while it was copied.
    pub sha256: String,
}

/// The executables of the archive at `path` (shown as `shown`), copied into `dir`.
pub fn executables(path: &Path, shown: &str, kind: Kind, dir: &Path) -> Result<Vec<Member>> {
    let file = crate::fsutil::open_regular(path)
        .map_err(|e| Failure::new(format!("archive {} cannot be opened: {e}", escape(shown))))?;
    let unreadable = |e: &dyn std::fmt::Display| -> anyhow::Error {
        Failure::new(format!(
            "archive {} cannot be read: {}",
            escape(shown),
            escape(&e.to_string())
        ))
        .help("check that the archive is complete and is the kind its name says (.tar.gz: gzip'd tar; .zip)")
        .into()
    };
    let mut out = Vec::new();
    let mut copied = 0u64;
    let mut seen = 0usize;
    let mut keep = |name: String, size: u64, reader: &mut dyn Read| -> Result<()> {
        seen += 1;
        if seen > MEMBER_LIMIT {
            return Err(Failure::new(format!(
                "archive {} has more than {MEMBER_LIMIT} members",
                escape(shown)
            ))
            .help("attest the release's archives, not a tree of files")
            .into());
        }
        let head = read_head(&mut *reader).map_err(|e| unreadable(&e))?;
        if !looks_executable(&head) {
            return Ok(());
        }
        if size > ARTIFACT_LIMIT || copied + size > COPIED_LIMIT {
            return Err(Failure::new(format!(
                "{}!{} is {size} bytes: over the limit for the executables of an archive",
                escape(shown),
                escape(&name)
            ))
            .into());
        }
        use sha2::Digest;
        let copy = dir.join(format!("{}", out.len()));
        let mut f = std::fs::File::create(&copy)
            .map_err(|e| Failure::new(format!("could not write {}: {e}", copy.display())))?;
        let mut sha = sha2::Sha256::new();
        sha.update(&head);
        f.write_all(&head)?;
        let mut rest = reader.take(size.saturating_sub(head.len() as u64));
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = rest.read(&mut buf).map_err(|e| unreadable(&e))?;
            if n == 0 {
                break;
            }
            sha.update(&buf[..n]);
            f.write_all(&buf[..n])?;
            copied += n as u64;
        }
        copied += head.len() as u64;
        out.push(Member {
            name,
            path: copy,
            sha256: crate::digest::hex(&sha.finalize()),
        });
        Ok(())
    };
    let mut tar_members = |stream: &mut dyn Read| -> Result<()> {
        let mut tar = tar::Archive::new(stream);
        for entry in tar.entries().map_err(|e| unreadable(&e))? {
            let mut entry = entry.map_err(|e| unreadable(&e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let size = entry.size();
            keep(member_name(&name), size, &mut entry)?;
        }
        Ok(())
    };
    match kind {
        Kind::Tar => tar_members(&mut std::io::BufReader::new(file))?,
        Kind::TarGz => tar_members(&mut flate2::read::GzDecoder::new(file))?,
        Kind::TarZst => {
            let mut z = zstd::stream::read::Decoder::new(file).map_err(|e| unreadable(&e))?;
            tar_members(&mut z)?
        }
        Kind::Zip => {
            let mut zip = zip::ZipArchive::new(file).map_err(|e| unreadable(&e))?;
            for i in 0..zip.len() {
                let mut entry = zip.by_index(i).map_err(|e| unreadable(&e))?;
                if !entry.is_file() || entry.is_symlink() {
                    continue;
                }
                let name = entry.name().map_err(|e| unreadable(&e))?.into_owned();
                let size = entry.size();
                keep(member_name(&name), size, &mut entry)?;
            }
        }
    }
    Ok(out)
}

/// A member's name as subjects carry it: `./` prefixes dropped.
fn member_name(raw: &str) -> String {
    let mut name = raw;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_names() {
        assert_eq!(kind("app-v1.tar.gz"), Some(Kind::TarGz));
        assert_eq!(kind("APP.TGZ"), Some(Kind::TarGz));
        assert_eq!(kind("app.zip"), Some(Kind::Zip));
        assert_eq!(kind("app.tar.zst"), Some(Kind::TarZst));
        assert_eq!(kind("app.tar"), Some(Kind::Tar));
        assert_eq!(kind("app.tar.xz"), None);
        assert_eq!(unopened("app.tar.xz"), Some(".tar.xz"));
        assert_eq!(unopened("app.tar.gz"), None);
        assert_eq!(member_name("././bin/app"), "bin/app");
    }
}
