//! The rules over one parsed workflow or action file. Each finding points at the
//! node that carries the fault (the `uses:` value, the permission's key, the
//! expression inside the script, the command's first word) with line and column.

use super::rule::Rule;
use super::script::{self, Command, Line};
use super::yaml::{Node, Pos};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// `.github/workflows/*.yml`
    Workflow,
    /// `action.yml`: a composite (or docker) action's metadata.
    Action,
}

/// A text edit `--fix` can make: `remove` bytes at `offset` replaced by `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub offset: usize,
    pub remove: usize,
    pub insert: String,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: Rule,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub help: String,
    pub edit: Option<Edit>,
}

struct Ctx<'a> {
    src: &'a str,
    hits: Vec<Hit>,
}

impl Ctx<'_> {
    fn hit(&mut self, rule: Rule, at: Pos, message: String, help: impl Into<String>) {
        self.hits.push(Hit {
            rule,
            line: at.line,
            col: at.col,
            message,
            help: help.into(),
            edit: None,
        });
    }

    fn hit_at(&mut self, rule: Rule, line: usize, col: usize, message: String, help: &str) {
        self.hits.push(Hit {
            rule,
            line,
            col,
            message,
            help: help.into(),
            edit: None,
        });
    }

    fn with_edit(&mut self, edit: Option<Edit>) {
        if let Some(h) = self.hits.last_mut() {
            h.edit = edit;
        }
    }
}

/// The release gates a workflow's steps run.
#[derive(Default, Debug, Clone, Copy)]
pub struct Seen {
    pub audit: bool,
    pub verify: bool,
    pub attest: bool,
}

/// The gates `root`'s steps run (for a release workflow that calls it).
pub fn gates_seen(src: &str, root: &Node) -> Seen {
    let mut cx = Ctx {
        src,
        hits: Vec::new(),
    };
    workflow(&mut cx, root)
}

/// The local reusable workflows `root`'s jobs call (`./.github/workflows/x.yml`),
/// as paths from the repository's top.
pub fn local_calls(root: &Node) -> Vec<&str> {
    root.get("jobs")
        .map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(_, j)| j.get("uses")?.as_str()?.strip_prefix("./"))
        .collect()
}

pub fn check(src: &str, root: &Node, kind: FileKind) -> Vec<Hit> {
    let mut cx = Ctx {
        src,
        hits: Vec::new(),
    };
    match kind {
        FileKind::Workflow => {
            workflow(&mut cx, root);
        }
        FileKind::Action => action(&mut cx, root),
    }
    cx.hits.sort_by_key(|h| (h.line, h.col, h.rule));
    cx.hits
}

fn triggers(on: Option<&Node>) -> Vec<&str> {
    let Some(on) = on else { return Vec::new() };
    if let Some(s) = on.as_str() {
        return vec![s];
    }
    if !on.items().is_empty() {
        return on.items().iter().filter_map(Node::as_str).collect();
    }
    on.entries()
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .collect()
}

/// A workflow run by a release: a tag push or a release event.
pub fn is_release(on: Option<&Node>) -> bool {
    let t = triggers(on);
    t.contains(&"release")
        || on
            .and_then(|o| o.get("push"))
            .is_some_and(|p| p.get("tags").is_some())
}

