//! Writing files so that nothing is lost: temp file in the same directory, then rename.

use crate::error::Failure;
use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// Replaces (or creates) `path` atomically, keeping an existing file's permissions.
/// A read-only file is refused: the user made it so on purpose.
pub fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let existing = std::fs::metadata(path).ok();
    if let Some(meta) = &existing {
        if meta.permissions().readonly() {
            return Err(Failure::new(format!(
                "{} is read-only; nothing was changed",
                path.display()
            ))
            .help("make it writable (chmod u+w) and run again, or apply the change by hand")
            .into());
        }
    }
    let fail = |e: std::io::Error| -> anyhow::Error {
        Failure::new(format!(
            "could not write {}: {e}; nothing was changed",
            path.display()
        ))
        .help("check that the directory is writable")
        .into()
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(contents.as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    if let Some(meta) = existing {
        std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(fail)?;
    }
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Every file under `dir` with its metadata, sorted by path; `.git` directories are
/// skipped and unreadable entries ignored.
pub fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, std::fs::Metadata)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                if e.file_name() != ".git" {
                    stack.push(e.path());
                }
            } else {
                out.push((e.path(), meta));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
