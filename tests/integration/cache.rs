//! The findings cache: a hit gives exactly the findings a full run gives, and any
//! change to an input is a miss.

use crate::common::*;

/// Other tests refresh the shared crates.io index cache while these run, and that
/// (rightly) invalidates keys that include yanked lookups; these tests leave it out.
const NO_YANK: &str = "[advisories]\ndisable-yank-checking = true\n\n";

/// Runs the audit with its own cache dir; returns (findings JSON, whether the cache hit).
fn audit(
    f: &Fixture,
    cache: &std::path::Path,
    db: &std::path::Path,
    extra: &[&str],
    code: i32,
) -> (serde_json::Value, bool) {
    let mut c = bin();
    c.current_dir(f.path())
        .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache)
        .args(["audit", "-vv", "--format", "json", "--advisory-db"])
        .arg(db)
        .args(extra);
    let (out, err) = run(&mut c, code);
    let missed = err.contains("timing: Loading the advisory database");
    (json(&out)["findings"].clone(), !missed)
}

#[test]
fn hits_give_the_same_findings_and_changed_inputs_miss() {
    let f = Fixture::new(
        "cached",
        &format!("[dependencies]\ntime = \"=0.1.43\"\nitoa = \"1\"\n\n{HARDENED}"),
    )
    .lock();
    f.write(
        "deny.toml",
        &format!("{NO_YANK}[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n"),
    );
    let cache = tempfile::TempDir::new().unwrap();
    let db = tempfile::TempDir::new().unwrap();
    copy_dir(advisory_db(), db.path());

    let (cold, hit) = audit(&f, cache.path(), db.path(), &[], 1);
    assert!(!hit, "first run fills the cache");
    let (warm, hit) = audit(&f, cache.path(), db.path(), &[], 1);
    assert!(hit, "second run hits");
    let (uncached, hit) = audit(&f, cache.path(), db.path(), &["--no-cache"], 1);
    assert!(!hit);
    assert_eq!(cold, warm, "findings from the cache equal a full run");
    assert_eq!(
        cold, uncached,
        "findings with --no-cache equal the cached ones"
    );
    assert!(cold
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == "RUSTSEC-2020-0071"));

    // deny.toml changes: a miss, and the new ban shows.
    f.write(
        "deny.toml",
        &format!("{NO_YANK}[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n\n[bans]\ndeny = [{{ name = \"itoa\" }}]\n"),
    );
    let (banned, hit) = audit(&f, cache.path(), db.path(), &[], 1);
    assert!(!hit);
    assert!(
        banned
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["code"] == "banned"),
        "{banned:#}"
    );

    // The advisory database changes: a miss, and the removed advisory is gone.
    std::fs::remove_file(db.path().join("crates/time/RUSTSEC-2020-0071.md")).unwrap();
    let (fewer, hit) = audit(&f, cache.path(), db.path(), &[], 1);
    assert!(!hit);
    assert!(!fewer
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == "RUSTSEC-2020-0071"));

    // A corrupt entry is ignored and rewritten.
    for e in std::fs::read_dir(cache.path().join("audit-v2")).unwrap() {
        std::fs::write(e.unwrap().path(), "{ not json").unwrap();
    }
    let (again, hit) = audit(&f, cache.path(), db.path(), &[], 1);
    assert!(!hit);
    assert_eq!(again, fewer);
    let (_, hit) = audit(&f, cache.path(), db.path(), &[], 1);
    assert!(hit, "the corrupt entry was rewritten");
}

#[test]
fn the_profile_and_ignores_are_never_cached() {
    let f = Fixture::new("fresh", "[dependencies]\ntime = \"=0.1.43\"\n").lock();
    f.write(
        "deny.toml",
        &format!("{NO_YANK}[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n"),
    );
    let cache = tempfile::TempDir::new().unwrap();
    let (first, _) = audit(&f, cache.path(), advisory_db(), &[], 1);
    assert!(first
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["check"] == "profile"));
    let m = f.read("Cargo.toml");
    f.write(
        "Cargo.toml",
        &format!("{m}\n[package.metadata.secure-release]\nignore = [{{ id = \"RUSTSEC-2020-0071\", reason = \"r\" }}]\n\n{HARDENED}"),
    );
    // Cargo.toml changed, so cargo metadata's JSON changed: this is a miss anyway; the
    // point is that ignores and the profile come out right on the following hit too.
    audit(&f, cache.path(), advisory_db(), &[], 0);
    let (hit_run, hit) = audit(&f, cache.path(), advisory_db(), &[], 0);
    assert!(hit);
    let arr = hit_run.as_array().unwrap();
    assert!(arr.iter().all(|x| x["check"] != "profile"), "{hit_run:#}");
    let t = arr.iter().find(|x| x["id"] == "RUSTSEC-2020-0071").unwrap();
    assert_eq!(t["ignored"]["reason"], "r");
}

/// Twenty audits at once on one cache dir: identical findings, and the cache they
/// leave is valid (the next run hits it and agrees).
#[test]
fn twenty_parallel_audits_share_one_cache() {
    let f = Fixture::new(
        "parallel",
        &format!("[dependencies]\ntime = \"=0.1.43\"\n\n{HARDENED}"),
    )
    .lock();
    f.write(
        "deny.toml",
        &format!("{NO_YANK}[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n"),
    );
    let cache = tempfile::TempDir::new().unwrap();
    // A private database: other tests add advisories to the shared copy.
    let db = tempfile::TempDir::new().unwrap();
    copy_dir(advisory_db(), db.path());
    let children: Vec<_> = (0..20)
        .map(|_| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-secure-release"))
                .current_dir(f.path())
                .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache.path())
                .env("CARGO_SECURE_RELEASE_STATE_DIR", state_dir())
                // As `bin()`: the target dir is part of `cargo metadata`'s answer.
                .env_remove("CARGO_TARGET_DIR")
                .env("NO_COLOR", "1")
                .args(["audit", "--format", "json", "--advisory-db"])
                .arg(db.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let first = json(&String::from_utf8_lossy(&outputs[0].stdout))["findings"].clone();
    for o in &outputs {
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let findings = json(&String::from_utf8_lossy(&o.stdout))["findings"].clone();
        assert_eq!(findings, first);
    }
    let entries: Vec<_> = crate::common::snapshot(cache.path());
    assert!(!entries.is_empty(), "the cache was written");
    for (path, bytes) in &entries {
        // Each entry: a line with its MAC, then the JSON.
        let nl = bytes.iter().position(|b| *b == b'\n').unwrap();
        assert!(
            bytes.starts_with(b"cargo-secure-release-cache 1 "),
            "{}",
            path.display()
        );
        let v: serde_json::Value = serde_json::from_slice(&bytes[nl + 1..])
            .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
        // Findings entries, and the warm path's records of `cargo metadata`.
        if path.components().any(|c| c.as_os_str() == "audit-v2") {
            assert!(v["findings"].is_array(), "{}", path.display());
        } else if path.extension().is_some_and(|e| e == "metadata") {
            assert!(v["packages"].is_array(), "{}", path.display());
        } else {
            assert!(v["inputs"].is_array(), "{}", path.display());
        }
    }
    let (after, hit) = audit(&f, cache.path(), db.path(), &[], 1);
    assert!(hit, "the cache left behind is used");
    assert_eq!(after, first);
}