fn workflow(cx: &mut Ctx<'_>, root: &Node) -> Seen {
    let on_entry = root.entry("on");
    let on = on_entry.map(|(_, v)| v);
    let trig = triggers(on);
    let release = is_release(on);
    let reusable_only = trig == ["workflow_call"];
    let jobs = root.get("jobs").map(Node::entries).unwrap_or(&[]);
    let top = root.entry("permissions");

    // Permissions at the top.
    match top {
        None if !reusable_only => {
            let uncovered = jobs.iter().any(|(_, j)| j.get("permissions").is_none());
            if uncovered {
                cx.hit(
                    Rule::ExcessivePermissions,
                    root.start,
                    "the workflow has no top-level `permissions:`, so jobs without their own get the repository's default token (often read-write)".into(),
                    "add `permissions: contents: read` at the top and grant writes per job (`--fix` adds it)",
                );
                cx.with_edit(top_permissions_edit(cx.src, root));
            }
        }
        Some((_, perms)) => top_level_grants(cx, perms),
        None => {}
    }

    let mut seen = Seen::default();
    let untrusted_trigger = trig
        .iter()
        .any(|t| *t == "pull_request_target" || *t == "workflow_run");
    for (name, job) in jobs {
        let job_name = name.as_str().unwrap_or("?");
        match job.entry("permissions") {
            None if top.is_none() && !reusable_only => cx.hit(
                Rule::ExcessivePermissions,
                name.start,
                format!(
                    "job `{job_name}` runs with the default token permissions: neither it nor the workflow sets `permissions:`"
                ),
                "give the job the least it needs, e.g. `permissions: contents: read`",
            ),
            Some((_, perms)) => job_grants(cx, job_name, job, perms),
            None => {}
        }
        if let Some(uses) = job.get("uses") {
            check_uses(cx, uses);
        }
        let steps = job.get("steps").map(Node::items).unwrap_or(&[]);
        let envs = [job.get("env"), root.get("env")];
        for step in steps {
            check_step(cx, step, &envs, release, &mut seen);
        }
        let uploads = steps
            .iter()
            .any(|s| action_name(s).is_some_and(|a| a == "actions/upload-artifact"));
        for step in steps {
            if action_name(step) != Some("actions/checkout") {
                continue;
            }
            let with = step.get("with");
            let persist = with.and_then(|w| w.get("persist-credentials"));
            if uploads && persist.and_then(Node::as_str) != Some("false") {
                cx.hit(
                    Rule::Artipacked,
                    step.start,
                    format!("actions/checkout in job `{job_name}` keeps the token in .git, and the job uploads artifacts"),
                    "set `persist-credentials: false` on the checkout (`--fix` adds it)",
                );
                cx.with_edit(persist_edit(cx.src, step));
            }
            if untrusted_trigger {
                if let Some(r) = with.and_then(|w| w.get("ref")) {
                    let t = r.as_str().unwrap_or("");
                    let untrusted = [
                        "github.event.pull_request.head.",
                        "github.head_ref",
                        "github.event.workflow_run.head_",
                        "github.event.pull_request.merge_commit_sha",
                        "refs/pull/",
                    ]
                    .iter()
                    .any(|p| t.contains(p));
                    if untrusted {
                        cx.hit(
                            Rule::DangerousTriggers,
                            r.start,
                            format!("job `{job_name}` checks out the pull request's code in a {} workflow, which runs with the base repository's secrets and a write token", trig.iter().find(|t| **t == "pull_request_target" || **t == "workflow_run").unwrap_or(&"pull_request_target")),
                            "use the `pull_request` trigger for untrusted code, or do not check it out here",
                        );
                    }
                }
            }
        }
        if release {
            for step in steps {
                cache_poisoning(cx, step);
            }
        }
    }

    if release {
        let at = on_entry.map(|(k, _)| k.start).unwrap_or(root.start);
        let gates = [
            (seen.audit, Rule::ReleaseNoAudit, "audit", "add a step `cargo secure-release audit --locked` before the build: the release gate for advisories, licenses and the profile"),
            (seen.verify, Rule::ReleaseNoVerify, "verify", "add a step `cargo secure-release verify \"$TAG\"` (with TAG from github.ref_name through env:) so only a signed, trusted tag is released"),
            (seen.attest, Rule::ReleaseNoAttest, "attest", "add a step `cargo secure-release attest FILES…` after the build, so users can check what they download"),
        ];
        for (present, rule, gate, help) in gates {
            if !present {
                cx.hit(
                    rule,
                    at,
                    format!("this release workflow (run on tags or releases) never runs `cargo secure-release {gate}`"),
                    help,
                );
            }
        }
    }
    seen
}

fn action(cx: &mut Ctx<'_>, root: &Node) {
    let Some(runs) = root.get("runs") else { return };
    if let Some(image) = runs.get("image") {
        let v = image.as_str().unwrap_or("");
        if let Some(reference) = v.strip_prefix("docker://") {
            if !reference.contains("@sha256:") {
                cx.hit(
                    Rule::UnpinnedUses,
                    image.start,
                    format!("the action's image `{}` is not pinned by digest", crate::error::escape(v)),
                    "pin it: docker://IMAGE@sha256:DIGEST (`docker buildx imagetools inspect IMAGE` prints the digest)",
                );
            }
        }
    }
    let mut seen = Seen::default();
    for step in runs.get("steps").map(Node::items).unwrap_or(&[]) {
        check_step(cx, step, &[], false, &mut seen);
    }
}

