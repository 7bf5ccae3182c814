//! What `cargo build --release` compiles, replayed from the one all-features
//! `cargo metadata`: the one resolution behind the SBOM, the VEX and the audit's
//! `reached:` line.
//!
//! Every edge is the one cargo resolved: a declared dependency is paired with the
//! package id in `resolve.nodes[].deps[]` whose `dep_kinds` carry its kind and
//! target, never found again by name and version requirement (a `*` requirement
//! does not match a pre-release; two packages may share a name). Features are
//! unified as Cargo's feature resolver does (`src/resolver/features.rs`): resolver 1
//! unifies everything (every platform, host with target, the dev-dependencies of
//! the packages built); resolvers 2 and 3 keep host and target apart and leave out
//! inactive platforms and dev-dependencies. Then the units are walked as cargo's
//! unit graph does: only active platforms, no dev-dependencies, an optional
//! dependency only where its feature is on.

use crate::error::{escape, Failure};
use crate::platform::Platform;
use anyhow::Result;
use cargo_metadata::{Dependency, DependencyKind, Metadata, Package, PackageId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::Path;

/// Cargo's feature resolver: `resolver = "1"`, or `"2"`/`"3"` (3 changes only
/// version selection, which `cargo metadata` has already done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    V1,
    V2,
}

impl Resolver {
    /// The workspace's resolver: `resolver` in the root manifest's `[workspace]` or
    /// `[package]`, else the root package's edition (2021 and later: 2), else 1 (a
    /// virtual workspace without the key, as cargo warns).
    pub fn of(meta: &Metadata, root_manifest: &Path) -> Result<Resolver> {
        let text = crate::fsutil::read_text(root_manifest, 4 << 20, "manifest")?;
        let doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            Failure::new(format!(
                "{}: not valid TOML: {}",
                escape(&root_manifest.display().to_string()),
                escape(e.message())
            ))
        })?;
        let key = ["workspace", "package"]
            .iter()
            .find_map(|t| doc.get(t)?.get("resolver")?.as_str().map(str::to_string));
        if let Some(v) = key {
            return match v.as_str() {
                "1" => Ok(Resolver::V1),
                "2" | "3" => Ok(Resolver::V2),
                other => Err(Failure::new(format!(
                    "{}: `resolver = \"{}\"` is not a resolver this command knows",
                    escape(&root_manifest.display().to_string()),
                    escape(other)
                ))
                .help("cargo knows resolvers \"1\", \"2\" and \"3\"")
                .into()),
            };
        }
        let root = meta
            .packages
            .iter()
            .find(|p| p.manifest_path.as_std_path() == root_manifest);
        Ok(match root.map(|p| p.edition) {
            Some(cargo_metadata::Edition::E2015 | cargo_metadata::Edition::E2018) | None => {
                Resolver::V1
            }
            Some(_) => Resolver::V2,
        })
    }
}

/// Which features the build enables on the selected packages, as given to cargo.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub features: Vec<String>,
    pub all: bool,
    pub no_default: bool,
}

/// How a package is used by the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Use {
    /// Linked into what ships.
    Runtime,
    /// Only compiled to build it (build scripts, proc-macros and their dependencies).
    Build,
}

/// Where `cfg(...)` dependencies are evaluated.
#[derive(Clone, Copy)]
pub enum Platforms<'a> {
    /// One build: normal edges for the target, build-time ones for the host.
    Build {
        target: &'a Platform,
        host: &'a Platform,
    },
    /// Every platform, recording the first `cfg` on the way (the reach line).
    Any,
}

/// A declared dependency and the package it resolved to.
struct Edge<'m> {
    dep: &'m Dependency,
    to: &'m PackageId,
}

/// A package of the resolve as the walks need it: one lookup gives all of it.
struct Node<'m> {
    pkg: &'m Package,
    edges: Vec<Edge<'m>>,
    /// Its optional dependencies and implicit features, for `expand`: the same on
    /// every expansion, so found once.
    optional: HashSet<&'m str>,
    implicit: HashSet<&'m str>,
}

/// The resolve, indexed once: each package's declared dependencies paired with what
/// they resolved to.
pub struct Index<'m> {
    packages: HashMap<&'m PackageId, &'m Package>,
    nodes: HashMap<&'m PackageId, Node<'m>>,
    proc_macro: HashSet<&'m PackageId>,
    /// Packages with a build script: only they build their build-dependencies.
    build_script: HashSet<&'m PackageId>,
    members: Vec<&'m Package>,
    pub resolver: Resolver,
}

