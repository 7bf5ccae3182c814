//! Whether a release tag is trusted, by the rules `verify` states: the keys that
//! judge it (named by the verifier, else the signer policy with its authority from
//! the releases before it or a trust root, else git's allowed signers), the
//! signature's verdict, the name the signed object gives itself, and the claims of
//! its trailer against the tagged tree. `verify` reports it; `attest` refuses to
//! sign the files of a release whose tag it does not trust, and `verify --artifact`
//! holds a release's attestations to the tag they name.

use crate::error::{escape, Failure};
use crate::git::{Repo, Tag};
use crate::options::VerifyOptions;
use crate::release::claims::{Claims, Key};
use crate::report::verify::{ClaimCheck, Signature, VerifyReport};
use crate::sig::check::{check, Format, Keys, Verdict};
use crate::sig::openpgp::{self, KeyUse};
use crate::sig::policy::Root;
use crate::sig::policy::Trusted;
use anyhow::Result;

/// A tag checked: the report (`audit` left None), the claims of its trailer when
/// it got that far, and the keys that judged it, for the release's other signatures.
pub struct Checked {
    pub report: VerifyReport,
    pub claims: Option<Claims>,
    /// The keys the tag was judged by (empty when the tag has no signature).
    pub keys: Keys,
    /// The signer policy those keys are, when it judged.
    pub trusted: Option<Trusted>,
}

/// The keys a signature is judged against, and what the output says about them.
struct Judge {
    keys: Keys,
    /// Lines about where the keys came from (the policy, a change in it).
    notes: Vec<String>,
    /// The keys are the signer policy's: a signature in a format it does not list
    /// is a signer outside the policy (exit 1), not a missing argument.
    from_policy: bool,
    /// The signer policy that judges, when it is the policy's keys.
    trusted: Option<Trusted>,
}

/// The tag `opts.tag` judged by the keys `opts` names or the rules above; checking
/// stops at the first claim that does not hold.
pub fn check_tag(repo: &Repo, opts: &VerifyOptions) -> Result<Checked> {
    let tag = escape(&opts.tag);
    let exists = repo.read_tag(&opts.tag)?;
    let judge = judge(opts, repo)?;
    let report = VerifyReport {
        tag: opts.tag.clone(),
        signature: Signature::Bad {
            reason: String::new(),
        },
        notes: judge.notes.clone(),
        claims: Vec::new(),
        audit: None,
        artifacts: Vec::new(),
        bundle: None,
    };
    let mut checked = Checked {
        report,
        claims: None,
        keys: Keys::default(),
        trusted: None,
    };
    let bad = |mut checked: Checked, reason: String| {
        checked.report.signature = Signature::Bad { reason };
        Ok(checked)
    };
    let (payload, signature) = match exists {
        None => {
            return Err(Failure::new(format!("tag `{tag}` does not exist"))
                .help("list tags with `git tag`")
                .into())
        }
        Some(Tag::Lightweight) => {
            return bad(
                checked,
                format!("`{tag}` is a lightweight tag: it has no signature"),
            )
        }
        Some(Tag::Unsigned) => return bad(checked, format!("tag `{tag}` is not signed")),
        Some(Tag::Signed { payload, signature }) => (payload, signature),
    };

    let tagger = crate::release::object::tagger_of(&payload);
    let signer = tagger.as_ref().map(|(email, time)| (email.as_str(), *time));
    checked.report.signature = match check(&judge.keys, &payload, &signature, signer) {
        Verdict::Good(signer) => Signature::Good(signer.reported()),
        Verdict::Bad(why) => return bad(checked, format!("tag `{tag}`: {why}")),
        Verdict::NoKeys(format) if judge.from_policy => {
            let other = match format {
                Format::Ssh => "OpenPGP",
                Format::OpenPgp => "SSH",
            };
            return bad(
                checked,
                format!(
                    "tag `{tag}` is signed with {}, and the signer policy lists {other} signers only",
                    format.name()
                ),
            );
        }
        Verdict::NoKeys(Format::Ssh) => {
            return Err(no_keys_for(repo, &tag, "SSH", "--allowed-signers FILE"))
        }
        Verdict::NoKeys(Format::OpenPgp) => {
            return Err(no_keys_for(
                repo,
                &tag,
                "OpenPGP",
                "--cert FILE or --keyring FILE",
            ))
        }
    };
    // The signed object names the release it is: a ref re-pointed at another
    // release's signed tag object must not borrow that signature.
    let named = crate::release::object::name_of(&payload);
    if named.as_deref() != Some(opts.tag.as_str()) {
        checked.report.claims.push(ClaimCheck {
            key: Some("tag"),
            holds: false,
            message: format!(
                "the signed tag object names itself `{}`, not `{tag}`: this ref points at another tag's object",
                escape(named.as_deref().unwrap_or("(no name)"))
            ),
        });
        return Ok(checked);
    }
    // The trailer is a claim: check what can be checked against the tagged tree.
    let claims = match Claims::parse(&String::from_utf8_lossy(&payload)) {
        Ok(c) => c,
        Err(e) => {
            checked.report.claims.push(ClaimCheck {
                key: None,
                holds: false,
                message: format!("line {} of the tag: {}", e.line, e.why),
            });
            return Ok(checked);
        }
    };
    for (key, claim) in [
        (
            Key::CargoLockSha256,
            check_lockfile_claim(repo, &opts.tag, &claims)?,
        ),
        (Key::Package, check_version_claim(repo, &opts.tag, &claims)?),
    ] {
        if let Some(c) = claim.checked(key) {
            let holds = c.holds;
            checked.report.claims.push(c);
            if !holds {
                return Ok(checked);
            }
        }
    }
    checked.claims = Some(claims);
    checked.keys = judge.keys;
    checked.trusted = judge.trusted;
    Ok(checked)
}

