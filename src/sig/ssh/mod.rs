//! SSH signatures for tags, in-process: SSHSIG with namespace `git` and SHA-512, as
//! `ssh-keygen -Y sign -n git` makes them for `git tag -s` with `gpg.format = ssh`
//! (and namespace `file` for a release's `SHA256SUMS`; plain signatures for DSSE).
//! Keys come from an OpenSSH private key file or, when only the public key is at
//! hand, from the running ssh-agent (its protocol is spoken here, not through a
//! binary). Verification follows `ssh-keygen -Y verify` with an allowed-signers file.

pub mod agent;
pub mod allowed;
mod openssh;

use crate::error::{escape, Failure};
use crate::sig::passphrase::PassphraseSource;
use anyhow::Result;
use ssh_key::public::KeyData;
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// git signs tags and commits in this namespace; a signature for another one
/// (e.g. `file`) must not pass as a tag signature.
pub const NAMESPACE: &str = "git";

/// Release files (`SHA256SUMS`) are signed in this namespace, as `ssh-keygen -Y sign
/// -n file` signs files: such a signature never passes as a tag's, nor a tag's as theirs.
pub const FILE_NAMESPACE: &str = "file";

/// Where the SSH key is named: a file (private or public), or a public key literal
/// as `user.signingkey` may hold it (`key::ssh-ed25519 AAAA…`).
pub enum KeySpec<'a> {
    File(&'a Path),
    Literal(&'a str),
}

impl<'a> KeySpec<'a> {
    /// `user.signingkey` in the forms git accepts with `gpg.format = ssh`.
    pub fn from_git_config(value: &'a str) -> KeySpec<'a> {
        let v = value.trim();
        if let Some(lit) = v.strip_prefix("key::") {
            return KeySpec::Literal(lit);
        }
        // git still accepts a bare public key literal (deprecated in its docs).
        if v.starts_with("ssh-") || v.starts_with("ecdsa-sha2-") || v.starts_with("sk-") {
            return KeySpec::Literal(v);
        }
        KeySpec::File(Path::new(v))
    }
}

/// `~/…` as git expands it in `user.signingkey`.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

pub struct SshSigningKey {
    how: How,
    pub public: PublicKey,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
}

enum How {
    /// Decrypted lazily: the passphrase is asked only once every gate has passed.
    /// The key, and the file's text (an encrypted key is decrypted from it again
    /// when ssh-key cannot read its scalar: see `openssh`).
    File(Box<PrivateKey>, Zeroizing<String>),
    Agent,
}

impl SshSigningKey {
    /// Loads the key and checks its algorithm and size; nothing is decrypted yet.
    pub fn load(spec: KeySpec<'_>, force_agent: bool) -> Result<SshSigningKey> {
        let (how, public) = match spec {
            KeySpec::Literal(text) => (How::Agent, parse_public(text, "user.signingkey")?),
            KeySpec::File(path) => {
                let path = expand_home(path);
                let shown = escape(&path.display().to_string());
                let bytes = zeroize::Zeroizing::new(crate::fsutil::read_bounded(
                    &path,
                    crate::fsutil::KEY_LIMIT,
                    "SSH key file",
                )?);
                let text = String::from_utf8_lossy(&bytes);
                if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
                    // An unencrypted ECDSA key with a short scalar is read padded
                    // (see `openssh`); an encrypted one is repaired when decrypted.
                    let key = PrivateKey::from_openssh(text.trim())
                        .or_else(|e| openssh::load_padded(&text, None).ok_or(e))
                        .map_err(|e| {
                            Failure::new(format!(
                                "{shown} is not a readable OpenSSH private key: {e}"
                            ))
                            .help("check the file, or regenerate it with ssh-keygen")
                        })?;
                    let public = key.public_key().clone();
                    let how = if force_agent {
                        How::Agent
                    } else {
                        How::File(Box::new(key), Zeroizing::new(text.into_owned()))
                    };
                    (how, public)
                } else if text.contains("PRIVATE KEY-----") {
                    return Err(Failure::new(format!(
                        "{shown} is a PEM private key; SSH signing reads OpenSSH-format keys"
                    ))
                    .help("convert a copy with `ssh-keygen -p -f COPY` (it rewrites the key in OpenSSH format)")
                    .into());
                } else if text.contains("-----BEGIN PGP") {
                    return Err(Failure::new(format!(
                        "{shown} is an OpenPGP key, but the tag is being signed with SSH"
                    ))
                    .help("pass --format openpgp, or set `git config gpg.format openpgp`")
                    .into());
                } else {
                    let first = text
                        .lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty() && !l.starts_with('#'))
                        .unwrap_or("");
                    (How::Agent, parse_public(first, &shown)?)
                }
            }
        };
        check_strength(public.key_data()).map_err(|why| {
            Failure::new(format!(
                "SSH key {} cannot sign releases: {why}",
                public.fingerprint(HashAlg::Sha256)
            ))
            .help("use an ed25519 key: `ssh-keygen -t ed25519`")
        })?;
        Ok(SshSigningKey {
            fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
            how,
            public,
        })
    }

    pub fn algorithm(&self) -> String {
        algorithm_name(self.public.key_data())
    }

    pub fn via_agent(&self) -> bool {
        matches!(self.how, How::Agent)
    }

    /// The armored SSHSIG over `data` in git's namespace (a tag), checked against
    /// the public key before it is returned (an agent could answer with anything).
    pub fn sign(&self, data: &[u8], pass: PassphraseSource<'_>) -> Result<String> {
        self.unlock(pass)?.sshsig(data, NAMESPACE)
    }

    /// The key ready to sign: decrypted (the passphrase asked once, here), or the
    /// agent that holds it. Several signatures can then be made with one prompt.
    pub fn unlock(&self, pass: PassphraseSource<'_>) -> Result<Unlocked<'_>> {
        let key = match &self.how {
            How::Agent => None,
            How::File(key, text) if key.is_encrypted() => {
                let pw =
                    crate::sig::passphrase::read(pass, &format!("SSH key {}", self.fingerprint))?;
                let decrypted = key
                    .decrypt(pw.as_bytes())
                    .ok()
                    .or_else(|| openssh::load_padded(text, Some(pw.as_bytes())))
                    .ok_or_else(|| {
                        Failure::new(format!("wrong passphrase for SSH key {}", self.fingerprint))
                            .help("check the passphrase source")
                    })?;
                Some(std::borrow::Cow::Owned(decrypted))
            }
            How::File(key, _) => Some(std::borrow::Cow::Borrowed(&**key)),
        };
        Ok(Unlocked { owner: self, key })
    }
}

/// A signing key unlocked for this run: the private key in memory, or the agent.
pub struct Unlocked<'a> {
    owner: &'a SshSigningKey,
    /// None: the agent signs.
    key: Option<std::borrow::Cow<'a, PrivateKey>>,
}

