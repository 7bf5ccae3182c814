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

/// One audit with its own cache and key directories: (exit code, findings, whether
/// cargo ran, whether the findings were computed, stderr).
fn audit_in(
    f: &Fixture,
    cache: &std::path::Path,
    state: &std::path::Path,
    env: &[(&str, &str)],
) -> (i32, serde_json::Value, bool, bool, String) {
    let mut c = bin();
    c.current_dir(f.path())
        .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache)
        .env("CARGO_SECURE_RELEASE_STATE_DIR", state)
        .args([
            "audit",
            "-vv",
            "--offline",
            "--format",
            "json",
            "--advisory-db",
        ])
        .arg(advisory_db());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let findings = json(&String::from_utf8_lossy(&out.stdout))["findings"].clone();
    let cargo_ran = err.contains("timing: Reading the workspace (cargo metadata)");
    let computed = err.contains("timing: Loading the advisory database");
    (
        out.status.code().unwrap_or(-1),
        findings,
        cargo_ran,
        computed,
        err,
    )
}

fn vulnerable_fixture(name: &str) -> Fixture {
    let f = Fixture::new(
        name,
        &format!("[dependencies]\ntime = \"=0.1.43\"\n\n{HARDENED}"),
    )
    .lock();
    f.write(
        "deny.toml",
        &format!("{NO_YANK}[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n"),
    );
    f
}

fn has_advisory(findings: &serde_json::Value) -> bool {
    findings
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == "RUSTSEC-2020-0071")
}

/// Every regular file under `dir` (links excluded), relative.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    crate::common::snapshot(dir)
        .into_iter()
        .map(|(p, _)| p.strip_prefix(dir).unwrap().to_path_buf())
        .collect()
}

