use crate::common::*;

#[test]
fn vulnerable_time_is_an_error_with_exit_1() {
    let f = Fixture::new("vuln", "[dependencies]\ntime = \"=0.1.43\"\n").lock();
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    assert_eq!(r["schema"], 1);
    assert_eq!(r["tool"]["name"], "cargo-secure-release");
    assert!(r["advisory_db"]["advisories"].as_u64().unwrap() > 1000);
    let adv = findings(&r, "advisories");
    let hit = adv
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2020-0071")
        .expect("RUSTSEC-2020-0071 reported");
    assert_eq!(hit["severity"], "error");
    assert_eq!(hit["code"], "vulnerability");
    assert_eq!(hit["package"], "time");
    assert_eq!(hit["version"], "0.1.43");
    assert_eq!(hit["reach"], "in the default build");
    assert_eq!(hit["location"]["file"], "Cargo.lock");
    let line = hit["location"]["line"].as_u64().unwrap() as usize;
    let lock = f.read("Cargo.lock");
    assert_eq!(lock.lines().nth(line - 1), Some("name = \"time\""));
    assert!(hit["help"].as_str().unwrap().contains("0.2.23"));
    assert!(r["summary"]["errors"].as_u64().unwrap() >= 1);
}

#[test]
fn human_output_groups_by_check_and_summarises() {
    let f = Fixture::new("vuln", "[dependencies]\ntime = \"=0.1.43\"\n").lock();
    let (out, _) = run(&mut f.audit(), 1);
    assert!(out.contains("\nadvisories\n"), "{out}");
    assert!(
        out.contains("error[vulnerability] time 0.1.43: RUSTSEC-2020-0071"),
        "{out}"
    );
    assert!(out.contains("--> Cargo.lock:"), "{out}");
    assert!(out.contains("release blocked: "), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colour when not a terminal: {out}"
    );
}

#[test]
fn clean_crate_exits_0() {
    let f = Fixture::new("clean", HARDENED).lock();
    let (out, _) = run(f.audit().args(["--format", "json"]), 0);
    let r = json(&out);
    assert_eq!(r["summary"]["errors"], 0);
    assert!(findings(&r, "advisories")
        .iter()
        .all(|f| f["code"] != "vulnerability"));
    // Without deny.toml, licenses are not judged and a note says how to scaffold one.
    let lic = findings(&r, "licenses");
    assert_eq!(lic.len(), 1);
    assert_eq!(lic[0]["code"], "no-config");
    assert_eq!(lic[0]["severity"], "note");
}

#[test]
fn vulnerable_crates_behind_features_and_dev_deps_are_reported_with_their_reach() {
    let f = Fixture::new(
        "feat",
        "[features]\nold-time = [\"dep:time\"]\n\n[dependencies]\ntime = { version = \"=0.1.43\", optional = true }\n\n[dev-dependencies]\nsmallvec = \"=0.6.13\"\n",
    )
    .lock();
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let adv = findings(&r, "advisories");
    let time = adv
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2020-0071")
        .expect("feature-gated time reported");
    assert_eq!(time["severity"], "error");
    assert_eq!(time["reach"], "only with feature `feat/old-time`");
    let sv = adv
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2021-0003")
        .expect("dev-only smallvec reported");
    assert_eq!(sv["reach"], "dev-only (tests, examples, benches)");
}

#[test]
fn target_specific_dependency_reach_names_the_target() {
    let f = Fixture::new(
        "tgt",
        "[target.'cfg(windows)'.dependencies]\ntime = \"=0.1.43\"\n",
    )
    .lock();
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let time = findings(&r, "advisories")
        .into_iter()
        .find(|f| f["id"] == "RUSTSEC-2020-0071")
        .expect("target-only time reported");
    assert_eq!(
        time["reach"],
        "in the default build, only on target `cfg(windows)`"
    );
}

#[test]
fn deny_toml_ban_produces_a_bans_finding() {
    let f = Fixture::new("banned", "[dependencies]\nitoa = \"1\"\n").lock();
    f.write(
        "deny.toml",
        "[bans]\ndeny = [{ name = \"itoa\" }]\n\n[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n",
    );
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let bans = findings(&r, "bans");
    let hit = bans
        .iter()
        .find(|f| f["code"] == "banned")
        .expect("banned finding");
    assert_eq!(hit["package"], "itoa");
    assert_eq!(hit["severity"], "error");
    assert_eq!(hit["location"]["file"], "deny.toml");
}

