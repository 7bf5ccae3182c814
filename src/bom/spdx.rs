//! SPDX 2.3 JSON.

use super::clean::RefText;
use super::{clean, Bom, Component, License, Supplier};
use crate::error::escape;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub fn render(bom: &Bom) -> String {
    let all = all(bom);
    let ids = spdx_ids(&all);
    let licenses = Licenses::of(&all);
    let packages: Vec<Value> = all
        .iter()
        .map(|(c, root)| package(c, &ids[c.bom_ref.as_str()], *root, &licenses))
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
    if !licenses.extracted.is_empty() {
        doc["hasExtractedLicensingInfos"] = licenses
            .extracted
            .iter()
            .map(|(id, (text, from))| {
                json!({
                    "licenseId": id,
                    "name": id.trim_start_matches("LicenseRef-"),
                    "extractedText": text,
                    "comment": format!("the license-file of {from}"),
                })
            })
            .collect();
    }
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

fn package(c: &Component, id: &str, root: bool, licenses: &Licenses<'_>) -> Value {
    let mut o = json!({
        "SPDXID": id,
        "name": c.name,
        "versionInfo": c.version,
        "downloadLocation": c
            .download
            .clone()
            .filter(|u| spdx_tools_url(u))
            .unwrap_or_else(|| "NOASSERTION".into()),
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": licenses
            .declared
            .get(c.bom_ref.as_str())
            .cloned()
            .unwrap_or_else(|| "NOASSERTION".into()),
        "copyrightText": "NOASSERTION",
        "supplier": supplier(c),
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
    if let Some(h) = c.homepage.as_deref().filter(|u| spdx_tools_url(u)) {
        o["homepage"] = json!(h);
    }
    o
}

/// Every package, roots first (and so marked), in the document's order.
fn all(bom: &Bom) -> Vec<(&Component, bool)> {
    bom.roots
        .iter()
        .map(|c| (c, true))
        .chain(bom.components.iter().map(|c| (c, false)))
        .collect()
}

/// What only the SPDX document leaves out, each note naming the package (the
/// cleaning both formats share is in `Component::cleaned`).
pub fn notes(bom: &Bom) -> Vec<String> {
    let all = all(bom);
    let licenses = Licenses::of(&all);
    let mut notes = Vec::new();
    for (c, _) in &all {
        let who = format!("package `{} {}`", escape(&c.name), escape(&c.version));
        if let (Some(why), License::Expression(e)) =
            (licenses.missing.get(c.bom_ref.as_str()), &c.license)
        {
            notes.push(format!(
                "{who}: the SPDX document declares its license `{}` as NOASSERTION: {why}",
                clean::shown(e)
            ));
        }
        for (field, url) in [("homepage", &c.homepage), ("download URL", &c.download)] {
            if let Some(u) = url.as_deref().filter(|u| !spdx_tools_url(u)) {
                notes.push(format!(
                    "{who}: its {field} `{}` is left out of the SPDX document: SPDX tools take only a URL with a host name ending in a top-level domain",
                    clean::shown(u)
                ));
            }
        }
    }
    notes
}

/// SPDX's `supplier`: `Person: name (email)` or `Organization: name`, which SPDX
/// tools parse up to the first parenthesis (so none in the name). The email slot
/// takes an email, never the repository's URL.
fn supplier(c: &Component) -> String {
    let name = |n: &str| -> String {
        n.chars()
            .filter(|c| !matches!(c, '(' | ')'))
            .collect::<String>()
            .trim()
            .to_string()
    };
    match c.supplier() {
        Some(Supplier::Person { name: n, email }) => match (name(&n), email) {
            (n, Some(e)) if !n.is_empty() => format!("Person: {n} ({e})"),
            (n, None) if !n.is_empty() => format!("Person: {n}"),
            (_, Some(e)) => format!("Person: {e} ({e})"),
            (_, None) => "NOASSERTION".into(),
        },
        Some(Supplier::Organization { name: n, .. }) if !name(&n).is_empty() => {
            format!("Organization: {}", name(&n))
        }
        _ => "NOASSERTION".into(),
    }
}

/// SPDX ids: `SPDXRef-Package-NAME-VERSION` with every character but letters,
/// digits, `.` and `-` as `-`, unique whatever the names: packages whose ids would
/// be the same (`a_b` and `a-b`, or one crate from two sources) all get a suffix
/// from the SHA-256 of their bom-ref (unique in the document), which no other
/// package's id may already be (a version `1.0.0-2` once met a counter's `-2`).
/// Same packages, same ids, whatever their order.
fn spdx_ids<'b>(all: &[(&'b Component, bool)]) -> BTreeMap<&'b str, String> {
    let base = |c: &Component| -> String {
        format!("SPDXRef-Package-{}-{}", c.name, c.version)
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' {
                    ch
                } else {
                    '-'
                }
            })
            .collect()
    };
    let bases: BTreeMap<&str, String> = all
        .iter()
        .map(|(c, _)| (c.bom_ref.as_str(), base(c)))
        .collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for b in bases.values() {
        *count.entry(b.as_str()).or_default() += 1;
    }
    let mut taken: BTreeSet<String> = count
        .iter()
        .filter(|(_, n)| **n == 1)
        .map(|(b, _)| b.to_string())
        .collect();
    let mut ids = BTreeMap::new();
    for (r, b) in &bases {
        if count.get(b.as_str()) == Some(&1) {
            ids.insert(*r, b.clone());
            continue;
        }
        let hash = crate::digest::sha256_hex(r.as_bytes());
        let mut id = String::new();
        for n in [8, 16, hash.len()] {
            id = format!("{b}-{}", &hash[..n.min(hash.len())]);
            if !taken.contains(&id) {
                break;
            }
        }
        // Only a crafted version could still collide: count on until free.
        let mut n = 2;
        let stem = id.clone();
        while taken.contains(&id) {
            id = format!("{stem}-{n}");
            n += 1;
        }
        taken.insert(id.clone());
        ids.insert(*r, id);
    }
    ids
}

