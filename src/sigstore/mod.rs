//! Sigstore bundles (cosign's, GitHub's artifact attestations, npm's provenance)
//! verified offline: sigstore-rust's verifier (`sigstore-verify`) does the bundle,
//! the certificate chain, the SCT, the signing times, the transparency log and the
//! signature, with our RustCrypto backend (`crypto`) and the trusted roots the user
//! names or the embedded one (`root`). On top, here: GitHub's workflow identity
//! (`--repo`), several roots from one file, and the judgement told as checks.
//! Pure: the bundle, the artifact and the roots in; one `Verdict` out.

pub mod crypto;
pub mod root;

use crate::error::escape;
use crate::report::verify::ArtifactCheck;
use crate::sig::check::{Signer, Verdict};
use root::Root;
use sigstore_verify::types::{Bundle, DerPublicKey, KindVersion, SignatureContent};
use sigstore_verify::{
    Error, PublicKeyVerificationPolicy, SubjectAltName, VerificationPolicy, VerificationResult,
    Verifier,
};
use std::io::Read;

/// The OIDC issuer of GitHub Actions' workflow tokens.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// An artifact read whole only when its signature needs the bytes themselves
/// (Ed25519 message signatures); larger ones are refused by name.
pub const BYTES_LIMIT: u64 = 1 << 30;

/// Who must have signed.
pub enum Expected {
    /// The certificate's SAN and OIDC issuer, exactly; None: a certificate that
    /// names no issuer (GitHub's release attestations, signed by GitHub itself).
    Identity { san: String, issuer: Option<String> },
    /// A workflow of this GitHub repository (`OWNER/REPO`); with `workflow`, that
    /// file of `.github/workflows/`; with `git_ref`, that ref (`refs/…`, or a tag or
    /// branch name).
    Github {
        repo: String,
        workflow: Option<String>,
        git_ref: Option<String>,
    },
    /// A managed key, as cosign's `--key`; `origin` names its file. With
    /// `ignore_tlog`, no log entry or timestamp is required (cosign's
    /// `--insecure-ignore-tlog`): the signature alone, its time unattested.
    Key {
        key: DerPublicKey,
        origin: String,
        ignore_tlog: bool,
    },
}

/// The artifact: opened (and read again for each trusted root tried), or its
/// SHA-256 alone (the conformance protocol's `sha256:HEX`).
pub enum Artifact<'a> {
    Open(&'a dyn Fn() -> std::io::Result<Box<dyn Read>>),
    Sha256([u8; 32]),
}

/// The verdict and the checks behind it, in the report's terms.
pub struct Judgement {
    pub verdict: Verdict,
    pub checks: Vec<ArtifactCheck>,
    pub notes: Vec<String>,
}

/// How messages name the bundle and the artifact.
pub struct Names<'a> {
    pub bundle: &'a str,
    pub artifact: &'a str,
}

/// Parses a bundle (v0.1, v0.2, v0.3); `Err` says what is wrong, for a message
/// that names the file.
pub fn parse_bundle(text: &str) -> Result<Bundle, String> {
    Bundle::from_json(text.trim_start_matches('\u{feff}')).map_err(|e| {
        let e = e.to_string();
        let e = e.strip_prefix("JSON error: ").unwrap_or(&e);
        format!("not a Sigstore bundle: {e}")
    })
}

/// Parses a bundle file: one bundle, or JSON Lines of several (as `gh attestation
/// download` writes a release file's attestations). `Err` names the line at fault.
pub fn parse_bundles(text: &str) -> Result<Vec<Bundle>, String> {
    let first = match parse_bundle(text) {
        Ok(one) => return Ok(vec![one]),
        Err(e) => e,
    };
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    let one_per_line = lines.len() > 1
        && lines
            .iter()
            .all(|(_, l)| l.trim_start().starts_with('{') && l.trim_end().ends_with('}'));
    if !one_per_line {
        return Err(first);
    }
    lines
        .into_iter()
        .map(|(n, l)| parse_bundle(l).map_err(|e| format!("line {n}: {e}")))
        .collect()
}

