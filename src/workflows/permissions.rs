//! `excessive-permissions` on the grants themselves: `write-all`/`read-all`, a write
//! at the top, and a job's write none of its steps can use.

use super::rule::Rule;
use super::rules::{action_name, Ctx};
use super::yaml::Node;

/// `permissions: write-all` or `read-all`: every scope at once.
fn every_scope(perms: &Node) -> Option<&str> {
    perms
        .as_str()
        .filter(|v| *v == "write-all" || *v == "read-all")
}

/// The scopes a `permissions:` mapping grants `write`: each key, and its name escaped.
fn write_scopes(perms: &Node) -> impl Iterator<Item = (&Node, String)> {
    perms
        .entries()
        .iter()
        .filter(|(_, v)| v.as_str() == Some("write"))
        .map(|(k, _)| (k, crate::error::escape(k.as_str().unwrap_or("?"))))
}

pub(super) fn top_level(cx: &mut Ctx<'_>, perms: &Node) {
    if let Some(v) = every_scope(perms) {
        cx.hit(
            Rule::ExcessivePermissions,
            perms.start,
            format!("`permissions: {v}` at the top grants every scope to every job"),
            "list the scopes: `permissions: contents: read`, and grant writes per job",
        );
        return;
    }
    for (k, name) in write_scopes(perms) {
        cx.hit(
            Rule::ExcessivePermissions,
            k.start,
            format!("`{name}: write` at the top grants it to every job"),
            "keep `contents: read` at the top and grant the write in the job that needs it",
        );
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

pub(super) fn job(cx: &mut Ctx<'_>, job_name: &str, job: &Node, perms: &Node) {
    if let Some(v) = every_scope(perms) {
        cx.hit(
            Rule::ExcessivePermissions,
            perms.start,
            format!("job `{job_name}` has `permissions: {v}`: every scope"),
            "list only the scopes the job uses",
        );
        return;
    }
    if perms.as_str().is_some() {
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
    for (k, name) in write_scopes(perms) {
        cx.hit(
            Rule::ExcessivePermissions,
            k.start,
            format!(
                "job `{job_name}` grants `{name}: write`, and none of its steps uses the token"
            ),
            "drop the write (or make it `read`)",
        );
    }
}
