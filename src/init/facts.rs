//! Facts for SECURITY.md, gathered from the project and checked by our own code —
//! never invented. A practice that is not true is absent, not claimed.

use crate::config::Config;
use crate::error::Failure;
use crate::git::{Repo, Tag};
use crate::profile::effective::Source;
use crate::sig::check::{check, Format, Keys, Signer, Verdict};
use crate::sig::policy::Trusted;
use crate::workspace::Workspace;
use anyhow::Result;
use minijinja::{context, Value};

pub use crate::config::valid_email;

/// `https://github.com/OWNER/REPO` (with or without `.git`), validated.
pub fn github_repo(url: &str) -> Option<(String, String)> {
    // Hosts as GitHub treats them: case-insensitive, with or without `www.`.
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let (host, rest) = rest.split_once('/')?;
    let host = host.to_ascii_lowercase();
    if host != "github.com" && host != "www.github.com" {
        return None;
    }
    let mut parts = rest.trim_end_matches('/').splitn(3, '/');
    let owner = parts.next()?;
    let repo = parts.next()?;
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    // GitHub's rules: owners are 1-39 alphanumerics or single inner hyphens; repository
    // names are 1-100 of alphanumerics, `-`, `_`, `.`, and never `.` or `..`.
    let owner_ok = (1..=39).contains(&owner.len())
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && !owner.contains("--");
    let repo_ok = (1..=100).contains(&repo.len())
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && repo != "."
        && repo != "..";
    (owner_ok && repo_ok).then(|| (owner.to_string(), repo.to_string()))
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

/// What the command line adds to the manifest's settings.
pub struct Flags<'a> {
    pub preset: &'a str,
    pub contact: Option<&'a str>,
    pub supported_lines: Option<usize>,
    /// The deny.toml this run is about to write (`init --deny`), not there yet.
    pub planned_deny: Option<&'a std::path::Path>,
}

/// `--contact`'s value is an email address.
pub fn check_contact(c: &str) -> Result<()> {
    if valid_email(c) {
        return Ok(());
    }
    Err(Failure::new(format!(
        "--contact `{}` is not an email address",
        crate::error::escape(c)
    ))
    .help("pass an address such as security@example.org")
    .into())
}

