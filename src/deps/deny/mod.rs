//! All cargo-deny glue: loading deny.toml with cargo-deny's own types (`config`),
//! building the graph and running the four checks (`checks`), and turning
//! cargo-deny's diagnostics into our findings (`convert`).

mod checks;
mod config;
mod convert;

pub use checks::{
    advisory_findings, graph, key_license_files, license_store, license_store_beside_cargo,
    lockfile_only_advisories, run_checks, warm_source_lookup, CheckInputs,
};
pub use config::{find_config, load_config, DenyConfig};