/// Each package's requested features, per use (resolver 1 keeps one set).
#[derive(Clone, Default)]
pub struct Activation<'m> {
    features: HashMap<(&'m PackageId, Use), BTreeSet<String>>,
}

impl<'m> Activation<'m> {
    /// Adds `want` to the features of `key`; true when `key` is new or its features
    /// grew (only a missing value is copied).
    fn grow<'a>(&mut self, key: (&'m PackageId, Use), want: impl Iterator<Item = &'a str>) -> bool {
        use std::collections::hash_map::Entry;
        let (set, mut grew) = match self.features.entry(key) {
            Entry::Occupied(o) => (o.into_mut(), false),
            Entry::Vacant(v) => (v.insert(BTreeSet::new()), true),
        };
        for w in want {
            if !set.contains(w) {
                set.insert(w.to_string());
                grew = true;
            }
        }
        grew
    }
}

/// The keys waiting to be expanded, in order, each at most once.
#[derive(Default)]
struct Queue<'m> {
    order: VecDeque<(&'m PackageId, Use)>,
    queued: HashSet<(&'m PackageId, Use)>,
}

impl<'m> Queue<'m> {
    fn push(&mut self, key: (&'m PackageId, Use)) {
        if self.queued.insert(key) {
            self.order.push_back(key);
        }
    }

    fn pop(&mut self) -> Option<(&'m PackageId, Use)> {
        let key = self.order.pop_front()?;
        self.queued.remove(&key);
        Some(key)
    }
}

/// The compiled units of one build.
pub struct Units<'m> {
    /// Each package, with the first `cfg` on its best path (None: every platform).
    pub reached: HashMap<&'m PackageId, Option<String>>,
    /// Each package's use (runtime wins when both).
    pub used: BTreeMap<&'m PackageId, Use>,
    /// (from, to, how `to` is used by `from`).
    pub edges: BTreeSet<(&'m PackageId, &'m PackageId, Use)>,
}

/// Each unit (package and use) of a build, with the first `cfg` on its best path
/// (None: every platform).
pub type UnitGates<'m> = HashMap<(&'m PackageId, Use), Option<String>>;

/// Per package: the best of its units' paths (None when one needs no `cfg`).
pub fn by_package<'m>(units: &UnitGates<'m>) -> HashMap<&'m PackageId, Option<String>> {
    let mut out: HashMap<&'m PackageId, Option<String>> = HashMap::new();
    for ((id, _), gate) in units {
        let r = out.entry(*id).or_insert_with(|| gate.clone());
        if gate.is_none() {
            *r = None;
        }
    }
    out
}

/// What `cargo build` of the selected packages compiles.
pub struct Graph<'m> {
    pub roots: Vec<&'m Package>,
    /// Every compiled package with how it is used (runtime wins when both).
    pub packages: BTreeMap<&'m PackageId, (&'m Package, Use)>,
    /// (from, to, how `to` is used by `from`).
    pub edges: BTreeSet<(&'m PackageId, &'m PackageId, Use)>,
}

/// Feature roots: packages and the feature values requested of them.
pub type Requested<'m> = Vec<(&'m PackageId, BTreeSet<String>)>;

pub(crate) fn dep_key(d: &Dependency) -> &str {
    d.rename.as_deref().unwrap_or(&d.name)
}

