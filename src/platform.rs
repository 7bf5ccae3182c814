//! The platforms a `cargo build` run here compiles for, as cargo itself chooses
//! them: the target (`--target`, else `CARGO_BUILD_TARGET`, else `build.target`)
//! and the host, each described by `rustc --print cfg` with the rustflags cargo
//! would pass (`CARGO_ENCODED_RUSTFLAGS`, else `RUSTFLAGS`, else the matching
//! `target.<triple>` / `target.'cfg(…)'` tables, else `build.rustflags`). A `cfg`
//! set by a flag selects `[target.'cfg(…)'.dependencies]` exactly as in the build,
//! so the SBOM and the reach line follow it.

use crate::error::{escape, Failure};
use anyhow::{Context, Result};
use cargo_metadata::cargo_platform::Cfg;
use std::path::{Path, PathBuf};

/// A platform to evaluate `cfg(...)` for: its triple and `rustc --print cfg`.
#[derive(Clone, Debug)]
pub struct Platform {
    pub triple: String,
    pub cfg: Vec<Cfg>,
}

impl Platform {
    /// The host, or `--target TRIPLE`, as rustc describes it without flags.
    pub fn of(target: Option<&str>) -> Result<Platform> {
        Self::with_flags(target, &[])
    }

    /// As `of`, with `flags` passed to rustc as cargo passes its rustflags.
    pub fn with_flags(target: Option<&str>, flags: &[String]) -> Result<Platform> {
        let triple = match target {
            Some(t) => t.to_string(),
            None => {
                let host = host()?;
                if flags.is_empty() {
                    return Ok(host);
                }
                host.triple
            }
        };
        let mut args: Vec<&str> = vec!["--print", "cfg", "--target", &triple];
        args.extend(flags.iter().map(String::as_str));
        let out =
            crate::fingerprint::toolchain_answer(crate::fingerprint::Tool::Rustc, &args, || {
                std::process::Command::new(rustc()).args(&args).output()
            })
            .context("could not run `rustc --print cfg`")?;
        if !out.status.success() {
            let what = match flags.is_empty() {
                true => format!("rustc does not know the target `{}`", escape(&triple)),
                false => format!(
                    "rustc rejects the target `{}` with the rustflags `{}`",
                    escape(&triple),
                    escape(&flags.join(" "))
                ),
            };
            return Err(Failure::new(what)
                .help("pass a target triple from `rustc --print target-list`, and rustflags rustc accepts (RUSTFLAGS, build.rustflags)")
                .detail(String::from_utf8_lossy(&out.stderr).into_owned())
                .into());
        }
        Ok(Platform {
            triple,
            cfg: parse_cfg(&out.stdout),
        })
    }

    pub fn matches(&self, p: &cargo_metadata::cargo_platform::Platform) -> bool {
        p.matches(&self.triple, &self.cfg)
    }
}

fn rustc() -> std::ffi::OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())
}

fn parse_cfg(text: &[u8]) -> Vec<Cfg> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// This machine, without flags.
fn host() -> Result<Platform> {
    // One process for both (rustc ≥ 1.84): each rustup-proxied rustc start costs
    // tens of milliseconds of `tag`'s time.
    let args = ["--print", "host-tuple", "--print", "cfg"];
    let both = crate::fingerprint::toolchain_answer(crate::fingerprint::Tool::Rustc, &args, || {
        std::process::Command::new(rustc()).args(args).output()
    })
    .context("could not run `rustc --print cfg`: is rustc on PATH?")?;
    if both.status.success() {
        let text = String::from_utf8_lossy(&both.stdout);
        let mut lines = text.lines();
        if let Some(triple) = lines.next().filter(|t| !t.contains('=')) {
            let cfg = lines.filter_map(|l| l.parse().ok()).collect();
            return Ok(Platform {
                triple: triple.to_string(),
                cfg,
            });
        }
    }
    let out = std::process::Command::new(rustc())
        .arg("-vV")
        .output()
        .context("could not run `rustc -vV`: is rustc on PATH?")?;
    let triple = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| Failure::new("`rustc -vV` did not name the host triple"))?;
    Platform::with_flags(Some(&triple), &[])
}

/// The target and host platforms of `cargo build` run in `cwd` (with `--target
/// explicit` when given).
pub struct Build {
    pub target: Platform,
    pub host: Platform,
}

impl Build {
    pub fn here(explicit: Option<&str>) -> Result<Build> {
        let cwd = std::env::current_dir().context("could not read the current directory")?;
        let config = Config::discover(&cwd)?;
        Self::with(explicit, &config, &|k| std::env::var(k).ok())
    }

