//! How a package in Cargo.lock is reached from the workspace.
//!
//! `cargo metadata` is run once with `--all-features`, so its resolve holds every
//! package that can be built. From that one graph we replay Cargo's feature
//! unification for narrower builds (the default build, the default build plus one
//! feature) to say whether a vulnerable package ships by default, only with a
//! feature, only on some targets, or only in dev builds.

use crate::unify::{
    all_features, by_package, Activation, Index, Platforms, Requested, Resolver, UnitGates, Use,
};
use cargo_metadata::{Metadata, Package, PackageId};
use std::collections::{BTreeSet, HashMap, HashSet};

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

/// The resolve indexed, with the default build resolved: what every classification
/// starts from, whatever the targets (so it can be made before they are known).
pub struct ReachIndex<'m> {
    index: Index<'m>,
    roots: Vec<&'m Package>,
    /// The default build's features, and its units.
    base: Activation<'m>,
    default_units: UnitGates<'m>,
}

type Reached<'m> = HashMap<&'m PackageId, Option<String>>;

impl<'m> ReachIndex<'m> {
    pub fn new(meta: &'m Metadata, roots: &[&'m Package], resolver: Resolver) -> Self {
        let mut reach = Self {
            index: Index::new(meta, resolver),
            roots: roots.to_vec(),
            base: Activation::default(),
            default_units: UnitGates::new(),
        };
        reach.base = reach.index.activate(
            Activation::default(),
            &reach.default_roots(None),
            &reach.unified_dev(),
            Platforms::Any,
        );
        reach.default_units =
            reach
                .index
                .unit_gates(&reach.base, &reach.root_ids(), &HashSet::new());
        reach
    }

    fn root_ids(&self) -> Vec<&'m PackageId> {
        self.roots.iter().map(|p| &p.id).collect()
    }

    /// Resolver 1 unifies the roots' dev-dependency features into every build.
    fn unified_dev(&self) -> HashSet<&'m PackageId> {
        match self.index.resolver {
            Resolver::V1 => self.root_ids().into_iter().collect(),
            Resolver::V2 => HashSet::new(),
        }
    }

    /// Classifies every package in `targets` (name, version) in one go, resolving each
    /// build configuration at most once: the default build from nothing (`new`), every
    /// wider one (a feature more, the tests) grown from its fixpoint and its units.
    pub fn classify(&self, targets: &[(&str, &str)]) -> Vec<Reach> {
        let unified = self.unified_dev();
        let (base, default_units) = (&self.base, &self.default_units);
        let default = by_package(default_units);
        let by_name = self.by_name();
        let mut per_feature: Option<Vec<(String, Units<'m>)>> = None;
        let mut dev: Option<Units<'m>> = None;
        targets
            .iter()
            .map(|(name, version)| {
                let ids = ids_in(&by_name, name, version);
                if let Some(t) = best(&default, &ids) {
                    return match t {
                        None => Reach::Default,
                        Some(cfg) => Reach::DefaultOnTarget(cfg),
                    };
                }
                let features = per_feature.get_or_insert_with(|| {
                    self.resolve_each_feature(base, default_units, &unified)
                });
                let hits: Vec<String> = features
                    .iter()
                    .filter(|(_, set)| built(set, &ids))
                    .map(|(f, _)| f.clone())
                    .take(3)
                    .collect();
                if !hits.is_empty() {
                    return Reach::Features(hits);
                }
                let dev = dev.get_or_insert_with(|| {
                    let roots: HashSet<&PackageId> = self.root_ids().into_iter().collect();
                    let act = self.index.activate(
                        base.clone(),
                        &self.default_roots(None),
                        &roots,
                        Platforms::Any,
                    );
                    self.index.grow_units(default_units, base, &act, &roots)
                });
                if built(dev, &ids) {
                    return Reach::DevOnly;
                }
                Reach::LockfileOnly
            })
            .collect()
    }

    /// The resolve's packages by name, to find a target's ids without a scan.
    fn by_name(&self) -> HashMap<&'m str, Vec<&'m Package>> {
        let mut out: HashMap<&'m str, Vec<&'m Package>> = HashMap::new();
        for p in self.index.packages() {
            out.entry(p.name.as_str()).or_default().push(p);
        }
        out
    }

    fn default_roots(&self, extra: Option<(&PackageId, &str)>) -> Requested<'m> {
        self.roots
            .iter()
            .map(|p| {
                let mut f = BTreeSet::from(["default".to_string()]);
                if let Some((eid, feat)) = extra {
                    if *eid == p.id {
                        f.insert(feat.to_string());
                    }
                }
                (&p.id, f)
            })
            .collect()
    }

    /// The default build plus one feature of one member, for every such feature: each
    /// grown from the default build's fixpoint and units, so its cost is what the
    /// feature adds.
    fn resolve_each_feature(
        &self,
        base: &Activation<'m>,
        default_units: &UnitGates<'m>,
        unified: &HashSet<&'m PackageId>,
    ) -> Vec<(String, Units<'m>)> {
        let mut out = Vec::new();
        for root in &self.roots {
            for f in feature_names(root) {
                let act = self.index.activate(
                    base.clone(),
                    &self.default_roots(Some((&root.id, &f))),
                    unified,
                    Platforms::Any,
                );
                let units = self
                    .index
                    .grow_units(default_units, base, &act, &HashSet::new());
                out.push((format!("{}/{}", root.name, f), units));
            }
        }
        out
    }
}