fn no_keys_for(repo: &Repo, tag: &str, format: &str, flag: &str) -> anyhow::Error {
    Failure::new(format!(
        "tag `{tag}` is signed with {format}, and no {format} keys were given to verify it"
    ))
    .help(format!(
        "pass {flag}, or name the signers in {}",
        crate::sig::policy::table_at(repo, "HEAD")
    ))
    .into()
}

/// Keys from the command line, else the signer policy (at the trust root or the
/// tagged commit), else git's `gpg.ssh.allowedSignersFile`.
fn judge(opts: &VerifyOptions, repo: &Repo) -> Result<Judge> {
    let mut judge = Judge {
        keys: Keys {
            fingerprints: opts.signers.clone(),
            ..Default::default()
        },
        notes: Vec::new(),
        from_policy: false,
        trusted: None,
    };
    for f in &opts.revoked {
        judge.keys.revoked.push(crate::sig::check::read_revoked(f)?);
    }
    // git's revocation file revokes for every judge, not only with git's allowed
    // signers: a key revoked there is revoked under the signer policy too.
    judge
        .keys
        .revoked
        .extend(crate::sig::check::git_revocations(repo)?);
    for f in opts.certs.iter().chain(opts.keyring.iter()) {
        judge
            .keys
            .openpgp
            .extend(openpgp::read_certs(f, KeyUse::Verify)?);
    }
    if let Some(f) = &opts.allowed_signers {
        judge.keys.ssh = Some(crate::sig::check::read_allowed(f)?);
    }
    if !judge.keys.openpgp.is_empty() || judge.keys.ssh.is_some() {
        return Ok(judge);
    }
    let tag_ref = format!("refs/tags/{}", opts.tag);
    // None too when the tag does not exist: `run` says so once the keys are known.
    let at_tag = Trusted::at(repo, &tag_ref, &opts.tag, "")?;
    let trusted = match &opts.trust_root {
        Some(root) => {
            if repo.resolve_commit(root).is_none() {
                return Err(Failure::new(format!(
                    "--trust-root `{}` is not a commit, tag or branch of this repository",
                    escape(root)
                ))
                .help("name a revision you already trust, e.g. the previous release tag")
                .into());
            }
            let Some(trusted) = Trusted::at(repo, root, root, "")? else {
                return Err(Failure::new(format!(
                    "the trust root `{}` has no signer policy ({} in its Cargo.toml)",
                    escape(root),
                    crate::sig::policy::table_at(repo, root)
                ))
                .help("pick a later trust root, or pass --cert/--allowed-signers")
                .into());
            };
            judge.notes.push(format!(
                "signer policy: as committed in {} (--trust-root)",
                escape(root)
            ));
            match &at_tag {
                Some(t) if trusted.same_as(t) => {}
                Some(_) => judge.notes.push(format!(
                    "note: the signer policy changed between {} and {}; the signature was judged by {}'s",
                    escape(root),
                    escape(&opts.tag),
                    escape(root)
                )),
                None => judge.notes.push(format!(
                    "note: {} has no signer policy any more; the signature was judged by {}'s",
                    escape(&opts.tag),
                    escape(root)
                )),
            }
            Some(trusted)
        }
        // No trust root named: the policy's authority comes from the releases before
        // this one, never from the tag alone (see `sig::policy::default_root`).
        None => match at_tag {
            None => None,
            Some(at_tag) => {
                let (trusted, root) =
                    crate::sig::policy::default_root(repo, &opts.tag, at_tag, &judge.keys.revoked)?;
                let tag = escape(&opts.tag);
                judge.notes.push(match root {
                    Root::FirstUse => format!(
                        "signer policy: as committed in {tag} (the tagged commit, trusted on first use: no earlier release tag carries a signer policy; pass --trust-root REF to judge by a commit you already trust)"
                    ),
                    Root::Unchanged { root } => format!(
                        "signer policy: as committed in {tag}, unchanged since {}, the release before it",
                        escape(&root)
                    ),
                    Root::SignedChanges { root, commits } => format!(
                        "signer policy: as committed in {tag}; its {commits} change{} since {} {} signed by a key of the policy before {}",
                        crate::output::plural(commits),
                        escape(&root),
                        if commits == 1 { "was" } else { "were" },
                        if commits == 1 { "it" } else { "each" },
                    ),
                    Root::Broken {
                        root,
                        commit,
                        why,
                        added,
                    } => format!(
                        "signer policy: as committed in {}, the release before {tag}: the policy changed in commit {commit}, which no key of the policy before it signed ({}); not trusted: {}",
                        escape(&root),
                        escape(&why),
                        match added.is_empty() {
                            true => "its changes".to_string(),
                            false => format!("the keys it added ({})", added.join(", ")),
                        }
                    ),
                });
                Some(trusted)
            }
        },
    };
    if let Some(t) = trusted {
        judge.keys = Keys {
            fingerprints: std::mem::take(&mut judge.keys.fingerprints),
            ..t.keys(&judge.keys.revoked)
        };
        judge.from_policy = true;
        judge.trusted = Some(t);
        return Ok(judge);
    }
    if let Some(f) = repo.config_string("gpg.ssh.allowedSignersFile") {
        let path = crate::sig::ssh::expand_home(std::path::Path::new(&f));
        judge.keys.ssh = Some(crate::sig::check::read_allowed(&path)?);
        judge
            .notes
            .push("allowed signers: git config gpg.ssh.allowedSignersFile".into());
        return Ok(judge);
    }
    Err(Failure::new("no keys to verify against")
        .help(format!("pass --cert FILE / --keyring FILE (OpenPGP) or --allowed-signers FILE (SSH), or commit a signer policy ({})", crate::sig::policy::table_at(repo, "HEAD")))
        .into())
}

