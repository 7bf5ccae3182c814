//! deny.toml: found like cargo-deny finds it, deserialized and validated with
//! cargo-deny's own types; its diagnostics keep cargo-deny's labels.

use crate::error::{escape, Failure};
use crate::profile::effective::line_of;
use anyhow::Result;
use cargo_deny::diag::{self, Files};
use cargo_deny::{advisories, bans, licenses, sources};
use std::path::{Path, PathBuf};

pub struct DenyConfig {
    /// The deny.toml in use, if the project has one.
    pub path: Option<PathBuf>,
    pub advisories: advisories::cfg::ValidConfig,
    pub bans: bans::cfg::ValidConfig,
    pub licenses: licenses::cfg::ValidConfig,
    pub sources: sources::cfg::ValidConfig,
    pub graph: cargo_deny::root_cfg::GraphConfig,
    /// deny.toml's `[advisories] ignore` as (id, reason) (cargo-deny keeps its own copy private).
    pub ignored: Vec<(String, String)>,
    /// cargo-deny's warnings about the config (deprecated keys…), rendered with labels.
    pub warnings: Option<String>,
    /// The text that was read and judged (empty without a deny.toml): what the findings
    /// cache keys on, so the file is read once and the key matches what was checked.
    pub text: String,
}

/// Finds deny.toml the way cargo-deny does: `deny.toml`, `.deny.toml`, then
/// `.cargo/deny.toml` in the manifest's directory and each parent.
pub fn find_config(manifest: &Path) -> Option<PathBuf> {
    let mut dir = manifest.parent();
    while let Some(d) = dir {
        for name in ["deny.toml", ".deny.toml", ".cargo/deny.toml"] {
            let p = d.join(name);
            // Anything there counts: a deny.toml that is a directory or a device is an
            // error when read, never silently skipped.
            if std::fs::symlink_metadata(&p).is_ok() {
                return Some(p);
            }
        }
        dir = d.parent();
    }
    None
}

pub fn load_config(path: Option<&Path>, files: &mut Files) -> Result<DenyConfig> {
    use cargo_deny::UnvalidatedConfig;

    let (text, name) = match path {
        Some(p) => (
            crate::fsutil::read_text(p, crate::fsutil::TEXT_LIMIT, "cargo-deny config")
                .map_err(|e| {
                    Failure::new(format!("{e}")).help(
                        "pass --config with a readable deny.toml, or remove the flag to search for one",
                    )
                })?,
            p.to_path_buf(),
        ),
        None => (String::new(), PathBuf::from("deny.default.toml")),
    };
    let shown = escape(&name.display().to_string());
    let utf8_name = cargo_deny::PathBuf::from_path_buf(name.clone())
        .map_err(|p| Failure::new(format!("config path {} is not UTF-8", p.display())))?;
    let id = files.add(utf8_name, text.clone());
    let docs = "see https://embarkstudios.github.io/cargo-deny/checks/cfg.html";

    let mut parsed = toml_span::parse(files.source(id)).map_err(|e| {
        let line = line_of(&text, e.span.start);
        Failure::new(format!("{shown}:{line}: invalid TOML: {}", toml_error(&e)))
            .help("fix the TOML syntax at that line (see https://toml.io)")
            .detail(render(files, &[e.to_diagnostic(id)]))
    })?;
    use cargo_deny::Deserialize;
    let cfg = match cargo_deny::root_cfg::RootConfig::deserialize(&mut parsed) {
        Ok(c) => c,
        Err(err) => {
            let first = err.errors.first();
            // An unknown key is reported on its table; point at the key itself.
            let span = first.map(|e| match &e.kind {
                toml_span::ErrorKind::UnexpectedKeys { keys, .. } => {
                    keys.first().map_or(e.span, |(_, s)| *s)
                }
                _ => e.span,
            });
            let line = span.map(|s| line_of(&text, s.start)).unwrap_or(1);
            let why = first.map(toml_error).unwrap_or_default();
            let diags: Vec<_> = err.errors.iter().map(|e| e.to_diagnostic(id)).collect();
            return Err(Failure::new(format!(
                "{shown}:{line}: invalid cargo-deny configuration: {why}"
            ))
            .help(format!("fix the key at that line; {docs}"))
            .detail(render(files, &diags))
            .into());
        }
    };

    let mut diags = Vec::new();
    macro_rules! validate {
        ($section:expr) => {
            $section
                .unwrap_or_default()
                .validate(cargo_deny::cfg::ValidationContext {
                    cfg_id: id,
                    files,
                    diagnostics: &mut diags,
                })
        };
    }
    let advisories = validate!(cfg.advisories);
    let bans = validate!(cfg.bans);
    let licenses = validate!(cfg.licenses);
    let sources = validate!(cfg.sources);

    if let Some(first) = diags.iter().find(|d| d.severity >= diag::Severity::Error) {
        let line = first
            .labels
            .first()
            .map(|l| line_of(&text, l.range.start))
            .unwrap_or(1);
        let label = first
            .labels
            .first()
            .map(|l| l.message.clone())
            .filter(|m| !m.is_empty())
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        return Err(Failure::new(format!(
            "{shown}:{line}: invalid cargo-deny configuration: {}{label}",
            first.message
        ))
        .help(format!("fix the value at that line; {docs}"))
        .detail(render(files, &diags))
        .into());
    }
    let warnings = (!diags.is_empty()).then(|| render(files, &diags));

    Ok(DenyConfig {
        path: path.map(Path::to_path_buf),
        advisories,
        bans,
        licenses,
        sources,
        graph: cfg.graph,
        ignored: advisory_ignores(&text),
        warnings,
        text,
    })
}