    /// `env` reads the environment (a parameter so tests can give their own).
    pub fn with(
        explicit: Option<&str>,
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Build> {
        let configured = match env("CARGO_BUILD_TARGET").filter(|t| !t.is_empty()) {
            Some(t) => Some(t),
            None => config.build_target()?,
        };
        let triple = explicit.map(str::to_string).or(configured);
        if let Some(t) = triple.as_deref().filter(|t| t.ends_with(".json")) {
            return Err(Failure::new(format!(
                "the build target `{}` is a target specification file, which this command cannot describe",
                escape(t)
            ))
            .help("pass --target with a built-in target triple (see `rustc --print target-list`)")
            .into());
        }
        // Cargo's cross mode: with a target named, rustflags reach only the target's
        // units, never build scripts and proc-macros.
        let cross = triple.is_some();
        let plain = Platform::of(triple.as_deref())?;
        let flags = target_flags(&plain, config, env)?;
        let target = match flags.is_empty() {
            true => plain,
            false => Platform::with_flags(Some(&plain.triple), &flags)?,
        };
        let host = match cross {
            true => Platform::of(None)?,
            false => target.clone(),
        };
        Ok(Build { target, host })
    }
}

/// Cargo's order: the first source that is set wins, whole.
fn target_flags(
    plain: &Platform,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>> {
    if let Some(encoded) = env("CARGO_ENCODED_RUSTFLAGS") {
        return Ok(encoded
            .split('\x1f')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect());
    }
    if let Some(flags) = env("RUSTFLAGS") {
        return Ok(flags.split_whitespace().map(str::to_string).collect());
    }
    let env_key = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        plain.triple.to_uppercase().replace(['-', '.'], "_")
    );
    let mut from_target = config.list(&["target", &plain.triple, "rustflags"])?;
    if let Some(more) = env(&env_key) {
        from_target
            .get_or_insert_with(Vec::new)
            .extend(more.split_whitespace().map(str::to_string));
    }
    for (cfg, flags) in config.cfg_tables("rustflags")? {
        let expr: cargo_metadata::cargo_platform::Platform = cfg.parse().map_err(|e| {
            Failure::new(format!(
                "`[target.'{}']` in the cargo configuration is not a cfg expression: {e}",
                escape(&cfg)
            ))
        })?;
        if plain.matches(&expr) {
            from_target.get_or_insert_with(Vec::new).extend(flags);
        }
    }
    if let Some(f) = from_target {
        return Ok(f);
    }
    let mut build = config.list(&["build", "rustflags"])?;
    if let Some(more) = env("CARGO_BUILD_RUSTFLAGS") {
        build
            .get_or_insert_with(Vec::new)
            .extend(more.split_whitespace().map(str::to_string));
    }
    Ok(build.unwrap_or_default())
}

/// Cargo's configuration files, nearest first: `.cargo/config.toml` (or the older
/// `.cargo/config`) in the directory cargo runs in and each parent, then
/// `$CARGO_HOME/config.toml`.
pub struct Config {
    files: Vec<(PathBuf, toml_edit::DocumentMut)>,
}

/// A configuration file is a few kilobytes; more is not a configuration.
const CONFIG_LIMIT: u64 = 1 << 20;

impl Config {
    pub fn discover(cwd: &Path) -> Result<Config> {
        let mut paths: Vec<PathBuf> = Vec::new();
        for dir in cwd.ancestors() {
            if let Some(p) = config_in(&dir.join(".cargo")) {
                paths.push(p);
            }
        }
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
        if let Some(p) = home.as_deref().and_then(config_in) {
            // The home's file counts once, where it is lowest.
            let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            let c = canon(&p);
            paths.retain(|q| canon(q) != c);
            paths.push(p);
        }
        let mut files = Vec::new();
        for p in paths {
            let text = crate::fsutil::read_text(&p, CONFIG_LIMIT, "cargo configuration file")?;
            let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
                Failure::new(format!(
                    "{}: the cargo configuration is not valid TOML: {}",
                    escape(&p.display().to_string()),
                    escape(e.message())
                ))
                .help("fix the file: cargo itself refuses it too")
            })?;
            files.push((p, doc));
        }
        Ok(Config { files })
    }

    /// An empty configuration (tests; nothing found).
    pub fn empty() -> Config {
        Config { files: Vec::new() }
    }

    fn item(&self, idx: usize, path: &[&str]) -> Option<&toml_edit::Item> {
        let mut item = self.files[idx].1.as_item();
        for k in path {
            item = item.get(k)?;
        }
        Some(item)
    }

    /// A string-or-list key (`build.rustflags`): lists from every file joined, the
    /// farthest first as cargo merges them; a string (split on spaces) from the
    /// nearest file that has one replaces what is farther.
    fn list(&self, path: &[&str]) -> Result<Option<Vec<String>>> {
        let mut out: Option<Vec<String>> = None;
        for idx in (0..self.files.len()).rev() {
            let Some(item) = self.item(idx, path) else {
                continue;
            };
            let values = strings(item).ok_or_else(|| self.wrong_type(idx, path))?;
            match item.as_str() {
                Some(_) => out = Some(values),
                None => out.get_or_insert_with(Vec::new).extend(values),
            }
        }
        Ok(out)
    }

    /// `build.target`: the nearest file's; one target only.
    fn build_target(&self) -> Result<Option<String>> {
        for idx in 0..self.files.len() {
            let Some(item) = self.item(idx, &["build", "target"]) else {
                continue;
            };
            let values =
                strings_exact(item).ok_or_else(|| self.wrong_type(idx, &["build", "target"]))?;
            return match values.as_slice() {
                [one] => Ok(Some(one.clone())),
                _ => Err(Failure::new(format!(
                    "{}: `build.target` names {} targets; an SBOM describes the build for one",
                    escape(&self.files[idx].0.display().to_string()),
                    values.len()
                ))
                .help("pass --target TRIPLE to choose one")
                .into()),
            };
        }
        Ok(None)
    }

    /// Every `[target.'cfg(…)'] KEY` list, with its cfg expression.
    fn cfg_tables(&self, key: &str) -> Result<Vec<(String, Vec<String>)>> {
        let mut out = Vec::new();
        for idx in (0..self.files.len()).rev() {
            let Some(table) = self.item(idx, &["target"]).and_then(|t| t.as_table_like()) else {
                continue;
            };
            for (name, item) in table.iter() {
                if !name.starts_with("cfg(") {
                    continue;
                }
                if let Some(v) = item.get(key) {
                    let flags =
                        strings(v).ok_or_else(|| self.wrong_type(idx, &["target", name, key]))?;
                    out.push((name.to_string(), flags));
                }
            }
        }
        Ok(out)
    }

    fn wrong_type(&self, idx: usize, path: &[&str]) -> anyhow::Error {
        Failure::new(format!(
            "{}: `{}` must be a string or an array of strings",
            escape(&self.files[idx].0.display().to_string()),
            escape(&path.join("."))
        ))
        .help("write it as cargo documents it, e.g. rustflags = [\"--cfg\", \"x\"]")
        .into()
    }
}

