//! `init`: SECURITY.md true to the project, kept honest by --check.

use crate::common::*;
use std::path::Path;

/// A project with release lines 0.9.x, 0.10.x, 1.x and 2.x in its tags, a deny.toml,
/// a hardened profile and a committed Cargo.lock.
fn released(extra_policy: &str) -> Fixture {
    let f = Fixture::new(
        "widget",
        &format!(
            "[package.metadata.secure-release.policy]\ncontact = \"security@widget.example\"\nsupported-lines = 2\nteam = [{{ name = \"Ada Lovelace\", github = \"ada\" }}]\nscope-out = [\"the examples/ directory\"]\n{extra_policy}\n\n{HARDENED}"
        ),
    );
    let manifest = f.read("Cargo.toml").replacen(
        "publish = false\n",
        "publish = false\ndescription = \"A small widget library\"\nrepository = \"https://github.com/widget-org/widget\"\n",
        1,
    );
    f.write("Cargo.toml", &manifest);
    f.write("deny.toml", "[licenses]\nallow = [\"MIT\"]\n");
    let f = f.lock();
    git(f.path(), &["init", "-q", "-b", "main"]);
    git(f.path(), &["add", "-A"]);
    git(f.path(), &["commit", "-qm", "init"]);
    for t in [
        "v0.9.0",
        "v0.10.1",
        "v0.10.2",
        "v1.0.0",
        "v1.2.0",
        "v2.0.0-rc.1",
    ] {
        git(f.path(), &["tag", t]);
    }
    f
}

fn init(f: &Fixture) -> assert_cmd::Command {
    let mut c = bin();
    c.current_dir(f.path()).arg("init");
    c
}

#[test]
fn golden_file_per_preset() {
    let f = released("");
    for preset in ["minimal", "standard", "full"] {
        let (out, _) = run(init(&f).args(["--dry-run", "--preset", preset]), 0);
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/init/{preset}.md"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &out).unwrap();
        }
        assert_eq!(
            out,
            std::fs::read_to_string(&golden).unwrap(),
            "golden {preset} (UPDATE_GOLDEN=1 to refresh)"
        );
        assert!(out.contains("| 1.x | 1.2.0 | ✅ yes |"), "{out}");
        assert!(
            out.contains("| 0.10.x | 0.10.2 | ✅ yes |"),
            "supported-lines = 2: {out}"
        );
        assert!(out.contains("| 0.9.x | 0.9.0 | ❌ no |"), "{out}");
        assert!(
            !out.contains("2.0.0"),
            "pre-releases are not release lines: {out}"
        );
        assert!(
            out.contains("https://github.com/widget-org/widget/security/advisories/new"),
            "{out}"
        );
        assert!(out.contains("<security@widget.example>"), "{out}");
        // Every table row has as many cells as its header.
        let mut cols = None;
        for line in out.lines() {
            if line.starts_with('|') {
                let n = line.matches('|').count() - line.matches("\\|").count();
                match cols {
                    None => cols = Some(n),
                    Some(c) => assert_eq!(c, n, "inconsistent table row: {line}"),
                }
            } else {
                cols = None;
            }
        }
    }
    let (std, _) = run(init(&f).args(["--dry-run"]), 0);
    assert!(
        std.contains("cargo-deny using the project's\n  `deny.toml`"),
        "{std}"
    );
    assert!(std.contains("`Cargo.lock` is committed"), "{std}");
    assert!(std.contains("The `release` profile builds with"), "{std}");
    assert!(
        !std.contains("Signed release tags"),
        "no signing key configured, no claim: {std}"
    );
    assert!(
        !std.contains("Continuous integration"),
        "no workflows, no claim: {std}"
    );
}

#[test]
fn practices_that_are_not_true_are_not_claimed() {
    let f = Fixture::new(
        "bare",
        "[package.metadata.secure-release.policy]\ncontact = \"sec@bare.example\"\n",
    )
    .lock();
    let (out, _) = run(init(&f).args(["--dry-run", "--preset", "full"]), 0);
    let lower = out.to_lowercase();
    assert!(
        !lower.contains("cargo-deny") && !lower.contains("deny.toml"),
        "{out}"
    );
    assert!(
        !out.contains("Cargo.lock` is committed"),
        "not a git repository: {out}"
    );
    assert!(
        !out.contains("profile builds with"),
        "profile is not hardened: {out}"
    );
    assert!(!out.contains("## Security Practices"), "{out}");
    assert!(!out.contains("mitigated"), "{out}");
    // Without tags, the current version is the supported line.
    assert!(out.contains("| 0.1.x | 0.1.0 | ✅ yes |"), "{out}");
}

