//! `cargo xtask advisory-snapshot [DIR]`: refreshes the RustSec snapshot the binary
//! embeds (`assets/advisory-db.snapshot.zst`) from a local checkout of the database.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn run() -> Result<(), String> {
    let root = crate::workspace_root()?;
    let from = std::env::args()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/advisory-db"));
    if !from.join("crates").is_dir() {
        return Err(format!(
            "{} has no crates/ directory: pass a checkout of github.com/rustsec/advisory-db",
            from.display()
        ));
    }
    let meta = origin(&from)?;
    let files = advisories(&from)?;
    let blob =
        cargo_secure_release::deps::snapshot::encode(&meta, &files).map_err(|e| e.to_string())?;
    let dest = root.join("assets/advisory-db.snapshot.zst");
    std::fs::create_dir_all(dest.parent().ok_or("no parent")?).map_err(|e| e.to_string())?;
    std::fs::write(&dest, &blob).map_err(|e| format!("{}: {e}", dest.display()))?;
    eprintln!(
        "xtask: wrote {} ({} advisories, {}, {} bytes)",
        dest.display(),
        files.len(),
        meta.describe(),
        blob.len()
    );
    Ok(())
}

/// The commit and its date: from git for a clone, else from the `SNAPSHOT` file a
/// plain copy carries ("Snapshot of commit <hex> (<date>)").
fn origin(dir: &Path) -> Result<cargo_secure_release::deps::snapshot::Meta, String> {
    let git = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%H %cs"])
        .output();
    let line = match git {
        Ok(out) if out.status.success() && dir.join(".git").exists() => {
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }
        _ => {
            let text = std::fs::read_to_string(dir.join("SNAPSHOT")).map_err(|_| {
                format!(
                    "{} is neither a git clone nor a copy with a SNAPSHOT file naming its commit",
                    dir.display()
                )
            })?;
            let rest = text
                .split_once("commit ")
                .map(|(_, r)| r)
                .ok_or("SNAPSHOT names no commit")?;
            let commit: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            let date = rest
                .split_once('(')
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(d, _)| d.to_string())
                .ok_or("SNAPSHOT names no date")?;
            format!("{commit} {date}")
        }
    };
    let (commit, date) = line.split_once(' ').ok_or("no commit found")?;
    if commit.len() != 40 || date.len() != 10 {
        return Err(format!("could not read the commit and date from `{line}`"));
    }
    Ok(cargo_secure_release::deps::snapshot::Meta {
        commit: commit.to_string(),
        date: date.to_string(),
    })
}

/// Every advisory cargo-deny would read (regular `.md` files under `crates/`, as the
/// audit lists them), by path relative to the database, sorted.
fn advisories(base: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = cargo_secure_release::deps::advisory_db::advisory_files(base)
        .into_iter()
        .filter(|(_, meta)| meta.is_file())
        .map(|(path, _)| {
            let rel = path
                .strip_prefix(base)
                .map_err(|e| e.to_string())?
                .to_str()
                .ok_or_else(|| format!("{} is not UTF-8", path.display()))?
                .replace('\\', "/");
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((rel, bytes))
        })
        .collect::<Result<Vec<_>, String>>()?;
    // By the relative name as text: the order the snapshot has always had.
    files.sort();
    Ok(files)
}
