//! OpenPGP signing and verification with sequoia, in-process: no gpg binary.
//! Key selection follows git's `user.signingkey` conventions; keys that GnuPG or
//! today's policy would not accept are refused with a sentence a human understands.

use crate::error::Failure;
use anyhow::Result;
use openpgp::cert::prelude::*;
use openpgp::crypto::Password;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::Key;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper,
};
use openpgp::parse::Parse;
use openpgp::policy::{Policy, StandardPolicy};
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::types::{RevocationStatus, SignatureType};
use openpgp::{Cert, KeyHandle};
use sequoia_openpgp as openpgp;
use std::io::Write;
use std::path::Path;

pub use crate::sig::passphrase::PassphraseSource;

pub struct SigningKey {
    /// Taken by the one signature a key is loaded for.
    signer: Option<Box<dyn openpgp::crypto::Signer + Send + Sync>>,
    pub cert_fingerprint: String,
    pub key_fingerprint: String,
    pub userid: Option<String>,
}

/// What a key file is read for: the help on a bad file differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// A secret key to sign with (or a certificate, with a gpg-agent holding the secret).
    Sign,
    /// Public certificates of trusted signers.
    Verify,
}

/// Reads every certificate (public or secret) in an armored or binary file of at
/// most `fsutil::KEY_LIMIT` bytes; the bytes are wiped after parsing.
pub fn read_certs(path: &Path, usage: KeyUse) -> Result<Vec<Cert>> {
    let what = match usage {
        KeyUse::Sign => "key file",
        KeyUse::Verify => "certificate file",
    };
    let bytes = zeroize::Zeroizing::new(crate::fsutil::read_bounded(
        path,
        crate::fsutil::KEY_LIMIT,
        what,
    )?);
    parse_certs(&bytes, &path.display().to_string(), usage)
}

/// Every certificate in `bytes`; `origin` names the file in errors.
pub fn parse_certs(bytes: &[u8], origin: &str, usage: KeyUse) -> Result<Vec<Cert>> {
    let mut certs = Vec::new();
    for c in CertParser::from_bytes(bytes).map_err(|e| not_a_key(origin, e, usage))? {
        certs.push(c.map_err(|e| not_a_key(origin, e, usage))?);
    }
    if certs.is_empty() {
        return Err(not_a_key(
            origin,
            anyhow::anyhow!("no certificate found"),
            usage,
        ));
    }
    Ok(certs)
}

fn not_a_key(origin: &str, e: anyhow::Error, usage: KeyUse) -> anyhow::Error {
    let help = match usage {
        KeyUse::Sign => "export your secret key with `gpg --export-secret-keys --armor KEYID > release.asc` or `sq key export`",
        KeyUse::Verify => "ask the signer for their public certificate (`gpg --export --armor KEYID > signer.asc`); never a secret key",
    };
    Failure::new(format!(
        "{} is not an OpenPGP key file: {e}",
        crate::error::escape(origin)
    ))
    .help(help)
    .into()
}

/// Picks the certificate named by a git-style selector: fingerprint, long key id
/// (optionally `0x`-prefixed, `!`-suffixed for an exact subkey), email or user id.
pub fn select<'a>(certs: &'a [Cert], selector: Option<&str>) -> Result<&'a Cert> {
    let Some(sel) = selector else {
        return match certs {
            [one] => Ok(one),
            _ => Err(Failure::new(format!(
                "the key file holds {} certificates; say which one to use",
                certs.len()
            ))
            .help("set `git config user.signingkey FINGERPRINT` or pass --signing-key")
            .into()),
        };
    };
    certs
        .iter()
        .find(|c| matches_selector(c, sel))
        .ok_or_else(|| {
            Failure::new(format!("no key in the key file matches `{sel}`"))
                .help("user.signingkey / --signing-key takes a fingerprint, a long key id, an email or a user id")
                .into()
        })
}

fn hex_selector(sel: &str) -> Option<String> {
    let s = sel.trim().trim_end_matches('!');
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (matches!(s.len(), 16 | 40 | 64) && s.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| s.to_ascii_uppercase())
}

