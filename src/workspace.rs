//! The project as Cargo describes it: one `cargo metadata` per command, parsed twice
//! from the same JSON (our `cargo_metadata` view and krates' own `krates::cm` view).

use crate::error::{escape, Failure};
use crate::options::ManifestOptions;
use anyhow::{Context, Result};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The step's name before it is known whether cargo has to run.
pub const READING: &str = "Reading the workspace (cargo metadata)";

pub struct Workspace {
    pub metadata: cargo_metadata::Metadata,
    /// The raw JSON: krates' own model is parsed from it only when the graph is built
    /// (shared with the thread that builds it).
    json: std::sync::Arc<[u8]>,
    pub root: PathBuf,
    pub manifest_path: PathBuf,
    /// SHA-256 of the `cargo metadata` JSON, for cache keys.
    pub metadata_hash: [u8; 32],
    /// The answer came from the fingerprint record: cargo did not run.
    pub cargo_spared: bool,
    /// The Cargo.lock this load created because there was none, for the command to say
    /// so (see `cargo::metadata`).
    pub created_lockfile: Option<PathBuf>,
    /// The fingerprint record being written beside the rest of the command.
    recording: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if let Some(r) = self.recording.take() {
            let _ = r.join();
        }
    }
}

/// Where `from_json` hashes cargo's JSON: on a thread beside its parse, or after it.
pub enum Hash {
    Beside,
    After,
}

impl Workspace {
    /// Describes the workspace with all features of its members enabled (see
    /// `cargo::metadata`).
    pub fn load(args: &ManifestOptions) -> Result<Self> {
        let manifest_path = resolve_manifest_path(args.manifest_path.as_deref())?;
        Self::load_resolved(args, manifest_path)
    }

    /// As `load`, for a manifest path already resolved with `resolve_manifest_path`.
    pub fn load_resolved(args: &ManifestOptions, manifest_path: PathBuf) -> Result<Self> {
        let md = crate::cargo::metadata(
            &manifest_path,
            args.offline(),
            args.frozen,
            args.may_create_lockfile(),
        )?;
        Self::from_cargo(md, manifest_path, Hash::Beside, |_| {})
    }

    /// Parses what cargo printed while cargo exits, then holds it to cargo's exit:
    /// a failed cargo is its error, and output after the document is judged with it,
    /// as if the whole output had been parsed after the exit. `cargo_ran` gets the
    /// JSON before it is parsed here, for work that can start on it at once.
    fn from_cargo(
        md: crate::cargo::Metadata,
        manifest_path: PathBuf,
        hash: Hash,
        cargo_ran: impl FnOnce(&std::sync::Arc<[u8]>),
    ) -> Result<Self> {
        let crate::cargo::Metadata {
            json,
            created_lockfile,
            exit,
        } = md;
        let json: std::sync::Arc<[u8]> = json.into();
        cargo_ran(&json);
        let parsed = Self::from_json(json.clone(), manifest_path.clone(), hash);
        let rest = exit.finish(&manifest_path)?;
        // Cargo's newline ends `json`: anything after it is parsed with it, by the
        // same rules (serde_json's trailing whitespace is not `is_ascii_whitespace`).
        let mut ws = match rest.is_empty() {
            true => parsed?,
            false => Self::from_json(
                [&json[..], &rest].concat().into(),
                manifest_path,
                Hash::After,
            )?,
        };
        ws.created_lockfile = created_lockfile;
        Ok(ws)
    }

    /// As `load_resolved`, answering from the fingerprint record (no cargo) when every
    /// input of the last `cargo metadata` is unchanged; `cache: false` neither reads
    /// nor writes the record. `cargo_spared` says which it was.
    pub fn load_cached(
        args: &ManifestOptions,
        manifest_path: PathBuf,
        cache: bool,
    ) -> Result<Self> {
        if cache {
            if let Some(ws) = Self::recorded(args, &manifest_path) {
                return Ok(ws);
            }
        }
        Self::load_and_record(args, manifest_path, cache, true, |_| {})
    }

    /// As `load_resolved`, with `--features` beyond `--all-features` (see
    /// `cargo::metadata_with_features`); never from or into the record.
    pub fn load_with_features(
        args: &ManifestOptions,
        manifest_path: PathBuf,
        features: &[String],
    ) -> Result<Self> {
        let md = crate::cargo::metadata_with_features(
            &manifest_path,
            args.offline(),
            args.frozen,
            features,
        )?;
        Self::from_cargo(md, manifest_path, Hash::After, |_| {})
    }