impl Unlocked<'_> {
    pub fn public(&self) -> &PublicKey {
        &self.owner.public
    }

    /// `SHA256:…`.
    pub fn fingerprint(&self) -> &str {
        &self.owner.fingerprint
    }

    /// The armored SSHSIG over `data` in `namespace` (`git` for tags, `file` for
    /// release files, as `ssh-keygen -Y sign -n` makes them), with SHA-512, checked
    /// against the public key before it is returned.
    pub fn sshsig(&self, data: &[u8], namespace: &str) -> Result<String> {
        let fingerprint = &self.owner.fingerprint;
        let public = &self.owner.public;
        let failed =
            |e: String| Failure::new(format!("signing with SSH key {fingerprint} failed: {e}"));
        let sig = match &self.key {
            Some(key) => match key.key_data().rsa() {
                Some(rsa) => {
                    let signed = SshSig::signed_data(namespace, HashAlg::Sha512, data)?;
                    let raw = rsa_sign(rsa, &signed).map_err(failed)?;
                    SshSig::new(public.key_data().clone(), namespace, HashAlg::Sha512, raw)?
                }
                None => SshSig::sign(&**key, namespace, HashAlg::Sha512, data)
                    .map_err(|e| failed(e.to_string()))?,
            },
            None => {
                let signed = SshSig::signed_data(namespace, HashAlg::Sha512, data)?;
                let raw = agent::sign(public, fingerprint, &signed)?;
                SshSig::new(public.key_data().clone(), namespace, HashAlg::Sha512, raw)?
            }
        };
        public
            .verify(namespace, data, &sig)
            .map_err(|_| not_verified(fingerprint))?;
        let mut armored = sig.to_pem(LineEnding::LF)?;
        if !armored.ends_with('\n') {
            armored.push('\n');
        }
        Ok(armored)
    }

    /// A plain signature over `data` as the key's algorithm makes it (Ed25519 over
    /// the bytes; ECDSA over their SHA-256 for P-256), for formats that are not
    /// SSHSIG (DSSE envelopes); checked against the public key.
    pub fn raw(&self, data: &[u8]) -> Result<ssh_key::Signature> {
        use rsa::signature::{Signer, Verifier};
        let fingerprint = &self.owner.fingerprint;
        let public = &self.owner.public;
        let sig = match &self.key {
            Some(key) => key.key_data().try_sign(data).map_err(|e| {
                Failure::new(format!("signing with SSH key {fingerprint} failed: {e}"))
            })?,
            None => agent::sign(public, fingerprint, data)?,
        };
        public
            .key_data()
            .verify(data, &sig)
            .map_err(|_| not_verified(fingerprint))?;
        Ok(sig)
    }
}