fn matches_selector(cert: &Cert, sel: &str) -> bool {
    if let Some(hex) = hex_selector(sel) {
        return cert
            .keys()
            .any(|k| k.key().fingerprint().to_hex() == hex || k.key().keyid().to_hex() == hex);
    }
    let needle = sel
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase();
    cert.userids().any(|u| {
        let text = String::from_utf8_lossy(u.userid().value()).to_lowercase();
        text.contains(&needle)
    })
}

/// A certificate's usable signing key after every policy check, with the certificate's
/// fingerprint and primary user id.
struct Usable {
    key: Key<PublicParts, UnspecifiedRole>,
    cert_fingerprint: String,
    userid: Option<String>,
}

/// Refuses, with a sentence, what GnuPG or today's policy would not accept, and picks
/// the signing key (an exact subkey when the selector ends with `!`).
fn usable_signing_key(cert: &Cert, selector: Option<&str>) -> Result<Usable> {
    let fpr = cert.fingerprint().to_hex();
    let refuse = |why: String, help: &str| -> anyhow::Error {
        Failure::new(format!("key {fpr} cannot sign releases: {why}"))
            .help(help.to_string())
            .into()
    };
    if cert.primary_key().key().version() == 6 {
        return Err(refuse(
            "it is a v6 (RFC 9580) key, and GnuPG 2.2 — what `git verify-tag` runs on most systems — cannot read v6 signatures".into(),
            "use a v4 key (e.g. `sq key generate --profile rfc4880` or gpg --quick-gen-key)",
        ));
    }
    let policy = StandardPolicy::new();
    if let RevocationStatus::Revoked(_) = cert.revocation_status(&policy, None) {
        return Err(refuse(
            "the certificate is revoked".into(),
            "use a key that is not revoked",
        ));
    }
    let vc = cert.with_policy(&policy, None).map_err(|e| {
        let text = format!("{e:#}");
        if text.contains("SHA1") {
            refuse(
                "its self-signatures use SHA-1, which is no longer accepted".into(),
                "re-certify the key with a modern hash (e.g. `gpg --quick-set-expire`), or use another key",
            )
        } else {
            refuse(format!("it is not valid under the standard policy ({text})"), "use a current, valid key")
        }
    })?;
    if let Err(e) = vc.alive() {
        let when = vc
            .primary_key()
            .key_expiration_time()
            .map(|t| {
                format!(
                    " on {}",
                    jiff::Timestamp::try_from(t)
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        return Err(refuse(
            format!("the certificate expired{when} ({e})"),
            "extend its expiry or use another key",
        ));
    }
    let exact = selector
        .filter(|s| s.trim_end().ends_with('!'))
        .and_then(hex_selector);
    let chosen = vc.keys().for_signing().alive().revoked(false).find(|ka| {
        exact.as_ref().is_none_or(|x| {
            ka.key().fingerprint().to_hex() == *x || ka.key().keyid().to_hex() == *x
        })
    });
    let Some(ka) = chosen else {
        return Err(refuse(
            "it has no usable signing key (none, or all expired or revoked)".into(),
            "add a signing subkey (`gpg --quick-add-key FPR ed25519 sign`) or use another key",
        ));
    };
    check_strength(ka.key())
        .map_err(|w| refuse(w, "use an RSA key of at least 2048 bits or an ed25519 key"))?;
    Ok(Usable {
        key: ka.key().clone(),
        cert_fingerprint: fpr,
        userid: vc
            .primary_userid()
            .ok()
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned()),
    })
}

/// The key as DSSE envelopes and minisign see it: its raw Ed25519 or ECDSA P-256
/// public key, in ssh-key's terms (which judge plain signatures by SSH keys too);
/// None for other algorithms.
pub fn plain_key<R: openpgp::packet::key::KeyRole>(
    key: &Key<PublicParts, R>,
) -> Option<ssh_key::public::KeyData> {
    use openpgp::crypto::mpi::PublicKey as Mpi;
    use openpgp::types::Curve;
    use ssh_key::public::{EcdsaPublicKey, Ed25519PublicKey, KeyData};
    match key.mpis() {
        Mpi::EdDSA {
            curve: Curve::Ed25519,
            q,
        } => {
            let point = q.decode_point(&Curve::Ed25519).ok()?.0;
            Some(KeyData::Ed25519(Ed25519PublicKey(point.try_into().ok()?)))
        }
        Mpi::Ed25519 { a } => Some(KeyData::Ed25519(Ed25519PublicKey(*a))),
        Mpi::ECDSA {
            curve: Curve::NistP256,
            q,
        } => EcdsaPublicKey::from_sec1_bytes(q.value())
            .ok()
            .map(KeyData::Ecdsa),
        _ => None,
    }
}

/// The plain key of the certificate's signing key (as `signing_key` would pick it).
pub fn plain_signing_key(cert: &Cert, selector: Option<&str>) -> Option<ssh_key::public::KeyData> {
    plain_key(&usable_signing_key(cert, selector).ok()?.key)
}

/// Every key of `certs` that may sign now (valid, alive, not revoked, under the
/// standard policy) with its plain key, named by its fingerprint: the keys a DSSE
/// envelope from an OpenPGP release is judged by.
pub fn plain_signers(certs: &[Cert]) -> Vec<(String, String, ssh_key::public::KeyData)> {
    let policy = StandardPolicy::new();
    let mut out = Vec::new();
    for cert in certs {
        let Ok(vc) = cert.with_policy(&policy, None) else {
            continue;
        };
        if vc.alive().is_err() || matches!(vc.revocation_status(), RevocationStatus::Revoked(_)) {
            continue;
        }
        for ka in vc.keys().for_signing().alive().revoked(false) {
            if let Some(plain) = plain_key(ka.key()) {
                out.push((
                    cert.fingerprint().to_hex(),
                    ka.key().fingerprint().to_hex(),
                    plain,
                ));
            }
        }
    }
    out
}

/// Checks the certificate against the policy and returns its signing key, decrypted.
pub fn signing_key(
    cert: &Cert,
    selector: Option<&str>,
    pass: PassphraseSource<'_>,
) -> Result<SigningKey> {
    let usable = usable_signing_key(cert, selector)?;
    let Some(secret) = usable.key.parts_into_secret().ok() else {
        return Err(Failure::new(format!(
            "key {} cannot sign releases: the file holds only the public certificate, not the secret signing key",
            usable.cert_fingerprint
        ))
        .help("export the secret key (`gpg --export-secret-keys --armor`), or sign through gpg-agent with --agent")
        .into());
    };
    let key_fpr = secret.fingerprint().to_hex();
    let secret = if secret.has_unencrypted_secret() {
        secret
    } else {
        let pw = read_passphrase(pass, &key_fpr)?;
        secret.decrypt_secret(&pw).map_err(|_| {
            Failure::new(format!("wrong passphrase for key {key_fpr}"))
                .help("check the passphrase source")
        })?
    };
    Ok(SigningKey {
        signer: Some(Box::new(secret.into_keypair()?)),
        cert_fingerprint: usable.cert_fingerprint,
        key_fingerprint: key_fpr,
        userid: usable.userid,
    })
}

/// The same policy checks, then a signer that asks the running gpg-agent (the
/// `GNUPGHOME` one) to sign with the key's secret, which never enters this process.
#[cfg(feature = "gpg-agent")]
pub fn agent_signing_key(
    cert: &Cert,
    selector: Option<&str>,
    pass: Option<PassphraseSource<'_>>,
) -> Result<SigningKey> {
    let usable = usable_signing_key(cert, selector)?;
    let key_fpr = usable.key.fingerprint().to_hex();
    let ctx = sequoia_gpg_agent::gnupg::Context::new().map_err(|e| {
        Failure::new(format!("could not find the gpg-agent: {e}"))
            .help("start it with `gpgconf --launch gpg-agent`")
    })?;
    let mut pair =
        sequoia_gpg_agent::KeyPair::new_for_gnupg_context(&ctx, &usable.key).map_err(|e| {
            Failure::new(format!("could not reach the gpg-agent: {e}"))
                .help("start it with `gpgconf --launch gpg-agent`")
        })?;
    if let Some(src) = pass {
        pair = pair.with_password(read_passphrase(src, &key_fpr)?);
    }
    Ok(SigningKey {
        signer: Some(Box::new(pair)),
        cert_fingerprint: usable.cert_fingerprint,
        key_fingerprint: key_fpr,
        userid: usable.userid,
    })
}

fn check_strength(key: &Key<PublicParts, UnspecifiedRole>) -> std::result::Result<(), String> {
    use openpgp::types::PublicKeyAlgorithm::*;
    #[allow(deprecated)]
    let rsa = matches!(key.pk_algo(), RSAEncryptSign | RSASign);
    match key.mpis().bits() {
        Some(bits) if rsa && bits < 2048 => Err(format!("its RSA-{bits} signing key is too weak")),
        _ => Ok(()),
    }
}

fn read_passphrase(src: PassphraseSource<'_>, fpr: &str) -> Result<Password> {
    let text = crate::sig::passphrase::read(src, &format!("key {fpr}"))?;
    Ok(Password::from(text.as_str()))
}

impl SigningKey {
    /// A detached, ASCII-armored, binary-mode signature over `data`, as git expects.
    /// A key signs once: it is loaded for one tag.
    pub fn sign_detached_armored(&mut self, data: &[u8]) -> Result<String> {
        let signer = self
            .signer
            .take()
            .ok_or_else(|| anyhow::anyhow!("this signing key was already used"))?;
        let key_fpr = self.key_fingerprint.clone();
        let mut out = Vec::new();
        {
            let message = Message::new(&mut out);
            let message = Armorer::new(message)
                .kind(openpgp::armor::Kind::Signature)
                .build()?;
            let template = openpgp::packet::signature::SignatureBuilder::new(SignatureType::Binary);
            let mut signer = Signer::with_template(message, signer, template)?
                .detached()
                .build()?;
            signer.write_all(data)?;
            signer.finalize().map_err(|e| {
                Failure::new(format!("signing with key {key_fpr} failed: {e}"))
                    .help("with --agent, the secret key must be in the gpg-agent (gpg --import it); otherwise check the key file")
            })?;
        }
        let mut s = String::from_utf8(out)?;
        if !s.ends_with('\n') {
            s.push('\n');
        }
        Ok(s)
    }
}

impl SigningKey {
    /// A plain signature over `data` for a DSSE envelope or minisign: Ed25519 over
    /// the bytes themselves, or ECDSA P-256 over their SHA-256 as DER, with the
    /// signing key's fingerprint; None when the key is of another algorithm. An
    /// OpenPGP signature never signs bytes like these (it signs a hash of the data and
    /// a trailer), so one cannot pass for the other. The signature is checked
    /// against the public key before it is used: a signer that hashes what it is
    /// given (a gpg-agent, for EdDSA) would otherwise sign something else.
    pub fn sign_plain(&mut self, data: &[u8]) -> Result<Option<(String, Vec<u8>)>> {
        use openpgp::crypto::mpi::Signature as Sig;
        use openpgp::types::HashAlgorithm;
        use sha2::Digest;
        let key_fpr = self.key_fingerprint.clone();
        let signer = self
            .signer
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("this signing key was already used"))?;
        let Some(public) = plain_key(signer.public()) else {
            return Ok(None);
        };
        let failed = |e: anyhow::Error| {
            Failure::new(format!("signing with key {key_fpr} failed: {e}"))
                .help("with --agent, the secret key must be in the gpg-agent (gpg --import it); otherwise check the key file")
        };
        let sig = match &public {
            ssh_key::public::KeyData::Ed25519(_) => {
                match signer.sign(HashAlgorithm::SHA512, data).map_err(failed)? {
                    Sig::EdDSA { r, s } => [r.value_padded(32)?, s.value_padded(32)?].concat(),
                    Sig::Ed25519 { s } => s.to_vec(),
                    _ => return Ok(None),
                }
            }
            _ => {
                let digest = sha2::Sha256::digest(data);
                match signer
                    .sign(HashAlgorithm::SHA256, &digest)
                    .map_err(failed)?
                {
                    Sig::ECDSA { r, s } => p256::ecdsa::Signature::from_scalars(
                        p256::FieldBytes::clone_from_slice(&r.value_padded(32)?),
                        p256::FieldBytes::clone_from_slice(&s.value_padded(32)?),
                    )?
                    .to_der()
                    .as_bytes()
                    .to_vec(),
                    _ => return Ok(None),
                }
            }
        };
        if !crate::sig::ssh::verify_plain(&public, data, &sig) {
            return Err(Failure::new(format!(
                "key {key_fpr} made a signature that its own public key does not verify; nothing was written"
            ))
            .help("an Ed25519 key held by the gpg-agent cannot sign DSSE envelopes: sign with the key file instead of --agent")
            .into());
        }
        Ok(Some((key_fpr, sig)))
    }
}

/// Who made a good signature.
#[derive(Debug, Clone)]
pub struct GoodSignature {
    pub cert_fingerprint: String,
    pub key_fingerprint: String,
    pub userid: Option<String>,
}

struct Helper<'a> {
    certs: &'a [Cert],
    good: Option<GoodSignature>,
    errors: Vec<String>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.certs.to_vec())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure.into_iter() {
            if let MessageLayer::SignatureGroup { results } = layer {
                for r in results {
                    match r {
                        Ok(good) => {
                            let cert = good.ka.valid_cert();
                            self.good = Some(GoodSignature {
                                cert_fingerprint: cert.fingerprint().to_hex(),
                                key_fingerprint: good.ka.key().fingerprint().to_hex(),
                                userid: cert.primary_userid().ok().map(|u| {
                                    String::from_utf8_lossy(u.userid().value()).into_owned()
                                }),
                            });
                            return Ok(());
                        }
                        Err(e) => self.errors.push(explain(&e)),
                    }
                }
            }
        }
        Err(anyhow::anyhow!(
            "{}",
            if self.errors.is_empty() {
                "no signature found".to_string()
            } else {
                self.errors.join("; ")
            }
        ))
    }
}

