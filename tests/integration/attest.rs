//! `attest` and `verify --artifact` on real git repositories with a signer policy,
//! keys made by `ssh-keygen` and sequoia, and every file checked by the stock
//! tools a user has: `sha256sum -c`, `shasum -a 256 -c`, `ssh-keygen -Y verify -n
//! file` and `gpg --verify`.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use tempfile::TempDir;

const TAGGER: &str = "release@example.org";
const POLICY: &str =
    "[package.metadata.secure-release.signers]\nssh = \".github/allowed_signers\"\n";

pub struct Release {
    pub fx: Fixture,
    pub keys: TempDir,
}

impl Release {
    /// A crate in a git repository whose signer policy is committed with `policy`
    /// (the Cargo.toml lines) and the allowed-signers text.
    pub fn new(policy: &str) -> Release {
        let fx = Fixture::new("rel", &format!("{HARDENED}\n{policy}")).lock();
        // The release's files are built into dist/, which is not committed.
        fx.write(".gitignore", "/dist/\n/target/\n");
        let d = fx.path();
        git_ok(d, &["init", "-q", "-b", "main"]);
        git_ok(d, &["config", "user.name", "Release Manager"]);
        git_ok(d, &["config", "user.email", TAGGER]);
        Release {
            fx,
            keys: TempDir::new().unwrap(),
        }
    }

    pub fn dir(&self) -> &Path {
        self.fx.path()
    }

    pub fn keygen(&self, name: &str, kind: &str) -> PathBuf {
        let path = self.keys.path().join(name);
        let mut c = Std::new("ssh-keygen");
        c.args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
            .arg(&path);
        if kind == "ecdsa" {
            c.args(["-b", "256"]);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }

    pub fn public(&self, key: &Path) -> String {
        std::fs::read_to_string(format!("{}.pub", key.display()))
            .unwrap()
            .trim()
            .to_string()
    }

    /// The key's SHA256 fingerprint, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self, key: &Path) -> String {
        let out = Std::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(format!("{}.pub", key.display()))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }

    /// Commits the allowed-signers file with `lines` (options, key) for the tagger.
    pub fn commit_policy(&self, lines: &[(&str, &Path)]) {
        let text: String = lines
            .iter()
            .map(|(opts, key)| format!("{TAGGER} {opts} {}\n", self.public(key)))
            .collect();
        self.fx.write(".github/allowed_signers", &text);
        git_ok(self.dir(), &["add", "-A"]);
        git_ok(self.dir(), &["commit", "-qm", "release 0.1.0"]);
    }

    /// `tag --no-audit` with an SSH key: v0.1.0.
    pub fn tag_ssh(&self, key: &Path) {
        let mut c = bin();
        c.current_dir(self.dir())
            .args(["tag", "--no-audit", "--format", "ssh", "--key"])
            .arg(key)
            .env_remove("SSH_AUTH_SOCK");
        run(&mut c, 0);
    }

    /// The release's files: a real .tar.gz (by tar) and a second file, in dist/.
    pub fn dist(&self) -> Vec<PathBuf> {
        let dist = self.dir().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        let out = Std::new("tar")
            .args(["czf", "dist/rel-v0.1.0.tar.gz", "src", "Cargo.toml"])
            .current_dir(self.dir())
            .env("GZIP", "-n")
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::write(dist.join("rel v0.1.0 notes.txt"), "notes for 0.1.0\n").unwrap();
        vec![
            dist.join("rel-v0.1.0.tar.gz"),
            dist.join("rel v0.1.0 notes.txt"),
        ]
    }

    pub fn attest(&self, files: &[PathBuf], extra: &[&str]) -> assert_cmd::Command {
        let mut c = bin();
        c.current_dir(self.dir())
            .arg("attest")
            .args(files)
            .args(["--output-dir", "dist"])
            .args(extra)
            .env_remove("SSH_AUTH_SOCK");
        c
    }
}

impl Release {
    /// A release whose policy (then `manifest`'s lines) allows Alice's key of `kind`
    /// (made by ssh-keygen) to sign files; tagged by Alice.
    pub fn tagged_by_alice(manifest: &str, kind: &str) -> (Release, PathBuf) {
        let r = Release::new(&format!("{POLICY}{manifest}"));
        let alice = r.keygen("alice", kind);
        r.commit_policy(&[("namespaces=\"git,file\"", &alice)]);
        r.tag_ssh(&alice);
        (r, alice)
    }

    /// A release whose policy allows two keys to sign files, Alice's Ed25519 key and
    /// Carol's ECDSA P-256 key; tagged by Alice.
    pub fn alice_and_carol() -> (Release, PathBuf, PathBuf) {
        let r = Release::new(POLICY);
        let alice = r.keygen("alice", "ed25519");
        let carol = r.keygen("carol", "ecdsa");
        r.commit_policy(&[
            ("namespaces=\"git,file\"", &alice),
            ("namespaces=\"git,file\"", &carol),
        ]);
        r.tag_ssh(&alice);
        (r, alice, carol)
    }
}

const OPENPGP_POLICY: &str =
    "[package.metadata.secure-release.signers]\nopenpgp = \"release-keys.asc\"\n";

impl Release {
    /// A key made by sequoia for `NAME <TAGGER>`: the certificate and its secret key file.
    pub fn sequoia_key(
        &self,
        name: &str,
        suite: sequoia_openpgp::cert::CipherSuite,
    ) -> (sequoia_openpgp::Cert, PathBuf) {
        use sequoia_openpgp::cert::prelude::*;
        use sequoia_openpgp::serialize::SerializeInto;
        let (cert, _) = CertBuilder::general_purpose(Some(format!("{name} <{TAGGER}>")))
            .set_cipher_suite(suite)
            .generate()
            .unwrap();
        let secret = self.keys.path().join(format!("{name}.secret.asc"));
        std::fs::write(&secret, cert.as_tsk().armored().to_vec().unwrap()).unwrap();
        (cert, secret)
    }

    /// Commits the OpenPGP signer policy's certificates, `release-keys.asc`.
    pub fn commit_certs(&self, armored: &[u8]) {
        self.fx
            .write("release-keys.asc", std::str::from_utf8(armored).unwrap());
        git_ok(self.dir(), &["add", "-A"]);
        git_ok(self.dir(), &["commit", "-qm", "release 0.1.0"]);
    }

    /// `tag --no-audit --format openpgp --key KEY` (with `extra`, and a GnuPG home).
    pub fn tag_openpgp(&self, key: &Path, extra: &[&str], gnupg: Option<&GnuPgHome>) {
        let mut c = bin();
        c.current_dir(self.dir())
            .args(["tag", "--no-audit", "--format", "openpgp", "--key"])
            .arg(key)
            .args(extra);
        if let Some(home) = gnupg {
            c.env("GNUPGHOME", home.path());
        }
        run(&mut c, 0);
    }
}

/// A GnuPG home of its own (0700); its agent is stopped when it is dropped.
pub struct GnuPgHome(TempDir);