fn not_verified(fingerprint: &str) -> Failure {
    Failure::new(format!(
        "the signature made with SSH key {fingerprint} does not verify"
    ))
    .help("the ssh-agent signed with a different key than the one named; check `ssh-add -l`")
}

/// Can the key sign DSSE envelopes that in-toto and Sigstore tooling verify with
/// the public key? Ed25519 and ECDSA P-256 (`ecdsa-sha2-nistp256`).
pub fn signs_plain(key: &KeyData) -> bool {
    use ssh_key::{Algorithm, EcdsaCurve};
    matches!(
        key.algorithm(),
        Algorithm::Ed25519
            | Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256
            }
    )
}

/// An SSH signature as other formats carry it: Ed25519's 64 bytes; ECDSA's (r, s)
/// as a DER SEQUENCE of two INTEGERs (SSH's mpints are DER's minimal two's
/// complement already: only the framing differs). None for other algorithms.
pub fn plain_bytes(sig: &ssh_key::Signature) -> Option<Vec<u8>> {
    use ssh_key::Algorithm;
    match sig.algorithm() {
        Algorithm::Ed25519 => Some(sig.as_bytes().to_vec()),
        Algorithm::Ecdsa { .. } => {
            let mut r = sig.as_bytes();
            let mut take = || -> Option<Vec<u8>> {
                let len = u32::from_be_bytes(r.get(..4)?.try_into().ok()?) as usize;
                let v = r.get(4..4 + len)?.to_vec();
                r = &r[4 + len..];
                Some(v)
            };
            let (a, b) = (take()?, take()?);
            let mut body = Vec::new();
            for int in [a, b] {
                body.push(0x02);
                body.extend(der_len(int.len()));
                body.extend(int);
            }
            let mut der = vec![0x30];
            der.extend(der_len(body.len()));
            der.extend(body);
            Some(der)
        }
        _ => None,
    }
}

fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=127 => vec![n as u8],
        _ => vec![0x81, n as u8],
    }
}

