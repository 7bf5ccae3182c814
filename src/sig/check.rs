//! One check of a signature over a payload against the keys a reader trusts, for
//! every reader: `verify` (tags), `init` (the signed-tags fact in SECURITY.md) and
//! `verify --artifact` (a release's `SHA256SUMS`, `check_file`). The format is told by the signature itself; the
//! `Verdict` says who signed, or why the signature is not good.

use super::openpgp;
use super::ssh::allowed::{self, AllowedSigners};
pub use super::Format;
use sequoia_openpgp::Cert;

/// SSH key data revoked by a file, with how messages name that file.
pub type Revoked = (String, Vec<(usize, ssh_key::public::KeyData)>);

/// The keys a signature is judged against.
#[derive(Default)]
pub struct Keys {
    pub openpgp: Vec<Cert>,
    pub ssh: Option<AllowedSigners>,
    /// Every source of revocation: applied on every path that judges SSH signatures.
    pub revoked: Vec<Revoked>,
    /// OpenPGP only: the certificate or signing-key fingerprints allowed to sign
    /// (`--signer`); empty allows every certificate in `openpgp`.
    pub fingerprints: Vec<String>,
}

impl Keys {
    /// Whether `--signer` admits an OpenPGP certificate or signing key, by their
    /// (upper-case hex) fingerprints; with no `--signer`, every certificate is.
    pub fn openpgp_admits(&self, cert_fingerprint: &str, key_fingerprint: &str) -> bool {
        self.fingerprints.is_empty()
            || self.fingerprints.iter().any(|s| {
                let s = s.replace(' ', "").to_ascii_uppercase();
                s == cert_fingerprint || s == key_fingerprint
            })
    }
}

/// Who made a good signature from an allowed signer.
#[derive(Debug, Clone)]
pub enum Signer {
    Ssh {
        principal: String,
        algorithm: String,
        fingerprint: String,
        /// The allowed-signers file (as messages name it) and the line that allowed it.
        allowed_by: (String, usize),
    },
    OpenPgp {
        userid: Option<String>,
        cert_fingerprint: String,
        key_fingerprint: String,
    },
    /// A Sigstore bundle's signer (`sigstore`): a Fulcio certificate's identity
    /// (SAN) and OIDC issuer, or a managed key named by its file.
    Sigstore {
        identity: Option<String>,
        issuer: Option<String>,
        /// The SHA-256 of the signing certificate, or of the key's SubjectPublicKeyInfo.
        fingerprint: String,
        key: Option<String>,
    },
}

impl Signer {
    /// The fingerprint a reader compares: the certificate's, or the SSH key's.
    pub fn fingerprint(&self) -> &str {
        match self {
            Signer::Ssh { fingerprint, .. } => fingerprint,
            Signer::OpenPgp {
                cert_fingerprint, ..
            } => cert_fingerprint,
            Signer::Sigstore { fingerprint, .. } => fingerprint,
        }
    }

