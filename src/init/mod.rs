//! `cargo secure-release init`: SECURITY.md from templates, filled with facts read
//! from the project; optionally the deny.toml and release profile it promises.

pub mod facts;
pub mod render;
pub mod scorecard;

use crate::config::Config;
use crate::error::Failure;
use crate::options::InitOptions;
use crate::shell::Shell;
use crate::workspace::Workspace;
use anyhow::Result;
use std::path::PathBuf;

pub fn run(args: &InitOptions, shell: &Shell) -> Result<u8> {
    let ws = Workspace::load(&args.manifest)?;
    let (mut config, mut manifest) = Config::load(&ws.root_manifest())?;
    let mut code = 0;
    if args.deny {
        scaffold_deny(&ws, args, shell)?;
    }
    if args.harden {
        if let Some(src) = harden(&ws, &config, manifest.clone(), args, shell)? {
            config = Config::from_manifest(&src)?;
            manifest = src;
        }
    }
    let gathered = facts::gather(
        &ws,
        &config,
        manifest,
        &args.preset,
        args.contact.as_deref(),
        args.supported_lines,
    )?;
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
    let shown = ws.relative(&output);

    if args.check {
        if std::fs::symlink_metadata(&output).is_err() {
            shell.out(&format!(
                "{shown} does not exist: run `cargo secure-release init` to write it\n"
            ));
            return Ok(1);
        }
        let existing = crate::fsutil::read_text(&output, crate::fsutil::TEXT_LIMIT, "policy file")?;
        if existing != rendered {
            shell.out(&crate::profile::fix::diff(&existing, &rendered, &shown));
            shell.out(&format!("{shown} is out of date with the project: re-run `cargo secure-release init --force`\n"));
            code = 1;
        }
        let missing = scorecard::missing(&existing);
        if !missing.is_empty() {
            shell.out(&format!(
                "{shown} would not get full marks on OpenSSF Scorecard's Security-Policy check: {}\n",
                missing.join("; ")
            ));
            code = 1;
        }
        if code == 0 && !shell.quiet {
            shell.out(&format!("{shown} is up to date\n"));
        }
        return Ok(code);
    }
    if args.dry_run {
        shell.out(&rendered);
        return Ok(0);
    }
    if output.exists() && !args.force {
        return Err(Failure::new(format!("{shown} already exists; nothing was written"))
            .help("pass --force to replace it, --dry-run to see the new text, or --check to compare")
            .into());
    }
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::new(format!("could not create {}: {e}", dir.display())))?;
    }
    crate::fsutil::write_atomic(&output, &rendered)?;
    shell.status(&format!("wrote {shown}"));
    Ok(code)
}

