//! How a package in Cargo.lock is reached from the workspace.
//!
//! `cargo metadata` is run once with `--all-features`, so its resolve holds every
//! package that can be built. From that one graph we replay Cargo's feature
//! unification for narrower builds (the default build, the default build plus one
//! feature) to say whether a vulnerable package ships by default, only with a
//! feature, only on some targets, or only in dev builds.

use cargo_metadata::{DependencyKind, Metadata, Package, PackageId};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Built by a plain `cargo build` of the workspace on every target.
    Default,
    /// Built by default, but only on targets matching this cfg.
    DefaultOnTarget(String),
    /// Built only when one of these `member/feature` features is enabled.
    Features(Vec<String>),
    /// Built only for tests, examples and benches of workspace members.
    DevOnly,
    /// In the lockfile, but not built by any analysed configuration.
    LockfileOnly,
}

impl Reach {
    pub fn describe(&self) -> String {
        match self {
            Reach::Default => "in the default build".into(),
            Reach::DefaultOnTarget(t) => format!("in the default build, only on target `{t}`"),
            Reach::Features(fs) => {
                let list: Vec<String> = fs.iter().map(|f| format!("`{f}`")).collect();
                format!("only with feature {}", list.join(" or "))
            }
            Reach::DevOnly => "dev-only (tests, examples, benches)".into(),
            Reach::LockfileOnly => {
                "in Cargo.lock only (not built by the default build, any single feature, or dev builds)".into()
            }
        }
    }
}

pub struct ReachIndex<'m> {
    packages: HashMap<&'m PackageId, &'m Package>,
    nodes: HashMap<&'m PackageId, &'m cargo_metadata::Node>,
    roots: Vec<&'m PackageId>,
}

#[derive(Clone, Copy)]
struct Opts {
    dev: bool,
}

/// For each reached package: the first target cfg on the best path (None = unconditional).
type Reached<'m> = HashMap<&'m PackageId, Option<String>>;

