//! The project's own settings, read once from the workspace root Cargo.toml with
//! their lines: `[workspace.metadata.secure-release]`, else the root package's
//! `[package.metadata.secure-release]` (key by key). Every key is typed and checked
//! here: a wrong type, a bad value or an unknown key is an error naming
//! `Cargo.toml:LINE` (with the closest known key suggested), never silently ignored.

use crate::error::Failure;
use crate::profile::effective::{line_of, Source};
use crate::profile::value::{self, Key, Raw};
use anyhow::Result;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml_edit::{Item, TableLike, Value};

/// The two tables the settings are read from (the workspace's wins, key by key).
const WORKSPACE_TABLE: &str = "workspace.metadata.secure-release";
const PACKAGE_TABLE: &str = "package.metadata.secure-release";

/// Everything `[*.metadata.secure-release]` can say.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub ignore: Vec<IgnoreEntry>,
    pub policy: SecurityPolicy,
    pub profile: ProfilePolicy,
    /// The release tag's name, with `{name}` and `{version}` (default `v{version}`).
    pub tag_name: Option<String>,
    pub artifact: ArtifactPolicy,
    pub signers: SignerPolicy,
}

/// `[*.metadata.secure-release.signers]`: committed files naming who may sign
/// release tags. Paths are relative to the workspace root, which for `verify` is
/// the root of the tagged tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignerPolicy {
    /// OpenPGP certificates (armored or binary), with its line in Cargo.toml.
    pub openpgp: Option<(String, usize)>,
    /// An SSH allowed-signers file, with its line in Cargo.toml.
    pub ssh: Option<(String, usize)>,
}

impl SignerPolicy {
    pub fn is_empty(&self) -> bool {
        self.openpgp.is_none() && self.ssh.is_none()
    }

    /// The policy's files, as written in Cargo.toml.
    pub fn files(&self) -> Vec<&str> {
        [&self.openpgp, &self.ssh]
            .into_iter()
            .flatten()
            .map(|(f, _)| f.as_str())
            .collect()
    }
}

/// `[*.metadata.secure-release.artifact]`: how strictly built artifacts are judged.
#[derive(Debug, Clone, Default)]
pub struct ArtifactPolicy {
    /// A binary without cargo-auditable's dependency list is an error, not a warning.
    pub require_audit_data: bool,
    /// Artifact finding codes the project accepts, with the reason (they become notes).
    pub accept: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    pub id: String,
    pub reason: String,
    pub until: Option<jiff::civil::Date>,
    pub line: usize,
}

/// `[*.metadata.secure-release.policy]`: what SECURITY.md promises.
#[derive(Debug, Clone)]
pub struct SecurityPolicy {
    pub contact: Option<String>,
    pub acknowledge_days: u64,
    pub triage_days: u64,
    pub fix_critical_days: u64,
    pub fix_other_days: u64,
    pub disclosure_days: u64,
    pub supported_lines: usize,
    pub team: Vec<(String, Option<String>)>,
    pub scope_in: Vec<String>,
    pub scope_out: Vec<String>,
    /// A certificate file, relative to the workspace root, and its line in Cargo.toml.
    pub signing_key: Option<(String, usize)>,
    /// The project publishes an SBOM with every release (claimed by `init` only when a
    /// workflow writes one).
    pub sbom: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            contact: None,
            acknowledge_days: 3,
            triage_days: 10,
            fix_critical_days: 30,
            fix_other_days: 90,
            disclosure_days: 90,
            supported_lines: 1,
            team: Vec::new(),
            scope_in: Vec::new(),
            scope_out: Vec::new(),
            signing_key: None,
            sbom: false,
        }
    }
}

/// `[*.metadata.secure-release.profile]`: which profile is released and how strictly.
pub use crate::profile::Policy as ProfilePolicy;