/// Parses a PEM public key (`-----BEGIN PUBLIC KEY-----`, as cosign writes).
pub fn parse_key(pem: &str) -> Result<DerPublicKey, String> {
    let key = DerPublicKey::from_pem(pem).map_err(|e| format!("not a PEM public key: {e}"))?;
    // A SubjectPublicKeyInfo of an algorithm the verifier knows, checked now: a
    // key that is not one is a mistake in the command line, not a bad signature.
    sigstore_verify::crypto::VerificationKey::from_spki(&key)
        .map_err(|e| format!("not a public key this tool can use: {e}"))?;
    Ok(key)
}

/// Judges the bundles over `artifact` by each root in turn (a file of several
/// roots trusts each): good for the first bundle a root verifies. `Err` is an
/// artifact that could not be read (could not run).
pub fn verify(
    bundles: &[Bundle],
    artifact: &Artifact,
    roots: &[Root],
    expected: &Expected,
    names: &Names,
) -> Result<Judgement, String> {
    crypto::install();
    let mut failures: Vec<(usize, ArtifactCheck)> = Vec::new();
    for bundle in bundles {
        for (i, root) in roots.iter().enumerate() {
            match verify_with(bundle, artifact, root, expected, names)? {
                Ok(judgement) => return Ok(judgement),
                Err(check) => failures.push((i, check)),
            }
        }
    }
    // Several roots: the failure that got furthest is the one to tell (a wrong
    // root fails first on the certificate's chain or the signing time).
    let best = failures
        .iter()
        .position(|(_, c)| !matches!(c.claim, "certificate" | "timestamp" | "trusted-root"))
        .unwrap_or(0);
    if failures.is_empty() {
        // The parsers return at least one bundle and one root; said, not assumed.
        return Ok(Judgement {
            verdict: Verdict::Bad(format!("{}: nothing to judge", escape(names.bundle))),
            checks: Vec::new(),
            notes: Vec::new(),
        });
    }
    let (i, check) = failures.swap_remove(best);
    let mut notes = vec![format!("trusted root: {}", escape(&roots[i].origin))];
    if roots.len() > 1 {
        notes.push(format!(
            "none of the {} trusted roots verifies the bundle",
            roots.len()
        ));
    }
    if bundles.len() > 1 {
        notes.push(format!(
            "none of the {} bundles in {} verifies",
            bundles.len(),
            escape(names.bundle)
        ));
    }
    Ok(Judgement {
        verdict: Verdict::Bad(check.message.clone()),
        checks: vec![check],
        notes,
    })
}

type Attempt = Result<Judgement, ArtifactCheck>;