impl<'m> Index<'m> {
    pub fn new(meta: &'m Metadata, resolver: Resolver) -> Self {
        let packages: HashMap<&PackageId, &Package> =
            meta.packages.iter().map(|p| (&p.id, p)).collect();
        let mut nodes = HashMap::new();
        for node in meta.resolve.iter().flat_map(|r| &r.nodes) {
            let Some(pkg) = packages.get(&node.id).copied() else {
                continue;
            };
            // The node's resolved dependencies, each looked up once: a package
            // declares more dependencies than it resolves (dev, optional, per target).
            let deps: Vec<(&cargo_metadata::NodeDep, &Package)> = node
                .deps
                .iter()
                .filter_map(|nd| Some((nd, *packages.get(&nd.pkg)?)))
                .collect();
            let edges: Vec<Edge> = pkg
                .dependencies
                .iter()
                .filter_map(|d| {
                    Some(Edge {
                        dep: d,
                        to: resolved(d, &deps)?,
                    })
                })
                .collect();
            let optional = pkg
                .dependencies
                .iter()
                .filter(|d| d.optional)
                .map(dep_key)
                .collect();
            let implicit = implicit_features(pkg).into_iter().collect();
            nodes.insert(
                &node.id,
                Node {
                    pkg,
                    edges,
                    optional,
                    implicit,
                },
            );
        }
        // Packages with a target of `kind`.
        let with = |kind: cargo_metadata::TargetKind| -> HashSet<&'m PackageId> {
            meta.packages
                .iter()
                .filter(|p| p.targets.iter().any(|t| t.kind.contains(&kind)))
                .map(|p| &p.id)
                .collect()
        };
        let proc_macro = with(cargo_metadata::TargetKind::ProcMacro);
        let build_script = with(cargo_metadata::TargetKind::CustomBuild);
        Index {
            packages,
            nodes,
            proc_macro,
            build_script,
            members: meta.workspace_packages(),
            resolver,
        }
    }

    /// Every package of the resolve.
    pub fn packages(&self) -> impl Iterator<Item = &'m Package> + '_ {
        self.packages.values().copied()
    }

    /// Resolver 1 keeps one feature set per package.
    fn key(&self, id: &'m PackageId, used: Use) -> (&'m PackageId, Use) {
        match self.resolver {
            Resolver::V1 => (id, Use::Runtime),
            Resolver::V2 => (id, used),
        }
    }

    fn child_use(&self, used: Use, e: &Edge<'m>) -> Use {
        if used == Use::Build
            || e.dep.kind == DependencyKind::Build
            || self.proc_macro.contains(e.to)
        {
            Use::Build
        } else {
            Use::Runtime
        }
    }

    /// Whether edge `e`, taken by a unit of use `used`, is active on `platforms`;
    /// with `Any`, every edge is (its cfg is recorded by the caller).
    fn active(&self, e: &Edge<'m>, used: Use, platforms: Platforms<'_>) -> bool {
        let (Some(t), Platforms::Build { target, host }) = (&e.dep.target, platforms) else {
            return true;
        };
        let p = match e.dep.kind == DependencyKind::Build || used == Use::Build {
            true => host,
            false => target,
        };
        p.matches(t)
    }

    /// Grows `act` by `roots` to the fixpoint of Cargo's feature unification; the
    /// dev-dependencies of `dev_of` count (resolver 1's build, or a test build).
    pub fn activate(
        &self,
        mut act: Activation<'m>,
        roots: &Requested<'m>,
        dev_of: &HashSet<&'m PackageId>,
        platforms: Platforms<'_>,
    ) -> Activation<'m> {
        // Each key queued once at a time: it is expanded with the features it has
        // when its turn comes, however often they grew meanwhile.
        let mut queue = Queue::default();
        for (id, want) in roots {
            // A proc-macro member is built for the host, and for the target too
            // (its tests and binaries): Cargo activates both.
            let mut keys = vec![self.key(id, Use::Runtime)];
            if self.proc_macro.contains(id) {
                keys.push(self.key(id, Use::Build));
            }
            for key in keys {
                act.grow(key, want.iter().map(String::as_str));
                // Walked even when its features did not grow: `act` may come from a
                // build that left out the dev-dependencies this one takes.
                queue.push(key);
            }
        }
        // Already-active keys grow only through their new features: a wider build
        // grown from a narrower one's fixpoint revisits what changed.
        while let Some((id, used)) = queue.pop() {
            let Some(node) = self.nodes.get(id) else {
                continue;
            };
            let on = expand(node, &act.features[&(id, used)]);
            for e in &node.edges {
                let d = e.dep;
                if d.kind == DependencyKind::Development && !dev_of.contains(id) {
                    continue;
                }
                // Resolver 1 unifies the features of every platform's dependencies.
                if self.resolver == Resolver::V2 && !self.active(e, used, platforms) {
                    continue;
                }
                let key = dep_key(d);
                if d.optional && !on.deps.contains(key) {
                    continue;
                }
                let want = d
                    .features
                    .iter()
                    .map(String::as_str)
                    .chain(d.uses_default_features.then_some("default"))
                    .chain(
                        on.dep_features
                            .get(key)
                            .into_iter()
                            .flatten()
                            .map(String::as_str),
                    );
                let child = self.key(e.to, self.child_use(used, e));
                if act.grow(child, want) {
                    queue.push(child);
                }
            }
        }
        act
    }

    /// The units built from `roots` with the features of `act`: active platforms
    /// only, the dev-dependencies of `dev_of` only, optional dependencies only where
    /// enabled.
    pub fn units(
        &self,
        act: &Activation<'m>,
        roots: &[&'m PackageId],
        dev_of: &HashSet<&'m PackageId>,
        platforms: Platforms<'_>,
    ) -> Units<'m> {
        let mut edges = BTreeSet::new();
        let best = self.walk(act, roots, dev_of, platforms, Some(&mut edges));
        let mut used = BTreeMap::new();
        for (id, u) in best.keys() {
            let e = used.entry(*id).or_insert(*u);
            *e = (*e).min(*u);
        }
        Units {
            reached: by_package(&best),
            used,
            edges,
        }
    }

    /// The units of a build on every platform (`Platforms::Any`), each with the first
    /// `cfg` on its best path (None: every platform); without the edges `units` keeps.
    pub fn unit_gates(
        &self,
        act: &Activation<'m>,
        roots: &[&'m PackageId],
        dev_of: &HashSet<&'m PackageId>,
    ) -> UnitGates<'m> {
        self.walk(act, roots, dev_of, Platforms::Any, None)
    }

    /// The units of a wider build on every platform, found from a narrower one's:
    /// `from` is what `unit_gates(base, roots, ∅)` gave, and `act` was grown from
    /// `base` by `activate` (so every package's features only grew). Every unit of the
    /// narrower build is still built, and only the units whose features grew or whose
    /// dev-dependencies (`dev_of`) now count can lead to new ones: only they are
    /// walked again, with what they reach for the first time.
    pub fn grow_units(
        &self,
        from: &UnitGates<'m>,
        base: &Activation<'m>,
        act: &Activation<'m>,
        dev_of: &HashSet<&'m PackageId>,
    ) -> HashSet<(&'m PackageId, Use)> {
        let width = |a: &Activation<'m>, k: (&'m PackageId, Use)| {
            a.features.get(&self.key(k.0, k.1)).map_or(0, BTreeSet::len)
        };
        let mut seen: HashSet<(&'m PackageId, Use)> = from.keys().copied().collect();
        // `activate` only adds features: an equal count is an equal set.
        let mut queue: VecDeque<(&'m PackageId, Use)> = seen
            .iter()
            .copied()
            .filter(|k| dev_of.contains(k.0) || width(act, *k) != width(base, *k))
            .collect();
        let empty = BTreeSet::new();
        while let Some(unit) = queue.pop_front() {
            self.unit_edges(unit, act, dev_of, Platforms::Any, &empty, |_, child| {
                if seen.insert(child) {
                    queue.push_back(child);
                }
            });
        }
        seen
    }

    /// The units walk: each unit with the first `cfg` on its best path (with
    /// `Platforms::Any`), and with `edges`, every (from, to, use) taken.
    fn walk(
        &self,
        act: &Activation<'m>,
        roots: &[&'m PackageId],
        dev_of: &HashSet<&'m PackageId>,
        platforms: Platforms<'_>,
        mut edges: Option<&mut BTreeSet<(&'m PackageId, &'m PackageId, Use)>>,
    ) -> UnitGates<'m> {
        let empty = BTreeSet::new();
        let mut best: UnitGates<'m> = HashMap::new();
        let mut queue: VecDeque<(&'m PackageId, Use)> = VecDeque::new();
        for id in roots {
            let used = match self.proc_macro.contains(id) {
                true => Use::Build,
                false => Use::Runtime,
            };
            best.insert((id, used), None);
            queue.push_back((id, used));
        }
        while let Some((id, used)) = queue.pop_front() {
            let gate = best[&(id, used)].clone();
            self.unit_edges((id, used), act, dev_of, platforms, &empty, |e, child| {
                if let Some(edges) = edges.as_deref_mut() {
                    edges.insert((id, e.to, child.1));
                }
                // The path through this edge needs no `cfg` when neither it nor the
                // path to `id` has one; the `cfg` is written out only when kept.
                let any = matches!(platforms, Platforms::Any);
                let free = !any || (gate.is_none() && e.dep.target.is_none());
                let better = match best.get(&child) {
                    None => true,
                    Some(Some(_)) => free,
                    Some(None) => false,
                };
                if better {
                    let gate = match free {
                        true => None,
                        false => gate
                            .clone()
                            .or_else(|| e.dep.target.as_ref().map(|t| t.to_string())),
                    };
                    best.insert(child, gate);
                    queue.push_back(child);
                }
            });
        }
        best
    }

    /// Calls `f` with every edge the unit `(id, used)` builds with the features of
    /// `act`, and the unit it leads to.
    fn unit_edges(
        &self,
        (id, used): (&'m PackageId, Use),
        act: &Activation<'m>,
        dev_of: &HashSet<&'m PackageId>,
        platforms: Platforms<'_>,
        empty: &BTreeSet<String>,
        mut f: impl FnMut(&Edge<'m>, (&'m PackageId, Use)),
    ) {
        let Some(node) = self.nodes.get(id) else {
            return;
        };
        let on = expand(node, act.features.get(&self.key(id, used)).unwrap_or(empty));
        for e in &node.edges {
            let d = e.dep;
            if d.kind == DependencyKind::Development && !dev_of.contains(id) {
                continue;
            }
            if !self.active(e, used, platforms) {
                continue;
            }
            // A build-dependency is compiled for the build script; without one,
            // cargo builds none (its features were still unified above).
            if d.kind == DependencyKind::Build && !self.build_script.contains(id) {
                continue;
            }
            if d.optional && !on.deps.contains(dep_key(d)) {
                continue;
            }
            f(e, (e.to, self.child_use(used, e)));
        }
    }

    /// The workspace member `name`, if any.
    fn member(&self, name: &str) -> Option<&'m Package> {
        self.members
            .iter()
            .copied()
            .find(|m| m.name.as_str() == name)
    }

    /// The feature roots of `cargo build` of `selected`, run with `current` as the
    /// package of the directory (None at a virtual workspace's root), as Cargo's
    /// `members_with_features` makes them from the command line; refused as cargo
    /// refuses it.
    pub fn requested(
        &self,
        selected: &[&'m Package],
        current: Option<&'m Package>,
        features: &Features,
    ) -> Result<Requested<'m>> {
        let values = split_features(&features.features)?;
        let defaults = |p: &Package, uses_default: bool, all: bool| {
            let mut set = BTreeSet::new();
            if uses_default {
                set.insert("default".to_string());
            }
            if all {
                set.extend(all_features(p));
            }
            set
        };
        let mut out: Requested<'m> = Vec::new();
        let old_behaviour = match (self.resolver, current) {
            (Resolver::V1, Some(current)) => Some(current),
            _ => None,
        };
        if let Some(current) = old_behaviour {
            // `members_with_features_old` (resolver 1 in a package's directory): the
            // values are the current package's, but `member/feat` for another
            // selected member is that member's.
            let mut cwd: BTreeSet<String> = BTreeSet::new();
            let mut specific: HashMap<&str, BTreeSet<String>> = HashMap::new();
            for v in &values {
                match v.split_once('/') {
                    Some((dep, feat))
                        if dep != current.name.as_str()
                            && self.member(dep).is_some()
                            && selected.iter().any(|s| s.name.as_str() == dep) =>
                    {
                        specific.entry(dep).or_default().insert(feat.to_string());
                    }
                    _ => {
                        cwd.insert(v.clone());
                    }
                }
            }
            for v in &cwd {
                // Here `current/feat` is not the package's own feature: cargo looks
                // for a dependency named `current`, and refuses.
                let own = v.split_once('/').is_some_and(|(d, _)| {
                    !current
                        .dependencies
                        .iter()
                        .any(|x| dep_key(x) == d.trim_end_matches('?'))
                });
                if own || matching_feature(current, v).is_none() {
                    return Err(unknown_features(&[current], &[v.as_str()]));
                }
            }
            for m in &self.members {
                if m.id == current.id {
                    let mut set = defaults(m, !features.no_default, features.all);
                    set.extend(cwd.iter().filter_map(|v| matching_feature(m, v)));
                    out.push((&m.id, set));
                } else if selected.iter().any(|s| s.id == m.id) {
                    let mut set = defaults(m, true, features.all);
                    set.extend(specific.remove(m.name.as_str()).unwrap_or_default());
                    out.push((&m.id, set));
                }
            }
        } else {
            // `members_with_features_new`: each selected member takes the values it
            // has; a value no selected member has is an error.
            let mut found: BTreeSet<&str> = BTreeSet::new();
            for m in selected {
                let mut set = defaults(m, !features.no_default, features.all);
                for v in &values {
                    if let Some(mapped) = matching_feature(m, v) {
                        found.insert(v);
                        set.insert(mapped);
                    }
                }
                out.push((&m.id, set));
            }
            let unknown: Vec<&str> = values
                .iter()
                .map(String::as_str)
                .filter(|v| !found.contains(v))
                .collect();
            if !unknown.is_empty() {
                return Err(unknown_features(selected, &unknown));
            }
        }
        // `dep/feat`: the dependency must have the feature (cargo's resolver says so).
        for (id, set) in &out {
            for v in set {
                let Some((dep, feat)) = v.split_once('/') else {
                    continue;
                };
                let dep = dep.trim_end_matches('?');
                for e in self.nodes.get(id).into_iter().flat_map(|n| &n.edges) {
                    if dep_key(e.dep) != dep {
                        continue;
                    }
                    let target = self.packages[e.to];
                    if !has_feature(target, feat) {
                        return Err(Failure::new(format!(
                            "package `{}` depends on `{}` with feature `{}`, but `{}` does not have that feature",
                            self.packages[id].name,
                            escape(dep),
                            escape(feat),
                            target.name
                        ))
                        .help(format!(
                            "its features are: {}",
                            list_or_none(all_features(target))
                        ))
                        .into());
                    }
                }
            }
        }
        Ok(out)
    }

    /// What `cargo build` of `selected` with `features` compiles for `target` (build
    /// scripts and proc-macros for `host`).
    pub fn build(
        &self,
        selected: &[&'m Package],
        current: Option<&'m Package>,
        features: &Features,
        target: &Platform,
        host: &Platform,
    ) -> Result<Graph<'m>> {
        let requested = self.requested(selected, current, features)?;
        let platforms = Platforms::Build { target, host };
        // Resolver 1 resolves the dev-dependencies of the packages it was asked for,
        // and so unifies their features into the build.
        let dev_of: HashSet<&PackageId> = match self.resolver {
            Resolver::V1 => requested.iter().map(|(id, _)| *id).collect(),
            Resolver::V2 => HashSet::new(),
        };
        let act = self.activate(Activation::default(), &requested, &dev_of, platforms);
        let roots: Vec<&PackageId> = selected.iter().map(|p| &p.id).collect();
        let units = self.units(&act, &roots, &HashSet::new(), platforms);
        let packages = units
            .used
            .iter()
            .map(|(id, used)| {
                // A selected proc-macro is built for the host, but it is what ships.
                let used = match roots.contains(id) {
                    true => Use::Runtime,
                    false => *used,
                };
                (*id, (self.packages[id], used))
            })
            .collect();
        Ok(Graph {
            roots: selected.to_vec(),
            packages,
            edges: units.edges,
        })
    }
}

