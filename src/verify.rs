//! `cargo secure-release verify`: check a tag's OpenPGP signature with sequoia.

use crate::error::{escape, Failure};
use crate::git::{Repo, Tag};
use crate::options::VerifyOptions;
use crate::shell::Shell;
use crate::signer::{self, KeyUse};
use anyhow::Result;

pub fn run(opts: &VerifyOptions, shell: &Shell) -> Result<u8> {
    let mut certs = Vec::new();
    for f in opts.certs.iter().chain(opts.keyring.iter()) {
        certs.extend(signer::read_certs(f, KeyUse::Verify)?);
    }
    if certs.is_empty() {
        return Err(Failure::new("no certificates to verify against")
            .help("pass --cert FILE (repeatable) or --keyring FILE with the signers' public keys")
            .into());
    }
    let start = opts.repo.clone().unwrap_or_else(|| ".".into());
    let repo = Repo::discover(&start)?;
    let tag = escape(&opts.tag);
    let bad = |msg: String| -> Result<u8> {
        shell.out(&format!("BAD: {msg}\n"));
        Ok(1)
    };
    let (payload, signature) = match repo.read_tag(&opts.tag)? {
        None => {
            return Err(Failure::new(format!("tag `{tag}` does not exist"))
                .help("list tags with `git tag`")
                .into())
        }
        Some(Tag::Lightweight) => {
            return bad(format!("`{tag}` is a lightweight tag: it has no signature"))
        }
        Some(Tag::Unsigned) => return bad(format!("tag `{tag}` is not signed")),
        Some(Tag::Signed { payload, signature }) => (payload, signature),
    };
    let good = match signer::verify_detached(&certs, &payload, &signature) {
        Ok(good) => good,
        Err(e) => return bad(format!("tag `{tag}`: {e}")),
    };
    let allowed = opts.signers.is_empty()
        || opts.signers.iter().any(|s| {
            let s = s.replace(' ', "").to_ascii_uppercase();
            s == good.cert_fingerprint || s == good.key_fingerprint
        });
    let who = good.userid.clone().unwrap_or_else(|| "(no user id)".into());
    if !allowed {
        return bad(format!(
            "tag `{tag}` is signed by {who} {}, which is not one of the --signer fingerprints",
            good.cert_fingerprint
        ));
    }
    let mut out = format!(
        "Good signature on tag `{tag}` from {who}\n  certificate {}\n",
        good.cert_fingerprint
    );
    if good.key_fingerprint != good.cert_fingerprint {
        out.push_str(&format!("  signing key {}\n", good.key_fingerprint));
    }
    // The trailer is a claim: check what can be checked against the tagged tree.
    match check_lockfile_claim(&repo, &opts.tag, &payload)? {
        Claim::Holds(line) => out.push_str(&format!(
            "  Cargo-lock-sha256 (line {line} of the tag) matches the tagged Cargo.lock\n"
        )),
        Claim::Absent => {}
        Claim::Broken(why) => {
            shell.out(&out);
            return bad(format!("tag `{tag}`: {why}"));
        }
    }
    shell.out(&out);
    Ok(0)
}

enum Claim {
    /// The claim holds; its line in the tag object.
    Holds(usize),
    Absent,
    Broken(String),
}

/// `Cargo-lock-sha256:` in the tag's trailer against the Cargo.lock of the tagged
/// commit's tree (read from git objects, never the work tree).
fn check_lockfile_claim(repo: &Repo, tag: &str, payload: &[u8]) -> Result<Claim> {
    use sha2::Digest;
    let text = String::from_utf8_lossy(payload);
    let Some((line, claimed)) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| Some((i + 1, l.strip_prefix("Cargo-lock-sha256: ")?.trim())))
    else {
        return Ok(Claim::Absent);
    };
    let Some(lock) = repo.file_at_tag(tag, "Cargo.lock")? else {
        return Ok(Claim::Broken(format!(
            "line {line} claims a Cargo.lock hash, but the tagged tree has no Cargo.lock at its root"
        )));
    };
    let actual: String = sha2::Sha256::digest(&lock)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual == claimed {
        Ok(Claim::Holds(line))
    } else {
        Ok(Claim::Broken(format!(
            "line {line} says Cargo-lock-sha256 {}, but the tagged Cargo.lock hashes to {actual}",
            escape(claimed)
        )))
    }
}