pub fn gather(
    ws: &Workspace,
    config: &Config,
    manifest: Source,
    flags: &Flags,
) -> Result<Gathered> {
    let (preset, contact_flag, supported_flag) =
        (flags.preset, flags.contact, flags.supported_lines);
    let root_manifest = ws.root_manifest();
    let mut policy = config.policy.clone();
    if let Some(c) = contact_flag {
        check_contact(c)?;
        policy.contact = Some(c.to_string());
    }
    if let Some(n) = supported_flag {
        policy.supported_lines = n;
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
                "add `contact = \"security@example.org\"` under [{}.policy] in {} (or pass --contact), or set `repository = \"https://github.com/OWNER/REPO\"`",
                Config::table_for(&manifest),
                crate::error::escape(&root_manifest.display().to_string())
            ))
            .into());
    }

    let repo = Repo::find(&ws.root);
    let tags: Vec<String> = repo.as_ref().map(Repo::tag_names).unwrap_or_default();
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
        config,
        manifest,
        lines.first().and_then(|l| l.tag.clone()),
        flags.planned_deny,
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
    repo: Option<&Repo>,
    config: &Config,
    manifest: Source,
    newest_tag: Option<String>,
    planned_deny: Option<&std::path::Path>,
) -> Result<Value> {
    let found = crate::deps::deny::find_config(&ws.manifest_path);
    let deny = found.or_else(|| planned_deny.map(|p| p.to_path_buf())).map(|p| {
        context! {
            file => ws.relative(&p),
            checks => "security advisories from the RustSec database, licenses against an allow-list, banned crates and allowed sources",
        }
    });

    let lockfile = repo.is_some_and(|r| r.tracked_in_head(&ws.root.join("Cargo.lock")));

    let profile = {
        let name = config.released_profile();
        let sources = crate::profile::gather_sources(manifest)?;
        let eff = sources.resolve(&name)?;
        // Only the required rules, with no acceptances: the claim is about those exact settings.
        let strict = crate::profile::Policy::default();
        let failing = crate::profile::check(&eff, &strict, &ws.root, &sources.manifest.text)
            .iter()
            .any(|f| f.severity == crate::report::Severity::Error);
        (!failing).then(|| context! { name => name })
    };

    let signed_tags = match (repo, newest_tag) {
        (Some(r), Some(tag)) => signed_tag(r, ws, config, &tag)?,
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
        names
    };
    // Checked artifacts: claimed only when a workflow runs `audit --artifact(s)`.
    let artifacts = workflows_running(ws, &ci, |l| {
        l.contains("secure-release") && l.contains(" audit ") && l.contains("--artifact")
    });
    let artifacts = (!artifacts.is_empty()).then(|| artifacts.join(", "));
    // The SBOM practice: promised by the policy, and a workflow that keeps it.
    let sbom: Vec<String> = match config.policy.sbom {
        false => Vec::new(),
        true => workflows_running(ws, &ci, |l| {
            l.contains("secure-release") && l.split_whitespace().any(|w| w == "sbom")
        }),
    };
    let sbom = (!sbom.is_empty()).then(|| sbom.join(", "));
    // Signed release files: claimed only when a workflow runs `attest`.
    let attest = workflows_running(ws, &ci, |l| {
        l.contains("secure-release") && l.split_whitespace().any(|w| w == "attest")
    });
    let attest = (!attest.is_empty()).then(|| attest.join(", "));
    let workflows = hardened_workflows(ws);
    let ci = (!ci.is_empty()).then(|| ci.join(", "));
    let any = deny.is_some()
        || lockfile
        || profile.is_some()
        || signed_tags.is_some()
        || ci.is_some()
        || workflows.is_some();
    Ok(
        context! { any => any, deny => deny, lockfile => lockfile, profile => profile, signed_tags => signed_tags, ci => ci, artifacts => artifacts, sbom => sbom, attest => attest, workflows => workflows },
    )
}

/// The workflow practice: claimed only when the repository has a release workflow
/// (run on tags or releases) and the audit's workflow check finds nothing in any of
/// its workflow files; a file it cannot read claims nothing. The names of the
/// workflows, for the sentence.
fn hardened_workflows(ws: &Workspace) -> Option<String> {
    use crate::workflows;
    let root = workflows::repository_root(&ws.root);
    let sources = workflows::read(workflows::files_of(&root).ok()?).ok()?;
    let mut releases = Vec::new();
    for src in &sources {
        if !workflows::check(src).ok()?.is_empty() {
            return None;
        }
        if src.kind == workflows::rules::FileKind::Workflow && workflows::is_release_text(&src.text)
        {
            releases.push(
                src.name
                    .trim_start_matches(".github/workflows/")
                    .to_string(),
            );
        }
    }
    (!releases.is_empty()).then(|| releases.join(", "))
}

/// The workflows (of `names`) with a line that `runs` says runs the practice.
fn workflows_running(ws: &Workspace, names: &[String], runs: impl Fn(&str) -> bool) -> Vec<String> {
    names
        .iter()
        .filter(|n| {
            crate::fsutil::read_text(
                &ws.root.join(".github/workflows").join(n),
                crate::fsutil::TEXT_LIMIT,
                "workflow",
            )
            .is_ok_and(|t| t.lines().any(&runs))
        })
        .cloned()
        .collect()
}

