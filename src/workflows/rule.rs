//! The workflow rules by name: the vocabulary the report model's `Code::Workflow`
//! names, a leaf like `profile::value` (it imports nothing).

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    UnpinnedUses,
    ExcessivePermissions,
    TemplateInjection,
    DangerousTriggers,
    CachePoisoning,
    Artipacked,
    PipeToShell,
    CargoInstallUnlocked,
    CargoInstallUnpinned,
    RustupPipe,
    ToolchainFromRef,
    ArchivedAction,
    RegistryToken,
    ReleaseUnlockedBuild,
    ReleaseNoAudit,
    ReleaseNoVerify,
    ReleaseNoAttest,
}

impl Rule {
    pub const ALL: [Rule; 17] = [
        Rule::UnpinnedUses,
        Rule::ExcessivePermissions,
        Rule::TemplateInjection,
        Rule::DangerousTriggers,
        Rule::CachePoisoning,
        Rule::Artipacked,
        Rule::PipeToShell,
        Rule::CargoInstallUnlocked,
        Rule::CargoInstallUnpinned,
        Rule::RustupPipe,
        Rule::ToolchainFromRef,
        Rule::ArchivedAction,
        Rule::RegistryToken,
        Rule::ReleaseUnlockedBuild,
        Rule::ReleaseNoAudit,
        Rule::ReleaseNoVerify,
        Rule::ReleaseNoAttest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::UnpinnedUses => "unpinned-uses",
            Rule::ExcessivePermissions => "excessive-permissions",
            Rule::TemplateInjection => "template-injection",
            Rule::DangerousTriggers => "dangerous-triggers",
            Rule::CachePoisoning => "cache-poisoning",
            Rule::Artipacked => "artipacked",
            Rule::PipeToShell => "pipe-to-shell",
            Rule::CargoInstallUnlocked => "cargo-install-unlocked",
            Rule::CargoInstallUnpinned => "cargo-install-unpinned",
            Rule::RustupPipe => "rustup-pipe",
            Rule::ToolchainFromRef => "toolchain-from-ref",
            Rule::ArchivedAction => "archived-action",
            Rule::RegistryToken => "registry-token",
            Rule::ReleaseUnlockedBuild => "release-unlocked-build",
            Rule::ReleaseNoAudit => "release-no-audit",
            Rule::ReleaseNoVerify => "release-no-verify",
            Rule::ReleaseNoAttest => "release-no-attest",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Rule::UnpinnedUses => "An action or reusable workflow is not pinned to a full commit SHA",
            Rule::ExcessivePermissions => {
                "The workflow's token may do more than the jobs need (no top-level permissions, write at the top, write-all, or a write no step uses)"
            }
            Rule::TemplateInjection => {
                "An attacker-controlled expression is expanded into a shell script or github-script code"
            }
            Rule::DangerousTriggers => {
                "pull_request_target or workflow_run checks out the untrusted pull request's code"
            }
            Rule::CachePoisoning => "A release workflow restores a cache that other workflows can write",
            Rule::Artipacked => {
                "actions/checkout keeps the token in .git in a job that uploads artifacts"
            }
            Rule::PipeToShell => "A downloaded script is piped into a shell",
            Rule::CargoInstallUnlocked => {
                "cargo install without --locked resolves the tool's dependencies anew on every run"
            }
            Rule::CargoInstallUnpinned => "cargo install takes whatever version is newest",
            Rule::RustupPipe => "rustup or a toolchain is installed by piping a download into a shell",
            Rule::ToolchainFromRef => {
                "dtolnay/rust-toolchain pinned by SHA has no toolchain: input (its toolchain comes from the ref name)"
            }
            Rule::ArchivedAction => "The action's repository is archived and gets no fixes",
            Rule::RegistryToken => {
                "cargo publish uses a long-lived crates.io token where trusted publishing would do"
            }
            Rule::ReleaseUnlockedBuild => "The release workflow builds without --locked",
            Rule::ReleaseNoAudit => "The release workflow does not run cargo secure-release audit",
            Rule::ReleaseNoVerify => {
                "The release workflow does not run cargo secure-release verify on the tag"
            }
            Rule::ReleaseNoAttest => "The release workflow does not run cargo secure-release attest",
        }
    }
}
