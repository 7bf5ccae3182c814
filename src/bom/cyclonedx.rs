//! CycloneDX JSON, spec 1.5, 1.6 or 1.7.

use super::{Bom, CdxVersion, Component, License, Supplier};
use serde_json::{json, Value};

pub fn render(bom: &Bom, v: CdxVersion) -> String {
    let tool = json!({
        "type": "application",
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "purl": format!("pkg:cargo/{}@{}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
    });
    let mut metadata = json!({
        "timestamp": bom.timestamp,
        "tools": { "components": [tool] },
    });
    let (first, others) = match bom.roots.split_first() {
        Some((f, rest)) => (Some(f), rest),
        None => (None, &[][..]),
    };
    if let Some(root) = first {
        metadata["component"] = component(root, v, true);
    }
    let components: Vec<Value> = others
        .iter()
        .map(|c| component(c, v, true))
        .chain(bom.components.iter().map(|c| component(c, v, false)))
        .collect();
    let dependencies: Vec<Value> = bom
        .dependencies
        .iter()
        .map(|(r, deps)| json!({ "ref": r, "dependsOn": deps }))
        .collect();
    let mut doc = json!({
        "$schema": format!("http://cyclonedx.org/schema/bom-{}.schema.json", v.as_str()),
        "bomFormat": "CycloneDX",
        "specVersion": v.as_str(),
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    });
    if !bom.vulnerabilities.is_empty() {
        doc["vulnerabilities"] = super::vulns::cyclonedx(&bom.vulnerabilities);
    }
    let content = serde_json::to_string(&doc).unwrap_or_default();
    doc["serialNumber"] = json!(format!("urn:uuid:{}", super::content_uuid(&content)));
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn component(c: &Component, v: CdxVersion, root: bool) -> Value {
    let mut o = json!({
        "type": if root { "application" } else { "library" },
        "bom-ref": c.bom_ref,
        "name": c.name,
        "version": c.version,
        "purl": c.purl,
        "scope": if c.build_time { "excluded" } else { "required" },
        "properties": [{
            "name": "cargo:dependency-kind",
            "value": if c.build_time { "build" } else { "runtime" },
        }],
    });
    if let Some(h) = &c.sha256 {
        o["hashes"] = json!([{ "alg": "SHA-256", "content": h }]);
    }
    match &c.license {
        License::Expression(e) if listed_id(e) => {
            o["licenses"] = json!([{ "license": { "id": e } }]);
        }
        // A LicenseRef-… is fine here: CycloneDX expressions need no text for it.
        License::Expression(e) => o["licenses"] = json!([{ "expression": e }]),
        License::File(f) => {
            o["licenses"] =
                json!([{ "license": { "name": format!("see the file {f} in the package") } }]);
        }
        License::None => {}
    }
    if let Some(d) = c.description.as_ref().filter(|d| !d.is_empty()) {
        o["description"] = json!(d);
    }
    match c.supplier() {
        Some(Supplier::Organization { name, url }) => {
            o["supplier"] = json!({ "name": name, "url": [url] });
        }
        Some(Supplier::Person { name, email }) => {
            let mut contact = json!({ "name": name });
            if let Some(e) = email {
                contact["email"] = json!(e);
            }
            o["supplier"] = json!({ "name": name, "contact": [contact] });
        }
        None => {}
    }
    if !c.authors.is_empty() {
        match v {
            // `authors` (objects) arrived in 1.6; 1.5 has one `author` string.
            CdxVersion::V1_5 => {
                let all: Vec<String> = c.authors.iter().map(|a| a.to_string()).collect();
                o["author"] = json!(all.join(", "));
            }
            _ => {
                o["authors"] = json!(c
                    .authors
                    .iter()
                    .map(|a| {
                        let mut contact = json!({ "name": a.name });
                        if let Some(e) = &a.email {
                            contact["email"] = json!(e);
                        }
                        contact
                    })
                    .collect::<Vec<_>>())
            }
        }
    }
    let mut refs = Vec::new();
    // Each already a `document_url` (`bom::component`).
    for (kind, url) in [
        ("vcs", &c.repository),
        ("website", &c.homepage),
        ("documentation", &c.documentation),
        ("distribution", &c.download),
    ] {
        if let Some(u) = url {
            refs.push(json!({ "type": kind, "url": u }));
        }
    }
    if !refs.is_empty() {
        o["externalReferences"] = json!(refs);
    }
    o
}

/// Whether `expr` is one license id CycloneDX's `license.id` takes: its schema's
/// enum is a snapshot of the SPDX list, which lags the `spdx` crate's (new ids,
/// deprecated ones, NOASSERTION); an OSI- or FSF-approved id that is not deprecated
/// is in every snapshot. Any other is written as an `expression`, which takes all.
fn listed_id(expr: &str) -> bool {
    ::spdx::license_id(expr)
        .is_some_and(|id| (id.is_osi_approved() || id.is_fsf_free_libre()) && !id.is_deprecated())
}

#[cfg(test)]
mod tests {
    use super::listed_id;

    #[test]
    fn only_long_listed_ids_are_written_as_ids() {
        for id in ["MIT", "Apache-2.0", "GPL-3.0-only", "CC0-1.0", "Unlicense"] {
            assert!(listed_id(id), "{id}");
        }
        // Deprecated, not a license, newer than the schemas' snapshots, or not one id.
        for other in [
            "GPL-2.0",
            "NOASSERTION",
            "Bugroff",
            "MIT OR Apache-2.0",
            "LicenseRef-X",
        ] {
            assert!(!listed_id(other), "{other}");
        }
    }
}
