//! What `verify` found about one tag: the signature's verdict, where the keys came
//! from, each claim of the trailer checked against the tagged tree, and (with
//! `--audit`) the tagged tree's audit. `output::verify` renders it for people and
//! as JSON (`schema/verify.schema.json`).

use super::AuditReport;
use serde::Serialize;

#[derive(Serialize)]
pub struct VerifyReport {
    pub tag: String,
    pub signature: Signature,
    /// Where the keys came from (the signer policy, a change in it).
    pub notes: Vec<String>,
    /// The trailer's claims in the order they were checked; checking stops at the
    /// first that does not hold.
    pub claims: Vec<ClaimCheck>,
    /// `verify --audit`: the tagged tree audited with today's database.
    pub audit: Option<TaggedAudit>,
    /// `verify --artifact`: the release files' checks, in order; checking stops at
    /// the first that does not hold.
    pub artifacts: Vec<ArtifactCheck>,
    /// `verify --bundle`: the Sigstore bundle judged (the tag is then empty).
    pub bundle: Option<String>,
}

/// One check of `verify --artifact`.
#[derive(Serialize)]
pub struct ArtifactCheck {
    /// `sums-signature` (SHA256SUMS's signature), `provenance` (its envelope and
    /// statement), `commit` (the provenance's commit against the tag's), `sums`
    /// (the file's digest in SHA256SUMS), `subject` (in the provenance), `sbom`
    /// (a binary's embedded dependency list against its SBOM statement); for a
    /// Sigstore bundle: `bundle`, `artifact`, `signature`, `certificate`, `sct`,
    /// `identity`, `timestamp`, `tlog`, `trusted-root`.
    pub claim: &'static str,
    /// The file the check is about (as given on the command line or found).
    pub file: String,
    pub holds: bool,
    pub message: String,
}

#[derive(Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Signature {
    /// A good signature from an allowed signer.
    Good(Signer),
    /// No good signature from an allowed signer (unsigned, lightweight, a bad or
    /// unknown signature): why, as a sentence that names the tag.
    Bad { reason: String },
}

#[derive(Serialize)]
pub struct Signer {
    /// `openpgp`, `ssh` or `sigstore`.
    pub format: &'static str,
    /// The OpenPGP user id, the SSH principal that allowed the key, or the Sigstore
    /// certificate's identity (SAN).
    pub identity: Option<String>,
    /// The OpenPGP certificate's, or the SSH key's, fingerprint; Sigstore: the
    /// SHA-256 of the signing certificate, or of the `--key`'s SubjectPublicKeyInfo.
    pub fingerprint: String,
    /// OpenPGP: the signing (sub)key, when it is not the certificate's primary key.
    pub signing_key: Option<String>,
    /// SSH: the key's algorithm.
    pub algorithm: Option<String>,
    /// SSH: the allowed-signers file and line that admitted the key; Sigstore
    /// with `--key`: the key's file.
    pub allowed_by: Option<String>,
    /// Sigstore: the certificate's OIDC issuer.
    pub issuer: Option<String>,
}

#[derive(Serialize)]
pub struct ClaimCheck {
    /// The trailer key (`Cargo-lock-sha256`, `Package`, `Sbom-sha256`), `tag` for
    /// the name the signed object gives itself, or None when the trailer itself
    /// could not be read.
    pub key: Option<&'static str>,
    pub holds: bool,
    /// What was found, as a sentence (the line of the tag included).
    pub message: String,
}

#[derive(Serialize)]
pub struct TaggedAudit {
    #[serde(skip)]
    pub report: AuditReport,
    /// The `Sbom-sha256` claim recomputed from the tagged tree.
    pub sbom: Option<ClaimCheck>,
}

impl TaggedAudit {
    /// The tagged tree passes: no error findings, and its SBOM claim holds.
    pub fn clean(&self) -> bool {
        !self.report.has_errors() && self.sbom.as_ref().is_none_or(|c| c.holds)
    }
}

impl VerifyReport {
    /// The whole verdict: a good signature, every claim holding, and a clean audit
    /// when one was asked for.
    pub fn good(&self) -> bool {
        matches!(self.signature, Signature::Good(_))
            && self.claims.iter().all(|c| c.holds)
            && self.audit.as_ref().is_none_or(TaggedAudit::clean)
            && self.artifacts.iter().all(|a| a.holds)
    }
}
