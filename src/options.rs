//! What each command needs, as plain data. `cli.rs` builds these from the command
//! line; nothing past that point knows about the argument parser, so every command
//! can be called from code and tests.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub const ALL: [ColorChoice; 3] = [ColorChoice::Auto, ColorChoice::Always, ColorChoice::Never];

    pub fn as_str(self) -> &'static str {
        match self {
            ColorChoice::Auto => "auto",
            ColorChoice::Always => "always",
            ColorChoice::Never => "never",
        }
    }

    pub fn help(self) -> Option<&'static str> {
        None
    }
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Sarif,
    Github,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Human, Format::Json, Format::Sarif, Format::Github];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }

    pub fn help(self) -> Option<&'static str> {
        match self {
            Format::Sarif => Some("SARIF 2.1.0 for GitHub code scanning"),
            Format::Github => Some("GitHub Actions workflow annotations, then the summary"),
            Format::Human | Format::Json => None,
        }
    }
}

/// How a command's report other than the audit's is written: for people, or as
/// one JSON document (`schema/*.schema.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Human,
    Json,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 2] = [ReportFormat::Human, ReportFormat::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Human => "human",
            ReportFormat::Json => "json",
        }
    }

    pub fn help(self) -> Option<&'static str> {
        None
    }
}

/// Which workspace, which packages, and how cargo may reach the network.
#[derive(Debug, Clone, Default)]
pub struct ManifestOptions {
    pub manifest_path: Option<PathBuf>,
    pub packages: Vec<String>,
    pub offline: bool,
    pub frozen: bool,
    /// `--locked`: a missing Cargo.lock is an error instead of being created, as
    /// cargo's own `--locked` does (an existing one is never rewritten either way).
    pub locked: bool,
}

impl ManifestOptions {
    pub fn offline(&self) -> bool {
        self.offline || self.frozen
    }

    /// Whether a missing Cargo.lock may be created (`cargo generate-lockfile`), as
    /// `cargo build` would; never under `--locked` or `--frozen`.
    pub fn may_create_lockfile(&self) -> bool {
        !(self.locked || self.frozen)
    }
}

/// What every command that runs the audit needs.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub manifest: ManifestOptions,
    /// cargo-deny configuration (default: found like cargo-deny finds it).
    pub config: Option<PathBuf>,
    /// A local advisory database directory.
    pub advisory_db: Option<PathBuf>,
    /// The profile being released (default: the policy's `name`, else `release`).
    pub profile: Option<String>,
    pub cache: CacheUse,
    /// Which GitHub Actions workflows the audit reads.
    pub workflows: WorkflowSource,
}

impl CheckOptions {
    /// The options a release file's audit runs with (`attest`'s gate, `verify
    /// --artifact --audit`): the repository's manifest, `--offline` and
    /// `--advisory-db` as given, the rest as `audit` defaults them.
    pub fn for_release(
        workdir: Option<&std::path::Path>,
        offline: bool,
        advisory_db: Option<PathBuf>,
    ) -> CheckOptions {
        CheckOptions {
            manifest: ManifestOptions {
                manifest_path: workdir.map(|w| w.join("Cargo.toml")),
                offline,
                ..Default::default()
            },
            advisory_db,
            ..Default::default()
        }
    }
}

/// Where the audit's workflow check looks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WorkflowSource {
    /// The workspace's repository: `.github/workflows/` and `action.yml` at its top.
    #[default]
    Repository,
    /// `--workflows DIR`: the same layout under DIR.
    Dir(PathBuf),
    /// `--no-workflows`.
    Off,
}

/// How a command uses the findings cache and the warm path's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheUse {
    /// Read and write them (an audit, an SBOM).
    #[default]
    ReadWrite,
    /// Never read them, but leave fresh ones behind: a release decision (`tag`'s
    /// gate) is always made cold.
    WriteOnly,
    /// Neither (`--no-cache`).
    Off,
}

impl CacheUse {
    pub fn reads(self) -> bool {
        self == CacheUse::ReadWrite
    }

    pub fn writes(self) -> bool {
        self != CacheUse::Off
    }
}

/// What `--fix` should do with the release profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fix {
    #[default]
    No,
    Write,
    DryRun {
        diff_to_stdout: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    pub check: CheckOptions,
    pub fix: Fix,
    pub artifacts: ArtifactOptions,
}

/// Which built artifacts the audit inspects.
#[derive(Debug, Clone, Default)]
pub struct ArtifactOptions {
    /// Files named on the command line (`--artifact`).
    pub paths: Vec<PathBuf>,
    /// The bin targets of the selected packages, found in the target directory.
    pub all: bool,
    /// `--target TRIPLE`: look under target/TRIPLE/PROFILE.
    pub target: Option<String>,
}

