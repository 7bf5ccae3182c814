//! The signer policy: which keys may sign release tags, in files committed to the
//! repository and named by `[*.metadata.secure-release.signers]`. Always read from
//! git objects at a revision (HEAD for `tag`, the tagged commit or a trusted root
//! for `verify`), never from the work tree, so what is checked is what is committed.

use crate::config::{Config, SignerPolicy};
use crate::error::{escape, Failure};
use crate::git::Repo;
use crate::profile::effective::Source;
use crate::sig::check::{check, Keys, Revoked, Verdict};
use crate::sig::openpgp::{self, KeyUse};
use crate::sig::ssh::allowed::AllowedSigners;
use anyhow::Result;
use sequoia_openpgp::Cert;
use std::path::Path;

#[derive(Clone)]
pub struct Trusted {
    /// The revision the policy was read at, as messages name it (`HEAD`, `v1.2.0`, …).
    pub rev: String,
    pub policy: SignerPolicy,
    /// The OpenPGP certificates, and where they were read (`REV:PATH`).
    pub openpgp: Option<(String, Vec<Cert>)>,
    pub ssh: Option<AllowedSigners>,
    /// Each policy file's path and bytes, to tell whether two revisions agree.
    files: Vec<(String, Vec<u8>)>,
}

/// `[package.metadata.secure-release.signers]` or `[workspace.…]`: the signer
/// policy's table as the Cargo.toml at `rev` can have it, for help lines.
pub fn table_at(repo: &Repo, rev: &str) -> String {
    let table = repo
        .file_at(rev, "Cargo.toml", crate::fsutil::TEXT_LIMIT)
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|text| Source::parse(Path::new("Cargo.toml"), text, true).ok())
        .map_or("workspace.metadata.secure-release", |src| {
            Config::table_for(&src)
        });
    format!("[{table}.signers]")
}

/// Where a tag's signer policy gets its authority when the verifier names no trust
/// root: never from the tag alone, which anyone who can push a commit can write.
pub enum Root {
    /// No earlier release tag carries a policy: the tag's own, trusted on first use.
    FirstUse,
    /// The policy of `root`, the nearest earlier release with one, unchanged since.
    Unchanged { root: String },
    /// The policy changed since `root` only in commits each signed by a key of the
    /// policy before it.
    SignedChanges { root: String, commits: usize },
    /// A change since `root` was made in `commit`, which no key of the policy before
    /// it signed (`why`): the tag is judged by `root`'s policy; `added` are the keys
    /// the tag's policy has that `root`'s has not.
    Broken {
        root: String,
        commit: String,
        why: String,
        added: Vec<String>,
    },
}

/// The policy to judge tag `tag` by, given the policy committed in it: the nearest
/// earlier release tag's (an ancestor of the tagged commit) when one carries a
/// policy, carried forward through every later change that was signed by a key of
/// the policy before it; the tag's own when no earlier release has one.
/// `revoked` are the verifier's revocations: a change signed by a revoked key is
/// unsigned.
pub fn default_root(
    repo: &Repo,
    tag: &str,
    at_tag: Trusted,
    revoked: &[Revoked],
) -> Result<(Trusted, Root)> {
    let Some(tagged) = repo.resolve_commit(&format!("refs/tags/{tag}")) else {
        return Ok((at_tag, Root::FirstUse));
    };
    let mut nearest: Option<(String, String, Trusted)> = None;
    for name in repo.tag_names() {
        let Some(commit) = repo.resolve_commit(&format!("refs/tags/{name}")) else {
            continue;
        };
        let nearer = match &nearest {
            None => true,
            Some((_, best, _)) => repo.is_strict_ancestor(best, &commit),
        };
        if name == tag || !nearer || !repo.is_strict_ancestor(&commit, &tagged) {
            continue;
        }
        // An old release whose policy no longer reads is no root.
        if let Ok(Some(t)) = Trusted::at(repo, &format!("refs/tags/{name}"), &name, "") {
            nearest = Some((name, commit, t));
        }
    }
    let Some((root, root_commit, root_policy)) = nearest else {
        return Ok((at_tag, Root::FirstUse));
    };
    if root_policy.same_as(&at_tag) {
        return Ok((at_tag, Root::Unchanged { root }));
    }
    let mut current = root_policy.clone();
    let mut commits = 0;
    for commit in repo.commits_between(&root_commit, &tagged)? {
        let short = commit.get(..12).unwrap_or(&commit).to_string();
        let Ok(Some(next)) = Trusted::at(repo, &commit, &short, "") else {
            continue;
        };
        if next.same_as(&current) {
            continue;
        }
        match signed_by(repo, &commit, &current.keys(revoked)) {
            Ok(()) => {
                current = next;
                commits += 1;
            }
            Err(why) => {
                let added = at_tag.keys_added_since(&root_policy);
                return Ok((
                    root_policy,
                    Root::Broken {
                        root,
                        commit: short,
                        why,
                        added,
                    },
                ));
            }
        }
    }
    Ok((at_tag, Root::SignedChanges { root, commits }))
}

/// Is `commit` signed (git's `gpgsig`) by one of `keys`, for its committer?
fn signed_by(repo: &Repo, commit: &str, keys: &Keys) -> std::result::Result<(), String> {
    let Some((signature, data)) = repo.commit_signature(commit) else {
        return Err("it is not signed".into());
    };
    let committer = crate::release::object::committer_of(&data);
    let signer = committer
        .as_ref()
        .map(|(email, time)| (email.as_str(), *time));
    match check(keys, &data, &signature, signer) {
        Verdict::Good(_) => Ok(()),
        Verdict::Bad(why) => Err(why),
        Verdict::NoKeys(format) => Err(format!(
            "it is signed with {}, and the policy before it lists no such keys",
            format.name()
        )),
    }
}