fn verify_with(
    bundle: &Bundle,
    artifact: &Artifact,
    root: &Root,
    expected: &Expected,
    names: &Names,
) -> Result<Attempt, String> {
    if let Err(why) = no_root_in_chain(bundle) {
        return Ok(Err(failed(
            "bundle",
            names.bundle,
            format!("{}: {why}", escape(names.bundle)),
        )));
    }
    let verifier = match Verifier::new(&root.trusted) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(failed(
                "trusted-root",
                names.bundle,
                format!(
                    "{} cannot be used: {}",
                    escape(&root.origin),
                    escape(&plain(&e))
                ),
            )))
        }
    };
    if let Expected::Key {
        key,
        origin,
        ignore_tlog: true,
    } = expected
    {
        let material = &bundle.verification_material;
        if material.tlog_entries.is_empty()
            && material
                .timestamp_verification_data
                .rfc3161_timestamps
                .is_empty()
        {
            return without_log(bundle, artifact, key, origin, names);
        }
    }
    let mut notes = vec![format!("trusted root: {}", escape(&root.origin))];
    // GitHub's own instance (private repositories) has no transparency log and no
    // CT logs: its timestamp authority alone dates the signature, as `gh` checks it.
    if !root.has_tlog() {
        notes.push(format!(
            "{} has no transparency log: the signing time comes from its timestamp authority alone",
            escape(&root.origin)
        ));
    }
    let result = match expected {
        Expected::Key {
            key, ignore_tlog, ..
        } => {
            let policy = PublicKeyVerificationPolicy::new(key.clone());
            if *ignore_tlog {
                notes.push(
                    "--insecure-ignore-tlog: no transparency-log entry or timestamp was required, so the signing time is not attested: the key's holder is trusted for any time"
                        .to_string(),
                );
            }
            let policy = match root.has_tlog() && !ignore_tlog {
                true => policy,
                false => policy.skip_tlog_unsafe(),
            };
            run(&verifier, artifact, bundle, &policy)?
        }
        Expected::Identity { san, issuer } => {
            let policy = match issuer {
                Some(issuer) => VerificationPolicy::new(san.as_str(), issuer.as_str()),
                None => VerificationPolicy::any_identity().require_identity(san.as_str()),
            };
            run(&verifier, artifact, bundle, &relaxed(policy, root))?
        }
        Expected::Github { .. } => {
            let policy = VerificationPolicy::any_identity().require_issuer(GITHUB_ISSUER);
            run(&verifier, artifact, bundle, &relaxed(policy, root))?
        }
    };
    let result = match result {
        Ok(r) => r,
        Err(e) => return Ok(Err(rejection(&e, names))),
    };
    if let (Expected::Identity { issuer: None, .. }, Some(named)) = (expected, result.issuer()) {
        let why = format!(
            "{}: the signer is not the one required: the certificate names the OIDC issuer {}: pass it with --issuer",
            escape(names.bundle),
            escape(named)
        );
        return Ok(Err(failed("identity", names.bundle, why)));
    }
    if let Expected::Github {
        repo,
        workflow,
        git_ref,
    } = expected
    {
        if let Err(why) = github_identity(result.identity(), repo, workflow, git_ref) {
            let why = format!(
                "{}: the signer is not the one required: {why}",
                escape(names.bundle)
            );
            return Ok(Err(failed("identity", names.bundle, why)));
        }
    }
    Ok(Ok(Judgement {
        verdict: Verdict::Good(signer(bundle, &result, expected)),
        checks: checks(bundle, &result, root, expected, names),
        notes,
    }))
}

/// A v0.1/v0.2 bundle's chain holds the signing certificate and intermediates, never
/// a root: trust comes from the trusted root alone (the Sigstore client spec, and the
/// conformance suite's `bundle-with-root-cert_fail`). sigstore-verify ignores extra
/// chain members, so this is checked here.
fn no_root_in_chain(bundle: &Bundle) -> Result<(), String> {
    use sigstore_verify::types::bundle::VerificationMaterialContent;
    use x509_cert::der::Decode;
    let VerificationMaterialContent::X509CertificateChain { certificates } =
        &bundle.verification_material.content
    else {
        return Ok(());
    };
    for (i, c) in certificates.iter().enumerate() {
        let Ok(cert) = x509_cert::Certificate::from_der(c.raw_bytes.as_bytes()) else {
            // Unreadable certificates are the verifier's to refuse, with its reason.
            continue;
        };
        let tbs = &cert.tbs_certificate;
        if tbs.issuer == tbs.subject {
            return Err(format!(
                "the certificate chain holds a self-signed root (certificate {} of {}): a bundle carries the signing certificate and intermediates, the trusted root the roots",
                i + 1,
                certificates.len()
            ));
        }
    }
    Ok(())
}

