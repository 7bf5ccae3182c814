//! What `init` wrote (or, with `--dry-run`, would write) and, with `--check`, how
//! the policy file compares with what `init` would write now. `output::init`
//! renders it through the shell.

/// One file `init` writes.
#[derive(Debug, Clone)]
pub struct InitFile {
    /// The path as messages show it (relative to the workspace root).
    pub path: String,
    /// The status line once written (`wrote SECURITY.md`).
    pub said: String,
    /// `--dry-run`: the new text, or a diff where an existing file is edited.
    pub preview: String,
}

/// `init --check`: the policy file against what `init` would write now.
#[derive(Debug, Clone)]
pub struct PolicyCheck {
    pub path: String,
    pub exists: bool,
    /// A unified diff from the file to what `init` would write; None when equal.
    pub diff: Option<String>,
    /// What OpenSSF Scorecard's Security-Policy check would miss in the file.
    pub scorecard_missing: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct InitReport {
    pub files: Vec<InitFile>,
    pub dry_run: bool,
    /// Lines the user should read: what was left alone, what the audit will say.
    pub notes: Vec<String>,
    pub check: Option<PolicyCheck>,
}

impl InitReport {
    /// Exit 0: nothing to report for `--check`; always for a write or a dry run.
    pub fn ok(&self) -> bool {
        self.check
            .as_ref()
            .is_none_or(|c| c.exists && c.diff.is_none() && c.scorecard_missing.is_empty())
    }
}
