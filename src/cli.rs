//! Command-line definition. Parsing only: behaviour lives in the command modules.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  cargo secure-release audit
  cargo secure-release audit --advisory-db ./advisory-db --offline --format json
  cargo secure-release audit --fix --dry-run

Exit codes: 0 nothing blocks the release, 1 at least one error finding,
2 the command could not run (bad input or usage).";

#[derive(Debug, Parser)]
#[command(
    name = "cargo-secure-release",
    bin_name = "cargo secure-release",
    version,
    about = "Take a Rust project from \"it builds\" to \"it is safe to release\"",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Coloring of human output
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// No progress and no summary on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (repeat for more)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report every release blocker: dependency advisories, licenses, bans, sources and the release profile
    #[command(after_help = "\
Examples:
  cargo secure-release audit
  cargo secure-release audit --advisory-db ../advisory-db --offline
  cargo secure-release audit --format json > audit.json
  cargo secure-release audit --fix --dry-run   # show the profile fix as a diff

Exit codes: 0 no error findings, 1 at least one error finding, 2 the audit could not run.")]
    Audit(AuditArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct ManifestArgs {
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package(s) whose dependency graph to check (default: the whole workspace)
    #[arg(short, long = "package", value_name = "SPEC")]
    pub packages: Vec<String>,
    /// Check all packages in the workspace (the default)
    #[arg(long)]
    pub workspace: bool,
    /// Run without accessing the network
    #[arg(long)]
    pub offline: bool,
    /// Require Cargo.lock to be up to date (always true: the audit never writes Cargo.lock)
    #[arg(long)]
    pub locked: bool,
    /// Require Cargo.lock and cache to be up to date (implies --locked and --offline)
    #[arg(long)]
    pub frozen: bool,
}

impl ManifestArgs {
    pub fn offline(&self) -> bool {
        self.offline || self.frozen
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args, Clone, Default)]
pub struct AuditArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// cargo-deny configuration (default: deny.toml, .deny.toml or .cargo/deny.toml found upwards from the manifest)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Local advisory database directory laid out like RustSec's (crates/<name>/RUSTSEC-*.md); no git needed
    #[arg(long, value_name = "DIR")]
    pub advisory_db: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human, alias = "message-format")]
    pub format: Format,
    /// The profile being released (default: the policy's `name`, else `release`)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Set the failing release-profile keys in the workspace root Cargo.toml
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the change as a unified diff and write nothing
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
}