pub enum Claim {
    /// The claim holds; what the output says about it.
    Holds(String),
    Absent,
    Broken(String),
}

impl Claim {
    /// The check as the report has it (None for a claim the tag does not make).
    pub fn checked(self, key: Key) -> Option<ClaimCheck> {
        let (holds, message) = match self {
            Claim::Holds(m) => (true, m),
            Claim::Broken(m) => (false, m),
            Claim::Absent => return None,
        };
        Some(ClaimCheck {
            key: Some(key.as_str()),
            holds,
            message,
        })
    }
}

/// `Cargo-lock-sha256:` in the tag's trailer against the Cargo.lock of the tagged
/// commit's tree (read from git objects, never the work tree).
fn check_lockfile_claim(repo: &Repo, tag: &str, claims: &Claims) -> Result<Claim> {
    let (Some(claimed), Some(line)) =
        (&claims.cargo_lock_sha256, claims.line(Key::CargoLockSha256))
    else {
        return Ok(Claim::Absent);
    };
    let Some(lock) = repo.file_at_tag(tag, "Cargo.lock")? else {
        return Ok(Claim::Broken(format!(
            "line {line} claims a Cargo.lock hash, but the tagged tree has no Cargo.lock at its root"
        )));
    };
    let actual = crate::digest::sha256_hex(&lock);
    if actual == *claimed {
        Ok(Claim::Holds(format!(
            "Cargo-lock-sha256 (line {line} of the tag) matches the tagged Cargo.lock"
        )))
    } else {
        Ok(Claim::Broken(format!(
            "line {line} says Cargo-lock-sha256 {}, but the tagged Cargo.lock hashes to {actual}",
            escape(claimed)
        )))
    }
}

