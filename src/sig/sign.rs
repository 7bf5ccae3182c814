//! Which key signs the tag, in which format, and whether the signer policy lets
//! it. Keys are loaded and checked before the audit runs; a passphrase is asked
//! only when everything else has passed, just before signing.

use crate::error::{escape, Failure};
use crate::git::Repo;
use crate::options::KeyOptions;
use crate::sig::openpgp::{self, KeyUse, PassphraseSource};
use crate::sig::policy::Trusted;
use crate::sig::ssh::{KeySpec, SshSigningKey};
use crate::sig::Format as SignFormat;
use anyhow::Result;
use sequoia_openpgp::Cert;

use crate::release::object::Ident;

/// `--format`, else git's `gpg.format` (unset or `openpgp` → OpenPGP).
pub fn format(opts: &KeyOptions, repo: &Repo) -> Result<SignFormat> {
    if let Some(f) = opts.format {
        return Ok(f);
    }
    match repo.config_string("gpg.format").as_deref() {
        None | Some("openpgp") => Ok(SignFormat::OpenPgp),
        Some("ssh") => Ok(SignFormat::Ssh),
        Some(other) => Err(Failure::new(format!(
            "git config gpg.format is `{}`; this tool signs with OpenPGP or SSH only",
            escape(other)
        ))
        .help("pass --format openpgp or --format ssh, or set gpg.format to one of them")
        .into()),
    }
}

/// A key, loaded and checked, not yet unlocked.
pub enum Key {
    OpenPgp {
        cert: Box<Cert>,
        selector: Option<String>,
    },
    Ssh(SshSigningKey),
}

/// What the output says about who signed.
pub struct Signed {
    pub armored: String,
    pub lines: Vec<String>,
    pub verify_hint: Vec<String>,
}

pub fn load(opts: &KeyOptions, repo: &Repo, format: SignFormat) -> Result<Key> {
    let config_key = || repo.config_string("user.signingkey");
    match format {
        SignFormat::OpenPgp => {
            let key_path = opts.key.as_deref().ok_or_else(|| {
                Failure::new("no signing key: pass --key FILE with your secret key (or, with --agent, your public certificate)")
                    .help("export it with `gpg --export-secret-keys --armor KEYID > release.asc`")
            })?;
            let certs = openpgp::read_certs(key_path, KeyUse::Sign)?;
            let selector = opts.signing_key.clone().or_else(config_key);
            let cert = openpgp::select(&certs, selector.as_deref())?.clone();
            Ok(Key::OpenPgp {
                cert: Box::new(cert),
                selector,
            })
        }
        SignFormat::Ssh => {
            let configured = opts.signing_key.clone().or_else(config_key);
            let spec = match (&opts.key, &configured) {
                (Some(path), _) => KeySpec::File(path),
                (None, Some(value)) => KeySpec::from_git_config(value),
                (None, None) => {
                    return Err(Failure::new("no SSH signing key: pass --key FILE (a private key, or a public key held by ssh-agent)")
                        .help("or set `git config user.signingkey ~/.ssh/id_ed25519.pub`, as for `git tag -s` with gpg.format=ssh")
                        .into())
                }
            };
            Ok(Key::Ssh(SshSigningKey::load(spec, opts.agent)?))
        }
    }
}

impl Key {
    /// Refuses, before anything is signed or written, a key the policy does not list.
    pub fn check_policy(&self, trusted: &Trusted, tagger: &Ident) -> Result<()> {
        let refused = match self {
            Key::OpenPgp { cert, .. } => trusted.openpgp_allows(&cert.fingerprint().to_hex()).err(),
            Key::Ssh(key) => match &trusted.ssh {
                None => Some(trusted.not_listed_format("SSH")),
                Some(allowed) => allowed
                    .authorize(key.public.key_data(), &tagger.email, tagger.seconds)
                    .err(),
            },
        };
        match refused {
            None => Ok(()),
            Some(why) => Err(Failure::new(format!(
                "the signer policy does not allow this key: {why}; nothing was tagged"
            ))
            .help("sign with a key the policy lists, or add yours to the policy file in a reviewed commit first")
            .refusal()
            .into()),
        }
    }

