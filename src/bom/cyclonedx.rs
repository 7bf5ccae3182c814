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
        License::Expression(e) if ::spdx::license_id(e).is_some() => {
            o["licenses"] = json!([{ "license": { "id": e } }]);
        }
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
            CdxVersion::V1_5 => o["author"] = json!(c.authors.join(", ")),
            _ => {
                o["authors"] = json!(c
                    .authors
                    .iter()
                    .map(|a| json!({ "name": a }))
                    .collect::<Vec<_>>())
            }
        }
    }
    let mut refs = Vec::new();
    for (kind, url) in [
        ("vcs", &c.repository),
        ("website", &c.homepage),
        ("documentation", &c.documentation),
        ("distribution", &c.download),
    ] {
        if let Some(u) = url.as_deref().and_then(super::document_url) {
            refs.push(json!({ "type": kind, "url": u }));
        }
    }
    if !refs.is_empty() {
        o["externalReferences"] = json!(refs);
    }
    o
}
