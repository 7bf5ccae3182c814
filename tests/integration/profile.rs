//! The effective release profile: every source of a value, and `--fix`.

use crate::common::*;

fn profile_findings(
    f: &Fixture,
    args: &[&str],
    envs: &[(&str, &str)],
    code: i32,
) -> Vec<serde_json::Value> {
    let mut c = f.audit();
    c.args(["--format", "json"]).args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    let (out, _) = run(&mut c, code);
    findings(&json(&out), "profile")
        .into_iter()
        .cloned()
        .collect()
}

fn by_code<'a>(fs: &'a [serde_json::Value], code: &str) -> &'a serde_json::Value {
    fs.iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no `{code}` finding in {fs:#?}"))
}

#[test]
fn cargo_defaults_fail_all_three_rules() {
    let f = Fixture::new("defaults", "").lock();
    let fs = profile_findings(&f, &[], &[], 1);
    assert_eq!(fs.len(), 3, "{fs:#?}");
    let lto = by_code(&fs, "lto");
    assert_eq!(lto["severity"], "error");
    assert!(
        lto["message"]
            .as_str()
            .unwrap()
            .contains("`lto` is false for"),
        "{lto}"
    );
    assert!(
        lto["message"]
            .as_str()
            .unwrap()
            .contains("Cargo default for `release`"),
        "{lto}"
    );
    // debug is off in release, so Cargo strips debuginfo by default, not symbols.
    assert!(by_code(&fs, "strip")["message"]
        .as_str()
        .unwrap()
        .contains("\"debuginfo\""));
    assert!(by_code(&fs, "codegen-units")["message"]
        .as_str()
        .unwrap()
        .contains("is 16"));
}

#[test]
fn aliases_pass() {
    // lto = true is "fat", strip = true is "symbols".
    let f = Fixture::new(
        "alias",
        "[profile.release]\nlto = true\ncodegen-units = 1\nstrip = true\n",
    )
    .lock();
    assert!(profile_findings(&f, &[], &[], 0).is_empty());
}

#[test]
fn manifest_values_are_reported_with_file_and_line() {
    let f = Fixture::new(
        "manifest",
        "[profile.release]\nlto = \"thin\"\ncodegen-units = 1\nstrip = \"debuginfo\"\n",
    )
    .lock();
    let fs = profile_findings(&f, &[], &[], 1);
    let lto = by_code(&fs, "lto");
    let line = lto["location"]["line"].as_u64().unwrap() as usize;
    assert_eq!(
        f.read("Cargo.toml").lines().nth(line - 1),
        Some("lto = \"thin\"")
    );
    assert!(lto["message"]
        .as_str()
        .unwrap()
        .contains(&format!("Cargo.toml:{line} [profile.release]")));
    assert!(by_code(&fs, "strip")["message"]
        .as_str()
        .unwrap()
        .contains("\"debuginfo\""));
    assert!(fs.iter().all(|f| f["code"] != "codegen-units"));
}

#[test]
fn inherits_chain_of_two_levels() {
    let f = Fixture::new(
        "chain",
        "[profile.release]\nlto = \"fat\"\ncodegen-units = 1\nstrip = true\n\n[profile.middle]\ninherits = \"release\"\ncodegen-units = 4\n\n[profile.dist]\ninherits = \"middle\"\n",
    )
    .lock();
    assert!(profile_findings(&f, &[], &[], 0).is_empty());
    let fs = profile_findings(&f, &["--profile", "dist"], &[], 1);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    let cgu = by_code(&fs, "codegen-units");
    let msg = cgu["message"].as_str().unwrap();
    assert!(msg.contains("`dist` (inherits middle → release)"), "{msg}");
    assert!(msg.contains("[profile.middle]"), "{msg}");
}

#[test]
fn policy_names_the_released_profile() {
    let f = Fixture::new(
        "policy",
        "[package.metadata.secure-release.profile]\nname = \"dist\"\n\n[profile.dist]\ninherits = \"release\"\nlto = \"fat\"\ncodegen-units = 1\nstrip = true\n",
    )
    .lock();
    assert!(profile_findings(&f, &[], &[], 0).is_empty());
}

