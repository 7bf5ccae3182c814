//! `cargo secure-release init`: SECURITY.md from templates, filled with facts read
//! from the project; optionally the deny.toml and release profile it promises.

pub mod facts;
pub mod render;
pub mod scorecard;

use crate::config::Config;
use crate::error::Failure;
use crate::options::InitOptions;
use crate::profile::effective::Source;
use crate::report::init::{self, InitReport};
use crate::workspace::Workspace;
use anyhow::Result;
use std::path::PathBuf;

pub fn run(args: &InitOptions) -> Result<InitReport> {
    // init writes its own files or none (a dry run, a check or a refusal: none), so
    // it never makes a Cargo.lock either.
    let manifest = crate::options::ManifestOptions {
        locked: true,
        ..args.manifest.clone()
    };
    let ws = Workspace::load(&manifest)?;
    let root_manifest = ws.root_manifest();
    let (config, manifest) = Config::load(&root_manifest)?;
    if args.check {
        return check(&ws, &config, manifest, args);
    }
    // Every file is worked out before any is written: a refusal or an error anywhere
    // writes nothing, and the writes themselves land together or not at all.
    let mut changes: Vec<Change> = Vec::new();
    let deny_path = ws.root.join("deny.toml");
    if args.deny {
        refuse_overwrite(&ws, &deny_path, args)?;
        changes.push(Change {
            path: deny_path.clone(),
            old: None,
            new: deny_toml(&ws),
            said: format!("wrote {}", ws.relative(&deny_path)),
        });
    }
    let mut manifest_text = manifest.text.clone();
    let mut said = Vec::new();
    let mut kept = Vec::new();
    if args.harden {
        let (text, keys, left) = harden(&ws, &config, manifest.clone(), args)?;
        if !keys.is_empty() {
            said.push(format!(
                "hardened [profile.{}]: {}",
                config.released_profile(),
                keys.join(", ")
            ));
        }
        manifest_text = text;
        kept = left;
    }
    if let Some(contact) = &args.contact {
        facts::check_contact(contact)?;
        let table = Config::table_for(&manifest);
        if let Some(text) =
            record_contact(&manifest_text, &root_manifest, table, contact, args.force)?
        {
            said.push(format!("recorded contact in [{table}.policy]"));
            manifest_text = text;
        }
    }
    let (config, manifest) = if manifest_text != manifest.text {
        let src = Source::parse(&root_manifest, manifest_text.clone(), true)?;
        let cfg = Config::from_manifest(&src)?;
        changes.push(Change {
            path: root_manifest.clone(),
            old: Some(manifest.text.clone()),
            new: manifest_text,
            said: format!("{}: {}", ws.relative(&root_manifest), said.join("; ")),
        });
        (cfg, src)
    } else {
        (config, manifest)
    };
    let (rendered, output) = render_policy(
        &ws,
        &config,
        manifest,
        args,
        args.deny.then_some(deny_path.as_path()),
    )?;
    let shown = ws.relative(&output);
    refuse_overwrite(&ws, &output, args)?;
    changes.push(Change {
        path: output,
        old: None,
        new: rendered,
        said: format!("wrote {shown}"),
    });
    let mut report = InitReport {
        dry_run: args.dry_run,
        ..Default::default()
    };
    if !args.dry_run {
        let files: Vec<(PathBuf, String)> = changes
            .iter()
            .map(|c| (c.path.clone(), c.new.clone()))
            .collect();
        crate::fsutil::write_all_or_none(&files)?;
    }
    for c in changes {
        let path = ws.relative(&c.path);
        report.files.push(init::InitFile {
            preview: match &c.old {
                Some(old) => crate::profile::fix::diff(old, &c.new, &path),
                None => c.new,
            },
            path,
            said: c.said,
        });
    }
    if args.deny {
        for name in unlicensed_publishable(&ws) {
            report.notes.push(format!(
                "note: `{}` has no `license` and may be published: the audit reports it until its Cargo.toml sets `license` (or `publish = false`, which [licenses.private] leaves unjudged)",
                crate::error::escape(&name)
            ));
        }
    }
    if !kept.is_empty() {
        report.notes.push(format!(
            "left as the project set them (pass --force to replace values in Cargo.toml): {}",
            kept.join(", ")
        ));
    }
    Ok(report)
}