/// `owner/repo` of a step's `uses:`, without path or ref.
fn action_name(step: &Node) -> Option<&str> {
    let u = step.get("uses")?.as_str()?;
    let path = u.split('@').next()?;
    let mut parts = path.splitn(3, '/');
    let owner = parts.next()?;
    let repo = parts.next()?;
    Some(&path[..owner.len() + 1 + repo.len()])
}

fn is_full_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_uses(cx: &mut Ctx<'_>, uses: &Node) {
    let Some(u) = uses.as_str() else { return };
    if u.starts_with("./") || u.starts_with("../") {
        return;
    }
    if let Some(image) = u.strip_prefix("docker://") {
        if !image.contains("@sha256:") {
            cx.hit(
                Rule::UnpinnedUses,
                uses.start,
                format!("`{}` is not pinned by digest", crate::error::escape(u)),
                "pin it: docker://IMAGE@sha256:DIGEST (`docker buildx imagetools inspect IMAGE` prints the digest)",
            );
        }
        return;
    }
    let (path, reference) = u.split_once('@').unwrap_or((u, ""));
    let repo: String = path.splitn(3, '/').take(2).collect::<Vec<_>>().join("/");
    if !is_full_sha(reference) {
        let shown = crate::error::escape(u);
        let tag = if reference.is_empty() {
            "HEAD"
        } else {
            reference
        };
        cx.hit(
            Rule::UnpinnedUses,
            uses.start,
            format!("`{shown}` is not pinned to a full commit SHA: whoever can move `{}` changes what runs", crate::error::escape(tag)),
            format!(
                "pinning needs the network: `git ls-remote https://github.com/{repo} {tag}` prints the commit; write `uses: {path}@<sha> # {tag}`",
                repo = crate::error::escape(&repo),
                tag = crate::error::escape(tag),
                path = crate::error::escape(path),
            ),
        );
    }
    let owner = repo.split('/').next().unwrap_or("");
    if owner == "actions-rs"
        || repo == "actions/create-release"
        || repo == "actions/upload-release-asset"
    {
        cx.hit(
            Rule::ArchivedAction,
            uses.start,
            format!("`{}` is archived: it gets no fixes, security ones included", crate::error::escape(&repo)),
            match owner {
                "actions-rs" => "replace it: dtolnay/rust-toolchain for toolchains, plain `cargo` in a run: step for commands",
                _ => "replace it with `gh release create`/`gh release upload` in a run: step",
            },
        );
    }
}

fn check_step(
    cx: &mut Ctx<'_>,
    step: &Node,
    envs: &[Option<&Node>],
    release: bool,
    seen: &mut Seen,
) {
    if let Some(uses) = step.get("uses") {
        check_uses(cx, uses);
        let u = uses.as_str().unwrap_or("");
        let (path, reference) = u.split_once('@').unwrap_or((u, ""));
        // The action reads its toolchain from the ref it was called by (@stable,
        // @1.88.0); pinned by SHA that ref is a commit and the input is required.
        if path == "dtolnay/rust-toolchain"
            && is_full_sha(reference)
            && step.get("with").and_then(|w| w.get("toolchain")).is_none()
        {
            cx.hit(
                Rule::ToolchainFromRef,
                uses.start,
                "dtolnay/rust-toolchain pinned by SHA takes its toolchain from the ref name, which is now a commit".into(),
                "pass the toolchain as an input: `with: toolchain: stable` (or the version you release with)",
            );
        }
        if path == "actions/github-script" {
            if let Some(script) = step.get("with").and_then(|w| w.get("script")) {
                injection(cx, script, "github-script code");
            }
        }
        if u.contains("secure-release") || (u == "./" && step.get("with").is_some()) {
            let command = step
                .get("with")
                .and_then(|w| w.get("command"))
                .and_then(Node::as_str)
                .unwrap_or("audit");
            match command {
                "audit" => seen.audit = true,
                "verify" => seen.verify = true,
                "attest" => seen.attest = true,
                _ => {}
            }
        }
    }
    let Some(run) = step.get("run") else { return };
    injection(cx, run, "shell script");
    let lines = script::lines(cx.src, run);
    let commands = script::commands(&lines);
    let step_env = step.get("env");
    let token_from_secret = [step_env]
        .iter()
        .chain(envs.iter())
        .flatten()
        .filter_map(|e| e.get("CARGO_REGISTRY_TOKEN"))
        .any(|v| v.as_str().is_some_and(|s| s.contains("secrets.")));
    for (i, cmd) in commands.iter().enumerate() {
        gates(cmd, seen);
        pipes(cx, &commands, i, &lines);
        cargo(cx, cmd, token_from_secret, release);
    }
}

