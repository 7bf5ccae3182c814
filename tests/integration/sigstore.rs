//! `verify --bundle` against the Sigstore conformance suite (`../shared/sigstore-
//! conformance`, the Sigstore project's own cases, read in place and never written):
//! every case of `test/assets/bundle-verify/` run through the binary as the suite's
//! CLI protocol runs a client (`docs/cli_protocol.md`: the artifact as a file, then
//! as `sha256:HEX`), a case whose name ends in `_fail` rejected (nonzero), every
//! other accepted (0). Then tampered copies of each accepted case, a real project's
//! GitHub Actions provenance, and bad input.

use crate::common::{assert_valid, bin, json, shared_dir, verify_schema};
use base64ct::{Base64, Encoding};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Cases whose outcome differs from the suite's, each with the exact reason. The
/// goal is none; `conformance_suite` fails on any other mismatch and on an entry
/// here that has started to pass.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// The defaults of the suite's harness (`test/client.py`, its README).
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn cases_dir() -> PathBuf {
    shared_dir().join("sigstore-conformance/test/assets/bundle-verify")
}

#[derive(Clone)]
struct Case {
    name: String,
    dir: PathBuf,
    artifact: PathBuf,
    identity: String,
    issuer: String,
    key: Option<PathBuf>,
    trusted_root: Option<PathBuf>,
}

impl Case {
    fn expect_pass(&self) -> bool {
        !self.name.ends_with("_fail")
    }

    /// The family a score is counted in: the name's first word (two for rekor2).
    fn family(&self) -> String {
        let words: Vec<&str> = self.name.trim_end_matches("_fail").split('-').collect();
        match words.as_slice() {
            ["rekor2", second, ..] => format!("rekor2-{second}"),
            ["happy", "path", ..] => "happy-path".into(),
            ["managed", "key", ..] => "managed-key".into(),
            ["trust", "root", ..] => "trust-root".into(),
            [first, ..] => first.to_string(),
            [] => String::new(),
        }
    }

    fn bundle(&self) -> PathBuf {
        self.dir.join("bundle.sigstore.json")
    }

    /// `verify` in the protocol's terms: `--artifact` is FILE_OR_DIGEST.
    fn args(&self, bundle: &Path, artifact: &str) -> Vec<String> {
        let mut a = vec![
            "verify".to_string(),
            "--artifact".into(),
            artifact.into(),
            "--bundle".into(),
            bundle.display().to_string(),
        ];
        if let Some(root) = &self.trusted_root {
            a.extend(["--trusted-root".into(), root.display().to_string()]);
        }
        match &self.key {
            Some(key) => a.extend(["--key".into(), key.display().to_string()]),
            None => a.extend([
                "--identity".into(),
                self.identity.clone(),
                "--issuer".into(),
                self.issuer.clone(),
            ]),
        }
        a
    }
}

/// The conformance case of that name.
fn case_named(name: &str) -> Case {
    cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no conformance case {name}"))
}