/// The newest release tag, verified against the signer policy committed in it
/// (either format), else against the policy's OpenPGP `signing-key`; None when it
/// does not verify, so nothing is claimed that a reader could not check.
fn signed_tag(repo: &Repo, ws: &Workspace, config: &Config, tag: &str) -> Result<Option<Value>> {
    let Some(Tag::Signed { payload, signature }) = repo.read_tag(tag)? else {
        return Ok(None);
    };
    let tagger = crate::release::object::tagger_of(&payload);
    let signer = tagger.as_ref().map(|(email, time)| (email.as_str(), *time));
    let good = |keys: &Keys| match check(keys, &payload, &signature, signer) {
        Verdict::Good(s) => Some(s),
        Verdict::Bad(_) | Verdict::NoKeys(_) => None,
    };
    let dir = repo.path_in_repo(&ws.root).unwrap_or_default();
    if let Some(t) = Trusted::at(repo, &format!("refs/tags/{tag}"), tag, &dir)? {
        let policy = t.policy.files().join(", ");
        let ssh_file = t.policy.ssh.as_ref().map(|(file, _)| file.clone());
        let openpgp_file = t.policy.openpgp.as_ref().map(|(file, _)| file.clone());
        // A key git's revocation file revokes signs no release SECURITY.md vouches for.
        let keys = t.keys(&crate::sig::check::git_revocations(repo)?);
        return Ok(match (good(&keys), ssh_file, openpgp_file) {
            (
                Some(Signer::Ssh {
                    algorithm,
                    fingerprint,
                    ..
                }),
                Some(file),
                _,
            ) => Some(context! {
                tag => tag,
                format => "SSH",
                signer => format!("{algorithm} {fingerprint}"),
                key_file => file,
                policy => policy,
                verify_git => format!("git -c gpg.ssh.allowedSignersFile={file} verify-tag {tag}"),
                verify_ours => format!("cargo secure-release verify {tag}"),
            }),
            (Some(s @ Signer::OpenPgp { .. }), _, Some(file)) => Some(openpgp_fact(
                &s,
                tag,
                &file,
                Some(&policy),
                format!("cargo secure-release verify {tag}"),
            )),
            _ => None,
        });
    }
    let (Some((key_file, line)), Format::OpenPgp) =
        (&config.policy.signing_key, Format::of(&signature))
    else {
        return Ok(None);
    };
    let path = ws.root.join(key_file);
    let certs = crate::sig::openpgp::read_certs(&path, crate::sig::openpgp::KeyUse::Verify)
        .map_err(|e| {
            Failure::new(format!(
                "Cargo.toml:{line}: policy `signing-key = \"{}\"`: {e}",
                crate::error::escape(key_file)
            ))
            .help("point `signing-key` at the release signers' public certificate file, relative to the workspace root")
        })?;
    let keys = Keys {
        openpgp: certs,
        ..Default::default()
    };
    let ours = format!("cargo secure-release verify {tag} --cert {key_file}");
    Ok(good(&keys).map(|s| openpgp_fact(&s, tag, key_file, None, ours)))
}

/// The signed-tags fact for a good OpenPGP signature.
fn openpgp_fact(
    signer: &Signer,
    tag: &str,
    key_file: &str,
    policy: Option<&str>,
    verify_ours: String,
) -> Value {
    context! {
        tag => tag,
        format => "OpenPGP",
        signer => signer.fingerprint(),
        key_file => key_file,
        policy => policy,
        verify_git => format!("git verify-tag {tag}"),
        verify_ours => verify_ours,
    }
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
        for url in [
            "https://GitHub.com/o/r",
            "https://www.github.com/o/r",
            "HTTPS://GITHUB.COM/o/r",
        ] {
            assert_eq!(github_repo(url), Some(("o".into(), "r".into())), "{url}");
        }
        assert_eq!(github_repo("https://github.com.evil.example/o/r"), None);
        assert_eq!(github_repo("https://evilgithub.com/o/r"), None);
        assert_eq!(github_repo("https://github.com/../../x"), None);
        assert_eq!(github_repo("https://github.com/o/.."), None);
        assert_eq!(github_repo("https://github.com/-o/r"), None);
        assert_eq!(
            github_repo(&format!("https://github.com/{}/r", "a".repeat(40))),
            None
        );
        assert!(valid_email("security@example.org"));
        assert!(!valid_email("a b@example.org"));
        assert!(!valid_email("<script>@x.org"));
        assert!(!valid_email("nobody"));
    }
}
