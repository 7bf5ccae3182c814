//! The project as Cargo describes it: one `cargo metadata` per command, parsed twice
//! from the same JSON (our `cargo_metadata` view and krates' own `krates::cm` view).

use crate::cli::ManifestArgs;
use crate::error::Failure;
use anyhow::{Context, Result};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Workspace {
    pub metadata: cargo_metadata::Metadata,
    /// The raw JSON: krates' own model is parsed from it only when the graph is built.
    json: Vec<u8>,
    pub root: PathBuf,
    pub manifest_path: PathBuf,
    /// SHA-256 of the `cargo metadata` JSON, for cache keys.
    pub metadata_hash: [u8; 32],
}

impl Workspace {
    /// Describes the workspace with all features of its members enabled, so that the
    /// graph covers every package that can end up in Cargo.lock. Always `--locked`:
    /// the audit must never create or rewrite the project's lockfile.
    pub fn load(args: &ManifestArgs) -> Result<Self> {
        let manifest_path = resolve_manifest_path(args.manifest_path.as_deref())?;
        Self::load_resolved(args, manifest_path)
    }

    /// As `load`, for a manifest path already resolved with `resolve_manifest_path`.
    pub fn load_resolved(args: &ManifestArgs, manifest_path: PathBuf) -> Result<Self> {
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
        .arg(&manifest_path);
        if args.offline() {
            cmd.arg("--offline");
        }
        if args.frozen {
            cmd.arg("--frozen");
        }
        let out = cmd
            .output()
            .context("could not run `cargo metadata`: is cargo on PATH?")?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(metadata_failure(&manifest_path, &stderr).into());
        }
        Self::from_json(&out.stdout, manifest_path)
    }

    pub fn from_json(json: &[u8], manifest_path: PathBuf) -> Result<Self> {
        // The hash (for cache keys) and our parse on separate cores.
        let (metadata, metadata_hash) = std::thread::scope(|s| {
            let h = s.spawn(|| -> [u8; 32] { sha2::Sha256::digest(json).into() });
            let m = serde_json::from_slice::<cargo_metadata::Metadata>(json);
            (m, h.join().expect("hashing does not panic"))
        });
        let metadata = metadata.context("could not parse `cargo metadata` output")?;
        let root = metadata.workspace_root.clone().into_std_path_buf();
        Ok(Self {
            metadata,
            json: json.to_vec(),
            root,
            manifest_path,
            metadata_hash,
        })
    }

    pub fn root_manifest(&self) -> PathBuf {
        self.root.join("Cargo.toml")
    }

    /// krates' model of the same `cargo metadata` output.
    pub fn krates_metadata(&self) -> Result<krates::cm::Metadata> {
        serde_json::from_slice(&self.json).context("could not parse `cargo metadata` output")
    }

    pub fn lockfile_path(&self) -> PathBuf {
        self.root.join("Cargo.lock")
    }

    /// Workspace members selected by `-p` (all members when none are given).
    pub fn selected_members(&self, specs: &[String]) -> Result<Vec<&cargo_metadata::Package>> {
        let members: Vec<_> = self.metadata.workspace_packages();
        if specs.is_empty() {
            return Ok(members);
        }
        let mut out = Vec::new();
        for spec in specs {
            let (name, version) = match spec.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (spec.as_str(), None),
            };
            let found = members.iter().find(|p| {
                p.name.as_str() == name && version.is_none_or(|v| p.version.to_string() == v)
            });
            match found {
                Some(p) => out.push(*p),
                None => {
                    let names: Vec<_> = members.iter().map(|p| p.name.as_str()).collect();
                    return Err(Failure::new(format!(
                        "package `{spec}` is not a member of the workspace at {}",
                        self.root.display()
                    ))
                    .help(format!("members are: {}", names.join(", ")))
                    .into());
                }
            }
        }
        Ok(out)
    }

    /// Path relative to the workspace root, for display and report locations.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// `[workspace.metadata.secure-release.KEY]`, else the root package's
/// `[package.metadata.secure-release.KEY]`: where every project setting of ours lives.
pub fn secure_release_setting<'m>(
    meta: &'m cargo_metadata::Metadata,
    root_manifest: &Path,
    key: &str,
) -> Option<&'m serde_json::Value> {
    let from_ws = meta
        .workspace_metadata
        .get("secure-release")
        .and_then(|s| s.get(key));
    from_ws.or_else(|| {
        meta.packages
            .iter()
            .find(|p| p.manifest_path.as_std_path() == root_manifest)
            .and_then(|p| p.metadata.get("secure-release"))
            .and_then(|s| s.get(key))
    })
}

/// `$CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

pub fn resolve_manifest_path(given: Option<&Path>) -> Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => find_manifest_upwards()?,
    };
    if !path.is_file() {
        return Err(
            Failure::new(format!("manifest path `{}` does not exist", path.display()))
                .help(
                    "pass --manifest-path pointing at a Cargo.toml, or run inside a Cargo project",
                )
                .into(),
        );
    }
    let path = path
        .canonicalize()
        .with_context(|| format!("could not resolve {}", path.display()))?;
    Ok(path)
}

fn find_manifest_upwards() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    for dir in cwd.ancestors() {
        let candidate = dir.join("Cargo.toml");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Failure::new(format!(
        "could not find Cargo.toml in {} or any parent directory",
        cwd.display()
    ))
    .help("run inside a Cargo project or pass --manifest-path")
    .into())
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
                manifest.display()
            ))
            .help("a release audit checks the exact versions you ship: run `cargo generate-lockfile` and commit Cargo.lock")
            .detail(detail);
        }
        return Failure::new(format!(
            "Cargo.lock is out of date with {}",
            manifest.display()
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
            manifest.display()
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
        if let Ok(text) = std::fs::read_to_string(&m) {
            if text.lines().any(|l| l.trim() == "[workspace]") {
                return Some(d.join("Cargo.lock"));
            }
        }
    }
    Some(dir.join("Cargo.lock"))
}