#[test]
fn deny_toml_license_allow_list_rejects_other_licenses() {
    let f = Fixture::new("lic", "[dependencies]\nitoa = \"1\"\n").lock();
    // itoa is MIT OR Apache-2.0; allowing only ISC rejects it (and our own MIT crate).
    f.write("deny.toml", "[licenses]\nallow = [\"ISC\"]\n");
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let lic = findings(&r, "licenses");
    let hit = lic
        .iter()
        .find(|f| f["code"] == "rejected" && f["package"] == "itoa")
        .unwrap_or_else(|| panic!("rejected finding for itoa in {lic:#?}"));
    assert_eq!(hit["severity"], "error");
}

#[test]
fn deny_toml_sources_rejects_a_git_dependency() {
    let upstream = Fixture::new("upstream", "");
    std::fs::write(upstream.path().join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    std::fs::remove_file(upstream.path().join("src/main.rs")).unwrap();
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .args(args)
            .current_dir(upstream.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(st.success());
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "init"]);
    let url = format!("file://{}", upstream.path().display());
    let f = Fixture::new(
        "src",
        &format!("[dependencies]\nupstream = {{ git = \"{url}\" }}\n"),
    )
    .lock();
    f.write(
        "deny.toml",
        "[sources]\nunknown-git = \"deny\"\n\n[licenses]\nallow = [\"MIT\"]\n",
    );
    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let src = findings(&r, "sources");
    let hit = src
        .iter()
        .find(|f| f["package"] == "upstream" && f["severity"] == "error")
        .unwrap_or_else(|| panic!("sources finding for upstream in {src:#?}"));
    assert_eq!(hit["code"], "source-not-allowed");
}

#[test]
fn the_audit_writes_nothing_into_the_project() {
    let f = Fixture::new("ro", "[dependencies]\ntime = \"=0.1.43\"\n").lock();
    let before = snapshot(f.path());
    run(&mut f.audit(), 1);
    assert_eq!(before, snapshot(f.path()));
}

#[test]
fn works_as_a_cargo_subcommand() {
    let f = Fixture::new("sub", HARDENED).lock();
    let mut c = bin();
    c.current_dir(f.path())
        .args(["secure-release", "audit", "-q", "--advisory-db"])
        .arg(advisory_db());
    let (out, _) = run(&mut c, 0);
    assert!(out.contains("ok to release"), "{out}");
}

#[test]
fn package_selection_rejects_unknown_members() {
    let f = Fixture::new("sel", "[dependencies]\n").lock();
    let (_, err) = run(f.audit().args(["-p", "nope"]), 2);
    assert!(
        err.starts_with("error: package `nope` is not a member"),
        "{err}"
    );
    assert!(err.contains("members are: sel"), "{err}");
}