/// A verification error in words; a SHA-1 signature says so, and what to do.
fn explain(e: &openpgp::parse::stream::VerificationError<'_>) -> String {
    use openpgp::parse::stream::VerificationError as V;
    let sig = match e {
        V::MissingKey { sig }
        | V::UnboundKey { sig, .. }
        | V::BadKey { sig, .. }
        | V::BadSignature { sig, .. }
        | V::MalformedSignature { sig, .. } => Some(*sig),
        _ => None,
    };
    match sig {
        Some(sig) if sig.hash_algo() == openpgp::types::HashAlgorithm::SHA1 => {
            "the signature uses SHA-1, which is broken and rejected; re-sign the tag with SHA-256 or stronger (gpg: `--digest-algo SHA256`, or `personal-digest-preferences SHA512` in gpg.conf)".into()
        }
        _ => e.to_string(),
    }
}

/// Verifies a detached signature over `data` against `certs`.
pub fn verify_detached(
    certs: &[Cert],
    data: &[u8],
    signature: &[u8],
) -> std::result::Result<GoodSignature, String> {
    let policy = StandardPolicy::new();
    let helper = Helper {
        certs,
        good: None,
        errors: Vec::new(),
    };
    let mut v = DetachedVerifierBuilder::from_bytes(signature)
        .map_err(|e| format!("the signature is not valid OpenPGP: {e}"))?
        .with_policy(&policy as &dyn Policy, None, helper)
        .map_err(|e| format!("{e}"))?;
    v.verify_bytes(data).map_err(|e| format!("{e}"))?;
    v.into_helper()
        .good
        .ok_or_else(|| "no good signature".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys here are unencrypted, so the passphrase source is never read.
    const NO_PASS: PassphraseSource<'static> = PassphraseSource::Env("CSR_TEST_UNSET_PASSPHRASE");

    fn cert(pw: Option<&str>) -> Cert {
        CertBuilder::general_purpose(Some("Alice <alice@example.org>"))
            .set_password(pw.map(Password::from))
            .generate()
            .unwrap()
            .0
    }

    #[test]
    fn signs_and_verifies_and_detects_tampering() {
        let c = cert(None);
        let mut key = signing_key(&c, None, NO_PASS).unwrap();
        let sig = key.sign_detached_armored(b"payload\n").unwrap();
        assert!(sig.starts_with("-----BEGIN PGP SIGNATURE-----\n"), "{sig}");
        let good = verify_detached(std::slice::from_ref(&c), b"payload\n", sig.as_bytes()).unwrap();
        assert_eq!(good.cert_fingerprint, c.fingerprint().to_hex());
        assert_eq!(good.userid.as_deref(), Some("Alice <alice@example.org>"));
        assert!(verify_detached(std::slice::from_ref(&c), b"payload!\n", sig.as_bytes()).is_err());
        let other = cert(None);
        assert!(verify_detached(&[other], b"payload\n", sig.as_bytes()).is_err());
    }

    #[test]
    fn a_sha1_signature_is_rejected_and_says_so() {
        let c = cert(None);
        let p = StandardPolicy::new();
        let keypair = c
            .keys()
            .with_policy(&p, None)
            .supported()
            .for_signing()
            .secret()
            .next()
            .unwrap()
            .key()
            .clone()
            .into_keypair()
            .unwrap();
        let mut out = Vec::new();
        {
            let message = Message::new(&mut out);
            let message = Armorer::new(message)
                .kind(openpgp::armor::Kind::Signature)
                .build()
                .unwrap();
            let mut signer = Signer::new(message, keypair)
                .unwrap()
                .hash_algo(openpgp::types::HashAlgorithm::SHA1)
                .unwrap()
                .detached()
                .build()
                .unwrap();
            signer.write_all(b"payload\n").unwrap();
            signer.finalize().unwrap();
        }
        let err = verify_detached(std::slice::from_ref(&c), b"payload\n", &out).unwrap_err();
        assert!(err.contains("uses SHA-1"), "{err}");
        assert!(err.contains("SHA-256"), "{err}");
    }

    #[test]
    fn selector_forms() {
        let (a, b) = (cert(None), cert(None));
        let certs = [a.clone(), b.clone()];
        assert!(select(&certs, None).is_err(), "two certs need a selector");
        assert_eq!(
            select(&certs, Some(&b.fingerprint().to_hex()))
                .unwrap()
                .fingerprint(),
            b.fingerprint()
        );
        let keyid = format!("0x{}", b.keyid().to_hex());
        assert_eq!(
            select(&certs, Some(&keyid)).unwrap().fingerprint(),
            b.fingerprint()
        );
        assert_eq!(
            select(&certs, Some("alice@example.org"))
                .unwrap()
                .fingerprint(),
            a.fingerprint()
        );
        assert!(select(&certs, Some("bob@example.org")).is_err());
    }

    #[test]
    fn exact_subkey_selector() {
        let c = cert(None);
        let sub = c
            .keys()
            .subkeys()
            .find(|k| {
                k.self_signatures()
                    .any(|s| s.key_flags().is_some_and(|f| f.for_signing()))
            })
            .unwrap();
        let sel = format!("{}!", sub.key().fingerprint().to_hex());
        let k = signing_key(&c, Some(&sel), NO_PASS).unwrap();
        assert_eq!(k.key_fingerprint, sub.key().fingerprint().to_hex());
    }

    #[test]
    fn wrong_passphrase_is_refused() {
        let c = cert(Some("right"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "wrong\n").unwrap();
        let e = signing_key(&c, None, PassphraseSource::File(&f))
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("wrong passphrase for key"), "{e}");
        std::fs::write(&f, "right\n").unwrap();
        assert!(signing_key(&c, None, PassphraseSource::File(&f)).is_ok());
    }

    #[test]
    fn refuses_v6_expired_revoked_and_keyless_certs() {
        let v6 = CertBuilder::general_purpose(Some("V6 <v6@example.org>"))
            .set_profile(openpgp::Profile::RFC9580)
            .unwrap()
            .generate()
            .unwrap()
            .0;
        let e = signing_key(&v6, None, NO_PASS).err().unwrap().to_string();
        assert!(e.contains("v6") && e.contains("GnuPG 2.2"), "{e}");

        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(10 * 86_400);
        let expired = CertBuilder::general_purpose(Some("Old <old@example.org>"))
            .set_creation_time(past)
            .set_validity_period(std::time::Duration::from_secs(86_400))
            .generate()
            .unwrap()
            .0;
        let e = signing_key(&expired, None, NO_PASS)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("expired"), "{e}");

        let (c, rev) = CertBuilder::general_purpose(Some("Rev <rev@example.org>"))
            .generate()
            .unwrap();
        let revoked = c.insert_packets(rev).unwrap().0;
        let e = signing_key(&revoked, None, NO_PASS)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("revoked"), "{e}");

        let nosign = CertBuilder::new()
            .add_userid("Enc <enc@example.org>")
            .add_transport_encryption_subkey()
            .generate()
            .unwrap()
            .0;
        let e = signing_key(&nosign, None, NO_PASS)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no usable signing key"), "{e}");

        let public_only = cert(None).strip_secret_key_material();
        let e = signing_key(&public_only, None, NO_PASS)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("only the public certificate"), "{e}");
    }
}