/// The licenses the document declares: each package's expression, or NOASSERTION
/// when a `LicenseRef-…` in it has no text (SPDX tools reject a LicenseRef without
/// its `hasExtractedLicensingInfos`); and those texts, one per licenseId.
struct Licenses<'b> {
    /// bom-ref → licenseDeclared (packages with no expression are absent).
    declared: BTreeMap<&'b str, String>,
    /// licenseId → the text and the package it was read from.
    extracted: BTreeMap<String, (String, String)>,
    /// bom-ref → why its expression is NOASSERTION.
    missing: BTreeMap<&'b str, String>,
}

impl<'b> Licenses<'b> {
    fn of(all: &[(&'b Component, bool)]) -> Self {
        let mut declared = BTreeMap::new();
        let mut missing = BTreeMap::new();
        let mut found = Vec::new();
        for (c, _) in all {
            let License::Expression(e) = &c.license else {
                continue;
            };
            match &c.license_ref {
                RefText::None => {
                    declared.insert(c.bom_ref.as_str(), e.clone());
                }
                RefText::Missing(why) => {
                    missing.insert(c.bom_ref.as_str(), why.clone());
                }
                RefText::Found { id, text } => found.push((*c, e, id, text)),
            }
        }
        // Two packages may name the same LicenseRef-… for different texts: then
        // each text gets its own id, suffixed with its hash, as SPDX ids are.
        let mut texts: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (_, _, id, text) in &found {
            texts.entry(id.as_str()).or_default().insert(text.as_str());
        }
        let mut taken: BTreeSet<String> = texts.keys().map(|k| k.to_string()).collect();
        let mut renamed: BTreeMap<(&str, &str), String> = BTreeMap::new();
        for (id, ts) in &texts {
            if ts.len() < 2 {
                continue;
            }
            for t in ts {
                let hash = crate::digest::sha256_hex(t.as_bytes());
                let mut new = format!("{id}-{}", &hash[..8]);
                let mut n = 2;
                while taken.contains(&new) {
                    new = format!("{id}-{hash}-{n}");
                    n += 1;
                }
                taken.insert(new.clone());
                renamed.insert((id, t), new);
            }
        }
        let mut extracted = BTreeMap::new();
        for (c, e, id, text) in found {
            let final_id = renamed
                .get(&(id.as_str(), text.as_str()))
                .cloned()
                .unwrap_or_else(|| id.clone());
            declared.insert(c.bom_ref.as_str(), replace_ref(e, id, &final_id));
            extracted
                .entry(final_id)
                .or_insert_with(|| (text.clone(), format!("{} {}", c.name, c.version)));
        }
        Licenses {
            declared,
            extracted,
            missing,
        }
    }
}

/// `expr` with the license reference `old` (a whole `LicenseRef-…` token) as `new`.
fn replace_ref(expr: &str, old: &str, new: &str) -> String {
    if old == new {
        return expr.to_string();
    }
    let id_char = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let mut out = String::with_capacity(expr.len() + new.len());
    let mut rest = expr;
    while let Some(at) = rest.find(old) {
        let before_ok = !rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| id_char(c) || c == ':');
        let after_ok = !rest[at + old.len()..].chars().next().is_some_and(id_char);
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { new } else { old });
        rest = &rest[at + old.len()..];
    }
    out.push_str(rest);
    out
}

