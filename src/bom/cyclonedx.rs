//! CycloneDX JSON, spec 1.5, 1.6 or 1.7.

use super::{Bom, CdxVersion, Component, License, Supplier};
use serde::Serialize;
use serde_json::{json, Value};

// The document is written from these structs, each field in the order a sorted
// map would put its key (the bytes are those of a `serde_json::Value` document),
// without building a tree of values first: a 1,000-package SBOM renders in a few
// milliseconds instead of tens.

#[derive(Serialize)]
struct Doc<'a> {
    #[serde(rename = "$schema")]
    schema: String,
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    components: Vec<Cdx<'a>>,
    dependencies: Vec<Dep<'a>>,
    metadata: Metadata<'a>,
    #[serde(rename = "serialNumber", skip_serializing_if = "Option::is_none")]
    serial_number: Option<String>,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    vulnerabilities: Option<Value>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<Cdx<'a>>,
    timestamp: &'a str,
    tools: Value,
}

#[derive(Serialize)]
struct Dep<'a> {
    #[serde(rename = "dependsOn")]
    depends_on: &'a [String],
    #[serde(rename = "ref")]
    reference: &'a str,
}

#[derive(Serialize)]
struct Cdx<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authors: Option<Vec<Value>>,
    #[serde(rename = "bom-ref")]
    bom_ref: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExtRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hashes: Option<[Hash<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    licenses: Option<Value>,
    name: &'a str,
    properties: [Prop; 1],
    purl: &'a str,
    scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<Value>,
    #[serde(rename = "type")]
    kind: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct ExtRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Hash<'a> {
    alg: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct Prop {
    name: &'static str,
    value: &'static str,
}

pub fn render(bom: &Bom, v: CdxVersion) -> String {
    let tool = json!({
        "type": "application",
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "purl": format!("pkg:cargo/{}@{}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
    });
    let (first, others) = match bom.roots.split_first() {
        Some((f, rest)) => (Some(f), rest),
        None => (None, &[][..]),
    };
    let components: Vec<Cdx> = others
        .iter()
        .map(|c| component(c, v, true))
        .chain(bom.components.iter().map(|c| component(c, v, false)))
        .collect();
    let dependencies: Vec<Dep> = bom
        .dependencies
        .iter()
        .map(|(r, deps)| Dep {
            depends_on: deps,
            reference: r,
        })
        .collect();
    let mut doc = Doc {
        schema: format!("http://cyclonedx.org/schema/bom-{}.schema.json", v.as_str()),
        bom_format: "CycloneDX",
        components,
        dependencies,
        metadata: Metadata {
            component: first.map(|root| component(root, v, true)),
            timestamp: &bom.timestamp,
            tools: json!({ "components": [tool] }),
        },
        serial_number: None,
        spec_version: v.as_str(),
        version: 1,
        vulnerabilities: (!bom.vulnerabilities.is_empty())
            .then(|| super::vulns::cyclonedx(&bom.vulnerabilities)),
    };
    // The serial number is a hash of the compact document without it: that and the
    // document itself are written at once, on two cores, and the serial is put in
    // its place after.
    let (content, pretty) = std::thread::scope(|s| {
        let compact = s.spawn(|| serde_json::to_string(&doc).unwrap_or_default());
        let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
        let compact = compact
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (compact, pretty)
    });
    let serial = format!("urn:uuid:{}", super::content_uuid(&content));
    let placed = with_serial(&pretty, &serial);
    doc.serial_number = Some(serial);
    let whole = |doc: &Doc| serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
    match placed {
        Some(text) => {
            // Debug builds (so every test) check it against the document written whole.
            if cfg!(debug_assertions) {
                assert_eq!(
                    text,
                    whole(&doc),
                    "the serial number is not where serde writes it"
                );
            }
            text
        }
        None => whole(&doc),
    }
}

/// `pretty` (the document without a serial number) with `serialNumber` where serde
/// writes it: the top-level key before `specVersion`. Only a top-level key follows a
/// line break and two spaces (strings escape their line breaks).
fn with_serial(pretty: &str, serial: &str) -> Option<String> {
    const NEXT: &str = "\n  \"specVersion\": ";
    let at = pretty.find(NEXT)?;
    let value = serde_json::to_string(serial).ok()?;
    let mut out = String::with_capacity(pretty.len() + value.len() + 25);
    out.push_str(&pretty[..at]);
    out.push_str("\n  \"serialNumber\": ");
    out.push_str(&value);
    out.push(',');
    out.push_str(&pretty[at..]);
    out.push('\n');
    Some(out)
}

fn component(c: &Component, v: CdxVersion, root: bool) -> Cdx<'_> {
    let licenses = match &c.license {
        License::Expression(e) if listed_id(e) => Some(json!([{ "license": { "id": e } }])),
        // A LicenseRef-… is fine here: CycloneDX expressions need no text for it.
        License::Expression(e) => Some(json!([{ "expression": e }])),
        License::File(f) => {
            Some(json!([{ "license": { "name": format!("see the file {f} in the package") } }]))
        }
        License::None => None,
    };
    let supplier = match c.supplier() {
        Some(Supplier::Organization { name, url }) => Some(json!({ "name": name, "url": [url] })),
        Some(Supplier::Person { name, email }) => {
            let mut contact = json!({ "name": name });
            if let Some(e) = email {
                contact["email"] = json!(e);
            }
            Some(json!({ "name": name, "contact": [contact] }))
        }
        None => None,
    };
    let (author, authors) = match (c.authors.is_empty(), v) {
        (true, _) => (None, None),
        // `authors` (objects) arrived in 1.6; 1.5 has one `author` string.
        (false, CdxVersion::V1_5) => {
            let all: Vec<String> = c.authors.iter().map(|a| a.to_string()).collect();
            (Some(all.join(", ")), None)
        }
        (false, _) => (
            None,
            Some(
                c.authors
                    .iter()
                    .map(|a| {
                        let mut contact = json!({ "name": a.name });
                        if let Some(e) = &a.email {
                            contact["email"] = json!(e);
                        }
                        contact
                    })
                    .collect(),
            ),
        ),
    };
    // Each already a `document_url` (`bom::component`).
    let external_references = [
        ("vcs", &c.repository),
        ("website", &c.homepage),
        ("documentation", &c.documentation),
        ("distribution", &c.download),
    ]
    .into_iter()
    .filter_map(|(kind, url)| url.as_deref().map(|url| ExtRef { kind, url }))
    .collect();
    Cdx {
        author,
        authors,
        bom_ref: &c.bom_ref,
        description: c.description.as_deref().filter(|d| !d.is_empty()),
        external_references,
        hashes: c.sha256.as_deref().map(|h| {
            [Hash {
                alg: "SHA-256",
                content: h,
            }]
        }),
        licenses,
        name: &c.name,
        properties: [Prop {
            name: "cargo:dependency-kind",
            value: if c.build_time { "build" } else { "runtime" },
        }],
        purl: &c.purl,
        scope: if c.build_time { "excluded" } else { "required" },
        supplier,
        kind: if root { "application" } else { "library" },
        version: &c.version,
    }
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