impl GnuPgHome {
    pub fn new() -> GnuPgHome {
        let dir = TempDir::new().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        GnuPgHome(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// `gpg --batch ARGS` in `cwd`: whether it succeeded, its stdout and stderr.
    pub fn gpg(&self, cwd: &Path, args: &[&str]) -> (bool, Vec<u8>, String) {
        let out = Std::new("gpg")
            .arg("--batch")
            .args(args)
            .current_dir(cwd)
            .env("GNUPGHOME", self.path())
            .output()
            .unwrap();
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `gpg --export-ssh-key FPR!` into `to`: the key as OpenSSH tools (and the DSSE
    /// validators) read it.
    pub fn export_ssh_key(&self, fpr: &str, to: &Path) {
        let (ok, key, err) = self.gpg(Path::new("."), &["--export-ssh-key", &format!("{fpr}!")]);
        assert!(ok, "{err}");
        std::fs::write(to, key).unwrap();
    }
}

impl Drop for GnuPgHome {
    fn drop(&mut self) {
        let _ = Std::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.path())
            .output();
    }
}

/// Debian's `minisign -V -P PK -m FILE -x FILE.sig` in `dir`.
fn minisign_verify(dir: &Path, pk: &str, file: &str) -> (bool, String) {
    let sig = format!("{file}.sig");
    stock(
        dir,
        &["minisign", "-V", "-P", pk, "-m", file, "-x", &sig],
        None,
    )
}

/// The minisign public key of `attest --minisign`'s binstall lines.
fn binstall_pubkey(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("pubkey = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no binstall pubkey line:\n{out}"))
        .to_string()
}

/// Runs a stock tool in `dir`, with `stdin` from a file; its status and output.
fn stock(dir: &Path, cmd: &[&str], stdin: Option<&Path>) -> (bool, String) {
    let mut c = Std::new(cmd[0]);
    c.args(&cmd[1..]).current_dir(dir);
    if let Some(f) = stdin {
        c.stdin(std::fs::File::open(f).unwrap());
    }
    outcome(&mut c)
}

/// Runs a command: whether it succeeded, and all it printed.
fn outcome(c: &mut Std) -> (bool, String) {
    let out = c.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// SSH: SHA256SUMS lists every file by its name in the output directory, sorted;
/// `sha256sum -c` and `shasum -a 256 -c` accept it, `ssh-keygen -Y verify -n file`
/// accepts its signature with the committed allowed-signers file, and the same
/// inputs give the same bytes. Nothing is replaced without --force.
#[test]
fn ssh_attestation_passes_the_stock_tools() {
    for kind in ["ed25519", "ecdsa"] {
        let (r, alice) = Release::tagged_by_alice("", kind);
        let files = r.dist();
        let (out, _) = run(
            &mut r.attest(&files, &["--key", alice.to_str().unwrap()]),
            0,
        );
        assert!(
            out.starts_with("Attested 2 files of v0.1.0 (commit "),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "ssh-keygen -Y verify -n file -f .github/allowed_signers -I {TAGGER} -s SHA256SUMS.sig < SHA256SUMS"
            )),
            "{out}"
        );
        let dist = r.dir().join("dist");
        let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
        let lines: Vec<&str> = sums.lines().collect();
        assert_eq!(lines.len(), 2, "{sums}");
        assert!(lines[0].ends_with("  rel v0.1.0 notes.txt"), "{sums}");
        assert!(lines[1].ends_with("  rel-v0.1.0.tar.gz"), "{sums}");
        assert_eq!(
            &lines[1][..64],
            sha256_hex(&std::fs::read(&files[0]).unwrap())
        );

        let (ok, said) = stock(&dist, &["sha256sum", "-c", "SHA256SUMS"], None);
        assert!(ok && said.contains("rel-v0.1.0.tar.gz: OK"), "{said}");
        let (ok, said) = stock(&dist, &["shasum", "-a", "256", "-c", "SHA256SUMS"], None);
        assert!(ok && said.contains("rel v0.1.0 notes.txt: OK"), "{said}");
        let allowed = r.dir().join(".github/allowed_signers");
        let allowed = allowed.to_str().unwrap();
        let verify = [
            "ssh-keygen",
            "-Y",
            "verify",
            "-n",
            "file",
            "-f",
            allowed,
            "-I",
            TAGGER,
            "-s",
            "SHA256SUMS.sig",
        ];
        let (ok, said) = stock(&dist, &verify, Some(&dist.join("SHA256SUMS")));
        assert!(ok, "ssh-keygen -Y verify: {said}");
        assert!(
            said.contains(&format!("Good \"file\" signature for {TAGGER}")),
            "{said}"
        );
        // The signature is for files only: not in git's namespace.
        let mut as_git = verify;
        as_git[4] = "git";
        let (ok, _) = stock(&dist, &as_git, Some(&dist.join("SHA256SUMS")));
        assert!(!ok, "a file signature passed as a git one");

        // Never replaced without --force; with it, the same bytes again (Ed25519 is
        // deterministic; ECDSA signatures are randomised, SHA256SUMS is not).
        let before = snapshot(&dist);
        let (_, err) = run(
            &mut r.attest(&files, &["--key", alice.to_str().unwrap()]),
            2,
        );
        assert!(
            err.starts_with("error: dist/SHA256SUMS exists; nothing was written"),
            "{err}"
        );
        assert_eq!(snapshot(&dist), before);
        run(
            &mut r.attest(&files, &["--key", alice.to_str().unwrap(), "--force"]),
            0,
        );
        let after = snapshot(&dist);
        let sums_of = |s: &[(PathBuf, Vec<u8>)]| {
            s.iter()
                .filter(|(p, _)| kind == "ed25519" || !p.ends_with("SHA256SUMS.sig"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            sums_of(&after),
            sums_of(&before),
            "{kind}: not deterministic"
        );
    }
}

/// OpenPGP: the policy's format, `SHA256SUMS.asc`, which `gpg --verify` accepts
/// with the release certificate imported.
#[test]
fn openpgp_attestation_passes_gpg_verify() {
    use sequoia_openpgp::cert::CipherSuite;
    use sequoia_openpgp::serialize::SerializeInto;
    let r = Release::new(OPENPGP_POLICY);
    let (cert, secret) = r.sequoia_key("Alice", CipherSuite::default());
    r.commit_certs(&cert.armored().to_vec().unwrap());
    r.tag_openpgp(&secret, &[], None);
    let files = r.dist();
    let (out, _) = run(
        &mut r.attest(&files, &["--key", secret.to_str().unwrap()]),
        0,
    );
    assert!(
        out.contains("gpg --verify SHA256SUMS.asc SHA256SUMS"),
        "{out}"
    );
    let dist = r.dir().join("dist");
    assert!(!dist.join("SHA256SUMS.sig").exists());

    let home = GnuPgHome::new();
    let gpg = |args: &[&str]| {
        let (ok, _, said) = home.gpg(&dist, args);
        (ok, said)
    };
    let (ok, said) = gpg(&[
        "--import",
        r.dir().join("release-keys.asc").to_str().unwrap(),
    ]);
    assert!(ok, "{said}");
    let (ok, said) = gpg(&["--verify", "SHA256SUMS.asc", "SHA256SUMS"]);
    assert!(
        ok && said.contains(&format!("Good signature from \"Alice <{TAGGER}>\"")),
        "{said}"
    );
    // A changed SHA256SUMS no longer verifies.
    let sums = dist.join("SHA256SUMS");
    let mut text = std::fs::read_to_string(&sums).unwrap();
    text.push_str(&format!("{}  evil.tar.gz\n", "0".repeat(64)));
    std::fs::write(&sums, text).unwrap();
    let (ok, _) = gpg(&["--verify", "SHA256SUMS.asc", "SHA256SUMS"]);
    assert!(!ok);
}

/// An OpenPGP release (Ed25519 and ECDSA P-256 keys, in-process from the key file):
/// the provenance is signed with the release key's signing key itself, and
/// securesystemslib and in-toto verify it with that key as gpg exports it
/// (`gpg --export-ssh-key FPR!`); `verify --artifact` judges it by the policy's
/// certificates and refuses it when another certificate signed; minisign accepts
/// the Ed25519 key's signatures.
#[test]
fn openpgp_release_provenance_verifies_with_the_release_key() {
    use sequoia_openpgp::cert::CipherSuite;
    use sequoia_openpgp::policy::StandardPolicy;
    use sequoia_openpgp::serialize::SerializeInto;
    for suite in [CipherSuite::Cv25519, CipherSuite::P256] {
        let r = Release::new(OPENPGP_POLICY);
        let (alice, secret) = r.sequoia_key("Alice", suite);
        let (_, mallory_secret) = r.sequoia_key("Mallory", suite);
        r.commit_certs(&alice.armored().to_vec().unwrap());
        r.tag_openpgp(&secret, &[], None);
        let files = r.dist();
        let dist = r.dir().join("dist");
        let ed25519 = matches!(suite, CipherSuite::Cv25519);
        let mut extra = vec!["--key", secret.to_str().unwrap()];
        if ed25519 {
            extra.push("--minisign");
        }
        let (attested, _) = run(&mut r.attest(&files, &extra), 0);
        assert!(attested.contains("provenance.intoto.jsonl"), "{attested}");
        assert!(!attested.contains("no provenance"), "{attested}");

        // The signing key as gpg exports it for SSH: the validators' key.
        let signing = alice
            .with_policy(&StandardPolicy::new(), None)
            .unwrap()
            .keys()
            .for_signing()
            .next()
            .unwrap()
            .key()
            .fingerprint()
            .to_hex();
        let home = GnuPgHome::new();
        let keys = r.dir().join("release-keys.asc");
        let (ok, _, said) = home.gpg(r.dir(), &["--import", keys.to_str().unwrap()]);
        assert!(ok, "{said}");
        let public = r.keys.path().join("alice-signing.pub");
        home.export_ssh_key(&signing, &public);
        let (ok, said) = validate_dsse(&dist.join("provenance.intoto.jsonl"), &public);
        assert!(ok, "{suite:?}: {said}");
        assert!(said.contains("https://slsa.dev/provenance/v1"), "{said}");

        let verify = || {
            let mut c = bin();
            c.current_dir(r.dir())
                .args(["verify", "--artifact", "dist/rel-v0.1.0.tar.gz"]);
            c
        };
        let (out, _) = run(&mut verify(), 0);
        assert!(
            out.contains(&format!(
                "dist/provenance.intoto.jsonl is signed by OpenPGP key {signing} of certificate {}",
                alice.fingerprint().to_hex()
            )),
            "{out}"
        );
        if ed25519 {
            let pk = binstall_pubkey(&attested);
            let (ok, said) = minisign_verify(&dist, &pk, "rel-v0.1.0.tar.gz");
            assert!(ok, "minisign -V: {said}");
        }
        // A changed statement: no key of the policy signed it.
        let path = dist.join("provenance.intoto.jsonl");
        let line = std::fs::read_to_string(&path).unwrap();
        let mut envelope: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        use base64ct::{Base64, Encoding};
        let payload = Base64::decode_vec(envelope["payload"].as_str().unwrap()).unwrap();
        let changed = String::from_utf8(payload)
            .unwrap()
            .replace("\"profile\":\"release\"", "\"profile\":\"dev\"");
        assert!(changed.contains("\"profile\":\"dev\""), "{changed}");
        envelope["payload"] = Base64::encode_string(changed.as_bytes()).into();
        std::fs::write(&path, format!("{envelope}\n")).unwrap();
        let (out, _) = run(&mut verify(), 1);
        assert!(
            out.contains("no key that may sign files for `v0.1.0` made its signature"),
            "{out}"
        );

        // A key outside the policy is refused before anything is written.
        let before = snapshot(&dist);
        let mut c = r.attest(
            &files,
            &["--force", "--key", mallory_secret.to_str().unwrap()],
        );
        let (_, err) = run(&mut c, 1);
        assert!(err.contains("does not allow this key"), "{err}");
        assert_eq!(snapshot(&dist), before);
    }
}

/// Refusals write nothing: a tag that does not verify (signed by a key outside the
/// policy, with stock git), a key the policy does not allow to sign files, no tag
/// at HEAD, a file that is one of the outputs.
#[test]
fn refusals_write_nothing() {
    let r = Release::new(POLICY);
    let alice = r.keygen("alice", "ed25519");
    let mallory = r.keygen("mallory", "ed25519");
    let git_only = r.keygen("gitonly", "ed25519");
    r.commit_policy(&[
        ("namespaces=\"git,file\"", &alice),
        ("namespaces=\"git\"", &git_only),
    ]);
    let files = r.dist();
    let dist = r.dir().join("dist");
    let before = snapshot(&dist);

    // No tag at HEAD.
    let (_, err) = run(
        &mut r.attest(&files, &["--key", alice.to_str().unwrap()]),
        2,
    );
    assert!(
        err.starts_with("error: HEAD (") && err.contains("has no release tag"),
        "{err}"
    );

    // Mallory tags with stock git: the tag exists and is signed, but not by the policy.
    git_ok(
        r.dir(),
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={}", mallory.display()),
            "tag",
            "-s",
            "v0.1.0",
            "-m",
            "Release rel 0.1.0",
        ],
    );
    let (_, err) = run(
        &mut r.attest(&files, &["--key", alice.to_str().unwrap()]),
        1,
    );
    assert!(
        err.starts_with("error: tag `v0.1.0` does not verify: tag `v0.1.0`: key SHA256:")
            && err.contains("is not listed in v0.1.0:.github/allowed_signers; nothing was written"),
        "{err}"
    );
    assert_eq!(snapshot(&dist), before);
    git_ok(r.dir(), &["tag", "-d", "v0.1.0"]);

    // A good tag, but the key may sign git objects only, or is not listed at all.
    r.tag_ssh(&alice);
    let (_, err) = run(
        &mut r.attest(&files, &["--key", git_only.to_str().unwrap()]),
        1,
    );
    assert!(
        err.starts_with("error: the signer policy does not allow this key to sign release files: ")
            && err.contains("to sign in the `file` namespace; nothing was written"),
        "{err}"
    );
    let (_, err) = run(
        &mut r.attest(&files, &["--key", mallory.to_str().unwrap()]),
        1,
    );
    assert!(err.contains("is not listed in"), "{err}");
    assert_eq!(snapshot(&dist), before);

    // The previous SHA256SUMS as an input.
    std::fs::write(dist.join("SHA256SUMS"), "old\n").unwrap();
    let mut with_old = files.clone();
    with_old.push(dist.join("SHA256SUMS"));
    let (_, err) = run(
        &mut r.attest(&with_old, &["--key", alice.to_str().unwrap(), "--force"]),
        2,
    );
    assert!(err.contains("is one of the files attest writes"), "{err}");
    std::fs::remove_file(dist.join("SHA256SUMS")).unwrap();

    // --dry-run: the gates and SHA256SUMS, no key, nothing written.
    let (out, _) = run(&mut r.attest(&files, &["--dry-run"]), 0);
    assert!(out.starts_with("Would attest 2 files of v0.1.0"), "{out}");
    assert!(out.contains("  rel-v0.1.0.tar.gz\n"), "{out}");
    let (out, _) = run(
        &mut r.attest(&files, &["--dry-run", "--report-format", "json"]),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(attest_schema(), &v);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["tag"], "v0.1.0");
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert_eq!(snapshot(&dist), before);
}

/// The Python of the validators' venv (`cargo xtask test` makes it; CSR_VENV overrides).
fn venv_python() -> PathBuf {
    std::env::var_os("CSR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME"))
                .join(".cache/cargo-secure-release/venv")
        })
        .join("bin/python")
}