/// The package id a declared dependency resolved to: the node's dependency of that
/// package name whose `dep_kinds` hold the declaration's kind and target, narrowed
/// (when a name is declared twice, renamed) by source, then extern name, then version
/// requirement.
fn resolved<'m>(
    d: &Dependency,
    deps: &[(&'m cargo_metadata::NodeDep, &'m Package)],
) -> Option<&'m PackageId> {
    let mut cands: Vec<(&'m cargo_metadata::NodeDep, &'m Package)> = deps
        .iter()
        .copied()
        .filter(|(nd, p)| {
            p.name.as_str() == d.name
                && (nd.dep_kinds.is_empty()
                    || nd
                        .dep_kinds
                        .iter()
                        .any(|k| k.kind == d.kind && k.target == d.target))
        })
        .collect();
    let narrow = |cands: &mut Vec<(&'m cargo_metadata::NodeDep, &'m Package)>,
                  keep: &dyn Fn(&cargo_metadata::NodeDep, &Package) -> bool| {
        if cands.len() > 1 && cands.iter().any(|(nd, p)| keep(nd, p)) {
            cands.retain(|(nd, p)| keep(nd, p));
        }
    };
    narrow(&mut cands, &|_, p| match (&d.source, &p.source) {
        (None, None) => d.path.is_some(),
        (Some(want), Some(got)) => {
            let base = |s: &str| s.split('#').next().unwrap_or(s).to_string();
            base(&want.repr) == base(&got.repr)
        }
        _ => false,
    });
    narrow(&mut cands, &|nd, _| nd.name == dep_key(d).replace('-', "_"));
    narrow(&mut cands, &|_, p| d.req.matches(&p.version));
    cands.first().map(|(nd, _)| &nd.pkg)
}