    /// Unlocks the key (passphrase, agent) and signs `payload`. With a signer policy
    /// the verification hints name its files, which `verify` reads by itself.
    pub fn sign(
        self,
        opts: &KeyOptions,
        payload: &[u8],
        tag: &str,
        policy: Option<&Trusted>,
    ) -> Result<Signed> {
        let ours = |flag: &str| match policy {
            Some(_) => format!("cargo secure-release verify {tag}"),
            None => format!("cargo secure-release verify {tag} {flag}"),
        };
        let pass = passphrase(opts);
        match self {
            Key::OpenPgp { cert, selector } => {
                let mut key = if opts.agent {
                    agent_key(&cert, selector.as_deref(), pass)?
                } else {
                    openpgp::signing_key(
                        &cert,
                        selector.as_deref(),
                        pass.unwrap_or(PassphraseSource::Prompt),
                    )?
                };
                let armored = key.sign_detached_armored(payload)?;
                let who = key.userid.clone().unwrap_or_default();
                let mut lines = vec![format!("signed by {who} {}", key.cert_fingerprint)];
                if key.key_fingerprint != key.cert_fingerprint {
                    lines.push(format!("signing subkey {}", key.key_fingerprint));
                }
                Ok(Signed {
                    armored,
                    lines,
                    verify_hint: vec![
                        format!("git verify-tag {tag}"),
                        ours("--cert <public key file>"),
                    ],
                })
            }
            Key::Ssh(key) => {
                let armored = key.sign(payload, pass.unwrap_or(PassphraseSource::Prompt))?;
                let via = if key.via_agent() {
                    " via ssh-agent"
                } else {
                    ""
                };
                Ok(Signed {
                    armored,
                    lines: vec![format!(
                        "signed with {} key {}{via}",
                        key.algorithm(),
                        key.fingerprint
                    )],
                    verify_hint: {
                        let file = policy
                            .and_then(|t| t.policy.ssh.as_ref())
                            .map(|(f, _)| escape(f))
                            .unwrap_or_else(|| "<allowed signers>".into());
                        vec![
                            format!("git -c gpg.ssh.allowedSignersFile={file} verify-tag {tag}"),
                            ours("--allowed-signers <allowed signers>"),
                        ]
                    },
                })
            }
        }
    }
}

/// Where the passphrase comes from, when the options name a source.
fn passphrase(opts: &KeyOptions) -> Option<PassphraseSource<'_>> {
    match (&opts.passphrase_file, &opts.passphrase_env) {
        (Some(f), _) => Some(PassphraseSource::File(f)),
        (None, Some(v)) => Some(PassphraseSource::Env(v)),
        (None, None) => None,
    }
}

/// A release key unlocked once (one passphrase prompt) for several signatures.
pub enum Unlocked<'a> {
    OpenPgp(Box<openpgp::SigningKey>),
    Ssh(Box<crate::sig::ssh::Unlocked<'a>>),
}

impl Key {
    /// The format the key signs in.
    pub fn format(&self) -> SignFormat {
        match self {
            Key::OpenPgp { .. } => SignFormat::OpenPgp,
            Key::Ssh(_) => SignFormat::Ssh,
        }
    }

    /// The raw public key of a key that can make plain signatures (DSSE's,
    /// minisign's): an Ed25519 or ECDSA P-256 key, SSH or OpenPGP. Through a
    /// gpg-agent (`agent`), an OpenPGP Ed25519 key cannot: the agent signs hashes.
    pub fn plain_public(&self, agent: bool) -> Option<ssh_key::public::KeyData> {
        match self {
            Key::Ssh(key) => crate::sig::ssh::signs_plain(key.public.key_data())
                .then(|| key.public.key_data().clone()),
            Key::OpenPgp { cert, selector } => {
                openpgp::plain_signing_key(cert, selector.as_deref())
                    .filter(|k| !(agent && k.ed25519().is_some()))
            }
        }
    }

