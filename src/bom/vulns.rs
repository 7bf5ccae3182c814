//! `--with-vulnerabilities` and `--format openvex`: the advisories that affect the
//! SBOM's components (the audit's own matcher, over the exact build), and each
//! ignore of the project as a VEX statement: an ignore in force says `not_affected`
//! with its reason; an expired one says the advisory is back in triage.

use super::{Bom, Component, SbomOptions};
use crate::config::Config;
use crate::deps::{advisory_db, deny};
use crate::report::Check;
use crate::workspace::Workspace;
use anyhow::Result;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Vuln {
    pub id: String,
    pub title: String,
    pub url: String,
    pub aliases: Vec<String>,
    /// YYYY-MM-DD.
    pub published: String,
    /// The CVSS vector with its score and severity, when the advisory has one.
    pub cvss: Option<(String, f64, &'static str)>,
    /// bom-refs and purls of the affected components.
    pub affects: Vec<(String, String)>,
    pub analysis: Option<Analysis>,
    /// What to do about it (the patched versions), from the advisory.
    pub remedy: String,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    /// CycloneDX's `not_affected` or `in_triage`.
    pub state: &'static str,
    pub detail: String,
    pub until: Option<String>,
    /// Where the ignore is declared (`Cargo.toml:12`, `deny.toml`).
    pub source: String,
}

/// The advisories for every component of `bom`, sorted by id, and what to tell the
/// user about the database they came from (the embedded snapshot stood in).
pub fn find(ws: &Workspace, bom: &Bom, opts: &SbomOptions) -> Result<(Vec<Vuln>, Vec<String>)> {
    let mut files = cargo_deny::diag::Files::new();
    let deny_cfg = deny::load_config(deny::find_config(&ws.manifest_path).as_deref(), &mut files)?;
    let db = match &opts.advisory_db {
        Some(dir) => advisory_db::open_dir(dir)?,
        None => advisory_db::load_configured(
            &advisory_db::DbSpec::from_config(&deny_cfg.advisories),
            opts.manifest.offline(),
        )?,
    };
    let (config, _) = Config::load(&ws.root_manifest())?;
    let mut ignores = crate::ignores::from_config(&config.ignore);
    ignores.extend(crate::ignores::from_cargo_audit(&ws.root)?);
    let today = crate::report::today()?;

    let mut by_id: BTreeMap<String, Vuln> = BTreeMap::new();
    for c in bom
        .roots
        .iter()
        .chain(&bom.components)
        .filter(|c| c.crates_io)
    {
        for f in deny::advisory_findings(
            Check::Advisories,
            &c.name,
            &c.version,
            &db.set,
            &deny_cfg.ignored,
        ) {
            let Some(id) = f.id.clone() else { continue };
            let entry = by_id.entry(id.clone()).or_insert_with(|| {
                let md = metadata(&db.set, &id);
                Vuln {
                    title: f.message.clone(),
                    url: f.url.clone().unwrap_or_default(),
                    aliases: md.as_ref().map(|m| m.0.clone()).unwrap_or_default(),
                    published: md.as_ref().map(|m| m.1.clone()).unwrap_or_default(),
                    cvss: md.and_then(|m| m.2),
                    analysis: analysis(&id, &ignores, &deny_cfg.ignored, today),
                    remedy: f.help.clone().unwrap_or_default(),
                    id,
                    affects: Vec::new(),
                }
            });
            entry.affects.push((c.bom_ref.clone(), c.purl.clone()));
        }
    }
    Ok((by_id.into_values().collect(), db.notes))
}

/// Aliases, date and CVSS of advisory `id`.
#[allow(clippy::type_complexity)]
fn metadata(
    dbs: &cargo_deny::advisories::DbSet,
    id: &str,
) -> Option<(Vec<String>, String, Option<(String, f64, &'static str)>)> {
    for db in dbs.iter() {
        for entry in db.db.advisories.values() {
            let md = &entry.advisory.advisory;
            if md.id != id {
                continue;
            }
            let cvss = md.cvss.and_then(|v| {
                let parsed: cvss::Cvss = v.parse().ok()?;
                Some((v.to_string(), parsed.score(), parsed.severity().as_str()))
            });
            return Some((
                md.aliases.iter().map(|a| a.to_string()).collect(),
                md.date.to_string(),
                cvss,
            ));
        }
    }
    None
}

/// The project's decision about `id`, if it made one.
fn analysis(
    id: &str,
    ignores: &[crate::ignores::Ignore],
    deny_ignored: &[(String, String)],
    today: jiff::civil::Date,
) -> Option<Analysis> {
    if let Some(ig) = ignores.iter().find(|i| i.id == id) {
        let source = match ig.line {
            Some(l) => format!("{}:{l}", ig.source),
            None => ig.source.clone(),
        };
        let until = ig.until.map(|d| d.to_string());
        return Some(match ig.until {
            Some(d) if d < today => Analysis {
                state: "in_triage",
                detail: format!("the ignore expired on {d}; it said: {}", ig.reason),
                until,
                source,
            },
            _ => Analysis {
                state: "not_affected",
                detail: ig.reason.clone(),
                until,
                source,
            },
        });
    }
    deny_ignored
        .iter()
        .find(|(i, _)| i == id)
        .map(|(_, reason)| Analysis {
            state: "not_affected",
            detail: reason.clone(),
            until: None,
            source: "deny.toml".into(),
        })
}

/// CycloneDX `vulnerabilities` (1.5 and later share this shape).
pub fn cyclonedx(vulns: &[Vuln]) -> Value {
    Value::Array(
        vulns
            .iter()
            .map(|v| {
                // The advisory's URL comes from a database directory the user names:
                // written, like every URL, only as a `document_url`.
                let source = match super::document_url(&v.url) {
                    Some(u) => json!({ "name": "RustSec", "url": u }),
                    None => json!({ "name": "RustSec" }),
                };
                let mut o = json!({
                    "bom-ref": format!("vulnerability:{}", v.id),
                    "id": v.id,
                    "source": source.clone(),
                    "description": v.title,
                    "affects": v.affects.iter().map(|(r, _)| json!({ "ref": r })).collect::<Vec<_>>(),
                });
                if !v.published.is_empty() {
                    o["published"] = json!(format!("{}T00:00:00Z", v.published));
                }
                if !v.aliases.is_empty() {
                    o["references"] = Value::Array(
                        v.aliases
                            .iter()
                            .map(|a| json!({ "id": a, "source": alias_source(a) }))
                            .collect(),
                    );
                }
                if let Some((vector, score, severity)) = &v.cvss {
                    let method = if vector.starts_with("CVSS:4") {
                        "CVSSv4"
                    } else if vector.starts_with("CVSS:3.1") {
                        "CVSSv31"
                    } else {
                        "CVSSv3"
                    };
                    o["ratings"] = json!([{
                        "source": source,
                        "score": score,
                        "severity": severity,
                        "method": method,
                        "vector": vector,
                    }]);
                }
                if let Some(a) = &v.analysis {
                    o["analysis"] = json!({ "state": a.state, "detail": a.detail });
                    let mut props = vec![json!({ "name": "cargo-secure-release:ignore-source", "value": a.source })];
                    if let Some(u) = &a.until {
                        props.push(json!({ "name": "cargo-secure-release:ignore-until", "value": u }));
                    }
                    o["properties"] = Value::Array(props);
                }
                o
            })
            .collect(),
    )
}

fn alias_source(alias: &str) -> Value {
    if alias.starts_with("CVE-") {
        json!({ "name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{alias}") })
    } else if alias.starts_with("GHSA-") {
        json!({ "name": "GitHub", "url": format!("https://github.com/advisories/{alias}") })
    } else {
        json!({ "name": "OSV", "url": format!("https://osv.dev/vulnerability/{alias}") })
    }
}

/// An OpenVEX 0.2 document: a statement per advisory affecting the build, about
/// the released package(s) and the affected crates as subcomponents.
pub fn openvex(bom: &Bom, vulns: &[Vuln]) -> Result<String> {
    if vulns.is_empty() {
        return Err(crate::error::Failure::new(
            "no advisory affects the packages of this build: an OpenVEX document needs at least one statement",
        )
        .help("nothing to declare; write a CycloneDX SBOM with --with-vulnerabilities to record that")
        .into());
    }
    let products: Vec<&Component> = bom.roots.iter().collect();
    let author = products
        .first()
        .map(|r| match r.authors.first() {
            Some(a) => a.to_string(),
            None => format!("the maintainers of {}", r.name),
        })
        .unwrap_or_else(|| "unknown".into());
    let statements: Vec<Value> = vulns
        .iter()
        .map(|v| {
            let subcomponents: Vec<Value> =
                v.affects.iter().map(|(_, purl)| json!({ "@id": purl })).collect();
            let mut s = json!({
                "vulnerability": { "@id": v.url, "name": v.id, "description": v.title },
                "products": products.iter().map(|p| json!({ "@id": p.purl, "subcomponents": subcomponents })).collect::<Vec<_>>(),
            });
            if !v.aliases.is_empty() {
                s["vulnerability"]["aliases"] = json!(v.aliases);
            }
            match &v.analysis {
                Some(a) if a.state == "not_affected" => {
                    s["status"] = json!("not_affected");
                    s["impact_statement"] = json!(a.detail);
                }
                Some(a) => {
                    s["status"] = json!("under_investigation");
                    s["status_notes"] = json!(a.detail);
                }
                None => {
                    s["status"] = json!("affected");
                    s["action_statement"] = json!(v.remedy);
                }
            }
            s
        })
        .collect();
    let mut doc = json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "author": author,
        "timestamp": bom.timestamp,
        "version": 1,
        "tooling": format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        "statements": statements,
    });
    let content = serde_json::to_string(&doc).unwrap_or_default();
    doc["@id"] = json!(format!("urn:uuid:{}", super::content_uuid(&content)));
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    Ok(text)
}
