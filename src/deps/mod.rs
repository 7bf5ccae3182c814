//! The dependency engine shared by `audit` and `sbom`: the advisory databases (a
//! cached clone, `--advisory-db`, or the snapshot built into the binary), cargo-deny
//! run as a library on one graph, and the work started before the workspace is read.

pub mod advisory_db;
pub mod deny;
pub(crate) mod pending;
pub(crate) mod prefetch;
pub mod snapshot;