/// The command-line values that name a feature of a dependency that is not a
/// workspace member (`dep/feat`): they can enable packages the all-features resolve
/// does not hold, so the resolve is asked for again with them.
pub fn beyond_all_features(meta: &Metadata, features: &Features) -> Result<Vec<String>> {
    let members: HashSet<&str> = meta
        .workspace_packages()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    Ok(split_features(&features.features)?
        .into_iter()
        .filter(|v| {
            v.split_once('/')
                .is_some_and(|(dep, _)| !members.contains(dep.trim_end_matches('?')))
        })
        .collect())
}

/// Cargo's `CliFeatures::from_command_line`: comma- or space-separated, no `dep:`,
/// one slash at most.
fn split_features(given: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in given
        .iter()
        .flat_map(|s| s.split_whitespace())
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
    {
        if v.starts_with("dep:") {
            return Err(Failure::new(format!(
                "feature `{}` is not allowed to use explicit `dep:` syntax",
                escape(v)
            ))
            .help("name the optional dependency's feature without `dep:`, as cargo requires")
            .into());
        }
        if v.split_once('/').is_some_and(|(_, f)| f.contains('/')) {
            return Err(Failure::new(format!(
                "multiple slashes in feature `{}` is not allowed",
                escape(v)
            ))
            .help("write `dependency/feature`, as cargo requires")
            .into());
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    Ok(out)
}

/// What a command-line value means for member `m` (`collect_matching_features`):
/// its feature or optional dependency, `dep/feat` of its dependency, or
/// `m/feat`; None when it is not `m`'s.
fn matching_feature(m: &Package, v: &str) -> Option<String> {
    match v.split_once('/') {
        None => (m.features.contains_key(v) || optional_dep(m, v)).then(|| v.to_string()),
        Some((dep, feat)) => {
            let name = dep.trim_end_matches('?');
            if m.dependencies.iter().any(|d| dep_key(d) == name) {
                Some(v.to_string())
            } else if name == m.name.as_str()
                && (m.features.contains_key(feat) || optional_dep(m, feat))
            {
                Some(feat.to_string())
            } else {
                None
            }
        }
    }
}

fn optional_dep(m: &Package, name: &str) -> bool {
    m.dependencies
        .iter()
        .any(|d| d.optional && dep_key(d) == name)
}

/// A feature of `p` (declared, or an optional dependency's implicit one).
fn has_feature(p: &Package, f: &str) -> bool {
    p.features.contains_key(f) || implicit_features(p).contains(f)
}

/// `--all-features`: every key of the feature map, implicit features included.
pub(crate) fn all_features(p: &Package) -> BTreeSet<String> {
    let mut set: BTreeSet<String> = p.features.keys().cloned().collect();
    set.extend(implicit_features(p).into_iter().map(str::to_string));
    set
}

/// Optional dependencies' implicit features, unless a `dep:` entry hides them.
fn implicit_features(p: &Package) -> BTreeSet<&str> {
    let hidden: HashSet<&str> = p
        .features
        .values()
        .flatten()
        .filter_map(|v| v.strip_prefix("dep:"))
        .collect();
    p.dependencies
        .iter()
        .filter(|d| d.optional)
        .map(dep_key)
        .filter(|k| !hidden.contains(k))
        .collect()
}

fn list_or_none(set: BTreeSet<String>) -> String {
    match set.is_empty() {
        true => "none".into(),
        false => set.into_iter().collect::<Vec<_>>().join(", "),
    }
}

fn unknown_features(selected: &[&Package], unknown: &[&str]) -> anyhow::Error {
    let these = match unknown.len() {
        1 => "this feature",
        _ => "these features",
    };
    let shown: Vec<String> = unknown.iter().map(|u| escape(u)).collect();
    let msg = match selected {
        [one] => format!(
            "the package `{}` does not contain {these}: {}",
            one.name,
            shown.join(", ")
        ),
        _ => format!(
            "none of the selected packages contains {these}: {}",
            shown.join(", ")
        ),
    };
    let known: BTreeSet<String> = selected
        .iter()
        .flat_map(|p| {
            let mut s = all_features(p);
            s.extend(p.dependencies.iter().map(|d| format!("{}/…", dep_key(d))));
            s
        })
        .collect();
    Failure::new(msg)
        .help(format!(
            "cargo refuses it too; the selected packages' features are: {}",
            list_or_none(known)
        ))
        .into()
}

#[derive(Default)]
pub(crate) struct Enabled {
    pub deps: HashSet<String>,
    pub dep_features: HashMap<String, BTreeSet<String>>,
}

/// A package's enabled dependencies and dependency features, from its requested
/// feature values (`feat`, `dep:x`, `x/feat`, `x?/feat`) through its `[features]`.
fn expand(node: &Node<'_>, requested: &BTreeSet<String>) -> Enabled {
    let (pkg, optional, implicit) = (node.pkg, &node.optional, &node.implicit);
    let mut out = Enabled::default();
    let mut weak: Vec<(String, String)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = requested.iter().map(String::as_str).collect();
    while let Some(v) = stack.pop() {
        if !seen.insert(v) {
            continue;
        }
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
                // `x/feat` on an optional `x` also enables the feature named `x`
                // (cargo's behaviour before weak features), where there is one.
                if optional.contains(dep) {
                    if let Some((k, _)) = pkg.features.get_key_value(dep) {
                        stack.push(k.as_str());
                    }
                }
            }
        } else if let Some(values) = pkg.features.get(v) {
            stack.extend(values.iter().map(String::as_str));
        } else if implicit.contains(v) {
            out.deps.insert(v.to_string());
        }
    }
    for (dep, feat) in weak {
        if out.deps.contains(&dep) || !optional.contains(dep.as_str()) {
            out.dep_features.entry(dep).or_default().insert(feat);
        }
    }
    out
}

