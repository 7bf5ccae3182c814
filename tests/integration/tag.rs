//! `tag` and `verify` on real git repositories, with keys generated here (sequoia and
//! GnuPG) and every tag checked by stock `git verify-tag` in a throwaway GNUPGHOME.

use crate::common::*;
use openpgp::cert::prelude::*;
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use tempfile::TempDir;

const PASSPHRASE: &str = "correct horse battery staple";

struct Repo {
    fx: Fixture,
    gnupg: TempDir,
    keys: TempDir,
}

impl Drop for Repo {
    fn drop(&mut self) {
        // gpg starts an agent per GNUPGHOME; stop it with its home.
        let _ = Std::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.gnupg.path())
            .output();
    }
}

impl Repo {
    fn new(deps: &str) -> Repo {
        let fx = Fixture::new("rel", &format!("{deps}\n{HARDENED}")).lock();
        let d = fx.path();
        git_ok(d, &["init", "-q", "-b", "main"]);
        git_ok(d, &["config", "user.name", "Release Manager"]);
        git_ok(d, &["config", "user.email", "release@example.org"]);
        git_ok(d, &["add", "-A"]);
        git_ok(d, &["commit", "-qm", "initial"]);
        let gnupg = TempDir::new().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(gnupg.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Repo {
            fx,
            gnupg,
            keys: TempDir::new().unwrap(),
        }
    }

    fn dir(&self) -> &Path {
        self.fx.path()
    }

    /// A v4 key made with sequoia, written as an armored secret key file (with
    /// passphrase) and an armored public certificate, the latter imported into GnuPG.
    fn sequoia_key(&self, name: &str, pass: Option<&str>) -> (PathBuf, PathBuf, openpgp::Cert) {
        let (cert, _) = CertBuilder::general_purpose(Some(format!(
            "{name} <{}@example.org>",
            name.to_lowercase()
        )))
        .set_password(pass.map(Into::into))
        .generate()
        .unwrap();
        let secret = self.keys.path().join(format!("{name}.secret.asc"));
        let public = self.keys.path().join(format!("{name}.public.asc"));
        std::fs::write(&secret, cert.as_tsk().armored().to_vec().unwrap()).unwrap();
        std::fs::write(&public, cert.armored().to_vec().unwrap()).unwrap();
        self.gpg(&["--import", public.to_str().unwrap()]);
        (secret, public, cert)
    }

    /// `git tag -s NAME -m MESSAGE` signed by GnuPG with the key `fpr`; must succeed.
    fn git_tag_s(&self, fpr: &str, name: &str, message: &str) {
        self.git_tag_s_at(fpr, name, "HEAD", message)
    }

    /// As `git_tag_s`, on the commit `target`.
    fn git_tag_s_at(&self, fpr: &str, name: &str, target: &str, message: &str) {
        let out = Std::new("git")
            .args([
                "-c",
                &format!("user.signingkey={fpr}"),
                "tag",
                "-s",
                name,
                target,
                "-m",
                message,
            ])
            .current_dir(self.dir())
            .env("GNUPGHOME", self.gnupg.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git tag -s: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// An ed25519 signing key made by GnuPG itself (no passphrase), with its
    /// fingerprint and its exported public certificate.
    fn gpg_key(&self) -> (String, PathBuf) {
        self.gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            "Gee Pee <gpg@example.org>",
            "ed25519",
            "sign",
            "never",
        ]);
        let listing = String::from_utf8_lossy(
            &self
                .gpg(&["--with-colons", "--list-keys", "gpg@example.org"])
                .stdout,
        )
        .into_owned();
        let fpr = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_string();
        let public = self.keys.path().join("gpg.asc");
        std::fs::write(&public, self.gpg(&["--armor", "--export", &fpr]).stdout).unwrap();
        (fpr, public)
    }

    fn gpg(&self, args: &[&str]) -> std::process::Output {
        let out = Std::new("gpg")
            .arg("--batch")
            .args(args)
            .env("GNUPGHOME", self.gnupg.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn verify_tag(&self, tag: &str) -> std::process::Output {
        Std::new("git")
            .args(["verify-tag", tag])
            .current_dir(self.dir())
            .env("GNUPGHOME", self.gnupg.path())
            .output()
            .unwrap()
    }

    fn tag(&self, key: &Path, extra: &[&str]) -> assert_cmd::Command {
        let mut c = bin();
        c.current_dir(self.dir())
            .arg("tag")
            .arg("--key")
            .arg(key)
            .args(["--passphrase-env", "CSR_TEST_PASSPHRASE", "--advisory-db"])
            .arg(advisory_db())
            .args(extra)
            .env("CSR_TEST_PASSPHRASE", PASSPHRASE);
        c
    }

    fn verify(&self, tag: &str, cert: &Path) -> assert_cmd::Command {
        let mut c = bin();
        c.current_dir(self.dir())
            .args(["verify", tag, "--cert"])
            .arg(cert);
        c
    }

    /// Refs and loose/packed objects: must not change when a command refuses.
    fn state(&self) -> (String, Vec<(PathBuf, Vec<u8>)>) {
        let refs = git_ok(self.dir(), &["for-each-ref"]);
        let objects = {
            let mut v = Vec::new();
            let mut stack = vec![self.dir().join(".git/objects")];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        v.push((p.clone(), std::fs::read(&p).unwrap()));
                    }
                }
            }
            v.sort();
            v
        };
        (refs, objects)
    }
}

