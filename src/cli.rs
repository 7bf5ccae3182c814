//! Command-line definition. Parsing only: each command's arguments become the
//! library's options structs here, and clap stops at this file.

use crate::bom::{CdxVersion as SpecVersion, Format as SbomFormat};
use crate::options::{self, CheckOptions, Fix, ManifestOptions};
use crate::options::{ColorChoice, Format, ReportFormat};
use crate::shell::Shell;
use crate::sig::Format as TagFormat;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

// The command line names the enums of the library: one definition each, with its
// names (`as_str`), order (`ALL`) and per-value help kept beside it; clap learns
// them here, so no twin enum needs converting.
macro_rules! value_enum {
    ($($t:ty),*) => {$(
        impl ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                &<$t>::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.as_str()).help(self.help()))
            }
        }
    )*};
}
value_enum!(
    ColorChoice,
    Format,
    ReportFormat,
    SbomFormat,
    SpecVersion,
    TagFormat
);

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

impl GlobalArgs {
    pub fn shell(&self) -> Shell {
        crate::cache::set_quiet(self.quiet);
        Shell::new(self.quiet, self.verbose, self.color)
    }
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
  cargo secure-release audit --artifacts       # also check target/release's binaries
  cargo secure-release audit --artifact dist/app --advisory-db ./advisory-db

Exit codes: 0 no error findings, 1 at least one error finding, 2 the audit could not run.")]
    Audit(AuditArgs),
    /// Create an annotated release tag signed in-process with OpenPGP or SSH (no gpg or ssh-keygen needed)
    #[command(after_help = "\
Examples:
  cargo secure-release tag --key release.asc --passphrase-env RELEASE_KEY_PASSPHRASE
  cargo secure-release tag --format ssh --key ~/.ssh/id_ed25519
  cargo secure-release tag --format ssh --key ~/.ssh/id_ed25519.pub   # sign via ssh-agent
  cargo secure-release tag -p my-crate --tag-prefix my-crate-v --key keyring.asc
  cargo secure-release tag --dry-run            # print the tag object, write nothing
  cargo secure-release tag --key release.asc --report-format json   # the result as JSON

Without --format, git's gpg.format decides (unset: OpenPGP). Without --key, an SSH
key comes from user.signingkey (a key file, or key::ssh-ed25519 AAAA… for ssh-agent).

Refuses (exit 1, nothing written) when the tag exists, the work tree is dirty, an
explicit tag name does not match the version, the key is not in the signer policy
([workspace.metadata.secure-release.signers]), or the audit has an error finding.")]
    Tag(TagArgs),
    /// Verify a release tag's signature (OpenPGP or SSH) and the claims its message makes
    #[command(after_help = "\
Examples:
  cargo secure-release verify v1.2.3 --cert release-public.asc
  cargo secure-release verify v1.2.3 --keyring maintainers.asc --signer 0123…ABCD
  cargo secure-release verify v1.2.3 --allowed-signers .github/allowed_signers
  cargo secure-release verify v1.2.3                      # by the signer policy (see below)
  cargo secure-release verify v1.2.3 --trust-root v1.2.2  # the policy as of v1.2.2
  cargo secure-release verify v1.2.3 --audit              # and audit the tagged tree today
  cargo secure-release verify v1.2.3 --format json        # one JSON document for CI
  cargo secure-release verify --artifact dist/app.tar.gz  # a release file, by its attestations
  cargo secure-release verify --artifact app.tar.gz --bundle app.sigstore.json --repo OWNER/REPO
  cargo secure-release verify --artifact blob --bundle blob.sigstore.json --key cosign.pub

Without --cert, --keyring or --allowed-signers, the signer policy
([workspace.metadata.secure-release.signers]) decides, with its authority from the
nearest earlier release tag that carries one: changes since must be in commits signed
by a key of the policy before them, else that release's policy judges. With no such
release, the tag's own policy is trusted on first use (the output says so);
--trust-root REF names the commit to trust instead. Then the tag's
Cargo-lock-sha256 and version are checked against the tagged tree.

With --artifact FILE (offline, in a clone holding the tag): FILE's SHA-256 is in
SHA256SUMS, whose signature (.sig or .asc beside it) is by a key the same keys allow
to sign files; FILE is a subject of provenance.intoto.jsonl, signed by such a key,
whose commit is the one of the tag it names; and that tag verifies as above.

With --bundle BUNDLE (offline, no repository needed): a Sigstore bundle (v0.1-v0.3;
cosign's, GitHub's artifact attestations, npm provenance) over the one --artifact
(or `sha256:HEX`). Keyless: the Fulcio certificate chains to the trusted root at
the signing time (from the transparency log or an RFC 3161 timestamp), its SCT
verifies, and it names --identity and --issuer, or a workflow of --repo OWNER/REPO
(--workflow, --ref narrow it); with --key, the bundle is signed by that key. The
log entry's inclusion proof and checkpoint (or its signed entry timestamp) verify;
a DSSE statement must list the artifact's digest as a subject. Roots: --trusted-root
FILE (JSON, or JSON Lines as `gh attestation trusted-root` prints), else the
public-good root built in (-v says from when).

Exit codes: 0 good signature from an allowed signer; 1 bad, unsigned, unknown signer
or lightweight tag; 2 could not run.")]
    Verify(VerifyArgs),
    /// Sign a release's files: SHA256SUMS and its signature, tied to the release tag, which must verify
    #[command(after_help = "\
Examples:
  cargo secure-release attest dist/*.tar.gz --output-dir dist
  cargo secure-release attest target/release/app --tag v1.2.3 --key ~/.ssh/id_ed25519
  cargo secure-release attest dist/app.zip --output-dir dist --dry-run   # print SHA256SUMS, write nothing

Writes into --output-dir (default: the current directory) SHA256SUMS (`HEX  NAME`,
names relative to that directory, as `sha256sum -c` reads them) and its signature with
the release key, in the signer policy's format: SHA256SUMS.sig (SSH, namespace `file`)
or SHA256SUMS.asc (OpenPGP, detached, armored). With an Ed25519 or ECDSA P-256 SSH
key, also provenance.intoto.jsonl: a DSSE envelope of an in-toto statement with SLSA
provenance v1 (every file a subject, the tagged commit and Cargo.lock resolved);
byte-identical for the same inputs and SOURCE_DATE_EPOCH.

Refuses (exit 1, nothing written) when the tag (default: the release tag at HEAD)
does not verify under the signer policy, by `verify`'s rules, or the key is not allowed
by that policy to sign files (SSH: a line with namespaces=\"file\" or none). Never
replaces a file without --force.

Check the files with:
  cargo secure-release verify --artifact dist/app.tar.gz
  sha256sum -c SHA256SUMS
  ssh-keygen -Y verify -n file -f allowed_signers -I PRINCIPAL -s SHA256SUMS.sig < SHA256SUMS
  gpg --verify SHA256SUMS.asc SHA256SUMS

Exit codes: 0 written; 1 refused (the tag or the key); 2 could not run.")]
    Attest(AttestArgs),
    /// Write SECURITY.md from templates, filled with facts read from the project
    #[command(after_help = "\
Examples:
  cargo secure-release init                       # SECURITY.md at the workspace root
  cargo secure-release init --preset full --output .github/SECURITY.md
  cargo secure-release init --check               # CI: fail when SECURITY.md is stale
  cargo secure-release init --deny --harden       # also scaffold deny.toml and the release profile

Exit codes: 0 written / up to date; 1 --check found SECURITY.md stale or incomplete; 2 could not run.")]
    Init(InitArgs),
    /// Write an SBOM (CycloneDX or SPDX JSON) of exactly what the release build compiles
    #[command(after_help = "\
Examples:
  cargo secure-release sbom > sbom.cdx.json
  cargo secure-release sbom --format spdx --output sbom.spdx.json
  cargo secure-release sbom --spec-version 1.5 --target x86_64-pc-windows-msvc
  cargo secure-release sbom --features tls --no-build-deps
  cargo secure-release sbom --with-vulnerabilities --advisory-db ./advisory-db
  cargo secure-release sbom --format openvex > release.openvex.json

Exit codes: 0 written; 2 could not run.")]
    Sbom(SbomArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = "\
Examples:
  source <(cargo-secure-release completions bash)
  cargo-secure-release completions zsh > ~/.zfunc/_cargo-secure-release
  cargo-secure-release completions fish > ~/.config/fish/completions/cargo-secure-release.fish")]
    Completions(CompletionsArgs),
    /// Write the man pages (one per command), or print this one to stdout
    #[command(after_help = "\
Examples:
  cargo secure-release man | man -l -
  cargo secure-release man --output ~/.local/share/man/man1

Exit codes: 0 written; 2 could not run (a page exists and --force was not given).")]
    Man(ManArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ManArgs {
    /// Write every page (cargo-secure-release.1, cargo-secure-release-audit.1, …) into this directory
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace pages that already exist in DIR
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SbomArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// SBOM format: CycloneDX JSON, SPDX 2.3 JSON, or OpenVEX 0.2 (the advisories and the project's decisions)
    #[arg(long, value_enum, default_value_t = SbomFormat::CycloneDx)]
    pub format: SbomFormat,
    /// CycloneDX specification version
    #[arg(long, value_enum, default_value_t = SpecVersion::V1_7)]
    pub spec_version: SpecVersion,
    /// Write the SBOM to FILE (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Features of the selected packages to enable, as for `cargo build` (comma- or space-separated)
    #[arg(short = 'F', long, value_name = "FEATURES", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Enable all features of the selected packages
    #[arg(long)]
    pub all_features: bool,
    /// Do not enable the `default` feature
    #[arg(long)]
    pub no_default_features: bool,
    /// The build's target triple (default: the host); `cfg(...)` dependencies follow it
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Leave out build-dependencies and proc-macros (listed as build-time by default)
    #[arg(long)]
    pub no_build_deps: bool,
    /// Add CycloneDX `vulnerabilities`: the advisories affecting the listed components, ignores as VEX analysis
    #[arg(long)]
    pub with_vulnerabilities: bool,
    /// A local advisory database directory for --with-vulnerabilities / --format openvex (default: deny.toml's)
    #[arg(long, value_name = "DIR")]
    pub advisory_db: Option<PathBuf>,
}

impl SbomArgs {
    pub fn options(&self) -> crate::bom::SbomOptions {
        crate::bom::SbomOptions {
            manifest: self.manifest.options(),
            format: self.format,
            spec_version: self.spec_version,
            features: crate::unify::Features {
                // Split on commas and spaces by `unify`, as cargo does.
                features: self.features.clone(),
                all: self.all_features,
                no_default: self.no_default_features,
            },
            target: self.target.clone(),
            no_build_deps: self.no_build_deps,
            output: self.output.clone(),
            epoch: None,
            vulnerabilities: self.with_vulnerabilities,
            advisory_db: self.advisory_db.clone(),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl CompletionsArgs {
    /// The script for the shell: completing both `cargo-secure-release …` and
    /// `cargo secure-release …`.
    pub fn script(&self) -> Vec<u8> {
        use clap::CommandFactory;
        use clap_complete::Shell as S;
        let mut out = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), BIN, &mut out);
        let mut script = String::from_utf8_lossy(&out).into_owned();
        if self.shell == S::Bash {
            // clap_complete 4.6 spells a subcommand's state with every `-` of the
            // binary's name as a separator (`cargo__subcmd__secure__subcmd__release…`)
            // where it sets it as `cargo__secure__release…`: no option of a subcommand
            // ever completed. One spelling for both.
            script = script.replace(
                "cargo__subcmd__secure__subcmd__release",
                "cargo__secure__release",
            );
        }
        let via_cargo = match self.shell {
            S::Bash => BASH_VIA_CARGO.to_string(),
            S::Fish => fish_via_cargo(&script),
            // zsh's _cargo calls `_cargo-secure-release`, the function this script
            // defines, for `cargo secure-release …`; the others have no cargo hook.
            _ => String::new(),
        };
        format!("{script}{via_cargo}").into_bytes()
    }
}

const BIN: &str = "cargo-secure-release";

/// bash: `cargo secure-release …` completes with the function above, its words
/// shifted to read `cargo-secure-release …`; every other `cargo …` goes to the
/// completion cargo had (rustup's, or bash-completion's loader), so ours adds to it.
const BASH_VIA_CARGO: &str = r#"
_cargo_secure_release_via_cargo() {
    if [[ ${COMP_WORDS[1]-} == secure-release && ${COMP_CWORD} -ge 2 ]]; then
        local COMP_WORDS=("cargo-secure-release" "${COMP_WORDS[@]:2}")
        local COMP_CWORD=$((COMP_CWORD - 1))
        local prev="cargo-secure-release"
        [[ ${COMP_CWORD} -ge 1 ]] && prev="${COMP_WORDS[COMP_CWORD-1]}"
        _cargo__secure__release cargo-secure-release "${COMP_WORDS[COMP_CWORD]}" "$prev"
        return
    fi
    if [[ -z ${_cargo_secure_release_cargo_fn-} ]] && declare -F _completion_loader >/dev/null; then
        # cargo's own completion was not loaded yet: load it, then take it back.
        complete -r cargo
        _completion_loader cargo
        _cargo_secure_release_cargo_fn=$(complete -p cargo 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
        complete -F _cargo_secure_release_via_cargo -o bashdefault -o default cargo
    fi
    if [[ -n ${_cargo_secure_release_cargo_fn-} && ${_cargo_secure_release_cargo_fn} != _cargo_secure_release_via_cargo ]]; then
        "${_cargo_secure_release_cargo_fn}" "$@"
    fi
}
if [[ -z ${_cargo_secure_release_cargo_fn-} ]]; then
    _cargo_secure_release_cargo_fn=$(complete -p cargo 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
fi
complete -F _cargo_secure_release_via_cargo -o bashdefault -o default cargo
"#;

/// fish: the same completions again for `cargo secure-release …`: the helper
/// functions drop two words (`cargo secure-release`) instead of one, and each
/// completion is for `cargo` once `secure-release` is its subcommand.
fn fish_via_cargo(script: &str) -> String {
    let mut out = String::from("\n# `cargo secure-release …`\n");
    for line in script.lines() {
        let line = line
            .replace(
                "__fish_cargo_secure_release_",
                "__fish_cargo_secure_release_via_cargo_",
            )
            .replace("set -e cmd[1]", "set -e cmd[1..2]");
        let line = match line.strip_prefix("complete -c cargo-secure-release ") {
            Some(rest) => {
                let rest = match rest.strip_prefix("-n \"") {
                    Some(cond) => {
                        format!("-n \"__fish_cargo_secure_release_via_cargo_is_ours; and {cond}")
                    }
                    None => format!("-n \"__fish_cargo_secure_release_via_cargo_is_ours\" {rest}"),
                };
                format!("complete -c cargo {rest}")
            }
            None => line,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(
        "function __fish_cargo_secure_release_via_cargo_is_ours\n\
         \tset -l cmd (commandline -opc)\n\
         \ttest (count $cmd) -ge 2; and test \"$cmd[2]\" = secure-release\n\
         end\n",
    );
    out
}

/// One man page per command (`cargo-secure-release.1`, `cargo-secure-release-audit.1`, …),
/// as (file name, roff).
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    use clap::CommandFactory;
    let cmd = Cli::command()
        .name("cargo-secure-release")
        .bin_name("cargo-secure-release");
    let mut pages = Vec::new();
    // SYNOPSIS shows how it is typed: `cargo secure-release audit …`.
    let mut page = |name: String, typed: String, mut cmd: clap::Command| -> std::io::Result<()> {
        cmd.build();
        let mut roff = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .title(name.to_uppercase())
            .render(&mut roff)?;
        let roff = with_synopsis(&String::from_utf8_lossy(&roff), &synopsis(&cmd, &typed));
        pages.push((format!("{name}.1"), roff.into_bytes()));
        Ok(())
    };
    for sub in cmd.get_subcommands() {
        let name = format!("cargo-secure-release-{}", sub.get_name());
        let typed = format!("cargo secure-release {}", sub.get_name());
        page(name.clone(), typed, sub.clone().name(name))?;
    }
    page(
        "cargo-secure-release".into(),
        "cargo secure-release".into(),
        cmd,
    )?;
    Ok(pages)
}

/// clap_mangen's SYNOPSIS names options without their values (`[--output]`); ours
/// gives each its value (`[-o|--output PATH]`), as cargo's own pages do.
fn synopsis(cmd: &clap::Command, name: &str) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('-', "\\-");
    let mut parts = vec![format!("\\fB{}\\fR", esc(name))];
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => format!("\\fB\\-{s}\\fR|\\fB\\-\\-{}\\fR", esc(l)),
            (Some(s), None) => format!("\\fB\\-{s}\\fR"),
            (None, Some(l)) => format!("\\fB\\-\\-{}\\fR", esc(l)),
            (None, None) => continue,
        };
        let takes = arg.get_num_args().is_some_and(|r| r.takes_values());
        let value = match (takes, arg.get_value_names()) {
            (false, _) => String::new(),
            (true, Some(v)) => format!(" \\fI{}\\fR", esc(&v.join(" "))),
            (true, None) => format!(" \\fI{}\\fR", esc(&arg.get_id().as_str().to_uppercase())),
        };
        let more = matches!(
            arg.get_action(),
            clap::ArgAction::Count | clap::ArgAction::Append
        );
        let (l, r) = if arg.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        parts.push(format!(
            "{l}{flag}{value}{r}{}",
            if more { "..." } else { "" }
        ));
    }
    for arg in cmd.get_positionals() {
        let v = arg
            .get_value_names()
            .map(|v| v.join(" "))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        let (l, r) = if arg.is_required_set() {
            ("<", ">")
        } else {
            ("[", "]")
        };
        parts.push(format!("{l}\\fI{}\\fR{r}", esc(&v)));
    }
    if cmd.has_subcommands() {
        parts.push("<\\fIcommand\\fR>".to_string());
    }
    parts.join(" ")
}

/// The page with its SYNOPSIS section's body replaced by `synopsis`.
fn with_synopsis(page: &str, synopsis: &str) -> String {
    let Some(start) = page
        .find(".SH SYNOPSIS\n")
        .map(|i| i + ".SH SYNOPSIS\n".len())
    else {
        return page.to_string();
    };
    let end = page[start..]
        .find("\n.SH ")
        .map_or(page.len(), |i| start + i + 1);
    format!("{}{synopsis}\n{}", &page[..start], &page[end..])
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
    /// Refuse to create a missing Cargo.lock (an existing one is never rewritten: it must be up to date)
    #[arg(long)]
    pub locked: bool,
    /// Require Cargo.lock and cache to be up to date (implies --locked and --offline)
    #[arg(long)]
    pub frozen: bool,
}

impl ManifestArgs {
    pub fn options(&self) -> ManifestOptions {
        ManifestOptions {
            manifest_path: self.manifest_path.clone(),
            packages: self.packages.clone(),
            offline: self.offline,
            frozen: self.frozen,
            locked: self.locked,
        }
    }
}

/// What every command that runs the audit needs.
#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// cargo-deny configuration (default: deny.toml, .deny.toml or .cargo/deny.toml found upwards from the manifest)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Local advisory database directory laid out like RustSec's (crates/<name>/RUSTSEC-*.md); no git needed
    #[arg(long, value_name = "DIR")]
    pub advisory_db: Option<PathBuf>,
    /// The profile being released (default: the policy's `name`, else `release`)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Neither read nor write the findings cache (~/.cache/cargo-secure-release)
    #[arg(long)]
    pub no_cache: bool,
    /// Check the GitHub Actions workflows under DIR (DIR/.github/workflows, DIR/action.yml) instead of the repository's
    #[arg(long, value_name = "DIR")]
    pub workflows: Option<PathBuf>,
    /// Skip the workflow check
    #[arg(long, conflicts_with = "workflows")]
    pub no_workflows: bool,
}

impl CheckArgs {
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            manifest: self.manifest.options(),
            config: self.config.clone(),
            advisory_db: self.advisory_db.clone(),
            profile: self.profile.clone(),
            cache: match self.no_cache {
                true => crate::options::CacheUse::Off,
                false => crate::options::CacheUse::ReadWrite,
            },
            workflows: match (&self.workflows, self.no_workflows) {
                (_, true) => crate::options::WorkflowSource::Off,
                (Some(d), false) => crate::options::WorkflowSource::Dir(d.clone()),
                (None, false) => crate::options::WorkflowSource::Repository,
            },
        }
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct AuditArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human, alias = "message-format")]
    pub format: Format,
    /// Write the report to FILE instead of stdout (the human report then goes to stderr)
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Set the failing release-profile keys in the workspace root Cargo.toml, and make the certain workflow fixes (top-level permissions, persist-credentials: false, cargo install --locked)
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the change as a unified diff and write nothing
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
    /// With --output: also print GitHub workflow annotations on stdout (one run, two reports)
    #[arg(long, requires = "output")]
    pub annotations: bool,
    /// Also check this built binary (ELF, PE or Mach-O; repeatable); works outside a workspace too
    #[arg(long, value_name = "PATH")]
    pub artifact: Vec<PathBuf>,
    /// Also check the built bin targets of the selected packages (builds nothing)
    #[arg(long)]
    pub artifacts: bool,
    /// With --artifacts: the binaries are under target/TRIPLE/PROFILE
    #[arg(long, value_name = "TRIPLE", requires = "artifacts")]
    pub target: Option<String>,
}

impl AuditArgs {
    pub fn options(&self) -> options::AuditOptions {
        let fix = match (self.fix, self.dry_run) {
            (false, _) => Fix::No,
            (true, false) => Fix::Write,
            (true, true) => Fix::DryRun {
                diff_to_stdout: self.format == Format::Human,
            },
        };
        options::AuditOptions {
            check: self.check.options(),
            fix,
            artifacts: options::ArtifactOptions {
                paths: self.artifact.clone(),
                all: self.artifacts,
                target: self.target.clone(),
            },
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct TagArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Tag name; must be exactly the name the tag-name pattern gives (default v{version})
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Name the tag PREFIX{version} instead of the policy's `tag-name` pattern
    #[arg(long, value_name = "PREFIX")]
    pub tag_prefix: Option<String>,
    /// Tag message (default: "Release NAME VERSION"); the attestation trailer is appended
    #[arg(short, long, value_name = "MSG")]
    pub message: Option<String>,
    /// Signature format (default: git's gpg.format, else openpgp)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<TagFormat>,
    /// Report format: for people, or one JSON document (schema/tag.schema.json); --format is the signature's
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ReportFormat::Human)]
    pub report_format: ReportFormat,
    /// Key file: an OpenPGP secret key (armored or binary), or an OpenSSH private key (a .pub file signs via ssh-agent)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Which key to use, as git's user.signingkey: OpenPGP fingerprint, key id (FPR! for an exact subkey), email or user id; SSH key file or key::… literal
    #[arg(long, value_name = "SELECTOR")]
    pub signing_key: Option<String>,
    /// Sign through the running gpg-agent (OpenPGP) or ssh-agent (SSH); --key may then hold only the public key
    #[arg(long)]
    pub agent: bool,
    /// Read the key's passphrase from this file
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the key's passphrase from this environment variable
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Tag even if the work tree has uncommitted changes
    #[arg(long)]
    pub allow_dirty: bool,
    /// Skip the release audit (the tag message then says so)
    #[arg(long)]
    pub no_audit: bool,
    /// Print the tag object that would be signed and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

impl TagArgs {
    pub fn options(&self) -> options::TagOptions {
        options::TagOptions {
            check: self.check.options(),
            name: self.name.clone(),
            tag_prefix: self.tag_prefix.clone(),
            message: self.message.clone(),
            key: options::KeyOptions {
                format: self.format,
                key: self.key.clone(),
                signing_key: self.signing_key.clone(),
                agent: self.agent,
                passphrase_file: self.passphrase_file.clone(),
                passphrase_env: self.passphrase_env.clone(),
            },
            allow_dirty: self.allow_dirty,
            no_audit: self.no_audit,
            dry_run: self.dry_run,
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct AttestArgs {
    /// The release's files: archives and binaries
    #[arg(value_name = "FILE", required_unless_present = "artifacts")]
    pub files: Vec<PathBuf>,
    /// Also the workspace's built bin targets, where `audit --artifacts` finds them (--profile, --target)
    #[arg(long)]
    pub artifacts: bool,
    /// A local advisory database directory, for the binaries' embedded packages
    #[arg(long, value_name = "DIR")]
    pub advisory_db: Option<PathBuf>,
    /// Use the cached advisory database (or the snapshot built in) without fetching it
    #[arg(long)]
    pub offline: bool,
    /// The release tag (default: the annotated tag at HEAD)
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Signature format (default: the signer policy's; with both, git's gpg.format)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<TagFormat>,
    /// Key file: an OpenPGP secret key, or an OpenSSH private key (a .pub file signs via ssh-agent)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Which key to use, as git's user.signingkey (default: user.signingkey)
    #[arg(long, value_name = "SELECTOR")]
    pub signing_key: Option<String>,
    /// Sign through the running gpg-agent (OpenPGP) or ssh-agent (SSH)
    #[arg(long)]
    pub agent: bool,
    /// Read the key's passphrase from this file
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the key's passphrase from this environment variable
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Where SHA256SUMS and its signature are written; names in SHA256SUMS are relative to it
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Also sign each file with minisign's format (FILE.sig beside it; Ed25519 SSH keys), as cargo-binstall checks
    #[arg(long)]
    pub minisign: bool,
    /// Replace attestation files that already exist
    #[arg(long)]
    pub force: bool,
    /// Check the gates and print SHA256SUMS; write nothing (no key is loaded)
    #[arg(long)]
    pub dry_run: bool,
    /// Judge the tag by the signer policy of this commit, tag or branch (as `verify --trust-root`)
    #[arg(long, value_name = "REF")]
    pub trust_root: Option<String>,
    /// The release build's target triple, as the provenance records it (default: the host)
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// The release build's profile, as the provenance records it
    #[arg(long, value_name = "NAME", default_value = "release")]
    pub profile: String,
    /// The release build's features, as the provenance records them (comma-separated)
    #[arg(short = 'F', long, value_name = "FEATURES", value_delimiter = ',')]
    pub features: Vec<String>,
    /// The repository (default: discovered from the current directory)
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Output format: for people, or one JSON document (schema/attest.schema.json)
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub report_format: ReportFormat,
}

impl AttestArgs {
    pub fn options(&self) -> options::AttestOptions {
        options::AttestOptions {
            files: self.files.clone(),
            tag: self.tag.clone(),
            key: options::KeyOptions {
                format: self.format,
                key: self.key.clone(),
                signing_key: self.signing_key.clone(),
                agent: self.agent,
                passphrase_file: self.passphrase_file.clone(),
                passphrase_env: self.passphrase_env.clone(),
            },
            output_dir: self.output_dir.clone(),
            force: self.force,
            dry_run: self.dry_run,
            trust_root: self.trust_root.clone(),
            target: self.target.clone(),
            profile: Some(self.profile.clone()),
            features: self.features.clone(),
            repo: self.repo.clone(),
            minisign: self.minisign,
            artifacts: self.artifacts,
            advisory_db: self.advisory_db.clone(),
            offline: self.offline,
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    /// The tag to verify (with --artifact: default the tag the provenance names)
    #[arg(value_name = "TAG", required_unless_present = "artifact")]
    pub tag: Option<String>,
    /// Check a release file against SHA256SUMS, its signature and the provenance, offline (repeatable)
    #[arg(long, value_name = "FILE")]
    pub artifact: Vec<PathBuf>,
    /// With --artifact: the SHA256SUMS file (default: beside the first artifact); its signature is beside it (.sig or .asc)
    #[arg(long, value_name = "FILE", requires = "artifact")]
    pub sums: Option<PathBuf>,
    /// With --artifact: the provenance's DSSE envelopes (default: provenance.intoto.jsonl beside SHA256SUMS)
    #[arg(long, value_name = "FILE", requires = "artifact")]
    pub attestation: Option<PathBuf>,
    /// Public certificate file(s) of the signers you trust (`gpg --export --armor KEYID`)
    #[arg(long, value_name = "FILE")]
    pub cert: Vec<PathBuf>,
    /// A keyring file of trusted certificates
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
    /// Accept only signatures by these fingerprints (primary or subkey; 40 or 64 hex digits)
    #[arg(long, value_name = "FINGERPRINT", value_parser = parse_fingerprint)]
    pub signer: Vec<String>,
    /// SSH: an allowed-signers file (`PRINCIPALS [OPTIONS] KEY`, as for gpg.ssh.allowedSignersFile)
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    /// SSH: revoked public keys, one per line (repeatable)
    #[arg(long, value_name = "FILE")]
    pub revoked: Vec<PathBuf>,
    /// Also re-run the audit on the tagged tree with today's advisory database: is this release affected by an advisory published since?
    #[arg(long)]
    pub audit: bool,
    /// With --audit: a local advisory database directory
    #[arg(long, value_name = "DIR", requires = "audit")]
    pub advisory_db: Option<PathBuf>,
    /// With --audit: run cargo without network access
    #[arg(long, requires = "audit")]
    pub offline: bool,
    /// Read the signer policy from this commit, tag or branch you already trust, not from the tagged commit
    #[arg(long, value_name = "REF", conflicts_with_all = ["cert", "keyring", "allowed_signers"])]
    pub trust_root: Option<String>,
    /// The repository (default: discovered from the current directory); with --bundle, the GitHub OWNER/REPO whose workflow must have signed
    #[arg(long, value_name = "DIR|OWNER/REPO")]
    pub repo: Option<PathBuf>,
    /// A Sigstore bundle (cosign, GitHub artifact attestations) over the one --artifact, verified offline instead of a tag
    #[arg(long, value_name = "BUNDLE", requires = "artifact", conflicts_with_all = ["tag", "sums", "attestation", "cert", "keyring", "signer", "allowed_signers", "revoked", "audit", "trust_root"])]
    pub bundle: Option<PathBuf>,
    /// With --bundle: Sigstore's trusted_root.json, or the JSON Lines of `gh attestation trusted-root` (default: the public-good root built in)
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub trusted_root: Option<PathBuf>,
    /// With --bundle: the signing certificate's identity (SAN), exactly
    #[arg(long, value_name = "SAN", requires = "bundle", conflicts_with = "repo")]
    pub identity: Option<String>,
    /// With --identity: the certificate's OIDC issuer, exactly (left out: the certificate must name none, as GitHub's release attestations)
    #[arg(long, value_name = "URL", requires = "identity")]
    pub issuer: Option<String>,
    /// With --bundle --repo: the workflow file that must have signed (release.yml)
    #[arg(long, value_name = "PATH", requires_all = ["bundle", "repo"])]
    pub workflow: Option<String>,
    /// With --bundle --repo: the ref the workflow ran on (refs/tags/v1.2.3, or a tag or branch name)
    #[arg(long = "ref", value_name = "REF", requires_all = ["bundle", "repo"])]
    pub git_ref: Option<String>,
    /// With --bundle: the PEM public key the bundle must be signed with (as cosign's --key)
    #[arg(long, value_name = "PUBKEY.pem", requires = "bundle", conflicts_with_all = ["identity", "repo"])]
    pub key: Option<PathBuf>,
    /// With --bundle --key: require no transparency-log entry or timestamp, so the signing time is not attested (cosign's flag; attest's provenance.sigstore.json has neither)
    #[arg(long, requires = "key")]
    pub insecure_ignore_tlog: bool,
    /// Output format: for people, or one JSON document (schema/verify.schema.json)
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

impl VerifyArgs {
    fn bundle_options(&self) -> Option<options::BundleOptions> {
        use options::BundleSigner;
        let bundle = self.bundle.clone()?;
        let signer = match (&self.key, &self.identity, &self.repo) {
            (Some(key), _, _) => Some(BundleSigner::Key {
                path: key.clone(),
                ignore_tlog: self.insecure_ignore_tlog,
            }),
            (None, Some(san), _) => Some(BundleSigner::Identity {
                san: san.clone(),
                issuer: self.issuer.clone(),
            }),
            (None, None, Some(repo)) => Some(BundleSigner::Github {
                repo: repo.to_string_lossy().into_owned(),
                workflow: self.workflow.clone(),
                git_ref: self.git_ref.clone(),
            }),
            (None, None, None) => None,
        };
        Some(options::BundleOptions {
            bundle,
            artifacts: self.artifact.clone(),
            trusted_root: self.trusted_root.clone(),
            signer,
        })
    }

    pub fn options(&self) -> options::VerifyOptions {
        options::VerifyOptions {
            tag: self.tag.clone().unwrap_or_default(),
            artifacts: self.artifact.clone(),
            sums: self.sums.clone(),
            attestation: self.attestation.clone(),
            certs: self.cert.clone(),
            keyring: self.keyring.clone(),
            signers: self.signer.clone(),
            allowed_signers: self.allowed_signers.clone(),
            revoked: self.revoked.clone(),
            trust_root: self.trust_root.clone(),
            audit: self.audit,
            advisory_db: self.advisory_db.clone(),
            offline: self.offline,
            repo: self.repo.clone(),
            bundle: self.bundle_options(),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// Which sections to write
    #[arg(long, default_value = "standard", value_parser = ["minimal", "standard", "full"])]
    pub preset: String,
    /// Render this minijinja template instead of the built-in preset
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Where to write (default: SECURITY.md at the workspace root)
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Replace existing files
    #[arg(long)]
    pub force: bool,
    /// Print what would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 1 when the existing file differs from what would be written now, or misses Scorecard's criteria
    #[arg(long, conflicts_with_all = ["dry_run", "force", "deny", "harden"])]
    pub check: bool,
    /// Also write deny.toml (advisories on, the graph's licenses allowed, crates.io only)
    #[arg(long)]
    pub deny: bool,
    /// Also set lto = "fat", codegen-units = 1, strip = true in the released profile
    #[arg(long)]
    pub harden: bool,
    /// Email for private reports (overrides the policy's `contact`)
    #[arg(long, value_name = "EMAIL")]
    pub contact: Option<String>,
    /// How many release lines are supported (overrides the policy's `supported-lines`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub supported_lines: Option<u16>,
}

impl InitArgs {
    pub fn options(&self) -> options::InitOptions {
        options::InitOptions {
            manifest: self.manifest.options(),
            preset: self.preset.clone(),
            template: self.template.clone(),
            output: self.output.clone(),
            force: self.force,
            dry_run: self.dry_run,
            check: self.check,
            deny: self.deny,
            harden: self.harden,
            contact: self.contact.clone(),
            supported_lines: self.supported_lines.map(usize::from),
        }
    }
}

/// An OpenPGP fingerprint: v4 (40 hex digits) or v6 (64), spaces allowed, as gpg prints it.
fn parse_fingerprint(s: &str) -> Result<String, String> {
    let hex: String = s.chars().filter(|c| *c != ' ').collect();
    if (hex.len() == 40 || hex.len() == 64) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_uppercase())
    } else {
        Err(
            "expected a fingerprint of 40 or 64 hexadecimal digits (see `gpg --fingerprint`)"
                .into(),
        )
    }
}