#[cfg(test)]
impl<'m> Index<'m> {
    /// `activate` as it was before each key was queued once at a time and only the
    /// missing values copied: a set built per edge, a key queued on every growth. The
    /// reach oracle resolves with it, so the fast one is checked against it.
    pub(crate) fn activate_reference(
        &self,
        mut act: Activation<'m>,
        roots: &Requested<'m>,
        dev_of: &HashSet<&'m PackageId>,
        platforms: Platforms<'_>,
    ) -> Activation<'m> {
        let mut queue: VecDeque<(&'m PackageId, Use)> = VecDeque::new();
        let push = |act: &mut Activation<'m>,
                    key: (&'m PackageId, Use),
                    want: &BTreeSet<String>,
                    queue: &mut VecDeque<_>| {
            let first = !act.features.contains_key(&key);
            let entry = act.features.entry(key).or_default();
            let before = entry.len();
            entry.extend(want.iter().cloned());
            if first || entry.len() != before {
                queue.push_back(key);
            }
        };
        for (id, want) in roots {
            let mut keys = vec![self.key(id, Use::Runtime)];
            if self.proc_macro.contains(id) {
                keys.push(self.key(id, Use::Build));
            }
            for key in keys {
                push(&mut act, key, want, &mut queue);
                if !queue.contains(&key) {
                    queue.push_back(key);
                }
            }
        }
        while let Some((id, used)) = queue.pop_front() {
            let Some(node) = self.nodes.get(id) else {
                continue;
            };
            let on = expand(node, &act.features[&(id, used)]);
            for e in &node.edges {
                let d = e.dep;
                if d.kind == DependencyKind::Development && !dev_of.contains(id) {
                    continue;
                }
                if self.resolver == Resolver::V2 && !self.active(e, used, platforms) {
                    continue;
                }
                let key = dep_key(d);
                if d.optional && !on.deps.contains(key) {
                    continue;
                }
                let mut want: BTreeSet<String> = d.features.iter().cloned().collect();
                if d.uses_default_features {
                    want.insert("default".into());
                }
                if let Some(extra) = on.dep_features.get(key) {
                    want.extend(extra.iter().cloned());
                }
                let child = self.key(e.to, self.child_use(used, e));
                push(&mut act, child, &want, &mut queue);
            }
        }
        act
    }
}