/// An entry edited to say "no findings", an entry moved to another project's name,
/// and entries copied from another user's cache (made under another key) are each a
/// miss: the vulnerable project is still blocked, by a run that computed it.
#[test]
fn edited_moved_or_foreign_entries_are_misses_never_verdicts() {
    let f = vulnerable_fixture("trusted");
    let clean = Fixture::new("clean", HARDENED).lock();
    clean.write(
        "deny.toml",
        &format!("{NO_YANK}[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n"),
    );
    let (cache, state) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    let (code, cold, _, _, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(has_advisory(&cold), "{cold:#}");
    let (code, warm, cargo_ran, computed, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert!(code == 1 && !cargo_ran && !computed, "a genuine hit: {err}");
    assert_eq!(warm, cold);

    // 1. Edited: the findings emptied, the MAC line kept.
    let entries = cache.path().join("audit-v2");
    for e in std::fs::read_dir(&entries).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let (head, body) = text.split_once('\n').unwrap();
        let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["findings"] = serde_json::json!([]);
        std::fs::write(&p, format!("{head}\n{v}")).unwrap();
    }
    let (code, edited, _, computed, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert_eq!(code, 1, "an edited entry gave a verdict: {err}");
    assert!(computed && edited == cold, "{err}");

    // 2. Moved: the clean project's genuine entry put at the vulnerable one's name.
    let before: std::collections::BTreeSet<_> = files(&entries).into_iter().collect();
    let (code, _, _, _, err) = audit_in(&clean, cache.path(), state.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let after: std::collections::BTreeSet<_> = files(&entries).into_iter().collect();
    let clean_entry = after
        .difference(&before)
        .next()
        .expect("the clean project's entry");
    for name in &before {
        std::fs::copy(entries.join(clean_entry), entries.join(name)).unwrap();
    }
    let (code, moved, _, computed, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert_eq!(
        code, 1,
        "an entry moved from another name gave a verdict: {err}"
    );
    assert!(computed && moved == cold, "{err}");

    // 3. Foreign: another user's cache of the same project (same names, other key),
    // copied over this one's whole.
    let (other_cache, other_state) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    let (code, _, _, _, err) = audit_in(&f, other_cache.path(), other_state.path(), &[]);
    assert_eq!(code, 1, "{err}");
    for rel in files(other_cache.path()) {
        let to = cache.path().join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(other_cache.path().join(&rel), to).unwrap();
    }
    let (code, foreign, cargo_ran, computed, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        cargo_ran && computed,
        "records made under another key are not used: {err}"
    );
    assert_eq!(foreign, cold);
}

/// A symbolic link planted at every name the cache uses, pointing outside it: the
/// run replaces each link with its own entry and nothing outside the cache changes.
/// Genuine entries moved out and linked back are not read through the links.
#[cfg(unix)]
#[test]
fn links_planted_at_cache_names_are_replaced_never_followed() {
    let f = vulnerable_fixture("planted");
    let (cache, state) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    let outside = tempfile::TempDir::new().unwrap();
    let (_, cold, _, _, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert!(has_advisory(&cold), "{err}");
    let names = files(cache.path());
    assert!(
        names.len() >= 3,
        "findings entry and metadata record: {names:?}"
    );

    // Genuine entries moved out and linked back: not read through the links.
    for (i, rel) in names.iter().enumerate() {
        let target = outside.path().join(format!("genuine-{i}"));
        std::fs::rename(cache.path().join(rel), &target).unwrap();
        std::os::unix::fs::symlink(&target, cache.path().join(rel)).unwrap();
    }
    let (code, linked, cargo_ran, computed, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert!(code == 1 && cargo_ran && computed, "{err}");
    assert_eq!(linked, cold);

    // Links to precious files outside: written over, never through.
    for (i, rel) in names.iter().enumerate() {
        let p = cache.path().join(rel);
        let victim = outside.path().join(format!("victim-{i}"));
        std::fs::write(&victim, format!("precious {i}\n")).unwrap();
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(&victim, &p).unwrap();
    }
    let outside_before = snapshot(outside.path());
    let (code, again, _, _, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(again, cold);
    assert_eq!(
        snapshot(outside.path()),
        outside_before,
        "nothing outside the cache changed"
    );
    for rel in &names {
        let m = std::fs::symlink_metadata(cache.path().join(rel)).unwrap();
        assert!(
            m.file_type().is_file(),
            "{} is our own file again",
            rel.display()
        );
    }
    let (code, _, cargo_ran, computed, err) = audit_in(&f, cache.path(), state.path(), &[]);
    assert!(
        code == 1 && !cargo_ran && !computed,
        "the rewritten cache is used: {err}"
    );
}

/// A cache directory others can write (0777): one warning, and nothing is read from
/// it or written to it, however often the audit runs. A key others can read is
/// refused the same way.
#[cfg(unix)]
#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let f = vulnerable_fixture("shared");
    let (cache, state) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (_, uncached, _, _, _) = {
        let nc = tempfile::TempDir::new().unwrap();
        audit_in(&f, nc.path(), state.path(), &[])
    };
    for _ in 0..2 {
        let (code, found, cargo_ran, computed, err) = audit_in(&f, cache.path(), state.path(), &[]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(found, uncached);
        assert!(cargo_ran && computed, "{err}");
        let warnings: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("warning: the cache"))
            .collect();
        assert_eq!(
            warnings,
            [format!(
                "warning: the cache directory {} is writable by other users (mode 777); `chmod 700` it; the cache is not used (run with --no-cache, or fix the directory)",
                cache.path().display()
            )],
            "{err}"
        );
        assert!(files(cache.path()).is_empty(), "nothing written");
    }

    // The key, made readable by others: refused too.
    let good = tempfile::TempDir::new().unwrap();
    audit_in(&f, good.path(), state.path(), &[]);
    let key = state.path().join("cache-key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, cargo_ran, _, err) = audit_in(&f, good.path(), state.path(), &[]);
    assert!(code == 1 && cargo_ran, "{err}");
    assert!(
        err.contains("can be read or written by other users (mode 644); `chmod 600` it; the cache is not used"),
        "{err}"
    );
}

/// Token variables set through audit, sbom and tag runs: `grep -r` of the cache and
/// key directories finds none of their values (nor of any other variable's), and
/// every file there is 0600 in 0700 directories.
#[cfg(unix)]
#[test]
fn no_token_or_environment_value_reaches_the_cache() {
    use std::os::unix::fs::PermissionsExt;
    let f = vulnerable_fixture("tokens");
    git(f.path(), &["init", "-q"]);
    git(f.path(), &["add", "-A"]);
    git(f.path(), &["commit", "-qm", "init"]);
    let (cache, state) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    let values = [
        ("CARGO_REGISTRY_TOKEN", "tok-registry-5f1c9a"),
        ("CARGO_REGISTRIES_PRIVATE_TOKEN", "tok-private-77ab2e"),
        ("CARGO_REGISTRIES_PRIVATE_SECRET_KEY", "tok-secret-key-0c3d"),
        ("CARGO_UNRELATED_SETTING", "plain-value-9e8d7c"),
    ];
    let run_cmd = |args: &[&str]| {
        let mut c = bin();
        c.current_dir(f.path())
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache.path())
            .env("CARGO_SECURE_RELEASE_STATE_DIR", state.path())
            // The tagger, as `git()` commits: a fresh HOME has no user.name.
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .args(args);
        for (k, v) in values {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let db = advisory_db().to_str().unwrap().to_string();
    let expect = |args: &[&str], code: i32| {
        let out = run_cmd(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    expect(&["audit", "--offline", "--advisory-db", &db], 1);
    expect(&["audit", "--offline", "--advisory-db", &db], 1);
    expect(&["sbom", "--offline"], 0);
    expect(&["tag", "--dry-run", "--offline", "--advisory-db", &db], 1);
    assert!(!files(cache.path()).is_empty());
    for (name, value) in values {
        let out = std::process::Command::new("grep")
            .args(["-r", "-l", "-F", value])
            .arg(cache.path())
            .arg(state.path())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}'s value found in: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    for dir in [cache.path(), state.path()] {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let mode = e.metadata().unwrap().permissions().mode() & 0o777;
                if e.file_type().unwrap().is_dir() {
                    assert_eq!(mode, 0o700, "{}", e.path().display());
                    stack.push(e.path());
                } else {
                    assert_eq!(mode, 0o600, "{}", e.path().display());
                }
            }
        }
    }
}

/// `--no-cache` neither reads nor writes anything: no findings entry, no record (not
/// even rustc's or `cargo -V`'s answers), no key.
#[test]
fn no_cache_writes_nothing_at_all() {
    let f = vulnerable_fixture("nothing");
    let (cache, state) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    let mut c = bin();
    c.current_dir(f.path())
        .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache.path())
        .env("CARGO_SECURE_RELEASE_STATE_DIR", state.path())
        .args(["audit", "--no-cache", "--offline", "--advisory-db"])
        .arg(advisory_db());
    run(&mut c, 1);
    assert!(files(cache.path()).is_empty(), "{:?}", files(cache.path()));
    assert!(files(state.path()).is_empty(), "{:?}", files(state.path()));
}