fn cases() -> Vec<Case> {
    let base = cases_dir();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("the conformance suite at {}: {e}", base.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
            let artifact = match dir.join("artifact").exists() {
                true => dir.join("artifact"),
                false => base.join("a.txt"),
            };
            Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                artifact,
                identity: read("identity").map_or(DEFAULT_IDENTITY.into(), |s| s.trim().into()),
                issuer: read("issuer").map_or(DEFAULT_ISSUER.into(), |s| s.trim().into()),
                key: Some(dir.join("key.pub")).filter(|p| p.exists()),
                trusted_root: Some(dir.join("trusted_root.json")).filter(|p| p.exists()),
                dir,
            }
        })
        .collect()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[String]) -> Run {
    let out = bin()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sha256_arg(path: &Path) -> String {
    format!(
        "sha256:{}",
        crate::common::sha256_hex(&std::fs::read(path).unwrap())
    )
}

/// A run's outcome is well-formed: 0 with a good report, 1 with a bad one (both
/// valid JSON by the schema), or 2 with one `error:` line naming what is wrong.
fn check_shape(case: &str, r: &Run) {
    match r.code {
        0 | 1 => {
            let v = json(&r.stdout);
            assert_valid(verify_schema(), &v);
            assert_eq!(v["good"], r.code == 0, "{case}: {}", r.stdout);
            assert!(v["bundle"].is_string(), "{case}");
        }
        2 => assert!(
            r.stderr.starts_with("error: ") && r.stderr.contains("bundle.sigstore.json")
                || r.stderr.contains("trusted_root.json")
                || r.stderr.contains("key.pub"),
            "{case}: exit 2 without a first line naming the file: {}",
            r.stderr
        ),
        other => panic!("{case}: exit {other}: {}", r.stderr),
    }
}

#[test]
fn conformance_suite() {
    use std::collections::BTreeMap;
    let cases = cases();
    assert!(cases.len() >= 70, "only {} cases found", cases.len());
    let mut score: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for case in &cases {
        let by_file = run(&case.args(&case.bundle(), &case.artifact.display().to_string()));
        let by_digest = run(&case.args(&case.bundle(), &sha256_arg(&case.artifact)));
        let mut ok = true;
        for (how, r) in [("file", &by_file), ("digest", &by_digest)] {
            check_shape(&case.name, r);
            if (r.code == 0) != case.expect_pass() {
                ok = false;
                let why = r
                    .stdout
                    .lines()
                    .chain(r.stderr.lines())
                    .take(3)
                    .collect::<Vec<_>>();
                mismatches.push(format!(
                    "{} (by {how}): exit {}: {}",
                    case.name,
                    r.code,
                    why.join(" | ")
                ));
            }
        }
        let entry = score.entry(case.family()).or_default();
        entry.1 += 1;
        if ok {
            entry.0 += 1;
        }
    }
    let (passed, total) = score.values().fold((0, 0), |(p, t), (a, b)| (p + a, t + b));
    eprintln!("Sigstore conformance, bundle-verify (by file and by digest):");
    for (family, (p, t)) in &score {
        eprintln!("  {family:<18} {p}/{t}");
    }
    eprintln!("  {:<18} {passed}/{total}", "all");
    let unexpected: Vec<&String> = mismatches
        .iter()
        .filter(|m| {
            !EXCEPTIONS
                .iter()
                .any(|(name, _)| m.starts_with(&format!("{name} ")))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "cases that do not match the suite:\n{}",
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (name, _) in EXCEPTIONS {
        assert!(
            mismatches
                .iter()
                .any(|m| m.starts_with(&format!("{name} "))),
            "{name} passes now: remove it from EXCEPTIONS"
        );
    }
}

/// What a tamper changes: one byte, in the place named.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    Artifact,
    Signature,
    Certificate,
    LogEntry,
}

fn flip_b64(v: &mut Value, at: fn(usize) -> usize) -> bool {
    let Some(s) = v.as_str() else { return false };
    let Ok(mut bytes) = Base64::decode_vec(s) else {
        return false;
    };
    if bytes.is_empty() {
        return false;
    }
    let i = at(bytes.len());
    bytes[i] ^= 0x01;
    *v = Value::String(Base64::encode_string(&bytes));
    true
}

/// The bundle (and artifact) with one byte changed; None when the case has no
/// such part (a managed-key bundle has no certificate).
fn tampered(case: &Case, what: Tamper, dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(case.bundle()).unwrap()).unwrap();
    let mut artifact = std::fs::read(&case.artifact).unwrap();
    let changed = match what {
        Tamper::Artifact => {
            let last = artifact.len() - 1;
            artifact[last] ^= 0x01;
            true
        }
        Tamper::Signature => {
            let sig = match bundle.get_mut("messageSignature") {
                Some(m) => &mut m["signature"],
                None => &mut bundle["dsseEnvelope"]["signatures"][0]["sig"],
            };
            // A byte of the signature value itself (DER's tail), not its framing.
            flip_b64(sig, |n| n - 2)
        }
        Tamper::Certificate => {
            let cert = [
                "/verificationMaterial/certificate/rawBytes",
                "/verificationMaterial/x509CertificateChain/certificates/0/rawBytes",
            ]
            .iter()
            .find(|p| bundle.pointer(p).is_some())?;
            // Inside the CA's signature over the certificate.
            flip_b64(bundle.pointer_mut(cert)?, |n| n - 3)
        }
        Tamper::LogEntry => {
            let body =
                bundle.pointer_mut("/verificationMaterial/tlogEntries/0/canonicalizedBody")?;
            // A hex or base64 character of a digest the body records, changed to another.
            let text = body.as_str().and_then(|s| Base64::decode_vec(s).ok())?;
            let mut text = String::from_utf8(text).unwrap();
            let at = ["\"value\":\"", "\"digest\":\""]
                .iter()
                .find_map(|k| text.find(k).map(|i| i + k.len()))?;
            let c = text.as_bytes()[at];
            let other = if c == b'a' { "b" } else { "a" };
            text.replace_range(at..at + 1, other);
            *body = Value::String(Base64::encode_string(text.as_bytes()));
            true
        }
    };
    if !changed {
        return None;
    }
    let b = dir.join("bundle.sigstore.json");
    let a = dir.join("artifact");
    std::fs::write(&b, serde_json::to_vec(&bundle).unwrap()).unwrap();
    std::fs::write(&a, artifact).unwrap();
    Some((b, a))
}

#[test]
fn one_changed_byte_of_any_part_is_rejected() {
    let mut tried = 0;
    for case in cases().iter().filter(|c| c.expect_pass()) {
        for what in [
            Tamper::Artifact,
            Tamper::Signature,
            Tamper::Certificate,
            Tamper::LogEntry,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let Some((bundle, artifact)) = tampered(case, what, dir.path()) else {
                continue;
            };
            let r = run(&case.args(&bundle, &artifact.display().to_string()));
            assert_eq!(
                r.code, 1,
                "{} with one byte of its {what:?} changed: exit {}\n{}{}",
                case.name, r.code, r.stdout, r.stderr
            );
            let v = json(&r.stdout);
            assert_valid(verify_schema(), &v);
            assert_eq!(v["signature"]["verdict"], "bad", "{}: {what:?}", case.name);
            tried += 1;
        }
    }
    // Every accepted case has an artifact and a signature; most a certificate and a log entry.
    assert!(tried >= 80, "only {tried} tampered copies were judged");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sigstore")
        .join(name)
}

/// A real release: sigstore-js's npm package 2.0.0 and the provenance GitHub
/// Actions signed for it, checked by the repository's workflow identity, offline,
/// with the public-good root built into the binary.
#[test]
fn a_github_actions_provenance_verifies_by_repository_workflow_and_ref() {
    let artifact = fixture("sigstore-2.0.0.tgz");
    let bundle = fixture("sigstore-2.0.0.tgz.sigstore.json");
    let verify = |extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "verify".into(),
            "--artifact".into(),
            artifact.display().to_string(),
            "--bundle".into(),
            bundle.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args)
    };
    let good = verify(&[
        "--repo",
        "sigstore/sigstore-js",
        "--workflow",
        "release.yml",
        "--ref",
        "main",
    ]);
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
    let v = json(&good.stdout);
    assert_valid(verify_schema(), &v);
    assert_eq!(v["signature"]["format"], "sigstore");
    assert_eq!(
        v["signature"]["identity"],
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
    );
    assert_eq!(v["signature"]["issuer"], DEFAULT_ISSUER);
    let claims: Vec<&str> = v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["claim"].as_str().unwrap())
        .collect();
    for claim in [
        "bundle",
        "artifact",
        "signature",
        "certificate",
        "sct",
        "identity",
        "timestamp",
        "tlog",
    ] {
        assert!(claims.contains(&claim), "{claim} not reported: {claims:?}");
    }
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("embedded Sigstore public-good root"),
        "{v}"
    );
    // The same, by the full identity.
    let exact = verify(&[
        "--identity",
        v["signature"]["identity"].as_str().unwrap(),
        "--issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(exact.code, 0, "{}", exact.stdout);
    // Another repository, workflow or ref is refused, naming what the certificate says.
    for (flags, says) in [
        (
            &["--repo", "sigstore/sigstore-python"][..],
            "not a workflow of sigstore/sigstore-python",
        ),
        (
            &["--repo", "sigstore/sigstore-js", "--workflow", "ci.yml"][..],
            "not `ci.yml`",
        ),
        (
            &["--repo", "sigstore/sigstore-js", "--ref", "v2.0.0"][..],
            "not `v2.0.0`",
        ),
    ] {
        let r = verify(flags);
        assert_eq!(r.code, 1, "{flags:?}: {}", r.stdout);
        let v = json(&r.stdout);
        let reason = v["signature"]["reason"].as_str().unwrap();
        assert!(reason.contains(says), "{flags:?}: {reason}");
        assert_eq!(v["artifacts"][0]["claim"], "identity");
    }
    // Human output: the signer, then what was checked.
    let out = bin()
        .args(["verify", "--artifact"])
        .arg(&artifact)
        .arg("--bundle")
        .arg(&bundle)
        .args(["--repo", "sigstore/sigstore-js"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("Good Sigstore signature in "), "{text}");
    assert!(text.contains("  tlog: entry "), "{text}");
}

/// `gh attestation trusted-root` prints JSON Lines of several roots: a bundle is
/// good under any of them, and under none of them it is refused.
#[test]
fn json_lines_of_trusted_roots_are_each_trusted() {
    let base = cases_dir();
    let custom =
        std::fs::read_to_string(base.join("intoto-with-custom-trust-root/trusted_root.json"))
            .unwrap();
    let line =
        |text: &str| serde_json::to_string(&serde_json::from_str::<Value>(text).unwrap()).unwrap();
    let public = {
        // The public-good root: the one the binary embeds, as a line of its own.
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sigstore/trusted_root.json");
        std::fs::read_to_string(p).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("roots.jsonl");
    std::fs::write(&both, format!("{}\n{}\n", line(&custom), line(&public))).unwrap();
    let only_custom = dir.path().join("custom.jsonl");
    std::fs::write(
        &only_custom,
        format!("{}\n{}\n", line(&custom), line(&custom)),
    )
    .unwrap();
    let case = case_named("happy-path-v0.3");
    let with_root = |root: &Path| {
        let c = Case {
            trusted_root: Some(root.to_path_buf()),
            ..case.clone()
        };
        run(&c.args(&case.bundle(), &case.artifact.display().to_string()))
    };
    let good = with_root(&both);
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
    assert!(json(&good.stdout)["notes"][0]
        .as_str()
        .unwrap()
        .contains("roots.jsonl line 2"));
    let bad = with_root(&only_custom);
    assert_eq!(bad.code, 1, "{}{}", bad.stdout, bad.stderr);
    let v = json(&bad.stdout);
    assert!(
        v["notes"]
            .to_string()
            .contains("none of the 2 trusted roots"),
        "{v}"
    );
}

/// Input that cannot be judged: exit 2, a first line naming the file and what is wrong.
#[test]
fn unreadable_input_names_the_file() {
    let base = cases_dir();
    let happy = base.join("happy-path-v0.3/bundle.sigstore.json");
    let a = base.join("a.txt");
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.sigstore.json");
    std::fs::write(&garbage, "{\"mediaType\": 3}").unwrap();
    let root_garbage = dir.path().join("root.json");
    std::fs::write(&root_garbage, "not json\n").unwrap();
    let key_garbage = dir.path().join("key.pem");
    std::fs::write(
        &key_garbage,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let id = ["--identity", DEFAULT_IDENTITY, "--issuer", DEFAULT_ISSUER];
    let s = |p: &Path| p.display().to_string();
    for (args, first) in [
        (
            vec!["--bundle".to_string(), s(&garbage)]
                .into_iter()
                .chain(id.iter().map(|x| x.to_string()))
                .collect::<Vec<_>>(),
            format!("error: {}: not a Sigstore bundle", s(&garbage)),
        ),
        (
            vec![
                "--bundle".into(),
                s(&happy),
                "--trusted-root".into(),
                s(&root_garbage),
            ]
            .into_iter()
            .chain(id.iter().map(|x| x.to_string()))
            .collect(),
            format!("error: {}: not a Sigstore trusted root", s(&root_garbage)),
        ),
        (
            vec![
                "--bundle".into(),
                s(&happy),
                "--key".into(),
                s(&key_garbage),
            ],
            format!(
                "error: {}: not a public key this tool can use",
                s(&key_garbage)
            ),
        ),
        (
            vec!["--bundle".into(), s(&happy)],
            "error: verify --bundle needs the signer it must find".to_string(),
        ),
        (
            vec![
                "--bundle".into(),
                s(&happy),
                "--repo".into(),
                "not-a-repo".into(),
            ],
            "error: --repo `not-a-repo`: with --bundle, name the GitHub repository as OWNER/REPO"
                .to_string(),
        ),
        (
            vec!["--bundle".into(), s(&dir.path().join("missing.json"))]
                .into_iter()
                .chain(id.iter().map(|x| x.to_string()))
                .collect(),
            format!(
                "error: could not read Sigstore bundle {}",
                s(&dir.path().join("missing.json"))
            ),
        ),
    ] {
        let out = bin()
            .args(["verify", "--artifact"])
            .arg(&a)
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&first),
            "{args:?}: expected `{first}`, got: {err}"
        );
        assert!(!err.contains("panicked") && !err.contains("{ "), "{err}");
    }
    // A missing artifact is named too.
    let missing = dir.path().join("nothing-here");
    let out = bin()
        .args(["verify", "--artifact"])
        .arg(&missing)
        .arg("--bundle")
        .arg(&happy)
        .args(id)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "error: could not read the artifact {}",
            s(&missing)
        )),
        "{err}"
    );
}