const TOP_KEYS: &[&str] = &[
    "ignore", "policy", "profile", "tag-name", "artifact", "signers",
];
const SIGNER_KEYS: &[&str] = &["openpgp", "ssh"];
const ARTIFACT_KEYS: &[&str] = &["require-audit-data", "accept"];
const IGNORE_KEYS: &[&str] = &["id", "reason", "until"];
const POLICY_KEYS: &[&str] = &[
    "contact",
    "acknowledge-days",
    "triage-days",
    "fix-critical-days",
    "fix-other-days",
    "disclosure-days",
    "supported-lines",
    "team",
    "scope-in",
    "scope-out",
    "signing-key",
    "sbom",
];
const TEAM_KEYS: &[&str] = &["name", "github"];
const PROFILE_KEYS: &[&str] = &["name", "hardening", "accept"];
const ACCEPT_KEYS: &[&str] = &["value", "reason"];
/// Every table of the settings and its keys: the one list the parser checks keys
/// against (`known_keys`, with "did you mean") and `tests/integration/docs.rs` checks
/// docs/configuration.md against, so a key cannot be added to one and not the other.
pub const KEY_TABLES: &[(&str, &[&str])] = &[
    ("[*.metadata.secure-release]", TOP_KEYS),
    ("signers", SIGNER_KEYS),
    ("artifact", ARTIFACT_KEYS),
    ("ignore entries", IGNORE_KEYS),
    ("policy", POLICY_KEYS),
    ("policy.team entries", TEAM_KEYS),
    ("profile", PROFILE_KEYS),
    ("accept entries", ACCEPT_KEYS),
];

/// The help line of a config error: the page of every key.
fn docs() -> String {
    format!("see {}", crate::docs::configuration())
}

impl Config {
    /// The profile being released: the policy's `name`, else `release`.
    pub fn released_profile(&self) -> String {
        self.profile
            .name
            .clone()
            .unwrap_or_else(|| "release".into())
    }

    /// The settings table a help line should name for this manifest: the workspace's
    /// where it has `[workspace]`, else the package's (both are read; a plain
    /// package has no `[workspace.metadata]` to add to).
    pub fn table_for(manifest: &Source) -> &'static str {
        match manifest.doc.as_table().contains_key("workspace") {
            true => WORKSPACE_TABLE,
            false => PACKAGE_TABLE,
        }
    }

    /// Reads the settings from the root manifest, already parsed.
    pub fn from_manifest(manifest: &Source) -> Result<Config> {
        let p = Parser {
            path: &manifest.path,
            text: &manifest.text,
        };
        let doc = manifest.doc.as_table();
        let ws = dig(doc, &["workspace", "metadata", "secure-release"]);
        let pkg = dig(doc, &["package", "metadata", "secure-release"]);
        // Both tables are checked in full, even where the workspace's shadows the
        // package's: a typo is an error wherever it is.
        let mut parts = Vec::new();
        for (item, table) in [(ws, WORKSPACE_TABLE), (pkg, PACKAGE_TABLE)] {
            if let Some(item) = item {
                parts.push(p.part(item, &format!("[{table}"))?);
            }
        }
        // Key by key: the workspace's setting, else the root package's.
        let mut cfg = Config::default();
        for part in parts.into_iter().rev() {
            cfg.ignore = part.ignore.unwrap_or(cfg.ignore);
            cfg.policy = part.policy.unwrap_or(cfg.policy);
            cfg.profile = part.profile.unwrap_or(cfg.profile);
            cfg.tag_name = part.tag_name.or(cfg.tag_name);
            cfg.artifact = part.artifact.unwrap_or(cfg.artifact);
            cfg.signers = part.signers.unwrap_or(cfg.signers);
        }
        Ok(cfg)
    }

    /// Reads and parses `path` (the workspace root Cargo.toml).
    pub fn load(path: &Path) -> Result<(Config, Source)> {
        let manifest = Source::read(path, true)?;
        Ok((Config::from_manifest(&manifest)?, manifest))
    }
}

fn dig<'a>(t: &'a dyn TableLike, path: &[&str]) -> Option<&'a Item> {
    let (first, rest) = path.split_first()?;
    let item = t.get(first)?;
    if rest.is_empty() {
        return Some(item);
    }
    dig(item.as_table_like()?, rest)
}

/// One `[*.metadata.secure-release]` table, each key present or not.
struct Part {
    ignore: Option<Vec<IgnoreEntry>>,
    policy: Option<SecurityPolicy>,
    profile: Option<ProfilePolicy>,
    tag_name: Option<String>,
    artifact: Option<ArtifactPolicy>,
    signers: Option<SignerPolicy>,
}

