//! The workflow check against zizmor (PyPI `zizmor`, run `--offline`), on the
//! committed workflows of ten Rust projects (tests/fixtures/workflows/real, each
//! with a SOURCE naming its repository and commit). For the audits both tools have,
//! every zizmor finding is at a file and line where we report the same rule, or the
//! difference is a row of the table in docs/workflows.md, which this test reads and
//! checks (a row that explains nothing any more fails too). Our Rust findings on the
//! same files are the other table there.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn real() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workflows/real")
}

fn zizmor() -> PathBuf {
    let dir = std::env::var_os("CSR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME"))
                .join(".cache/cargo-secure-release/venv")
        });
    let p = dir.join("bin").join("zizmor");
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask test`, which installs it",
        p.display()
    );
    p
}

/// zizmor's audit names for the rules both tools have (ours on the left).
const SHARED: &[(&str, &str)] = &[
    ("unpinned-uses", "unpinned-uses"),
    ("excessive-permissions", "excessive-permissions"),
    ("template-injection", "template-injection"),
    ("dangerous-triggers", "dangerous-triggers"),
    ("cache-poisoning", "cache-poisoning"),
    ("artipacked", "artipacked"),
    ("archived-action", "archived-uses"),
];

const RUST: &[&str] = &[
    "cargo-install-unlocked",
    "cargo-install-unpinned",
    "rustup-pipe",
    "toolchain-from-ref",
    "registry-token",
    "release-unlocked-build",
    "release-no-audit",
    "release-no-verify",
    "release-no-attest",
];

const NO_UPLOAD: &str = "a checkout in a job that uploads no artifact";

/// The rows of the table under `heading` in docs/workflows.md, cells unquoted.
fn table(heading: &str) -> Vec<Vec<String>> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/workflows.md"))
            .unwrap();
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/workflows.md has no `{heading}`"));
    text[start + heading.len() + 2..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// Whether the step starting at `line` is in a job with no upload-artifact step.
fn job_uploads_nothing(file: &Path, line: usize) -> bool {
    use cargo_secure_release::workflows::yaml;
    let text = std::fs::read_to_string(file).unwrap();
    let root = yaml::parse(&text).unwrap().unwrap();
    for (_, job) in root.get("jobs").map(|j| j.entries()).unwrap_or(&[]) {
        let steps = job.get("steps").map(|s| s.items()).unwrap_or(&[]);
        if steps.iter().any(|s| s.start.line == line) {
            return !steps.iter().any(|s| {
                s.get("uses")
                    .and_then(|u| u.as_str())
                    .is_some_and(|u| u.starts_with("actions/upload-artifact"))
            });
        }
    }
    panic!("{}:{line}: no step starts there", file.display());
}

/// The expression context at a 1-based line and 0-based column (`needs.x.outputs.y`).
fn context_at(file: &Path, line: usize, col: usize) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let l = text.lines().nth(line - 1).unwrap();
    l[col..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || "._-[]'*".contains(*c))
        .collect()
}

#[test]
fn zizmor_findings_are_ours_or_explained_and_our_rust_findings_are_listed() {
    let real = real();
    let mut dirs: Vec<String> = std::fs::read_dir(&real)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "{dirs:?}");
    for d in &dirs {
        assert!(real.join(d).join("SOURCE").is_file(), "{d} has no SOURCE");
    }

    // zizmor: the primary location of each finding, by file and line.
    let out = Command::new(zizmor())
        .args(["--offline", "--no-config", "--format", "json"])
        .args(&dirs)
        .current_dir(&real)
        .output()
        .unwrap();
    let z: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "zizmor printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let shared_z: BTreeSet<&str> = SHARED.iter().map(|(_, z)| *z).collect();
    let mut theirs = Vec::new();
    for f in z.as_array().unwrap() {
        let ident = f["ident"].as_str().unwrap();
        if !shared_z.contains(ident) {
            continue;
        }
        for loc in f["locations"].as_array().unwrap() {
            if loc["symbolic"]["kind"] != "Primary" {
                continue;
            }
            let file = loc["symbolic"]["key"]["Local"]["verbatim_path"]
                .as_str()
                .unwrap()
                .to_string();
            let p = &loc["concrete"]["location"]["start_point"];
            theirs.push((
                ident.to_string(),
                file,
                p["row"].as_u64().unwrap() as usize + 1,
                p["column"].as_u64().unwrap() as usize,
            ));
        }
    }
    assert!(theirs.len() > 100, "zizmor found little: {}", theirs.len());

    // Ours: the audit's JSON with --workflows on each project.
    let f = Fixture::new("wf-real", HARDENED).lock();
    let mut ours: BTreeSet<(String, String, usize)> = BTreeSet::new();
    let mut rust: BTreeSet<(String, String)> = BTreeSet::new();
    for d in &dirs {
        let out = f
            .audit()
            .args(["--format", "json", "--workflows"])
            .arg(real.join(d))
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{d}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = json(&String::from_utf8_lossy(&out.stdout));
        for x in findings(&r, "workflows") {
            let code = x["code"].as_str().unwrap();
            let file = format!("{d}/{}", x["location"]["file"].as_str().unwrap());
            let line = x["location"]["line"].as_u64().unwrap() as usize;
            let col = x["location"]["column"].as_u64().unwrap();
            if let Some((_, z)) = SHARED.iter().find(|(o, _)| *o == code) {
                ours.insert((z.to_string(), file.clone(), line));
            }
            if RUST.contains(&code) {
                rust.insert((code.to_string(), format!("{file}:{line}:{col}")));
            }
        }
    }

    // Every zizmor finding: ours at the same place, or a row of the table.
    let rows = table("### Differences");
    let mut used = vec![false; rows.len()];
    let mut unexplained = Vec::new();
    let mut matched = 0;
    for (ident, file, line, col) in &theirs {
        if ours.contains(&(ident.clone(), file.clone(), *line)) {
            matched += 1;
            continue;
        }
        let path = real.join(file);
        let at = format!("{file}:{line}");
        let row = rows.iter().position(|r| {
            r[0] == *ident
                && (r[1] == at
                    || (r[1] == NO_UPLOAD
                        && ident == "artipacked"
                        && job_uploads_nothing(&path, *line))
                    || (ident == "template-injection"
                        && !r[1].contains(' ')
                        && !r[1].contains(':')
                        && context_at(&path, *line, *col).starts_with(&r[1])))
        });
        match row {
            Some(i) => used[i] = true,
            None => unexplained.push(format!(
                "{ident} at {at} (context `{}`)",
                context_at(&path, *line, *col)
            )),
        }
    }
    assert!(
        unexplained.is_empty(),
        "zizmor findings we neither report nor explain in docs/workflows.md:\n{}",
        unexplained.join("\n")
    );
    let stale: Vec<_> = rows
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(r, _)| r.join(" | "))
        .collect();
    assert!(stale.is_empty(), "rows that explain nothing: {stale:?}");
    assert!(
        matched > 400,
        "only {matched} of zizmor's findings are ours"
    );

    // Our Rust findings on the same files, as the second table lists them.
    let listed: BTreeSet<(String, String)> = table("### Our Rust findings on these workflows")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let missing: Vec<_> = rust.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&rust).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/workflows.md's list of our Rust findings is out of date:\nnot listed: {missing:#?}\nlisted, not found: {extra:#?}"
    );
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for (code, _) in &rust {
        *per.entry(code.as_str()).or_default() += 1;
    }
    eprintln!(
        "zizmor: {} findings of shared audits, {matched} at our places; ours, Rust-specific: {per:?}",
        theirs.len()
    );
}
