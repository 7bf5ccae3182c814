//! The workflow engine: a repository's GitHub Actions workflows and action metadata,
//! parsed with positions (`yaml`), judged by the rules (`rules`, with the shell
//! words of `script`), and fixed where the fix is certain (`fix`). Pure but for
//! the bounded reads through `fsutil`; the audit's `gate` turns hits into findings.

mod commands;
pub mod fix;
mod permissions;
pub mod rule;
pub mod rules;
pub mod script;
pub mod yaml;

use crate::error::{escape, Failure};
use anyhow::Result;
use rules::{FileKind, Hit};
use std::path::{Path, PathBuf};

/// A workflow is text a person writes: 1 MiB is ~30,000 lines.
pub const FILE_LIMIT: u64 = 1 << 20;
/// More files than any repository has; a directory of generated ones is refused.
pub const MAX_FILES: usize = 1000;

/// One file to check, as read.
pub struct Source {
    pub path: PathBuf,
    /// The name findings show: relative to the directory checked.
    pub name: String,
    pub text: String,
    pub kind: FileKind,
}

/// The files of `root`: `.github/workflows/*.yml|yaml` and `action.yml|yaml`. A
/// directory without them has none (no error: most projects have no action).
pub fn files_of(root: &Path) -> Result<Vec<(PathBuf, String, FileKind)>> {
    let mut out = Vec::new();
    for name in ["action.yml", "action.yaml"] {
        let p = root.join(name);
        if p.is_file() {
            out.push((p, name.to_string(), FileKind::Action));
        }
    }
    let dir = root.join(".github").join("workflows");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    let mut found = Vec::new();
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        if !(n.ends_with(".yml") || n.ends_with(".yaml")) {
            continue;
        }
        found.push((
            e.path(),
            format!(".github/workflows/{n}"),
            FileKind::Workflow,
        ));
        if found.len() > MAX_FILES {
            return Err(Failure::new(format!(
                "{} has more than {MAX_FILES} workflow files",
                escape(&dir.display().to_string())
            ))
            .help("pass --workflows DIR for the directory that holds the real ones, or --no-workflows")
            .into());
        }
    }
    found.sort();
    out.extend(found);
    Ok(out)
}

/// Reads the files (bounded, UTF-8).
pub fn read(files: Vec<(PathBuf, String, FileKind)>) -> Result<Vec<Source>> {
    files
        .into_iter()
        .map(|(path, name, kind)| {
            let text = crate::fsutil::read_text(&path, FILE_LIMIT, "workflow file")?;
            Ok(Source {
                path,
                name,
                text,
                kind,
            })
        })
        .collect()
}

/// The hits of one file; a file that is not YAML we read is an error naming it.
pub fn check(src: &Source) -> Result<Vec<Hit>> {
    // Positions count from the first character after a BOM; edits are made on the
    // file as saved, BOM included.
    let text = src.text.strip_prefix('\u{feff}').unwrap_or(&src.text);
    let shift = src.text.len() - text.len();
    let mut hits = check_text(text, &src.name, src.kind)?;
    for e in hits.iter_mut().filter_map(|h| h.edit.as_mut()) {
        e.offset += shift;
    }
    Ok(hits)
}

/// Every file's hits, where a release workflow's gates count in the local reusable
/// workflows it calls as well as in itself (a release split into files runs them
/// in one of them).
pub fn check_all(sources: &[Source]) -> Result<Vec<Vec<Hit>>> {
    use rule::Rule;
    let mut out = sources.iter().map(check).collect::<Result<Vec<_>>>()?;
    let parsed = |s: &Source| {
        yaml::parse(s.text.strip_prefix('\u{feff}').unwrap_or(&s.text))
            .ok()
            .flatten()
    };
    for (src, hits) in sources.iter().zip(out.iter_mut()) {
        let gate = |r: Rule| {
            matches!(
                r,
                Rule::ReleaseNoAudit | Rule::ReleaseNoVerify | Rule::ReleaseNoAttest
            )
        };
        if !hits.iter().any(|h| gate(h.rule)) {
            continue;
        }
        let Some(root) = parsed(src) else { continue };
        let mut seen = rules::Seen::default();
        for call in rules::local_calls(&root) {
            let callee = sources
                .iter()
                .find(|s| s.kind == FileKind::Workflow && s.path.ends_with(call));
            if let Some(c) = callee.and_then(|c| Some((c, parsed(c)?))) {
                let g =
                    rules::gates_seen(c.0.text.strip_prefix('\u{feff}').unwrap_or(&c.0.text), &c.1);
                seen.audit |= g.audit;
                seen.verify |= g.verify;
                seen.attest |= g.attest;
            }
        }
        hits.retain(|h| match h.rule {
            Rule::ReleaseNoAudit => !seen.audit,
            Rule::ReleaseNoVerify => !seen.verify,
            Rule::ReleaseNoAttest => !seen.attest,
            _ => true,
        });
    }
    Ok(out)
}

pub fn check_text(text: &str, name: &str, kind: FileKind) -> Result<Vec<Hit>> {
    let root = yaml::parse(text).map_err(|e| {
        Failure::new(format!(
            "{}:{}:{}: not a workflow we can read: {}",
            escape(name),
            e.line,
            e.col,
            escape(&e.message)
        ))
        .help("fix the YAML there (GitHub refuses it too), or skip the workflow check with --no-workflows")
    })?;
    let Some(root) = root else {
        return Ok(Vec::new());
    };
    if !root.is_map() {
        return Err(Failure::new(format!(
            "{}:{}:{}: not a workflow: the document is not a mapping",
            escape(name),
            root.start.line,
            root.start.col
        ))
        .help("a workflow starts with keys like `on:` and `jobs:`")
        .into());
    }
    Ok(rules::check(text, &root, kind))
}

/// Whether a workflow's text is run by a release (a tag push or a release event);
/// false for text that does not parse.
pub fn is_release_text(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    matches!(yaml::parse(text), Ok(Some(root)) if rules::is_release(root.get("on")))
}

/// The nearest directory at or above `dir` that is a repository's top (holds
/// `.git`), else `dir` itself.
pub fn repository_root(dir: &Path) -> PathBuf {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if std::fs::symlink_metadata(d.join(".git")).is_ok() {
            return d.to_path_buf();
        }
        cur = d.parent();
    }
    dir.to_path_buf()
}