/// Checks a plain signature (as `plain_bytes` writes it) over `data` with `key`.
pub fn verify_plain(key: &KeyData, data: &[u8], bytes: &[u8]) -> bool {
    use rsa::signature::Verifier;
    use ssh_key::{Algorithm, EcdsaCurve};
    let sig = match key.algorithm() {
        Algorithm::Ed25519 => ssh_key::Signature::new(Algorithm::Ed25519, bytes.to_vec()),
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        } => {
            let Some(blob) = der_to_mpints(bytes) else {
                return false;
            };
            ssh_key::Signature::new(
                Algorithm::Ecdsa {
                    curve: EcdsaCurve::NistP256,
                },
                blob,
            )
        }
        _ => return false,
    };
    sig.is_ok_and(|sig| key.verify(data, &sig).is_ok())
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` back to SSH's `mpint r, mpint s`.
fn der_to_mpints(der: &[u8]) -> Option<Vec<u8>> {
    let mut p = der;
    let mut read = |tag: u8| -> Option<&[u8]> {
        if *p.first()? != tag {
            return None;
        }
        let (len, skip) = match *p.get(1)? {
            n @ 0..=127 => (n as usize, 2),
            0x81 => (*p.get(2)? as usize, 3),
            _ => return None,
        };
        let v = p.get(skip..skip + len)?;
        p = &p[skip + len..];
        Some(v)
    };
    let seq = read(0x30)?;
    if !p.is_empty() {
        return None;
    }
    let mut q = seq;
    let mut out = Vec::new();
    for _ in 0..2 {
        if *q.first()? != 0x02 {
            return None;
        }
        let len = *q.get(1)? as usize;
        if len > 127 {
            return None;
        }
        let v = q.get(2..2 + len)?;
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.extend_from_slice(v);
        q = &q[2 + len..];
    }
    q.is_empty().then_some(out)
}

/// rsa-sha2-512 over `data`. ssh-key 0.6.7 builds the RSA key from p twice instead
/// of p and q (RustCrypto/SSH#387), so every RSA signature fails there; the key is
/// built from its own components here.
fn rsa_sign(
    key: &ssh_key::private::RsaKeypair,
    data: &[u8],
) -> std::result::Result<ssh_key::Signature, String> {
    use rsa::signature::{SignatureEncoding, Signer};
    let int = |m: &ssh_key::Mpint| {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or_else(|| "the RSA key has a negative component".to_string())
    };
    let private = rsa::RsaPrivateKey::from_components(
        int(&key.public.n)?,
        int(&key.public.e)?,
        int(&key.private.d)?,
        vec![int(&key.private.p)?, int(&key.private.q)?],
    )
    .map_err(|e| format!("the RSA key is not consistent ({e})"))?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(private);
    let sig = signer.try_sign(data).map_err(|e| e.to_string())?;
    ssh_key::Signature::new(
        ssh_key::Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        },
        sig.to_vec(),
    )
    .map_err(|e| e.to_string())
}

/// A public key line (`ssh-ed25519 AAAA… comment`).
pub fn parse_public(text: &str, origin: &str) -> Result<PublicKey> {
    PublicKey::from_openssh(text.trim()).map_err(|e| {
        let mut shown: String = text.trim().chars().take(40).collect();
        if text.trim().chars().count() > 40 {
            shown.push('…');
        }
        Failure::new(format!(
            "{origin}: `{}` is not an SSH public key ({e})",
            escape(&shown)
        ))
        .help("an SSH public key reads `ssh-ed25519 AAAA… comment` (the content of a .pub file)")
        .into()
    })
}

/// What OpenSSH and today's guidance would not accept for signing releases.
pub fn check_strength(key: &KeyData) -> std::result::Result<(), String> {
    use ssh_key::{Algorithm, EcdsaCurve};
    match key.algorithm() {
        Algorithm::Ed25519 => Ok(()),
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256 | EcdsaCurve::NistP384,
        } => Ok(()),
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP521,
        } => Err("ECDSA P-521 keys are not supported by this build".into()),
        Algorithm::Rsa { .. } => match rsa_bits(key) {
            bits if bits >= 3072 => Ok(()),
            bits => Err(format!(
                "its RSA-{bits} key is too small (at least 3072 bits)"
            )),
        },
        Algorithm::Dsa => Err("DSA keys are obsolete (OpenSSH no longer accepts them)".into()),
        Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256 => {
            Err("FIDO security-key (sk-) keys are not supported yet".into())
        }
        other => Err(format!(
            "`{}` keys are not supported",
            escape(other.as_str())
        )),
    }
}

fn rsa_bits(key: &KeyData) -> usize {
    let Some(n) = key.rsa().and_then(|r| r.n.as_positive_bytes()) else {
        return 0;
    };
    let lead = n.iter().position(|b| *b != 0).unwrap_or(n.len());
    match n.get(lead) {
        Some(b) => (n.len() - lead) * 8 - b.leading_zeros() as usize,
        None => 0,
    }
}

/// `ED25519`, `ECDSA-P256`, `RSA-4096`: as the tool names keys in its output.
pub fn algorithm_name(key: &KeyData) -> String {
    use ssh_key::{Algorithm, EcdsaCurve};
    match key.algorithm() {
        Algorithm::Ed25519 => "ED25519".into(),
        Algorithm::Ecdsa { curve } => match curve {
            EcdsaCurve::NistP256 => "ECDSA-P256".into(),
            EcdsaCurve::NistP384 => "ECDSA-P384".into(),
            EcdsaCurve::NistP521 => "ECDSA-P521".into(),
        },
        Algorithm::Rsa { .. } => format!("RSA-{}", rsa_bits(key)),
        other => other.as_str().to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519_PUB: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti user@example.com";

    #[test]
    fn signingkey_forms() {
        assert!(matches!(
            KeySpec::from_git_config(&format!("key::{ED25519_PUB}")),
            KeySpec::Literal(l) if l == ED25519_PUB
        ));
        assert!(matches!(
            KeySpec::from_git_config(ED25519_PUB),
            KeySpec::Literal(_)
        ));
        assert!(matches!(
            KeySpec::from_git_config("~/.ssh/id_ed25519"),
            KeySpec::File(p) if p == Path::new("~/.ssh/id_ed25519")
        ));
    }

    #[test]
    fn names_and_strength() {
        let k = parse_public(ED25519_PUB, "test").unwrap();
        assert_eq!(algorithm_name(k.key_data()), "ED25519");
        assert!(check_strength(k.key_data()).is_ok());
        let e = parse_public("ssh-ed25519 notbase64!", "test")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("test: `ssh-ed25519 notbase64!` is not an SSH public key"),
            "{e}"
        );
    }
}