impl Trusted {
    /// The keys this policy allows, to judge a signature by, with `revoked` applied.
    pub fn keys(&self, revoked: &[Revoked]) -> Keys {
        Keys {
            openpgp: self
                .openpgp
                .as_ref()
                .map(|(_, certs)| certs.clone())
                .unwrap_or_default(),
            ssh: self.ssh.clone(),
            revoked: revoked.to_vec(),
            fingerprints: Vec::new(),
        }
    }

    /// Keys this policy allows that `earlier` does not (SSH key and OpenPGP
    /// certificate fingerprints), for messages.
    pub fn keys_added_since(&self, earlier: &Trusted) -> Vec<String> {
        use ssh_key::HashAlg;
        let ssh = |t: &Trusted| -> Vec<String> {
            t.ssh
                .iter()
                .flat_map(|a| &a.entries)
                .map(|e| e.key.fingerprint(HashAlg::Sha256).to_string())
                .collect()
        };
        let pgp = |t: &Trusted| -> Vec<String> {
            t.openpgp
                .iter()
                .flat_map(|(_, certs)| certs)
                .map(|c| c.fingerprint().to_hex())
                .collect()
        };
        let (old_ssh, old_pgp) = (ssh(earlier), pgp(earlier));
        let mut added: Vec<String> = ssh(self)
            .into_iter()
            .filter(|k| !old_ssh.contains(k))
            .chain(pgp(self).into_iter().filter(|k| !old_pgp.contains(k)))
            .collect();
        added.dedup();
        added
    }

    /// The policy at `rev` (named `shown` in messages), for the workspace whose
    /// root is `dir` inside the repository (`""` for the top); None when that
    /// Cargo.toml names no signers.
    pub fn at(repo: &Repo, rev: &str, shown: &str, dir: &str) -> Result<Option<Trusted>> {
        let manifest = join(dir, "Cargo.toml");
        let Some(bytes) = repo.file_at(rev, &manifest, crate::fsutil::TEXT_LIMIT)? else {
            return Ok(None);
        };
        let origin = format!("{shown}:{manifest}");
        let text = String::from_utf8(bytes)
            .map_err(|_| Failure::new(format!("{} is not UTF-8 text", escape(&origin))))?;
        let source = Source::parse(Path::new(&origin), text, true)?;
        let policy = Config::from_manifest(&source)?.signers;
        if policy.is_empty() {
            return Ok(None);
        }
        let mut files = Vec::new();
        let mut read = |(path, line): &(String, usize)| -> Result<(String, Vec<u8>)> {
            let in_repo = join(dir, path);
            let bytes = repo
                .file_at(rev, &in_repo, crate::fsutil::KEY_LIMIT)?
                .ok_or_else(|| {
                    Failure::new(format!(
                        "the signer policy ({}:{line}) names `{}`, which is not committed at {}",
                        escape(&origin),
                        escape(path),
                        escape(shown)
                    ))
                    .help(format!(
                        "commit the file, or fix the path in [{}.signers]",
                        Config::table_for(&source)
                    ))
                })?;
            files.push((in_repo.clone(), bytes.clone()));
            Ok((format!("{shown}:{in_repo}"), bytes))
        };
        let openpgp = match &policy.openpgp {
            None => None,
            Some(entry) => {
                let (at, bytes) = read(entry)?;
                Some((
                    at.clone(),
                    openpgp::parse_certs(&bytes, &at, KeyUse::Verify)?,
                ))
            }
        };
        let ssh = match &policy.ssh {
            None => None,
            Some(entry) => {
                let (at, bytes) = read(entry)?;
                Some(AllowedSigners::parse(
                    &at,
                    &String::from_utf8_lossy(&bytes),
                )?)
            }
        };
        Ok(Some(Trusted {
            rev: shown.to_string(),
            policy,
            openpgp,
            ssh,
            files,
        }))
    }

    /// Do the two revisions' policies name the same files with the same content?
    pub fn same_as(&self, other: &Trusted) -> bool {
        self.policy.openpgp.as_ref().map(|p| &p.0) == other.policy.openpgp.as_ref().map(|p| &p.0)
            && self.policy.ssh.as_ref().map(|p| &p.0) == other.policy.ssh.as_ref().map(|p| &p.0)
            && self.files == other.files
    }

    /// Is the OpenPGP certificate with this primary fingerprint one of the policy's?
    pub fn openpgp_allows(&self, cert_fingerprint: &str) -> std::result::Result<(), String> {
        match &self.openpgp {
            None => Err(self.not_listed_format("OpenPGP")),
            Some((at, certs)) => {
                if certs
                    .iter()
                    .any(|c| c.fingerprint().to_hex() == cert_fingerprint)
                {
                    Ok(())
                } else {
                    Err(format!(
                        "OpenPGP key {cert_fingerprint} is not one of the {} certificate(s) in {}",
                        certs.len(),
                        escape(at)
                    ))
                }
            }
        }
    }

    /// The sentence for a signature format the policy lists no keys for.
    pub fn not_listed_format(&self, format: &str) -> String {
        let other = if format == "SSH" { "OpenPGP" } else { "SSH" };
        format!(
            "the signer policy at {} lists {other} signers only, and this tag is signed with {format}",
            escape(&self.rev)
        )
    }
}

fn join(dir: &str, path: &str) -> String {
    let path = path.trim_start_matches("./");
    if dir.is_empty() {
        path.to_string()
    } else {
        format!("{}/{path}", dir.trim_end_matches('/'))
    }
}
