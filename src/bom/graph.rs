//! What `cargo build --release` of the selected packages compiles, from the one
//! all-features `cargo metadata`: Cargo's feature unification replayed from the
//! selected roots and features, dev-dependencies never, `cfg(...)` dependencies
//! evaluated for the target (normal edges) or the host (build scripts and
//! proc-macros, which run on the build machine).

use crate::error::Failure;
use crate::reach::{dep_key, expand};
use anyhow::{Context, Result};
use cargo_metadata::cargo_platform::Cfg;
use cargo_metadata::{DependencyKind, Metadata, Package, PackageId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// Which features the build enables on the selected packages.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub features: Vec<String>,
    pub all: bool,
    pub no_default: bool,
}

/// A platform to evaluate `cfg(...)` for: its triple and `rustc --print cfg`.
#[derive(Clone)]
pub struct Platform {
    pub triple: String,
    pub cfg: Vec<Cfg>,
}

impl Platform {
    /// The host, or `--target TRIPLE`, as rustc describes it.
    pub fn of(target: Option<&str>) -> Result<Platform> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let parse = |text: &[u8]| -> Vec<Cfg> {
            String::from_utf8_lossy(text)
                .lines()
                .filter_map(|l| l.parse().ok())
                .collect()
        };
        let triple = match target {
            Some(t) => t.to_string(),
            None => {
                // One process for both (rustc ≥ 1.84): each rustup-proxied rustc
                // start costs tens of milliseconds of `tag`'s time.
                let args = ["--print", "host-tuple", "--print", "cfg"];
                let both = crate::fingerprint::toolchain_answer(
                    crate::fingerprint::Tool::Rustc,
                    &args,
                    || std::process::Command::new(&rustc).args(args).output(),
                )
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
                let out = std::process::Command::new(&rustc)
                    .arg("-vV")
                    .output()
                    .context("could not run `rustc -vV`: is rustc on PATH?")?;
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .find_map(|l| l.strip_prefix("host: "))
                    .map(str::to_string)
                    .ok_or_else(|| Failure::new("`rustc -vV` did not name the host triple"))?
            }
        };
        let args = ["--print", "cfg", "--target", &triple];
        let out =
            crate::fingerprint::toolchain_answer(crate::fingerprint::Tool::Rustc, &args, || {
                std::process::Command::new(&rustc).args(args).output()
            })
            .context("could not run `rustc --print cfg`")?;
        if !out.status.success() {
            return Err(Failure::new(format!(
                "rustc does not know the target `{}`",
                crate::error::escape(&triple)
            ))
            .help("pass a target triple from `rustc --print target-list`, e.g. x86_64-pc-windows-msvc")
            .detail(String::from_utf8_lossy(&out.stderr).into_owned())
            .into());
        }
        Ok(Platform {
            triple,
            cfg: parse(&out.stdout),
        })
    }

    fn matches(&self, p: &cargo_metadata::cargo_platform::Platform) -> bool {
        p.matches(&self.triple, &self.cfg)
    }
}

/// How a package is used by the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Use {
    /// Linked into what ships.
    Runtime,
    /// Only compiled to build it (build scripts, proc-macros and their dependencies).
    Build,
}

pub struct Graph<'m> {
    pub roots: Vec<&'m Package>,
    /// Every compiled package with how it is used (runtime wins when both).
    pub packages: BTreeMap<&'m PackageId, (&'m Package, Use)>,
    /// (from, to, how `to` is used by `from`).
    pub edges: BTreeSet<(&'m PackageId, &'m PackageId, Use)>,
}

/// Replays the build: from `roots` with `features`, for `target` (and `host`).
pub fn resolve<'m>(
    meta: &'m Metadata,
    roots: &[&'m Package],
    features: &Features,
    target: &Platform,
    host: &Platform,
) -> Result<Graph<'m>> {
    let packages: HashMap<&PackageId, &Package> =
        meta.packages.iter().map(|p| (&p.id, p)).collect();
    let nodes: HashMap<&PackageId, &cargo_metadata::Node> = meta
        .resolve
        .as_ref()
        .map(|r| r.nodes.iter().map(|n| (&n.id, n)).collect())
        .unwrap_or_default();
    // Features are unified per (package, use): what the host builds and what the
    // target links are resolved apart, as Cargo's resolver 2 does.
    let mut enabled: HashMap<(&PackageId, Use), BTreeSet<String>> = HashMap::new();
    let mut queue: VecDeque<(&PackageId, Use)> = VecDeque::new();
    let mut seen: HashSet<(&PackageId, Use)> = HashSet::new();
    for root in roots {
        let mut f: BTreeSet<String> = features.features.iter().cloned().collect();
        if features.all {
            f.extend(root.features.keys().cloned());
            f.extend(
                root.dependencies
                    .iter()
                    .filter(|d| d.optional)
                    .map(|d| dep_key(d).to_string()),
            );
        }
        if !features.no_default {
            f.insert("default".into());
        }
        for name in &features.features {
            let known = root.features.contains_key(name)
                || root
                    .dependencies
                    .iter()
                    .any(|d| d.optional && dep_key(d) == name);
            if !known && !name.contains('/') {
                return Err(Failure::new(format!(
                    "package `{}` has no feature `{}`",
                    root.name,
                    crate::error::escape(name)
                ))
                .help(format!(
                    "its features are: {}",
                    root.features.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
                .into());
            }
        }
        enabled.insert((&root.id, Use::Runtime), f);
        seen.insert((&root.id, Use::Runtime));
        queue.push_back((&root.id, Use::Runtime));
    }
    let mut graph = Graph {
        roots: roots.to_vec(),
        packages: BTreeMap::new(),
        edges: BTreeSet::new(),
    };
    while let Some((id, used)) = queue.pop_front() {
        let (Some(pkg), Some(node)) = (packages.get(id), nodes.get(id)) else {
            continue;
        };
        let slot = graph.packages.entry(id).or_insert((pkg, used));
        slot.1 = slot.1.min(used);
        let on = expand(pkg, &enabled[&(id, used)]);
        for d in &pkg.dependencies {
            let child_use = match d.kind {
                DependencyKind::Development => continue,
                DependencyKind::Build => Use::Build,
                _ => used,
            };
            // Build scripts and everything under a build-time edge run on the host.
            let platform = if child_use == Use::Build {
                host
            } else {
                target
            };
            if d.target.as_ref().is_some_and(|t| !platform.matches(t)) {
                continue;
            }
            let key = dep_key(d);
            if d.optional && !on.deps.contains(key) {
                continue;
            }
            let Some(child) = node.deps.iter().find_map(|nd| {
                let p = packages.get(&nd.pkg)?;
                (p.name.as_str() == d.name && d.req.matches(&p.version)).then_some(&nd.pkg)
            }) else {
                continue;
            };
            let child_pkg = packages[child];
            let proc_macro = child_pkg.targets.iter().any(|t| {
                t.kind
                    .iter()
                    .any(|k| matches!(k, cargo_metadata::TargetKind::ProcMacro))
            });
            let child_use = if proc_macro { Use::Build } else { child_use };
            let mut want: BTreeSet<String> = d.features.iter().cloned().collect();
            if d.uses_default_features {
                want.insert("default".into());
            }
            if let Some(extra) = on.dep_features.get(key) {
                want.extend(extra.iter().cloned());
            }
            graph.edges.insert((id, child, child_use));
            let first = seen.insert((child, child_use));
            let entry = enabled.entry((child, child_use)).or_default();
            let before = entry.len();
            entry.extend(want);
            if first || entry.len() != before {
                queue.push_back((child, child_use));
            }
        }
    }
    Ok(graph)
}
