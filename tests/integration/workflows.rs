//! The workflow check (`audit` reading `.github/workflows` and `action.yml`): every
//! rule at its exact file:line:column on the fixture workflows and nothing at their
//! near misses, through the binary's JSON, SARIF and annotations; ignores; hostile
//! YAML; `--fix`; and this repository's own workflows.

use crate::common::*;
use std::path::{Path, PathBuf};

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workflows/cases")
}

/// Every finding the fixtures must give, and no other: (file, code, line, column,
/// the text that starts at that column).
const EXPECTED: &[(&str, &str, usize, usize, &str)] = &[
    (
        ".github/workflows/artipacked.yml",
        "artipacked",
        9,
        9,
        "uses: actions/checkout@11bd719",
    ),
    (
        ".github/workflows/artipacked.yml",
        "artipacked",
        10,
        9,
        "name: second checkout",
    ),
    (
        ".github/workflows/cache-poisoning.yml",
        "cache-poisoning",
        14,
        9,
        "uses: Swatinem/rust-cache@9d47",
    ),
    (
        ".github/workflows/cache-poisoning.yml",
        "cache-poisoning",
        16,
        9,
        "uses: actions/setup-node@49933",
    ),
    (
        ".github/workflows/cache-poisoning.yml",
        "cache-poisoning",
        19,
        9,
        "uses: actions/cache@5a3ec84eff",
    ),
    (
        ".github/workflows/cargo-install.yml",
        "cargo-install-unlocked",
        9,
        14,
        "cargo install cargo-auditable",
    ),
    (
        ".github/workflows/cargo-install.yml",
        "cargo-install-unpinned",
        9,
        14,
        "cargo install cargo-auditable",
    ),
    (
        ".github/workflows/cargo-install.yml",
        "cargo-install-unpinned",
        11,
        11,
        "cargo +stable install --git",
    ),
    (
        ".github/workflows/cargo-install.yml",
        "cargo-install-unpinned",
        13,
        11,
        "cargo install --locked cargo-deny",
    ),
    (
        ".github/workflows/dangerous-triggers.yml",
        "dangerous-triggers",
        11,
        16,
        "${{ github.event.pull_request.",
    ),
    (
        ".github/workflows/injection.yml",
        "template-injection",
        11,
        24,
        "github.event.pull_request.titl",
    ),
    (
        ".github/workflows/injection.yml",
        "template-injection",
        14,
        29,
        "github.head_ref",
    ),
    (
        ".github/workflows/injection.yml",
        "template-injection",
        18,
        30,
        "github.event.comment.body",
    ),
    (
        ".github/workflows/permissions-top.yml",
        "excessive-permissions",
        4,
        3,
        "contents:",
    ),
    (
        ".github/workflows/permissions-top.yml",
        "excessive-permissions",
        5,
        3,
        "id-token:",
    ),
    (
        ".github/workflows/permissions-top.yml",
        "excessive-permissions",
        9,
        18,
        "write-all",
    ),
    (
        ".github/workflows/permissions.yml",
        "excessive-permissions",
        3,
        1,
        "name: permissions",
    ),
    (
        ".github/workflows/permissions.yml",
        "excessive-permissions",
        6,
        3,
        "test:",
    ),
    (
        ".github/workflows/permissions.yml",
        "excessive-permissions",
        14,
        7,
        "pull-requests:",
    ),
    (
        ".github/workflows/pipes.yml",
        "pipe-to-shell",
        9,
        14,
        "curl -sSfL",
    ),
    (
        ".github/workflows/pipes.yml",
        "rustup-pipe",
        12,
        11,
        "curl --proto",
    ),
    (
        ".github/workflows/pipes.yml",
        "pipe-to-shell",
        13,
        18,
        "wget -qO-",
    ),
    (
        ".github/workflows/publish.yml",
        "release-no-attest",
        2,
        1,
        "on:",
    ),
    (
        ".github/workflows/publish.yml",
        "release-no-audit",
        2,
        1,
        "on:",
    ),
    (
        ".github/workflows/publish.yml",
        "release-no-verify",
        2,
        1,
        "on:",
    ),
    (
        ".github/workflows/publish.yml",
        "release-unlocked-build",
        16,
        14,
        "cargo build",
    ),
    (
        ".github/workflows/publish.yml",
        "registry-token",
        17,
        14,
        "cargo publish",
    ),
    (
        ".github/workflows/rust-actions.yml",
        "toolchain-from-ref",
        9,
        15,
        "dtolnay/rust-toolchain@b3b07ba",
    ),
    (
        ".github/workflows/rust-actions.yml",
        "archived-action",
        10,
        15,
        "actions-rs/toolchain@16499b5e0",
    ),
    (
        ".github/workflows/unpinned-uses.yml",
        "unpinned-uses",
        10,
        15,
        "actions/checkout@v4",
    ),
    (
        ".github/workflows/unpinned-uses.yml",
        "unpinned-uses",
        12,
        15,
        "actions/setup-python@a26af69",
    ),
    (
        ".github/workflows/unpinned-uses.yml",
        "unpinned-uses",
        13,
        15,
        "docker://alpine:3.20",
    ),
    (
        ".github/workflows/unpinned-uses.yml",
        "unpinned-uses",
        19,
        11,
        "octo/workflows/.github/workflo",
    ),
    ("action.yml", "unpinned-uses", 6, 13, "actions/cache@v4"),
    (
        "action.yml",
        "template-injection",
        11,
        22,
        "github.event.issue.title",
    ),
];

