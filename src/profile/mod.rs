//! The release-profile check: effective values against the release rules, with the
//! project's own policy from `[workspace.metadata.secure-release.profile]`.

pub mod effective;
pub mod fix;
pub mod value;

use crate::report::{Check, Code, Finding, Severity};
use effective::{Effective, Origin};
use std::path::Path;
use value::{Canon, Key};

/// Required for every release (error when not met).
pub const REQUIRED: [(Key, Canon); 3] = [
    (Key::Lto, Canon::Str("fat")),
    (Key::CodegenUnits, Canon::Int(1)),
    (Key::Strip, Canon::Str("symbols")),
];

/// Opt-in hardening (warning when enabled in the policy and not met).
pub const HARDENING: [(Key, Canon); 5] = [
    (Key::OverflowChecks, Canon::Bool(true)),
    (Key::Panic, Canon::Str("abort")),
    (Key::Debug, Canon::Str("none")),
    (Key::Incremental, Canon::Bool(false)),
    (Key::OptLevel, Canon::Int(3)),
];

/// Cargo's rule for profile names: letters, digits, `-` and `_`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `[*.metadata.secure-release.profile]` as `config` reads it: which profile is
/// released and how strictly.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The profile being released (default `release`).
    pub name: Option<String>,
    pub hardening: Vec<Key>,
    /// Keys whose current value the project accepts, with the reason.
    pub accept: std::collections::BTreeMap<Key, (Canon, String)>,
}

impl Policy {
    /// The rules that apply: the required ones and the enabled hardening ones.
    pub fn rules(&self) -> Vec<(Key, Canon, Severity)> {
        let mut r: Vec<_> = REQUIRED
            .iter()
            .map(|(k, v)| (*k, v.clone(), Severity::Error))
            .collect();
        for (k, v) in HARDENING.iter() {
            if self.hardening.contains(k) {
                r.push((*k, v.clone(), Severity::Warning));
            }
        }
        r
    }
}

/// Checks the effective profile against the policy. `root` makes paths relative.
pub fn check(eff: &Effective, policy: &Policy, root: &Path, manifest_text: &str) -> Vec<Finding> {
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let mut out = Vec::new();
    let section = format!("[profile.{}]", eff.profile);
    let profile_desc = match eff.chain.get(1..) {
        Some(parents) if !parents.is_empty() => {
            format!("`{}` (inherits {})", eff.profile, parents.join(" → "))
        }
        _ => format!("`{}`", eff.profile),
    };
    for (key, want, severity) in policy.rules() {
        let r = &eff.values[&key];
        let location = |f: Finding| match &r.origin {
            Origin::Manifest { file, line, .. } | Origin::Config { file, line, .. } => {
                f.with_location(rel(file), Some(*line))
            }
            _ => f.with_location("Cargo.toml", Some(header_line(manifest_text, &eff.profile))),
        };
        let got = match &r.value {
            Ok(v) => v,
            Err(why) => {
                out.push(location(
                    Finding::new(
                        Check::Profile,
                        Code::Profile(key),
                        Severity::Error,
                        format!("{why} (from {})", r.origin),
                    )
                    .with_help(format!("set `{} = {want}` in {section}", key.name())),
                ));
                continue;
            }
        };
        if *got == want {
            continue;
        }
        let mut f = Finding::new(
            Check::Profile,
            Code::Profile(key),
            severity,
            format!(
                "`{}` is {got} for profile {profile_desc} (from {}); a release needs {want}",
                key.name(),
                r.origin.describe(Some(root))
            ),
        )
        .with_help(fix_help(key, &want, &r.origin, &section, root));
        if let Some((accepted, reason)) = policy.accept.get(&key) {
            if accepted == got {
                f.severity = Severity::Note;
                f.message = format!("{} — accepted by policy: {reason}", f.message);
                f.help = None;
            }
        }
        out.push(location(f));
    }
    for o in &eff.package_overrides {
        let want = REQUIRED
            .iter()
            .find(|(k, _)| *k == o.key)
            .map(|(_, v)| v.clone());
        let Some(want) = want else { continue };
        let ok = o.value.as_ref().is_ok_and(|v| *v == want);
        if ok {
            continue;
        }
        let (file, line) = o
            .origin
            .file_line()
            .map(|(f, l)| (rel(f), Some(l)))
            .unwrap_or_default();
        out.push(
            Finding::new(
                Check::Profile,
                Code::Profile(o.key),
                Severity::Error,
                format!(
                    "`[profile.{}.package.\"{}\"]` sets `{} = {}`, weakening the release profile for those crates",
                    match &o.origin {
                        Origin::Manifest { profile, .. } | Origin::Config { profile, .. } => profile.as_str(),
                        _ => eff.profile.as_str(),
                    },
                    o.spec,
                    o.key.name(),
                    o.raw
                ),
            )
            .with_help(format!("remove `{}` from that override or set it to {want}", o.key.name()))
            .with_location(file, line),
        );
    }
    out
}

fn fix_help(key: Key, want: &Canon, origin: &Origin, section: &str, root: &Path) -> String {
    match origin {
        Origin::Env { var } => format!(
            "the environment variable {var} overrides every file: unset it or set {var}={}",
            want.to_string().trim_matches('"')
        ),
        Origin::Config { file, line, profile } => format!(
            "Cargo config {}:{line} overrides Cargo.toml: set `{} = {want}` in its [profile.{profile}] (`--fix` edits only Cargo.toml, where it would not take effect)",
            file.strip_prefix(root).unwrap_or(file).display(),
            key.name()
        ),
        _ => format!(
            "set `{} = {want}` in {section} of the workspace root Cargo.toml, or run `cargo secure-release audit --fix`",
            key.name()
        ),
    }
}

/// Warnings for `[profile]` tables in member manifests, which Cargo ignores.
pub fn member_profiles(
    members: &[&cargo_metadata::Package],
    root_manifest: &Path,
    root: &Path,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for m in members {
        let path = m.manifest_path.as_std_path();
        if path == root_manifest {
            continue;
        }
        // cargo metadata has parsed this manifest already: a read error here is a race,
        // and the member's profile table simply goes unchecked.
        let Ok(text) = crate::fsutil::read_text(path, crate::fsutil::TEXT_LIMIT, "manifest") else {
            continue;
        };
        let Ok(doc) = toml_edit::Document::parse(text.clone()) else {
            continue;
        };
        if let Some(item) = doc.get("profile") {
            let line = item.span().map(|s| effective::line_of(&text, s.start));
            let rel = path
                .strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(
                Finding::new(
                    Check::Profile,
                    crate::report::Code::MemberProfile,
                    Severity::Warning,
                    format!("`[profile]` in member manifest {rel} is ignored by Cargo: only the workspace root's profiles apply"),
                )
                .with_help("move these settings to the workspace root Cargo.toml")
                .with_location(rel, line.or(Some(first_profile_line(&text)))),
            );
        }
    }
    out
}

/// The line of `[profile.NAME]` in the manifest, else 1: where a fix would go.
fn header_line(text: &str, profile: &str) -> usize {
    let want = format!("[profile.{profile}]");
    text.lines()
        .position(|l| l.trim_start().starts_with(&want))
        .map_or(1, |i| i + 1)
}

fn first_profile_line(text: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with("[profile"))
        .map_or(1, |i| i + 1)
}

/// The manifest plus the Cargo config files and variables Cargo would read from here.
pub fn gather_sources(manifest: effective::Source) -> anyhow::Result<effective::Sources> {
    use anyhow::Context;
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    let home = crate::cargo::home();
    effective::Sources::gather(manifest, &cwd, home.as_deref(), std::env::vars())
}
