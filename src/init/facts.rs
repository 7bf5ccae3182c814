//! Facts for SECURITY.md, gathered from the project and checked by our own code —
//! never invented. A practice that is not true is absent, not claimed.

use crate::error::Failure;
use crate::workspace::Workspace;
use anyhow::Result;
use minijinja::{context, Value};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Policy {
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
    pub signing_key: Option<String>,
}

impl Policy {
    /// `[workspace.metadata.secure-release.policy]`, else the root package's.
    pub fn from_metadata(meta: &cargo_metadata::Metadata, root_manifest: &Path) -> Result<Policy> {
        let v = crate::workspace::secure_release_setting(meta, root_manifest, "policy")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let bad = |what: String| -> anyhow::Error {
            Failure::new(format!(
                "{}: [*.metadata.secure-release.policy] {what}",
                root_manifest.display()
            ))
            .help("see README, section \"Configuration keys\"")
            .into()
        };
        let days = |key: &str, default: u64| -> Result<u64> {
            match v.get(key) {
                None => Ok(default),
                Some(x) => x
                    .as_u64()
                    .filter(|d| *d > 0)
                    .ok_or_else(|| bad(format!("`{key}` must be a positive number of days"))),
            }
        };
        let strings = |key: &str| -> Result<Vec<String>> {
            match v.get(key) {
                None => Ok(Vec::new()),
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|s| {
                        s.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| bad(format!("`{key}` must be a list of strings")))
                    })
                    .collect(),
                Some(_) => Err(bad(format!("`{key}` must be a list of strings"))),
            }
        };
        let contact = match v.get("contact") {
            None => None,
            Some(c) => Some(
                c.as_str()
                    .filter(|c| valid_email(c))
                    .ok_or_else(|| bad(format!("`contact = {c}` must be an email address")))?
                    .to_string(),
            ),
        };
        let mut team = Vec::new();
        if let Some(t) = v.get("team") {
            for m in t
                .as_array()
                .ok_or_else(|| bad("`team` must be a list of { name, github }".into()))?
            {
                let name = m
                    .get("name")
                    .and_then(|n| n.as_str())
                    .ok_or_else(|| bad("every `team` entry needs a `name`".into()))?;
                let gh = m
                    .get("github")
                    .and_then(|g| g.as_str())
                    .map(|g| g.trim_start_matches('@').to_string());
                team.push((name.to_string(), gh));
            }
        }
        Ok(Policy {
            contact,
            acknowledge_days: days("acknowledge-days", 3)?,
            triage_days: days("triage-days", 10)?,
            fix_critical_days: days("fix-critical-days", 30)?,
            fix_other_days: days("fix-other-days", 90)?,
            disclosure_days: days("disclosure-days", 90)?,
            supported_lines: days("supported-lines", 1)? as usize,
            team,
            scope_in: strings("scope-in")?,
            scope_out: strings("scope-out")?,
            signing_key: v
                .get("signing-key")
                .and_then(|s| s.as_str())
                .map(str::to_string),
        })
    }
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

/// `https://github.com/OWNER/REPO` (with or without `.git`), validated.
pub fn github_repo(url: &str) -> Option<(String, String)> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))?;
    let mut parts = rest.trim_end_matches('/').splitn(3, '/');
    let owner = parts.next()?;
    let repo = parts.next()?.trim_end_matches(".git");
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    (ok(owner) && ok(repo)).then(|| (owner.to_string(), repo.to_string()))
}

/// A release line with its newest release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub line: String,
    pub latest: semver::Version,
    /// The tag of that release, when it came from git.
    pub tag: Option<String>,
}

/// Release lines from semver tags (`v1.2.3` or `1.2.3`), newest first. For 0.x the
/// minor version is the compatibility line, as Cargo treats it.
pub fn release_lines(tags: &[String]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for t in tags {
        let Ok(v) = semver::Version::parse(t.strip_prefix('v').unwrap_or(t)) else {
            continue;
        };
        if !v.pre.is_empty() {
            continue;
        }
        let key = if v.major == 0 {
            format!("0.{}.x", v.minor)
        } else {
            format!("{}.x", v.major)
        };
        match lines.iter_mut().find(|l| l.line == key) {
            Some(l) if l.latest < v => {
                l.latest = v;
                l.tag = Some(t.clone());
            }
            Some(_) => {}
            None => lines.push(Line {
                line: key,
                latest: v,
                tag: Some(t.clone()),
            }),
        }
    }
    lines.sort_by(|a, b| b.latest.cmp(&a.latest));
    lines
}