    /// As the report shows a good signature's signer, for every reader.
    pub fn reported(self) -> crate::report::verify::Signer {
        use crate::report::verify::Signer as Shown;
        match self {
            Signer::Ssh {
                principal,
                algorithm,
                fingerprint,
                allowed_by: (file, line),
            } => Shown {
                format: Format::Ssh.as_str(),
                identity: Some(principal),
                fingerprint,
                signing_key: None,
                algorithm: Some(algorithm),
                allowed_by: Some(format!("{}:{line}", crate::error::escape(&file))),
                issuer: None,
            },
            Signer::OpenPgp {
                userid,
                cert_fingerprint,
                key_fingerprint,
            } => Shown {
                format: Format::OpenPgp.as_str(),
                identity: userid,
                signing_key: (key_fingerprint != cert_fingerprint).then_some(key_fingerprint),
                fingerprint: cert_fingerprint,
                algorithm: None,
                allowed_by: None,
                issuer: None,
            },
            Signer::Sigstore {
                identity,
                issuer,
                fingerprint,
                key,
            } => Shown {
                format: "sigstore",
                identity,
                fingerprint,
                signing_key: None,
                algorithm: None,
                allowed_by: key,
                issuer,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub enum Verdict {
    Good(Signer),
    /// Not a good signature from an allowed signer: why, as a sentence about it.
    Bad(String),
    /// No keys of the signature's format were given to judge it.
    NoKeys(Format),
}

/// Judges `signature` over `payload`. `signer` is who the payload says signed it
/// (git's tagger email and time), which an SSH allowed-signers line must admit;
/// None when the payload names nobody.
pub fn check(
    keys: &Keys,
    payload: &[u8],
    signature: &[u8],
    signer: Option<(&str, i64)>,
) -> Verdict {
    match Format::of(signature) {
        Format::Ssh => {
            let Some(signers) = &keys.ssh else {
                return Verdict::NoKeys(Format::Ssh);
            };
            let Some((email, time)) = signer else {
                return Verdict::Bad(
                    "it has no readable tagger line to check the signer against".into(),
                );
            };
            ssh_verdict(
                allowed::verify(signature, payload, signers, &keys.revoked, email, time),
                signers,
            )
        }
        Format::OpenPgp => check_openpgp(keys, payload, signature),
    }
}

/// Judges a detached signature over a release file (`SHA256SUMS`) checked at
/// `time`: SSH in the `file` namespace by a key listed for any principal with that
/// namespace allowed (as `ssh-keygen -Y find-principals`, then `-Y verify -n file`);
/// OpenPGP as for tags.
pub fn check_file(keys: &Keys, payload: &[u8], signature: &[u8], time: i64) -> Verdict {
    match Format::of(signature) {
        Format::Ssh => {
            let Some(signers) = &keys.ssh else {
                return Verdict::NoKeys(Format::Ssh);
            };
            let judged = allowed::verify_in(
                signature,
                payload,
                signers,
                &keys.revoked,
                super::ssh::FILE_NAMESPACE,
                None,
                time,
            );
            ssh_verdict(judged, signers)
        }
        Format::OpenPgp => check_openpgp(keys, payload, signature),
    }
}

/// An SSH signature's judgement as a verdict, naming the allowed-signers line.
fn ssh_verdict(judged: Result<allowed::Allowed, String>, signers: &AllowedSigners) -> Verdict {
    match judged {
        Ok(good) => Verdict::Good(Signer::Ssh {
            principal: good.principal,
            algorithm: good.algorithm,
            fingerprint: good.fingerprint,
            allowed_by: (signers.origin.clone(), good.line),
        }),
        Err(why) => Verdict::Bad(why),
    }
}

fn check_openpgp(keys: &Keys, payload: &[u8], signature: &[u8]) -> Verdict {
    if keys.openpgp.is_empty() {
        return Verdict::NoKeys(Format::OpenPgp);
    }
    let good = match openpgp::verify_detached(&keys.openpgp, payload, signature) {
        Ok(good) => good,
        Err(e) => return Verdict::Bad(e),
    };
    if !keys.openpgp_admits(&good.cert_fingerprint, &good.key_fingerprint) {
        let who = good.userid.as_deref().unwrap_or("(no user id)");
        return Verdict::Bad(format!(
            "it is signed by {} {}, which is not one of the --signer fingerprints",
            crate::error::escape(who),
            good.cert_fingerprint
        ));
    }
    Verdict::Good(Signer::OpenPgp {
        userid: good.userid,
        cert_fingerprint: good.cert_fingerprint,
        key_fingerprint: good.key_fingerprint,
    })
}

/// A revoked-keys file, with how messages name it.
pub fn read_revoked(path: &std::path::Path) -> anyhow::Result<Revoked> {
    let bytes = crate::fsutil::read_bounded(path, crate::fsutil::KEY_LIMIT, "revoked-keys file")?;
    let origin = path.display().to_string();
    let keys = allowed::parse_revoked(&crate::error::escape(&origin), &bytes)?;
    Ok((origin, keys))
}

pub fn read_allowed(path: &std::path::Path) -> anyhow::Result<AllowedSigners> {
    let bytes =
        crate::fsutil::read_bounded(path, crate::fsutil::KEY_LIMIT, "allowed-signers file")?;
    AllowedSigners::parse(
        &crate::error::escape(&path.display().to_string()),
        &String::from_utf8_lossy(&bytes),
    )
}

/// The SSH revocations git itself honours (`gpg.ssh.revocationFile`): every judge
/// applies them, whatever else it trusts.
pub fn git_revocations(repo: &crate::git::Repo) -> anyhow::Result<Vec<Revoked>> {
    match repo.config_string("gpg.ssh.revocationFile") {
        Some(r) => Ok(vec![read_revoked(&super::ssh::expand_home(
            std::path::Path::new(&r),
        ))?]),
        None => Ok(Vec::new()),
    }
}
