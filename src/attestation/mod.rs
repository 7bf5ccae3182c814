//! The attestation formats of a release, written by `attest` and read by `verify
//! --artifact`: `SHA256SUMS` (`sums`), DSSE envelopes (`dsse`), and the in-toto
//! statements inside them with the SLSA provenance predicate (`provenance`), the
//! same envelope as a Sigstore bundle (`bundle`), minisign signatures (`minisign`),
//! and for each binary a statement with its CycloneDX SBOM (`sbom_statement`).
//! Pure: bytes in, bytes out; the files are read and written by the commands.

pub mod bundle;
pub mod dsse;
pub mod minisign;
pub mod provenance;
pub mod sbom_statement;
pub mod sums;

/// The files `attest` writes into the output directory.
pub const SUMS: &str = "SHA256SUMS";
/// `SHA256SUMS`'s signature: SSHSIG (namespace `file`) or armored OpenPGP.
pub const SUMS_SSH_SIG: &str = "SHA256SUMS.sig";
pub const SUMS_OPENPGP_SIG: &str = "SHA256SUMS.asc";
/// The DSSE envelopes of in-toto statements: the SLSA provenance.
pub const PROVENANCE: &str = "provenance.intoto.jsonl";
/// The provenance's envelope as a Sigstore bundle, for Sigstore tooling with a key.
pub const SIGSTORE_BUNDLE: &str = "provenance.sigstore.json";
