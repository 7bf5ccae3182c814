//! Each bad input: exit 2, a first line naming the file and the fix, no panic, nothing written.

use crate::common::*;

fn assert_clean_error(err: &str) {
    assert!(err.starts_with("error: "), "first line is an error: {err}");
    assert!(!err.contains("panicked"), "no panic: {err}");
    assert!(!err.contains("RUST_BACKTRACE"), "no backtrace: {err}");
}

#[test]
fn malformed_deny_toml_names_file_and_line() {
    let f = Fixture::new("bad", "[dependencies]\n").lock();
    f.write("deny.toml", "[licenses]\nallow = [\"MIT\"\n");
    let before = snapshot(f.path());
    let (_, err) = run(&mut f.audit(), 2);
    assert_clean_error(&err);
    let first = err.lines().next().unwrap();
    assert!(first.contains("deny.toml:"), "{first}");
    assert!(first.contains("invalid TOML"), "{first}");
    assert_eq!(before, snapshot(f.path()));
}

#[test]
fn unknown_deny_toml_value_names_file_and_line() {
    let f = Fixture::new("bad", "[dependencies]\n").lock();
    f.write(
        "deny.toml",
        "[advisories]\n\n[bans]\nmultiple-versions = \"sometimes\"\n",
    );
    let (_, err) = run(&mut f.audit(), 2);
    assert_clean_error(&err);
    let first = err.lines().next().unwrap();
    assert!(first.contains("deny.toml:4"), "{first}");
}

#[test]
fn malformed_cargo_toml_names_the_manifest() {
    let f = Fixture::new("bad", "[dependencies]\n").lock();
    f.write("Cargo.toml", "[package\nname = \"bad\"\n");
    let (_, err) = run(&mut f.audit(), 2);
    assert_clean_error(&err);
    let first = err.lines().next().unwrap();
    assert!(first.contains("Cargo.toml:1: "), "{first}");
    assert!(err.contains("fix the manifest"), "{err}");
}

#[test]
fn outdated_lockfile_under_locked_is_refused_and_not_rewritten() {
    let f = Fixture::new("stale", "[dependencies]\n").lock();
    f.write(
        "Cargo.toml",
        "[package]\nname = \"stale\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n",
    );
    let before = snapshot(f.path());
    let (_, err) = run(f.audit().arg("--locked"), 2);
    assert_clean_error(&err);
    assert!(
        err.lines()
            .next()
            .unwrap()
            .contains("Cargo.lock is out of date"),
        "{err}"
    );
    assert!(err.contains("cargo update"), "{err}");
    assert_eq!(before, snapshot(f.path()));
}

#[test]
fn missing_lockfile_under_locked_is_refused_without_creating_one() {
    let f = Fixture::new("nolock", "[dependencies]\n");
    let (_, err) = run(f.audit().arg("--locked"), 2);
    assert_clean_error(&err);
    assert!(
        err.lines().next().unwrap().contains("no Cargo.lock"),
        "{err}"
    );
    assert!(err.contains("cargo generate-lockfile"), "{err}");
    assert!(!f.path().join("Cargo.lock").exists());
}

#[test]
fn manifest_path_that_does_not_exist() {
    let (_, err) = run(
        bin().args(["audit", "--manifest-path", "/nonexistent/Cargo.toml"]),
        2,
    );
    assert_clean_error(&err);
    assert!(err.contains("/nonexistent/Cargo.toml"), "{err}");
    assert!(err.contains("--manifest-path"), "{err}");
}

#[test]
fn advisory_dir_missing_or_empty() {
    let f = Fixture::new("db", "[dependencies]\n").lock();
    let empty = tempfile::TempDir::new().unwrap();
    let (_, err) = run(&mut f.audit_with_db(empty.path()), 2);
    assert_clean_error(&err);
    assert!(err.contains("has no `crates` directory"), "{err}");
    assert!(err.contains("--advisory-db"), "{err}");
    std::fs::create_dir(empty.path().join("crates")).unwrap();
    let (_, err) = run(&mut f.audit_with_db(empty.path()), 2);
    assert_clean_error(&err);
    assert!(err.contains("failed to load any advisories"), "{err}");
}

fn broken_db(edit: impl Fn(&str) -> String) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::TempDir::new().unwrap();
    copy_dir(advisory_db(), dir.path());
    let file = dir.path().join("crates/time/RUSTSEC-2020-0071.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, edit(&text)).unwrap();
    (dir, file)
}

#[test]
fn advisory_that_makes_cargo_deny_panic_is_named() {
    let f = Fixture::new("db", "[dependencies]\n").lock();
    // An unquoted id makes cargo-deny's parser panic.
    let (db, file) =
        broken_db(|t| t.replace("id = \"RUSTSEC-2020-0071\"", "id = RUSTSEC-2020-0071"));
    let (_, err) = run(&mut f.audit_with_db(db.path()), 2);
    assert_clean_error(&err);
    assert!(
        err.lines()
            .next()
            .unwrap()
            .contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn advisory_without_toml_block_is_named() {
    let f = Fixture::new("db", "[dependencies]\n").lock();
    let (db, file) = broken_db(|_| "not an advisory\n".into());
    let (_, err) = run(&mut f.audit_with_db(db.path()), 2);
    assert_clean_error(&err);
    assert!(err.contains(&file.display().to_string()), "{err}");
}

#[test]
fn advisory_without_package_is_named() {
    let f = Fixture::new("db", "[dependencies]\n").lock();
    let (db, file) = broken_db(|t| t.replace("package = \"time\"\n", ""));
    let (_, err) = run(&mut f.audit_with_db(db.path()), 2);
    assert_clean_error(&err);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("no `package`"), "{err}");
}

#[test]
fn missing_explicit_config_is_an_error() {
    let f = Fixture::new("cfg", "[dependencies]\n").lock();
    let (_, err) = run(f.audit().args(["--config", "nope.toml"]), 2);
    assert_clean_error(&err);
    assert!(err.contains("nope.toml does not exist"), "{err}");
}

#[test]
fn no_advisory_database_offline_names_the_flags_without_a_backtrace() {
    let f = Fixture::new("nodb", "[dependencies]\n").lock();
    let empty = tempfile::TempDir::new().unwrap();
    f.write(
        "deny.toml",
        &format!(
            // RustSec itself has the embedded snapshot to fall back on; another
            // database has nothing.
            "[advisories]\ndb-path = \"{}\"\ndb-urls = [\"https://github.com/example/advisory-db\"]\n\n[licenses]\nallow = [\"MIT\"]\n",
            empty.path().display()
        ),
    );
    let (_, err) = run(
        bin()
            .current_dir(f.path())
            .args(["audit", "--offline"])
            .env("RUST_BACKTRACE", "1"),
        2,
    );
    assert_clean_error(&err);
    let first = err.lines().next().unwrap();
    assert!(
        first.contains(
            "no copy of advisory database https://github.com/example/advisory-db is cached"
        ) && first.contains("--offline was given"),
        "{first}"
    );
    assert!(
        err.contains("--advisory-db") && err.contains("--offline"),
        "{err}"
    );
    assert!(
        !err.contains("Stack backtrace") && !err.contains("backtrace.rs"),
        "{err}"
    );
}