/// `Package: NAME VERSION MANIFEST` against that manifest in the tagged tree, and
/// the version against the tag's name: a tag `v1.3.0` on a tree whose package says
/// 1.2.0 releases something other than it names.
fn check_version_claim(repo: &Repo, tag: &str, claims: &Claims) -> Result<Claim> {
    let (Some(p), Some(line)) = (&claims.package, claims.line(Key::Package)) else {
        return Ok(Claim::Absent);
    };
    let (name, version, manifest) = (p.name.as_str(), p.version.as_str(), p.manifest.as_str());
    let at = format!("{tag}:{manifest}");
    let Some(actual) = package_version(repo, tag, manifest)? else {
        return Ok(Claim::Broken(format!(
            "line {line} names {}, which the tagged tree does not have (or it has no [package] version)",
            escape(&at)
        )));
    };
    if actual.0 != name || actual.1 != version {
        return Ok(Claim::Broken(format!(
            "line {line} says {} {}, but {} is {} {}",
            escape(name),
            escape(version),
            escape(&at),
            escape(&actual.0),
            escape(&actual.1)
        )));
    }
    if !names_version(tag, version) {
        return Ok(Claim::Broken(format!(
            "the tag's name does not carry the version it releases ({} {}, line {line})",
            escape(name),
            escape(version)
        )));
    }
    Ok(Claim::Holds(format!(
        "{} {} (line {line}) matches {} and the tag's name",
        escape(name),
        escape(version),
        escape(&at)
    )))
}

/// Does `tag` end with `version`, not as part of a longer number (`v10.1.0` does
/// not name 0.1.0)?
fn names_version(tag: &str, version: &str) -> bool {
    match tag.strip_suffix(version) {
        Some(prefix) => !prefix.ends_with(|c: char| c.is_ascii_digit() || c == '.'),
        None => false,
    }
}

/// The `[package]` name and version in `manifest` at the tag, following
/// `version.workspace = true` to the nearest enclosing workspace manifest.
fn package_version(repo: &Repo, tag: &str, manifest: &str) -> Result<Option<(String, String)>> {
    let rev = format!("refs/tags/{tag}");
    let read = |path: &str| -> Result<Option<toml_edit::DocumentMut>> {
        let Some(bytes) = repo.file_at(&rev, path, crate::fsutil::TEXT_LIMIT)? else {
            return Ok(None);
        };
        Ok(String::from_utf8(bytes).ok().and_then(|t| t.parse().ok()))
    };
    let Some(doc) = read(manifest)? else {
        return Ok(None);
    };
    let Some(pkg) = doc.get("package") else {
        return Ok(None);
    };
    let Some(name) = pkg.get("name").and_then(|n| n.as_str()) else {
        return Ok(None);
    };
    let version = match pkg.get("version") {
        Some(v) if v.as_str().is_some() => v.as_str().map(str::to_string),
        Some(v) if v.get("workspace").and_then(|w| w.as_bool()) == Some(true) => {
            let mut found = None;
            let mut dir = std::path::Path::new(manifest).parent();
            while let Some(d) = dir {
                let candidate = match d.as_os_str().is_empty() {
                    true => "Cargo.toml".to_string(),
                    false => format!("{}/Cargo.toml", d.display()),
                };
                if let Some(ws) = read(&candidate)? {
                    if let Some(w) = ws.get("workspace") {
                        found = w
                            .get("package")
                            .and_then(|p| p.get("version"))
                            .and_then(|v| v.as_str())
                            .map(str::to_string);
                        break;
                    }
                }
                dir = d.parent();
            }
            found
        }
        // No version: Cargo's default.
        None => Some("0.0.0".to_string()),
        Some(_) => None,
    };
    Ok(version.map(|v| (name.to_string(), v)))
}

#[cfg(test)]
mod tests {
    use super::names_version;

    #[test]
    fn tag_names_carry_whole_versions() {
        assert!(names_version("v1.2.3", "1.2.3"));
        assert!(names_version("my-crate-v1.2.3", "1.2.3"));
        assert!(names_version("1.2.3", "1.2.3"));
        assert!(!names_version("v11.2.3", "1.2.3"));
        assert!(!names_version("v0.1.2.3", "1.2.3"));
        assert!(!names_version("v1.2.3-rc.1", "1.2.3"));
        assert!(!names_version("v1.2.4", "1.2.3"));
    }
}