/// Contexts an outsider controls: pull request titles and bodies, branch names,
/// commit messages, comments… (zizmor's template-injection and GitHub's "Security
/// hardening" list). Numbers, ids, SHAs, dates and URLs GitHub makes are not.
fn attacker_controlled(expr: &str) -> Option<&str> {
    const SAFE_LAST: &[&str] = &[
        "number",
        "id",
        "node_id",
        "sha",
        "head_sha",
        "base_sha",
        "merge_commit_sha",
        "merged",
        "draft",
        "locked",
        "created_at",
        "updated_at",
        "closed_at",
        "merged_at",
        "additions",
        "deletions",
        "changed_files",
        "commits",
        "comments",
        "run_id",
        "run_number",
        "run_attempt",
        "workflow_id",
        "check_suite_id",
        "size",
        "forced",
        "created",
        "deleted",
        "before",
        "after",
        "private",
        "fork",
        "default_branch",
        "action",
        "state",
        "conclusion",
        "status",
    ];
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < expr.len() {
        let rest = &expr[i..];
        let boundary = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b'.');
        if boundary && (rest.starts_with("github.event.") || rest.starts_with("github.head_ref")) {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._-*[]'\"".contains(c)))
                .unwrap_or(rest.len());
            let path = &rest[..end];
            if path.starts_with("github.head_ref") {
                return Some(path);
            }
            let last = path
                .rsplit('.')
                .next()
                .unwrap_or("")
                .trim_matches(|c| c == '[' || c == ']' || c == '\'' || c == '"');
            let safe = SAFE_LAST.contains(&last)
                || last.ends_with("_url")
                || last == "url"
                || path.starts_with("github.event.repository.")
                || path == "github.event_name";
            if !safe {
                return Some(path);
            }
            i += end.max(1);
            continue;
        }
        i += 1;
    }
    None
}

fn injection(cx: &mut Ctx<'_>, node: &Node, what: &str) {
    let lines = script::lines(cx.src, node);
    for (expr, line, col) in script::expressions(&lines) {
        if let Some(ctx) = attacker_controlled(expr) {
            cx.hit_at(
                Rule::TemplateInjection,
                line,
                col,
                format!("`{}` is expanded into the {what}: whoever writes it writes code", crate::error::escape(ctx)),
                "pass it through `env:` (e.g. `env: VALUE: ${{ … }}`) and use \"$VALUE\" in the script",
            );
        }
    }
}

fn gates(cmd: &Command, seen: &mut Seen) {
    let w = &cmd.words;
    for (i, word) in w.iter().enumerate() {
        let names_us =
            word.text.ends_with("secure-release") || word.text.contains("cargo-secure-release");
        if !names_us {
            continue;
        }
        match w.get(i + 1).map(|n| n.text.as_str()) {
            Some("audit") => seen.audit = true,
            Some("verify") => seen.verify = true,
            Some("attest") => seen.attest = true,
            _ => {}
        }
    }
}

const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "iwr",
    "Invoke-WebRequest",
    "irm",
    "Invoke-RestMethod",
];
const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "fish",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "pwsh",
    "iex",
    "Invoke-Expression",
];

fn is_shell(word: &str) -> bool {
    SHELLS.contains(&word.rsplit('/').next().unwrap_or(word))
}