#[test]
fn cargo_config_overrides_the_manifest_and_is_not_fixed_there() {
    let f = Fixture::new("cfg", HARDENED).lock();
    f.write(".cargo/config.toml", "[profile.release]\nlto = \"thin\"\n");
    let fs = profile_findings(&f, &[], &[], 1);
    let lto = by_code(&fs, "lto");
    assert_eq!(lto["location"]["file"], ".cargo/config.toml");
    assert_eq!(lto["location"]["line"], 2);
    assert!(lto["help"]
        .as_str()
        .unwrap()
        .contains("overrides Cargo.toml"));
    let before = f.read("Cargo.toml");
    profile_findings(&f, &["--fix"], &[], 1);
    assert_eq!(
        before,
        f.read("Cargo.toml"),
        "--fix must not write a change that would not take effect"
    );
}

#[test]
fn environment_overrides_config_and_manifest() {
    let f = Fixture::new("env", HARDENED).lock();
    f.write(
        ".cargo/config.toml",
        "[profile.release]\ncodegen-units = 1\n",
    );
    let fs = profile_findings(&f, &[], &[("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "8")], 1);
    let cgu = by_code(&fs, "codegen-units");
    assert!(cgu["message"]
        .as_str()
        .unwrap()
        .contains("CARGO_PROFILE_RELEASE_CODEGEN_UNITS"));
    assert!(cgu["help"].as_str().unwrap().contains("unset it"));
    // An env var with the required value passes.
    let f2 = Fixture::new("env2", "").lock();
    let fs = profile_findings(
        &f2,
        &[],
        &[
            ("CARGO_PROFILE_RELEASE_LTO", "true"),
            ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
            ("CARGO_PROFILE_RELEASE_STRIP", "symbols"),
        ],
        0,
    );
    assert!(fs.is_empty(), "{fs:#?}");
}

#[test]
fn per_package_overrides_that_weaken_are_errors() {
    let f = Fixture::new(
        "pkgovr",
        &format!("{HARDENED}\n[profile.release.package.\"*\"]\ncodegen-units = 16\n"),
    )
    .lock();
    let fs = profile_findings(&f, &[], &[], 1);
    let o = by_code(&fs, "codegen-units");
    assert!(
        o["message"]
            .as_str()
            .unwrap()
            .contains("[profile.release.package.\"*\"]"),
        "{o}"
    );
}

#[test]
fn member_manifest_profiles_are_warned_about() {
    let f = Fixture::new(
        "root",
        &format!("[workspace]\nmembers = [\"member\"]\n\n{HARDENED}"),
    );
    f.write(
        "member/Cargo.toml",
        "[package]\nname = \"member\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[profile.release]\nlto = false\n",
    );
    f.write("member/src/lib.rs", "");
    let f = f.lock();
    let fs = profile_findings(&f, &[], &[], 0);
    let w = by_code(&fs, "member-profile");
    assert_eq!(w["severity"], "warning");
    assert_eq!(w["location"]["file"], "member/Cargo.toml");
}

#[test]
fn accepted_values_become_notes_and_hardening_is_opt_in() {
    let f = Fixture::new(
        "accept",
        "[package.metadata.secure-release.profile]\nhardening = [\"panic\"]\naccept.strip = { value = \"debuginfo\", reason = \"symbols for backtraces\" }\n\n[profile.release]\nlto = \"fat\"\ncodegen-units = 1\nstrip = \"debuginfo\"\n",
    )
    .lock();
    let fs = profile_findings(&f, &[], &[], 0);
    let strip = by_code(&fs, "strip");
    assert_eq!(strip["severity"], "note");
    assert!(strip["message"]
        .as_str()
        .unwrap()
        .contains("symbols for backtraces"));
    let panic = by_code(&fs, "panic");
    assert_eq!(panic["severity"], "warning");
    // overflow-checks is not enabled, so it is not reported.
    assert!(fs.iter().all(|f| f["code"] != "overflow-checks"));
}

#[test]
fn wrong_value_types_in_config_are_findings_not_panics() {
    let f = Fixture::new("types", HARDENED).lock();
    f.write(
        ".cargo/config.toml",
        "[profile.release]\ncodegen-units = \"one\"\n",
    );
    let fs = profile_findings(&f, &[], &[], 1);
    let cgu = by_code(&fs, "codegen-units");
    assert!(
        cgu["message"]
            .as_str()
            .unwrap()
            .contains("`codegen-units = \"one\"` is not valid"),
        "{cgu}"
    );
}

#[test]
fn wrong_value_type_in_manifest_is_a_clean_error() {
    let f = Fixture::new("lto5", "").lock();
    let manifest = f.read("Cargo.toml");
    f.write(
        "Cargo.toml",
        &format!("{manifest}\n[profile.release]\nlto = 5\n"),
    );
    let (_, err) = run(&mut f.audit(), 2);
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("Cargo.toml"), "{err}");
}

#[test]
fn malformed_config_toml_names_file_and_line() {
    let f = Fixture::new("badcfg", HARDENED).lock();
    f.write(".cargo/config.toml", "[profile.release]\nlto = \n");
    let (_, err) = run(&mut f.audit(), 2);
    let first = err.lines().next().unwrap();
    assert!(first.contains(".cargo/config.toml:2"), "{first}");
}

#[test]
fn fix_matches_golden_files_and_is_idempotent() {
    for name in ["commented", "noprofile"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fix");
        let before = std::fs::read_to_string(dir.join(format!("{name}.before.toml"))).unwrap();
        let after = std::fs::read_to_string(dir.join(format!("{name}.after.toml"))).unwrap();
        let f = Fixture::new(name, "");
        f.write("Cargo.toml", &before);
        let f = f.lock();
        let fs = profile_findings(&f, &["--fix"], &[], 0);
        assert!(fs.is_empty(), "after --fix the check passes: {fs:#?}");
        assert_eq!(f.read("Cargo.toml"), after, "golden {name}");
        profile_findings(&f, &["--fix"], &[], 0);
        assert_eq!(
            f.read("Cargo.toml"),
            after,
            "second run changes nothing ({name})"
        );
    }
}

#[test]
fn fix_dry_run_prints_a_diff_and_writes_nothing() {
    let f = Fixture::new("dry", "[profile.release]\nlto = \"thin\"\n").lock();
    let before = snapshot(f.path());
    let (out, _) = run(f.audit().args(["--fix", "--dry-run"]), 1);
    assert!(
        out.starts_with("--- a/Cargo.toml\n+++ b/Cargo.toml\n"),
        "{out}"
    );
    assert!(out.contains("-lto = \"thin\"\n+lto = \"fat\"\n"), "{out}");
    assert_eq!(before, snapshot(f.path()));
}

#[cfg(unix)]
#[test]
fn fix_keeps_permissions_and_refuses_read_only_manifests() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new("perm", "").lock();
    let manifest = f.path().join("Cargo.toml");
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (_, err) = run(f.audit().arg("--fix"), 0);
    // The write says what it wrote: the file, the table and each key set.
    let said = format!(
        "fixed {}: [profile.release] lto = \"fat\", codegen-units = 1, strip = \"symbols\"",
        manifest.display()
    );
    assert!(err.lines().any(|l| l == said), "{said:?} in {err}");
    assert_eq!(
        std::fs::metadata(&manifest).unwrap().permissions().mode() & 0o777,
        0o640
    );

    let g = Fixture::new("ro", "").lock();
    let manifest = g.path().join("Cargo.toml");
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = snapshot(g.path());
    let (_, err) = run(g.audit().arg("--fix"), 2);
    assert!(
        err.lines().next().unwrap().contains("is read-only"),
        "{err}"
    );
    assert_eq!(before, snapshot(g.path()));
}

/// Regression: `--fix` turned a CRLF manifest into LF (every line changed) and
/// dropped its UTF-8 BOM.
#[test]
fn fix_keeps_crlf_line_endings_and_the_bom() {
    let f = Fixture::new("crlf", "[profile.release]\nlto = \"thin\" # why\n").lock();
    let lf = f.read("Cargo.toml");
    let crlf = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
    f.write("Cargo.toml", &crlf);
    run(f.audit().arg("--fix"), 0);
    let after = f.read("Cargo.toml");
    assert!(after.starts_with('\u{feff}'), "BOM kept");
    assert!(
        !after.replace("\r\n", "").contains('\n'),
        "only CRLF: {after:?}"
    );
    assert!(
        after.contains("lto = \"fat\" # why\r\ncodegen-units = 1\r\nstrip = \"symbols\"\r\n"),
        "{after:?}"
    );
    let unchanged: Vec<&str> = crlf
        .split("\r\n")
        .filter(|l| !l.starts_with("lto"))
        .collect();
    for line in unchanged {
        assert!(after.contains(line), "line {line:?} kept");
    }
}