impl<'m> ReachIndex<'m> {
    pub fn new(meta: &'m Metadata, roots: &[&'m Package]) -> Self {
        let packages = meta.packages.iter().map(|p| (&p.id, p)).collect();
        let nodes = meta
            .resolve
            .as_ref()
            .map(|r| r.nodes.iter().map(|n| (&n.id, n)).collect())
            .unwrap_or_default();
        Self {
            packages,
            nodes,
            roots: roots.iter().map(|p| &p.id).collect(),
        }
    }

    /// Classifies every package in `targets` (name, version) in one go, resolving each
    /// build configuration at most once.
    pub fn classify(&self, targets: &[(&str, &str)]) -> Vec<Reach> {
        let default = self.resolve(&self.default_roots(None), Opts { dev: false });
        let mut per_feature: Option<Vec<(String, Reached<'m>)>> = None;
        let mut dev: Option<Reached<'m>> = None;
        targets
            .iter()
            .map(|(name, version)| {
                let ids = self.ids_of(name, version);
                if let Some(t) = best(&default, &ids) {
                    return match t {
                        None => Reach::Default,
                        Some(cfg) => Reach::DefaultOnTarget(cfg),
                    };
                }
                let features = per_feature.get_or_insert_with(|| self.resolve_each_feature());
                let hits: Vec<String> = features
                    .iter()
                    .filter(|(_, set)| ids.iter().any(|id| set.contains_key(id)))
                    .map(|(f, _)| f.clone())
                    .take(3)
                    .collect();
                if !hits.is_empty() {
                    return Reach::Features(hits);
                }
                let dev = dev.get_or_insert_with(|| {
                    self.resolve(&self.default_roots(None), Opts { dev: true })
                });
                if ids.iter().any(|id| dev.contains_key(id)) {
                    return Reach::DevOnly;
                }
                Reach::LockfileOnly
            })
            .collect()
    }

    fn ids_of(&self, name: &str, version: &str) -> Vec<&'m PackageId> {
        self.packages
            .values()
            .filter(|p| p.name.as_str() == name && p.version.to_string() == version)
            .map(|p| &p.id)
            .collect()
    }

    fn default_roots(
        &self,
        extra: Option<(&PackageId, &str)>,
    ) -> Vec<(&'m PackageId, BTreeSet<String>)> {
        self.roots
            .iter()
            .map(|id| {
                let mut f = BTreeSet::from(["default".to_string()]);
                if let Some((eid, feat)) = extra {
                    if eid == *id {
                        f.insert(feat.to_string());
                    }
                }
                (*id, f)
            })
            .collect()
    }

    fn resolve_each_feature(&self) -> Vec<(String, Reached<'m>)> {
        let mut out = Vec::new();
        for root in &self.roots {
            let pkg = self.packages[root];
            let mut names: BTreeSet<&str> = pkg.features.keys().map(String::as_str).collect();
            // Optional dependencies are implicit features unless a `dep:` entry hides them.
            let hidden: HashSet<&str> = pkg
                .features
                .values()
                .flatten()
                .filter_map(|v| v.strip_prefix("dep:"))
                .collect();
            for d in &pkg.dependencies {
                let key = dep_key(d);
                if d.optional && !hidden.contains(key) {
                    names.insert(key);
                }
            }
            names.remove("default");
            for f in names {
                let set = self.resolve(&self.default_roots(Some((root, f))), Opts { dev: false });
                out.push((format!("{}/{}", pkg.name, f), set));
            }
        }
        out
    }

    /// Cargo's feature unification over the all-features resolve, starting from `roots`.
    fn resolve(&self, roots: &[(&'m PackageId, BTreeSet<String>)], opts: Opts) -> Reached<'m> {
        let mut features: HashMap<&'m PackageId, BTreeSet<String>> = HashMap::new();
        let mut reached: Reached<'m> = HashMap::new();
        let mut queue: VecDeque<&'m PackageId> = VecDeque::new();
        for (id, f) in roots {
            features.entry(id).or_default().extend(f.iter().cloned());
            reached.insert(id, None);
            queue.push_back(id);
        }
        let root_set: HashSet<&PackageId> = roots.iter().map(|(id, _)| *id).collect();
        while let Some(id) = queue.pop_front() {
            let (Some(pkg), Some(node)) = (self.packages.get(id), self.nodes.get(id)) else {
                continue;
            };
            let enabled = expand(pkg, &features[id]);
            let my_target = reached[id].clone();
            for d in &pkg.dependencies {
                let dev_ok = opts.dev && root_set.contains(id);
                if d.kind == DependencyKind::Development && !dev_ok {
                    continue;
                }
                let key = dep_key(d);
                if d.optional && !enabled.deps.contains(key) {
                    continue;
                }
                let Some(dep_id) = node.deps.iter().find_map(|nd| {
                    let p = self.packages.get(&nd.pkg)?;
                    (p.name.as_str() == d.name && d.req.matches(&p.version)).then_some(&nd.pkg)
                }) else {
                    continue;
                };
                let mut want: BTreeSet<String> = d.features.iter().cloned().collect();
                if d.uses_default_features {
                    want.insert("default".into());
                }
                if let Some(extra) = enabled.dep_features.get(key) {
                    want.extend(extra.iter().cloned());
                }
                let target = my_target
                    .clone()
                    .or_else(|| d.target.as_ref().map(|t| t.to_string()));
                let entry = features.entry(dep_id).or_default();
                let before = entry.len();
                entry.extend(want);
                let grew = entry.len() != before;
                let better = match reached.get(dep_id) {
                    None => true,
                    Some(Some(_)) => target.is_none(),
                    Some(None) => false,
                };
                if better {
                    reached.insert(dep_id, target);
                }
                if grew || better {
                    queue.push_back(dep_id);
                }
            }
        }
        reached
    }
}

fn best<'m>(reached: &Reached<'m>, ids: &[&'m PackageId]) -> Option<Option<String>> {
    let mut found: Option<Option<String>> = None;
    for id in ids {
        match reached.get(id) {
            Some(None) => return Some(None),
            Some(Some(t)) => found = Some(Some(t.clone())),
            None => {}
        }
    }
    found
}

pub(crate) fn dep_key(d: &cargo_metadata::Dependency) -> &str {
    d.rename.as_deref().unwrap_or(&d.name)
}

#[derive(Default)]
pub(crate) struct Enabled {
    pub deps: HashSet<String>,
    pub dep_features: HashMap<String, BTreeSet<String>>,
}

/// Expands a package's enabled features through its `[features]` table.
pub(crate) fn expand(pkg: &Package, requested: &BTreeSet<String>) -> Enabled {
    let mut out = Enabled::default();
    let mut weak: Vec<(String, String)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = requested.iter().map(String::as_str).collect();
    let optional: HashSet<&str> = pkg
        .dependencies
        .iter()
        .filter(|d| d.optional)
        .map(dep_key)
        .collect();
    while let Some(f) = stack.pop() {
        if !seen.insert(f) {
            continue;
        }
        if let Some(values) = pkg.features.get(f) {
            for v in values {
                if let Some(dep) = v.strip_prefix("dep:") {
                    out.deps.insert(dep.to_string());
                } else if let Some((dep, feat)) = v.split_once('/') {
                    if let Some(dep) = dep.strip_suffix('?') {
                        weak.push((dep.to_string(), feat.to_string()));
                    } else {
                        out.deps.insert(dep.to_string());
                        out.dep_features
                            .entry(dep.to_string())
                            .or_default()
                            .insert(feat.to_string());
                    }
                } else {
                    stack.push(v.as_str());
                }
            }
        } else if optional.contains(f) {
            // An optional dependency's implicit feature.
            out.deps.insert(f.to_string());
        }
    }
    for (dep, feat) in weak {
        if out.deps.contains(&dep) || !optional.contains(dep.as_str()) {
            out.dep_features.entry(dep).or_default().insert(feat);
        }
    }
    out
}
