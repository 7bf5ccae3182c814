//! The warm path without cargo: when nothing `cargo metadata` reads has changed, the
//! audit answers from its record; each kind of input, changed, is noticed.

use crate::common::*;
use std::path::{Path, PathBuf};

const NO_YANK: &str = "[advisories]\ndisable-yank-checking = true\n\n";

/// A workspace `ws/` with members `crates/*` and a path dependency `pathdep/` beside
/// it (outside the workspace, so not a member), locked.
struct Ws {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Ws {
    fn new() -> Ws {
        let dir = tempfile::TempDir::new().unwrap();
        let w = |rel: &str, text: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        w(
            "ws/Cargo.toml",
            &format!("[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n{HARDENED}"),
        );
        w(
            "ws/crates/app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\npublish = false\n\n[dependencies]\npathdep = { path = \"../../../pathdep\" }\n",
        );
        w("ws/crates/app/src/main.rs", "fn main() {}\n");
        w(
            "pathdep/Cargo.toml",
            "[package]\nname = \"pathdep\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\npublish = false\n",
        );
        w("pathdep/src/lib.rs", "");
        w(
            "ws/deny.toml",
            &format!("{NO_YANK}[licenses]\nallow = [\"MIT\"]\n"),
        );
        output_ok(
            std::process::Command::new("cargo")
                .args(["generate-lockfile", "-q", "--offline"])
                .current_dir(dir.path().join("ws"))
                .env_remove("CARGO_TARGET_DIR"),
        );
        Ws {
            dir,
            cache: tempfile::TempDir::new().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs the audit; (exit code, whether cargo was spared, stderr).
    fn audit(&self, env: &[(&str, &str)]) -> (i32, bool, String) {
        self.audit_with_db(env, advisory_db())
    }

    fn audit_with_db(&self, env: &[(&str, &str)], db: &Path) -> (i32, bool, String) {
        let mut c = bin();
        c.current_dir(self.path("ws"))
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", self.cache.path())
            .args([
                "audit",
                "-vv",
                "--offline",
                "--format",
                "json",
                "--advisory-db",
            ])
            .arg(db);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let spared = err.contains("timing: Reading the workspace (inputs unchanged: no cargo)");
        assert!(
            spared || err.contains("timing: Reading the workspace (cargo metadata)"),
            "{err}"
        );
        (out.status.code().unwrap_or(-1), spared, err)
    }

    /// A change is noticed (cargo runs again), and the run after it is warm again.
    fn noticed(&self, what: &str, env: &[(&str, &str)]) {
        let (_, spared, err) = self.audit(env);
        assert!(!spared, "{what}: the change was not noticed\n{err}");
        let (_, spared, err) = self.audit(env);
        assert!(
            spared,
            "{what}: the run after it did not take the warm path\n{err}"
        );
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let old = std::fs::read_to_string(self.path(rel)).unwrap();
        assert!(old.contains(from));
        self.write(rel, &old.replacen(from, to, 1));
    }
}

fn touch(p: &Path) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
}

#[test]
fn each_input_of_cargo_metadata_is_noticed() {
    let w = Ws::new();
    let (code, spared, _) = w.audit(&[]);
    assert_eq!(code, 0);
    assert!(!spared, "the first run runs cargo");
    let (code, spared, _) = w.audit(&[]);
    assert_eq!(code, 0);
    assert!(spared, "the second run does not");

    w.edit(
        "ws/crates/app/Cargo.toml",
        "publish = false\n",
        "publish = false\ndescription = \"edited\"\n",
    );
    w.noticed("a member's manifest edited", &[]);

    // Touched, same content: not a change (compared by hash once the time moved).
    touch(&w.path("pathdep/Cargo.toml"));
    let (_, spared, _) = w.audit(&[]);
    assert!(
        spared,
        "touching a path dependency's manifest alone is not a change"
    );
    w.edit(
        "pathdep/Cargo.toml",
        "publish = false\n",
        "publish = false\ndescription = \"edited\"\n",
    );
    w.noticed("a path dependency's manifest edited", &[]);

    w.write(".cargo/config.toml", "[net]\nretry = 3\n");
    // Cargo reads config from the current directory up: ws/.cargo and above.
    w.write("ws/.cargo/config.toml", "[net]\nretry = 2\n");
    w.noticed("a .cargo/config.toml added", &[]);

    w.noticed(
        "CARGO_PROFILE_RELEASE_LTO set",
        &[("CARGO_PROFILE_RELEASE_LTO", "fat")],
    );
    w.noticed("RUSTUP_TOOLCHAIN set", &[("RUSTUP_TOOLCHAIN", "stable")]);
    w.write(
        "ws/rust-toolchain.toml",
        "[toolchain]\nchannel = \"stable\"\n",
    );
    w.noticed("a rust-toolchain.toml added", &[]);

    touch(&w.path("ws/Cargo.lock"));
    let (_, spared, _) = w.audit(&[]);
    assert!(spared, "touching Cargo.lock alone is not a change");
    let lock = std::fs::read_to_string(w.path("ws/Cargo.lock")).unwrap();
    w.write("ws/Cargo.lock", &lock.replace("version = 4", "version = 3"));
    let (_, spared, _) = w.audit(&[]);
    assert!(!spared, "an edited Cargo.lock is noticed");
    w.write("ws/Cargo.lock", &lock);

    // A new directory matching `crates/*` is a new member: cargo must run, and with
    // --locked it says the lockfile needs it (a stale record would have hidden it).
    w.audit(&[]);
    w.write(
        "ws/crates/extra/Cargo.toml",
        "[package]\nname = \"extra\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n",
    );
    w.write("ws/crates/extra/src/lib.rs", "");
    let (code, spared, err) = w.audit(&[]);
    assert!(!spared, "a new member directory is noticed");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Cargo.lock"), "{err}");

    // --no-cache neither reads nor writes the record.
    std::fs::remove_dir_all(w.path("ws/crates/extra")).unwrap();
    let mut c = bin();
    c.current_dir(w.path("ws"))
        .env("CARGO_SECURE_RELEASE_CACHE_DIR", w.cache.path())
        .args(["audit", "-vv", "--offline", "--no-cache", "--advisory-db"])
        .arg(advisory_db());
    let (_, err) = run(&mut c, 0);
    assert!(
        err.contains("timing: Reading the workspace (cargo metadata)"),
        "{err}"
    );
}

/// A fingerprint hit (no cargo, findings cache), a findings-cache hit after cargo ran,
/// and a cold run (--no-cache) give the same findings, on a fixture with an advisory,
/// a license check, a profile finding and an ignore.
#[test]
fn a_fingerprint_hit_a_cache_hit_and_a_cold_run_agree() {
    let f = Fixture::new(
        "agree",
        "[dependencies]\ntime = \"=0.1.43\"\nsmallvec = \"=0.6.13\"\n\n[profile.release]\nlto = \"thin\"\n\n[package.metadata.secure-release]\nignore = [{ id = \"RUSTSEC-2021-0003\", reason = \"no insert_many\" }]\n",
    )
    .lock();
    // ISC only: the MIT/Apache-2.0 crates are license findings.
    f.write(
        "deny.toml",
        &format!("{NO_YANK}[licenses]\nallow = [\"ISC\"]\n"),
    );
    let cache = tempfile::TempDir::new().unwrap();
    let audit = |extra: &[&str]| {
        let mut c = bin();
        c.current_dir(f.path())
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache.path())
            .args([
                "audit",
                "-vv",
                "--offline",
                "--format",
                "json",
                "--advisory-db",
            ])
            .arg(advisory_db())
            .args(extra);
        let (out, err) = run(&mut c, 1);
        (json(&out)["findings"].clone(), err)
    };
    let (cold, _) = audit(&["--no-cache"]);
    let (first, err) = audit(&[]);
    assert!(err.contains("(cargo metadata)"), "{err}");
    let (fingerprint_hit, err) = audit(&[]);
    assert!(err.contains("(inputs unchanged: no cargo)"), "{err}");
    assert!(
        !err.contains("timing: Loading the advisory database"),
        "the findings cache hit too: {err}"
    );
    std::fs::remove_dir_all(cache.path().join("metadata-v2")).unwrap();
    let (cache_hit, err) = audit(&[]);
    assert!(
        err.contains("(cargo metadata)") && !err.contains("timing: Loading the advisory database"),
        "{err}"
    );
    for (name, other) in [
        ("first", &first),
        ("fingerprint hit", &fingerprint_hit),
        ("cache hit", &cache_hit),
    ] {
        assert_eq!(&cold, other, "{name} differs from the cold run");
    }
    let arr = cold.as_array().unwrap();
    for check in ["advisories", "licenses", "profile"] {
        assert!(
            arr.iter().any(|x| x["check"] == check),
            "no {check} finding: {cold:#}"
        );
    }
    assert!(arr
        .iter()
        .any(|x| x["id"] == "RUSTSEC-2021-0003" && x["ignored"]["reason"] == "no insert_many"));
}

/// rustc's `--print` answers (the SBOM's platform, `tag`'s SBOM claim) are kept the same
/// way: asked once, then answered from the record until the rustc in use or the
/// toolchain selection changes. A logging RUSTC wrapper counts the real runs.
#[cfg(unix)]
#[test]
fn rustc_answers_are_kept_until_the_toolchain_changes() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Ws::new();
    let log = ws.path("rustc.log");
    let wrapper = ws.path("rustc-wrapper");
    let write_wrapper = |extra: &str| {
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\n# {extra}\necho \"$*\" >> '{}'\nexec rustc \"$@\"\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    write_wrapper("");
    // Our question only: cargo asks the same rustc its own (`-vV`, file names).
    let runs = || {
        std::fs::read_to_string(&log)
            .map(|t| {
                t.lines()
                    .filter(|l| l.contains("--print host-tuple"))
                    .count()
            })
            .unwrap_or(0)
    };
    let sbom = |dir: &str| {
        let out = bin()
            .current_dir(ws.path(dir))
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", ws.cache.path())
            .env("RUSTC", &wrapper)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["sbom", "-q", "--offline"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let first = sbom("ws");
    assert_eq!(runs(), 1, "the first SBOM asks rustc");
    assert_eq!(sbom("ws"), first);
    assert_eq!(runs(), 1, "the second is answered from the record");
    // Another rustc (here: the wrapper rewritten) is asked again.
    write_wrapper("a newer toolchain");
    assert_eq!(sbom("ws"), first);
    assert_eq!(runs(), 2, "a changed rustc is asked");
    assert_eq!(sbom("ws"), first);
    assert_eq!(runs(), 2);
    // A toolchain file along the way may select another toolchain (here the active
    // one, so nothing needs installing; without rustup the file is inert).
    let active = std::process::Command::new("rustup")
        .args(["show", "active-toolchain"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "stable".into());
    std::fs::write(
        ws.path("ws/rust-toolchain.toml"),
        format!("[toolchain]\nchannel = \"{active}\"\n"),
    )
    .unwrap();
    sbom("ws");
    assert_eq!(runs(), 3, "a new rust-toolchain.toml is noticed");
    sbom("ws");
    assert_eq!(runs(), 3);
}

/// A warm audit starts no process: not `cargo metadata`, and not the `cargo -V` that
/// our crates.io index lookup needs (answered from the toolchain record). When only
/// the findings cache misses, the one `cargo -V` left is cargo-deny's own (its span
/// builder asks tame-index for the crates.io URL without a version). An advisory
/// database that has settled (here: every time set back an hour) is confirmed from
/// its record, which still notices a new advisory. A logging CARGO wrapper counts
/// cargo's runs.
#[cfg(unix)]
#[test]
fn a_warm_audit_starts_no_cargo_and_still_sees_a_new_advisory() {
    use std::os::unix::fs::PermissionsExt;
    let w = Ws::new();
    // Yanked checks on: they are what asks cargo for its version.
    w.write("ws/deny.toml", "[licenses]\nallow = [\"MIT\"]\n");
    let db = w.path("db");
    copy_dir(advisory_db(), &db);
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let mut dirs = vec![db.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            match e.file_type().unwrap().is_dir() {
                true => dirs.push(e.path()),
                false => std::fs::File::open(e.path())
                    .unwrap()
                    .set_modified(hour_ago)
                    .unwrap(),
            }
        }
        std::fs::File::open(&d)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
    // Setting a time moved each entry's ctime, which no call can set back: the tree
    // settles once that is older than the clock's resolution.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (log, wrapper) = (w.path("cargo.log"), w.path("cargo-wrapper"));
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec cargo \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let wrapper = wrapper.to_str().unwrap();
    let env = [("CARGO", wrapper)];
    let runs = || std::fs::read_to_string(&log).unwrap_or_default();
    let loads_db = |err: &str| err.contains("timing: Loading the advisory database");

    let (code, spared, err) = w.audit_with_db(&env, &db);
    assert_eq!(code, 0, "{err}");
    assert!(!spared && loads_db(&err), "{err}");
    let first = runs();
    assert!(first.lines().any(|l| l.starts_with("metadata")), "{first}");
    let versions = |log: &str| log.lines().filter(|l| *l == "-V").count();
    assert_eq!(versions(&first), 2, "ours and cargo-deny's: {first}");

    let (_, spared, err) = w.audit_with_db(&env, &db);
    assert!(spared && !loads_db(&err), "a warm run: {err}");
    assert_eq!(runs(), first, "a warm run starts no cargo");

    w.write(
        "db/crates/zzz/RUSTSEC-2099-0001.md",
        "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\npackage = \"zzz\"\ndate = \"2099-01-01\"\n[versions]\npatched = []\n```\n\n# Title\n\nDescription\n",
    );
    let (_, spared, err) = w.audit_with_db(&env, &db);
    assert!(spared, "the manifests did not change: {err}");
    assert!(loads_db(&err), "the new advisory is noticed: {err}");
    let third = runs();
    assert!(third.starts_with(&first), "{third}");
    assert_eq!(
        third[first.len()..].lines().collect::<Vec<_>>(),
        ["-V"],
        "no cargo metadata, and our lookup's version from the toolchain record"
    );

    let (_, spared, err) = w.audit_with_db(&env, &db);
    assert!(spared && !loads_db(&err), "warm again: {err}");
    assert_eq!(runs(), third);
}

/// `sbom` takes the same warm path as `audit`; `tag` (with and without its audit
/// gate) never does, as a release decision is made cold, but leaves the record that
/// the next `sbom` or `audit` uses. `-vv` says which path each run took.
#[test]
fn sbom_and_tag_say_whether_cargo_ran() {
    let w = Ws::new();
    let ws = w.path("ws");
    git(&ws, &["init", "-q"]);
    git(&ws, &["config", "user.name", "T"]);
    git(&ws, &["config", "user.email", "t@example.org"]);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "init"]);
    let spared = |args: &[&str]| -> bool {
        let mut c = bin();
        c.current_dir(&ws)
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", w.cache.path())
            .args(args)
            .args(["-vv", "--offline"]);
        let (_, err) = run(&mut c, 0);
        let spared = err.contains("timing: Reading the workspace (inputs unchanged: no cargo)");
        assert!(
            spared || err.contains("timing: Reading the workspace (cargo metadata)"),
            "{args:?}: {err}"
        );
        spared
    };
    let db = advisory_db().to_str().unwrap();
    let gated = ["tag", "--dry-run", "--advisory-db", db];
    assert!(!spared(&["sbom"]), "the first run runs cargo");
    assert!(spared(&["sbom"]));
    assert!(
        !spared(&["tag", "--dry-run", "--no-audit"]),
        "tag reads no record"
    );
    assert!(!spared(&gated), "the gate reads no record");
    assert!(!spared(&["tag", "--dry-run", "--no-audit", "--no-cache"]));

    w.edit(
        "ws/crates/app/Cargo.toml",
        "publish = false\n",
        "publish = false\ndescription = \"d\"\n",
    );
    git(&ws, &["commit", "-qam", "describe"]);
    assert!(!spared(&gated));
    assert!(spared(&["sbom"]), "the gate left a fresh record behind");
}