/// A package without a `license` field is judged by its license file, which needs
/// the SPDX text store (read only in that case).
#[test]
fn a_package_without_a_license_field_is_judged_by_its_license_file() {
    const MIT: &str = "MIT License\n\nCopyright (c) 2026 Example\n\n\
Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\n\
The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\n\
THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n";
    let f = Fixture::new(
        "filelic",
        "[dependencies]\nunlabelled = { path = \"unlabelled\" }\n",
    );
    f.write(
        "unlabelled/Cargo.toml",
        "[package]\nname = \"unlabelled\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    f.write("unlabelled/src/lib.rs", "");
    f.write("unlabelled/LICENSE", MIT);
    let f = f.lock();
    let verdict = |allow: &str| {
        f.write("deny.toml", &format!("[licenses]\nallow = [{allow}]\n"));
        let out = f
            .audit()
            .args(["--format", "json", "--no-cache"])
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        let r = json(&String::from_utf8_lossy(&out.stdout));
        findings(&r, "licenses")
            .into_iter()
            .filter(|x| x["package"] == "unlabelled" && x["severity"] == "error")
            .map(|x| x["code"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    // Found as MIT from the file: rejected where only Apache-2.0 is allowed…
    assert_eq!(verdict("\"Apache-2.0\""), ["rejected"]);
    // …and accepted where MIT is.
    assert_eq!(verdict("\"MIT\""), Vec::<String>::new());
}

/// Git cannot reach any https://github.com/ URL: the fetch fails at once, as on a
/// machine with no route to GitHub, without depending on this one's network.
fn no_github(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd.env("GIT_CONFIG_COUNT", "1")
        .env(
            "GIT_CONFIG_KEY_0",
            "url.file:///nonexistent-github/.insteadOf",
        )
        .env("GIT_CONFIG_VALUE_0", "https://github.com/")
}

/// A fixture with a vulnerable dependency whose deny.toml keeps fetched databases in
/// a directory that does not exist yet (returned).
fn vulnerable_with_db_path() -> (Fixture, tempfile::TempDir, std::path::PathBuf) {
    let f = Fixture::new("firstrun", "[dependencies]\ntime = \"=0.1.43\"\n").lock();
    let home = tempfile::TempDir::new().unwrap();
    let db_path = home.path().join("advisory-dbs");
    f.write(
        "deny.toml",
        &format!("[advisories]\ndb-path = \"{}\"\n", db_path.display()),
    );
    (f, home, db_path)
}

fn audit_without_db(f: &Fixture) -> assert_cmd::Command {
    let mut c = bin();
    c.current_dir(f.path())
        .args(["audit", "--no-cache", "--format", "json"]);
    c
}

#[test]
fn offline_with_nothing_cached_the_embedded_snapshot_finds_the_advisory() {
    let (f, _home, db_path) = vulnerable_with_db_path();
    let (out, err) = run(audit_without_db(&f).arg("--offline"), 1);
    let r = json(&out);
    assert!(
        findings(&r, "advisories")
            .iter()
            .any(|x| x["id"] == "RUSTSEC-2020-0071" && x["severity"] == "error"),
        "{out}"
    );
    assert_eq!(r["advisory_db"]["embedded"], true);
    assert_eq!(r["advisory_db"]["path"], "built into this binary");
    assert!(r["advisory_db"]["advisories"].as_u64().unwrap() > 1000);
    let note = err.lines().find(|l| l.starts_with("note: ")).expect(&err);
    assert!(
        note.contains(
            "no copy of advisory database https://github.com/RustSec/advisory-db is cached"
        ) && note.contains("--offline")
            && note.contains("using the copy built into this binary (RustSec commit "),
        "{note}"
    );
    // The snapshot's date is in the note: `, YYYY-MM-DD)`.
    let date = note.trim_end_matches(')').rsplit(", ").next().unwrap();
    assert!(date.parse::<jiff::civil::Date>().is_ok(), "{note}");
    assert!(
        !db_path.exists(),
        "an offline audit creates no database directory"
    );
    // The stale-database rule applies to the snapshot, with a help that fits it.
    let (out, _) = run(
        audit_without_db(&f)
            .arg("--offline")
            .env("CARGO_SECURE_RELEASE_TODAY", "2099-01-01"),
        1,
    );
    let stale = json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "stale-database")
        .cloned()
        .expect("stale-database");
    assert!(stale["help"]
        .as_str()
        .unwrap()
        .contains("snapshot built into this binary"));
}

/// A `cargo new` project has no Cargo.lock: the audit creates one as `cargo build`
/// would and says so (README's first run), unless `--locked` forbids it; `tag`
/// never makes one up for the commit it signs.
#[test]
fn a_project_without_cargo_lock_gets_one_as_cargo_build_would() {
    // A locked twin puts time 0.1.43's graph in the local index, for `--offline`.
    let _twin = Fixture::new("lockedtwin", "[dependencies]\ntime = \"=0.1.43\"\n").lock();
    let f = Fixture::new("nolockyet", "[dependencies]\ntime = \"=0.1.43\"\n");
    let home = tempfile::TempDir::new().unwrap();
    let deny = format!(
        "[advisories]\ndb-path = \"{}\"\n",
        home.path().join("dbs").display()
    );
    f.write("deny.toml", &deny);
    let lock = f.path().join("Cargo.lock");

    let (_, err) = run(audit_without_db(&f).args(["--offline", "--locked"]), 2);
    assert!(
        err.starts_with("error: no Cargo.lock next to the workspace manifest "),
        "{err}"
    );
    assert!(
        err.contains("run `cargo generate-lockfile` and commit Cargo.lock"),
        "{err}"
    );
    assert!(
        !err.contains("--locked was passed"),
        "cargo's words about our flag: {err}"
    );
    assert!(!lock.exists());
    // Commands that write nothing (a dry run) or only their own files (init) make
    // no Cargo.lock either.
    for args in [
        &["audit", "--offline", "--fix", "--dry-run"][..],
        &[
            "init",
            "--offline",
            "--dry-run",
            "--contact",
            "s@example.org",
        ],
        &["init", "--offline", "--contact", "s@example.org"],
    ] {
        let mut c = bin();
        c.current_dir(f.path()).args(args);
        let (_, err) = run(&mut c, 2);
        assert!(
            err.starts_with("error: no Cargo.lock next to the workspace manifest "),
            "{args:?}: {err}"
        );
        assert!(!lock.exists(), "{args:?} made a Cargo.lock");
    }

    git(f.path(), &["init", "-q"]);
    git(f.path(), &["add", "-A"]);
    git(f.path(), &["commit", "-qm", "init"]);
    let mut tag = bin();
    tag.current_dir(f.path())
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .args(["tag", "--dry-run", "--offline", "--no-cache"]);
    let (_, err) = run(&mut tag, 2);
    assert!(
        err.starts_with("error: no Cargo.lock next to the workspace manifest "),
        "{err}"
    );
    assert!(!lock.exists(), "tag made up a Cargo.lock");

    let (out, err) = run(audit_without_db(&f).arg("--offline"), 1);
    let note = format!(
        "note: no Cargo.lock: created {} with `cargo generate-lockfile`, as `cargo build` would; commit it",
        lock.display()
    );
    assert!(err.lines().any(|l| l.starts_with(&note)), "{err}");
    assert!(
        findings(&json(&out), "advisories")
            .iter()
            .any(|x| x["id"] == "RUSTSEC-2020-0071" && x["location"]["file"] == "Cargo.lock"),
        "{out}"
    );
    let made = std::fs::read_to_string(&lock).unwrap();
    assert!(
        made.contains("name = \"time\"\nversion = \"0.1.43\""),
        "{made}"
    );
    // The next run reads the file it made and says nothing about it.
    let (_, err) = run(audit_without_db(&f).arg("--offline"), 1);
    assert!(!err.contains("no Cargo.lock"), "{err}");
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), made);
}

#[test]
fn a_failed_fetch_falls_back_to_the_snapshot_and_leaves_no_directory() {
    let (f, _home, db_path) = vulnerable_with_db_path();
    let (out, err) = run(no_github(&mut audit_without_db(&f)), 1);
    let r = json(&out);
    assert_eq!(r["advisory_db"]["embedded"], true, "{err}");
    assert!(findings(&r, "advisories")
        .iter()
        .any(|x| x["id"] == "RUSTSEC-2020-0071"));
    let note = err.lines().find(|l| l.starts_with("note: ")).expect(&err);
    assert!(
        note.contains("could not fetch advisory database https://github.com/RustSec/advisory-db (git: fatal: "),
        "{note}"
    );
    assert!(!err.contains("[\"clone\""), "no Debug output: {err}");
    assert!(
        !db_path.exists(),
        "the failed clone left {}",
        db_path.display()
    );
}

#[test]
fn another_database_that_cannot_be_fetched_is_one_line_a_help_and_the_command() {
    let (f, _home, db_path) = vulnerable_with_db_path();
    f.write(
        "deny.toml",
        &format!(
            "[advisories]\ndb-path = \"{}\"\ndb-urls = [\"https://github.com/example/advisory-db\"]\n",
            db_path.display()
        ),
    );
    let (_, err) = run(no_github(&mut audit_without_db(&f)), 2);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("error: could not fetch advisory database https://github.com/example/advisory-db (git: fatal: "),
        "{err}"
    );
    assert!(
        lines[1].contains("help: check the network") && !lines[1].contains("--offline"),
        "{err}"
    );
    assert!(
        err.contains(
            "ran: git clone --depth=1 --branch main https://github.com/example/advisory-db "
        ),
        "{err}"
    );
    assert!(!err.contains("[\""), "no Debug output: {err}");
    assert!(
        !db_path.exists(),
        "the failed clone left {}",
        db_path.display()
    );
    // Offline, the help says how to get it into the cache.
    let (_, err) = run(audit_without_db(&f).arg("--offline"), 2);
    assert!(
        err.starts_with("error: no copy of advisory database https://github.com/example/advisory-db is cached in "),
        "{err}"
    );
    assert!(err.contains("run once without --offline"), "{err}");
}