/// `--key --insecure-ignore-tlog` on a bundle with neither a log entry nor a
/// timestamp (attest's provenance.sigstore.json): sigstore-verify refuses such a
/// bundle as malformed whatever the policy, so its DSSE envelope is judged here, as
/// a verifier with a key and no time source does (sigstore-js with thresholds 0,
/// cosign with `--insecure-ignore-tlog`): the signature over DSSE's PAE by the key,
/// then the artifact's SHA-256 among the statement's subjects. No trusted root is
/// involved: the key is the whole of the trust.
fn without_log(
    bundle: &Bundle,
    artifact: &Artifact,
    key: &DerPublicKey,
    origin: &str,
    names: &Names,
) -> Result<Attempt, String> {
    let (b, a) = (escape(names.bundle), escape(names.artifact));
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        let why = format!(
            "{b} holds a message signature with no log entry or timestamp: only a DSSE envelope is verified that way"
        );
        return Ok(Err(failed("bundle", names.bundle, why)));
    };
    let pae = crate::attestation::dsse::pae(&envelope.payload_type, envelope.payload.as_bytes());
    let verified = sigstore_verify::crypto::VerificationKey::from_spki(key)
        .and_then(|k| k.verify(&pae, &envelope.signature.sig));
    if verified.is_err() {
        let why = format!(
            "{b}: the envelope's signature does not verify with the key {}",
            escape(origin)
        );
        return Ok(Err(failed("signature", names.bundle, why)));
    }
    let digest = match artifact {
        Artifact::Sha256(d) => crate::digest::hex(d),
        Artifact::Open(open) => {
            use sha2::Digest;
            let mut reader = open().map_err(|e| e.to_string())?;
            let mut h = sha2::Sha256::new();
            std::io::copy(&mut reader, &mut h).map_err(|e| e.to_string())?;
            crate::digest::hex(&h.finalize())
        }
    };
    let statement: serde_json::Value =
        serde_json::from_slice(envelope.payload.as_bytes()).unwrap_or_default();
    let subjects = statement["subject"].as_array().cloned().unwrap_or_default();
    let listed = subjects
        .iter()
        .any(|s| s["digest"]["sha256"].as_str() == Some(digest.as_str()));
    if !listed {
        let why = format!(
            "{a} is not a subject of the statement in {b}: its SHA-256 {digest} is not among the {} listed",
            subjects.len()
        );
        return Ok(Err(failed("artifact", names.artifact, why)));
    }
    let holds = |claim: &'static str, file: &str, message: String| ArtifactCheck {
        claim,
        file: file.to_string(),
        holds: true,
        message,
    };
    Ok(Ok(Judgement {
        verdict: Verdict::Good(Signer::Sigstore {
            identity: None,
            issuer: None,
            fingerprint: crate::digest::sha256_hex(key.as_bytes()),
            key: Some(origin.to_string()),
        }),
        checks: vec![
            holds(
                "bundle",
                names.bundle,
                format!("{b} is a Sigstore bundle: a DSSE envelope, with no log entry or timestamp"),
            ),
            holds(
                "signature",
                names.bundle,
                format!("the envelope's signature verifies with the key {}", escape(origin)),
            ),
            holds(
                "artifact",
                names.artifact,
                format!("{a} is a subject of the statement (by its digest)"),
            ),
        ],
        notes: vec![
            "--insecure-ignore-tlog: the bundle has no transparency-log entry or timestamp, so the signing time is not attested: the key's holder is trusted for any time"
                .to_string(),
        ],
    }))
}

fn relaxed(policy: VerificationPolicy, root: &Root) -> VerificationPolicy {
    let policy = match root.has_tlog() {
        true => policy,
        false => policy.skip_tlog_unsafe(),
    };
    match root.has_ct_logs() {
        true => policy,
        false => policy.skip_sct(),
    }
}

/// One verification; the artifact streamed, or read whole for the signatures
/// that need its bytes.
fn run(
    verifier: &Verifier,
    artifact: &Artifact,
    bundle: &Bundle,
    policy: &(impl sigstore_verify::Policy + ?Sized),
) -> Result<Result<VerificationResult, Error>, String> {
    let open = match artifact {
        Artifact::Sha256(d) => {
            let digest = sigstore_verify::types::Sha256Hash::from(*d);
            return Ok(verifier.verify(digest, bundle, policy));
        }
        Artifact::Open(open) => open,
    };
    let reader = open().map_err(|e| e.to_string())?;
    match verifier.verify_reader(reader, bundle, policy) {
        Err(Error::UnsupportedArtifact(_)) => {
            let mut bytes = Vec::new();
            open()
                .and_then(|r| r.take(BYTES_LIMIT + 1).read_to_end(&mut bytes))
                .map_err(|e| e.to_string())?;
            if bytes.len() as u64 > BYTES_LIMIT {
                return Err(format!(
                    "its signature needs the whole file in memory, and it is larger than {BYTES_LIMIT} bytes"
                ));
            }
            Ok(verifier.verify(bytes.as_slice(), bundle, policy))
        }
        Err(Error::ArtifactRead(e)) => Err(e.to_string()),
        other => Ok(other),
    }
}

fn failed(claim: &'static str, file: &str, message: String) -> ArtifactCheck {
    ArtifactCheck {
        claim,
        file: file.to_string(),
        holds: false,
        message,
    }
}