struct Parser<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Parser<'_> {
    /// `header` is the table's name without the closing bracket.
    fn part(&self, item: &Item, header: &str) -> Result<Part> {
        let t = self.table(item, &format!("{header}]"))?;
        self.known_keys(t, TOP_KEYS, &format!("{header}]"))?;
        let tag_name = match t.get("tag-name") {
            None => None,
            Some(item) => {
                let pattern = self.string(item, "tag-name")?;
                if !pattern.contains("{version}") {
                    return Err(self.err(
                        item.span(),
                        format!(
                            "`tag-name = \"{}\"` has no `{{version}}`",
                            crate::error::escape(&pattern)
                        ),
                        "write a pattern such as \"v{version}\" or \"{name}-v{version}\"",
                    ));
                }
                Some(pattern)
            }
        };
        Ok(Part {
            ignore: t
                .get("ignore")
                .map(|i| self.ignores(i, &format!("{header}]")))
                .transpose()?,
            policy: t
                .get("policy")
                .map(|i| self.policy(i, &format!("{header}.policy]")))
                .transpose()?,
            profile: t
                .get("profile")
                .map(|i| self.profile(i, &format!("{header}.profile]")))
                .transpose()?,
            tag_name,
            artifact: t
                .get("artifact")
                .map(|i| self.artifact(i, &format!("{header}.artifact]")))
                .transpose()?,
            signers: t
                .get("signers")
                .map(|i| self.signers(i, &format!("{header}.signers]")))
                .transpose()?,
        })
    }

    fn signers(&self, item: &Item, header: &str) -> Result<SignerPolicy> {
        let t = self.table(item, header)?;
        self.known_keys(t, SIGNER_KEYS, header)?;
        let mut p = SignerPolicy::default();
        for key in SIGNER_KEYS {
            let Some(i) = t.get(key) else { continue };
            let path = self.string(i, key)?;
            let relative = Path::new(&path);
            let escapes = relative.is_absolute()
                || relative.components().any(|c| {
                    !matches!(
                        c,
                        std::path::Component::Normal(_) | std::path::Component::CurDir
                    )
                });
            if path.trim().is_empty() || escapes {
                return Err(self.err(
                    i.span(),
                    format!(
                        "`{key} = \"{}\"` must be a path inside the repository, relative to this Cargo.toml",
                        crate::error::escape(&path)
                    ),
                    "name a committed file, e.g. ssh = \".github/allowed_signers\" or openpgp = \"release-keys.asc\"",
                ));
            }
            let entry = Some((path, self.line(i.span())));
            match *key {
                "openpgp" => p.openpgp = entry,
                _ => p.ssh = entry,
            }
        }
        Ok(p)
    }

    fn artifact(&self, item: &Item, header: &str) -> Result<ArtifactPolicy> {
        let t = self.table(item, header)?;
        self.known_keys(t, ARTIFACT_KEYS, header)?;
        let mut p = ArtifactPolicy::default();
        if let Some(i) = t.get("require-audit-data") {
            p.require_audit_data = i.as_bool().ok_or_else(|| {
                self.err(
                    i.span(),
                    format!("`require-audit-data = {}` must be true or false", shown(i)),
                    "write require-audit-data = true",
                )
            })?;
        }
        if let Some(i) = t.get("accept") {
            let table = self.table(i, "`accept`")?;
            // The artifact codes `accept` may name: the report's own list.
            let artifact_codes: Vec<&str> = crate::report::Code::ARTIFACT
                .iter()
                .map(|c| c.as_str())
                .collect();
            for (code, entry) in table.iter() {
                let span = table.get_key_value(code).and_then(|(k, _)| k.span());
                if !artifact_codes.contains(&code) {
                    let hint = closest(code, &artifact_codes)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    return Err(self.err(
                        span,
                        format!(
                            "`accept.{}` is not an artifact check{hint}",
                            crate::error::escape(code)
                        ),
                        &format!("artifact checks are: {}", artifact_codes.join(", ")),
                    ));
                }
                let e = self.table(entry, &format!("`accept.{code}`"))?;
                self.known_keys(e, &["reason"], &format!("`accept.{code}`"))?;
                let reason = match e.get("reason") {
                    Some(r) => self.string(r, "reason")?,
                    None => String::new(),
                };
                if reason.trim().is_empty() {
                    return Err(self.err(
                        entry.span().or(span),
                        format!("`accept.{code}` needs a `reason` saying why"),
                        "write e.g. path-leak = { reason = \"…\" }",
                    ));
                }
                p.accept.insert(code.to_string(), reason);
            }
        }
        Ok(p)
    }

    fn err(&self, span: Option<Range<usize>>, msg: String, help: &str) -> anyhow::Error {
        let line = span.map_or(1, |s| line_of(self.text, s.start));
        Failure::new(format!("{}:{line}: {msg}", self.path.display()))
            .help(help.to_string())
            .into()
    }

    fn line(&self, span: Option<Range<usize>>) -> usize {
        span.map_or(1, |s| line_of(self.text, s.start))
    }

    fn table<'i>(&self, item: &'i Item, what: &str) -> Result<&'i dyn TableLike> {
        item.as_table_like().ok_or_else(|| {
            self.err(
                item.span(),
                format!("{what} must be a table, found {}", kind(item)),
                &docs(),
            )
        })
    }

    fn known_keys(&self, t: &dyn TableLike, known: &[&str], within: &str) -> Result<()> {
        for (k, _) in t.iter() {
            if known.contains(&k) {
                continue;
            }
            let span = t.get_key_value(k).and_then(|(key, _)| key.span());
            let hint = closest(k, known)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            return Err(self.err(
                span,
                format!("unknown key `{}`{hint}", crate::error::escape(k)),
                &format!("keys of {within} are: {}", known.join(", ")),
            ));
        }
        Ok(())
    }

    fn string(&self, item: &Item, key: &str) -> Result<String> {
        match item.as_str() {
            Some(s) => Ok(s.to_string()),
            None => Err(self.err(
                item.span(),
                format!("`{key}` must be a string, found {}", kind(item)),
                &format!("write it quoted: {key} = \"…\""),
            )),
        }
    }

    fn positive(&self, item: &Item, key: &str) -> Result<u64> {
        match item.as_integer() {
            Some(n) if n > 0 => Ok(n as u64),
            _ => Err(self.err(
                item.span(),
                format!("`{key} = {}` must be a positive whole number", shown(item)),
                &format!("write e.g. {key} = 2"),
            )),
        }
    }

    fn strings(&self, item: &Item, key: &str) -> Result<Vec<String>> {
        let bad = || {
            self.err(
                item.span(),
                format!("`{key}` must be a list of strings, found {}", shown(item)),
                &format!("write e.g. {key} = [\"…\", \"…\"]"),
            )
        };
        let arr = item.as_array().ok_or_else(bad)?;
        arr.iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect()
    }

    /// The entries of an array of inline tables, or of `[[…]]` tables.
    fn entries<'i>(&self, item: &'i Item, key: &str) -> Result<Vec<(&'i dyn TableLike, usize)>> {
        let bad = |span| {
            self.err(
                span,
                format!("`{key}` must be a list of tables"),
                &format!("write e.g. {key} = [{{ … }}]"),
            )
        };
        if let Some(aot) = item.as_array_of_tables() {
            return Ok(aot
                .iter()
                .map(|t| (t as &dyn TableLike, self.line(t.span())))
                .collect());
        }
        let arr = item.as_array().ok_or_else(|| bad(item.span()))?;
        arr.iter()
            .map(|v| match v.as_inline_table() {
                Some(t) => Ok((t as &dyn TableLike, self.line(v.span()))),
                None => Err(bad(v.span())),
            })
            .collect()
    }

    fn ignores(&self, item: &Item, header: &str) -> Result<Vec<IgnoreEntry>> {
        let within = format!("`ignore` entries of {header}");
        let help =
            "write entries as { id = \"RUSTSEC-…\", reason = \"why\", until = \"YYYY-MM-DD\" }";
        let mut out = Vec::new();
        for (t, line) in self.entries(item, "ignore")? {
            self.known_keys(t, IGNORE_KEYS, &within)?;
            let id = match t.get("id") {
                Some(i) => self.string(i, "id")?,
                None => {
                    return Err(self.err_at(line, "an `ignore` entry has no `id`".into(), help))
                }
            };
            let reason = match t.get("reason") {
                Some(r) => self.string(r, "reason")?,
                None => String::new(),
            };
            if reason.trim().is_empty() {
                return Err(self.err_at(
                    line,
                    format!(
                        "ignore entry `{}` has no `reason`: say why it is safe to ignore",
                        crate::error::escape(&id)
                    ),
                    help,
                ));
            }
            let until = match t.get("until") {
                None => None,
                Some(u) => Some(self.date(u, "until")?),
            };
            out.push(IgnoreEntry {
                id,
                reason,
                until,
                line,
            });
        }
        Ok(out)
    }

    fn err_at(&self, line: usize, msg: String, help: &str) -> anyhow::Error {
        Failure::new(format!("{}:{line}: {msg}", self.path.display()))
            .help(help.to_string())
            .into()
    }

    fn date(&self, item: &Item, key: &str) -> Result<jiff::civil::Date> {
        let fix = format!("write a real calendar date, quoted: {key} = \"2026-12-31\"");
        if let Some(Value::Datetime(d)) = item.as_value() {
            return Err(self.err(
                item.span(),
                format!(
                    "`{key} = {}` is a TOML date literal; this key takes a quoted date",
                    d.value()
                ),
                &fix,
            ));
        }
        let s = self.string(item, key)?;
        s.parse::<jiff::civil::Date>().map_err(|_| {
            self.err(
                item.span(),
                format!(
                    "`{key} = \"{}\"` is not a valid YYYY-MM-DD date",
                    crate::error::escape(&s)
                ),
                &fix,
            )
        })
    }

    fn policy(&self, item: &Item, header: &str) -> Result<SecurityPolicy> {
        let t = self.table(item, header)?;
        self.known_keys(t, POLICY_KEYS, header)?;
        let mut p = SecurityPolicy::default();
        for (key, slot) in [
            ("acknowledge-days", &mut p.acknowledge_days),
            ("triage-days", &mut p.triage_days),
            ("fix-critical-days", &mut p.fix_critical_days),
            ("fix-other-days", &mut p.fix_other_days),
            ("disclosure-days", &mut p.disclosure_days),
        ] {
            if let Some(i) = t.get(key) {
                *slot = self.positive(i, key)?;
            }
        }
        if let Some(i) = t.get("supported-lines") {
            p.supported_lines =
                usize::try_from(self.positive(i, "supported-lines")?).unwrap_or(usize::MAX);
        }
        if let Some(i) = t.get("contact") {
            let c = self.string(i, "contact")?;
            if !valid_email(&c) {
                return Err(self.err(
                    i.span(),
                    format!(
                        "`contact = \"{}\"` is not an email address",
                        crate::error::escape(&c)
                    ),
                    "write e.g. contact = \"security@example.org\"",
                ));
            }
            p.contact = Some(c);
        }
        if let Some(i) = t.get("team") {
            let within = format!("`team` entries of {header}");
            for (m, line) in self.entries(i, "team")? {
                self.known_keys(m, TEAM_KEYS, &within)?;
                let name = match m.get("name") {
                    Some(n) => self.string(n, "name")?,
                    None => {
                        return Err(self.err_at(
                            line,
                            "a `team` entry has no `name`".into(),
                            "write entries as { name = \"…\", github = \"handle\" }",
                        ))
                    }
                };
                let gh = match m.get("github") {
                    Some(g) => Some(
                        self.string(g, "github")?
                            .trim_start_matches('@')
                            .to_string(),
                    ),
                    None => None,
                };
                p.team.push((name, gh));
            }
        }
        if let Some(i) = t.get("scope-in") {
            p.scope_in = self.strings(i, "scope-in")?;
        }
        if let Some(i) = t.get("scope-out") {
            p.scope_out = self.strings(i, "scope-out")?;
        }
        if let Some(i) = t.get("signing-key") {
            p.signing_key = Some((self.string(i, "signing-key")?, self.line(i.span())));
        }
        if let Some(i) = t.get("sbom") {
            p.sbom = i.as_bool().ok_or_else(|| {
                self.err(
                    i.span(),
                    format!("`sbom = {}` must be true or false", shown(i)),
                    "write sbom = true when every release publishes an SBOM",
                )
            })?;
        }
        Ok(p)
    }

    fn profile(&self, item: &Item, header: &str) -> Result<ProfilePolicy> {
        let t = self.table(item, header)?;
        self.known_keys(t, PROFILE_KEYS, header)?;
        let mut p = ProfilePolicy::default();
        if let Some(i) = t.get("name") {
            let name = self.string(i, "name")?;
            if !crate::profile::valid_name(&name) {
                return Err(self.err(
                    i.span(),
                    format!(
                        "`name = \"{}\"` is not a valid profile name",
                        crate::error::escape(&name)
                    ),
                    "profile names have only letters, digits, `-` and `_`, e.g. name = \"dist\"",
                ));
            }
            p.name = Some(name);
        }
        let hardening_keys = crate::profile::HARDENING.map(|(k, _)| k.name());
        match t.get("hardening") {
            None => {}
            Some(i) if i.as_bool() == Some(true) => {
                p.hardening = crate::profile::HARDENING.iter().map(|(k, _)| *k).collect()
            }
            Some(i) if i.as_bool() == Some(false) => {}
            Some(i) if i.is_array() => {
                for v in i.as_array().into_iter().flatten() {
                    let name = v.as_str().unwrap_or_default();
                    let key = Key::from_name(name).filter(|k| hardening_keys.contains(&k.name()));
                    let Some(key) = key else {
                        let hint = closest(name, &hardening_keys)
                            .map(|c| format!(" (did you mean `{c}`?)"))
                            .unwrap_or_default();
                        return Err(self.err(
                            v.span(),
                            format!(
                                "`hardening` entry {} is not a hardening key{hint}",
                                v.to_string().trim()
                            ),
                            &format!("hardening keys are: {}", hardening_keys.join(", ")),
                        ));
                    };
                    p.hardening.push(key);
                }
            }
            Some(i) => {
                return Err(self.err(
                    i.span(),
                    format!(
                        "`hardening = {}` must be true, false or a list of keys",
                        shown(i)
                    ),
                    "write e.g. hardening = [\"panic\", \"overflow-checks\"]",
                ))
            }
        }
        if let Some(i) = t.get("accept") {
            let within = format!("{}.accept", &header[..header.len() - 1]);
            let table = self.table(i, &format!("{within}]"))?;
            let checked: Vec<&str> = crate::profile::REQUIRED
                .iter()
                .chain(crate::profile::HARDENING.iter())
                .map(|(k, _)| k.name())
                .collect();
            for (k, entry) in table.iter() {
                let key_span = table.get_key_value(k).and_then(|(key, _)| key.span());
                let Some(key) = Key::from_name(k) else {
                    let hint = closest(k, &checked)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    return Err(self.err(
                        key_span,
                        format!(
                            "`accept.{}` is not a profile key this tool checks{hint}",
                            crate::error::escape(k)
                        ),
                        &format!("keys are: {}", checked.join(", ")),
                    ));
                };
                let e = self.table(entry, &format!("`accept.{k}`"))?;
                self.known_keys(e, ACCEPT_KEYS, &format!("`accept.{k}`"))?;
                let Some(v) = e.get("value") else {
                    return Err(self.err(
                        entry.span().or(key_span),
                        format!("`accept.{k}` needs a `value`"),
                        "write e.g. strip = { value = \"none\", reason = \"…\" }",
                    ));
                };
                let raw = v
                    .as_value()
                    .map(Raw::from_toml)
                    .unwrap_or(Raw::Other("a table".into()));
                let canon = value::canonical(key, &raw)
                    .map_err(|why| self.err(v.span(), format!("`accept.{k}`: {why}"), &docs()))?;
                let reason = match e.get("reason") {
                    Some(r) => self.string(r, "reason")?,
                    None => String::new(),
                };
                if reason.trim().is_empty() {
                    return Err(self.err(
                        entry.span().or(key_span),
                        format!("`accept.{k}` needs a `reason` saying why"),
                        "write e.g. strip = { value = \"none\", reason = \"…\" }",
                    ));
                }
                p.accept.insert(key, (canon, reason));
            }
        }
        Ok(p)
    }
}

