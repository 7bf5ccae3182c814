//! Where users run it: shell completions, man pages, the JSON schema, the GitHub
//! Action and workflows (checked by `@action-validator/cli`), the pre-commit hook.

use crate::common::*;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn bash_completions_load() {
    let bin = assert_cmd::cargo::cargo_bin("cargo-secure-release");
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            "source <(\"$0\" completions bash) && complete -p cargo-secure-release",
        ])
        .arg(&bin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("-F _cargo") && stdout.trim_end().ends_with(" cargo-secure-release"),
        "{stdout}"
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let (script, _) = run(bin_cmd().args(["completions", shell]), 0);
        assert!(
            script.contains("audit") && script.contains("advisory-db"),
            "{shell}"
        );
    }
    run(bin_cmd().args(["completions", "tcsh"]), 2);
}

fn bin_cmd() -> assert_cmd::Command {
    bin()
}

/// Every page renders with `man -l` and documents its command's options.
#[test]
fn man_pages_render() {
    let dir = tempfile::TempDir::new().unwrap();
    let pages = cargo_secure_release::cli::man_pages().unwrap();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "cargo-secure-release.1",
        "cargo-secure-release-audit.1",
        "cargo-secure-release-tag.1",
        "cargo-secure-release-verify.1",
        "cargo-secure-release-init.1",
        "cargo-secure-release-completions.1",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    for (name, roff) in &pages {
        let path = dir.path().join(name);
        std::fs::write(&path, roff).unwrap();
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{name}:\n{text}"
        );
    }
    let audit = &pages
        .iter()
        .find(|(n, _)| n == "cargo-secure-release-audit.1")
        .unwrap()
        .1;
    assert!(String::from_utf8_lossy(audit).contains("advisory\\-db"));
}

/// `@action-validator/cli`, installed by `cargo xtask test` (or ACTION_VALIDATOR).
fn action_validator() -> PathBuf {
    if let Some(p) = std::env::var_os("ACTION_VALIDATOR") {
        return p.into();
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let p = Path::new(&home)
        .join(".cache/cargo-secure-release/action-validator/node_modules/.bin/action-validator");
    assert!(
        p.exists(),
        "action-validator not found at {}: run `cargo xtask test`, which installs it",
        p.display()
    );
    p
}

#[test]
fn the_action_and_workflows_pass_action_validator() {
    for file in [
        "action.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
    ] {
        let out = std::process::Command::new(action_validator())
            .arg(Path::new(ROOT).join(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // And it rejects a broken action, so a pass means something.
    let dir = tempfile::TempDir::new().unwrap();
    let bad = dir.path().join("action.yml");
    std::fs::write(&bad, "name: x\nruns:\n  using: composite\n  steps: 5\n").unwrap();
    let out = std::process::Command::new(action_validator())
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a broken action must fail validation"
    );
}

/// Third-party actions are pinned by full commit SHA.
#[test]
fn third_party_actions_are_pinned_by_sha() {
    for file in [
        "action.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
    ] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        for line in text.lines().filter(|l| {
            l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:")
        }) {
            let target = line.split("uses:").nth(1).unwrap().trim();
            if target.starts_with("./") {
                continue;
            }
            let sha = target
                .split('@')
                .nth(1)
                .unwrap_or("")
                .split_whitespace()
                .next()
                .unwrap_or("");
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{file}: `{target}` is not pinned by a full commit SHA"
            );
        }
    }
}

#[test]
fn the_pre_commit_hook_runs_the_audit() {
    let text = std::fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap();
    assert!(text.contains("- id: secure-release-audit"));
    assert!(text.contains("entry: cargo-secure-release audit"));
}

/// The schema accepts what the audit writes and rejects what it must not.
#[test]
fn the_json_report_schema_holds_and_can_fail() {
    let f = Fixture::new(
        "schema",
        &format!("[dependencies]\ntime = \"=0.1.43\"\n\n{HARDENED}"),
    )
    .lock();
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let report = json(&out); // validated inside
    assert!(report_schema().is_valid(&report));
    let mut broken = report.clone();
    broken["findings"][0]["severity"] = serde_json::json!("fatal");
    assert!(!report_schema().is_valid(&broken));
    let mut broken = report.clone();
    broken["summary"] = serde_json::json!({ "errors": -1, "warnings": 0, "notes": 0 });
    assert!(!report_schema().is_valid(&broken));
    let mut broken = report;
    broken["findings"][0]["surprise"] = serde_json::json!(true);
    assert!(!report_schema().is_valid(&broken));
}
