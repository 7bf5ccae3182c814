//! The SBOM of one built binary from the dependency list `cargo auditable`
//! embedded in it, each package resolved against the Cargo.lock it was built
//! from (its source, so its purl; its checksum). Exact where the workspace's SBOM
//! is a prediction: the list is what the compiler was given, whatever features,
//! target and flags the build used. The document is `sbom`'s CycloneDX.

use super::{Bom, CdxVersion, Component, License};
use crate::artifact::EmbeddedPackage;
use crate::lockfile::{LockedPackage, Lockfile};
use anyhow::Result;
use std::collections::BTreeMap;

/// The CycloneDX document (`sbom`'s default version) of a binary whose embedded
/// list is `packages`, dated `epoch` (seconds since 1970).
pub fn cyclonedx(packages: &[EmbeddedPackage], lock: &Lockfile, epoch: i64) -> Result<String> {
    let bom = of_binary(packages, lock, epoch)?;
    Ok(super::cyclonedx::render(&bom, CdxVersion::default()))
}

fn of_binary(packages: &[EmbeddedPackage], lock: &Lockfile, epoch: i64) -> Result<Bom> {
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let mut refs = Vec::with_capacity(packages.len());
    let mut roots = Vec::new();
    let mut components = Vec::new();
    for p in packages {
        let locked = locked(p, lock);
        let source = locked.and_then(|l| l.source.clone());
        let crates_io = source.as_deref().is_some_and(|s| {
            s == "registry+https://github.com/rust-lang/crates.io-index"
                || s == "sparse+https://index.crates.io/"
        });
        let purl = super::purl(&p.name, &p.version, source.as_deref(), crates_io);
        let mut bom_ref = purl.clone();
        // bom-refs must be unique: a path crate may share a registry crate's purl.
        let n = taken.entry(bom_ref.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            bom_ref = format!("{bom_ref}#{n}");
        }
        refs.push(bom_ref.clone());
        let c = Component {
            bom_ref,
            name: p.name.clone(),
            version: p.version.clone(),
            purl,
            sha256: locked.and_then(|l| l.checksum.clone()),
            license: License::None,
            license_ref: super::clean::RefText::None,
            description: None,
            authors: Vec::new(),
            repository: None,
            homepage: None,
            documentation: None,
            download: crates_io.then(|| {
                format!(
                    "https://crates.io/api/v1/crates/{}/{}/download",
                    p.name, p.version
                )
            }),
            crates_io,
            build_time: p.build_only,
            cleaned: Vec::new(),
        };
        match p.root {
            true => roots.push(c),
            false => components.push(c),
        }
    }
    let mut dependencies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, r) in packages.iter().zip(&refs) {
        let mut deps: Vec<String> = p
            .dependencies
            .iter()
            .filter_map(|i| refs.get(*i).cloned())
            .collect();
        deps.sort();
        deps.dedup();
        dependencies.insert(r.clone(), deps);
    }
    roots.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    Ok(Bom {
        roots,
        components,
        dependencies,
        timestamp: super::format_time(epoch)?,
        target: String::new(),
        vulnerabilities: Vec::new(),
        notes: Vec::new(),
    })
}

/// The package's Cargo.lock entry: by name and version, a registry entry for a
/// registry package and another for a path or git one.
fn locked<'l>(p: &EmbeddedPackage, lock: &'l Lockfile) -> Option<&'l LockedPackage> {
    let registry = |l: &LockedPackage| {
        l.source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
    };
    lock.packages
        .iter()
        .find(|l| l.name == p.name && l.version == p.version && registry(l) == p.from_registry)
}
