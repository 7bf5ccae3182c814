//! The effective value of each profile key, resolved the way Cargo resolves it:
//! the workspace root manifest, then `.cargo/config.toml` files along Cargo's search
//! path, then `CARGO_PROFILE_<NAME>_<KEY>` variables; custom profiles fall back
//! through their `inherits` chain to a built-in profile and its defaults.

use super::value::{canonical, Canon, Key, Raw};
use crate::error::Failure;
use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Manifest {
        file: PathBuf,
        line: usize,
        profile: String,
    },
    Config {
        file: PathBuf,
        line: usize,
        profile: String,
    },
    Env {
        var: String,
    },
    Default {
        profile: String,
    },
}

impl Origin {
    pub fn file_line(&self) -> Option<(&Path, usize)> {
        match self {
            Origin::Manifest { file, line, .. } | Origin::Config { file, line, .. } => {
                Some((file, *line))
            }
            _ => None,
        }
    }
}

impl Origin {
    /// `Cargo.toml:12 [profile.release]`, with the path relative to `root` when given.
    pub fn describe(&self, root: Option<&Path>) -> String {
        match self {
            Origin::Manifest {
                file,
                line,
                profile,
            }
            | Origin::Config {
                file,
                line,
                profile,
            } => {
                let shown = root.and_then(|r| file.strip_prefix(r).ok()).unwrap_or(file);
                format!("{}:{line} [profile.{profile}]", shown.display())
            }
            Origin::Env { var } => format!("environment variable {var}"),
            Origin::Default { profile } => format!("Cargo default for `{profile}`"),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(None))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub raw: Raw,
    /// The canonical value, or why Cargo would reject the raw one.
    pub value: Result<Canon, String>,
    pub origin: Origin,
}

/// A `[profile.NAME.package.SPEC]` setting that applies to some crates only.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageOverride {
    pub spec: String,
    pub key: Key,
    pub value: Result<Canon, String>,
    pub raw: Raw,
    pub origin: Origin,
}

#[derive(Debug)]
pub struct Effective {
    pub profile: String,
    /// The profile and its `inherits` ancestors, ending with a built-in profile.
    pub chain: Vec<String>,
    pub values: BTreeMap<Key, Resolved>,
    pub package_overrides: Vec<PackageOverride>,
}

/// One parsed TOML file that can hold `[profile.*]` tables.
#[derive(Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    pub doc: toml_edit::Document<String>,
    pub is_manifest: bool,
}

impl Source {
    pub fn parse(path: &Path, text: String, is_manifest: bool) -> Result<Source> {
        let doc = toml_edit::Document::parse(text.clone()).map_err(|e| {
            let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(1);
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string();
            Failure::new(format!("{}:{line}: invalid TOML: {msg}", path.display()))
                .help("fix the TOML syntax at that line")
        })?;
        Ok(Source {
            path: path.to_path_buf(),
            text,
            doc,
            is_manifest,
        })
    }

    pub fn read(path: &Path, is_manifest: bool) -> Result<Source> {
        let what = if is_manifest {
            "manifest"
        } else {
            "Cargo config"
        };
        let text = crate::fsutil::read_text(path, crate::fsutil::TEXT_LIMIT, what)?;
        Source::parse(path, text, is_manifest)
    }

    /// `[profile.NAME]` in any shape Cargo accepts: a table, dotted keys, or an
    /// inline table (`[profile] release = { … }`, `profile = { release = { … } }`).
    fn profile(&self, name: &str) -> Option<&dyn toml_edit::TableLike> {
        self.doc
            .get("profile")?
            .as_table_like()?
            .get(name)?
            .as_table_like()
    }

    fn origin(&self, profile: &str, span: Option<std::ops::Range<usize>>) -> Origin {
        let line = span.map(|s| line_of(&self.text, s.start)).unwrap_or(1);
        if self.is_manifest {
            Origin::Manifest {
                file: self.path.clone(),
                line,
                profile: profile.to_string(),
            }
        } else {
            Origin::Config {
                file: self.path.clone(),
                line,
                profile: profile.to_string(),
            }
        }
    }
}

