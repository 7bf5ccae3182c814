//! SSH-signed tags and the signer policy, on real git repositories, with keys made
//! by `ssh-keygen`, agent signing through a real `ssh-agent`, and every good tag
//! checked by stock `git verify-tag` with an allowed-signers file and `git fsck`.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use tempfile::TempDir;

const PASSPHRASE: &str = "ssh passphrase for tests";
const TAGGER: &str = "release@example.org";

struct Repo {
    fx: Fixture,
    keys: TempDir,
}

impl Repo {
    fn new(extra_toml: &str) -> Repo {
        let fx = Fixture::new("rel", &format!("{HARDENED}\n{extra_toml}")).lock();
        let d = fx.path();
        git_ok(d, &["init", "-q", "-b", "main"]);
        git_ok(d, &["config", "user.name", "Release Manager"]);
        git_ok(d, &["config", "user.email", TAGGER]);
        git_ok(d, &["add", "-A"]);
        git_ok(d, &["commit", "-qm", "initial"]);
        Repo {
            fx,
            keys: TempDir::new().unwrap(),
        }
    }

    fn dir(&self) -> &Path {
        self.fx.path()
    }

    /// `ssh-keygen -t TYPE [-b BITS]`, optionally with a passphrase; the private
    /// key's path (the public key is beside it, `.pub`).
    fn keygen(&self, name: &str, kind: &str, bits: Option<&str>, pass: &str) -> PathBuf {
        let path = self.keys.path().join(name);
        let mut c = Std::new("ssh-keygen");
        c.args(["-q", "-t", kind, "-N", pass, "-C", name, "-f"])
            .arg(&path);
        if let Some(b) = bits {
            c.args(["-b", b]);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "ssh-keygen: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }

    /// `ssh-keygen -Y sign -n NAMESPACE` over `text` (kept as `NAME.txt`): the armored
    /// signature, made by OpenSSH itself.
    fn ssh_keygen_sign(&self, key: &Path, namespace: &str, name: &str, text: &str) -> String {
        let msg = self.keys.path().join(format!("{name}.txt"));
        std::fs::write(&msg, text).unwrap();
        output_ok(
            Std::new("ssh-keygen")
                .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
                .arg(key)
                .arg(&msg),
        );
        std::fs::read_to_string(format!("{}.sig", msg.display())).unwrap()
    }

    fn public(&self, key: &Path) -> String {
        std::fs::read_to_string(key.with_extension("pub"))
            .or_else(|_| std::fs::read_to_string(format!("{}.pub", key.display())))
            .unwrap()
            .trim()
            .to_string()
    }

    /// An allowed-signers file with one line per (principals, options, key).
    fn allowed(&self, name: &str, lines: &[(&str, &str, &Path)]) -> PathBuf {
        let text: String = lines
            .iter()
            .map(|(who, opts, key)| format!("{who} {opts} {}\n", self.public(key)))
            .collect();
        let path = self.keys.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn tag(&self, extra: &[&str]) -> assert_cmd::Command {
        let mut c = bin();
        c.current_dir(self.dir())
            .args(["tag", "--no-audit"])
            .args(extra)
            .env("CSR_TEST_PASSPHRASE", PASSPHRASE)
            .env_remove("SSH_AUTH_SOCK");
        c
    }

    fn verify(&self, tag: &str, extra: &[&str]) -> assert_cmd::Command {
        let mut c = bin();
        c.current_dir(self.dir()).args(["verify", tag]).args(extra);
        c
    }

    /// Stock git's verdict on the tag with this allowed-signers file.
    fn git_verify(&self, tag: &str, allowed: &Path, revoked: Option<&Path>) -> (bool, String) {
        let mut c = Std::new("git");
        c.current_dir(self.dir())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .arg("-c")
            .arg(format!("gpg.ssh.allowedSignersFile={}", allowed.display()));
        if let Some(r) = revoked {
            c.arg("-c")
                .arg(format!("gpg.ssh.revocationFile={}", r.display()));
        }
        let out = c.args(["verify-tag", tag]).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Every key type the issue names signs a tag that stock git accepts, that passes
/// `git fsck --strict`, and that our own `verify` reads back.
#[test]
fn each_key_type_signs_tags_git_verifies() {
    let r = Repo::new("");
    for (kind, bits, label) in [
        ("ed25519", None, "ED25519"),
        ("ecdsa", Some("256"), "ECDSA-P256"),
        ("ecdsa", Some("384"), "ECDSA-P384"),
        ("rsa", Some("3072"), "RSA-3072"),
    ] {
        let key = r.keygen(&format!("{kind}{}", bits.unwrap_or("")), kind, bits, "");
        let allowed = r.allowed("allowed", &[(TAGGER, "namespaces=\"git\"", &key)]);
        let (out, _) = run(
            &mut r.tag(&["--format", "ssh", "--key", key.to_str().unwrap()]),
            0,
        );
        assert!(
            out.contains(&format!("signed with {label} key SHA256:")),
            "{out}"
        );
        let raw = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
        assert!(raw.contains("\n-----BEGIN SSH SIGNATURE-----\n"), "{raw}");
        let (ok, said) = r.git_verify("v0.1.0", &allowed, None);
        assert!(ok, "{label}: git verify-tag: {said}");
        assert!(
            said.contains(&format!("Good \"git\" signature for {TAGGER}")),
            "{said}"
        );
        git_ok(r.dir(), &["fsck", "--strict"]);
        let (out, _) = run(
            &mut r.verify("v0.1.0", &["--allowed-signers", allowed.to_str().unwrap()]),
            0,
        );
        assert!(
            out.starts_with(&format!(
                "Good \"git\" signature on tag `v0.1.0` for {TAGGER} with {label} key"
            )),
            "{out}"
        );
        assert!(
            out.contains("rel 0.1.0 (line 9) matches v0.1.0:Cargo.toml and the tag's name"),
            "{out}"
        );
        git_ok(r.dir(), &["tag", "-d", "v0.1.0"]);
    }
}

/// Weak keys and wrong passphrases are refused with one sentence, and nothing is
/// written: refs, objects and files stay byte-identical.
#[test]
fn weak_keys_and_wrong_passphrases_write_nothing() {
    let r = Repo::new("");
    let before = repo_state(r.dir());
    let rsa1024 = r.keygen("rsa1024", "rsa", Some("1024"), "");
    let (_, err) = run(
        &mut r.tag(&["--format", "ssh", "--key", rsa1024.to_str().unwrap()]),
        2,
    );
    assert!(
        err.starts_with("error: SSH key SHA256:")
            && err.contains("its RSA-1024 key is too small (at least 3072 bits)"),
        "{err}"
    );
    let rsa2048 = r.keygen("rsa2048", "rsa", Some("2048"), "");
    let (_, err) = run(
        &mut r.tag(&["--format", "ssh", "--key", rsa2048.to_str().unwrap()]),
        2,
    );
    assert!(err.contains("RSA-2048 key is too small"), "{err}");

    let locked = r.keygen("locked", "ed25519", None, PASSPHRASE);
    let pw = r.keys.path().join("wrong");
    std::fs::write(&pw, "not it\n").unwrap();
    let (_, err) = run(
        &mut r.tag(&[
            "--format",
            "ssh",
            "--key",
            locked.to_str().unwrap(),
            "--passphrase-file",
            pw.to_str().unwrap(),
        ]),
        2,
    );
    assert!(
        err.starts_with("error: wrong passphrase for SSH key SHA256:"),
        "{err}"
    );
    // No terminal and no passphrase source: a sentence, not a hang.
    let (_, err) = run(
        &mut r.tag(&["--format", "ssh", "--key", locked.to_str().unwrap()]),
        2,
    );
    assert!(
        err.contains("is protected by a passphrase and there is no terminal"),
        "{err}"
    );
    assert!(
        repo_state(r.dir()) == before,
        "a refusal changed the repository"
    );
    assert!(!err.contains(PASSPHRASE));

    // The right passphrase, from a named environment variable.
    let (out, err) = run(
        &mut r.tag(&[
            "--format",
            "ssh",
            "--key",
            locked.to_str().unwrap(),
            "--passphrase-env",
            "CSR_TEST_PASSPHRASE",
        ]),
        0,
    );
    assert!(out.contains("Created signed tag v0.1.0"), "{out}");
    assert!(!out.contains(PASSPHRASE) && !err.contains(PASSPHRASE));
    let allowed = r.allowed("allowed", &[(TAGGER, "", &locked)]);
    assert!(r.git_verify("v0.1.0", &allowed, None).0);
}

/// With only the public key at hand (`--key KEY.pub`, or `user.signingkey` as a
/// `key::` literal with gpg.format=ssh), the running ssh-agent signs.
#[test]
fn signs_through_a_real_ssh_agent() {
    let r = Repo::new("");
    let key = r.keygen("agent", "ed25519", None, "");
    let allowed = r.allowed("allowed", &[(TAGGER, "", &key)]);
    let agent = SshAgent::start(r.keys.path());
    let sock = agent.sock.clone();
    let agent_cmd = |c: &mut assert_cmd::Command| {
        c.env("SSH_AUTH_SOCK", &sock);
    };
    // The agent does not hold the key yet: a sentence naming the fix.
    let public = format!("{}.pub", key.display());
    let mut c = r.tag(&["--format", "ssh", "--key", &public]);
    agent_cmd(&mut c);
    let (_, err) = run(&mut c, 2);
    assert!(
        err.contains("the ssh-agent does not hold SSH key SHA256:") && err.contains("ssh-add"),
        "{err}"
    );

    agent.add(&key);
    let mut c = r.tag(&["--format", "ssh", "--key", &public]);
    agent_cmd(&mut c);
    let (out, _) = run(&mut c, 0);
    assert!(out.contains("via ssh-agent"), "{out}");
    assert!(r.git_verify("v0.1.0", &allowed, None).0);
    git_ok(r.dir(), &["tag", "-d", "v0.1.0"]);

    // git's own configuration: gpg.format=ssh and a key:: literal.
    git_ok(r.dir(), &["config", "gpg.format", "ssh"]);
    git_ok(
        r.dir(),
        &[
            "config",
            "user.signingkey",
            &format!("key::{}", r.public(&key)),
        ],
    );
    let mut c = r.tag(&[]);
    agent_cmd(&mut c);
    let (out, _) = run(&mut c, 0);
    assert!(
        out.contains("signed with ED25519 key") && out.contains("via ssh-agent"),
        "{out}"
    );
    assert!(r.git_verify("v0.1.0", &allowed, None).0);
    git_ok(r.dir(), &["fsck", "--strict"]);
    drop(agent);

    // x509 is git's third format: refused, not guessed.
    git_ok(r.dir(), &["tag", "-d", "v0.1.0"]);
    git_ok(r.dir(), &["config", "gpg.format", "x509"]);
    let (_, err) = run(&mut r.tag(&[]), 2);
    assert!(
        err.starts_with("error: git config gpg.format is `x509`"),
        "{err}"
    );
}

/// `verify --allowed-signers` agrees with `git verify-tag` on what is BAD: a
/// tampered tag, a key listed for another principal, a key past `valid-before`, a
/// revoked key, a key in no line; and says why in one line.
#[test]
fn verify_refuses_what_git_refuses() {
    let r = Repo::new("");
    let key = r.keygen("alice", "ed25519", None, "");
    run(
        &mut r.tag(&["--format", "ssh", "--key", key.to_str().unwrap()]),
        0,
    );
    let good = r.allowed("good", &[(TAGGER, "namespaces=\"git\"", &key)]);
    run(
        &mut r.verify("v0.1.0", &["--allowed-signers", good.to_str().unwrap()]),
        0,
    );

    let cases: Vec<(&str, PathBuf, Option<PathBuf>, &str)> = vec![
        (
            "another principal",
            r.allowed("other", &[("bob@example.org", "", &key)]),
            None,
            "lists key SHA256:",
        ),
        (
            "expired",
            r.allowed("expired", &[("*", "valid-before=\"20200101Z\"", &key)]),
            None,
            "was valid only before 2020-01-01",
        ),
        (
            "not yet valid",
            r.allowed("future", &[("*", "valid-after=\"29990101Z\"", &key)]),
            None,
            "is valid only after 2999-01-01",
        ),
        (
            "wrong namespace",
            r.allowed("filens", &[("*", "namespaces=\"file\"", &key)]),
            None,
            "does not allow key SHA256:",
        ),
        (
            "negated namespace",
            r.allowed("negns", &[("*", "namespaces=\"!git,*\"", &key)]),
            None,
            "does not allow key SHA256:",
        ),
        (
            "only a negation that does not match",
            r.allowed("negfile", &[("*", "namespaces=\"!file\"", &key)]),
            None,
            "does not allow key SHA256:",
        ),
        (
            "revoked",
            good.clone(),
            Some(key.with_extension("pub")),
            "is revoked",
        ),
        (
            "unknown key",
            r.allowed(
                "unknown",
                &[(TAGGER, "", &r.keygen("carol", "ed25519", None, ""))],
            ),
            None,
            "is not listed in",
        ),
    ];
    for (what, allowed, revoked, why) in cases {
        let revoked = revoked.map(|_| {
            let p = r.keys.path().join("revoked");
            std::fs::write(&p, format!("# revoked\n{}\n", r.public(&key))).unwrap();
            p
        });
        let mut args = vec![
            "--allowed-signers".to_string(),
            allowed.display().to_string(),
        ];
        if let Some(p) = &revoked {
            args.extend(["--revoked".to_string(), p.display().to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, _) = run(&mut r.verify("v0.1.0", &args), 1);
        assert!(
            out.starts_with("BAD: tag `v0.1.0`: ") && out.contains(why),
            "{what}: {out}"
        );
        let (git_ok_, said) = r.git_verify("v0.1.0", &allowed, revoked.as_deref());
        if what != "another principal" {
            // git does not compare the principal with the tagger; we do (see README).
            assert!(!git_ok_, "{what}: git verify-tag accepted it: {said}");
        }
    }

    // A negation that does not match, beside a pattern that does: both git and we accept.
    let mixed = r.allowed("mixedns", &[(TAGGER, "namespaces=\"!file,g?t\"", &key)]);
    run(
        &mut r.verify("v0.1.0", &["--allowed-signers", mixed.to_str().unwrap()]),
        0,
    );
    assert!(
        r.git_verify("v0.1.0", &mixed, None).0,
        "git refused `!file,g?t`"
    );

    // Tampered: the message changed after signing; the signature is the original's.
    let raw = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    write_tag_object(
        r.dir(),
        "tampered",
        &raw.replace("Release rel 0.1.0", "Release rel 0.1.0 (fixed)")
            .replace("tag v0.1.0\n", "tag tampered\n"),
    );
    let (out, _) = run(
        &mut r.verify("tampered", &["--allowed-signers", good.to_str().unwrap()]),
        1,
    );
    assert!(out.contains("does not match the tag's content"), "{out}");
    assert!(
        !r.git_verify("tampered", &good, None).0,
        "git accepted a tampered tag"
    );

    // A signature made by ssh-keygen for another namespace (`file`) over the same
    // payload is good cryptography for the wrong purpose; a broken armor is no signature.
    let payload = raw
        .split("-----BEGIN SSH SIGNATURE-----")
        .next()
        .unwrap()
        .replace("tag v0.1.0\n", "tag other-ns\n");
    let sig = r.ssh_keygen_sign(&key, "file", "other-ns", &payload);
    write_tag_object(r.dir(), "other-ns", &format!("{payload}{sig}"));
    let (out, _) = run(
        &mut r.verify("other-ns", &["--allowed-signers", good.to_str().unwrap()]),
        1,
    );
    assert!(
        out.contains("the signature is for the `file` namespace, not `git`"),
        "{out}"
    );
    assert!(
        !r.git_verify("other-ns", &good, None).0,
        "git accepted a `file` signature"
    );
    write_tag_object(
        r.dir(),
        "garbled",
        &format!(
            "{}-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAA!!\n-----END SSH SIGNATURE-----\n",
            payload.replace("tag other-ns\n", "tag garbled\n")
        ),
    );
    let (out, _) = run(
        &mut r.verify("garbled", &["--allowed-signers", good.to_str().unwrap()]),
        1,
    );
    assert!(
        out.contains("BAD: tag `garbled`: the signature is not a valid SSH signature"),
        "{out}"
    );
}

/// Trailer claims are checked against the tagged tree: a tag signed by ssh-keygen
/// itself (the signature is good to git) whose Package version is not the tree's,
/// or whose name names another version, is BAD naming the line.
#[test]
fn verify_checks_the_package_claim_and_the_tag_name() {
    let r = Repo::new("");
    let key = r.keygen("alice", "ed25519", None, "");
    let allowed = r.allowed("allowed", &[(TAGGER, "", &key)]);
    let (payload, _) = run(&mut r.tag(&["--format", "ssh", "--dry-run"]), 0);
    let forge = |name: &str, from: &str, to: &str| {
        let body = payload
            .replace("tag v0.1.0\n", &format!("tag {name}\n"))
            .replace(from, to);
        let sig = r.ssh_keygen_sign(&key, "git", name, &body);
        write_tag_object(r.dir(), name, &format!("{body}{sig}"));
        assert!(
            r.git_verify(name, &allowed, None).0,
            "git finds {name}'s signature good"
        );
    };
    forge("v0.1.0", "Package: rel 0.1.0", "Package: rel 0.1.0");
    let a = ["--allowed-signers", allowed.to_str().unwrap()];
    let (out, _) = run(&mut r.verify("v0.1.0", &a), 0);
    assert!(
        out.contains("rel 0.1.0 (line 9) matches"),
        "ssh-keygen's own signature is read: {out}"
    );

    forge("v0.2.0", "Package: rel 0.1.0", "Package: rel 0.2.0");
    let (out, _) = run(&mut r.verify("v0.2.0", &a), 1);
    assert!(
        out.contains("line 9 says rel 0.2.0, but v0.2.0:Cargo.toml is rel 0.1.0"),
        "{out}"
    );

    // The SBOM claim is recomputed from the tagged tree by --audit.
    let sbom_line = payload
        .lines()
        .find(|l| l.starts_with("Sbom-sha256: "))
        .unwrap()
        .to_string();
    let hash = sbom_line.split(' ').nth(1).unwrap().to_string();
    forge("sbom-v0.1.0", &hash, &"0".repeat(64));
    let audit = |tag: &str, code: i32| {
        let mut c = r.verify(tag, &a);
        c.args(["--audit", "--offline", "--advisory-db"])
            .arg(advisory_db());
        run(&mut c, code).0
    };
    let out = audit("v0.1.0", 0);
    assert!(
        out.contains("Sbom-sha256 (line 11) matches the SBOM of the tagged tree for "),
        "{out}"
    );
    let out = audit("sbom-v0.1.0", 1);
    assert!(
        out.contains(&format!(
            "BAD: tag `sbom-v0.1.0`: line 11 says Sbom-sha256 {}, but the tagged tree's SBOM for ",
            "0".repeat(64)
        )),
        "{out}"
    );
    assert!(out.contains(&format!("hashes to {hash}")), "{out}");

    // A signed claim naming a platform rustc does not know: BAD, not "could not run".
    forge("plat-v0.1.0", "(CycloneDX, ", "(CycloneDX, nonsense-");
    let out = audit("plat-v0.1.0", 1);
    assert!(
        out.contains("BAD: tag `plat-v0.1.0`: line 11 names the platform `nonsense-"),
        "{out}"
    );

    // The same verdicts as JSON: the audit inside, the SBOM claim beside it.
    let audit_json = |tag: &str, code: i32| {
        let mut c = r.verify(tag, &a);
        c.args(["--audit", "--offline", "--format", "json", "--advisory-db"])
            .arg(advisory_db());
        json(&run(&mut c, code).0)
    };
    let v = audit_json("v0.1.0", 0);
    assert_eq!(v["good"], true, "{v:#}");
    assert_eq!(v["signature"]["format"], "ssh");
    assert_eq!(v["audit"]["clean"], true);
    assert_eq!(v["audit"]["sbom"]["holds"], true);
    assert!(v["audit"]["report"]["findings"].is_array(), "{v:#}");
    let v = audit_json("sbom-v0.1.0", 1);
    assert_eq!(v["good"], false);
    assert_eq!(v["audit"]["clean"], false);
    assert_eq!(v["audit"]["sbom"]["key"], "Sbom-sha256");
    assert_eq!(v["audit"]["sbom"]["holds"], false);

    forge("v10.1.0", "Release rel", "Release rel");
    let (out, _) = run(&mut r.verify("v10.1.0", &a), 1);
    assert!(
        out.contains("the tag's name does not carry the version it releases (rel 0.1.0, line 9)"),
        "{out}"
    );
}

/// The signer policy in Cargo.toml: `tag` refuses an unlisted key before writing
/// anything; `verify` with no keys named reads the policy at the tagged commit, or
/// at a trust root, and reports a policy that changed in between.
#[test]
fn the_signer_policy_gates_tag_and_verify() {
    let r =
        Repo::new("[package.metadata.secure-release.signers]\nssh = \".github/allowed_signers\"\n");
    let alice = r.keygen("alice", "ed25519", None, "");
    let mallory = r.keygen("mallory", "ed25519", None, "");
    std::fs::create_dir_all(r.dir().join(".github")).unwrap();
    std::fs::write(
        r.dir().join(".github/allowed_signers"),
        format!("{TAGGER} namespaces=\"git\" {}\n", r.public(&alice)),
    )
    .unwrap();
    git_ok(r.dir(), &["add", "-A"]);
    git_ok(r.dir(), &["commit", "-qm", "signer policy"]);

    let before = repo_state(r.dir());
    let (_, err) = run(
        &mut r.tag(&["--format", "ssh", "--key", mallory.to_str().unwrap()]),
        1,
    );
    assert!(
        err.starts_with("error: the signer policy does not allow this key: key SHA256:")
            && err.contains("is not listed in HEAD:.github/allowed_signers; nothing was tagged"),
        "{err}"
    );
    assert!(
        repo_state(r.dir()) == before,
        "the refused tag changed the repository"
    );

    let (out, _) = run(
        &mut r.tag(&["--format", "ssh", "--key", alice.to_str().unwrap()]),
        0,
    );
    assert!(
        out.contains("allowed by the signer policy (.github/allowed_signers) as committed in HEAD"),
        "{out}"
    );
    let (out, _) = run(&mut r.verify("v0.1.0", &[]), 0);
    assert!(
        out.contains("allowed by v0.1.0:.github/allowed_signers:1"),
        "{out}"
    );
    assert!(
        out.contains("signer policy: as committed in v0.1.0 (the tagged commit"),
        "{out}"
    );

    // Mallory adds himself to the policy in a later commit and tags 0.2.0.
    std::fs::write(
        r.dir().join(".github/allowed_signers"),
        format!(
            "{TAGGER} namespaces=\"git\" {}\n{TAGGER} namespaces=\"git\" {}\n",
            r.public(&alice),
            r.public(&mallory)
        ),
    )
    .unwrap();
    let manifest =
        r.fx.read("Cargo.toml")
            .replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    r.fx.write("Cargo.toml", &manifest);
    r.fx.relock();
    git_ok(r.dir(), &["add", "-A"]);
    git_ok(r.dir(), &["commit", "-qm", "0.2.0"]);
    run(
        &mut r.tag(&["--format", "ssh", "--key", mallory.to_str().unwrap()]),
        0,
    );
    // By default the policy's authority comes from the release before (v0.1.0): the
    // commit that added Mallory is not signed by a key of that policy, so his key is
    // not trusted and the tag is BAD, naming the commit and the key it added.
    let added_in = git_ok(r.dir(), &["log", "-1", "--format=%H", "HEAD"]);
    let (out, _) = run(&mut r.verify("v0.2.0", &[]), 1);
    assert!(
        out.contains("BAD: tag `v0.2.0`: key SHA256:")
            && out.contains("is not listed in v0.1.0:.github/allowed_signers"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "signer policy: as committed in v0.1.0, the release before v0.2.0: the policy changed in commit {}, which no key of the policy before it signed (it is not signed); not trusted: the keys it added (SHA256:",
            &added_in.trim()[..12]
        )),
        "{out}"
    );
    // Only with a trust root that already holds Mallory's key does it pass.
    run(&mut r.verify("v0.2.0", &["--trust-root", "v0.2.0"]), 0);
    let (out, _) = run(&mut r.verify("v0.2.0", &["--trust-root", "v0.1.0"]), 1);
    assert!(
        out.contains("BAD: tag `v0.2.0`: key SHA256:")
            && out.contains("is not listed in v0.1.0:.github/allowed_signers"),
        "{out}"
    );
    let (out, _) = run(
        &mut r.verify("v0.2.0", &["--trust-root", "v0.1.0", "-v"]),
        1,
    );
    assert!(!out.contains("Good"), "{out}");
    let (out, _) = run(&mut r.verify("v0.1.0", &["--trust-root", "v0.1.0"]), 0);
    assert!(
        out.contains("signer policy: as committed in v0.1.0 (--trust-root)"),
        "{out}"
    );

    // init claims the practice with the SSH verification command, and the policy.
    let mut init = bin();
    init.current_dir(r.dir())
        .args(["init", "--dry-run", "--contact", "security@example.org"]);
    let (out, _) = run(&mut init, 0);
    assert!(
        out.contains(
            "Release tags are annotated tags with an SSH signature by the key\n  `ED25519 SHA256:"
        ),
        "{out}"
    );
    assert!(
        out.contains("(allowed signers: `.github/allowed_signers`)"),
        "{out}"
    );
    assert!(
        out.contains("signer policy committed in this repository (`.github/allowed_signers`"),
        "{out}"
    );
    assert!(out.contains("git -c gpg.ssh.allowedSignersFile=.github/allowed_signers verify-tag v0.2.0\n  cargo secure-release verify v0.2.0\n"), "{out}");

    let (_, err) = run(&mut r.verify("v0.2.0", &["--trust-root", "no-such-ref"]), 2);
    assert!(
        err.starts_with("error: --trust-root `no-such-ref` is not a commit"),
        "{err}"
    );

    // git's revocation file revokes under the signer policy too, for verify and for
    // the fact init states.
    let revoked = r.keys.path().join("git-revoked");
    std::fs::write(&revoked, format!("{}\n", r.public(&mallory))).unwrap();
    git_ok(
        r.dir(),
        &[
            "config",
            "gpg.ssh.revocationFile",
            revoked.to_str().unwrap(),
        ],
    );
    let (out, _) = run(&mut r.verify("v0.2.0", &["--trust-root", "v0.2.0"]), 1);
    assert!(
        out.contains("BAD: tag `v0.2.0`: ") && out.contains("is revoked"),
        "{out}"
    );
    run(&mut r.verify("v0.1.0", &[]), 0);
    let (out, _) = run(&mut init, 0);
    assert!(
        !out.contains("Release tags are annotated tags with an SSH signature"),
        "{out}"
    );
    git_ok(r.dir(), &["config", "--unset", "gpg.ssh.revocationFile"]);

    // A policy change signed by a key of the policy before it (Alice signs the commit
    // that adds Carol, with git and ssh-keygen): Carol's release verifies by default.
    let carol = r.keygen("carol", "ed25519", None, "");
    let mut policy = std::fs::read_to_string(r.dir().join(".github/allowed_signers")).unwrap();
    policy.push_str(&format!(
        "{TAGGER} namespaces=\"git\" {}\n",
        r.public(&carol)
    ));
    std::fs::write(r.dir().join(".github/allowed_signers"), policy).unwrap();
    let manifest =
        r.fx.read("Cargo.toml")
            .replace("version = \"0.2.0\"", "version = \"0.3.0\"");
    r.fx.write("Cargo.toml", &manifest);
    r.fx.relock();
    git_ok(r.dir(), &["add", "-A"]);
    git_ok(
        r.dir(),
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={}", alice.display()),
            "commit",
            "-S",
            "-qm",
            "0.3.0: Carol signs releases",
        ],
    );
    run(
        &mut r.tag(&["--format", "ssh", "--key", carol.to_str().unwrap()]),
        0,
    );
    let (out, _) = run(&mut r.verify("v0.3.0", &[]), 0);
    assert!(
        out.contains("signer policy: as committed in v0.3.0; its 1 change since v0.2.0 was signed by a key of the policy before it"),
        "{out}"
    );
    // The same change unsigned (the commit rewritten without its signature): BAD.
    git_ok(r.dir(), &["tag", "-d", "v0.3.0"]);
    git_ok(
        r.dir(),
        &[
            "commit",
            "--amend",
            "--no-gpg-sign",
            "-qm",
            "0.3.0 unsigned",
        ],
    );
    run(
        &mut r.tag(&["--format", "ssh", "--key", carol.to_str().unwrap()]),
        0,
    );
    let (out, _) = run(&mut r.verify("v0.3.0", &[]), 1);
    assert!(
        out.contains("which no key of the policy before it signed (it is not signed)"),
        "{out}"
    );
}

/// `verify --audit` answers "is this release affected by an advisory published
/// after it was tagged?": the tag's audit passed with a database that did not yet
/// have RUSTSEC-2020-0071; today's database finds it in the tagged tree.
#[test]
fn verify_audit_finds_an_advisory_published_after_the_tag() {
    let r = Repo::new("[dependencies]\ntime = \"=0.1.43\"\n");
    let old_db = TempDir::new().unwrap();
    copy_dir(advisory_db(), old_db.path());
    std::fs::remove_file(old_db.path().join("crates/time/RUSTSEC-2020-0071.md")).unwrap();
    let key = r.keygen("alice", "ed25519", None, "");
    let allowed = r.allowed("allowed", &[(TAGGER, "", &key)]);
    let mut tag = bin();
    tag.current_dir(r.dir())
        .args(["tag", "--format", "ssh", "--offline", "--key"])
        .arg(&key)
        .arg("--advisory-db")
        .arg(old_db.path());
    let (out, _) = run(&mut tag, 0);
    assert!(out.contains("Created signed tag v0.1.0"), "{out}");
    let raw = git_ok(r.dir(), &["cat-file", "tag", "v0.1.0"]);
    assert!(raw.contains("Audit: 0 errors"), "{raw}");
    // The work tree moves on; the audit must read the tagged tree, not this.
    r.fx.write(
        "Cargo.toml",
        &r.fx.read("Cargo.toml").replace("time = \"=0.1.43\"", ""),
    );

    let a = allowed.to_str().unwrap();
    let verify = |db: &Path, code: i32| {
        let mut c = r.verify("v0.1.0", &["--allowed-signers", a, "--audit", "--offline"]);
        c.arg("--advisory-db").arg(db);
        run(&mut c, code).0
    };
    let out = verify(advisory_db(), 1);
    assert!(
        out.starts_with("Good \"git\" signature on tag `v0.1.0`"),
        "{out}"
    );
    assert!(out.contains("RUSTSEC-2020-0071"), "{out}");
    assert!(
        out.contains(
            "BAD: tag `v0.1.0`: the tagged tree has error findings with today's advisory database"
        ),
        "{out}"
    );
    let out = verify(old_db.path(), 0);
    assert!(
        out.contains("the tagged tree passes the audit with today's advisory database"),
        "{out}"
    );
}

/// Every ECDSA key ssh-keygen makes loads and signs: 2,000 of each size, among them
/// the ~1 in 256 whose private scalar OpenSSH writes short (a leading zero byte
/// dropped), which ssh-key alone rejects with `length invalid`. Their signatures are
/// checked by ssh-keygen itself; one is encrypted too, and signs with its passphrase.
#[test]
fn every_ecdsa_key_ssh_keygen_makes_loads_and_signs() {
    use cargo_secure_release::sig::passphrase::PassphraseSource;
    use cargo_secure_release::sig::ssh::{KeySpec, SshSigningKey};
    let dir = TempDir::new().unwrap();
    let keygen = |args: &[&str]| {
        let out = Std::new("ssh-keygen").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ssh-keygen {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let check = |key: &Path, sig: &str| {
        let sig_path = key.with_extension("sig");
        std::fs::write(&sig_path, sig).unwrap();
        let mut c = Std::new("ssh-keygen")
            .args(["-Y", "check-novalidate", "-n", "git", "-s"])
            .arg(&sig_path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin.take().unwrap().write_all(b"a release").unwrap();
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ssh-keygen rejects the signature of {}: {}",
            key.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for bits in ["256", "384"] {
        let mut short = Vec::new();
        // 2,000 keys, then on until a short one has been met (a run of 2,000 without
        // one happens about once in 2,500 runs): the case must be met, not hoped for.
        let mut i = 0;
        while i < 2000 || (short.is_empty() && i < 20_000) {
            i += 1;
            let path = dir.path().join(format!("ecdsa{bits}-{i}"));
            keygen(&[
                "-q",
                "-t",
                "ecdsa",
                "-b",
                bits,
                "-N",
                "",
                "-C",
                "",
                "-f",
                path.to_str().unwrap(),
            ]);
            let key = SshSigningKey::load(KeySpec::File(&path), false)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let sig = key
                .sign(b"a release", PassphraseSource::Env("CSR_UNUSED"))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let text = std::fs::read_to_string(&path).unwrap();
            if ssh_key::PrivateKey::from_openssh(&text).is_err() {
                check(&path, &sig);
                short.push(path);
            }
        }
        // About 8 expected in 2,000; none would mean the case was never met.
        assert!(
            !short.is_empty(),
            "no short ECDSA-{bits} scalar in {i} keys"
        );
        // Encrypted with a passphrase, the same key signs once decrypted.
        let key = &short[0];
        keygen(&[
            "-q",
            "-p",
            "-P",
            "",
            "-N",
            "pass phrase",
            "-f",
            key.to_str().unwrap(),
        ]);
        let loaded = SshSigningKey::load(KeySpec::File(key), false).unwrap();
        let pass = dir.path().join("pass");
        std::fs::write(&pass, "pass phrase\n").unwrap();
        let sig = loaded
            .sign(b"a release", PassphraseSource::File(&pass))
            .unwrap();
        check(key, &sig);
        let wrong = dir.path().join("wrong");
        std::fs::write(&wrong, "not it\n").unwrap();
        let err = loaded
            .sign(b"a release", PassphraseSource::File(&wrong))
            .unwrap_err();
        assert!(err.to_string().contains("wrong passphrase"), "{err}");
    }
}