/// The verifier's refusal as a check: which part failed, in a sentence.
fn rejection(e: &Error, names: &Names) -> ArtifactCheck {
    use sigstore_verify::{CertificateError as C, TimestampError as T, TransparencyLogError as L};
    let (claim, file) = match e {
        Error::IdentityMismatch { .. } | Error::IssuerMismatch { .. } => ("identity", names.bundle),
        Error::SignatureInvalid(_) | Error::Crypto(_) => ("signature", names.bundle),
        Error::ArtifactMismatch(_) | Error::UnsupportedArtifact(_) => ("artifact", names.artifact),
        Error::Certificate(C::Sct(_)) => ("sct", names.bundle),
        Error::Certificate(_) => ("certificate", names.bundle),
        Error::TransparencyLog(L::EntryMismatch(_)) => ("tlog", names.bundle),
        Error::TransparencyLog(_) => ("tlog", names.bundle),
        Error::Timestamp(T::NoVerifiedTimestamp(_)) => ("timestamp", names.bundle),
        Error::Timestamp(_) => ("timestamp", names.bundle),
        Error::InvalidTrustRoot(_) | Error::TrustRoot(_) | Error::TrustedCertificate(_) => {
            ("trusted-root", names.bundle)
        }
        _ => ("bundle", names.bundle),
    };
    let what = match claim {
        "identity" => "the signer is not the one required",
        "signature" => "the signature does not verify",
        "artifact" => "the bundle is not about this artifact",
        "sct" => "the certificate's SCT does not verify",
        "certificate" => "the signing certificate is not trusted",
        "tlog" => "the transparency log entry does not verify",
        "timestamp" => "the signing time cannot be established",
        "trusted-root" => "the trusted root cannot be used",
        _ => "the bundle is not valid",
    };
    failed(
        claim,
        file,
        format!("{}: {what}: {}", escape(file), escape(&plain(e))),
    )
}

/// The verifier's message, with webpki's debug forms (`CertExpired { time:
/// UnixTime(…), … }`) told as dates.
fn plain(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let seconds = |s: &str, key: &str| -> Option<jiff::Timestamp> {
        let rest = s.split_once(&format!("{key}: UnixTime("))?.1;
        jiff::Timestamp::from_second(rest.split(')').next()?.parse().ok()?).ok()
    };
    for (debug, sentence, key, word) in [
        ("CertExpired", "had expired at", "not_after", "valid until"),
        (
            "CertNotValidYet",
            "was not yet valid at",
            "not_before",
            "valid from",
        ),
    ] {
        let Some(at) = text.find(debug) else {
            continue;
        };
        if let (Some(time), Some(bound)) = (seconds(&text[at..], "time"), seconds(&text[at..], key))
        {
            let head = text[..at].trim_end_matches([' ', ':']);
            return format!(
                "{head}: the certificate {sentence} the signing time {time} ({word} {bound})"
            );
        }
    }
    text
}

/// GitHub's workflow identity: `https://github.com/OWNER/REPO/.github/workflows/FILE@REF`.
fn github_identity(
    san: Option<&SubjectAltName>,
    repo: &str,
    workflow: &Option<String>,
    git_ref: &Option<String>,
) -> Result<(), String> {
    let want = format!("https://github.com/{repo}/.github/workflows/");
    let Some(SubjectAltName::Uri(uri)) = san else {
        return Err(format!(
            "the certificate's identity is {}, not a workflow of {}",
            san.map_or("missing".to_string(), |s| format!(
                "`{}`",
                escape(s.as_str())
            )),
            escape(repo)
        ));
    };
    let not_of = || {
        format!(
            "the certificate's identity `{}` is not a workflow of {} (expected {want}…@refs/…)",
            escape(uri),
            escape(repo)
        )
    };
    // GitHub's owner and repository names are case-insensitive; the rest is not.
    let head = uri.get(..want.len()).ok_or_else(not_of)?;
    if !head.eq_ignore_ascii_case(&want) {
        return Err(not_of());
    }
    let (file, at) = uri[want.len()..].split_once('@').ok_or_else(not_of)?;
    if file.is_empty() || !at.starts_with("refs/") {
        return Err(not_of());
    }
    if let Some(w) = workflow {
        let w = w.trim_start_matches("./");
        let w = w.strip_prefix(".github/workflows/").unwrap_or(w);
        if w != file {
            return Err(format!(
                "the certificate's identity `{}` is workflow `{}`, not `{}`",
                escape(uri),
                escape(file),
                escape(w)
            ));
        }
    }
    if let Some(r) = git_ref {
        let ok = match r.starts_with("refs/") {
            true => at == r,
            false => at == format!("refs/tags/{r}") || at == format!("refs/heads/{r}"),
        };
        if !ok {
            return Err(format!(
                "the certificate's identity `{}` ran on `{}`, not `{}`",
                escape(uri),
                escape(at),
                escape(r)
            ));
        }
    }
    Ok(())
}