pub fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Everything that can set a profile key, highest precedence first.
pub struct Sources {
    pub env: Vec<(String, String)>,
    /// Config files, nearest first (they win over farther ones and over the manifest).
    pub configs: Vec<Source>,
    pub manifest: Source,
}

impl Sources {
    /// Reads the root manifest, the config files Cargo would read from `cwd`, and the
    /// `CARGO_PROFILE_*` variables of `env`.
    pub fn gather(
        manifest: Source,
        cwd: &Path,
        cargo_home: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Sources> {
        let mut configs = Vec::new();
        let mut seen = Vec::new();
        for dir in cwd.ancestors() {
            for name in ["config.toml", "config"] {
                let p = dir.join(".cargo").join(name);
                if p.is_file() {
                    seen.push(p.canonicalize().unwrap_or(p.clone()));
                    configs.push(Source::read(&p, false)?);
                    break;
                }
            }
        }
        if let Some(home) = cargo_home {
            for name in ["config.toml", "config"] {
                let p = home.join(name);
                if p.is_file() {
                    let canon = p.canonicalize().unwrap_or(p.clone());
                    if !seen.contains(&canon) {
                        configs.push(Source::read(&p, false)?);
                    }
                    break;
                }
            }
        }
        let env = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("CARGO_PROFILE_"))
            .collect();
        Ok(Sources {
            env,
            configs,
            manifest,
        })
    }

    fn env_var(&self, profile: &str, suffix: &str) -> Option<(String, &str)> {
        let var = format!(
            "CARGO_PROFILE_{}_{suffix}",
            profile.to_ascii_uppercase().replace('-', "_")
        );
        self.env
            .iter()
            .find(|(k, _)| *k == var)
            .map(|(_, v)| (var, v.as_str()))
    }

    /// Files in precedence order: configs (nearest first), then the manifest.
    fn files(&self) -> impl Iterator<Item = &Source> {
        self.configs.iter().chain(std::iter::once(&self.manifest))
    }

    /// The value of one key set directly in `[profile.NAME]` (not inherited).
    fn lookup(&self, profile: &str, key: &str, env_suffix: &str) -> Option<(Raw, Origin)> {
        if let Some((var, v)) = self.env_var(profile, env_suffix) {
            return Some((Raw::from_env(v), Origin::Env { var }));
        }
        for src in self.files() {
            if let Some(item) = src.profile(profile).and_then(|t| t.get(key)) {
                let raw = item
                    .as_value()
                    .map(Raw::from_toml)
                    .unwrap_or_else(|| Raw::Other("a table".into()));
                return Some((raw, src.origin(profile, item.span())));
            }
        }
        None
    }

    fn defined(&self, profile: &str) -> bool {
        self.files().any(|s| s.profile(profile).is_some())
            || self.env.iter().any(|(k, _)| {
                k.starts_with(&format!(
                    "CARGO_PROFILE_{}_",
                    profile.to_ascii_uppercase().replace('-', "_")
                ))
            })
    }

    /// `profile` and its `inherits` ancestors down to a built-in profile.
    pub fn chain(&self, profile: &str) -> Result<Vec<String>> {
        let mut chain = vec![profile.to_string()];
        let mut current = profile.to_string();
        loop {
            let parent = match current.as_str() {
                "dev" | "release" => return Ok(chain),
                "test" | "bench" => None,
                _ => Some(()),
            };
            let inherits = self.lookup(&current, "inherits", "INHERITS");
            let next = match (inherits, parent) {
                (Some((Raw::Str(p), _)), _) => p,
                (Some((other, origin)), _) => {
                    return Err(Failure::new(format!(
                        "{origin}: `inherits = {other}` must be a profile name string"
                    ))
                    .help("write e.g. `inherits = \"release\"`")
                    .into())
                }
                (None, None) if current == "test" => "dev".to_string(),
                (None, None) => "release".to_string(),
                (None, Some(())) => {
                    let why = if self.defined(&current) {
                        format!("profile `{current}` has no `inherits` key")
                    } else {
                        format!(
                            "profile `{current}` is not defined in {} or any Cargo config",
                            self.manifest.path.display()
                        )
                    };
                    return Err(Failure::new(why)
                        .help(format!("add `[profile.{current}]` with `inherits = \"release\"` to the workspace root Cargo.toml, or pick another profile with --profile"))
                        .into());
                }
            };
            if chain.contains(&next) {
                return Err(Failure::new(format!(
                    "profile inheritance cycle: {} -> {next}",
                    chain.join(" -> ")
                ))
                .help("make the chain end at `release` or `dev`")
                .into());
            }
            chain.push(next.clone());
            current = next;
        }
    }