pub struct Gathered {
    pub context: Value,
}

pub fn gather(
    ws: &Workspace,
    preset: &str,
    contact_flag: Option<&str>,
    supported_flag: Option<usize>,
) -> Result<Gathered> {
    let root_manifest = ws.root_manifest();
    let mut policy = Policy::from_metadata(&ws.metadata, &root_manifest)?;
    if let Some(c) = contact_flag {
        if !valid_email(c) {
            return Err(Failure::new(format!("--contact `{c}` is not an email address")).into());
        }
        policy.contact = Some(c.to_string());
    }
    if let Some(n) = supported_flag {
        policy.supported_lines = n.max(1);
    }
    let root_pkg = ws.metadata.root_package();
    let first = ws.metadata.workspace_packages().into_iter().next();
    let main = root_pkg.or(first);
    let name = main
        .map(|p| p.name.to_string())
        .or_else(|| {
            ws.root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "this project".into());
    let description = main.and_then(|p| p.description.clone());
    let repository = main.and_then(|p| p.repository.clone()).or_else(|| {
        ws.metadata
            .workspace_packages()
            .iter()
            .find_map(|p| p.repository.clone())
    });
    let github = repository.as_deref().and_then(github_repo);
    if policy.contact.is_none() && github.is_none() {
        return Err(Failure::new("SECURITY.md needs a private way to report: set `contact` or a GitHub `repository`")
            .help(format!(
                "add `contact = \"security@example.org\"` under [workspace.metadata.secure-release.policy] in {} (or pass --contact), or set `repository = \"https://github.com/OWNER/REPO\"`",
                root_manifest.display()
            ))
            .into());
    }

    let repo = git2::Repository::discover(&ws.root).ok();
    let tags: Vec<String> = repo
        .as_ref()
        .and_then(|r| r.tag_names(None).ok())
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.ok().flatten().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut lines = release_lines(&tags);
    if lines.is_empty() {
        if let Some(p) = main {
            lines = release_lines(&[p.version.to_string()]);
            for l in &mut lines {
                l.tag = None;
            }
        }
    }
    let versions: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| context! { line => l.line, latest => l.latest.to_string(), supported => i < policy.supported_lines })
        .collect();

    let practices = practices(
        ws,
        repo.as_ref(),
        &policy,
        lines.first().and_then(|l| l.tag.clone()),
    )?;
    let github_ctx = github.as_ref().map(|(o, r)| {
        context! {
            owner => o, repo => r,
            advisory_url => Value::from_safe_string(format!("https://github.com/{o}/{r}/security/advisories/new")),
        }
    });
    let policy_ctx = context! {
        acknowledge_days => policy.acknowledge_days,
        triage_days => policy.triage_days,
        fix_critical_days => policy.fix_critical_days,
        fix_other_days => policy.fix_other_days,
        disclosure_days => policy.disclosure_days,
        team => policy.team.iter().map(|(n, g)| context! { name => n, github => g }).collect::<Vec<_>>(),
        scope_in => policy.scope_in,
        scope_out => policy.scope_out,
    };
    let context = context! {
        preset => preset,
        name => name,
        description => description,
        repository => repository,
        github => github_ctx,
        contact => policy.contact.clone().map(Value::from_safe_string),
        supported_lines => policy.supported_lines,
        versions => versions,
        policy => policy_ctx,
        practices => practices,
    };
    Ok(Gathered { context })
}