fn pipes(cx: &mut Ctx<'_>, commands: &[Command], i: usize, lines: &[Line<'_>]) {
    let cmd = &commands[i];
    let Some(first) = cmd.program().first() else {
        return;
    };
    if !DOWNLOADERS.contains(&first.text.as_str()) {
        return;
    }
    // `curl … | sh`, through any filters in between.
    let mut j = i;
    let mut into_shell = false;
    while commands[j].piped && j + 1 < commands.len() {
        j += 1;
        if commands[j].first().is_some_and(is_shell) {
            into_shell = true;
            break;
        }
    }
    // `sh -c "$(curl …)"` and `bash <(curl …)`: the command before is a shell on
    // the same line, and the download is inside its substitution.
    if !into_shell && i > 0 {
        let prev = &commands[i - 1];
        let same_line = prev.words.last().is_some_and(|w| w.line == first.line);
        let line_text = lines
            .iter()
            .find(|l| l.line == first.line)
            .map_or("", |l| l.text);
        let substituted = line_text.contains("$(curl")
            || line_text.contains("<(curl")
            || line_text.contains("$(wget")
            || line_text.contains("<(wget");
        into_shell = same_line && substituted && prev.first().is_some_and(is_shell);
    }
    if !into_shell {
        return;
    }
    let url = cmd
        .words
        .iter()
        .find(|w| w.text.contains("://"))
        .map(|w| w.text.as_str())
        .unwrap_or("");
    let rustup = cmd.words.iter().any(|w| {
        w.text.contains("sh.rustup.rs")
            || w.text.contains("rustup-init")
            || w.text.contains("static.rust-lang.org/rustup")
    });
    if rustup {
        cx.hit_at(
            Rule::RustupPipe,
            first.line,
            first.col,
            "rustup is installed by piping a download into a shell: the script is whatever the server sends today".into(),
            "use the runner's rustup (`rustup toolchain install 1.xx --profile minimal`) or dtolnay/rust-toolchain pinned by SHA with `toolchain:`",
        );
    } else {
        cx.hit_at(
            Rule::PipeToShell,
            first.line,
            first.col,
            format!("a download{} is piped into a shell: it runs whatever the server sends, unchecked", if url.is_empty() { String::new() } else { format!(" ({})", crate::error::escape(url)) }),
            "download to a file, check its SHA-256 against a pinned value, then run it (or install from a package registry with a lockfile)",
        );
    }
}

/// Flags of `cargo install` that take a value (their value is not a crate name).
const INSTALL_VALUED: &[&str] = &[
    "--version",
    "--vers",
    "--git",
    "--branch",
    "--tag",
    "--rev",
    "--path",
    "--root",
    "--target",
    "--features",
    "-F",
    "--profile",
    "--registry",
    "--index",
    "-j",
    "--jobs",
    "--bin",
    "--example",
    "--config",
    "-Z",
    "--target-dir",
    "--color",
];

fn cargo(cx: &mut Ctx<'_>, cmd: &Command, token_from_secret: bool, release: bool) {
    let prog = cmd.program();
    let Some(first) = prog.first() else { return };
    let name = first.text.rsplit('/').next().unwrap_or("");
    let is_cargo = name == "cargo" || name == "cargo.exe";
    let is_cross = name == "cross";
    if !is_cargo && !is_cross {
        return;
    }
    let mut rest = &prog[1..];
    while rest.first().is_some_and(|w| w.text.starts_with('+')) {
        rest = &rest[1..];
    }
    let sub = rest.first().map(|w| w.text.as_str()).unwrap_or("");
    let locked = cmd.has("--locked") || cmd.has("--frozen");
    let dynamic = cmd.words.iter().any(|w| w.text.contains('$'));
    match sub {
        "install" if is_cargo && !cmd.has("--list") => {
            if !locked {
                cx.hit_at(
                    Rule::CargoInstallUnlocked,
                    first.line,
                    first.col,
                    "`cargo install` without --locked ignores the tool's Cargo.lock and resolves its dependencies anew, so a new (or hijacked) release of any of them runs here".into(),
                    "add --locked (`--fix` adds it)",
                );
                let at = &rest[0];
                cx.with_edit(Some(Edit {
                    offset: at.end,
                    remove: 0,
                    insert: " --locked".into(),
                }));
            }
            let local = cmd.has("--path");
            let git = cmd.has("--git");
            let mut names = Vec::new();
            let mut k = 1;
            while k < rest.len() {
                let t = rest[k].text.as_str();
                if INSTALL_VALUED.contains(&t) {
                    k += 2;
                    continue;
                }
                if !t.starts_with('-') {
                    names.push(t);
                }
                k += 1;
            }
            let versioned = cmd.has("--version")
                || cmd.has("--vers")
                || (!names.is_empty() && names.iter().all(|n| n.contains('@')));
            let pinned = local || dynamic || if git { cmd.has("--rev") } else { versioned };
            if !pinned {
                cx.hit_at(
                    Rule::CargoInstallUnpinned,
                    first.line,
                    first.col,
                    if git {
                        "`cargo install --git` without --rev builds whatever the branch or tag points at today".into()
                    } else {
                        "`cargo install` without a version installs whatever was published last".into()
                    },
                    if git {
                        "add --rev COMMIT"
                    } else {
                        "pin it: `cargo install --locked NAME@X.Y.Z` (or --version X.Y.Z)"
                    },
                );
            }
        }
        "publish" if is_cargo && !cmd.has("--dry-run") && !cmd.has("-n") => {
            let token_arg = cmd.words.iter().any(|w| w.text.contains("secrets."));
            if token_from_secret || token_arg {
                cx.hit_at(
                    Rule::RegistryToken,
                    first.line,
                    first.col,
                    "`cargo publish` uses a long-lived crates.io token from the repository's secrets".into(),
                    "use crates.io trusted publishing: a step `uses: rust-lang/crates-io-auth-action@<sha>` (id: auth) and CARGO_REGISTRY_TOKEN: ${{ steps.auth.outputs.token }}, with `permissions: id-token: write` in that job only; then delete the secret",
                );
            }
        }
        _ => {}
    }
    if release {
        let builds = match sub {
            "build" | "zigbuild" => true,
            "auditable" | "dist" => rest.get(1).is_some_and(|w| w.text == "build"),
            _ => false,
        };
        if builds && !locked && !dynamic {
            cx.hit_at(
                Rule::ReleaseUnlockedBuild,
                first.line,
                first.col,
                format!("the release is built without --locked: `{name} {sub}` may resolve other versions than Cargo.lock, the file the audit judged"),
                "add --locked",
            );
        }
    }
}