#[test]
fn hostile_metadata_is_escaped() {
    let f = Fixture::new(
        "hostile",
        "[package.metadata.secure-release.policy]\ncontact = \"sec@h.example\"\nscope-in = [\"the `api` | <img src=x onerror=alert(1)>\"]\nteam = [{ name = \"Eve | <b>x</b>\\n# owned\", github = \"eve\" }]\n",
    );
    let m = f
        .read("Cargo.toml")
        .replacen("publish = false\n", "publish = false\ndescription = \"pwn | `x` <script>alert(1)</script>\\n# Title\"\nrepository = \"https://github.com/o/r) <script>\"\n", 1);
    f.write("Cargo.toml", &m);
    let f = f.lock();
    let (out, _) = run(init(&f).args(["--dry-run", "--preset", "full"]), 0);
    assert!(
        !out.contains("<script>") && !out.contains("<img") && !out.contains("<b>"),
        "{out}"
    );
    assert!(
        out.contains("pwn \\| \\`x\\` &lt;script&gt;alert\\(1\\)&lt;/script&gt; \\# Title"),
        "{out}"
    );
    assert!(
        out.contains("| Eve \\| &lt;b&gt;x&lt;/b&gt; \\# owned | @eve |"),
        "{out}"
    );
    assert!(
        !out.contains("github.com/o/r"),
        "an invalid repository URL is not used: {out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with("# owned") || l.starts_with("# Title")),
        "{out}"
    );
}

#[test]
fn no_contact_and_no_github_is_an_error_naming_the_key() {
    let f = Fixture::new("anon", "").lock();
    let (_, err) = run(init(&f).arg("--dry-run"), 2);
    assert!(
        err.starts_with("error: SECURITY.md needs a private way to report"),
        "{err}"
    );
    assert!(err.contains("contact = "), "{err}");
    // A plain package: the help names the table it can have.
    assert!(
        err.contains("under [package.metadata.secure-release.policy] in "),
        "{err}"
    );
    // A workspace root: the workspace's table.
    f.write(
        "Cargo.toml",
        &format!("{}\n[workspace]\n", f.read("Cargo.toml")),
    );
    let (_, err) = run(init(&f).arg("--dry-run"), 2);
    assert!(
        err.contains("under [workspace.metadata.secure-release.policy] in "),
        "{err}"
    );
}

#[test]
fn never_overwrites_without_force() {
    let f = released("");
    f.write("SECURITY.md", "hand written\n");
    let (_, err) = run(&mut init(&f), 2);
    assert!(err.contains("SECURITY.md already exists"), "{err}");
    assert_eq!(f.read("SECURITY.md"), "hand written\n");
    run(init(&f).arg("--force"), 0);
    assert!(f.read("SECURITY.md").starts_with("<!-- Generated by"));
    run(init(&f).args(["--output", ".github/SECURITY.md"]), 0);
    assert!(f.path().join(".github/SECURITY.md").exists());
}

#[test]
fn check_goes_stale_when_a_practice_or_a_release_line_changes() {
    let f = released("");
    run(&mut init(&f), 0);
    git(f.path(), &["add", "SECURITY.md"]);
    git(f.path(), &["commit", "-qm", "policy"]);
    let (out, _) = run(init(&f).arg("--check"), 0);
    assert!(out.contains("SECURITY.md is up to date"), "{out}");

    std::fs::rename(f.path().join("deny.toml"), f.path().join("deny.off")).unwrap();
    let (out, _) = run(init(&f).arg("--check"), 1);
    assert!(out.contains("-- **Dependency audit.**"), "{out}");
    assert!(out.contains("is out of date"), "{out}");
    std::fs::rename(f.path().join("deny.off"), f.path().join("deny.toml")).unwrap();
    run(init(&f).arg("--check"), 0);

    // Tags that point at a blob or a tree release nothing: still up to date.
    let blob = git(f.path(), &["hash-object", "-w", "Cargo.toml"]);
    let tree = git(f.path(), &["rev-parse", "HEAD^{tree}"]);
    git(f.path(), &["tag", "v9.0.0", blob.trim()]);
    git(
        f.path(),
        &["tag", "-a", "v8.0.0", "-m", "a tree", tree.trim()],
    );
    let (out, _) = run(init(&f).arg("--check"), 0);
    assert!(out.contains("SECURITY.md is up to date"), "{out}");

    git(f.path(), &["tag", "v3.0.0"]);
    let (out, _) = run(init(&f).arg("--check"), 1);
    assert!(out.contains("+| 3.x | 3.0.0 | ✅ yes |"), "{out}");
    assert!(!out.contains("9.0.0") && !out.contains("8.0.0"), "{out}");
}