/// One file `init` writes: its new text, and the old one where a diff shows the change.
struct Change {
    path: PathBuf,
    old: Option<String>,
    new: String,
    /// The status line once written.
    said: String,
}

/// SECURITY.md's text from the templates and the project's facts, and where it goes.
fn render_policy(
    ws: &Workspace,
    config: &Config,
    manifest: Source,
    args: &InitOptions,
    planned_deny: Option<&std::path::Path>,
) -> Result<(String, PathBuf)> {
    let flags = facts::Flags {
        preset: &args.preset,
        contact: args.contact.as_deref(),
        supported_lines: args.supported_lines,
        planned_deny,
    };
    let gathered = facts::gather(ws, config, manifest, &flags)?;
    let custom = match &args.template {
        Some(p) => Some((
            p.as_path(),
            crate::fsutil::read_text(p, crate::fsutil::TEXT_LIMIT, "template").map_err(|e| {
                Failure::new(format!("{e}"))
                    .help("pass --template with a readable minijinja template file")
            })?,
        )),
        None => None,
    };
    let rendered = render::render(&args.preset, custom, &gathered.context)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| ws.root.join("SECURITY.md"));
    Ok((rendered, output))
}

/// `init --check`: SECURITY.md as it is against what `init` would write now.
fn check(
    ws: &Workspace,
    config: &Config,
    manifest: Source,
    args: &InitOptions,
) -> Result<InitReport> {
    let (rendered, output) = render_policy(ws, config, manifest, args, None)?;
    let shown = ws.relative(&output);
    let mut check = init::PolicyCheck {
        path: shown.clone(),
        exists: std::fs::symlink_metadata(&output).is_ok(),
        diff: None,
        scorecard_missing: Vec::new(),
    };
    if check.exists {
        let existing = crate::fsutil::read_text(&output, crate::fsutil::TEXT_LIMIT, "policy file")?;
        if existing != rendered {
            check.diff = Some(crate::profile::fix::diff(&existing, &rendered, &shown));
        }
        check.scorecard_missing = scorecard::missing(&existing)
            .into_iter()
            .map(str::to_string)
            .collect();
    }
    Ok(InitReport {
        check: Some(check),
        ..Default::default()
    })
}

/// An existing file is replaced only with --force (--dry-run only shows it).
fn refuse_overwrite(ws: &Workspace, path: &std::path::Path, args: &InitOptions) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() && !args.force && !args.dry_run {
        return Err(Failure::new(format!(
            "{} already exists; nothing was written",
            crate::error::escape(&ws.relative(path))
        ))
        .help("pass --force to replace it, --dry-run to see the new text, or --check to compare")
        .into());
    }
    Ok(())
}