/// `gh attestation download` writes a file's attestations as JSON Lines of bundles:
/// good when one of them verifies.
#[test]
fn json_lines_of_bundles_are_good_when_one_verifies() {
    let base = cases_dir();
    let line = |case: &str| {
        let text = std::fs::read_to_string(base.join(case).join("bundle.sigstore.json")).unwrap();
        serde_json::to_string(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let one_good = dir.path().join("one-good.jsonl");
    std::fs::write(
        &one_good,
        format!(
            "{}\n{}\n",
            line("signature-mismatch_fail"),
            line("happy-path-v0.3")
        ),
    )
    .unwrap();
    let none_good = dir.path().join("none-good.jsonl");
    std::fs::write(
        &none_good,
        format!(
            "{}\n{}\n",
            line("signature-mismatch_fail"),
            line("wrong-hashedrekord-entry_fail")
        ),
    )
    .unwrap();
    let case = case_named("happy-path-v0.3");
    let good = run(&case.args(&one_good, &case.artifact.display().to_string()));
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
    let bad = run(&case.args(&none_good, &case.artifact.display().to_string()));
    assert_eq!(bad.code, 1, "{}{}", bad.stdout, bad.stderr);
    assert!(
        json(&bad.stdout)["notes"]
            .to_string()
            .contains("none of the 2 bundles"),
        "{}",
        bad.stdout
    );
}

/// A managed-key bundle judged by a real key that did not sign it (the suite's own
/// wrong-key case holds an unreadable key): rejected, exit 1. The key is made by
/// ssh-keygen and exported as PEM, as users export one.
#[test]
fn a_managed_key_bundle_is_rejected_under_another_key() {
    let case = case_named("managed-key-happy-path");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("other");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let pem = std::process::Command::new("ssh-keygen")
        .args(["-e", "-m", "PKCS8", "-f"])
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    assert!(pem.status.success());
    let pem_path = dir.path().join("other.pem");
    std::fs::write(&pem_path, &pem.stdout).unwrap();
    let other = Case {
        key: Some(pem_path),
        ..case.clone()
    };
    let r = run(&other.args(&case.bundle(), &case.artifact.display().to_string()));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["artifacts"][0]["holds"], false);
    // The right key, for contrast.
    let r = run(&case.args(&case.bundle(), &case.artifact.display().to_string()));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        json(&r.stdout)["signature"]["allowed_by"],
        case.key.as_ref().unwrap().display().to_string()
    );
}