    /// What the "Reading the workspace" step turned out to be, for `-vv` and the bar.
    pub fn read_label(&self) -> &'static str {
        match self.cargo_spared {
            true => "Reading the workspace (inputs unchanged: no cargo)",
            false => READING,
        }
    }

    /// The fingerprint record's answer, when every input of the last `cargo metadata`
    /// is unchanged (`cargo_spared` is set).
    pub fn recorded(args: &ManifestOptions, manifest_path: &Path) -> Option<Self> {
        let (json, recorded) =
            crate::fingerprint::lookup(manifest_path, args.offline(), args.frozen)?;
        // A record that does not parse, or not the JSON it was made with, is a miss,
        // not an error.
        let mut ws =
            Self::from_json(json.into(), manifest_path.to_path_buf(), Hash::Beside).ok()?;
        if crate::digest::hex(&ws.metadata_hash) != recorded {
            return None;
        }
        ws.cargo_spared = true;
        Some(ws)
    }

    /// Runs `cargo metadata` and, with `record`, writes the fingerprint record beside
    /// the rest of the command. `cargo_ran` gets cargo's JSON before it is parsed here,
    /// for work that can start on it at once.
    pub fn load_recording(
        args: &ManifestOptions,
        manifest_path: PathBuf,
        record: bool,
        cargo_ran: impl FnOnce(&std::sync::Arc<[u8]>),
    ) -> Result<Self> {
        Self::load_and_record(args, manifest_path, record, false, cargo_ran)
    }

    /// `load_recording`; `alone`: the command starts nothing else on cargo's JSON.
    fn load_and_record(
        args: &ManifestOptions,
        manifest_path: PathBuf,
        record: bool,
        alone: bool,
        cargo_ran: impl FnOnce(&std::sync::Arc<[u8]>),
    ) -> Result<Self> {
        let (offline, frozen) = (args.offline(), args.frozen);
        // The inputs' state before cargo reads them (see `fingerprint::Before`).
        let before = match record {
            true => crate::fingerprint::before(&manifest_path),
            false => None,
        };
        let md =
            crate::cargo::metadata(&manifest_path, offline, frozen, args.may_create_lockfile())?;
        // `alone`: nothing else starts on cargo's JSON, so the hash takes the other
        // core. Otherwise `cargo_ran` may have started the dependency graph there: a
        // third busy thread on a two-core runner would slow the graph, which the audit
        // waits for, more than hashing after the parse slows this one.
        let hash = match alone {
            true => Hash::Beside,
            false => Hash::After,
        };
        let mut ws = Self::from_cargo(md, manifest_path.clone(), hash, cargo_ran)?;
        // `before` saw no Cargo.lock: a record made from it could only miss.
        let before = before.filter(|_| ws.created_lockfile.is_none());
        if let Some(before) = before {
            // Listing and hashing the inputs and writing the record overlap the audit.
            let answer = crate::fingerprint::Answer {
                sha256: crate::digest::hex(&ws.metadata_hash),
                root: ws.root.clone(),
                path_manifests: ws
                    .metadata
                    .packages
                    .iter()
                    .filter(|p| p.source.is_none())
                    .map(|p| p.manifest_path.clone().into_std_path_buf())
                    .collect(),
                source_manifests: ws
                    .metadata
                    .packages
                    .iter()
                    .filter(|p| p.source.is_some())
                    .map(|p| p.manifest_path.clone().into_std_path_buf())
                    .collect(),
                json: ws.json(),
            };
            // Wanted by the next run, not this one: it yields to the checks. Alone, the
            // command has nothing for it to yield to, and waits for it at its end (a
            // lowered thread on a busy machine would come last).
            ws.recording = Some(std::thread::spawn(move || {
                if !alone {
                    crate::threads::lower_priority();
                }
                crate::fingerprint::record(&manifest_path, offline, frozen, before, answer);
            }));
        }
        Ok(ws)
    }

    pub fn from_json(
        json: std::sync::Arc<[u8]>,
        manifest_path: PathBuf,
        hash: Hash,
    ) -> Result<Self> {
        let (metadata, metadata_hash) = match hash {
            // The hash (for cache keys) and our parse on separate cores.
            Hash::Beside => std::thread::scope(|s| {
                let h = s.spawn(|| -> [u8; 32] { sha2::Sha256::digest(&json).into() });
                let m = serde_json::from_slice::<cargo_metadata::Metadata>(&json);
                (m, h.join().expect("hashing does not panic"))
            }),
            Hash::After => {
                let m = serde_json::from_slice::<cargo_metadata::Metadata>(&json);
                (m, sha2::Sha256::digest(&json).into())
            }
        };
        let metadata = metadata.context("could not parse `cargo metadata` output")?;
        let root = metadata.workspace_root.clone().into_std_path_buf();
        Ok(Self {
            metadata,
            json,
            root,
            manifest_path,
            metadata_hash,
            cargo_spared: false,
            created_lockfile: None,
            recording: None,
        })
    }

    /// Ends a workspace whose command is done: the record being written is waited
    /// for, the rest (cargo's parsed JSON: a few hundred thousand allocations) is left
    /// to the process exit, which frees it at once instead of piece by piece.
    pub fn release(mut self) {
        if let Some(r) = self.recording.take() {
            let _ = r.join();
        }
        std::mem::forget(self);
    }

    /// The line that says this load wrote a Cargo.lock, if it did.
    pub fn lockfile_note(&self) -> Option<String> {
        let lock = self.created_lockfile.as_ref()?;
        Some(format!(
            "no Cargo.lock: created {} with `cargo generate-lockfile`, as `cargo build` would; commit it, so the release ships the versions checked here",
            crate::error::escape(&lock.display().to_string())
        ))
    }

    pub fn root_manifest(&self) -> PathBuf {
        self.root.join("Cargo.toml")
    }

    /// The `cargo metadata` JSON itself, for krates' own model of it.
    pub fn json(&self) -> std::sync::Arc<[u8]> {
        self.json.clone()
    }

    pub fn lockfile_path(&self) -> PathBuf {
        self.root.join("Cargo.lock")
    }

    /// Cargo.lock's bytes (bounded); a missing or unreadable one is an error whose help
    /// is the caller's: what it needs the lockfile for.
    pub fn read_lockfile(&self, help: &str) -> Result<Vec<u8>> {
        crate::fsutil::read_bounded(
            &self.lockfile_path(),
            crate::fsutil::LOCKFILE_LIMIT,
            "lockfile",
        )
        .map_err(|e| Failure::new(format!("{e}")).help(help).into())
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

    /// The packages `cargo build` builds: the `-p` specs, else cargo's default
    /// members (the package of the manifest given; at the root, `default-members`,
    /// else the root package, else every member of a virtual workspace).
    pub fn build_members(&self, specs: &[String]) -> Result<Vec<&cargo_metadata::Package>> {
        if !specs.is_empty() {
            return self.selected_members(specs);
        }
        if self.metadata.workspace_default_members.is_available() {
            return Ok(self.metadata.workspace_default_packages());
        }
        // cargo before 1.71 does not say: the rule above, without default-members.
        Ok(match self.current_member() {
            Some(p) => vec![p],
            None => self.metadata.workspace_packages(),
        })
    }

    /// The member whose manifest this command was given (cargo's "current" package,
    /// whose features `--features` names under resolver 1); None at a virtual root.
    pub fn current_member(&self) -> Option<&cargo_metadata::Package> {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let given = canon(&self.manifest_path);
        self.metadata
            .workspace_packages()
            .into_iter()
            .find(|p| canon(p.manifest_path.as_std_path()) == given)
    }

    /// The workspace's feature resolver, from its root manifest.
    pub fn resolver(&self) -> Result<crate::unify::Resolver> {
        crate::unify::Resolver::of(
            &self.metadata,
            &self
                .metadata
                .workspace_root
                .as_std_path()
                .join("Cargo.toml"),
        )
    }

    /// Path relative to the workspace root, for display and report locations.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// The manifest to use: `--manifest-path` as given (made absolute, symlinks kept, as
/// cargo wants them), else Cargo.toml found upwards from the current directory.
pub fn resolve_manifest_path(given: Option<&Path>) -> Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => find_manifest_upwards()?,
    };
    let shown = escape(&path.display().to_string());
    match std::fs::metadata(&path) {
        Err(_) => Err(
            Failure::new(format!("manifest path `{shown}` does not exist"))
                .help(
                    "pass --manifest-path pointing at a Cargo.toml, or run inside a Cargo project",
                )
                .into(),
        ),
        Ok(m) if !m.is_file() => Err(Failure::new(format!(
            "manifest path `{shown}` is not a file"
        ))
        .help(
            "pass --manifest-path with the path of the Cargo.toml file itself, e.g. dir/Cargo.toml",
        )
        .into()),
        Ok(_) => std::path::absolute(&path).with_context(|| format!("could not resolve {shown}")),
    }
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
