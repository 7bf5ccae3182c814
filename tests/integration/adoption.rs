//! Where users run it: shell completions, man pages, the JSON schema, the GitHub
//! Action and workflows (checked by `@action-validator/cli`), the pre-commit hook.

use crate::common::*;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs bash's completion for `words` (the last one being completed) as bash would:
/// the function `complete -p` registered for the first word, with COMP_WORDS and
/// COMP_CWORD set; returns the candidates. A `cargo` completion registered before
/// ours (`build`, `bench`) stands for cargo's own.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let bin = assert_cmd::cargo::cargo_bin("cargo-secure-release");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        r#"_cargo_before() {{ COMPREPLY=($(compgen -W "build bench" -- "$2")); }}
complete -F _cargo_before cargo
source <("$0" completions bash) || exit 3
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
fn=$(complete -p "${{COMP_WORDS[0]}}" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
prev=""
[[ $COMP_CWORD -ge 1 ]] && prev="${{COMP_WORDS[COMP_CWORD-1]}}"
"$fn" "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "$prev"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" ")
    );
    let out = output_ok(
        std::process::Command::new("bash")
            .args(["-c", &script])
            .arg(&bin),
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_options_both_as_a_cargo_subcommand_and_as_its_binary() {
    for prefix in [
        &["cargo-secure-release"][..],
        &["cargo", "secure-release"][..],
    ] {
        let w = |rest: &[&'static str]| -> Vec<&str> {
            prefix.iter().copied().chain(rest.iter().copied()).collect()
        };
        assert_eq!(
            bash_complete(&w(&["audit", "--adv"])),
            ["--advisory-db"],
            "{prefix:?}"
        );
        assert_eq!(bash_complete(&w(&["ta"])), ["tag"], "{prefix:?}");
        let formats = bash_complete(&w(&["sbom", "--format", ""]));
        assert_eq!(formats, ["cyclonedx", "spdx", "openvex"], "{prefix:?}");
        let tag = bash_complete(&w(&["tag", "--"]));
        assert!(
            tag.contains(&"--format".to_string()) && tag.contains(&"--key".to_string()),
            "{tag:?}"
        );
        let top = bash_complete(&w(&[""]));
        for sub in [
            "audit",
            "tag",
            "verify",
            "init",
            "sbom",
            "completions",
            "man",
        ] {
            assert!(top.contains(&sub.to_string()), "{prefix:?}: {top:?}");
        }
    }
    // Every other `cargo …` still goes to the completion cargo had.
    assert_eq!(bash_complete(&["cargo", "bu"]), ["build"]);
}

#[test]
fn zsh_and_fish_scripts_cover_the_cargo_subcommand() {
    let (zsh, _) = run(bin_cmd().args(["completions", "zsh"]), 0);
    // zsh's _cargo calls `_cargo-<subcommand>` for a plugin: the function this defines.
    assert!(zsh.starts_with("#compdef cargo-secure-release"), "{zsh}");
    assert!(zsh.contains("_cargo-secure-release() {"), "{zsh}");
    assert!(zsh.contains("--advisory-db"));
    let (fish, _) = run(bin_cmd().args(["completions", "fish"]), 0);
    assert!(fish.contains("complete -c cargo-secure-release "));
    assert!(fish.contains(
        "complete -c cargo -n \"__fish_cargo_secure_release_via_cargo_is_ours; and __fish_cargo_secure_release_via_cargo_using_subcommand audit\" -l advisory-db"
    ), "{fish}");
    assert!(fish.contains("set -e cmd[1..2]"), "{fish}");
    for shell in ["powershell", "elvish"] {
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
        "cargo-secure-release-attest.1",
        "cargo-secure-release-init.1",
        "cargo-secure-release-completions.1",
        "cargo-secure-release-man.1",
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

/// `cargo secure-release man --output DIR` writes every page (refusing to replace
/// one without --force); SYNOPSIS gives each option its value, as `man` renders it.
#[test]
fn the_man_command_writes_the_pages_with_values_in_the_synopsis() {
    let dir = tempfile::TempDir::new().unwrap();
    let out_dir = dir.path().join("man1");
    let (_, err) = run(bin_cmd().args(["man", "--output"]).arg(&out_dir), 0);
    assert!(err.starts_with("wrote 9 man pages to "), "{err}");
    let page = out_dir.join("cargo-secure-release-audit.1");
    let out = std::process::Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "400")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let synopsis = text
        .lines()
        .skip_while(|l| l.trim() != "SYNOPSIS")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        synopsis
            .trim_start()
            .starts_with("cargo secure-release audit "),
        "{synopsis}"
    );
    for want in [
        "[--manifest-path PATH]",
        "[-p|--package SPEC]...",
        "[--advisory-db DIR]",
        "[--format FORMAT]",
        "[--fix]",
    ] {
        assert!(synopsis.contains(want), "{want} in {synopsis}");
    }
    let before = std::fs::read(&page).unwrap();
    std::fs::write(&page, "mine\n").unwrap();
    let (_, err) = run(bin_cmd().args(["man", "--output"]).arg(&out_dir), 2);
    assert!(err.contains("already exists; nothing was written"), "{err}");
    assert_eq!(std::fs::read(&page).unwrap(), b"mine\n");
    run(
        bin_cmd().args(["man", "--force", "--output"]).arg(&out_dir),
        0,
    );
    assert_eq!(std::fs::read(&page).unwrap(), before);
    // Without --output, the top page on stdout.
    let (top, _) = run(bin_cmd().arg("man"), 0);
    assert!(
        top.contains(".TH CARGO-SECURE-RELEASE 1"),
        "{}",
        &top[..200.min(top.len())]
    );
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
