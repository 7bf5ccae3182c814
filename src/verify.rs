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
    shell.out(&out);
    Ok(0)
}