    pub fn resolve(&self, profile: &str) -> Result<Effective> {
        let chain = self.chain(profile)?;
        let builtin = chain.last().cloned().unwrap_or_else(|| "release".into());
        let mut values = BTreeMap::new();
        // debug first: strip's default depends on it.
        let order = [
            Key::Debug,
            Key::Lto,
            Key::CodegenUnits,
            Key::Strip,
            Key::OverflowChecks,
            Key::Panic,
            Key::Incremental,
            Key::OptLevel,
        ];
        for key in order {
            let found = chain
                .iter()
                .find_map(|p| self.lookup(p, key.name(), &key.env_suffix()));
            let resolved = match found {
                Some((raw, origin)) => Resolved {
                    value: canonical(key, &raw),
                    raw,
                    origin,
                },
                None => {
                    let debug_off = values
                        .get(&Key::Debug)
                        .is_some_and(|d: &Resolved| d.value == Ok(Canon::Str("none")));
                    let canon = default_for(&builtin, key, debug_off);
                    Resolved {
                        raw: Raw::Other(canon.to_string()),
                        value: Ok(canon),
                        origin: Origin::Default {
                            profile: builtin.clone(),
                        },
                    }
                }
            };
            values.insert(key, resolved);
        }
        let mut package_overrides = Vec::new();
        for p in &chain {
            for src in self.files() {
                let Some(pkgs) = src
                    .profile(p)
                    .and_then(|t| t.get("package"))
                    .and_then(|i| i.as_table_like())
                else {
                    continue;
                };
                for (spec, item) in pkgs.iter() {
                    let Some(t) = item.as_table_like() else {
                        continue;
                    };
                    for key in [Key::CodegenUnits, Key::Strip] {
                        if let Some(v) = t.get(key.name()) {
                            let raw = v
                                .as_value()
                                .map(Raw::from_toml)
                                .unwrap_or_else(|| Raw::Other("a table".into()));
                            package_overrides.push(PackageOverride {
                                spec: spec.to_string(),
                                key,
                                value: canonical(key, &raw),
                                raw,
                                origin: src.origin(p, v.span()),
                            });
                        }
                    }
                }
            }
        }
        Ok(Effective {
            profile: profile.to_string(),
            chain,
            values,
            package_overrides,
        })
    }
}

/// Cargo's built-in profile defaults (the Cargo book, "Profiles").
pub fn default_for(builtin: &str, key: Key, debug_off: bool) -> Canon {
    let release = builtin != "dev";
    match key {
        Key::OptLevel => Canon::Int(if release { 3 } else { 0 }),
        Key::Debug => Canon::Str(if release { "none" } else { "full" }),
        // Since Cargo 1.77 strip defaults to "debuginfo" when no debuginfo is requested.
        Key::Strip => Canon::Str(if debug_off { "debuginfo" } else { "none" }),
        Key::OverflowChecks => Canon::Bool(!release),
        Key::Lto => Canon::Bool(false),
        Key::Panic => Canon::Str("unwind"),
        Key::Incremental => Canon::Bool(!release),
        Key::CodegenUnits => Canon::Int(if release { 16 } else { 256 }),
    }
}