#[test]
fn check_requires_scorecard_criteria() {
    let f = released("");
    let (rendered, _) = run(
        init(&f)
            .args(["--dry-run", "--template"])
            .arg(write_template(&f)),
        0,
    );
    f.write("SECURITY.md", &rendered);
    let (out, _) = run(
        init(&f)
            .args(["--check", "--template"])
            .arg(write_template(&f)),
        1,
    );
    assert!(out.contains("would not get full marks"), "{out}");
    assert!(out.contains("no disclosure timeline"), "{out}");
}

fn write_template(f: &Fixture) -> std::path::PathBuf {
    let p = f.path().join("tiny.md.j2");
    std::fs::write(&p, "# {{ name }}\n\nMail {{ contact }} about problems.\n").unwrap();
    p
}

#[test]
fn deny_scaffold_allows_the_graphs_licenses_and_the_audit_accepts_it() {
    let f = Fixture::new(
        "scaf",
        &format!("[package.metadata.secure-release.policy]\ncontact = \"s@scaf.example\"\n\n[dependencies]\nitoa = \"1\"\n\n{HARDENED}"),
    )
    .lock();
    run(init(&f).args(["--deny", "--dry-run"]), 0);
    assert!(
        !f.path().join("deny.toml").exists(),
        "--dry-run writes nothing"
    );
    run(init(&f).arg("--deny"), 0);
    let deny = f.read("deny.toml");
    // itoa is `MIT OR Apache-2.0`; the fixture itself is unpublished, so not judged.
    assert!(deny.contains("allow = [\n    \"MIT\",\n]\n"), "{deny}");
    let (out, _) = run(f.audit().args(["--format", "json"]), 0);
    let r = json(&out);
    assert!(
        findings(&r, "licenses")
            .iter()
            .all(|x| x["severity"] != "error"),
        "{r:#}"
    );
    assert!(f.read("SECURITY.md").contains("Dependency audit"));
    let before = f.read("deny.toml");
    let (out, _) = run(
        init(&f).args(["--deny", "--dry-run", "--output", "OTHER.md"]),
        0,
    );
    assert!(
        out.starts_with("# Written by `cargo secure-release init --deny`"),
        "{out}"
    );
    assert_eq!(before, f.read("deny.toml"));
    let (_, err) = run(init(&f).args(["--deny", "--output", "OTHER.md"]), 2);
    assert!(err.contains("deny.toml already exists"), "{err}");
}

#[test]
fn harden_reuses_the_fixer_and_respects_existing_values() {
    let f = Fixture::new(
        "hard",
        "[package.metadata.secure-release.policy]\ncontact = \"s@hard.example\"\n\n[profile.release]\nlto = \"thin\" # chosen\n",
    )
    .lock();
    run(init(&f).args(["--harden", "--dry-run"]), 0);
    assert!(f.read("Cargo.toml").contains("lto = \"thin\" # chosen"));
    let (_, err) = run(init(&f).arg("--harden"), 0);
    assert!(err.contains("left as the project set them"), "{err}");
    let m = f.read("Cargo.toml");
    assert!(
        m.contains("lto = \"thin\" # chosen\ncodegen-units = 1\nstrip = \"symbols\"\n"),
        "{m}"
    );
    run(init(&f).args(["--harden", "--force"]), 0);
    assert!(f.read("Cargo.toml").contains("lto = \"fat\" # chosen\n"));
    assert!(f.read("SECURITY.md").contains("profile builds with"));
}