fn practices(
    ws: &Workspace,
    repo: Option<&git2::Repository>,
    policy: &Policy,
    newest_tag: Option<String>,
) -> Result<Value> {
    let deny = crate::audit::deny::find_config(&ws.manifest_path).map(|p| {
        context! {
            file => ws.relative(&p),
            checks => "security advisories from the RustSec database, licenses against an allow-list, banned crates and allowed sources",
        }
    });

    let lockfile = repo.is_some_and(|r| tracked(r, ws, "Cargo.lock"));

    let profile = {
        let root_manifest = ws.root_manifest();
        let pol = crate::profile::Policy::from_metadata(&ws.metadata, &root_manifest)?;
        let name = pol.profile.clone().unwrap_or_else(|| "release".into());
        let cwd = std::env::current_dir()?;
        let home = crate::workspace::cargo_home();
        let sources = crate::profile::effective::Sources::gather(
            &root_manifest,
            &cwd,
            home.as_deref(),
            std::env::vars(),
        )?;
        let eff = sources.resolve(&name)?;
        // Only the required rules, with no acceptances: the claim is about those exact settings.
        let strict = crate::profile::Policy::default();
        let failing = crate::profile::check(&eff, &strict, &ws.root, &sources.manifest.text)
            .iter()
            .any(|f| f.severity == crate::findings::Severity::Error);
        (!failing).then(|| context! { name => name })
    };

    let signed_tags = match (repo, &policy.signing_key, newest_tag) {
        (Some(r), Some(key_file), Some(tag)) => signed_tag(r, ws, key_file, &tag)?,
        _ => None,
    };

    let ci = {
        let dir = ws.root.join(".github/workflows");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        (!names.is_empty()).then(|| names.join(", "))
    };
    let any =
        deny.is_some() || lockfile || profile.is_some() || signed_tags.is_some() || ci.is_some();
    Ok(
        context! { any => any, deny => deny, lockfile => lockfile, profile => profile, signed_tags => signed_tags, ci => ci },
    )
}

fn tracked(repo: &git2::Repository, ws: &Workspace, rel: &str) -> bool {
    let Some(workdir) = repo.workdir() else {
        return false;
    };
    let Ok(prefix) = ws
        .root
        .strip_prefix(workdir.canonicalize().unwrap_or(workdir.to_path_buf()))
    else {
        return false;
    };
    let path = prefix.join(rel);
    repo.head()
        .and_then(|h| h.peel_to_tree())
        .is_ok_and(|t| t.get_path(&path).is_ok())
}

/// The newest release tag, verified against the policy's signing key.
fn signed_tag(
    repo: &git2::Repository,
    ws: &Workspace,
    key_file: &str,
    tag: &str,
) -> Result<Option<Value>> {
    let path = ws.root.join(key_file);
    let certs = crate::signer::read_certs(&path)?;
    let Ok(reference) = repo.find_reference(&format!("refs/tags/{tag}")) else {
        return Ok(None);
    };
    let Some(oid) = reference.target() else {
        return Ok(None);
    };
    let odb = repo.odb()?;
    let obj = odb.read(oid)?;
    if obj.kind() != git2::ObjectType::Tag {
        return Ok(None);
    }
    let Some((payload, sig)) = crate::tag::object::split_signed(obj.data()) else {
        return Ok(None);
    };
    Ok(crate::signer::verify_detached(&certs, payload, sig)
        .ok()
        .map(|good| {
            context! {
                tag => tag,
                fingerprint => good.cert_fingerprint,
                key_file => key_file,
                key_file_or_placeholder => key_file,
            }
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_lines_group_by_compatibility() {
        let tags: Vec<String> = [
            "v0.9.0",
            "v0.10.1",
            "0.10.3",
            "v1.0.0",
            "v1.4.2",
            "v2.0.0-rc.1",
            "junk",
            "v1.3.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let l = release_lines(&tags);
        let got: Vec<(String, String)> = l
            .iter()
            .map(|l| (l.line.clone(), l.latest.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("1.x".to_string(), "1.4.2".to_string()),
                ("0.10.x".to_string(), "0.10.3".to_string()),
                ("0.9.x".to_string(), "0.9.0".to_string()),
            ]
        );
        assert_eq!(l[1].tag.as_deref(), Some("0.10.3"));
    }

    #[test]
    fn github_urls_and_emails_are_validated() {
        assert_eq!(
            github_repo("https://github.com/o/r.git"),
            Some(("o".into(), "r".into()))
        );
        assert_eq!(
            github_repo("https://github.com/o/r/tree/main"),
            Some(("o".into(), "r".into()))
        );
        assert_eq!(github_repo("https://github.com/o|x/r"), None);
        assert_eq!(github_repo("https://gitlab.com/o/r"), None);
        assert!(valid_email("security@example.org"));
        assert!(!valid_email("a b@example.org"));
        assert!(!valid_email("<script>@x.org"));
        assert!(!valid_email("nobody"));
    }
}