/// deny.toml with advisories on, the licenses actually in the graph allowed, and
/// crates.io as the only source.
fn scaffold_deny(ws: &Workspace, args: &InitOptions, shell: &Shell) -> Result<()> {
    let path: PathBuf = ws.root.join("deny.toml");
    if path.exists() && !args.force && !args.dry_run {
        return Err(Failure::new(format!(
            "{} already exists; nothing was written",
            path.display()
        ))
        .help("pass --force to replace it")
        .into());
    }
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
    let text = format!(
        r#"# Written by `cargo secure-release init --deny`. Review it, then commit it.
# Reference: https://embarkstudios.github.io/cargo-deny/checks/cfg.html

[graph]
# Judge every feature, so nothing behind a feature flag escapes.
all-features = true

[advisories]
# RustSec advisories: vulnerabilities are errors; unmaintained and unsound
# crates are reported wherever they are in the graph.
unmaintained = "all"
unsound = "all"
yanked = "deny"
ignore = []

[licenses]
# The licenses found in the dependency graph when this file was written.
allow = [
{}
]
confidence-threshold = 0.93

[licenses.private]
# Unpublished workspace crates (publish = false) are not judged.
ignore = true

[bans]
multiple-versions = "warn"
wildcards = "deny"
# Path dependencies of unpublished crates (an xtask) have no version to pin.
allow-wildcard-paths = true

[sources]
unknown-registry = "deny"
unknown-git = "deny"
allow-registry = ["https://github.com/rust-lang/crates.io-index"]
"#,
        allow.join("\n")
    );
    if args.dry_run {
        shell.out(&text);
        return Ok(());
    }
    crate::fsutil::write_atomic(&path, &text)?;
    shell.status(&format!("wrote {}", ws.relative(&path)));
    Ok(())
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

/// The licenses an allow-list needs for one SPDX expression: every term of an `AND`,
/// one alternative of an `OR` (a permissive one when there is a choice), and
/// `ID WITH EXCEPTION` kept whole, as cargo-deny matches it.
pub fn license_ids(expr: &str) -> Vec<String> {
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let mut out = parse_or(&tokens, &mut pos);
    out.dedup();
    out
}

fn parse_or(t: &[&str], pos: &mut usize) -> Vec<String> {
    let mut alternatives = vec![parse_and(t, pos)];
    while t.get(*pos) == Some(&"OR") {
        *pos += 1;
        alternatives.push(parse_and(t, pos));
    }
    alternatives.retain(|a| !a.is_empty());
    if alternatives.is_empty() {
        return Vec::new();
    }
    let permissive = |alt: &Vec<String>| alt.iter().all(|l| PERMISSIVE.contains(&l.as_str()));
    let idx = alternatives.iter().position(permissive).unwrap_or(0);
    alternatives.swap_remove(idx)
}

fn parse_and(t: &[&str], pos: &mut usize) -> Vec<String> {
    let mut all = parse_factor(t, pos);
    while t.get(*pos) == Some(&"AND") {
        *pos += 1;
        all.extend(parse_factor(t, pos));
    }
    all
}

fn parse_factor(t: &[&str], pos: &mut usize) -> Vec<String> {
    match t.get(*pos) {
        Some(&"(") => {
            *pos += 1;
            let inner = parse_or(t, pos);
            if t.get(*pos) == Some(&")") {
                *pos += 1;
            }
            inner
        }
        // A stray operator or parenthesis names no license.
        Some(&("OR" | "AND" | "WITH" | ")")) => {
            *pos += 1;
            Vec::new()
        }
        Some(id) => {
            *pos += 1;
            let id = id.trim_end_matches('+').to_string();
            if id.is_empty() {
                return Vec::new();
            }
            if t.get(*pos) == Some(&"WITH") {
                if let Some(exc) = t.get(*pos + 1) {
                    *pos += 2;
                    return vec![format!("{id} WITH {exc}")];
                }
            }
            vec![id]
        }
        None => Vec::new(),
    }
}

/// Applies the audit's profile fixer for the released profile. Without --force only
/// keys nothing sets are added; values the project chose are left alone. Returns the
/// manifest as written, when it changed.
fn harden(
    ws: &Workspace,
    config: &Config,
    manifest: crate::profile::effective::Source,
    args: &InitOptions,
    shell: &Shell,
) -> Result<Option<crate::profile::effective::Source>> {
    use crate::profile::{self, effective::Origin};
    let root_manifest = ws.root_manifest();
    let name = config.released_profile();
    let sources = crate::audit::gather_profile_sources(manifest)?;
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
    let mut written = None;
    if args.dry_run {
        shell.out(&profile::fix::diff(old, &new, "Cargo.toml"));
    } else if new != *old {
        crate::fsutil::write_atomic(&root_manifest, &new)?;
        let keys: Vec<_> = changes.iter().map(|(k, _)| k.name()).collect();
        shell.status(&format!(
            "hardened [profile.{name}] in Cargo.toml: {}",
            keys.join(", ")
        ));
        written = Some(crate::profile::effective::Source::parse(
            &root_manifest,
            new,
            true,
        )?);
    }
    if !kept.is_empty() {
        shell.status(&format!(
            "left as the project set them (pass --force to replace values in Cargo.toml): {}",
            kept.join(", ")
        ));
    }
    Ok(written)
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
