//! Integration tests: the built binary on real fixture workspaces. One test binary
//! so the slow parts (cargo, the advisory snapshot copy) are shared.

mod adoption;
mod architecture;
mod artifacts;
mod attest;
mod audit;
mod audit_bad_input;
mod cache;
mod common;
mod differential;
mod docs;
mod fingerprint;
mod hostile;
mod init;
mod library;
mod never_panic;
mod packaging;
mod profile;
mod profile_props;
mod reports;
mod sbom;
mod sbom_oracle;
mod sigstore;
mod ssh;
mod tag;
mod workflows;
mod workflows_zizmor;