/// The signer: the certificate's identity and the SHA-256 of the certificate, or
/// the managed key's file and the SHA-256 of its SubjectPublicKeyInfo.
fn signer(bundle: &Bundle, result: &VerificationResult, expected: &Expected) -> Signer {
    use crate::digest::sha256_hex;
    match expected {
        Expected::Key { key, origin, .. } => Signer::Sigstore {
            identity: None,
            issuer: None,
            fingerprint: sha256_hex(key.as_bytes()),
            key: Some(origin.clone()),
        },
        _ => Signer::Sigstore {
            identity: result.identity().map(|s| s.as_str().to_string()),
            issuer: result.issuer().map(str::to_string),
            fingerprint: bundle
                .signing_certificate()
                .map(|c| sha256_hex(c.as_bytes()))
                .unwrap_or_default(),
            key: None,
        },
    }
}

/// What was checked, once the verifier accepted the bundle.
fn checks(
    bundle: &Bundle,
    result: &VerificationResult,
    root: &Root,
    expected: &Expected,
    names: &Names,
) -> Vec<ArtifactCheck> {
    let holds = |claim: &'static str, file: &str, message: String| ArtifactCheck {
        claim,
        file: file.to_string(),
        holds: true,
        message,
    };
    let (b, a) = (escape(names.bundle), escape(names.artifact));
    let mut out = Vec::new();
    let content = match &bundle.content {
        SignatureContent::MessageSignature(_) => "a message signature".to_string(),
        SignatureContent::DsseEnvelope(e) => {
            let predicate =
                serde_json::from_slice::<sigstore_verify::types::Statement>(e.payload.as_bytes())
                    .map(|s| format!(" ({})", escape(&s.predicate_type)))
                    .unwrap_or_default();
            format!("a DSSE envelope of an in-toto statement{predicate}")
        }
        #[allow(unreachable_patterns)]
        _ => "a signature".to_string(),
    };
    use sigstore_verify::types::MediaType;
    let bundle_kind = match bundle.media_type {
        MediaType::Bundle0_1 => "v0.1",
        MediaType::Bundle0_2 => "v0.2",
        _ => "v0.3",
    };
    out.push(holds(
        "bundle",
        names.bundle,
        format!("{b} is a Sigstore bundle {bundle_kind}: {content}"),
    ));
    out.push(holds(
        "artifact",
        names.artifact,
        match &bundle.content {
            SignatureContent::DsseEnvelope(_) => {
                format!("{a} is a subject of the statement (by its digest)")
            }
            _ => format!("{a} is the signed message (by its digest)"),
        },
    ));
    let signed_with = match expected {
        Expected::Key { origin, .. } => format!("the key {}", escape(origin)),
        _ => "the certificate's key".to_string(),
    };
    out.push(holds(
        "signature",
        names.bundle,
        format!("the signature verifies with {signed_with}"),
    ));
    if let Some(cert) = result
        .certificate()
        .filter(|_| result.certificate_verified())
    {
        out.push(holds(
            "certificate",
            names.bundle,
            format!(
                "the signing certificate chains to a Fulcio CA of the trusted root, is for code signing, and is valid from {} to {}, which holds every signing time",
                cert.not_before, cert.not_after
            ),
        ));
    }
    if result.sct_verified() {
        out.push(holds(
            "sct",
            names.bundle,
            "the certificate's SCT is signed by a CT log of the trusted root".to_string(),
        ));
    }
    if result.identity_policy_checked() {
        let how = match expected {
            Expected::Github { repo, .. } => {
                format!("a workflow of {} as --repo requires", escape(repo))
            }
            Expected::Identity { issuer: None, .. } => "as --identity requires".to_string(),
            _ => "as --identity and --issuer require".to_string(),
        };
        out.push(holds(
            "identity",
            names.bundle,
            format!(
                "signed by {} ({}): {how}",
                escape(result.identity().map_or("", |s| s.as_str())),
                result
                    .issuer()
                    .map_or("no OIDC issuer".to_string(), |i| format!(
                        "OIDC issuer {}",
                        escape(i)
                    )),
            ),
        ));
    }
    let material = &bundle.verification_material;
    let set_times: Vec<jiff::Timestamp> = material
        .tlog_entries
        .iter()
        .filter(|e| {
            matches!(
                e.kind_version,
                KindVersion::HashedRekordV001 | KindVersion::DsseV001 | KindVersion::IntotoV002
            ) && e.inclusion_promise.is_some()
        })
        .filter_map(|e| e.integrated_time)
        .collect();
    let times: Vec<String> = result
        .verified_timestamps()
        .iter()
        .map(|t| match set_times.contains(t) {
            true => format!("{t} (the log's signed entry timestamp)"),
            false => {
                format!("{t} (an RFC 3161 timestamp of a timestamp authority of the trusted root)")
            }
        })
        .collect();
    if !times.is_empty() {
        out.push(holds(
            "timestamp",
            names.bundle,
            format!("signed at {}", times.join(", ")),
        ));
    }
    if result.tlog_verified() {
        for e in &material.tlog_entries {
            let log = root
                .trusted
                .tlogs
                .iter()
                .find(|l| l.log_id.key_id.as_bytes() == e.log_id.key_id.as_bytes())
                .map_or_else(|| "a log".to_string(), |l| escape(&l.base_url));
            let proof = match &e.inclusion_proof {
                Some(p) => format!(
                    "its inclusion proof (tree size {}) leads to a checkpoint signed by the log",
                    p.tree_size
                ),
                None => "its signed entry timestamp verifies".to_string(),
            };
            out.push(holds(
                "tlog",
                names.bundle,
                format!(
                    "entry {} of {log} ({} {}) describes this signature; {proof}",
                    e.log_index,
                    e.kind_version.kind(),
                    e.kind_version.version()
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Option<SubjectAltName> {
        Some(SubjectAltName::Uri(s.to_string()))
    }

    #[test]
    fn github_identity_is_the_repository_s_workflow_at_a_ref() {
        let id =
            uri("https://github.com/Owner/Repo/.github/workflows/release.yml@refs/tags/v1.0.0");
        let id = id.as_ref();
        let some = |s: &str| Some(s.to_string());
        assert!(github_identity(id, "owner/repo", &None, &None).is_ok());
        assert!(github_identity(id, "owner/repo", &some("release.yml"), &some("v1.0.0")).is_ok());
        assert!(github_identity(
            id,
            "owner/repo",
            &some(".github/workflows/release.yml"),
            &some("refs/tags/v1.0.0")
        )
        .is_ok());
        assert!(github_identity(id, "owner/other", &None, &None).is_err());
        assert!(github_identity(id, "owner/rep", &None, &None).is_err());
        assert!(github_identity(id, "owner/repo", &some("ci.yml"), &None).is_err());
        assert!(github_identity(id, "owner/repo", &None, &some("main")).is_err());
        let elsewhere = uri("https://github.com/owner/repo/other/release.yml@refs/tags/v1");
        assert!(github_identity(elsewhere.as_ref(), "owner/repo", &None, &None).is_err());
        let email = Some(SubjectAltName::Email("a@example.com".into()));
        assert!(github_identity(email.as_ref(), "owner/repo", &None, &None).is_err());
    }

    #[test]
    fn webpki_debug_forms_are_told_as_dates() {
        let e = "certificate chain is invalid: certificate chain validation failed: CertExpired { time: UnixTime(1675296000), not_after: UnixTime(1675210200) }";
        let p = plain(&e);
        assert!(p.contains("2023-02-02T00:00:00Z"), "{p}");
        assert!(p.contains("valid until 2023-02-01T00:10:00Z"), "{p}");
        assert!(!p.contains("UnixTime"), "{p}");
    }
}