/// The manifest with `contact` set in the settings' policy table (`table` names the
/// package's or the workspace's), edited with toml_edit so comments, order, line
/// endings and a BOM stay; None when it already says so. Another contact there is
/// replaced only with --force.
fn record_contact(
    text: &str,
    path: &std::path::Path,
    table: &str,
    contact: &str,
    force: bool,
) -> Result<Option<String>> {
    let keys: Vec<&str> = table.split('.').chain(["policy"]).collect();
    let mut existing = None;
    let new = crate::profile::fix::edit_preserving(text, &path.display().to_string(), |doc| {
        let creating = keys
            .iter()
            .try_fold(doc.as_item(), |item, key| item.get(key))
            .is_none();
        let prefix = match creating {
            true => crate::profile::fix::take_trailing(doc),
            false => None,
        };
        let mut item = doc.as_item_mut();
        for (i, key) in keys.iter().enumerate() {
            let t = item
                .as_table_like_mut()
                .ok_or_else(|| not_a_table(path, key))?;
            if t.get(key).is_none() {
                // Only the policy table gets a header; the ones above it stay implicit.
                let mut new = toml_edit::Table::new();
                if i + 1 < keys.len() {
                    new.set_implicit(true);
                } else if let Some(p) = &prefix {
                    new.decor_mut().set_prefix(p.as_str());
                }
                t.insert(key, toml_edit::Item::Table(new));
            }
            item = t.get_mut(key).expect("inserted above");
        }
        let policy = item
            .as_table_like_mut()
            .ok_or_else(|| not_a_table(path, "policy"))?;
        existing = policy
            .get("contact")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        if existing.as_deref() != Some(contact) {
            policy.insert("contact", toml_edit::value(contact));
        }
        Ok(())
    })?;
    match existing {
        Some(e) if e == contact => Ok(None),
        Some(e) if !force => Err(Failure::new(format!(
            "{} already sets contact = \"{}\" in [{table}.policy]; nothing was written",
            crate::error::escape(&path.display().to_string()),
            crate::error::escape(&e)
        ))
        .help("pass --force to replace it with --contact's address, or drop --contact")
        .into()),
        _ => Ok(Some(new)),
    }
}

fn not_a_table(path: &std::path::Path, key: &str) -> anyhow::Error {
    Failure::new(format!(
        "{}: `{key}` is not a table, so the contact cannot be recorded under it",
        crate::error::escape(&path.display().to_string())
    ))
    .help("make it a table, or set `contact` there by hand")
    .into()
}

/// Members cargo-deny will judge on licenses and find none for: no deny.toml can
/// make that pass honestly, only the crate's own manifest.
fn unlicensed_publishable(ws: &Workspace) -> Vec<String> {
    ws.metadata
        .workspace_packages()
        .into_iter()
        .filter(|p| !p.publish.as_ref().is_some_and(|r| r.is_empty()))
        .filter(|p| p.license.is_none() && p.license_file.is_none())
        .map(|p| p.name.to_string())
        .collect()
}

/// deny.toml with advisories on, the licenses actually in the graph allowed, and
/// crates.io as the only source.
fn deny_toml(ws: &Workspace) -> String {
    let mut licenses = std::collections::BTreeSet::new();
    for p in &ws.metadata.packages {
        if p.publish.as_ref().is_some_and(|r| r.is_empty())
            && ws.metadata.workspace_members.contains(&p.id)
        {
            continue;
        }
        if let Some(expr) = &p.license {
            licenses.extend(license_ids(expr));
        }
    }
    let allow: Vec<String> = licenses.iter().map(|l| format!("    \"{l}\",")).collect();
    // The scaffold lives beside the SECURITY.md templates; `{{ allow }}` is its one hole.
    include_str!("../../templates/deny.toml").replace("{{ allow }}", &allow.join("\n"))
}

/// Licenses commonly allowed without review; preferred when an expression offers a choice.
const PERMISSIVE: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "CC0-1.0",
    "BSL-1.0",
    "0BSD",
    "MIT-0",
];

