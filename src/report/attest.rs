//! What `attest` made: the release it attests, each file with its digest, the
//! files written (or, with `--dry-run`, that would be) and how to check them.
//! `output::attest` renders it for people and as JSON.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct AttestReport {
    pub tag: String,
    /// The tagged commit.
    pub commit: String,
    /// Each attested file: its name in `SHA256SUMS` and its SHA-256.
    pub files: Vec<AttestedFile>,
    /// The files written (paths as given), or that would be with `--dry-run`.
    pub written: Vec<String>,
    pub dry_run: bool,
    /// `SHA256SUMS` as written.
    pub sums: String,
    /// Who signed, with which key (empty with `--dry-run`).
    pub signer: Option<String>,
    /// Lines about the gates passed (the tag's verdict, the policy).
    pub notes: Vec<String>,
    /// Commands that check the files, ours and stock tools'.
    pub check_with: Vec<String>,
    /// With `--minisign`: the public key as minisign prints it (`RW…`), for
    /// `minisign -P` and cargo-binstall's `[package.metadata.binstall.signing]`.
    pub minisign_public_key: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttestedFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}