    /// Who the key is, for output lines: `ED25519 key SHA256:…`, or the OpenPGP
    /// certificate's user id and fingerprint.
    pub fn describe(&self) -> String {
        match self {
            Key::OpenPgp { cert, .. } => {
                let uid = cert
                    .userids()
                    .next()
                    .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned());
                format!(
                    "OpenPGP key {}{}",
                    cert.fingerprint().to_hex(),
                    uid.map(|u| format!(" ({})", escape(&u)))
                        .unwrap_or_default()
                )
            }
            Key::Ssh(key) => format!("{} key {}", key.algorithm(), key.fingerprint),
        }
    }

    /// Refuses a key the policy does not allow to sign release files: SSH keys need
    /// a line admitting the `file` namespace (valid at `time`), for any principal;
    /// OpenPGP certificates must be the policy's. The allowed SSH principal is
    /// returned, for the `ssh-keygen -Y verify -I` hint.
    pub fn check_file_policy(&self, trusted: &Trusted, time: i64) -> Result<Option<String>> {
        let refused = match self {
            Key::OpenPgp { cert, .. } => match trusted.openpgp_allows(&cert.fingerprint().to_hex())
            {
                Ok(()) => return Ok(None),
                Err(why) => why,
            },
            Key::Ssh(key) => match &trusted.ssh {
                None => trusted.not_listed_format("SSH"),
                Some(allowed) => match allowed.authorize_in(
                    key.public.key_data(),
                    None,
                    crate::sig::ssh::FILE_NAMESPACE,
                    time,
                ) {
                    Ok(good) => return Ok(Some(good.principal)),
                    Err(why) => why,
                },
            },
        };
        Err(Failure::new(format!(
            "the signer policy does not allow this key to sign release files: {refused}; nothing was written"
        ))
        .help("sign with a key the policy lists with namespaces=\"file\" (or no namespaces= option), added in a reviewed commit")
        .refusal()
        .into())
    }

    /// Unlocks the key (the passphrase asked here, once; or the agent).
    pub fn unlock<'a>(&'a self, opts: &'a KeyOptions) -> Result<Unlocked<'a>> {
        let pass = passphrase(opts);
        match self {
            Key::OpenPgp { cert, selector } => {
                let key = if opts.agent {
                    agent_key(cert, selector.as_deref(), pass)?
                } else {
                    openpgp::signing_key(
                        cert,
                        selector.as_deref(),
                        pass.unwrap_or(PassphraseSource::Prompt),
                    )?
                };
                Ok(Unlocked::OpenPgp(Box::new(key)))
            }
            Key::Ssh(key) => Ok(Unlocked::Ssh(Box::new(
                key.unlock(pass.unwrap_or(PassphraseSource::Prompt))?,
            ))),
        }
    }
}

impl Unlocked<'_> {
    /// A plain signature over `data` for a DSSE envelope (Ed25519, or ECDSA P-256
    /// as DER), with the key's fingerprint as its keyid (SSH's SHA256, OpenPGP's
    /// hex); None when the key cannot make one (RSA, other curves). An OpenPGP key
    /// makes its plain signatures before its one detached signature.
    pub fn sign_plain(&mut self, data: &[u8]) -> Result<Option<(String, Vec<u8>)>> {
        let key = match self {
            Unlocked::Ssh(key) => key,
            Unlocked::OpenPgp(key) => return key.sign_plain(data),
        };
        if !crate::sig::ssh::signs_plain(key.public().key_data()) {
            return Ok(None);
        }
        let sig = key.raw(data)?;
        Ok(crate::sig::ssh::plain_bytes(&sig).map(|b| (key.fingerprint().to_string(), b)))
    }

    /// A detached signature over a release file: SSHSIG in the `file` namespace
    /// (`ssh-keygen -Y verify -n file`), or armored OpenPGP (`gpg --verify`).
    pub fn sign_file(&mut self, data: &[u8]) -> Result<String> {
        match self {
            Unlocked::OpenPgp(key) => key.sign_detached_armored(data),
            Unlocked::Ssh(key) => key.sshsig(data, crate::sig::ssh::FILE_NAMESPACE),
        }
    }
}

#[cfg(feature = "gpg-agent")]
fn agent_key(
    cert: &Cert,
    selector: Option<&str>,
    pass: Option<PassphraseSource<'_>>,
) -> Result<openpgp::SigningKey> {
    openpgp::agent_signing_key(cert, selector, pass)
}

#[cfg(not(feature = "gpg-agent"))]
fn agent_key(
    _: &Cert,
    _: Option<&str>,
    _: Option<PassphraseSource<'_>>,
) -> Result<openpgp::SigningKey> {
    Err(Failure::new("--agent needs the gpg-agent feature, which this binary was built without")
        .help("reinstall with `cargo install --locked --features gpg-agent cargo-secure-release` (needs the capnp compiler), or pass --key with a secret key file")
        .into())
}