fn cache_poisoning(cx: &mut Ctx<'_>, step: &Node) {
    let Some((key, uses)) = step.entry("uses") else {
        return;
    };
    let u = uses.as_str().unwrap_or("");
    let path = u.split('@').next().unwrap_or("");
    let with = step.get("with");
    let input = |k: &str| with.and_then(|w| w.get(k)).and_then(Node::as_str);
    let restores = match path {
        "actions/cache" | "actions/cache/restore" => true,
        "Swatinem/rust-cache" => input("lookup-only") != Some("true"),
        "mozilla-actions/sccache-action" => true,
        // setup-go caches unless told not to (since v4).
        "actions/setup-go" => input("cache") != Some("false"),
        p if p.starts_with("actions/setup-") => {
            input("cache").is_some_and(|c| !c.is_empty() && c != "false")
        }
        _ => false,
    };
    if restores {
        cx.hit(
            Rule::CachePoisoning,
            key.start,
            format!("`{}` restores a cache in a release workflow: any workflow of the repository (pull requests' included) can write what it restores into the release build", crate::error::escape(path)),
            "build releases without caches (drop the step, or `lookup-only: true` for rust-cache)",
        );
    }
}

fn top_level_grants(cx: &mut Ctx<'_>, perms: &Node) {
    if let Some(v) = perms.as_str() {
        if v == "write-all" || v == "read-all" {
            cx.hit(
                Rule::ExcessivePermissions,
                perms.start,
                format!("`permissions: {v}` at the top grants every scope to every job"),
                "list the scopes: `permissions: contents: read`, and grant writes per job",
            );
        }
        return;
    }
    for (k, v) in perms.entries() {
        if v.as_str() == Some("write") {
            cx.hit(
                Rule::ExcessivePermissions,
                k.start,
                format!(
                    "`{}: write` at the top grants it to every job",
                    crate::error::escape(k.as_str().unwrap_or("?"))
                ),
                "keep `contents: read` at the top and grant the write in the job that needs it",
            );
        }
    }
}

/// Actions known to need no write scope of the job's token.
const HARMLESS: &[&str] = &[
    "actions/checkout",
    "actions/cache",
    "actions/upload-artifact",
    "actions/download-artifact",
    "actions/setup-node",
    "actions/setup-python",
    "actions/setup-go",
    "actions/setup-java",
    "dtolnay/rust-toolchain",
    "Swatinem/rust-cache",
    "taiki-e/install-action",
];