#[test]
fn signed_tags_are_claimed_only_when_the_newest_tag_verifies() {
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;
    let f = released("signing-key = \"keys/release.asc\"");
    let (cert, _) = CertBuilder::general_purpose(Some("Rel <rel@widget.example>"))
        .generate()
        .unwrap();
    f.write(
        "keys/release.asc",
        &String::from_utf8(cert.armored().to_vec().unwrap()).unwrap(),
    );
    let secret = f.path().join("../widget-secret.asc");
    std::fs::write(&secret, cert.as_tsk().armored().to_vec().unwrap()).unwrap();
    git(f.path(), &["add", "-A"]);
    git(f.path(), &["commit", "-qm", "key"]);
    // The newest release (v1.2.0) is a lightweight tag: no claim.
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(!out.contains("Signed release tags"), "{out}");
    // Version 1.3.0 tagged and signed by our own tool: claimed, with the fingerprint.
    let m = f
        .read("Cargo.toml")
        .replace("version = \"0.1.0\"", "version = \"1.3.0\"");
    f.write("Cargo.toml", &m);
    std::process::Command::new("cargo")
        .args(["update", "-q", "--workspace", "--offline"])
        .current_dir(f.path())
        .status()
        .unwrap();
    git(f.path(), &["commit", "-qam", "1.3.0"]);
    let mut t = bin();
    t.current_dir(f.path())
        .args(["tag", "--no-audit", "--key"])
        .arg(&secret)
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org");
    run(&mut t, 0);
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(out.contains("Signed release tags"), "{out}");
    assert!(out.contains(&cert.fingerprint().to_hex()), "{out}");
    assert!(out.contains("git verify-tag v1.3.0"), "{out}");
    assert!(
        out.contains("cargo secure-release verify v1.3.0 --cert keys/release.asc"),
        "{out}"
    );
    let _ = std::fs::remove_file(secret);
}

/// Regression: a profile written as an inline table was read as Cargo's defaults, so
/// `--harden` replaced a value the project had set.
#[test]
fn harden_keeps_values_set_in_an_inline_table() {
    let f = Fixture::new(
        "inline",
        "[package.metadata.secure-release.policy]\ncontact = \"s@inline.example\"\n\n[profile]\nrelease = { lto = \"thin\" }\n",
    )
    .lock();
    let (_, err) = run(init(&f).arg("--harden"), 0);
    assert!(err.contains("left as the project set them"), "{err}");
    assert!(err.contains("`lto`"), "{err}");
    let m = f.read("Cargo.toml");
    assert!(m.contains("lto = \"thin\""), "{m}");
    assert!(m.contains("codegen-units = 1"), "{m}");
}