fn config_in(dir: &Path) -> Option<PathBuf> {
    ["config.toml", "config"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// A string (split on whitespace) or an array of strings.
fn strings(item: &toml_edit::Item) -> Option<Vec<String>> {
    match item.as_str() {
        Some(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        None => strings_exact(item),
    }
}

/// A string (whole) or an array of strings.
fn strings_exact(item: &toml_edit::Item) -> Option<Vec<String>> {
    if let Some(s) = item.as_str() {
        return Some(vec![s.to_string()]);
    }
    item.as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(files: &[&str]) -> Config {
        Config {
            files: files
                .iter()
                .enumerate()
                .map(|(i, t)| (PathBuf::from(format!("/c{i}")), t.parse().unwrap()))
                .collect(),
        }
    }

    fn flags_of(cfg: &Config, env: &[(&str, &str)]) -> Vec<String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let plain = Platform {
            triple: "x86_64-unknown-linux-gnu".into(),
            cfg: vec![
                "unix".parse().unwrap(),
                "target_os=\"linux\"".parse().unwrap(),
            ],
        };
        target_flags(&plain, cfg, &get).unwrap()
    }

    #[test]
    fn rustflags_come_from_the_first_source_cargo_reads() {
        let c = config(&[
            "[build]\nrustflags = [\"--cfg\", \"near\"]\n[target.x86_64-unknown-linux-gnu]\nrustflags = \"--cfg triple\"\n[target.'cfg(unix)']\nrustflags = [\"--cfg\", \"unixy\"]\n[target.'cfg(windows)']\nrustflags = [\"--cfg\", \"win\"]\n",
            "[build]\nrustflags = [\"--cfg\", \"far\"]\n",
        ]);
        assert_eq!(
            flags_of(&c, &[("CARGO_ENCODED_RUSTFLAGS", "--cfg\x1fenc")]),
            ["--cfg", "enc"]
        );
        assert_eq!(
            flags_of(&c, &[("RUSTFLAGS", " --cfg  env ")]),
            ["--cfg", "env"]
        );
        assert_eq!(flags_of(&c, &[]), ["--cfg", "triple", "--cfg", "unixy"]);
        let only_build = config(&[
            "[build]\nrustflags = [\"--cfg\", \"near\"]\n",
            "[build]\nrustflags = [\"--cfg\", \"far\"]\n",
        ]);
        assert_eq!(
            flags_of(&only_build, &[]),
            ["--cfg", "far", "--cfg", "near"]
        );
        assert_eq!(
            flags_of(&only_build, &[("CARGO_BUILD_RUSTFLAGS", "--cfg e")]),
            ["--cfg", "far", "--cfg", "near", "--cfg", "e"]
        );
        assert!(flags_of(&Config::empty(), &[]).is_empty());
    }

    #[test]
    fn several_build_targets_and_wrong_types_are_refused_naming_the_file() {
        let c = config(&["[build]\ntarget = [\"a\", \"b\"]\n"]);
        let e = c.build_target().unwrap_err().to_string();
        assert!(e.contains("/c0") && e.contains("2 targets"), "{e}");
        let c = config(&["[build]\ntarget = [\"x86_64-pc-windows-msvc\"]\nrustflags = 3\n"]);
        assert_eq!(
            c.build_target().unwrap().as_deref(),
            Some("x86_64-pc-windows-msvc")
        );
        let e = c.list(&["build", "rustflags"]).unwrap_err().to_string();
        assert!(e.contains("`build.rustflags` must be"), "{e}");
    }
}