impl ArtifactOptions {
    pub fn requested(&self) -> bool {
        self.all || !self.paths.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TagOptions {
    pub check: CheckOptions,
    /// Explicit tag name; must equal the name the tag-name pattern gives.
    pub name: Option<String>,
    /// Overrides the tag-name pattern with PREFIX{version}.
    pub tag_prefix: Option<String>,
    pub message: Option<String>,
    /// The release key that signs the tag.
    pub key: KeyOptions,
    pub allow_dirty: bool,
    pub no_audit: bool,
    pub dry_run: bool,
}

/// The release key: which format, which file or selector, how it is unlocked.
#[derive(Debug, Clone, Default)]
pub struct KeyOptions {
    /// None: the signer policy's format, else git's `gpg.format`.
    pub format: Option<SignFormat>,
    pub key: Option<PathBuf>,
    pub signing_key: Option<String>,
    pub agent: bool,
    pub passphrase_file: Option<PathBuf>,
    pub passphrase_env: Option<String>,
}

/// `attest`: the files of a release, the tag they are released from, the key.
#[derive(Debug, Clone, Default)]
pub struct AttestOptions {
    pub files: Vec<PathBuf>,
    /// None: the release tag at HEAD.
    pub tag: Option<String>,
    pub key: KeyOptions,
    /// Where SHA256SUMS and its signature are written (default: the current directory).
    pub output_dir: Option<PathBuf>,
    pub force: bool,
    pub dry_run: bool,
    /// Judge the tag by the signer policy at this revision (as `verify --trust-root`).
    pub trust_root: Option<String>,
    /// The release build's target, profile and features (the provenance's
    /// externalParameters; default: the host, `release`, none).
    pub target: Option<String>,
    pub profile: Option<String>,
    pub features: Vec<String>,
    pub repo: Option<PathBuf>,
    /// Also a minisign signature beside each file (`FILE.sig`), with the Ed25519 key.
    pub minisign: bool,
    /// `--artifacts`: the workspace's built bin targets too, as `audit --artifacts`.
    pub artifacts: bool,
    /// The advisory database the binaries' embedded packages are looked up in.
    pub advisory_db: Option<PathBuf>,
    pub offline: bool,
}

#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    pub tag: String,
    pub certs: Vec<PathBuf>,
    pub keyring: Option<PathBuf>,
    pub signers: Vec<String>,
    pub allowed_signers: Option<PathBuf>,
    pub revoked: Vec<PathBuf>,
    /// Read the signer policy at this revision instead of the tagged commit.
    pub trust_root: Option<String>,
    /// Re-run the audit on the tagged tree (extracted from git objects).
    pub audit: bool,
    pub advisory_db: Option<PathBuf>,
    pub offline: bool,
    pub repo: Option<PathBuf>,
    /// `--artifact`: release files to check against their attestations.
    pub artifacts: Vec<PathBuf>,
    /// `SHA256SUMS` (default: beside the first artifact).
    pub sums: Option<PathBuf>,
    /// The DSSE envelopes (default: `provenance.intoto.jsonl` beside `SHA256SUMS`).
    pub attestation: Option<PathBuf>,
    /// `--bundle`: a Sigstore bundle over the one artifact, instead of a tag.
    pub bundle: Option<BundleOptions>,
}

/// `verify --artifact FILE --bundle BUNDLE`: a Sigstore bundle, judged offline.
#[derive(Debug, Clone)]
pub struct BundleOptions {
    pub bundle: PathBuf,
    /// The artifact's path, or `sha256:HEX` when no such file exists (as the
    /// Sigstore conformance protocol passes a digest); the command takes one.
    pub artifacts: Vec<PathBuf>,
    /// `trusted_root.json`, or JSON Lines of several roots (default: the embedded
    /// public-good root).
    pub trusted_root: Option<PathBuf>,
    /// None: the command line named nobody (refused by the command).
    pub signer: Option<BundleSigner>,
}

/// Who must have signed the bundle.
#[derive(Debug, Clone)]
pub enum BundleSigner {
    /// `--identity SAN --issuer URL`; without `--issuer`, a certificate that
    /// names no OIDC issuer.
    Identity { san: String, issuer: Option<String> },
    /// `--repo OWNER/REPO [--workflow PATH] [--ref REF]`: GitHub Actions.
    Github {
        repo: String,
        workflow: Option<String>,
        git_ref: Option<String>,
    },
    /// `--key PUBKEY.pem`; with `ignore_tlog` (`--insecure-ignore-tlog`), no
    /// transparency-log entry or timestamp is required.
    Key { path: PathBuf, ignore_tlog: bool },
}

#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    pub manifest: ManifestOptions,
    pub preset: String,
    pub template: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub dry_run: bool,
    pub check: bool,
    pub deny: bool,
    pub harden: bool,
    pub contact: Option<String>,
    pub supported_lines: Option<usize>,
}

/// A signature format: how a tag is signed, and what signature bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignFormat {
    OpenPgp,
    Ssh,
}

impl SignFormat {
    pub const ALL: [SignFormat; 2] = [SignFormat::OpenPgp, SignFormat::Ssh];

    /// The name on the command line and in git's `gpg.format`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignFormat::OpenPgp => "openpgp",
            SignFormat::Ssh => "ssh",
        }
    }

    pub fn help(self) -> Option<&'static str> {
        None
    }

    /// The name in sentences.
    pub fn name(self) -> &'static str {
        match self {
            SignFormat::OpenPgp => "OpenPGP",
            SignFormat::Ssh => "SSH",
        }
    }

    /// What the signature bytes are, as git tells them apart.
    pub fn of(signature: &[u8]) -> SignFormat {
        match signature.starts_with(b"-----BEGIN SSH SIGNATURE-----") {
            true => SignFormat::Ssh,
            false => SignFormat::OpenPgp,
        }
    }
}