#[test]
fn signed_tag_passes_git_verify_tag_fsck_and_our_verify() {
    let r = Repo::new("");
    let (secret, public, cert) = r.sequoia_key("Alice", Some(PASSPHRASE));
    let (out, err) = run(&mut r.tag(&secret, &[]), 0);
    assert!(out.contains("Created signed tag v0.1.0"), "{out}");
    assert!(out.contains(&cert.fingerprint().to_hex()), "{out}");

    let v = r.verify_tag("v0.1.0");
    assert!(
        v.status.success(),
        "git verify-tag: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(String::from_utf8_lossy(&v.stderr).contains("Good signature"));
    git_ok(r.dir(), &["fsck", "--strict"]);

    let (vout, _) = run(&mut r.verify("v0.1.0", &public), 0);
    assert!(
        vout.contains("Good signature on tag `v0.1.0` from Alice <alice@example.org>"),
        "{vout}"
    );
    assert!(vout.contains(&cert.fingerprint().to_hex()), "{vout}");

    // The message attests what was released.
    let body = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    let lock_hash = sha256_hex(&std::fs::read(r.dir().join("Cargo.lock")).unwrap());
    assert!(
        body.contains("\n\nRelease rel 0.1.0\n\nReleased-with: cargo-secure-release "),
        "{body}"
    );
    assert!(
        body.contains(&format!("Cargo-lock-sha256: {lock_hash}\n")),
        "{body}"
    );
    assert!(
        body.contains("Advisory-db: snapshot, newest advisory "),
        "{body}"
    );
    assert!(body.contains("Audit: 0 errors, "), "{body}");
    assert!(body.starts_with("object "), "{body}");
    assert!(
        body.contains("tagger Release Manager <release@example.org> "),
        "{body}"
    );

    // Secrets never reach the output.
    let armor = std::fs::read_to_string(&secret).unwrap();
    let secret_body: String = armor.lines().filter(|l| l.len() > 40).take(3).collect();
    for text in [&out, &err, &vout] {
        assert!(!text.contains(PASSPHRASE));
        assert!(!text.contains("PRIVATE KEY"));
        for l in armor.lines().filter(|l| l.len() > 40) {
            assert!(!text.contains(l), "secret key material printed");
        }
    }
    assert!(!secret_body.is_empty());
}

#[test]
fn tampered_tag_fails_git_and_our_verify() {
    let r = Repo::new("");
    let (secret, public, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    run(&mut r.tag(&secret, &[]), 0);
    let body = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    let forged = body.replace("Release rel 0.1.0", "Release rel 0.1.1");
    write_tag_object(r.dir(), "forged", &forged);
    assert!(
        !r.verify_tag("forged").status.success(),
        "git verify-tag must reject a tampered tag"
    );
    let (vout, _) = run(&mut r.verify("forged", &public), 1);
    assert!(vout.starts_with("BAD: "), "{vout}");
}

#[test]
fn refusals_change_no_refs_and_no_objects() {
    let r = Repo::new("");
    let (secret, _, _) = r.sequoia_key("Alice", Some(PASSPHRASE));

    // An explicit name that does not match the version.
    let before = r.state();
    let (_, err) = run(&mut r.tag(&secret, &["v9.9.9"]), 1);
    assert!(err.contains("does not match version 0.1.0"), "{err}");
    assert_eq!(before, r.state());

    // A dirty work tree.
    r.fx.write("NOTES.txt", "uncommitted\n");
    let before = r.state();
    let (_, err) = run(&mut r.tag(&secret, &[]), 1);
    assert!(err.contains("uncommitted changes (NOTES.txt)"), "{err}");
    assert_eq!(before, r.state());
    std::fs::remove_file(r.dir().join("NOTES.txt")).unwrap();

    // A wrong passphrase.
    let before = r.state();
    let (out, err) = run(r.tag(&secret, &[]).env("CSR_TEST_PASSPHRASE", "wrong"), 2);
    assert!(err.starts_with("error: wrong passphrase for key "), "{err}");
    assert!(
        !out.contains("wrong") && !err.contains("\nwrong"),
        "passphrase not echoed"
    );
    assert_eq!(before, r.state());

    // An existing tag is never overwritten.
    run(&mut r.tag(&secret, &[]), 0);
    let before = r.state();
    let (_, err) = run(&mut r.tag(&secret, &[]), 1);
    assert!(err.contains("tag `v0.1.0` already exists"), "{err}");
    assert_eq!(before, r.state());
}

#[test]
fn a_vulnerable_dependency_blocks_the_tag_unless_no_audit() {
    let r = Repo::new("[dependencies]\ntime = \"=0.1.43\"\n");
    let (secret, public, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    let before = r.state();
    let (_, err) = run(&mut r.tag(&secret, &[]), 1);
    assert!(err.contains("RUSTSEC-2020-0071"), "{err}");
    assert!(err.contains("tag `v0.1.0` was not created"), "{err}");
    assert_eq!(before, r.state());

    run(&mut r.tag(&secret, &["--no-audit"]), 0);
    let body = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    assert!(body.contains("Audit: skipped (--no-audit)\n"), "{body}");
    assert!(r.verify_tag("v0.1.0").status.success());
    run(&mut r.verify("v0.1.0", &public), 0);
}

#[test]
fn dry_run_prints_the_object_and_writes_nothing() {
    let r = Repo::new("");
    let before = r.state();
    let mut c = bin();
    c.current_dir(r.dir())
        .args(["tag", "--dry-run", "--advisory-db"])
        .arg(advisory_db())
        .env("GIT_COMMITTER_DATE", "1700000000 +0100");
    let (out, _) = run(&mut c, 0);
    let head = git_ok(r.dir(), &["rev-parse", "HEAD"]);
    assert!(out.starts_with(&format!("object {}type commit\ntag v0.1.0\ntagger Release Manager <release@example.org> 1700000000 +0100\n\nRelease rel 0.1.0\n", head)), "{out}");
    assert_eq!(before, r.state());
}

#[test]
fn signingkey_selects_a_key_from_a_keyring() {
    let r = Repo::new("");
    let (a, _, _) = r.sequoia_key("Alice", None);
    let (b, bpub, bcert) = r.sequoia_key("Bob", None);
    let keyring = r.keys.path().join("ring.asc");
    let ring = format!(
        "{}{}",
        std::fs::read_to_string(&a).unwrap(),
        std::fs::read_to_string(&b).unwrap()
    );
    std::fs::write(&keyring, ring).unwrap();
    let (_, err) = run(&mut r.tag(&keyring, &[]), 2);
    assert!(err.contains("holds 2 certificates"), "{err}");
    git_ok(r.dir(), &["config", "user.signingkey", "bob@example.org"]);
    let (out, _) = run(&mut r.tag(&keyring, &[]), 0);
    assert!(out.contains(&bcert.fingerprint().to_hex()), "{out}");
    assert!(r.verify_tag("v0.1.0").status.success());
    let mut v = r.verify("v0.1.0", &bpub);
    v.args(["--signer", &bcert.fingerprint().to_hex()]);
    run(&mut v, 0);
    let mut v = r.verify("v0.1.0", &bpub);
    v.args(["--signer", "0000000000000000000000000000000000000000"]);
    let (vout, _) = run(&mut v, 1);
    assert!(
        vout.contains("not one of the --signer fingerprints"),
        "{vout}"
    );
}

#[test]
fn v6_keys_are_refused_with_the_reason() {
    let r = Repo::new("");
    let (cert, _) = CertBuilder::general_purpose(Some("Six <six@example.org>"))
        .set_profile(openpgp::Profile::RFC9580)
        .unwrap()
        .generate()
        .unwrap();
    let f = r.keys.path().join("v6.asc");
    std::fs::write(&f, cert.as_tsk().armored().to_vec().unwrap()).unwrap();
    let before = r.state();
    let (_, err) = run(&mut r.tag(&f, &[]), 2);
    assert!(
        err.contains("v6 (RFC 9580) key") && err.contains("GnuPG 2.2"),
        "{err}"
    );
    assert_eq!(before, r.state());
}

#[test]
fn verify_accepts_tags_made_by_git_tag_s_with_gpg() {
    let r = Repo::new("");
    let (fpr, public) = r.gpg_key();
    r.git_tag_s(&fpr, "v0.1.0", "made by git");
    let (vout, _) = run(&mut r.verify("v0.1.0", &public), 0);
    assert!(vout.contains("Gee Pee <gpg@example.org>"), "{vout}");

    // Unsigned and lightweight tags are not good signatures.
    git_ok(r.dir(), &["tag", "-a", "unsigned", "-m", "no sig"]);
    git_ok(r.dir(), &["tag", "light"]);
    let (vout, _) = run(&mut r.verify("unsigned", &public), 1);
    assert!(vout.contains("is not signed"), "{vout}");
    let (vout, _) = run(&mut r.verify("light", &public), 1);
    assert!(vout.contains("lightweight"), "{vout}");

    // A certificate that did not make the signature: bad.
    let (_, other, _) = r.sequoia_key("Mallory", None);
    let (vout, _) = run(&mut r.verify("v0.1.0", &other), 1);
    assert!(vout.starts_with("BAD: "), "{vout}");
}

#[test]
fn verify_json_carries_the_same_verdict_and_follows_its_schema() {
    let r = Repo::new("");
    let (secret, public, cert) = r.sequoia_key("Alice", Some(PASSPHRASE));
    run(&mut r.tag(&secret, &[]), 0);
    let (out, _) = run(r.verify("v0.1.0", &public).args(["--format", "json"]), 0);
    let v = json(&out);
    assert_valid(verify_schema(), &v);
    assert_eq!(v["good"], true, "{v:#}");
    assert_eq!(v["signature"]["verdict"], "good");
    assert_eq!(v["signature"]["format"], "openpgp");
    assert_eq!(v["signature"]["identity"], "Alice <alice@example.org>");
    assert_eq!(v["signature"]["fingerprint"], cert.fingerprint().to_hex());
    let keys: Vec<(&str, bool)> = v["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap(), c["holds"].as_bool().unwrap()))
        .collect();
    assert_eq!(keys, [("Cargo-lock-sha256", true), ("Package", true)]);

    // A tampered tag: the same BAD verdict, exit 1, in JSON too.
    let body = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    write_tag_object(
        r.dir(),
        "forged",
        &body.replace("Release rel 0.1.0", "Release rel 0.1.1"),
    );
    let (out, _) = run(r.verify("forged", &public).args(["--format", "json"]), 1);
    let v = json(&out);
    assert_valid(verify_schema(), &v);
    assert_eq!(v["good"], false);
    assert_eq!(v["signature"]["verdict"], "bad");
    assert!(
        v["signature"]["reason"]
            .as_str()
            .unwrap()
            .contains("`forged`"),
        "{v:#}"
    );
}

#[test]
fn tag_json_names_the_object_git_has() {
    let r = Repo::new("");
    let (secret, _, cert) = r.sequoia_key("Alice", Some(PASSPHRASE));
    // --dry-run: the object that would be signed, nothing created.
    let mut c = r.tag(&secret, &["--dry-run", "--report-format", "json"]);
    let v = json(&run(&mut c, 0).0);
    assert_eq!(v["created"], false);
    assert_eq!(v["object"], serde_json::Value::Null);
    assert!(!git_ok(r.dir(), &["tag", "-l"]).contains("v0.1.0"));
    let dry_payload = v["payload"].as_str().unwrap().to_string();

    let v = json(&run(&mut r.tag(&secret, &["--report-format", "json"]), 0).0);
    assert_eq!(v["created"], true);
    assert_eq!(
        (
            v["tag"].as_str(),
            v["package"].as_str(),
            v["version"].as_str()
        ),
        (Some("v0.1.0"), Some("rel"), Some("0.1.0"))
    );
    let oid = git_ok(r.dir(), &["rev-parse", "refs/tags/v0.1.0"]);
    assert_eq!(v["object"].as_str(), Some(oid.trim()));
    // The payload is the tag object git stores, up to the signature.
    let body = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    let payload = v["payload"].as_str().unwrap();
    assert!(body.starts_with(payload), "{body}\n---\n{payload}");
    assert!(
        body[payload.len()..].starts_with("-----BEGIN PGP SIGNATURE-----"),
        "{body}"
    );
    // The dry run showed the same object but for the tagger's clock.
    let header = |p: &str| {
        p.lines()
            .filter(|l| !l.starts_with("tagger "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(header(&dry_payload), header(payload));
    assert!(
        v["signature"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains(&cert.fingerprint().to_hex())),
        "{v:#}"
    );
}

#[test]
fn a_message_that_reads_as_a_claim_is_refused_and_writes_nothing() {
    let r = Repo::new("");
    let (secret, _, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    for message in [
        "Release\n\nAudit: 0 errors",
        "Cargo-lock-sha256: 00\nmore",
        "package : x 1 Cargo.toml",
    ] {
        let before = r.state();
        let (_, err) = run(&mut r.tag(&secret, &["-m", message]), 1);
        assert!(
            err.contains("reads as one of the tag's claims"),
            "{message:?}: {err}"
        );
        assert_eq!(before, r.state(), "{message:?}");
    }
}

/// A ref re-pointed at another release's signed tag object: git verify-tag finds the
/// signature good; the object names another release, so it is BAD for us.
#[test]
fn a_ref_pointing_at_another_tags_object_is_bad() {
    let r = Repo::new("");
    let (secret, public, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    run(&mut r.tag(&secret, &[]), 0);
    let oid = git_ok(r.dir(), &["rev-parse", "refs/tags/v0.1.0"]);
    git_ok(r.dir(), &["update-ref", "refs/tags/rel-0.1.0", oid.trim()]);
    assert!(
        r.verify_tag("rel-0.1.0").status.success(),
        "git finds the signature good"
    );
    let (out, _) = run(&mut r.verify("rel-0.1.0", &public), 1);
    assert!(
        out.starts_with("Good signature on tag `rel-0.1.0`"),
        "{out}"
    );
    assert!(
        out.contains(
            "BAD: tag `rel-0.1.0`: the signed tag object names itself `v0.1.0`, not `rel-0.1.0`"
        ),
        "{out}"
    );
    let v = json(&run(r.verify("rel-0.1.0", &public).args(["--format", "json"]), 1).0);
    assert_eq!(v["claims"][0]["key"], "tag", "{v:#}");
    assert_eq!(v["good"], false);
}

/// A tagged tree git can hold but no file system can: two entries with one name.
/// `verify --audit` says so naming the entry (exit 2), never a bare `File exists`.
#[test]
fn a_tagged_tree_with_a_duplicate_entry_is_named() {
    let r = Repo::new("");
    let (fpr, public) = r.gpg_key();
    let blob = git_ok(r.dir(), &["hash-object", "-w", "Cargo.toml"]);
    let tree = Std::new("git")
        .args(["mktree"])
        .current_dir(r.dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            let line = format!("100644 blob {}\tCargo.toml\n", blob.trim());
            c.stdin
                .take()
                .unwrap()
                .write_all(line.repeat(2).as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let tree = String::from_utf8(tree.stdout).unwrap();
    let commit = git_ok(r.dir(), &["commit-tree", tree.trim(), "-m", "dup"]);
    r.git_tag_s_at(&fpr, "dup", commit.trim(), "dup");
    let mut c = r.verify("dup", &public);
    c.args(["--audit", "--offline", "--advisory-db"])
        .arg(advisory_db());
    let (_, err) = run(&mut c, 2);
    assert!(
        err.starts_with("error: the tree of refs/tags/dup has two entries named `Cargo.toml`"),
        "{err}"
    );
}

/// The trailer is read as git reads trailers, the last paragraph only, and every
/// claim in it must be single and known: a second, false hash after a true one, or a
/// true one in the body above a false trailer, is BAD (the signature is good).
#[test]
fn claims_are_read_from_the_trailer_alone_and_each_once() {
    let r = Repo::new("");
    let (fpr, public) = r.gpg_key();
    let lock = sha256_hex(&std::fs::read(r.dir().join("Cargo.lock")).unwrap());
    let wrong = "0".repeat(64);
    let cases = [
        (
            "second",
            format!("Release\n\nCargo-lock-sha256: {lock}\nCargo-lock-sha256: {wrong}\n"),
            "claimed twice",
        ),
        (
            "body",
            format!("Release\n\nCargo-lock-sha256: {lock}\n\nCargo-lock-sha256: {wrong}\n"),
            "above the tag's trailer",
        ),
        (
            "unknown",
            format!("Release\n\nCargo-lock-sha256: {lock}\nSigned-off-by: A <a@b.c>\n"),
            "not one of the claims",
        ),
    ];
    for (name, message, why) in &cases {
        r.git_tag_s(&fpr, name, message);
        let (vout, _) = run(&mut r.verify(name, &public), 1);
        assert!(vout.starts_with("Good signature on tag"), "{vout}");
        assert!(
            vout.contains(&format!("BAD: tag `{name}`: line ")),
            "{vout}"
        );
        assert!(vout.contains(why), "{name}: {vout}");
        let (out, _) = run(r.verify(name, &public).args(["--format", "json"]), 1);
        let v = json(&out);
        assert_valid(verify_schema(), &v);
        assert_eq!(v["claims"][0]["key"], serde_json::Value::Null, "{v:#}");
        assert_eq!(v["claims"][0]["holds"], false);
    }
    // One true claim in the trailer: good.
    let message = format!("Release\n\nCargo-lock-sha256: {lock}\n");
    r.git_tag_s(&fpr, "good", &message);
    let (vout, _) = run(&mut r.verify("good", &public), 0);
    assert!(vout.contains("Cargo-lock-sha256 (line "), "{vout}");
}

/// With `--features gpg-agent`: the secret key lives in a throwaway GNUPGHOME's agent
/// and never in a file we read; only the public certificate is passed.
#[cfg(feature = "gpg-agent")]
#[test]
fn tag_signed_through_gpg_agent() {
    let r = Repo::new("");
    r.gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        "Agent User <agent@example.org>",
        "ed25519",
        "sign",
        "never",
    ]);
    let public = r.keys.path().join("agent.asc");
    std::fs::write(
        &public,
        r.gpg(&["--armor", "--export", "agent@example.org"]).stdout,
    )
    .unwrap();
    let tag = |key: &Path| {
        let mut c = bin();
        c.current_dir(r.dir())
            .env("GNUPGHOME", r.gnupg.path())
            .args(["tag", "--agent", "--key"])
            .arg(key)
            .arg("--advisory-db")
            .arg(advisory_db());
        c
    };
    let (out, _) = run(&mut tag(&public), 0);
    assert!(
        out.contains("signed by Agent User <agent@example.org>"),
        "{out}"
    );
    let v = r.verify_tag("v0.1.0");
    assert!(
        v.status.success(),
        "git verify-tag: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    git_ok(r.dir(), &["fsck", "--strict"]);
    run(&mut r.verify("v0.1.0", &public), 0);

    // A certificate whose secret key is not in the agent: refused, nothing written.
    let (_, other_public, _) = r.sequoia_key("Stranger", None);
    git_ok(r.dir(), &["tag", "-d", "v0.1.0"]);
    let before = r.state();
    let (_, err) = run(&mut tag(&other_public), 2);
    assert!(err.starts_with("error: signing with key "), "{err}");
    assert_eq!(before, r.state());
}

#[cfg(not(feature = "gpg-agent"))]
#[test]
fn agent_without_the_feature_says_how_to_get_it() {
    let r = Repo::new("");
    let (_, public, _) = r.sequoia_key("Alice", None);
    let before = r.state();
    let (_, err) = run(&mut r.tag(&public, &["--agent"]), 2);
    assert!(
        err.starts_with("error: --agent needs the gpg-agent feature"),
        "{err}"
    );
    assert!(err.contains("--features gpg-agent"), "{err}");
    assert_eq!(before, r.state());
}

/// Regression: a message that quotes a signature armor line. git splits at the last
/// such line, and so must we, or our verify says BAD where `git verify-tag` says good.
#[test]
fn a_quoted_armor_line_in_the_message_verifies_as_git_says() {
    let r = Repo::new("");
    let (fpr, public) = r.gpg_key();
    let message = "Release notes quote this:\n-----BEGIN PGP SIGNATURE-----\nnot a signature\n";
    r.git_tag_s(&fpr, "quoted", message);
    assert!(
        r.verify_tag("quoted").status.success(),
        "git verify-tag accepts it"
    );
    let (vout, _) = run(&mut r.verify("quoted", &public), 0);
    assert!(vout.starts_with("Good signature"), "{vout}");

    // Our own tag refuses to write such a message at all, and writes nothing.
    let (secret, _, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    let before = r.state();
    let (_, err) = run(&mut r.tag(&secret, &["--message", message]), 1);
    assert!(
        err.starts_with("error: the tag message's line 2 starts a signature block"),
        "{err}"
    );
    assert_eq!(before, r.state());
}

/// Regression: a newline or `<`/`>` in the tagger identity from the environment made
/// a tag object `git fsck` rejects. It is cleaned the way git cleans identities.
#[test]
fn a_hostile_tagger_identity_is_cleaned_and_fsck_accepts_the_tag() {
    let r = Repo::new("");
    let (secret, public, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    let mut c = r.tag(&secret, &["--no-audit"]);
    c.env(
        "GIT_COMMITTER_NAME",
        "Eve\ntagger Mallory <mallory@example.org> 0 +0000",
    )
    .env("GIT_COMMITTER_EMAIL", "<eve@example.org>\n");
    run(&mut c, 0);
    let raw = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    let tagger = raw.lines().find(|l| l.starts_with("tagger ")).unwrap();
    assert!(
        tagger
            .starts_with("tagger Evetagger Mallory mallory@example.org 0 +0000 <eve@example.org> "),
        "{tagger}"
    );
    assert_eq!(raw.lines().filter(|l| l.starts_with("tagger ")).count(), 1);
    let fsck = git_raw(r.dir(), &["fsck", "--strict"]);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    assert!(r.verify_tag("v0.1.0").status.success());
    run(&mut r.verify("v0.1.0", &public), 0);
}

/// Regression: the tag-name check was `ends_with(version)`, so `v10.1.0` on 0.1.0
/// made a signed release tag.
#[test]
fn only_the_exact_release_tag_name_is_accepted() {
    let r = Repo::new("");
    let (secret, _, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    for name in ["v10.1.0", "x0.1.0", "0.1.0", "v0.1.0.lock"] {
        let before = r.state();
        let (_, err) = run(&mut r.tag(&secret, &["--no-audit", name]), 1);
        assert!(
            err.contains("does not match version 0.1.0"),
            "{name}: {err}"
        );
        assert_eq!(before, r.state());
    }
    // A workspace pattern from the config.
    let toml = r.fx.read("Cargo.toml");
    r.fx.write(
        "Cargo.toml",
        &format!(
            "{toml}\n[package.metadata.secure-release]\ntag-name = \"{{name}}-v{{version}}\"\n"
        ),
    );
    git_ok(r.dir(), &["commit", "-qam", "tag-name"]);
    let (out, _) = run(&mut r.tag(&secret, &["--no-audit"]), 0);
    assert!(out.starts_with("Created signed tag rel-v0.1.0 "), "{out}");
}

/// Two tags racing on one repository: one wins; the other is refused (exit 1) and
/// leaves no object behind.
#[test]
fn racing_tags_one_wins_and_the_loser_leaves_no_object() {
    let r = Repo::new("");
    let (secret, _, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    let (_, objects_before) = r.state();
    let spawn = || {
        let mut c =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("cargo-secure-release"));
        c.current_dir(r.dir())
            .args([
                "tag",
                "--no-audit",
                "--passphrase-env",
                "CSR_TEST_PASSPHRASE",
                "--key",
            ])
            .arg(&secret)
            .env("CSR_TEST_PASSPHRASE", PASSPHRASE)
            .env("CARGO_SECURE_RELEASE_CACHE_DIR", cache_dir())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    for _ in 0..3 {
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let mut codes = [a.status.code(), b.status.code()];
        codes.sort();
        let errs = format!(
            "{}{}",
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stderr)
        );
        // The first round has a winner; later rounds find the tag made.
        assert!(
            codes == [Some(0), Some(1)] || codes == [Some(1), Some(1)],
            "{codes:?}: {errs}"
        );
        assert!(
            errs.is_empty() || errs.contains("already exists") || errs.contains("could not lock"),
            "{errs}"
        );
    }
    let (_, objects_after) = r.state();
    assert_eq!(
        objects_after.len(),
        objects_before.len() + 1,
        "exactly one tag object was written"
    );
}

/// The tag attests the SBOM: `Sbom-sha256` is the hash of what
/// `cargo secure-release sbom -p NAME` writes for the tagged commit.
#[test]
fn the_tag_trailer_carries_the_sbom_hash() {
    let r = Repo::new("[dependencies]\nitoa = \"1\"\n");
    let (secret, _, _) = r.sequoia_key("Alice", Some(PASSPHRASE));
    run(&mut r.tag(&secret, &["--no-audit"]), 0);
    let raw = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    let trailer = raw
        .lines()
        .find_map(|l| l.strip_prefix("Sbom-sha256: "))
        .expect("an Sbom-sha256 trailer")
        .to_string();
    let host = String::from_utf8(
        Std::new("rustc")
            .args(["--print", "host-tuple"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let (trailer, platform) = trailer.split_once(' ').unwrap();
    assert_eq!(platform, format!("(CycloneDX, {})", host.trim()));
    let mut c = bin();
    c.current_dir(r.dir())
        .args(["sbom", "-p", "rel"])
        .env_remove("SOURCE_DATE_EPOCH");
    let (sbom, _) = run(&mut c, 0);
    let mut hasher = Std::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    hasher
        .stdin
        .take()
        .unwrap()
        .write_all(sbom.as_bytes())
        .unwrap();
    let out = String::from_utf8(hasher.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(out.split_whitespace().next().unwrap(), trailer);
    assert!(
        sbom.contains("pkg:cargo/itoa@"),
        "the SBOM lists the dependency"
    );
}

/// The trailer is checked against the tagged tree: a well-signed tag whose
/// `Cargo-lock-sha256` does not match its Cargo.lock is BAD, although the signature
/// itself verifies (`git verify-tag` says good).
#[test]
fn verify_checks_the_cargo_lock_claim_against_the_tagged_tree() {
    use openpgp::policy::StandardPolicy;
    use openpgp::serialize::stream::{Armorer, Message, Signer};
    use std::io::Write;
    let r = Repo::new("");
    let (secret, public, cert) = r.sequoia_key("Bob", None);
    let (payload, _) = run(&mut r.tag(&secret, &["--no-audit", "--dry-run"]), 0);
    // A genuine tag: the claim holds.
    run(&mut r.tag(&secret, &["--no-audit"]), 0);
    let (out, _) = run(&mut r.verify("v0.1.0", &public), 0);
    assert!(out.contains("matches the tagged Cargo.lock"), "{out}");

    // The same payload with a false claim, signed by the same key, under another name.
    let forged: String = payload
        .lines()
        .map(|l| {
            if l.starts_with("Cargo-lock-sha256: ") {
                format!("Cargo-lock-sha256: {}", "0".repeat(64))
            } else if l == "tag v0.1.0" {
                "tag forged".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let p = StandardPolicy::new();
    let keypair = cert
        .keys()
        .with_policy(&p, None)
        .supported()
        .for_signing()
        .secret()
        .next()
        .unwrap()
        .key()
        .clone()
        .into_keypair()
        .unwrap();
    let mut sig = Vec::new();
    {
        let m = Message::new(&mut sig);
        let m = Armorer::new(m)
            .kind(openpgp::armor::Kind::Signature)
            .build()
            .unwrap();
        let mut s = Signer::new(m, keypair).unwrap().detached().build().unwrap();
        s.write_all(forged.as_bytes()).unwrap();
        s.finalize().unwrap();
    }
    let object = format!("{forged}{}", String::from_utf8(sig).unwrap());
    write_tag_object(r.dir(), "forged", &object);
    assert!(
        r.verify_tag("forged").status.success(),
        "the signature itself is good"
    );
    let (out, _) = run(&mut r.verify("forged", &public), 1);
    assert!(out.contains("BAD: tag `forged`: line "), "{out}");
    assert!(out.contains("says Cargo-lock-sha256 0000"), "{out}");
}

/// The signer policy with OpenPGP certificates: `tag` refuses a key whose
/// certificate is not in the committed file (refs and objects unchanged), signs
/// with one that is, and `verify` with no --cert judges by the policy.
#[test]
fn an_openpgp_signer_policy_gates_tag_and_verify() {
    let r =
        Repo::new("[package.metadata.secure-release.signers]\nopenpgp = \"release-keys.asc\"\n");
    let (alice_secret, alice_public, alice) = r.sequoia_key("Alice", None);
    let (bob_secret, _, bob) = r.sequoia_key("Bob", None);
    std::fs::copy(&alice_public, r.dir().join("release-keys.asc")).unwrap();
    git_ok(r.dir(), &["add", "-A"]);
    git_ok(r.dir(), &["commit", "-qm", "signer policy"]);

    let before = r.state();
    let (_, err) = run(&mut r.tag(&bob_secret, &["--no-audit"]), 1);
    assert!(
        err.starts_with(&format!(
            "error: the signer policy does not allow this key: OpenPGP key {} is not one of the 1 certificate(s) in HEAD:release-keys.asc; nothing was tagged",
            bob.fingerprint().to_hex()
        )),
        "{err}"
    );
    assert_eq!(r.state(), before, "the refused tag changed refs or objects");

    let (out, _) = run(&mut r.tag(&alice_secret, &["--no-audit"]), 0);
    assert!(
        out.contains("allowed by the signer policy (release-keys.asc) as committed in HEAD"),
        "{out}"
    );
    assert!(r.verify_tag("v0.1.0").status.success());
    let mut c = bin();
    c.current_dir(r.dir()).args(["verify", "v0.1.0"]);
    let (out, _) = run(&mut c, 0);
    assert!(
        out.starts_with("Good signature on tag `v0.1.0` from Alice <alice@example.org>"),
        "{out}"
    );
    assert!(
        out.contains(&format!("certificate {}", alice.fingerprint().to_hex())),
        "{out}"
    );
    assert!(
        out.contains("signer policy: as committed in v0.1.0 (the tagged commit"),
        "{out}"
    );
}

/// With no keys, `verify`'s help names the signer table the manifest can have: the
/// package's for a plain package, the workspace's for a workspace root.
#[test]
fn verify_without_keys_names_the_signer_table_that_fits_the_manifest() {
    let f = Fixture::new("plainpkg", "").lock();
    git(f.path(), &["init", "-q", "-b", "main"]);
    git(f.path(), &["add", "-A"]);
    git(f.path(), &["commit", "-qm", "init"]);
    git(f.path(), &["tag", "-a", "-m", "v0.1.0", "v0.1.0"]);
    let mut verify = bin();
    verify.current_dir(f.path()).args(["verify", "v0.1.0"]);
    let (_, err) = run(&mut verify, 2);
    assert!(err.starts_with("error: no keys to verify against"), "{err}");
    assert!(
        err.contains("([package.metadata.secure-release.signers])"),
        "{err}"
    );
    f.write(
        "Cargo.toml",
        &format!("{}\n[workspace]\n", f.read("Cargo.toml")),
    );
    git(f.path(), &["commit", "-qam", "workspace"]);
    let (_, err) = run(&mut verify, 2);
    assert!(
        err.contains("([workspace.metadata.secure-release.signers])"),
        "{err}"
    );
}