/// New files get the umask's mode, as git and cargo give them.
#[test]
fn new_files_get_the_umask_mode() {
    use std::os::unix::fs::PermissionsExt;
    let f = released("");
    std::fs::remove_file(f.path().join("SECURITY.md")).ok();
    let bin = assert_cmd::cargo::cargo_bin("cargo-secure-release");
    output_ok(
        std::process::Command::new("sh")
            .args(["-c", "umask 027 && exec \"$0\" init --output NEW.md"])
            .arg(&bin)
            .current_dir(f.path())
            .env_remove("CARGO_TARGET_DIR")
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache_dir()),
    );
    let mode = std::fs::metadata(f.path().join("NEW.md"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
}

/// The checked-binaries practice is claimed only when a workflow runs `audit --artifacts`.
#[test]
fn checked_binaries_are_claimed_only_when_ci_checks_them() {
    let f = released("");
    f.write(".github/workflows/ci.yml", "on: push\njobs: {}\n");
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(!out.contains("Checked release binaries"), "{out}");
    f.write(
        ".github/workflows/release.yml",
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: cargo secure-release audit --artifacts\n",
    );
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(out.contains("**Checked release binaries.**"), "{out}");
    assert!(out.contains("(release.yml)"), "{out}");
}

/// Signed release files are claimed only when a workflow runs `attest`; a workflow
/// that merely mentions attestations claims nothing.
#[test]
fn signed_release_files_are_claimed_only_when_a_workflow_attests() {
    let f = released("");
    f.write(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: echo attestations come later\n",
    );
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(!out.contains("Signed release files"), "{out}");
    f.write(
        ".github/workflows/release.yml",
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: cargo secure-release attest dist/* --output-dir dist\n",
    );
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(out.contains("**Signed release files.**"), "{out}");
    assert!(
        out.contains("by `cargo secure-release attest` (release.yml)"),
        "{out}"
    );
}

/// The SBOM practice needs both the promise (`sbom = true` in the policy) and a
/// workflow that keeps it (runs `secure-release sbom`); either alone claims nothing.
#[test]
fn the_sbom_practice_needs_the_policy_and_a_workflow() {
    let workflow = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: cargo secure-release sbom --output sbom.cdx.json\n";
    let f = released("");
    f.write(".github/workflows/release.yml", workflow);
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(
        !out.contains("An SBOM with every release"),
        "no policy: {out}"
    );

    let f = released("sbom = true");
    f.write(".github/workflows/ci.yml", "on: push\njobs: {}\n");
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(
        !out.contains("An SBOM with every release"),
        "no workflow: {out}"
    );
    f.write(".github/workflows/release.yml", workflow);
    let (out, _) = run(init(&f).arg("--dry-run"), 0);
    assert!(out.contains("**An SBOM with every release.**"), "{out}");
    assert!(
        out.contains("`cargo secure-release sbom` in release.yml."),
        "{out}"
    );

    let f = released("sbom = \"yes\"");
    let (_, err) = run(init(&f).arg("--dry-run"), 2);
    assert!(
        err.contains("`sbom = \"yes\"` must be true or false"),
        "{err}"
    );
}

#[test]
fn an_init_that_fails_anywhere_writes_none_of_its_files() {
    // No contact and no GitHub repository: SECURITY.md cannot be written, so
    // deny.toml and the hardened profile are not written either.
    let f = Fixture::new("partial", "").lock();
    let manifest = f.read("Cargo.toml");
    let (_, err) = run(init(&f).args(["--deny", "--harden"]), 2);
    assert!(
        err.starts_with("error: SECURITY.md needs a private way to report"),
        "{err}"
    );
    assert!(
        !f.path().join("deny.toml").exists(),
        "deny.toml was written"
    );
    assert!(!f.path().join("SECURITY.md").exists());
    assert_eq!(f.read("Cargo.toml"), manifest);
    // SECURITY.md exists: the refusal comes before deny.toml is written.
    f.write("SECURITY.md", "hand written\n");
    let (_, err) = run(
        init(&f).args(["--deny", "--contact", "s@partial.example"]),
        2,
    );
    assert!(
        err.contains("SECURITY.md already exists; nothing was written"),
        "{err}"
    );
    assert!(
        !f.path().join("deny.toml").exists(),
        "deny.toml was written"
    );
    assert_eq!(f.read("Cargo.toml"), manifest);
}

#[test]
fn contact_from_the_command_line_is_recorded_so_check_agrees() {
    let f = Fixture::new("rec", "# keep this comment\n").lock();
    // CRLF line endings and the comment survive the edit.
    let crlf = f.read("Cargo.toml").replace('\n', "\r\n");
    f.write("Cargo.toml", &crlf);
    let (out, _) = run(
        init(&f).args(["--contact", "security@rec.example", "--dry-run"]),
        0,
    );
    assert!(
        out.contains("+[package.metadata.secure-release.policy]"),
        "{out}"
    );
    assert!(out.contains("+contact = \"security@rec.example\""), "{out}");
    assert_eq!(f.read("Cargo.toml"), crlf, "--dry-run writes nothing");
    let (_, err) = run(init(&f).args(["--contact", "security@rec.example"]), 0);
    assert!(
        err.contains("Cargo.toml: recorded contact in [package.metadata.secure-release.policy]"),
        "{err}"
    );
    let m = f.read("Cargo.toml");
    assert!(m.contains("# keep this comment\r\n"), "{m:?}");
    assert!(
        m.ends_with(
            "[package.metadata.secure-release.policy]\r\ncontact = \"security@rec.example\"\r\n"
        ),
        "{m:?}"
    );
    assert!(
        !m.replace("\r\n", "").contains('\n'),
        "line endings kept: {m:?}"
    );
    let (out, _) = run(init(&f).arg("--check"), 0);
    assert!(out.contains("SECURITY.md is up to date"), "{out}");
    // The same address again changes nothing; another one needs --force.
    run(
        init(&f).args(["--contact", "security@rec.example", "--force"]),
        0,
    );
    assert_eq!(f.read("Cargo.toml"), m);
    let (_, err) = run(init(&f).args(["--contact", "other@rec.example"]), 2);
    assert!(
        err.contains("already sets contact = \"security@rec.example\""),
        "{err}"
    );
    assert_eq!(f.read("Cargo.toml"), m);
    // A workspace root records it in the workspace's table.
    let w = Fixture::new("wsrec", "[workspace]\n").lock();
    run(init(&w).args(["--contact", "s@wsrec.example"]), 0);
    assert!(w
        .read("Cargo.toml")
        .contains("[workspace.metadata.secure-release.policy]\ncontact = \"s@wsrec.example\"\n"));
    run(init(&w).arg("--check"), 0);
}

#[test]
fn the_deny_toml_init_writes_passes_the_projects_own_crates() {
    // An unpublished crate with no license field (as `cargo new` makes it, plus
    // publish = false): [licenses.private] leaves it unjudged.
    let f = Fixture::new(
        "own",
        &format!("[package.metadata.secure-release.policy]\ncontact = \"s@own.example\"\n\n[dependencies]\nitoa = \"1\"\n\n{HARDENED}"),
    );
    f.write(
        "Cargo.toml",
        &f.read("Cargo.toml").replace("license = \"MIT\"\n", ""),
    );
    let f = f.lock();
    let (_, err) = run(init(&f).arg("--deny"), 0);
    assert!(!err.contains("has no `license`"), "{err}");
    let (out, _) = run(f.audit().args(["--format", "json"]), 0);
    assert!(findings(&json(&out), "licenses")
        .iter()
        .all(|x| x["severity"] != "error"));
    // A crate that may be published and has no license: no deny.toml can pass it
    // honestly; init says so, and the audit's finding names the fix.
    let p = Fixture::new(
        "pub",
        "[package.metadata.secure-release.policy]\ncontact = \"s@pub.example\"\n",
    );
    p.write(
        "Cargo.toml",
        &p.read("Cargo.toml")
            .replace("license = \"MIT\"\n", "")
            .replace("publish = false\n", ""),
    );
    let p = p.lock();
    let (_, err) = run(init(&p).arg("--deny"), 0);
    assert!(
        err.contains("note: `pub` has no `license` and may be published"),
        "{err}"
    );
    let (out, _) = run(p.audit().args(["--format", "json"]), 1);
    let r = json(&out);
    let unlicensed = findings(&r, "licenses")
        .into_iter()
        .find(|x| x["code"] == "unlicensed" && x["severity"] == "error")
        .expect("unlicensed");
    assert_eq!(unlicensed["location"]["file"], "Cargo.toml", "{unlicensed}");
    assert!(unlicensed["help"]
        .as_str()
        .unwrap()
        .contains("set `license`"));
}

/// The workflow practice is stated only while the workflow check passes on a
/// release workflow, and `--check` fails once it stops being true.
#[test]
fn the_workflow_practice_follows_the_workflow_check() {
    let f = Fixture::new(
        "wf-init",
        "[package.metadata.secure-release.policy]\ncontact = \"sec@wf.example\"\n",
    )
    .lock();
    let release = "name: release\non:\n  push:\n    tags: [\"v*\"]\npermissions:\n  contents: read\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: false\n      - run: |\n          cargo install --locked --path .\n          cargo secure-release verify \"$GITHUB_REF_NAME\"\n          cargo secure-release audit --locked\n          cargo build --release --locked\n          cargo secure-release attest target/release/wf-init\n";
    f.write(".github/workflows/release.yml", release);
    let (out, _) = run(init(&f).args(["--dry-run"]), 0);
    assert!(
        out.contains("**Hardened release workflows.** Release workflows pin actions by commit, grant least-privilege\n  tokens and run the release gates (release.yml)"),
        "{out}"
    );
    run(&mut init(&f), 0);
    run(init(&f).arg("--check"), 0);
    // An unpinned action: the practice is no longer true, and --check says so.
    f.write(
        ".github/workflows/release.yml",
        &release.replace(
            "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
            "actions/checkout@v4",
        ),
    );
    let (out, _) = run(init(&f).args(["--dry-run"]), 0);
    assert!(!out.contains("Hardened release workflows"), "{out}");
    run(init(&f).arg("--check"), 1);
    // A release workflow that skips a gate claims nothing either.
    f.write(
        ".github/workflows/release.yml",
        &release.replace(
            "          cargo secure-release attest target/release/wf-init\n",
            "",
        ),
    );
    let (out, _) = run(init(&f).args(["--dry-run"]), 0);
    assert!(!out.contains("Hardened release workflows"), "{out}");
}