/// The units of one build.
type Units<'m> = HashSet<(&'m PackageId, Use)>;

/// Whether a build compiles one of `ids`, for the target or the host.
fn built(units: &Units<'_>, ids: &[&PackageId]) -> bool {
    ids.iter()
        .any(|id| units.contains(&(*id, Use::Runtime)) || units.contains(&(*id, Use::Build)))
}

/// The ids of the packages named `name` at `version`.
fn ids_in<'m>(
    by_name: &HashMap<&'m str, Vec<&'m Package>>,
    name: &str,
    version: &str,
) -> Vec<&'m PackageId> {
    by_name
        .get(name)
        .into_iter()
        .flatten()
        .filter(|p| p.version.to_string() == version)
        .map(|p| &p.id)
        .collect()
}

/// A member's features that a user can enable, besides `default`: its `[features]`
/// and its optional dependencies (implicit features unless a `dep:` entry hides them).
fn feature_names(pkg: &Package) -> BTreeSet<String> {
    let mut names = all_features(pkg);
    names.remove("default");
    names
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl<'m> ReachIndex<'m> {
        /// The packages a build with `act`'s features compiles (`dev`: its tests too).
        fn reached(&self, act: &Activation<'m>, dev: bool) -> Reached<'m> {
            let dev_of = match dev {
                true => self.root_ids().into_iter().collect(),
                false => HashSet::new(),
            };
            self.index
                .units(act, &self.root_ids(), &dev_of, Platforms::Any)
                .reached
        }

        /// The implementation before incremental unification, kept as the oracle:
        /// every build configuration resolved from nothing, with the activation as
        /// it was before it queued each key once (`activate_reference`).
        fn classify_from_scratch(&self, targets: &[(&str, &str)]) -> Vec<Reach> {
            let unified = self.unified_dev();
            let roots: HashSet<&PackageId> = self.root_ids().into_iter().collect();
            let scratch = |requested: &Requested<'m>, dev: bool| {
                let dev_of = if dev { &roots } else { &unified };
                let act = self.index.activate_reference(
                    Activation::default(),
                    requested,
                    dev_of,
                    Platforms::Any,
                );
                self.reached(&act, dev)
            };
            let default = scratch(&self.default_roots(None), false);
            let mut per_feature = Vec::new();
            for root in &self.roots {
                for f in feature_names(root) {
                    let set = scratch(&self.default_roots(Some((&root.id, &f))), false);
                    per_feature.push((format!("{}/{}", root.name, f), set));
                }
            }
            let dev = scratch(&self.default_roots(None), true);
            targets
                .iter()
                .map(|(name, version)| {
                    // A scan of every package, independent of `by_name`.
                    let ids: Vec<&PackageId> = self
                        .index
                        .packages()
                        .filter(|p| p.name.as_str() == *name && p.version.to_string() == *version)
                        .map(|p| &p.id)
                        .collect();
                    if let Some(t) = best(&default, &ids) {
                        return match t {
                            None => Reach::Default,
                            Some(cfg) => Reach::DefaultOnTarget(cfg),
                        };
                    }
                    let hits: Vec<String> = per_feature
                        .iter()
                        .filter(|(_, set)| ids.iter().any(|id| set.contains_key(id)))
                        .map(|(f, _)| f.clone())
                        .take(3)
                        .collect();
                    if !hits.is_empty() {
                        return Reach::Features(hits);
                    }
                    if ids.iter().any(|id| dev.contains_key(id)) {
                        return Reach::DevOnly;
                    }
                    Reach::LockfileOnly
                })
                .collect()
        }
    }

    /// One generated dependency: (to, optional, kind 0 normal/1 build/2 dev,
    /// windows-only, default features, features it asks of the dependency).
    type GenDep = (usize, bool, u8, bool, bool, Vec<usize>);

    /// A generated package: its dependencies, and features as lists of entries
    /// (0..3 picks the kind: another feature, `dep:x`, `x/f`, `x?/f`).
    type GenPkg = (Vec<GenDep>, Vec<Vec<(u8, usize, usize)>>);

    /// `cargo metadata`'s JSON for a generated graph: packages depend only on later
    /// ones (no cycles), the first one or two are workspace members.
    fn metadata(pkgs: &[GenPkg], members: usize) -> Metadata {
        let n = pkgs.len();
        let id = |i: usize| format!("p{i} 1.0.0 (path+file:///w/p{i})");
        let feat = |i: usize, f: usize| {
            let count = pkgs[i].1.len();
            if count == 0 {
                "default".to_string()
            } else {
                format!("f{}", f % count)
            }
        };
        let mut packages = Vec::new();
        let mut nodes = Vec::new();
        for (i, (deps, features)) in pkgs.iter().enumerate() {
            let deps: Vec<&GenDep> = deps.iter().filter(|d| d.0 % n > i).collect();
            let dep_json: Vec<serde_json::Value> = deps
                .iter()
                .map(|(to, optional, kind, windows, default, fs)| {
                    let to = to % n;
                    serde_json::json!({
                        "name": format!("p{to}"), "source": null, "req": "^1", "rename": null,
                        "kind": match kind % 3 { 0 => serde_json::Value::Null, 1 => "build".into(), _ => "dev".into() },
                        "optional": *optional && kind % 3 != 2, "uses_default_features": default,
                        "features": fs.iter().map(|f| feat(to, *f)).filter(|f| f != "default").collect::<Vec<_>>(),
                        "target": if *windows { serde_json::json!("cfg(windows)") } else { serde_json::Value::Null },
                        "registry": null, "path": null,
                    })
                })
                .collect();
            let mut feature_map = serde_json::Map::new();
            for (k, entries) in features.iter().enumerate() {
                let values: Vec<String> = entries
                    .iter()
                    .filter_map(|(kind, a, b)| {
                        let dep = deps.get(a % deps.len().max(1)).map(|d| d.0 % n);
                        match (kind % 4, dep) {
                            (0, _) => Some(format!("f{}", a % features.len())),
                            (1, Some(d)) => Some(format!("dep:p{d}")),
                            (2, Some(d)) => Some(format!("p{d}/{}", feat(d, *b))),
                            (3, Some(d)) => Some(format!("p{d}?/{}", feat(d, *b))),
                            _ => None,
                        }
                    })
                    .filter(|v| v != &format!("f{k}"))
                    .collect();
                feature_map.insert(format!("f{k}"), serde_json::json!(values));
            }
            if !features.is_empty() {
                feature_map.insert("default".into(), serde_json::json!(["f0"]));
            }
            packages.push(serde_json::json!({
                "name": format!("p{i}"), "version": "1.0.0", "id": id(i), "source": null,
                "dependencies": dep_json, "targets": [], "features": feature_map,
                "manifest_path": format!("/w/p{i}/Cargo.toml"), "rust_version": null,
            }));
            nodes.push(serde_json::json!({
                "id": id(i),
                "deps": deps.iter().map(|d| serde_json::json!({ "name": format!("p{}", d.0 % n), "pkg": id(d.0 % n), "dep_kinds": [] })).collect::<Vec<_>>(),
                "dependencies": deps.iter().map(|d| id(d.0 % n)).collect::<Vec<_>>(),
                "features": [],
            }));
        }
        serde_json::from_value(serde_json::json!({
            "packages": packages,
            "workspace_members": (0..members.min(n)).map(id).collect::<Vec<_>>(),
            "resolve": { "nodes": nodes, "root": null },
            "workspace_root": "/w", "target_directory": "/w/target", "version": 1,
        }))
        .expect("generated metadata parses")
    }

    fn graphs() -> impl Strategy<Value = (Vec<GenPkg>, usize)> {
        let dep = (
            0usize..12,
            any::<bool>(),
            0u8..3,
            prop::bool::weighted(0.2),
            any::<bool>(),
            prop::collection::vec(0usize..4, 0..2),
        );
        let feature = prop::collection::vec((0u8..4, 0usize..8, 0usize..4), 0..3);
        let pkg = (
            prop::collection::vec(dep, 0..4),
            prop::collection::vec(feature, 0..4),
        );
        (prop::collection::vec(pkg, 2..12), 1usize..3)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Growing from the default build's fixpoint classifies every package as
        /// resolving each configuration from nothing does.
        #[test]
        fn incremental_unification_agrees_with_the_oracle((pkgs, members) in graphs()) {
            let meta = metadata(&pkgs, members);
            let roots: Vec<&Package> = meta
                .packages
                .iter()
                .filter(|p| meta.workspace_members.contains(&p.id))
                .collect();
            let targets: Vec<(&str, String)> =
                meta.packages.iter().map(|p| (p.name.as_str(), p.version.to_string())).collect();
            let targets: Vec<(&str, &str)> = targets.iter().map(|(n, v)| (*n, v.as_str())).collect();
            for resolver in [Resolver::V1, Resolver::V2] {
            let index = ReachIndex::new(&meta, &roots, resolver);
            let fast = index.classify(&targets);
            let oracle = index.classify_from_scratch(&targets);
            // The cfg shown for a target-only package is the first found; only its
            // presence is part of the answer.
            let shape = |r: &Reach| match r {
                Reach::DefaultOnTarget(_) => Reach::DefaultOnTarget(String::new()),
                other => other.clone(),
            };
            prop_assert_eq!(fast.iter().map(shape).collect::<Vec<_>>(), oracle.iter().map(shape).collect::<Vec<_>>());
            // The generator must make every kind of answer, or the test proves little.
            prop_assert!(fast.len() == targets.len());
            }
        }
    }

    /// A package whose features grow after it was expanded passes them on: the root
    /// reaches `p2` first with its defaults, then through `p1` with `f1`, which asks
    /// `p3/f1`, which enables `p3`'s optional dependency `p4`. The fixpoint builds
    /// `p4` by default.
    #[test]
    fn features_that_arrive_after_a_package_was_expanded_are_passed_on() {
        let pkgs: Vec<GenPkg> = vec![
            (
                vec![
                    (2, false, 0, false, true, vec![]),
                    (1, false, 0, false, true, vec![]),
                ],
                vec![],
            ),
            (vec![(2, false, 0, false, true, vec![1])], vec![]),
            (
                vec![(3, false, 0, false, true, vec![])],
                vec![vec![], vec![(2, 0, 1)]],
            ),
            (
                vec![(4, true, 0, false, true, vec![])],
                vec![vec![], vec![(1, 0, 0)]],
            ),
            (vec![], vec![]),
        ];
        let meta = metadata(&pkgs, 1);
        let roots: Vec<&Package> = meta.packages.iter().take(1).collect();
        for resolver in [Resolver::V1, Resolver::V2] {
            let index = ReachIndex::new(&meta, &roots, resolver);
            let targets = [("p4", "1.0.0")];
            assert_eq!(index.classify(&targets), vec![Reach::Default]);
            assert_eq!(index.classify_from_scratch(&targets), vec![Reach::Default]);
        }
    }

    /// Over the generated graphs, every kind of reach occurs, so the comparison
    /// above covers them all.
    #[test]
    fn the_generator_produces_every_kind_of_reach() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let mut seen = HashSet::new();
        for _ in 0..400 {
            let (pkgs, members) = graphs().new_tree(&mut runner).unwrap().current();
            let meta = metadata(&pkgs, members);
            let roots: Vec<&Package> = meta
                .packages
                .iter()
                .filter(|p| meta.workspace_members.contains(&p.id))
                .collect();
            let index = ReachIndex::new(&meta, &roots, Resolver::V2);
            let names: Vec<(String, String)> = meta
                .packages
                .iter()
                .map(|p| (p.name.to_string(), p.version.to_string()))
                .collect();
            let targets: Vec<(&str, &str)> = names
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            for r in index.classify(&targets) {
                seen.insert(std::mem::discriminant(&r));
            }
        }
        assert_eq!(seen.len(), 5, "every Reach variant is generated");
    }
}