/// A crate whose directory holds the fixture workflows (not a repository: the
/// check reads the workspace's own directory then).
fn fixture_with_cases() -> Fixture {
    let f = Fixture::new("wf", HARDENED).lock();
    copy_dir(&cases(), f.path());
    f
}

fn located(r: &serde_json::Value) -> Vec<(String, String, usize, usize)> {
    let mut v: Vec<_> = findings(r, "workflows")
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap() as usize,
                f["location"]["column"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_rule_at_its_place_and_none_at_the_near_misses() {
    let f = fixture_with_cases();
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let got = located(&r);
    let mut want: Vec<_> = EXPECTED
        .iter()
        .map(|(file, code, l, c, _)| (file.to_string(), code.to_string(), *l, *c))
        .collect();
    want.sort();
    assert_eq!(got, want, "{:#?}", findings(&r, "workflows"));
    // The place is the token at fault, read from the file itself.
    for (file, code, line, col, text) in EXPECTED {
        let src = std::fs::read_to_string(f.path().join(file)).unwrap();
        let at: String = src
            .lines()
            .nth(line - 1)
            .unwrap()
            .chars()
            .skip(col - 1)
            .collect();
        assert!(
            at.starts_with(text),
            "{file}:{line}:{col} [{code}]: `{at}` does not start with `{text}`"
        );
    }
    // Every rule of the engine is shown by some fixture.
    for rule in cargo_secure_release::workflows::rule::Rule::ALL {
        assert!(
            EXPECTED.iter().any(|e| e.1 == rule.name()),
            "no fixture for {}",
            rule.name()
        );
    }
    for finding in findings(&r, "workflows") {
        assert!(finding["help"].as_str().is_some_and(|h| !h.is_empty()));
    }
}

#[test]
fn sarif_and_annotations_carry_the_column() {
    let f = fixture_with_cases();
    let (out, _) = run(f.audit().args(["--format", "sarif"]), 1);
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    let hit = results
        .iter()
        .find(|r| {
            r["ruleId"] == "workflows/unpinned-uses"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == ".github/workflows/unpinned-uses.yml"
        })
        .expect("an unpinned-uses result");
    let region = &hit["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 10);
    assert_eq!(region["startColumn"], 15);
    let (out, _) = run(f.audit().args(["--format", "github"]), 1);
    assert!(
        out.lines().any(|l| l.starts_with(
            "::error file=.github/workflows/unpinned-uses.yml,line=10,col=15,title=workflows/unpinned-uses::"
        )),
        "{out}"
    );
    let (out, _) = run(&mut f.audit(), 1);
    assert!(out.contains("\nworkflows\n"), "{out}");
    assert!(
        out.contains("--> .github/workflows/unpinned-uses.yml:10:15"),
        "{out}"
    );
}

#[test]
fn ignores_silence_a_rule_in_one_file_until_they_expire() {
    let f = fixture_with_cases();
    let manifest = f.read("Cargo.toml");
    f.write(
        "Cargo.toml",
        &format!("{manifest}\n[package.metadata.secure-release]\nignore = [{{ id = \"workflows/unpinned-uses:.github/workflows/unpinned-uses.yml\", reason = \"vendored example\", until = \"2999-01-01\" }}]\n"),
    );
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let wf = findings(&r, "workflows");
    let in_file: Vec<_> = wf
        .iter()
        .filter(|x| {
            x["code"] == "unpinned-uses"
                && x["location"]["file"] == ".github/workflows/unpinned-uses.yml"
        })
        .collect();
    assert_eq!(in_file.len(), 4);
    for x in &in_file {
        assert_eq!(x["severity"], "note");
        assert_eq!(x["ignored"]["reason"], "vendored example");
        assert_eq!(x["ignored"]["severity"], "error");
    }
    // The same rule elsewhere is still an error.
    assert!(wf
        .iter()
        .any(|x| x["code"] == "unpinned-uses" && x["severity"] == "error"));
    // Expired: back as an error that says so.
    f.write(
        "Cargo.toml",
        &format!("{manifest}\n[package.metadata.secure-release]\nignore = [{{ id = \"workflows/unpinned-uses:.github/workflows/unpinned-uses.yml\", reason = \"vendored example\", until = \"2000-01-01\" }}]\n"),
    );
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let expired = findings(&r, "workflows")
        .into_iter()
        .filter(|x| x["location"]["file"] == ".github/workflows/unpinned-uses.yml")
        .all(|x| {
            x["severity"] == "error"
                && x["message"]
                    .as_str()
                    .unwrap()
                    .contains("the ignore expired on 2000-01-01")
        });
    assert!(expired);
}

#[test]
fn no_workflows_and_a_directory_of_them() {
    let f = Fixture::new("wf-flags", HARDENED).lock();
    // A crate without .github: no workflow finding, as before the check existed.
    let (out, _) = run(f.audit().args(["--format", "json"]), 0);
    assert!(findings(&json(&out), "workflows").is_empty());
    // --workflows DIR reads another directory; names are relative to it.
    let (out, _) = run(
        f.audit()
            .args(["--format", "json", "--workflows"])
            .arg(cases()),
        1,
    );
    let r = json(&out);
    assert_eq!(located(&r).len(), EXPECTED.len());
    // --no-workflows skips the check.
    copy_dir(&cases(), f.path());
    let (out, _) = run(f.audit().args(["--format", "json", "--no-workflows"]), 0);
    assert!(findings(&json(&out), "workflows").is_empty());
    let (_, err) = run(f.audit().args(["--workflows", "/nonexistent/dir"]), 2);
    assert!(
        err.starts_with("error: --workflows /nonexistent/dir: not a directory"),
        "{err}"
    );
}

/// Each hostile file alone in a directory: exit 2 with a first line naming the
/// file (and the place, when the parser knows it), never a panic.
#[test]
fn hostile_yaml_is_a_clear_error_naming_the_file() {
    let f = Fixture::new("wf-hostile", HARDENED).lock();
    let mut laughs =
        String::from("on: push\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        laughs.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let deep_flow = format!("on: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let mut deep_block = String::new();
    for i in 0..200 {
        deep_block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
    }
    let huge = format!("on: push\n{}", "# padding\n".repeat(120_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "laughs.yml",
            laughs.into_bytes(),
            "aliases expand to more than",
        ),
        (
            "flow.yml",
            deep_flow.into_bytes(),
            "flow.yml:1:260: not a workflow we can read: nested more than 255 brackets deep",
        ),
        ("block.yml", deep_block.into_bytes(), "levels deep"),
        ("huge.yml", huge.into_bytes(), "more than the 1048576 bytes"),
        (
            "tabs.yml",
            b"on: push\njobs:\n\tbuild:\n\t\truns-on: x\n".to_vec(),
            "tabs.yml:3:",
        ),
        (
            "dup.yml",
            b"on: push\njobs: {}\non: pull_request\n".to_vec(),
            "dup.yml:3:1: not a workflow we can read: duplicate key `on` (first at line 1)",
        ),
        (
            "latin1.yml",
            b"name: caf\xe9\non: push\n".to_vec(),
            "not UTF-8",
        ),
        (
            "list.yml",
            b"- on\n- push\n".to_vec(),
            "list.yml:1:1: not a workflow: the document is not a mapping",
        ),
    ];
    for (name, bytes, says) in cases {
        let dir = tempfile::TempDir::new().unwrap();
        let wf = dir.path().join(".github/workflows");
        std::fs::create_dir_all(&wf).unwrap();
        std::fs::write(wf.join(name), &bytes).unwrap();
        let (_, err) = run(f.audit().arg("--workflows").arg(dir.path()), 2);
        let first = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(first.contains(name), "{name}: {err}");
        assert!(first.contains(says), "{name}: expected `{says}` in: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

const FIXABLE: &str = "# Release builds.\nname: fixable\non: push\n\n# The jobs.\njobs:\n  dist:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          path: b # kept\n      - run: |\n          cargo install   cargo-auditable@0.7.1 # comment kept\n      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n        with: { path: dist }\n";

const FIXED: &str = "# Release builds.\nname: fixable\non: push\n\npermissions:\n  contents: read\n\n# The jobs.\njobs:\n  dist:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: false\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: false\n          path: b # kept\n      - run: |\n          cargo install --locked   cargo-auditable@0.7.1 # comment kept\n      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n        with: { path: dist }\n";

#[test]
fn fix_edits_the_text_in_place_and_dry_run_shows_the_diff() {
    let f = Fixture::new("wf-fix", HARDENED).lock();
    f.write(".github/workflows/release.yml", FIXABLE);
    let before = snapshot(f.path());
    let (out, _) = run(f.audit().args(["--fix", "--dry-run"]), 1);
    assert!(
        out.contains("--- a/.github/workflows/release.yml\n+++ b/.github/workflows/release.yml\n"),
        "{out}"
    );
    assert!(out.contains("+permissions:\n+  contents: read\n"), "{out}");
    assert_eq!(snapshot(f.path()), before, "--dry-run wrote nothing");
    let (out, err) = run(f.audit().args(["--fix", "--format", "json"]), 0);
    assert_eq!(f.read(".github/workflows/release.yml"), FIXED);
    assert!(
        err.contains("fixed ")
            && err
                .contains("release.yml: artipacked, cargo-install-unlocked, excessive-permissions"),
        "{err}"
    );
    assert!(findings(&json(&out), "workflows").is_empty(), "{out}");
    // CRLF files stay CRLF.
    f.write(
        ".github/workflows/release.yml",
        &FIXABLE.replace('\n', "\r\n"),
    );
    run(f.audit().arg("--fix"), 0);
    assert_eq!(
        f.read(".github/workflows/release.yml"),
        FIXED.replace('\n', "\r\n")
    );
}

/// The done-when of the check: this repository's own workflows and action have no
/// finding.
#[test]
fn this_repositorys_workflows_have_no_finding() {
    use cargo_secure_release::workflows;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = workflows::files_of(root).unwrap();
    assert!(
        files.len() >= 3,
        "{:?}",
        files.iter().map(|f| &f.1).collect::<Vec<_>>()
    );
    for src in workflows::read(files).unwrap() {
        let hits = workflows::check(&src).unwrap();
        assert!(hits.is_empty(), "{}: {hits:#?}", src.name);
    }
}