/// A bundle's certificate chain carries intermediates, never a root: the suite's
/// `bundle-with-root-cert_fail` is rejected for another reason as well (no
/// checkpoint), so the rule is held here on an otherwise good bundle.
#[test]
fn a_chain_that_carries_its_root_is_rejected_and_one_with_its_intermediate_is_not() {
    let case = case_named("happy-path-v0.2");
    let root: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sigstore/trusted_root.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // The current Fulcio CA: intermediate, then root.
    let ca = root["certificateAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["validFor"].get("end").is_none())
        .unwrap()["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ca.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    for (extra, code) in [(&ca[..1], 0), (&ca[..], 1)] {
        let mut bundle: Value =
            serde_json::from_slice(&std::fs::read(case.bundle()).unwrap()).unwrap();
        let chain = bundle
            .pointer_mut("/verificationMaterial/x509CertificateChain/certificates")
            .unwrap();
        chain.as_array_mut().unwrap().extend(extra.iter().cloned());
        let path = dir.path().join(format!("chain-{}.json", extra.len()));
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        let r = run(&case.args(&path, &case.artifact.display().to_string()));
        assert_eq!(
            r.code,
            code,
            "{} extra certificates: {}{}",
            extra.len(),
            r.stdout,
            r.stderr
        );
        if code == 1 {
            let reason = json(&r.stdout)["signature"]["reason"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                reason.contains("self-signed root (certificate 3 of 3)"),
                "{reason}"
            );
        }
    }
}

/// Paths that are not files and values that try to forge lines: named, not followed.
#[test]
fn hostile_paths_and_values_are_named_not_followed() {
    let case = case_named("happy-path-v0.3");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("bundle.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let a = case.artifact.display().to_string();
    for (bundle, artifact, says) in [
        (
            case.bundle(),
            dir.path().display().to_string(),
            "it is a directory, not a regular file",
        ),
        (
            case.bundle(),
            "/dev/zero".to_string(),
            "it is a device, not a regular file",
        ),
        (fifo.clone(), a.clone(), "is a FIFO, not a regular file"),
        (
            dir.path().to_path_buf(),
            a.clone(),
            "is a directory, not a regular file",
        ),
    ] {
        let r = run(&case.args(&bundle, &artifact));
        assert_eq!(r.code, 2, "{artifact}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.starts_with("error: ") && r.stderr.contains(says),
            "{artifact}: {}",
            r.stderr
        );
    }
    let forged = Case {
        identity: "x\nerror: forged".into(),
        ..case.clone()
    };
    let out = bin()
        .args(forged.args(&case.bundle(), &a))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("BAD: ") && text.contains("x\\nerror: forged"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("error: forged")),
        "{text}"
    );
}

#[test]
fn one_bundle_judges_one_artifact() {
    let case = case_named("happy-path-v0.3");
    let mut args = case.args(&case.bundle(), &case.artifact.display().to_string());
    args.extend(["--artifact".into(), case.artifact.display().to_string()]);
    let r = run(&args);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .starts_with("error: verify --bundle judges one artifact, and 2 were given"),
        "{}",
        r.stderr
    );
}

