//! `cargo secure-release verify`: check a tag's OpenPGP signature with sequoia.

use crate::cli::VerifyArgs;
use crate::error::Failure;
use crate::signer;
use crate::tag::object::split_signed;
use anyhow::Result;

pub fn run(args: &VerifyArgs) -> Result<u8> {
    let mut certs = Vec::new();
    for f in args.cert.iter().chain(args.keyring.iter()) {
        certs.extend(signer::read_certs(f)?);
    }
    if certs.is_empty() {
        return Err(Failure::new("no certificates to verify against")
            .help("pass --cert FILE (repeatable) or --keyring FILE with the signers' public keys")
            .into());
    }
    let start = args.repo.clone().unwrap_or_else(|| ".".into());
    let repo = git2::Repository::discover(&start).map_err(|e| {
        Failure::new(format!(
            "{} is not inside a git repository: {}",
            start.display(),
            e.message()
        ))
        .help("run inside the repository or pass --repo DIR")
    })?;
    let refname = format!("refs/tags/{}", args.tag);
    let reference = repo.find_reference(&refname).map_err(|_| {
        Failure::new(format!("tag `{}` does not exist", args.tag)).help("list tags with `git tag`")
    })?;
    let oid = reference
        .target()
        .ok_or_else(|| Failure::new(format!("{refname} is a symbolic reference")))?;
    let odb = repo.odb()?;
    let obj = odb.read(oid)?;
    let bad = |msg: String| -> Result<u8> {
        println!("BAD: {msg}");
        Ok(1)
    };
    if obj.kind() != git2::ObjectType::Tag {
        return bad(format!(
            "`{}` is a lightweight tag: it has no signature",
            args.tag
        ));
    }
    let Some((payload, signature)) = split_signed(obj.data()) else {
        return bad(format!("tag `{}` is not signed", args.tag));
    };
    match signer::verify_detached(&certs, payload, signature) {
        Ok(good) => {
            let allowed = args.signer.is_empty()
                || args.signer.iter().any(|s| {
                    let s = s.replace(' ', "").to_ascii_uppercase();
                    s == good.cert_fingerprint || s == good.key_fingerprint
                });
            let who = good.userid.clone().unwrap_or_else(|| "(no user id)".into());
            if !allowed {
                return bad(format!(
                    "tag `{}` is signed by {who} {}, which is not one of the --signer fingerprints",
                    args.tag, good.cert_fingerprint
                ));
            }
            println!("Good signature on tag `{}` from {who}", args.tag);
            println!("  certificate {}", good.cert_fingerprint);
            if good.key_fingerprint != good.cert_fingerprint {
                println!("  signing key {}", good.key_fingerprint);
            }
            Ok(0)
        }
        Err(e) => bad(format!("tag `{}`: {e}", args.tag)),
    }
}
