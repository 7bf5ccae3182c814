//! SARIF 2.1.0 for GitHub code scanning: one run, one rule per finding kind (advisory
//! ids are rules), results with a physical location and stable partial fingerprints.

use crate::report::AuditReport;
use crate::report::{Finding, Severity};
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::BTreeMap;

pub const INFORMATION_URI: &str = crate::docs::HOME;

fn rule_id(f: &Finding) -> String {
    match &f.id {
        Some(id) => id.clone(),
        None => format!("{}/{}", f.check, f.code),
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Identifies a result across runs even when its line moves. A workflow finding has
/// no package: its file and message (which names the action or context) tell two
/// apart.
fn fingerprint(f: &Finding) -> String {
    let mut key = format!(
        "{}|{}|{}|{}|{}",
        f.check,
        f.code,
        f.id.as_deref().unwrap_or(""),
        f.package.as_deref().unwrap_or(""),
        f.version.as_deref().unwrap_or("")
    );
    if f.check == crate::report::Check::Workflows {
        let file = f.location.as_ref().map_or("", |l| l.file.as_str());
        key.push_str(&format!("|{file}|{}", f.message));
    }
    crate::digest::hex(&sha2::Sha256::digest(key.as_bytes())[..16])
}

/// A rule is the same whichever of its findings comes first: advisory rules carry the
/// advisory's own title and solution, the others their code's fixed description.
fn rule(f: &Finding, level_: Severity) -> Value {
    let id = rule_id(f);
    let (short, full, help, uri) = match &f.id {
        Some(_) => (
            f.message.clone(),
            f.message.clone(),
            f.help.clone().unwrap_or_else(|| f.message.clone()),
            f.url.clone(),
        ),
        None => (
            format!("{} check: {}", f.check, f.code),
            f.code.description().to_string(),
            format!("{}. See {}", f.code.description(), f.code.help_url()),
            Some(f.code.help_url()),
        ),
    };
    let mut r = json!({
        "id": id,
        "name": id.replace(['/', '-'], "_"),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": { "text": help, "markdown": help },
        "defaultConfiguration": { "level": level(level_) },
        "properties": { "tags": ["security", f.check.as_str()] },
    });
    if let Some(u) = uri {
        r["helpUri"] = json!(u);
    }
    r
}

pub fn to_value(report: &AuditReport) -> Value {
    // A rule's default level is the worst its findings have before any ignore.
    let mut worst: BTreeMap<String, Severity> = BTreeMap::new();
    for f in &report.findings {
        let s = f
            .ignored
            .as_ref()
            .map_or(f.severity, |i| i.severity.max(f.severity));
        let w = worst.entry(rule_id(f)).or_insert(s);
        *w = (*w).max(s);
    }
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    for f in &report.findings {
        let id = rule_id(f);
        let w = worst[&id];
        rules.entry(id).or_insert_with(|| rule(f, w));
    }
    let index: BTreeMap<&String, usize> = rules.keys().enumerate().map(|(i, k)| (k, i)).collect();
    // Locations are URI references: a path with a space, `#`, `%`, non-ASCII or a
    // control character is percent-encoded, as SARIF (RFC 3986) requires.
    let root_url = url::Url::from_directory_path(&report.workspace_root).ok();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let id = rule_id(f);
            let mut text = match (&f.package, &f.version) {
                (Some(p), Some(v)) => format!("{p} {v}: {}", f.message),
                _ => f.message.clone(),
            };
            if let Some(r) = &f.reach {
                text.push_str(&format!(" (reached: {r})"));
            }
            if let Some(h) = &f.help {
                text.push_str(&format!(". Fix: {h}"));
            }
            let loc = f.location.clone().unwrap_or(crate::report::Location {
                file: "Cargo.toml".into(),
                line: Some(1),
                column: None,
            });
            let mut region = json!({ "startLine": loc.line.unwrap_or(1) });
            if let Some(c) = loc.column {
                region["startColumn"] = json!(c);
            }
            let mut result = json!({
                "ruleId": id,
                "ruleIndex": index[&id],
                "level": level(f.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact_location(&root_url, &loc.file),
                        "region": region
                    }
                }],
                "partialFingerprints": { "cargoSecureRelease/v1": fingerprint(f) },
            });
            if let Some(ig) = &f.ignored {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "justification": format!("{} ({}{})", ig.reason, ig.source, ig.until.as_ref().map(|u| format!(", until {u}")).unwrap_or_default()),
                }]);
            }
            result
        })
        .collect();
    let root = root_url
        .as_ref()
        .map(url::Url::to_string)
        .unwrap_or_else(|| format!("file://{}/", report.workspace_root.display()));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": env!("CARGO_PKG_NAME"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": rules.into_values().collect::<Vec<_>>(),
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root } },
            "results": results,
        }]
    })
}

/// A finding's file as SARIF's `artifactLocation`: relative to `%SRCROOT%` when it is
/// inside the workspace, else an absolute `file:` URI; percent-encoded either way.
fn artifact_location(root: &Option<url::Url>, file: &str) -> serde_json::Value {
    let path = std::path::Path::new(file);
    let absolute = match (root, path.is_absolute()) {
        (_, true) => url::Url::from_file_path(path).ok(),
        (Some(r), false) => r.join(&encode_path(file)).ok(),
        (None, false) => None,
    };
    match (root, absolute) {
        (Some(r), Some(a)) => match r.make_relative(&a).filter(|rel| !rel.starts_with("../")) {
            Some(rel) => json!({ "uri": rel, "uriBaseId": "%SRCROOT%" }),
            None => json!({ "uri": a.to_string() }),
        },
        (None, Some(a)) => json!({ "uri": a.to_string() }),
        (_, None) => json!({ "uri": encode_path(file), "uriBaseId": "%SRCROOT%" }),
    }
}

/// A relative path as a URI path: every byte outside RFC 3986's unreserved and
/// path characters percent-encoded.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