/// `tests/validators/validate_dsse.py` on an envelopes file with a public key.
fn validate_dsse(jsonl: &Path, public: &Path) -> (bool, String) {
    outcome(
        Std::new(venv_python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validators/validate_dsse.py"))
            .arg(jsonl)
            .arg(public),
    )
}

/// provenance.intoto.jsonl: a DSSE envelope (signature over PAE) of an in-toto
/// Statement v1 with SLSA Provenance v1, which securesystemslib and in-toto verify
/// with the public key (Ed25519 and ECDSA P-256) and in-toto-attestation's bindings
/// validate; its subjects are SHA256SUMS's lines, its gitCommit the tagged commit,
/// its Cargo.lock digest the tagged one; the same inputs and SOURCE_DATE_EPOCH give
/// the same bytes; a changed payload or another key fails.
#[test]
fn provenance_verifies_with_in_toto_and_securesystemslib() {
    for kind in ["ed25519", "ecdsa"] {
        let (r, alice) = Release::tagged_by_alice("", kind);
        let other = r.keygen("other", kind);
        let files = r.dist();
        let attest = |extra: &[&str]| {
            let mut c = r.attest(&files, &["--key", alice.to_str().unwrap()]);
            c.args(extra)
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .env_remove("GITHUB_ACTIONS");
            c
        };
        let (out, _) = run(&mut attest(&[]), 0);
        assert!(out.contains("dist/provenance.intoto.jsonl"), "{out}");
        let jsonl = r.dir().join("dist/provenance.intoto.jsonl");
        let public = PathBuf::from(format!("{}.pub", alice.display()));
        let (ok, said) = validate_dsse(&jsonl, &public);
        assert!(ok, "{kind}: {said}");
        assert!(
            said.contains("\"predicateType\": \"https://slsa.dev/provenance/v1\""),
            "{said}"
        );

        let text = std::fs::read_to_string(&jsonl).unwrap();
        assert_eq!(text.lines().count(), 1);
        let env: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
        let fpr = Std::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(&public)
            .output()
            .unwrap();
        let fpr = String::from_utf8_lossy(&fpr.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string();
        assert_eq!(env["signatures"][0]["keyid"], fpr.as_str());
        use base64ct::{Base64, Encoding};
        let payload = Base64::decode_vec(env["payload"].as_str().unwrap()).unwrap();
        let st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
        let sums = std::fs::read_to_string(r.dir().join("dist/SHA256SUMS")).unwrap();
        for line in sums.lines() {
            let (hex, name) = line.split_once("  ").unwrap();
            assert!(
                st["subject"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["name"] == name && s["digest"]["sha256"] == hex),
                "{name} not a subject: {st:#}"
            );
        }
        let def = &st["predicate"]["buildDefinition"];
        assert_eq!(
            def["buildType"],
            "https://github.com/cargo-secure-release/cargo-secure-release/blob/main/docs/attest.md#build-type-v1"
        );
        let head = git_ok(r.dir(), &["rev-parse", "v0.1.0^{commit}"]);
        assert_eq!(
            def["resolvedDependencies"][0]["digest"]["gitCommit"],
            head.trim()
        );
        assert_eq!(
            def["resolvedDependencies"][1]["digest"]["sha256"],
            sha256_hex(&std::fs::read(r.dir().join("Cargo.lock")).unwrap()).as_str()
        );
        assert_eq!(def["externalParameters"]["tag"], "v0.1.0");
        assert_eq!(def["externalParameters"]["package"]["name"], "rel");
        assert_eq!(def["internalParameters"]["sourceDateEpoch"], 1700000000);
        assert!(def["internalParameters"]["rustc"]
            .as_str()
            .unwrap()
            .contains("host: "));
        assert_eq!(
            st["predicate"]["runDetails"]["builder"]["id"],
            "https://github.com/cargo-secure-release/cargo-secure-release/blob/main/docs/attest.md#local-builder"
        );

        // Deterministic: the statement always; the envelope too with Ed25519.
        run(&mut attest(&["--force"]), 0);
        let again = std::fs::read_to_string(&jsonl).unwrap();
        let env2: serde_json::Value = serde_json::from_str(again.trim()).unwrap();
        assert_eq!(env2["payload"], env["payload"]);
        if kind == "ed25519" {
            assert_eq!(again, text);
        }
        // On GitHub Actions the builder is the workflow.
        let mut gh = attest(&["--force"]);
        gh.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env(
                "GITHUB_WORKFLOW_REF",
                "o/r/.github/workflows/release.yml@refs/tags/v0.1.0",
            )
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_RUN_ID", "42");
        run(&mut gh, 0);
        let env3: serde_json::Value =
            serde_json::from_str(std::fs::read_to_string(&jsonl).unwrap().trim()).unwrap();
        let st3: serde_json::Value =
            serde_json::from_slice(&Base64::decode_vec(env3["payload"].as_str().unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            st3["predicate"]["runDetails"]["builder"]["id"],
            "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v0.1.0"
        );
        assert_eq!(
            st3["predicate"]["runDetails"]["metadata"]["invocationId"],
            "https://github.com/o/r/actions/runs/42/attempts/1"
        );
        let (ok, said) = validate_dsse(&jsonl, &public);
        assert!(ok, "{said}");

        // Another key, or a changed payload: the validators refuse.
        let (ok, _) = validate_dsse(&jsonl, &PathBuf::from(format!("{}.pub", other.display())));
        assert!(!ok, "{kind}: verified with another key");
        let mut bad = env.clone();
        let mut st_bad = st.clone();
        st_bad["subject"][0]["digest"]["sha256"] = serde_json::json!("0".repeat(64));
        bad["payload"] =
            serde_json::json!(Base64::encode_string(&serde_json::to_vec(&st_bad).unwrap()));
        let tampered = r.keys.path().join("tampered.jsonl");
        std::fs::write(&tampered, format!("{bad}\n")).unwrap();
        let (ok, said) = validate_dsse(&tampered, &public);
        assert!(!ok && said.contains("does not verify"), "{said}");
    }
}

/// `verify --artifact`: offline, from the files beside the artifact, a good release
/// verifies (human and JSON, which follows schema/verify.schema.json); a tampered
/// archive, a swapped SHA256SUMS, a signature by a key outside the policy and a
/// provenance whose commit is not the tag's are each BAD (exit 1), naming the file.
/// Through a real ssh-agent (`--key KEY.pub`, the secret only in the agent): an
/// Ed25519 key's provenance and minisign signatures are byte-identical to those
/// made with the key file (Ed25519 is deterministic, SOURCE_DATE_EPOCH fixes the
/// rest); an ECDSA P-256 key's provenance verifies with securesystemslib and in-toto;
/// `verify --artifact` accepts both; the JSON report follows its schema.
#[test]
fn provenance_signed_through_a_real_ssh_agent() {
    let (r, alice, carol) = Release::alice_and_carol();
    let files = r.dist();
    let dist = r.dir().join("dist");
    let agent = SshAgent::start(r.keys.path());
    let attest = |key: &str, extra: &[&str], agent_sock: bool| {
        let mut c = r.attest(&files, &[&["--force", "--key", key], extra].concat());
        c.env("SOURCE_DATE_EPOCH", "1700000000");
        if agent_sock {
            c.env("SSH_AUTH_SOCK", &agent.sock);
        }
        c
    };
    let read = |name: &str| std::fs::read(dist.join(name)).unwrap();
    let made = [
        "provenance.intoto.jsonl",
        "rel-v0.1.0.tar.gz.sig",
        "SHA256SUMS.sig",
    ];

    run(
        &mut attest(alice.to_str().unwrap(), &["--minisign"], false),
        0,
    );
    let by_file: Vec<Vec<u8>> = made.iter().map(|n| read(n)).collect();
    // From here on only the agent holds the secrets.
    for key in [&alice, &carol] {
        agent.add(key);
        std::fs::remove_file(key).unwrap();
    }
    let alice_pub = format!("{}.pub", alice.display());
    let (out, _) = run(
        &mut attest(&alice_pub, &["--minisign", "--report-format", "json"], true),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(attest_schema(), &v);
    assert_eq!(v["dry_run"], false);
    assert!(
        v["signer"]
            .as_str()
            .unwrap()
            .starts_with("ED25519 key SHA256:"),
        "{v:#}"
    );
    for (name, before) in made.iter().zip(&by_file) {
        assert_eq!(&read(name), before, "{name} differs through the agent");
    }

    let carol_pub = format!("{}.pub", carol.display());
    run(&mut attest(&carol_pub, &[], true), 0);
    let (ok, said) = validate_dsse(&dist.join("provenance.intoto.jsonl"), Path::new(&carol_pub));
    assert!(ok, "{said}");
    let mut c = bin();
    c.current_dir(r.dir())
        .args(["verify", "--artifact", "dist/rel-v0.1.0.tar.gz"]);
    let (out, _) = run(&mut c, 0);
    let carol_fpr = r.fingerprint(&carol);
    assert!(
        out.contains(&format!(
            "dist/provenance.intoto.jsonl is signed by {carol_fpr}"
        )),
        "{out}"
    );
}

#[test]
fn verify_artifact_holds_files_to_their_attestations() {
    let (r, alice) = Release::tagged_by_alice("", "ed25519");
    let mallory = r.keygen("mallory", "ed25519");
    let files = r.dist();
    run(
        &mut r.attest(&files, &["--key", alice.to_str().unwrap()]),
        0,
    );
    let dist = r.dir().join("dist");
    let verify = |extra: &[&str]| {
        let mut c = bin();
        c.current_dir(r.dir())
            .args(["verify", "--artifact", "dist/rel-v0.1.0.tar.gz"])
            .args(extra);
        c
    };
    let (out, _) = run(&mut verify(&[]), 0);
    assert!(
        out.starts_with("Good \"git\" signature on tag `v0.1.0` for release@example.org"),
        "{out}"
    );
    for want in [
        "dist/provenance.intoto.jsonl names commit ",
        "dist/SHA256SUMS is signed by SHA256:",
        "dist/provenance.intoto.jsonl is signed by SHA256:",
        "dist/rel-v0.1.0.tar.gz matches line 2 of dist/SHA256SUMS",
        "dist/rel-v0.1.0.tar.gz is a subject of dist/provenance.intoto.jsonl",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    let (out, _) = run(&mut verify(&["--format", "json", "v0.1.0"]), 0);
    let v = json(&out);
    assert_eq!(v["good"], true);
    assert_eq!(v["artifacts"].as_array().unwrap().len(), 5, "{v:#}");
    // From elsewhere, with the files named.
    let mut c = bin();
    c.current_dir(&dist)
        .args(["verify", "--repo"])
        .arg(r.dir())
        .args(["--artifact", "rel v0.1.0 notes.txt", "--sums", "SHA256SUMS"]);
    run(&mut c, 0);

    let keep = |name: &str| std::fs::read(dist.join(name)).unwrap();
    let (archive, sums, sig) = (
        keep("rel-v0.1.0.tar.gz"),
        keep("SHA256SUMS"),
        keep("SHA256SUMS.sig"),
    );
    // A tampered archive.
    let mut evil = archive.clone();
    evil.extend_from_slice(b"\0");
    std::fs::write(dist.join("rel-v0.1.0.tar.gz"), &evil).unwrap();
    let (out, _) = run(&mut verify(&[]), 1);
    assert!(
        out.contains("BAD: dist/rel-v0.1.0.tar.gz: its SHA-256 is ")
            && out.contains("but line 2 of dist/SHA256SUMS says"),
        "{out}"
    );
    std::fs::write(dist.join("rel-v0.1.0.tar.gz"), &archive).unwrap();

    // A swapped SHA256SUMS, listing the tampered archive.
    let swapped = String::from_utf8(sums.clone())
        .unwrap()
        .replace(&sha256_hex(&archive), &sha256_hex(&evil));
    std::fs::write(dist.join("SHA256SUMS"), swapped).unwrap();
    std::fs::write(dist.join("rel-v0.1.0.tar.gz"), &evil).unwrap();
    let (out, _) = run(&mut verify(&[]), 1);
    assert!(
        out.contains("BAD: dist/SHA256SUMS.sig: the SSH signature by key SHA256:")
            && out.contains("does not match the signed file's content"),
        "{out}"
    );
    // Re-signed by Mallory with ssh-keygen: a key outside the policy.
    std::fs::remove_file(dist.join("SHA256SUMS.sig")).unwrap();
    let (ok, said) = stock(
        &dist,
        &[
            "ssh-keygen",
            "-Y",
            "sign",
            "-n",
            "file",
            "-f",
            mallory.to_str().unwrap(),
            "SHA256SUMS",
        ],
        None,
    );
    assert!(ok, "{said}");
    let (out, _) = run(&mut verify(&[]), 1);
    assert!(
        out.contains("BAD: dist/SHA256SUMS.sig: key SHA256:")
            && out.contains("is not listed in v0.1.0:.github/allowed_signers"),
        "{out}"
    );
    std::fs::write(dist.join("rel-v0.1.0.tar.gz"), &archive).unwrap();
    std::fs::write(dist.join("SHA256SUMS"), &sums).unwrap();
    std::fs::write(dist.join("SHA256SUMS.sig"), &sig).unwrap();
    run(&mut verify(&[]), 0);

    // The tag moved to another commit (signed by Alice): the provenance names the
    // commit the files were built from, not the tag's.
    r.fx.write("src/main.rs", "fn main() { println!(\"other\"); }\n");
    git_ok(r.dir(), &["commit", "-qam", "other"]);
    git_ok(r.dir(), &["tag", "-d", "v0.1.0"]);
    r.tag_ssh(&alice);
    let (out, _) = run(&mut verify(&[]), 1);
    assert!(
        out.contains("BAD: dist/provenance.intoto.jsonl names commit ")
            && out.contains("as the source of `v0.1.0`, but the tag is on commit"),
        "{out}"
    );
}

/// sigstore-js's modules (`@sigstore/verify` and its `@sigstore/bundle`), installed
/// by `cargo xtask test` (SIGSTORE_JS overrides the directory holding node_modules).
fn sigstore_js() -> PathBuf {
    let dir = std::env::var_os("SIGSTORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME"))
                .join(".cache/cargo-secure-release/sigstore-js")
        });
    let modules = dir.join("node_modules");
    assert!(
        modules.join("@sigstore/verify/package.json").exists(),
        "@sigstore/verify not found in {}: run `cargo xtask test`, which installs it, or set SIGSTORE_JS",
        modules.display()
    );
    modules
}

/// `--minisign`: a `FILE.sig` beside each file that Debian's `minisign -V` accepts
/// with the public key attest prints (the one cargo-binstall's lines name), which
/// fails for a changed file or a changed trusted comment; and provenance.sigstore.json,
/// the provenance's envelope as a Sigstore bundle v0.3, which sigstore-js's own
/// verifier accepts with the release key and refuses with another key or a changed
/// payload. An ECDSA key cannot sign minisign's format: refused, nothing written.
#[test]
fn minisign_signatures_and_the_sigstore_bundle_pass_their_own_verifiers() {
    let (r, alice, carol) = Release::alice_and_carol();
    let files = r.dist();
    let dist = r.dir().join("dist");

    // ECDSA: refused before anything is written.
    let before = snapshot(&dist);
    let (_, err) = run(
        &mut r.attest(&files, &["--minisign", "--key", carol.to_str().unwrap()]),
        1,
    );
    assert!(
        err.starts_with(
            "error: --minisign signs with an Ed25519 key, and the release key is ECDSA"
        ),
        "{err}"
    );
    assert_eq!(snapshot(&dist), before);

    let (out, _) = run(
        &mut r.attest(&files, &["--minisign", "--key", alice.to_str().unwrap()]),
        0,
    );
    let pk = binstall_pubkey(&out);
    assert!(out.contains("[package.metadata.binstall.signing]"), "{out}");
    assert!(out.contains("algorithm = \"minisign\""), "{out}");
    assert!(
        out.contains(&format!(
            "minisign -V -P {pk} -m rel-v0.1.0.tar.gz -x rel-v0.1.0.tar.gz.sig"
        )),
        "{out}"
    );
    for name in ["rel-v0.1.0.tar.gz", "rel v0.1.0 notes.txt"] {
        let sig = format!("{name}.sig");
        let (ok, said) = minisign_verify(&dist, &pk, name);
        assert!(ok, "minisign -V {name}: {said}");
        assert!(
            said.contains("Signature and comment signature verified")
                && said.contains(&format!("file:{name}\thashed")),
            "{said}"
        );
        // A changed trusted comment breaks the global signature.
        let text = std::fs::read_to_string(dist.join(&sig)).unwrap();
        std::fs::write(dist.join(&sig), text.replace("timestamp:", "timestamp:1")).unwrap();
        let (ok, said) = minisign_verify(&dist, &pk, name);
        assert!(!ok, "a changed trusted comment passed: {said}");
        std::fs::write(dist.join(&sig), text).unwrap();
    }
    // A changed archive fails.
    let archive = dist.join("rel-v0.1.0.tar.gz");
    let original = std::fs::read(&archive).unwrap();
    let mut changed = original.clone();
    changed.push(0);
    std::fs::write(&archive, &changed).unwrap();
    let (ok, said) = minisign_verify(&dist, &pk, "rel-v0.1.0.tar.gz");
    assert!(!ok, "a changed archive passed minisign: {said}");
    std::fs::write(&archive, &original).unwrap();

    // The Sigstore bundle, by sigstore-js with the release key.
    let bundle = dist.join("provenance.sigstore.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let hint = v["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap()
        .to_string();
    let envelope = std::fs::read_to_string(dist.join("provenance.intoto.jsonl")).unwrap();
    let envelope: serde_json::Value = serde_json::from_str(envelope.trim()).unwrap();
    assert_eq!(
        v["dsseEnvelope"], envelope,
        "the bundle holds another envelope"
    );
    let sigstore = |bundle: &Path, public: &str| -> (bool, String) {
        outcome(
            Std::new("node")
                .arg(
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("tests/validators/verify_sigstore_bundle.js"),
                )
                .arg(bundle)
                .arg(public)
                .arg(&hint)
                .env("NODE_PATH", sigstore_js()),
        )
    };
    let (ok, said) = sigstore(&bundle, &r.public(&alice));
    assert!(ok && said.trim() == "verified", "sigstore-js: {said}");
    let bob = r.keygen("bob", "ed25519");
    let (ok, said) = sigstore(&bundle, &r.public(&bob));
    assert!(!ok, "another key verified the bundle: {said}");
    // A changed payload (one subject's digest) fails.
    let mut tampered = v.clone();
    let payload = tampered["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap()
        .to_string();
    let swapped = match payload.chars().nth(40) {
        Some('A') => 'B',
        _ => 'A',
    };
    let mut p: Vec<char> = payload.chars().collect();
    p[40] = swapped;
    tampered["dsseEnvelope"]["payload"] = serde_json::Value::String(p.into_iter().collect());
    let tampered_path = r.keys.path().join("tampered.sigstore.json");
    std::fs::write(&tampered_path, tampered.to_string()).unwrap();
    let (ok, said) = sigstore(&tampered_path, &r.public(&alice));
    assert!(!ok, "a changed payload verified: {said}");

    // Our own `verify --bundle --key` (sigstore-verify), with an ECDSA P-256 release
    // key (ssh-keygen writes its PEM; not Ed25519's): the bundle has no log entry or
    // timestamp, so it is refused unless --insecure-ignore-tlog says to do without.
    run(
        &mut r.attest(&files, &["--force", "--key", carol.to_str().unwrap()]),
        0,
    );
    let pem = Std::new("ssh-keygen")
        .args(["-e", "-m", "PKCS8", "-f"])
        .arg(format!("{}.pub", carol.display()))
        .output()
        .unwrap();
    assert!(pem.status.success());
    let carol_pem = r.keys.path().join("carol.pem");
    std::fs::write(&carol_pem, &pem.stdout).unwrap();
    let verify = |extra: &[&str], artifact: &Path| {
        let mut c = bin();
        c.current_dir(r.dir())
            .args(["verify", "--artifact"])
            .arg(artifact)
            .args(["--bundle", "dist/provenance.sigstore.json", "--key"])
            .arg(&carol_pem)
            .args(extra);
        c
    };
    let (out, _) = run(&mut verify(&[], &archive), 1);
    assert!(
        out.contains("inclusion proof") || out.contains("log"),
        "{out}"
    );
    let (out, _) = run(&mut verify(&["--insecure-ignore-tlog"], &archive), 0);
    assert!(out.contains("signing time is not attested"), "{out}");
    // The archive must be a subject of the statement: another file is refused.
    let (out, _) = run(
        &mut verify(&["--insecure-ignore-tlog"], &dist.join("SHA256SUMS")),
        1,
    );
    assert!(out.contains("SHA256SUMS"), "{out}");
    // A changed payload: the signature no longer verifies.
    let mut tampered: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let payload = tampered["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap()
        .to_string();
    let mut p: Vec<char> = payload.chars().collect();
    p[40] = if p[40] == 'A' { 'B' } else { 'A' };
    tampered["dsseEnvelope"]["payload"] = serde_json::Value::String(p.into_iter().collect());
    std::fs::write(&bundle, tampered.to_string()).unwrap();
    let (out, _) = run(&mut verify(&["--insecure-ignore-tlog"], &archive), 1);
    assert!(out.contains("signature does not verify"), "{out}");
}

/// Through a real gpg-agent (`--agent`, the certificate alone on disk): an ECDSA
/// P-256 key signs the provenance (the agent signs its SHA-256), which securesystemslib
/// and in-toto verify with the key gpg exports and `verify --artifact` accepts; an
/// Ed25519 key cannot (the agent signs hashes, DSSE signs bytes): SHA256SUMS is
/// signed and attest says why there is no provenance.
#[cfg(feature = "gpg-agent")]
#[test]
fn through_gpg_agent_p256_signs_the_provenance() {
    let home = GnuPgHome::new();
    let gpg = |args: &[&str]| {
        let (ok, out, err) = home.gpg(Path::new("."), args);
        assert!(ok, "gpg {args:?}: {err}");
        out
    };
    for (algo, signs_dsse) in [("nistp256", true), ("ed25519", false)] {
        let r = Release::new(OPENPGP_POLICY);
        let uid = format!("{algo} <{TAGGER}>");
        gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            &uid,
            algo,
            "sign",
            "never",
        ]);
        let listing = String::from_utf8(gpg(&["--with-colons", "--list-keys", &uid])).unwrap();
        let fpr = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_string();
        r.commit_certs(&gpg(&["--armor", "--export", &fpr]));
        let public = r.dir().join("release-keys.asc");
        r.tag_openpgp(&public, &["--agent"], Some(&home));
        let files = r.dist();
        let mut c = r.attest(&files, &["--agent", "--key", public.to_str().unwrap()]);
        c.env("GNUPGHOME", home.path());
        let (out, _) = run(&mut c, 0);
        let dist = r.dir().join("dist");
        assert!(dist.join("SHA256SUMS.asc").exists(), "{out}");
        assert_eq!(
            dist.join("provenance.intoto.jsonl").exists(),
            signs_dsse,
            "{algo}: {out}"
        );
        if !signs_dsse {
            assert!(out.contains("no provenance.intoto.jsonl"), "{out}");
            continue;
        }
        let key = r.keys.path().join("signing.pub");
        home.export_ssh_key(&fpr, &key);
        let (ok, said) = validate_dsse(&dist.join("provenance.intoto.jsonl"), &key);
        assert!(ok, "{said}");
        let mut v = bin();
        v.current_dir(r.dir())
            .args(["verify", "--artifact", "dist/rel-v0.1.0.tar.gz"]);
        let (out, _) = run(&mut v, 0);
        assert!(
            out.contains("dist/provenance.intoto.jsonl is signed by OpenPGP key"),
            "{out}"
        );
    }
}

// The release's binaries (issue 29): the gate, the SBOM statements, verify.

const SMALLVEC: &str = "\n[dependencies]\nsmallvec = \"=1.4.1\"\n";

/// A copy of the advisory database as it was before RUSTSEC-2021-0003 (smallvec
/// before 1.6.1) was published: the database of the day the release was attested.
fn db_before_smallvec_advisory() -> TempDir {
    let db = TempDir::new().unwrap();
    copy_dir(advisory_db(), db.path());
    std::fs::remove_file(db.path().join("crates/smallvec/RUSTSEC-2021-0003.md")).unwrap();
    db
}

/// `cargo auditable build --release --locked` (or `cargo build`) of the release's
/// crate into its own target/ with `rustflags`; the binary.
fn build_bin(r: &Release, auditable: bool, rustflags: &str) -> PathBuf {
    let target = r.dir().join("target");
    let mut c = Std::new("cargo");
    if auditable {
        c.arg("auditable");
    }
    let out = c
        .args(["build", "--release", "--locked", "--quiet"])
        .current_dir(r.dir())
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", rustflags)
        .output()
        .expect("cargo auditable (`cargo xtask test` installs it)");
    assert!(
        out.status.success(),
        "build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("release/rel")
}

/// dist/rel, and the same binary as rel-v0.1.0/rel in a .tar.gz and a .tar.zst (by
/// GNU tar), a .zip (by Info-ZIP's zip) and a .tar.xz (which attest does not open).
fn dist_with_binary(r: &Release, bin: &Path) -> Vec<PathBuf> {
    let dist = r.dir().join("dist");
    let stage = r.dir().join("target/stage/rel-v0.1.0");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::copy(bin, stage.join("rel")).unwrap();
    std::fs::copy(bin, dist.join("rel")).unwrap();
    let staged = r.dir().join("target/stage");
    let (ok, said) = stock(
        &staged,
        &["tar", "czf", "../../dist/rel-v0.1.0.tar.gz", "rel-v0.1.0"],
        None,
    );
    assert!(ok, "{said}");
    let (ok, said) = stock(
        &staged,
        &["zip", "-qr", "../../dist/rel-v0.1.0.zip", "rel-v0.1.0"],
        None,
    );
    assert!(ok, "{said}");
    for (flag, name) in [
        ("--zstd", "rel-v0.1.0.tar.zst"),
        ("--xz", "rel-v0.1.0.tar.xz"),
    ] {
        let out = format!("../../dist/{name}");
        let (ok, said) = stock(&staged, &["tar", flag, "-cf", &out, "rel-v0.1.0"], None);
        assert!(ok, "{said}");
    }
    [
        "rel",
        "rel-v0.1.0.tar.gz",
        "rel-v0.1.0.zip",
        "rel-v0.1.0.tar.zst",
        "rel-v0.1.0.tar.xz",
    ]
    .iter()
    .map(|n| dist.join(n))
    .collect()
}

/// The statements of a provenance file, decoded, by line.
fn statements(jsonl: &Path) -> Vec<serde_json::Value> {
    use base64ct::{Base64, Encoding};
    std::fs::read_to_string(jsonl)
        .unwrap()
        .lines()
        .map(|l| {
            let env: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::from_slice(&Base64::decode_vec(env["payload"].as_str().unwrap()).unwrap())
                .unwrap()
        })
        .collect()
}

/// A clean binary passes the gate, alone and inside a .tar.gz and a .zip: each
/// gets an SBOM statement (CycloneDX, as cyclonedx-python-lib's strict validator
/// accepts it; signed, as securesystemslib and in-toto verify and
/// in-toto-attestation validates) whose packages are the embedded list resolved
/// against the tagged Cargo.lock. `verify --artifact` holds each binary's list to
/// its statement; with `--audit` and today's database it finds RUSTSEC-2021-0003,
/// published after the release was attested. With that database the gate
/// refuses, writing nothing.
#[test]
fn binaries_pass_the_gate_and_get_sbom_statements() {
    let (r, alice) = Release::tagged_by_alice(SMALLVEC, "ed25519");
    let bin = build_bin(&r, true, "");
    let files = dist_with_binary(&r, &bin);
    let then = db_before_smallvec_advisory();
    let then_db = then.path().to_str().unwrap();
    let key = alice.to_str().unwrap();
    let attest = |extra: &[&str]| {
        let mut c = r.attest(&files, &["--key", key]);
        c.args(extra).env("SOURCE_DATE_EPOCH", "1700000000");
        c
    };
    let (out, _) = run(&mut attest(&["--advisory-db", then_db]), 0);
    for subject in [
        "rel",
        "rel-v0.1.0.tar.gz!rel-v0.1.0/rel",
        "rel-v0.1.0.zip!rel-v0.1.0/rel",
        "rel-v0.1.0.tar.zst!rel-v0.1.0/rel",
    ] {
        assert!(
            out.contains(&format!(
                "passes the artifact checks; its 2 embedded packages are in the Cargo.lock of v0.1.0 (SBOM statement `{subject}`)"
            )),
            "{subject}\n{out}"
        );
    }
    assert!(
        out.contains("rel-v0.1.0.tar.xz: .tar.xz archives are not opened, so the binaries inside are not checked and have no SBOM statement"),
        "{out}"
    );
    let dist = r.dir().join("dist");
    let jsonl = dist.join("provenance.intoto.jsonl");
    let public = PathBuf::from(format!("{}.pub", alice.display()));
    let (ok, said) = validate_dsse(&jsonl, &public);
    assert!(ok, "{said}");
    assert_eq!(
        said.matches("https://cyclonedx.org/bom").count(),
        4,
        "{said}"
    );

    let lock = std::fs::read_to_string(r.dir().join("Cargo.lock")).unwrap();
    let checksum = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"smallvec\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("checksum = \"")))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    let digest = sha256_hex(&std::fs::read(&bin).unwrap());
    let all = statements(&jsonl);
    assert_eq!(all.len(), 5);
    assert_eq!(all[0]["predicateType"], "https://slsa.dev/provenance/v1");
    for st in &all[1..] {
        assert_eq!(st["predicateType"], "https://cyclonedx.org/bom");
        assert_eq!(st["subject"].as_array().unwrap().len(), 1);
        assert_eq!(st["subject"][0]["digest"]["sha256"], digest.as_str());
        let bom = &st["predicate"];
        assert_eq!(bom["metadata"]["component"]["name"], "rel");
        assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
        let comps = bom["components"].as_array().unwrap();
        assert_eq!(comps.len(), 1, "{bom:#}");
        assert_eq!(comps[0]["purl"], "pkg:cargo/smallvec@1.4.1");
        assert_eq!(comps[0]["hashes"][0]["content"], checksum.as_str());
        let file = r.keys.path().join("bom.json");
        std::fs::write(&file, serde_json::to_string(bom).unwrap()).unwrap();
        let (ok, said) = outcome(
            Std::new(venv_python())
                .arg(
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("tests/validators/validate_cyclonedx.py"),
                )
                .arg(&file)
                .arg(bom["specVersion"].as_str().unwrap()),
        );
        assert!(ok, "{said}");
    }
    // Deterministic with Ed25519 and SOURCE_DATE_EPOCH.
    let text = std::fs::read_to_string(&jsonl).unwrap();
    run(&mut attest(&["--advisory-db", then_db, "--force"]), 0);
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), text);

    let verify = |file: &str, extra: &[&str]| {
        let mut c = crate::common::bin();
        c.current_dir(r.dir())
            .args(["verify", "--artifact", file])
            .args(extra);
        c
    };
    let (out, _) = run(&mut verify("dist/rel", &[]), 0);
    assert!(
        out.contains("dist/rel's embedded dependency list is the 2 packages of the SBOM statement about `rel`"),
        "{out}"
    );
    let (out, _) = run(&mut verify("dist/rel-v0.1.0.zip", &["--format", "json"]), 0);
    let v = json(&out);
    assert!(
        v["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["claim"] == "sbom" && a["holds"] == true),
        "{v:#}"
    );
    let (out, _) = run(&mut verify("dist/rel-v0.1.0.tar.xz", &[]), 0);
    assert!(
        out.contains("rel-v0.1.0.tar.xz: .tar.xz archives are not opened"),
        "{out}"
    );
    // Today's database: the advisory published since the release.
    let (out, _) = run(
        &mut verify(
            "dist/rel-v0.1.0.tar.gz",
            &["--audit", "--advisory-db", then_db],
        ),
        0,
    );
    assert!(
        out.contains("the release binaries' embedded packages pass the audit"),
        "{out}"
    );
    let today = advisory_db().to_str().unwrap();
    let (out, _) = run(
        &mut verify(
            "dist/rel-v0.1.0.tar.gz",
            &["--audit", "--advisory-db", today],
        ),
        1,
    );
    assert!(
        out.contains("RUSTSEC-2021-0003")
            && out.contains("BAD: the release binaries' embedded packages have error findings"),
        "{out}"
    );
    let (out, _) = run(
        &mut verify(
            "dist/rel",
            &["--audit", "--advisory-db", today, "--format", "json"],
        ),
        1,
    );
    let v = json(&out);
    assert!(
        v["audit"]["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "RUSTSEC-2021-0003" && f["package"] == "smallvec"),
        "{v:#}"
    );

    // Attested with today's database: the gate refuses, and writes nothing.
    let before = snapshot(&dist);
    let (_, err) = run(&mut attest(&["--advisory-db", today, "--force"]), 1);
    assert!(
        err.starts_with("error: 4 errors in the release's binaries: attest judges them as `audit --artifact` does")
            && err.contains("nothing was written")
            && err.contains("| vulnerability RUSTSEC-2021-0003: Buffer overflow in SmallVec::insert_many (smallvec 1.4.1 in ")
            && err.contains("dist/rel-v0.1.0.zip!rel-v0.1.0/rel)"),
        "{err}"
    );
    assert_eq!(snapshot(&dist), before);

    // --artifacts: the built bin target too, where `audit --artifacts` finds it.
    let (out, _) = run(
        &mut attest(&["--advisory-db", then_db, "--force", "--artifacts"]),
        0,
    );
    assert!(
        out.contains("(SBOM statement `../target/release/rel`)"),
        "{out}"
    );
}

/// The gate refuses, writing nothing, a binary with an artifact error (an
/// executable stack) and one whose embedded list is not the tagged Cargo.lock's
/// (built after a dependency changed); a binary without an embedded list passes
/// with a note and no SBOM statement, unless the policy requires the list.
#[test]
fn binaries_that_fail_the_gate_write_nothing() {
    let (r, alice) = Release::tagged_by_alice("\n[dependencies]\nitoa = \"=1.0.11\"\n", "ed25519");
    let key = alice.to_str().unwrap();
    let db = advisory_db().to_str().unwrap();
    let dist = r.dir().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let shipped = dist.join("rel");
    let attest = |extra: &[&str]| {
        let mut c = r.attest(
            std::slice::from_ref(&shipped),
            &["--key", key, "--advisory-db", db],
        );
        c.args(extra);
        c
    };

    // An archive that is not what its name says: a clear error naming it (exit 2).
    for name in ["bad.tar.gz", "bad.zip"] {
        let bad = dist.join(name);
        std::fs::write(&bad, "not an archive\n").unwrap();
        let before = snapshot(&dist);
        let mut c = r.attest(std::slice::from_ref(&bad), &["--key", key]);
        let (_, err) = run(&mut c, 2);
        assert!(
            err.starts_with(&format!(
                "error: archive {} cannot be read: ",
                bad.display()
            )) && err.contains("help: check that the archive is complete"),
            "{err}"
        );
        assert_eq!(snapshot(&dist), before);
        std::fs::remove_file(&bad).unwrap();
    }

    let bin = build_bin(&r, true, "-C link-arg=-Wl,-z,execstack");
    std::fs::copy(&bin, &shipped).unwrap();
    let before = snapshot(&dist);
    let (_, err) = run(&mut attest(&[]), 1);
    assert!(
        err.starts_with("error: 1 error in the release's binaries")
            && err.contains("dist/rel: the stack is executable (PT_GNU_STACK has PF_X)")
            && err.contains("| exec-stack: "),
        "{err}"
    );
    assert_eq!(snapshot(&dist), before);

    // Without an embedded list: a note, no SBOM statement (the policy's warning).
    let bin = build_bin(&r, false, "");
    std::fs::copy(&bin, &shipped).unwrap();
    let (out, _) = run(&mut attest(&[]), 0);
    assert!(
        out.contains("dist/rel passes the artifact checks; it embeds no dependency list, so it has no SBOM statement")
            && out.contains("warning: no-audit-data: "),
        "{out}"
    );
    assert_eq!(statements(&dist.join("provenance.intoto.jsonl")).len(), 1);
    let mut c = crate::common::bin();
    c.current_dir(r.dir())
        .args(["verify", "--artifact", "dist/rel"]);
    let (out, _) = run(&mut c, 0);
    assert!(
        out.contains("dist/rel embeds no dependency list, and "),
        "{out}"
    );

    // Built after the dependency changed: itoa 1.0.15 is not in the tagged Cargo.lock.
    r.fx.write(
        "Cargo.toml",
        &r.fx.read("Cargo.toml").replace("=1.0.11", "=1.0.15"),
    );
    r.fx.relock();
    let bin = build_bin(&r, true, "");
    std::fs::copy(&bin, &shipped).unwrap();
    let before = snapshot(&dist);
    let (_, err) = run(&mut attest(&["--force"]), 1);
    assert!(
        err.contains("| lockfile-mismatch: ")
            && err.contains("dist/rel embeds itoa 1.0.15, which Cargo.lock does not have"),
        "{err}"
    );
    assert_eq!(snapshot(&dist), before);

    // --artifacts finds the built bin target, which the gate judges as any file;
    // a bin target not built is a refusal naming the build.
    let artifacts = || {
        let mut c = r.attest(&[], &["--key", key, "--advisory-db", db, "--artifacts"]);
        c.arg("--force");
        c
    };
    let (_, err) = run(&mut artifacts(), 1);
    assert!(
        err.contains("target/release/rel embeds itoa 1.0.15, which Cargo.lock does not have"),
        "{err}"
    );
    std::fs::remove_file(r.dir().join("target/release/rel")).unwrap();
    let (_, err) = run(&mut artifacts(), 1);
    assert!(
        err.starts_with(
            "error: bin target `rel` has no built file at target/release/rel; nothing was written"
        ) && err.contains("build it first: `cargo auditable build --release`"),
        "{err}"
    );
    assert_eq!(snapshot(&dist), before);
}

/// `verify --artifact` refuses a binary whose embedded list is not its SBOM
/// statement's: a statement edited and signed again with the release key (by the
/// `cryptography` library), a statement edited and not signed again, and the
/// statement of an earlier attestation of the archive mixed into a later one.
#[test]
fn verify_refuses_binaries_that_are_not_their_sbom_statements() {
    let (r, alice) = Release::tagged_by_alice(SMALLVEC, "ed25519");
    let bin = build_bin(&r, true, "");
    let files = dist_with_binary(&r, &bin);
    let then = db_before_smallvec_advisory();
    let key = alice.to_str().unwrap();
    let attest = || {
        let mut c = r.attest(
            &files,
            &[
                "--key",
                key,
                "--advisory-db",
                then.path().to_str().unwrap(),
                "--force",
            ],
        );
        c.env("SOURCE_DATE_EPOCH", "1700000000");
        c
    };
    run(&mut attest(), 0);
    let dist = r.dir().join("dist");
    let jsonl = dist.join("provenance.intoto.jsonl");
    let good = std::fs::read_to_string(&jsonl).unwrap();
    let verify = |file: &str| {
        let mut c = crate::common::bin();
        c.current_dir(r.dir()).args(["verify", "--artifact", file]);
        c
    };
    run(&mut verify("dist/rel"), 0);

    // The statement about `rel` without smallvec, signed again with Alice's key.
    let all = statements(&jsonl);
    let sbom_about = |s: &serde_json::Value, name: &str| {
        s["predicateType"] == "https://cyclonedx.org/bom" && s["subject"][0]["name"] == name
    };
    let line = all.iter().position(|s| sbom_about(s, "rel")).unwrap();
    let mut edited = all[line].clone();
    edited["predicate"]["components"] = serde_json::json!([]);
    let payload = r.keys.path().join("payload.json");
    std::fs::write(&payload, serde_json::to_vec(&edited).unwrap()).unwrap();
    let (ok, said) = outcome(
        Std::new(venv_python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validators/resign_dsse.py"))
            .arg(&jsonl)
            .arg((line + 1).to_string())
            .arg(&payload)
            .arg(&alice)
            .arg(&jsonl),
    );
    assert!(ok, "{said}");
    let (ok, said) = validate_dsse(&jsonl, &PathBuf::from(format!("{}.pub", alice.display())));
    assert!(ok, "the re-signed envelope verifies: {said}");
    let (out, _) = run(&mut verify("dist/rel"), 1);
    assert!(
        out.contains("BAD: dist/rel: its embedded dependency list is not the SBOM statement's about `rel`: it embeds smallvec 1.4.1, which the statement does not list"),
        "{out}"
    );

    // The same edit, not signed again: the statement is not the release key's.
    use base64ct::{Base64, Encoding};
    let mut envelope: serde_json::Value =
        serde_json::from_str(good.lines().nth(line).unwrap()).unwrap();
    envelope["payload"] =
        serde_json::json!(Base64::encode_string(&serde_json::to_vec(&edited).unwrap()));
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    lines[line] = envelope.to_string();
    std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    let (out, _) = run(&mut verify("dist/rel"), 1);
    assert!(
        out.contains(&format!(
            "BAD: dist/provenance.intoto.jsonl line {}: no key that may sign files made the SBOM statement's signature",
            line + 1
        )),
        "{out}"
    );

    // Another binary in the archive, attested again; the earlier statement about
    // the archive's binary put back into the new provenance (both Alice's).
    std::fs::write(&jsonl, &good).unwrap();
    let first = sha256_hex(&std::fs::read(&bin).unwrap());
    r.fx.write("src/main.rs", "fn main() { println!(\"v2\"); }\n");
    let other = build_bin(&r, true, "");
    dist_with_binary(&r, &other);
    run(&mut attest(), 0);
    let new = std::fs::read_to_string(&jsonl).unwrap();
    let subject = "rel-v0.1.0.tar.gz!rel-v0.1.0/rel";
    let at = statements(&jsonl)
        .iter()
        .position(|s| sbom_about(s, subject))
        .unwrap();
    let old_line = good
        .lines()
        .zip(all.iter())
        .find(|(_, s)| sbom_about(s, subject))
        .unwrap()
        .0;
    let mut lines: Vec<&str> = new.lines().collect();
    lines[at] = old_line;
    std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    let (out, _) = run(&mut verify("dist/rel-v0.1.0.tar.gz"), 1);
    assert!(
        out.contains(&format!(
            "BAD: dist/rel-v0.1.0.tar.gz!rel-v0.1.0/rel: the SBOM statement about `{subject}` is of SHA-256 {}, not this binary's {}",
            first,
            sha256_hex(&std::fs::read(&other).unwrap())
        )),
        "{out}"
    );
}