/// cargo-deny's diagnostics as cargo-deny prints them (codespan, with the labels).
fn render(files: &Files, diags: &[diag::Diagnostic]) -> String {
    let config = codespan_reporting::term::Config::default();
    diags
        .iter()
        .filter_map(|d| codespan_reporting::term::emit_into_string(&config, files, d).ok())
        .collect::<Vec<_>>()
        .join("")
}

/// One line for a TOML or schema error, in words (toml-span's own Display of some
/// kinds prints Rust debug output).
fn toml_error(e: &toml_span::Error) -> String {
    use toml_span::ErrorKind as K;
    match &e.kind {
        K::UnexpectedKeys { keys, expected } => {
            let names: Vec<String> = keys
                .iter()
                .map(|(k, _)| format!("`{}`", escape(k)))
                .collect();
            let hint = keys
                .first()
                .and_then(|(k, _)| {
                    let known: Vec<&str> = expected.iter().map(String::as_str).collect();
                    crate::config::closest(k, &known)
                })
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            format!(
                "unknown key{} {}{hint}; expected one of: {}",
                crate::output::plural(keys.len()),
                names.join(", "),
                expected.join(", ")
            )
        }
        K::MissingField(f) => format!("missing key `{f}`"),
        K::Wanted { expected, found } => format!("expected {expected}, found {found}"),
        K::UnexpectedValue { expected, value } => match value {
            Some(v) => format!(
                "unexpected value `{}`; expected one of: {}",
                escape(v),
                expected.join(", ")
            ),
            None => format!("unexpected value; expected one of: {}", expected.join(", ")),
        },
        K::DuplicateKey { key, .. } => format!("duplicate key `{}`", escape(key)),
        K::DuplicateTable { name, .. } => format!("duplicate table `[{}]`", escape(name)),
        K::Custom(msg) => escape(msg),
        other => escape(&other.to_string()),
    }
}

/// The entries of `[advisories] ignore`, as strings or `{ id = …, reason = … }` tables.
fn advisory_ignores(text: &str) -> Vec<(String, String)> {
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return Vec::new();
    };
    let Some(arr) = doc
        .get("advisories")
        .and_then(|a| a.get("ignore"))
        .and_then(|i| i.as_array())
    else {
        return Vec::new();
    };
    arr.iter()
        .filter_map(|v| {
            if let Some(id) = v.as_str() {
                return Some((id.to_string(), "ignored in deny.toml".to_string()));
            }
            let t = v.as_inline_table()?;
            let id = t.get("id")?.as_str()?.to_string();
            let reason = t
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("ignored in deny.toml")
                .to_string();
            Some((id, reason))
        })
        .collect()
}