/// The licenses an allow-list needs for one SPDX expression (parsed by the `spdx`
/// crate, cargo-deny's own parser, in its lax mode: `MIT/Apache-2.0` too): every
/// term of an `AND`, one alternative of an `OR` (a permissive one when there is a
/// choice), and `ID WITH EXCEPTION` kept whole, as cargo-deny matches it. An
/// expression that does not parse offers the license ids it names, so the
/// scaffold still lists them; cargo-deny then reports the expression itself.
pub fn license_ids(expr: &str) -> Vec<String> {
    use spdx::expression::{ExprNode, Operator};
    let Ok(parsed) = spdx::Expression::parse_mode(expr, spdx::ParseMode::LAX) else {
        let spaced = expr.replace(['(', ')', '/'], " ");
        let mut ids: Vec<String> = spaced
            .split_whitespace()
            .filter_map(|t| spdx::license_id(t.trim_end_matches('+')))
            .map(|id| id.name.to_string())
            .collect();
        ids.dedup();
        return ids;
    };
    let permissive = |alt: &Vec<String>| alt.iter().all(|l| PERMISSIVE.contains(&l.as_str()));
    // The expression is postfix: each operator combines the two sets below it.
    let mut stack: Vec<Vec<String>> = Vec::new();
    for node in parsed.iter() {
        match node {
            ExprNode::Req(req) => {
                // `GPL-2.0+` is allowed as GPL-2.0, as cargo-deny's allow-list reads it.
                let id = match &req.req.license {
                    spdx::LicenseItem::Spdx { id, .. } => id.name.to_string(),
                    other => other.to_string(),
                };
                stack.push(match &req.req.addition {
                    Some(exception) => vec![format!("{id} WITH {exception}")],
                    None => vec![id],
                });
            }
            ExprNode::Op(op) => {
                let (Some(right), Some(left)) = (stack.pop(), stack.pop()) else {
                    return Vec::new();
                };
                stack.push(match op {
                    Operator::And => [left, right].concat(),
                    // The first permissive alternative, else the first.
                    Operator::Or if !permissive(&left) && permissive(&right) => right,
                    Operator::Or => left,
                });
            }
        }
    }
    let mut out = stack.pop().unwrap_or_default();
    out.dedup();
    out
}

/// The audit's profile fixer for the released profile. Without --force only keys
/// nothing sets are added; values the project chose are left alone. Returns the
/// manifest's text with the change, the keys set and those left as they were.
fn harden(
    ws: &Workspace,
    config: &Config,
    manifest: Source,
    args: &InitOptions,
) -> Result<(String, Vec<String>, Vec<String>)> {
    use crate::profile::{self, effective::Origin};
    let root_manifest = ws.root_manifest();
    let name = config.released_profile();
    let sources = crate::profile::gather_sources(manifest)?;
    let eff = sources.resolve(&name)?;
    let mut changes = Vec::new();
    let mut kept = Vec::new();
    for (key, want) in profile::REQUIRED {
        let r = &eff.values[&key];
        if r.value.as_ref() == Ok(&want) {
            continue;
        }
        match &r.origin {
            Origin::Default { .. } => changes.push((key, want)),
            Origin::Manifest { .. } if args.force => changes.push((key, want)),
            other => kept.push(format!("`{}` (set by {other})", key.name())),
        }
    }
    let old = &sources.manifest.text;
    let new = profile::fix::apply(old, &root_manifest.display().to_string(), &name, &changes)?;
    let keys = changes
        .iter()
        .map(|(k, v)| format!("{} = {}", k.name(), v))
        .collect();
    Ok((new, keys, kept))
}

#[cfg(test)]
mod tests {
    #[test]
    fn license_ids_from_expressions() {
        assert_eq!(super::license_ids("MIT OR Apache-2.0"), ["MIT"]);
        assert_eq!(super::license_ids("GPL-3.0-only OR MIT"), ["MIT"]);
        assert_eq!(
            super::license_ids("LGPL-2.0-or-later OR GPL-2.0-only"),
            ["LGPL-2.0-or-later"]
        );
        assert_eq!(
            super::license_ids("(MIT OR Apache-2.0) AND Unicode-3.0"),
            ["MIT", "Unicode-3.0"]
        );
        assert_eq!(
            super::license_ids("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT"),
            ["Apache-2.0"]
        );
        assert_eq!(
            super::license_ids("Apache-2.0 WITH LLVM-exception"),
            ["Apache-2.0 WITH LLVM-exception"]
        );
        assert_eq!(super::license_ids("MIT/Apache-2.0"), ["MIT"]);
        assert!(super::license_ids("+(").is_empty());
        assert_eq!(super::license_ids(") OR MIT AND"), ["MIT"]);
    }
}
