//! Reports for CI: SARIF checked by Microsoft's validator (both rule sets), GitHub
//! annotations, --output, and ignores that expire (with a pinned "today").

use crate::common::*;
use std::path::{Path, PathBuf};

const TODAY: &str = "2026-11-22";

/// The fixture with one advisory, one license and profile findings.
fn mixed() -> Fixture {
    let f = Fixture::new(
        "mixed",
        "[dependencies]\ntime = \"=0.1.43\"\n\n[profile.release]\nlto = \"thin\"\n",
    )
    .lock();
    f.write("deny.toml", "[licenses]\nallow = [\"Apache-2.0\"]\n");
    f
}

fn audit_at(f: &Fixture, today: &str) -> assert_cmd::Command {
    let mut c = f.audit();
    c.env("CARGO_SECURE_RELEASE_TODAY", today);
    c
}

/// `SARIF_MULTITOOL`, else the copy `.ci/run` installs with npm.
fn validator() -> PathBuf {
    if let Some(p) = std::env::var_os("SARIF_MULTITOOL") {
        return p.into();
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let p = Path::new(&home)
        .join(".cache/cargo-secure-release/sarif/node_modules/.bin/sarif-multitool");
    assert!(
        p.exists(),
        "SARIF validator not found at {}: run `npm install --prefix ~/.cache/cargo-secure-release/sarif @microsoft/sarif-multitool` (as `cargo xtask test` does) or set SARIF_MULTITOOL",
        p.display()
    );
    p
}

fn validate(sarif: &Path, kind: &str) -> Vec<String> {
    let log = sarif.with_extension(format!("{kind}.log.sarif"));
    let out = std::process::Command::new(validator())
        .arg("validate")
        .arg(sarif)
        .args(["--rule-kind", kind, "--log", "ForceOverwrite", "--output"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "validator: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["results"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["level"] == "error" || r["level"].is_null())
        .map(|r| r.to_string())
        .collect()
}

#[test]
fn sarif_is_golden_and_accepted_by_both_validator_rule_sets() {
    let f = mixed();
    let out_file = f.path().join("audit.sarif");
    let (stdout, stderr) = run(
        audit_at(&f, TODAY)
            .args(["--format", "sarif", "--output"])
            .arg(&out_file),
        1,
    );
    assert!(stdout.is_empty(), "--output keeps stdout clean: {stdout}");
    assert!(
        stderr.contains("release blocked: "),
        "human summary on stderr: {stderr}"
    );
    let wrote = format!("wrote {} (", out_file.display());
    assert!(
        stderr.lines().last().is_some_and(|l| l.starts_with(&wrote)),
        "the last stderr line says what was written: {stderr}"
    );
    for kind in ["Sarif", "Gh"] {
        let errors = validate(&out_file, kind);
        assert!(errors.is_empty(), "{kind} validation errors: {errors:#?}");
    }
    let text = std::fs::read_to_string(&out_file).unwrap();
    let root = format!("file://{}/", f.path().display());
    let normalized = text
        .replace(&root, "file:///ROOT/")
        .replace(&format!("\"{}\"", env!("CARGO_PKG_VERSION")), "\"VERSION\"");
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/mixed.sarif.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &normalized).unwrap();
    }
    assert_eq!(
        normalized,
        std::fs::read_to_string(&golden).unwrap(),
        "golden SARIF (UPDATE_GOLDEN=1 to refresh)"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let adv = results
        .iter()
        .find(|r| r["ruleId"] == "RUSTSEC-2020-0071")
        .unwrap();
    assert_eq!(adv["level"], "error");
    let loc = &adv["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "Cargo.lock");
    let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
    assert_eq!(
        f.read("Cargo.lock").lines().nth(line - 1),
        Some("name = \"time\"")
    );
    assert!(results.iter().any(|r| r["ruleId"] == "licenses/rejected"));
    assert!(results.iter().any(|r| r["ruleId"] == "profile/lto"
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Cargo.toml"));
    let rule = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "RUSTSEC-2020-0071")
        .unwrap();
    assert_eq!(
        rule["helpUri"],
        "https://rustsec.org/advisories/RUSTSEC-2020-0071"
    );
}

#[test]
fn github_annotations_then_summary() {
    let f = mixed();
    let (out, _) = run(audit_at(&f, TODAY).args(["--format", "github"]), 1);
    let line = f
        .read("Cargo.lock")
        .lines()
        .position(|l| l == "name = \"time\"")
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!("::error file=Cargo.lock,line={line},title=RUSTSEC-2020-0071::time 0.1.43: Potential segfault in the time crate%0Ahelp: ")),
        "{out}"
    );
    assert!(out.contains("::error file=Cargo.toml,line="), "{out}");
    assert!(out.contains("title=profile/lto::"), "{out}");
    assert!(
        out.lines()
            .rev()
            .find(|l| !l.is_empty())
            .unwrap()
            .starts_with("release blocked: "),
        "{out}"
    );
    for l in out.lines().filter(|l| l.starts_with("::")) {
        assert!(
            l.starts_with("::error ") || l.starts_with("::warning ") || l.starts_with("::notice "),
            "{l}"
        );
    }
}

fn with_ignore(entry: &str) -> Fixture {
    Fixture::new(
        "ign",
        &format!("[dependencies]\ntime = \"=0.1.43\"\n\n[package.metadata.secure-release]\nignore = [{entry}]\n\n{HARDENED}"),
    )
    .lock()
}

fn time_finding(out: &str) -> serde_json::Value {
    json(out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2020-0071")
        .cloned()
        .unwrap()
}

#[test]
fn an_ignore_silences_until_its_date_then_fails_with_the_reason() {
    let f = with_ignore("{ id = \"RUSTSEC-2020-0071\", reason = \"time is only used in a build script\", until = \"2026-12-31\" }");
    let (out, _) = run(audit_at(&f, "2026-12-31").args(["--format", "json"]), 0);
    let t = time_finding(&out);
    assert_eq!(t["severity"], "note");
    assert_eq!(
        t["ignored"]["reason"],
        "time is only used in a build script"
    );
    assert_eq!(t["ignored"]["until"], "2026-12-31");
    assert_eq!(t["ignored"]["source"], "Cargo.toml");
    assert_eq!(t["ignored"]["severity"], "error");

    let (out, _) = run(audit_at(&f, "2027-01-01").args(["--format", "json"]), 1);
    let t = time_finding(&out);
    assert_eq!(t["severity"], "error");
    assert!(t["ignored"].is_null());
    let msg = t["message"].as_str().unwrap();
    assert!(
        msg.contains(
            "the ignore expired on 2026-12-31 (reason: time is only used in a build script)"
        ),
        "{msg}"
    );
}

#[test]
fn an_ignore_needs_a_reason_and_a_stale_one_warns() {
    let f = with_ignore("{ id = \"RUSTSEC-2020-0071\" }");
    let (_, err) = run(&mut audit_at(&f, TODAY), 2);
    assert!(err.lines().next().unwrap().contains("Cargo.toml"), "{err}");
    assert!(err.contains("has no `reason`"), "{err}");

    let f = with_ignore("{ id = \"RUSTSEC-2020-0071\", reason = \"r\" }, { id = \"RUSTSEC-2019-0001\", reason = \"old\" }");
    let (out, _) = run(audit_at(&f, TODAY).args(["--format", "json"]), 0);
    let r = json(&out);
    let stale = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ignore-unused")
        .unwrap();
    assert_eq!(stale["severity"], "warning");
    assert!(stale["message"]
        .as_str()
        .unwrap()
        .contains("RUSTSEC-2019-0001"));
}

#[test]
fn deny_toml_and_cargo_audit_ignores_are_honoured() {
    let f = Fixture::new(
        "dign",
        &format!("[dependencies]\ntime = \"=0.1.43\"\n\n{HARDENED}"),
    )
    .lock();
    f.write(
        "deny.toml",
        "[advisories]\nignore = [{ id = \"RUSTSEC-2020-0071\", reason = \"vendored fix\" }]\n\n[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n",
    );
    let (out, _) = run(audit_at(&f, TODAY).args(["--format", "json"]), 0);
    let t = time_finding(&out);
    assert_eq!(t["ignored"]["source"], "deny.toml");
    assert_eq!(t["ignored"]["reason"], "vendored fix");

    let g = Fixture::new(
        "aign",
        &format!("[dependencies]\ntime = \"=0.1.43\"\n\n{HARDENED}"),
    )
    .lock();
    g.write(
        ".cargo/audit.toml",
        "[advisories]\nignore = [\"RUSTSEC-2020-0071\"]\n",
    );
    let (out, _) = run(audit_at(&g, TODAY).args(["--format", "json"]), 0);
    let t = time_finding(&out);
    assert_eq!(t["ignored"]["source"], ".cargo/audit.toml");
    assert_eq!(t["severity"], "note");
}

/// Paths are URI references in SARIF: a workspace under a directory named with a
/// space, `#`, `%` and non-ASCII, and an artifact whose name holds a newline, give
/// percent-encoded URIs that both validator rule sets accept.
#[test]
fn sarif_uris_are_encoded_whatever_the_path_holds() {
    let f = mixed();
    let tmp = tempfile::TempDir::new().unwrap();
    let root = tmp.path().join("a b#%é").join("p");
    copy_dir(f.path(), &root);
    let artifact = root.join("odd\nname bin");
    std::fs::copy("/bin/true", &artifact).unwrap();
    let out_file = f.path().join("odd.sarif");
    let mut c = bin();
    c.current_dir(&root)
        .env("CARGO_SECURE_RELEASE_TODAY", TODAY)
        .args(["audit", "--offline", "--no-cache", "--advisory-db"])
        .arg(advisory_db())
        .args(["--format", "sarif", "--output"])
        .arg(&out_file)
        .arg("--artifact")
        .arg(&artifact);
    run(&mut c, 1);
    for kind in ["Sarif", "Gh"] {
        let errors = validate(&out_file, kind);
        assert!(errors.is_empty(), "{kind} validation errors: {errors:#?}");
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let base = v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(base.ends_with("/a%20b%23%25%C3%A9/p/"), "{base}");
    let uris: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"Cargo.lock"), "{uris:?}");
    assert!(uris.contains(&"odd%0Aname%20bin"), "{uris:?}");
    for u in &uris {
        assert!(!u.contains([' ', '\n', '#']), "{u}");
    }
}
