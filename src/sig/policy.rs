//! The signer policy: which keys may sign release tags, in files committed to the
//! repository and named by `[*.metadata.secure-release.signers]`. Always read from
//! git objects at a revision (HEAD for `tag`, the tagged commit or a trusted root
//! for `verify`), never from the work tree, so what is checked is what is committed.

use crate::config::{Config, SignerPolicy};
use crate::error::{escape, Failure};
use crate::git::Repo;
use crate::profile::effective::Source;
use crate::sig::openpgp::{self, KeyUse};
use crate::sig::ssh::allowed::AllowedSigners;
use anyhow::Result;
use sequoia_openpgp::Cert;
use std::path::Path;

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

impl Trusted {
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