/// GitHub's release attestation for a Rust project's binaries (jdx/communique
/// v0.1.9), signed by GitHub's own instance: no transparency log, no CT log, a
/// timestamp from GitHub's TSA, a certificate with no OIDC issuer. Judged under the
/// JSON Lines `gh attestation trusted-root` prints (public-good, then GitHub's).
#[test]
fn a_github_release_attestation_verifies_under_github_s_root() {
    let dir = tempfile::tempdir().unwrap();
    let line = |p: &Path| {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        serde_json::to_string(&v).unwrap()
    };
    let roots = dir.path().join("gh-trusted-root.jsonl");
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sigstore/trusted_root.json");
    std::fs::write(
        &roots,
        format!(
            "{}\n{}\n",
            line(&public),
            line(&fixture("trusted_root_github.json"))
        ),
    )
    .unwrap();
    let linux = "sha256:b958c6046bab52febf958c94974e1ffcc450bff78c28d7233e179bfd73828912";
    let verify = |artifact: &str, root: Option<&Path>, extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "verify".into(),
            "--artifact".into(),
            artifact.into(),
            "--bundle".into(),
            fixture("communique-v0.1.9.sigstore.json")
                .display()
                .to_string(),
        ];
        if let Some(r) = root {
            args.extend(["--trusted-root".into(), r.display().to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args)
    };
    let identity = ["--identity", "https://dotcom.releases.github.com"];
    let good = verify(linux, Some(&roots), &identity);
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
    let v = json(&good.stdout);
    assert_valid(verify_schema(), &v);
    assert_eq!(v["signature"]["issuer"], Value::Null);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("gh-trusted-root.jsonl line 2") && notes.contains("no transparency log"),
        "{notes}"
    );
    let claims: Vec<&str> = v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["claim"].as_str().unwrap())
        .collect();
    assert_eq!(
        claims,
        [
            "bundle",
            "artifact",
            "signature",
            "certificate",
            "identity",
            "timestamp"
        ]
    );
    // Another archive of the same release is a subject too; a digest that is none is not.
    let windows = "sha256:bac58b65996cf76b17dd731462efb71729abcd925a5f4aebf72bb186a0767430";
    assert_eq!(verify(windows, Some(&roots), &identity).code, 0);
    let other = format!("sha256:{}", "0".repeat(64));
    let r = verify(&other, Some(&roots), &identity);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Only the public-good root, which has a transparency log: a bundle without a
    // log entry is refused.
    let r = verify(linux, None, &identity);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let reason = json(&r.stdout)["signature"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("inclusion proof"), "{reason}");
    // An issuer demanded of a certificate that names none: refused.
    let r = verify(
        linux,
        Some(&roots),
        &[
            "--identity",
            "https://dotcom.releases.github.com",
            "--issuer",
            DEFAULT_ISSUER,
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
}
