//! The rules over one parsed workflow or action file. Each finding points at the
//! node that carries the fault (the `uses:` value, the permission's key, the
//! expression inside the script, the command's first word) with line and column.

use super::commands;
use super::fix::{self, Edit};
use super::permissions;
use super::rule::Rule;
use super::script;
use super::yaml::{Node, Pos};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// `.github/workflows/*.yml`
    Workflow,
    /// `action.yml`: a composite (or docker) action's metadata.
    Action,
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

pub(super) struct Ctx<'a> {
    pub(super) src: &'a str,
    pub(super) hits: Vec<Hit>,
}

impl Ctx<'_> {
    pub(super) fn hit(&mut self, rule: Rule, at: Pos, message: String, help: impl Into<String>) {
        self.hits.push(Hit {
            rule,
            line: at.line,
            col: at.col,
            message,
            help: help.into(),
            edit: None,
        });
    }

    pub(super) fn hit_at(
        &mut self,
        rule: Rule,
        line: usize,
        col: usize,
        message: String,
        help: &str,
    ) {
        self.hits.push(Hit {
            rule,
            line,
            col,
            message,
            help: help.into(),
            edit: None,
        });
    }

    pub(super) fn with_edit(&mut self, edit: Option<Edit>) {
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
                cx.with_edit(fix::permissions_edit(cx.src, root));
            }
        }
        Some((_, perms)) => permissions::top_level(cx, perms),
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
            Some((_, perms)) => permissions::job(cx, job_name, job, perms),
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
                cx.with_edit(fix::persist_edit(cx.src, step));
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
pub(super) fn action_name(step: &Node) -> Option<&str> {
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
        commands::gates(cmd, seen);
        commands::pipes(cx, &commands, i, &lines);
        commands::cargo(cx, cmd, token_from_secret, release);
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