fn kind(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) | Item::Value(Value::InlineTable(_)) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => v.type_name(),
    }
}

/// The value as written, for messages; long values are cut.
fn shown(item: &Item) -> String {
    let s = match item.as_value() {
        Some(v) => v.to_string().trim().to_string(),
        None => kind(item).to_string(),
    };
    let s: String = s.chars().take(60).collect();
    crate::error::escape(&s).to_string()
}

/// The known key nearest to a misspelt one (within a third of its length, at least
/// two edits), if any.
pub fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    let most = 2.max(word.chars().count().div_ceil(3));
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= most)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Strict enough that the value is safe inside a Markdown autolink.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let ok = |p: &str, extra: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    ok(local, "._%+-")
        && ok(domain, ".-")
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Config> {
        let src = Source::parse(Path::new("Cargo.toml"), toml.to_string(), true)?;
        Config::from_manifest(&src)
    }

    fn err(toml: &str) -> String {
        let e = parse(toml).unwrap_err();
        e.downcast_ref::<Failure>()
            .expect("a Failure")
            .message
            .clone()
    }

    const PKG: &str = "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n";

    #[test]
    fn unknown_keys_name_the_line_and_the_closest_key() {
        let m = err(&format!(
            "{PKG}[package.metadata.secure-release]\nignores = []\n"
        ));
        assert_eq!(
            m,
            "Cargo.toml:6: unknown key `ignores` (did you mean `ignore`?)"
        );
        let m = err(&format!(
            "{PKG}[package.metadata.secure-release.policy]\nsuported-lines = 2\n"
        ));
        assert_eq!(
            m,
            "Cargo.toml:6: unknown key `suported-lines` (did you mean `supported-lines`?)"
        );
        let m = err(&format!(
            "{PKG}[package.metadata.secure-release]\nignore = [\n  {{ id = \"A\", reason = \"r\", untill = \"2020-01-01\" }},\n]\n"
        ));
        assert_eq!(
            m,
            "Cargo.toml:7: unknown key `untill` (did you mean `until`?)"
        );
    }

    #[test]
    fn wrong_types_and_values_name_the_line() {
        let m = err(&format!(
            "{PKG}[workspace.metadata.secure-release.policy]\nsupported-lines = \"two\"\n"
        ));
        assert!(
            m.starts_with("Cargo.toml:6: `supported-lines = \"two\"`"),
            "{m}"
        );
        let m = err(&format!(
            "{PKG}[package.metadata.secure-release]\nignore = [{{ id = \"A\", reason = \"r\", until = \"2026-02-30\" }}]\n"
        ));
        assert!(
            m.starts_with("Cargo.toml:6: `until = \"2026-02-30\"` is not a valid"),
            "{m}"
        );
        let m = err(&format!(
            "{PKG}[package.metadata.secure-release]\nignore = [{{ id = \"A\", reason = \"r\", until = 2026-01-01 }}]\n"
        ));
        assert!(m.contains("TOML date literal"), "{m}");
        let m = err(&format!(
            "{PKG}[package.metadata.secure-release.policy]\nsupported-lines = 0\n"
        ));
        assert!(m.contains("positive whole number"), "{m}");
    }

    #[test]
    fn workspace_wins_key_by_key() {
        let c = parse(&format!(
            "{PKG}[package.metadata.secure-release]\nignore = [{{ id = \"P\", reason = \"r\" }}]\ntag-name = \"x-v{{version}}\"\n\n[workspace.metadata.secure-release]\nignore = [{{ id = \"W\", reason = \"r\" }}]\n"
        ))
        .unwrap();
        assert_eq!(c.ignore[0].id, "W");
        assert_eq!(c.ignore[0].line, 10);
        assert_eq!(c.tag_name.as_deref(), Some("x-v{version}"));
    }

    #[test]
    fn array_of_tables_entries_work_too() {
        let c = parse(&format!(
            "{PKG}[[package.metadata.secure-release.ignore]]\nid = \"A\"\nreason = \"r\"\nuntil = \"2026-01-01\"\n"
        ))
        .unwrap();
        assert_eq!(c.ignore.len(), 1);
        assert_eq!(c.ignore[0].until.unwrap().to_string(), "2026-01-01");
    }

    #[test]
    fn a_bom_and_crlf_line_endings_are_read() {
        let c = parse(&format!(
            "{}{}[package.metadata.secure-release]\r\ntag-name = \"v{{version}}\"\r\n",
            '\u{feff}',
            PKG.replace('\n', "\r\n")
        ))
        .unwrap();
        assert_eq!(c.tag_name.as_deref(), Some("v{version}"));
    }

    #[test]
    fn closest_key() {
        assert_eq!(closest("ignores", TOP_KEYS), Some("ignore"));
        assert_eq!(closest("zzzzzzzz", TOP_KEYS), None);
    }
}
