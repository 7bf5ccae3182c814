//! What `cargo package` publishes compiles the graph code the workspace compiles:
//! krates with the indexed lookups, and cargo-deny's library on it, come from
//! dependencies that survive publication (a version beside the path), never from a
//! `[patch]`, which `cargo package` drops (vendor/krates/PATCHED.md).

use crate::common::output_ok;
use std::path::Path;
use std::process::Command;

fn package<'a>(md: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    md["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
}

/// The dependency of `pkg` imported as `lib` (a renamed one: `package = …`).
fn dependency<'a>(pkg: &'a serde_json::Value, lib: &str) -> &'a serde_json::Value {
    pkg["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rename"] == lib)
        .unwrap_or_else(|| {
            panic!(
                "{} does not import `{lib}` under another package",
                pkg["name"]
            )
        })
}

#[test]
fn the_published_crate_builds_the_graph_forks_not_a_patch() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml_edit::DocumentMut = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    for table in ["patch", "replace"] {
        assert!(
            manifest.get(table).is_none(),
            "Cargo.toml has a [{table}] section: `cargo package` drops it"
        );
    }

    let out = output_ok(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(root),
    );
    let md: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Nothing in the graph builds the upstream crates with the quadratic lookups.
    for upstream in ["krates", "cargo-deny"] {
        assert!(
            package(&md, upstream).is_none(),
            "`{upstream}` from crates.io is in the dependency graph"
        );
    }

    // The forks are dependencies, not workspace members: `cargo test --workspace` and
    // clippy would build their tests, whose dev-dependencies the forks leave out.
    let members: Vec<&str> = md["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert!(
        members.iter().all(|m| !m.contains("/vendor/")),
        "vendored forks are workspace members: {members:?}"
    );

    let ours = package(&md, "cargo-secure-release").unwrap();
    let deny = package(&md, "cargo-secure-release-deny").unwrap();
    for (from, lib, fork) in [
        (ours, "krates", "cargo-secure-release-krates"),
        (ours, "cargo-deny", "cargo-secure-release-deny"),
        (deny, "krates", "cargo-secure-release-krates"),
    ] {
        let dep = dependency(from, lib);
        assert_eq!(dep["name"], fork);
        let forked = package(&md, fork).unwrap();
        // The version beside the path is what the published manifest keeps.
        assert_eq!(
            dep["req"].as_str().unwrap(),
            format!("={}", forked["version"].as_str().unwrap()),
            "{} -> {fork}",
            from["name"]
        );
        assert!(
            forked["source"].is_null(),
            "{fork} is not the vendored copy"
        );
        let at = Path::new(forked["manifest_path"].as_str().unwrap());
        assert!(at.starts_with(root.join("vendor")), "{}", at.display());
    }
    // The fork carries the fix that makes it worth publishing.
    let builder = std::fs::read_to_string(root.join("vendor/krates/src/builder.rs")).unwrap();
    assert!(builder.contains("PATCHED (cargo-secure-release)"));
}