/// Whether spdx-tools' URL check (`validate_url`, a regular expression it runs on
/// homepages and download locations) accepts `u`: one of its schemes, an optional
/// user, then a host starting with labels of letters and digits joined by single
/// `.` or `-` and a `.` and two letters. An IP address, an IDN (`xn--…`) or a host
/// with no dot fails it, and such a URL would fail the whole document.
fn spdx_tools_url(u: &str) -> bool {
    let lower = u.to_ascii_lowercase();
    let schemes = [
        "http://", "https://", "ssh://", "git://", "svn://", "sftp://", "ftp://",
    ];
    let Some(rest) = schemes.iter().find_map(|s| lower.strip_prefix(s)) else {
        return false;
    };
    let user_char = |c: char| c.is_alphanumeric() || "_-.!~*'()%;:&=+$,".contains(c);
    let after_user = rest
        .split_once('@')
        .filter(|(user, _)| !user.is_empty() && user.chars().all(user_char))
        .map(|(_, host)| host);
    host_prefix_ok(rest) || after_user.is_some_and(host_prefix_ok)
}

/// `[a-z0-9]+([-.][a-z0-9]+){0,100}\.[a-z]{2,5}` matches at the start of `h`.
fn host_prefix_ok(h: &str) -> bool {
    let b = h.as_bytes();
    let run = |from: usize| {
        b[from..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count()
    };
    let mut i = run(0);
    if i == 0 {
        return false;
    }
    let mut groups = 0;
    while i < b.len() && matches!(b[i], b'-' | b'.') && groups <= 100 {
        let start = i + 1;
        let len = run(start);
        if b[i] == b'.'
            && b[start..]
                .iter()
                .take(2)
                .filter(|c| c.is_ascii_alphabetic())
                .count()
                == 2
        {
            return true;
        }
        if len == 0 {
            return false;
        }
        groups += 1;
        i = start + len;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bom::clean::Author;

    fn component(name: &str, version: &str, bom_ref: &str) -> Component {
        Component {
            bom_ref: bom_ref.into(),
            name: name.into(),
            version: version.into(),
            purl: bom_ref.into(),
            sha256: None,
            license: License::Expression("MIT".into()),
            license_ref: RefText::None,
            description: None,
            authors: vec![Author {
                name: "A".into(),
                email: None,
            }],
            repository: None,
            homepage: None,
            documentation: None,
            download: None,
            crates_io: true,
            build_time: false,
            cleaned: Vec::new(),
        }
    }

    #[test]
    fn spdx_ids_are_unique_whatever_the_names() {
        let cs = [
            component("a_b", "1.0.0", "pkg:cargo/a_b@1.0.0"),
            component("a-b", "1.0.0", "pkg:cargo/a-b@1.0.0"),
            component("a-b", "1.0.0-2", "pkg:cargo/a-b@1.0.0-2"),
            component("a-b", "1.0.0", "pkg:cargo/a-b@1.0.0#2"),
            component("plain", "0.1.0", "pkg:cargo/plain@0.1.0"),
        ];
        let all: Vec<(&Component, bool)> = cs.iter().map(|c| (c, false)).collect();
        let ids = spdx_ids(&all);
        let unique: BTreeSet<&String> = ids.values().collect();
        assert_eq!(unique.len(), cs.len(), "{ids:#?}");
        for id in ids.values() {
            assert!(
                id.strip_prefix("SPDXRef-").is_some_and(|r| r
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')),
                "{id}"
            );
        }
        // An id no other package shares is the plain one, as before.
        assert_eq!(ids["pkg:cargo/plain@0.1.0"], "SPDXRef-Package-plain-0.1.0");
        assert_eq!(ids["pkg:cargo/a-b@1.0.0-2"], "SPDXRef-Package-a-b-1.0.0-2");
        // The same packages in another order: the same ids.
        let reversed: Vec<(&Component, bool)> = cs.iter().rev().map(|c| (c, false)).collect();
        assert_eq!(spdx_ids(&reversed), ids);
    }

    #[test]
    fn a_suffix_never_takes_another_packages_id() {
        let first = component("x", "1.0.0", "r1");
        let second = component("x", "1.0.0", "r2");
        let hash = crate::digest::sha256_hex(b"r1");
        // A crafted version that is exactly what the first would be suffixed with.
        let crafted_version = format!("1.0.0-{}", &hash[..8]);
        let crafted = component("x", &crafted_version, "r3");
        let all = [(&first, false), (&second, false), (&crafted, false)];
        let ids = spdx_ids(&all);
        let unique: BTreeSet<&String> = ids.values().collect();
        assert_eq!(unique.len(), 3, "{ids:#?}");
        assert_eq!(ids["r3"], format!("SPDXRef-Package-x-{crafted_version}"));
    }

    #[test]
    fn license_refs_get_their_text_or_noassertion() {
        let mut found = component("f", "1", "rf");
        found.license = License::Expression("LicenseRef-C OR MIT".into());
        found.license_ref = RefText::Found {
            id: "LicenseRef-C".into(),
            text: "one".into(),
        };
        let mut other = component("g", "1", "rg");
        other.license = License::Expression("LicenseRef-C".into());
        other.license_ref = RefText::Found {
            id: "LicenseRef-C".into(),
            text: "two".into(),
        };
        let mut gone = component("h", "1", "rh");
        gone.license = License::Expression("LicenseRef-Gone".into());
        gone.license_ref = RefText::Missing("no file".into());
        let all = [(&found, false), (&other, false), (&gone, false)];
        let l = Licenses::of(&all);
        assert_eq!(l.declared.get("rh"), None);
        assert_eq!(l.missing["rh"], "no file");
        // One id, two texts: each text its own id, in the expression too.
        assert_eq!(l.extracted.len(), 2);
        let f = &l.declared["rf"];
        let g = &l.declared["rg"];
        let f_id = f.strip_suffix(" OR MIT").unwrap();
        assert!(f_id.starts_with("LicenseRef-C-"), "{f}");
        assert!(g.starts_with("LicenseRef-C-") && g != f_id, "{g}");
        assert_eq!(l.extracted[f_id].0, "one");
        assert_eq!(l.extracted[g].0, "two");
    }

    #[test]
    fn license_refs_are_replaced_as_whole_tokens() {
        assert_eq!(
            replace_ref(
                "(LicenseRef-A OR LicenseRef-AB) AND LicenseRef-A",
                "LicenseRef-A",
                "LicenseRef-Z"
            ),
            "(LicenseRef-Z OR LicenseRef-AB) AND LicenseRef-Z"
        );
        assert_eq!(replace_ref("MIT", "LicenseRef-A", "LicenseRef-Z"), "MIT");
    }

    #[test]
    fn urls_are_checked_as_spdx_tools_check_them() {
        for ok in [
            "https://crates.io/api/v1/crates/x/1.0.0/download",
            "https://github.com/o/my%20repo",
            "ssh://git@github.com/o/r",
            "https://docs.example.engineering/",
            "http://a-b.c.example.org:8080/x",
        ] {
            assert!(spdx_tools_url(ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1/x",
            "https://xn--bcher-kva.example/",
            "http://localhost:8080/",
            "javascript:alert(1)",
            "https://a--b.example/",
            "",
        ] {
            assert!(!spdx_tools_url(bad), "{bad}");
        }
    }

    #[test]
    fn suppliers_parse_as_spdx_actors() {
        let mut c = component("p", "1", "r");
        c.authors = vec![Author {
            name: "Carol (the dev)".into(),
            email: Some("carol@example.org".into()),
        }];
        assert_eq!(supplier(&c), "Person: Carol the dev (carol@example.org)");
        c.authors = vec![Author {
            name: "()".into(),
            email: Some("c@example.org".into()),
        }];
        assert_eq!(supplier(&c), "Person: c@example.org (c@example.org)");
        c.authors.clear();
        c.repository = Some("https://github.com/own(er)/r".into());
        assert_eq!(supplier(&c), "Organization: owner");
        c.repository = None;
        assert_eq!(supplier(&c), "NOASSERTION");
    }
}
