//! The cargo subprocess: one `cargo metadata` per command, and its errors turned
//! into one line that names the file, plus the fix.

use crate::error::{escape, Failure};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `cargo metadata` JSON with all features of the workspace members enabled, so the
/// graph covers every package that can end up in Cargo.lock. Always `--locked`: the
/// audit must never create or rewrite the project's lockfile.
pub fn metadata(manifest_path: &Path, offline: bool, frozen: bool) -> Result<Vec<u8>> {
    check_lockfiles(manifest_path)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--all-features",
        "--locked",
    ])
    .arg("--manifest-path")
    .arg(manifest_path);
    if offline {
        cmd.arg("--offline");
    }
    if frozen {
        cmd.arg("--frozen");
    }
    let out = cmd
        .output()
        .context("could not run `cargo metadata`: is cargo on PATH?")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(metadata_failure(manifest_path, &stderr).into());
    }
    Ok(out.stdout)
}

/// Cargo reads the Cargo.lock of the manifest's directory or of a parent workspace,
/// whatever it is: refuse one that is not a regular file of sane size before cargo
/// does (a link to `/dev/zero` drives cargo to gigabytes).
fn check_lockfiles(manifest_path: &Path) -> Result<()> {
    for dir in manifest_path.parent().into_iter().flat_map(Path::ancestors) {
        let lock = dir.join("Cargo.lock");
        if std::fs::symlink_metadata(&lock).is_err() {
            continue;
        }
        let meta = std::fs::metadata(&lock);
        let ok = meta
            .as_ref()
            .is_ok_and(|m| m.is_file() && m.len() <= crate::fsutil::LOCKFILE_LIMIT);
        if !ok {
            let what = match &meta {
                Err(e) => format!("cannot be read ({e})"),
                Ok(m) if m.is_file() => format!(
                    "is {} bytes, more than the {} a lockfile may be",
                    m.len(),
                    crate::fsutil::LOCKFILE_LIMIT
                ),
                Ok(_) => "is not a regular file".to_string(),
            };
            return Err(Failure::new(format!(
                "{} {what}; cargo was not run",
                escape(&lock.display().to_string())
            ))
            .help("replace it with the project's real Cargo.lock (`cargo generate-lockfile`)")
            .into());
        }
    }
    Ok(())
}

/// Turns cargo's error text into one line that names the file, plus the fix.
fn metadata_failure(manifest: &Path, stderr: &str) -> Failure {
    let cargo_lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let first = cargo_lines
        .iter()
        .find(|l| l.starts_with("error"))
        .copied()
        .unwrap_or("cargo metadata failed")
        .trim_start_matches("error: ");
    let detail = cargo_lines.join("\n");
    if stderr.contains("needs to be updated but --")
        || stderr.contains("because --locked was passed")
        || stderr.contains("because --frozen was passed")
    {
        let lock = manifest_dir_lock(manifest);
        let missing = lock.as_ref().is_none_or(|l| !l.exists());
        if missing {
            return Failure::new(format!(
                "no Cargo.lock next to the workspace manifest {}",
                escape(&manifest.display().to_string())
            ))
            .help("a release audit checks the exact versions you ship: run `cargo generate-lockfile` and commit Cargo.lock")
            .detail(detail);
        }
        return Failure::new(format!(
            "Cargo.lock is out of date with {}",
            escape(&manifest.display().to_string())
        ))
        .help("run `cargo update --workspace` (or `cargo check`) and commit Cargo.lock; the audit never rewrites it")
        .detail(detail);
    }
    // cargo points at manifest errors as ` --> Cargo.toml:LINE:COL`, relative to the manifest's directory.
    let pointer = cargo_lines.iter().find_map(|l| {
        let rest = l.trim_start().strip_prefix("--> ")?;
        let mut parts = rest.rsplitn(3, ':');
        let _col = parts.next()?;
        let line = parts.next()?.parse::<usize>().ok()?;
        let file = parts.next()?;
        Some((file.to_string(), line))
    });
    // Config files: "could not parse TOML configuration in `PATH`" then "TOML parse error at line N".
    let toml_error = cargo_lines.iter().enumerate().find_map(|(i, l)| {
        let n = l.trim().strip_prefix("TOML parse error at line ")?;
        let line: usize = n.split(',').next()?.trim().parse().ok()?;
        let path = cargo_lines[..i].iter().rev().find_map(|p| {
            let start = p.find('`')? + 1;
            let end = start + p[start..].find('`')?;
            Some(p[start..end].to_string())
        })?;
        let reason = cargo_lines
            .last()
            .map(|r| r.trim().to_string())
            .unwrap_or_default();
        Some((path, line, reason))
    });
    if let Some((path, line, reason)) = toml_error {
        return Failure::new(format!("{path}:{line}: invalid TOML: {reason}"))
            .help("fix the TOML at that line")
            .detail(detail);
    }
    match pointer {
        Some((file, line)) => {
            let path = manifest
                .parent()
                .map_or_else(|| PathBuf::from(&file), |d| d.join(&file));
            Failure::new(format!("{}:{line}: {first}", path.display()))
                .help("fix the manifest at that line (https://doc.rust-lang.org/cargo/reference/manifest.html)")
                .detail(detail)
        }
        None => Failure::new(format!(
            "`cargo metadata` failed for {}: {first}",
            escape(&manifest.display().to_string())
        ))
        .help("fix the problem cargo reports below, then run the audit again")
        .detail(detail),
    }
}

/// Best guess at where Cargo.lock lives, for the error message only: the nearest
/// ancestor whose Cargo.toml declares `[workspace]`, else the manifest's own directory.
fn manifest_dir_lock(manifest: &Path) -> Option<PathBuf> {
    let dir = manifest.parent()?;
    for d in dir.ancestors() {
        let m = d.join("Cargo.toml");
        if let Ok(text) = crate::fsutil::read_text(&m, crate::fsutil::TEXT_LIMIT, "manifest") {
            if text.lines().any(|l| l.trim() == "[workspace]") {
                return Some(d.join("Cargo.lock"));
            }
        }
    }
    Some(dir.join("Cargo.lock"))
}
