//! SPDX 2.3 JSON.

use super::{Bom, Component, License, Supplier};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub fn render(bom: &Bom) -> String {
    let all: Vec<(&Component, bool)> = bom
        .roots
        .iter()
        .map(|c| (c, true))
        .chain(bom.components.iter().map(|c| (c, false)))
        .collect();
    // SPDX ids: letters, digits, `.` and `-` only; unique.
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for (c, _) in &all {
        let base: String = format!("SPDXRef-Package-{}-{}", c.name, c.version)
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' {
                    ch
                } else {
                    '-'
                }
            })
            .collect();
        let n = used.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}-{n}") };
        ids.insert(c.bom_ref.as_str(), id);
    }
    let packages: Vec<Value> = all
        .iter()
        .map(|(c, root)| package(c, &ids[c.bom_ref.as_str()], *root))
        .collect();
    let mut relationships = Vec::new();
    for (c, root) in &all {
        if *root {
            relationships.push(json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": ids[c.bom_ref.as_str()],
            }));
        }
    }
    let build_time: BTreeMap<&str, bool> = all
        .iter()
        .map(|(c, _)| (c.bom_ref.as_str(), c.build_time))
        .collect();
    for (from, deps) in &bom.dependencies {
        for to in deps {
            let (Some(f), Some(t)) = (ids.get(from.as_str()), ids.get(to.as_str())) else {
                continue;
            };
            relationships.push(if build_time.get(to.as_str()).copied().unwrap_or(false) {
                json!({ "spdxElementId": t, "relationshipType": "BUILD_DEPENDENCY_OF", "relatedSpdxElement": f })
            } else {
                json!({ "spdxElementId": f, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": t })
            });
        }
    }
    let name = bom
        .roots
        .first()
        .map(|r| format!("{} {}", r.name, r.version))
        .unwrap_or_else(|| "workspace".into());
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "creationInfo": {
            "created": bom.timestamp,
            "creators": [
                format!("Tool: {}-{}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
                "Organization: cargo-secure-release users",
            ],
        },
        "packages": packages,
        "relationships": relationships,
    });
    let content = serde_json::to_string(&doc).unwrap_or_default();
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    doc["documentNamespace"] = json!(format!(
        "https://spdx.org/spdxdocs/{slug}-{}",
        super::content_uuid(&content)
    ));
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn package(c: &Component, id: &str, root: bool) -> Value {
    let mut o = json!({
        "SPDXID": id,
        "name": c.name,
        "versionInfo": c.version,
        "downloadLocation": c.download.clone().unwrap_or_else(|| "NOASSERTION".into()),
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": match &c.license {
            License::Expression(e) => e.clone(),
            _ => "NOASSERTION".into(),
        },
        "copyrightText": "NOASSERTION",
        "supplier": match c.supplier() {
            Some(Supplier::Person { name, email: Some(e) }) => format!("Person: {name} ({e})"),
            Some(Supplier::Person { name, email: None }) => format!("Person: {name}"),
            Some(Supplier::Organization { name, url }) => format!("Organization: {name} ({url})"),
            None => "NOASSERTION".into(),
        },
        "primaryPackagePurpose": if root { "APPLICATION" } else { "LIBRARY" },
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": c.purl,
        }],
    });
    if let Some(h) = &c.sha256 {
        o["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": h }]);
    }
    if let Some(d) = c.description.as_ref().filter(|d| !d.is_empty()) {
        o["description"] = json!(d);
    }
    if let Some(h) = c.homepage.as_deref().and_then(super::document_url) {
        o["homepage"] = json!(h);
    }
    o
}