fn job_grants(cx: &mut Ctx<'_>, job_name: &str, job: &Node, perms: &Node) {
    if let Some(v) = perms.as_str() {
        if v == "write-all" || v == "read-all" {
            cx.hit(
                Rule::ExcessivePermissions,
                perms.start,
                format!("job `{job_name}` has `permissions: {v}`: every scope"),
                "list only the scopes the job uses",
            );
        }
        return;
    }
    let steps = job.get("steps").map(Node::items).unwrap_or(&[]);
    if job.get("uses").is_some() {
        return; // a reusable workflow: its needs are in another file
    }
    // A write is used when a step could use the token: an action we do not know to
    // leave it alone, or a script that names it or runs gh / git push.
    let could_use = steps.iter().any(|s| {
        if let Some(a) = action_name(s) {
            return !HARMLESS.contains(&a);
        }
        if s.get("uses").is_some() {
            return true; // local or docker action
        }
        let text = s.get("run").and_then(Node::as_str).unwrap_or("");
        let env_names_token =
            s.get("env")
                .map(Node::entries)
                .unwrap_or(&[])
                .iter()
                .any(|(_, v)| {
                    v.as_str()
                        .is_some_and(|t| t.contains("github.token") || t.contains("GITHUB_TOKEN"))
                });
        env_names_token
            || [
                "gh ",
                "git push",
                "git tag",
                "GITHUB_TOKEN",
                "GH_TOKEN",
                "github.token",
                "ACTIONS_ID_TOKEN",
                "api.github.com",
                "cosign",
                "cargo publish",
            ]
            .iter()
            .any(|p| text.contains(p))
    });
    if could_use {
        return;
    }
    for (k, v) in perms.entries() {
        if v.as_str() == Some("write") {
            cx.hit(
                Rule::ExcessivePermissions,
                k.start,
                format!(
                    "job `{job_name}` grants `{}: write`, and none of its steps uses the token",
                    crate::error::escape(k.as_str().unwrap_or("?"))
                ),
                "drop the write (or make it `read`)",
            );
        }
    }
}

/// `permissions:\n  contents: read\n` before `jobs:` (above the comments that lead
/// into it), indented as the file indents.
fn top_permissions_edit(src: &str, root: &Node) -> Option<Edit> {
    let (jobs_key, jobs) = root.entry("jobs")?;
    if jobs_key.start.col != 1 {
        return None;
    }
    let step = jobs
        .entries()
        .first()
        .map_or(2, |(k, _)| k.start.col.saturating_sub(1))
        .max(1);
    let mut at = line_start(src, jobs_key.start.offset);
    // Comment lines right above `jobs:` describe the jobs: stay above them.
    while at > 0 {
        let prev = line_start(src, at - 1);
        if src[prev..at].trim_start().starts_with('#') {
            at = prev;
        } else {
            break;
        }
    }
    let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
    Some(Edit {
        offset: at,
        remove: 0,
        insert: format!("permissions:{nl}{}contents: read{nl}{nl}", " ".repeat(step)),
    })
}

fn line_start(src: &str, offset: usize) -> usize {
    src[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(src: &str, offset: usize) -> usize {
    src[offset..].find('\n').map_or(src.len(), |i| offset + i)
}

/// `persist-credentials: false` in the checkout step: replaced where it is `true`,
/// added as the first key of a block `with:`, or a `with:` block added after `uses:`.
fn persist_edit(src: &str, step: &Node) -> Option<Edit> {
    let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
    if let Some(with) = step.get("with") {
        if let Some(v) = with.get("persist-credentials") {
            return Some(Edit {
                offset: v.start.offset,
                remove: v.end.offset - v.start.offset,
                insert: "false".into(),
            });
        }
        let (first, _) = with.entries().first()?;
        // Only a block mapping: its first key starts its own line.
        let ls = line_start(src, first.start.offset);
        if !src[ls..first.start.offset].trim().is_empty() {
            return None;
        }
        let indent = &src[ls..first.start.offset];
        return Some(Edit {
            offset: ls,
            remove: 0,
            insert: format!("{indent}persist-credentials: false{nl}"),
        });
    }
    let (uses_key, uses) = step.entry("uses")?;
    // The step's keys are in a block mapping: `uses:` starts a line (or follows `- `).
    let ls = line_start(src, uses_key.start.offset);
    let before = &src[ls..uses_key.start.offset];
    if !before
        .trim_start_matches(' ')
        .trim_start_matches("- ")
        .trim()
        .is_empty()
    {
        return None;
    }
    let indent = " ".repeat(uses_key.start.col - 1);
    let end = line_end(src, uses.end.offset.max(uses_key.start.offset));
    let end = if src[..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    Some(Edit {
        offset: end,
        remove: 0,
        insert: format!("{nl}{indent}with:{nl}{indent}  persist-credentials: false"),
    })
}
