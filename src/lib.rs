//! cargo-secure-release as a library: every command is a function over options
//! structs (`options`), returning results that `output` renders. The binary
//! (`main.rs`) only parses the command line and maps outcomes to exit codes.
//!
//! Commands (`audit`, `sbom`, `tag`, `verify`, `init`) are short plans over the
//! engines (`gate`, the audit; `deps`, advisories and cargo-deny; `bom`, SBOMs;
//! `release`, the tag object and its claims; `sig`, signatures; `profile`) and never
//! import one another. Side effects live at the edges: `git` (the only user of
//! git2), `cargo` (the cargo subprocesses), `fsutil` (every file write), `shell` and
//! `output` (the only writers to the terminal). `config` reads the project's
//! settings once. docs/ARCHITECTURE.md has the map.

pub mod archive;
pub mod artifact;
pub mod attest;
pub mod attestation;
pub mod audit;
pub mod bom;
pub mod cache;
pub mod cargo;
pub mod cli;
pub mod config;
pub mod deps;
pub mod digest;
pub mod docs;
pub mod error;
pub mod fingerprint;
pub mod fsutil;
pub mod gate;
pub mod git;
pub mod ignores;
pub mod init;
pub mod lockfile;
pub mod man;
pub mod options;
pub mod output;
pub mod panic_guard;
pub mod platform;
pub mod profile;
pub mod reach;
pub mod release;
pub mod report;
pub mod sbom;
pub mod shell;
pub mod sig;
pub mod sigstore;
pub mod tag;
pub mod threads;
pub mod tree_record;
pub mod trust;
pub mod unify;
pub mod verify;
pub mod workflows;
pub mod workspace;
