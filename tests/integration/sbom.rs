//! `sbom` on a real project: exactly what the release build compiles, checked by
//! validators written by others (cyclonedx-python-lib, spdx-tools, the NTIA
//! conformance checker), reproducible to the byte.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python venv `cargo xtask test` installs the validators into.
fn venv_bin(tool: &str) -> PathBuf {
    let dir = std::env::var_os("CSR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME"))
                .join(".cache/cargo-secure-release/venv")
        });
    let p = dir.join("bin").join(tool);
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask test`, which installs it",
        p.display()
    );
    p
}

/// A local git repository holding a crate, for a `git = "file://…"` dependency.
fn git_crate(dir: &Path) -> String {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"gitdep\"\nversion = \"0.3.0\"\nedition = \"2021\"\nlicense = \"MIT\"\nauthors = [\"Git Dep <g@example.org>\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "gitdep"]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

struct Project {
    f: Fixture,
    commit: String,
    _git: tempfile::TempDir,
}

fn project() -> Project {
    let gitdir = tempfile::TempDir::new().unwrap();
    let commit = git_crate(&gitdir.path().join("gitdep"));
    let f = Fixture::new(
        "sbomme",
        &format!(
            "authors = [\"Ada Lovelace <ada@example.org>\"]\nrepository = \"https://github.com/example/sbomme\"\n\n\
[dependencies]\ntime = \"=0.1.43\"\nitoa = {{ version = \"1\", optional = true }}\nserde_derive = \"1\"\ngitdep = {{ git = \"file://{}\" }}\n\n\
[features]\nfast = [\"dep:itoa\"]\n\n\
[build-dependencies]\ncfg-if = \"1\"\n\n\
[dev-dependencies]\nryu = \"1\"\n",
            gitdir.path().join("gitdep").display()
        ),
    );
    // Fixture::new puts `rest` right under [package], so the first two lines are its keys.
    // A build script: cargo builds build-dependencies only for one.
    f.write("build.rs", "fn main() {}\n");
    Project {
        f: f.lock(),
        commit,
        _git: gitdir,
    }
}

fn sbom(p: &Project, args: &[&str]) -> String {
    let mut c = bin();
    c.current_dir(p.f.path())
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .arg("sbom")
        .args(args);
    run(&mut c, 0).0
}

fn components(doc: &Value) -> Vec<&Value> {
    doc["components"].as_array().unwrap().iter().collect()
}

fn names(doc: &Value) -> Vec<String> {
    components(doc)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_sbom_lists_exactly_what_the_release_build_compiles() {
    let p = project();
    let text = sbom(&p, &[]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["specVersion"], "1.7");
    assert_eq!(doc["metadata"]["component"]["name"], "sbomme");
    assert_eq!(doc["metadata"]["timestamp"], "2026-01-01T00:00:00Z");
    let n = names(&doc);
    for present in [
        "time",
        "libc",
        "gitdep",
        "serde_derive",
        "proc-macro2",
        "cfg-if",
    ] {
        assert!(n.contains(&present.to_string()), "{present} missing: {n:?}");
    }
    for absent in ["itoa", "ryu", "winapi"] {
        assert!(!n.contains(&absent.to_string()), "{absent} listed: {n:?}");
    }

    // purl and hash from Cargo.lock.
    let time = components(&doc)
        .into_iter()
        .find(|c| c["name"] == "time")
        .unwrap();
    assert_eq!(time["purl"], "pkg:cargo/time@0.1.43");
    assert_eq!(time["bom-ref"], "pkg:cargo/time@0.1.43");
    let lock = p.f.read("Cargo.lock");
    let checksum = lock
        .split("[[package]]")
        .find(|b| b.contains("name = \"time\""))
        .and_then(|b| b.lines().find_map(|l| l.strip_prefix("checksum = \"")))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    assert_eq!(time["hashes"][0]["alg"], "SHA-256");
    assert_eq!(time["hashes"][0]["content"], checksum);
    assert_eq!(time["scope"], "required");

    // Build-time packages are listed, marked.
    for build in ["serde_derive", "proc-macro2", "cfg-if"] {
        let c = components(&doc)
            .into_iter()
            .find(|c| c["name"] == build)
            .unwrap();
        assert_eq!(c["scope"], "excluded", "{build}");
        assert_eq!(c["properties"][0]["name"], "cargo:dependency-kind");
        assert_eq!(c["properties"][0]["value"], "build", "{build}");
    }

    // The git dependency names its repository and commit.
    let git_dep = components(&doc)
        .into_iter()
        .find(|c| c["name"] == "gitdep")
        .unwrap();
    let purl = git_dep["purl"].as_str().unwrap();
    assert!(
        purl.starts_with("pkg:cargo/gitdep@0.3.0?vcs_url=git%2Bfile://"),
        "{purl}"
    );
    assert!(purl.ends_with(&format!("%40{}", p.commit)), "{purl}");

    // The graph is the build's edges.
    let deps: Vec<&Value> = doc["dependencies"].as_array().unwrap().iter().collect();
    let of = |r: &str| -> Vec<String> {
        deps.iter()
            .find(|d| d["ref"] == r)
            .map(|d| {
                d["dependsOn"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let root_ref = doc["metadata"]["component"]["bom-ref"].as_str().unwrap();
    assert!(of(root_ref).contains(&"pkg:cargo/time@0.1.43".to_string()));
    assert!(of("pkg:cargo/time@0.1.43")
        .iter()
        .any(|d| d.starts_with("pkg:cargo/libc@")));
    assert!(!of("pkg:cargo/time@0.1.43")
        .iter()
        .any(|d| d.contains("winapi")));

    // Features and targets change the build, as Cargo would.
    let with = serde_json::from_str::<Value>(&sbom(&p, &["--features", "fast"])).unwrap();
    assert!(names(&with).contains(&"itoa".to_string()));
    let windows =
        serde_json::from_str::<Value>(&sbom(&p, &["--target", "x86_64-pc-windows-msvc"])).unwrap();
    let wn = names(&windows);
    assert!(wn.contains(&"winapi".to_string()), "{wn:?}");
    let no_build = serde_json::from_str::<Value>(&sbom(&p, &["--no-build-deps"])).unwrap();
    let nb = names(&no_build);
    assert!(
        !nb.contains(&"serde_derive".to_string()) && !nb.contains(&"cfg-if".to_string()),
        "{nb:?}"
    );

    // The same commit gives the same bytes.
    assert_eq!(text, sbom(&p, &[]));
    assert!(doc["serialNumber"]
        .as_str()
        .unwrap()
        .starts_with("urn:uuid:"));
}

#[test]
fn every_format_passes_validators_written_by_others() {
    let p = project();
    let dir = tempfile::TempDir::new().unwrap();
    for v in ["1.7", "1.6", "1.5"] {
        let file = dir.path().join(format!("bom-{v}.cdx.json"));
        let text = sbom(&p, &["--spec-version", v]);
        std::fs::write(&file, &text).unwrap();
        let out = Command::new(venv_bin("python"))
            .arg(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/validators/validate_cyclonedx.py"),
            )
            .arg(&file)
            .arg(v)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "CycloneDX {v}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // And the validator does reject a broken document.
    let broken = dir.path().join("broken.cdx.json");
    let mut doc: Value = serde_json::from_str(&sbom(&p, &[])).unwrap();
    doc["components"][0]["scope"] = serde_json::json!("sometimes");
    std::fs::write(&broken, doc.to_string()).unwrap();
    let out = Command::new(venv_bin("python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validators/validate_cyclonedx.py"))
        .arg(&broken)
        .arg("1.7")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a broken SBOM must fail validation");

    let spdx = dir.path().join("bom.spdx.json");
    run(
        bin()
            .current_dir(p.f.path())
            .args(["sbom", "--format", "spdx", "--output"])
            .arg(&spdx),
        0,
    );
    let out = Command::new(venv_bin("pyspdxtools"))
        .arg("-i")
        .arg(&spdx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyspdxtools: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(venv_bin("ntia-checker"))
        .args(["-c", "ntia"])
        .arg(&spdx)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && report.contains("Conformant: True"),
        "{report}"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&spdx).unwrap()).unwrap();
    let rel: Vec<&str> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["relationshipType"].as_str().unwrap())
        .collect();
    assert!(
        rel.contains(&"DESCRIBES")
            && rel.contains(&"DEPENDS_ON")
            && rel.contains(&"BUILD_DEPENDENCY_OF"),
        "{rel:?}"
    );
}

#[test]
fn bad_sbom_input_is_a_clear_error() {
    let p = project();
    let (_, err) = run(
        bin()
            .current_dir(p.f.path())
            .args(["sbom", "--features", "nope"]),
        2,
    );
    assert!(
        err.starts_with("error: the package `sbomme` does not contain this feature: nope"),
        "{err}"
    );
    // What cargo refuses in `--features`, refused the same way.
    for (given, first) in [
        ("time/nope", "error: package `sbomme` depends on `time` with feature `nope`, but `time` does not have that feature"),
        ("nodep/zz", "error: the package `sbomme` does not contain this feature: nodep/zz"),
        ("dep:itoa", "error: feature `dep:itoa` is not allowed to use explicit `dep:` syntax"),
        ("a/b/c", "error: multiple slashes in feature `a/b/c` is not allowed"),
    ] {
        let (_, err) = run(
            bin()
                .current_dir(p.f.path())
                .args(["sbom", "--features", given]),
            2,
        );
        assert!(err.starts_with(first), "{given}: {err}");
    }
    let (_, err) = run(
        bin()
            .current_dir(p.f.path())
            .args(["sbom", "--target", "no-such-triple"]),
        2,
    );
    assert!(
        err.starts_with("error: rustc does not know the target `no-such-triple`"),
        "{err}"
    );
    let (_, err) = run(
        bin()
            .current_dir(p.f.path())
            .env("SOURCE_DATE_EPOCH", "soon")
            .arg("sbom"),
        2,
    );
    assert!(
        err.starts_with("error: SOURCE_DATE_EPOCH=`soon` is not a number"),
        "{err}"
    );
    run(
        bin()
            .current_dir(p.f.path())
            .args(["sbom", "--spec-version", "1.4"]),
        2,
    );
}

fn validator(script: &str, file: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(venv_bin("python"))
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/validators")
                .join(script),
        )
        .arg(file)
        .args(extra)
        .output()
        .unwrap()
}

/// `--with-vulnerabilities`: the advisories of the build's components with CVSS and
/// aliases, each ignore as VEX analysis (in force: not_affected with its reason; expired:
/// in_triage), valid CycloneDX 1.7/1.6/1.5; `--format openvex` states the same as an
/// OpenVEX 0.2 document that the OpenVEX project's schema accepts.
#[test]
fn vulnerabilities_and_vex_from_the_projects_ignores() {
    let f = Fixture::new(
        "vx",
        "[dependencies]\ntime = \"=0.1.43\"\nsmallvec = \"=0.6.13\"\n\n[dev-dependencies]\nitoa = \"1\"\n\n[package.metadata.secure-release]\nignore = [\n  { id = \"RUSTSEC-2021-0003\", reason = \"we never call insert_many\", until = \"2099-01-01\" },\n  { id = \"RUSTSEC-2020-0071\", reason = \"no localtime calls\", until = \"2020-01-01\" },\n]\n",
    )
    .lock();
    let dir = tempfile::TempDir::new().unwrap();
    let sbom = |args: &[&str]| {
        let mut c = bin();
        c.current_dir(f.path())
            .args(["sbom", "--offline", "--advisory-db"])
            .arg(advisory_db())
            .args(args);
        run(&mut c, 0).0
    };
    for v in ["1.7", "1.6", "1.5"] {
        let text = sbom(&["--with-vulnerabilities", "--spec-version", v]);
        let file = dir.path().join(format!("v{v}.cdx.json"));
        std::fs::write(&file, &text).unwrap();
        let out = validator("validate_cyclonedx.py", &file, &[v]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let doc: Value = serde_json::from_str(&text).unwrap();
        let vulns = doc["vulnerabilities"].as_array().unwrap();
        let ids: Vec<&str> = vulns.iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["RUSTSEC-2020-0071", "RUSTSEC-2021-0003"]);
        let time = &vulns[0];
        assert_eq!(time["affects"][0]["ref"], "pkg:cargo/time@0.1.43");
        assert_eq!(time["analysis"]["state"], "in_triage");
        assert_eq!(
            time["analysis"]["detail"],
            "the ignore expired on 2020-01-01; it said: no localtime calls"
        );
        assert_eq!(
            time["ratings"][0]["vector"],
            "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
        );
        assert_eq!(time["ratings"][0]["score"], 6.2);
        assert_eq!(time["ratings"][0]["severity"], "medium");
        assert!(time["references"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "CVE-2020-26235"));
        let smallvec = &vulns[1];
        assert_eq!(smallvec["analysis"]["state"], "not_affected");
        assert_eq!(smallvec["analysis"]["detail"], "we never call insert_many");
        assert!(smallvec["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |p| p["name"] == "cargo-secure-release:ignore-until" && p["value"] == "2099-01-01"
            ));
    }
    // Without the flag, no vulnerabilities: the SBOM is the same bytes as before.
    assert!(!sbom(&[]).contains("\"vulnerabilities\""));

    let vex = dir.path().join("vx.openvex.json");
    std::fs::write(&vex, sbom(&["--format", "openvex"])).unwrap();
    let out = validator("validate_openvex.py", &vex, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&vex).unwrap()).unwrap();
    let st = doc["statements"].as_array().unwrap();
    assert_eq!(st[0]["vulnerability"]["name"], "RUSTSEC-2020-0071");
    assert_eq!(st[0]["status"], "under_investigation");
    assert_eq!(st[1]["status"], "not_affected");
    assert_eq!(st[1]["impact_statement"], "we never call insert_many");
    assert_eq!(st[1]["products"][0]["@id"], "pkg:cargo/vx@0.1.0");
    assert_eq!(
        st[1]["products"][0]["subcomponents"][0]["@id"],
        "pkg:cargo/smallvec@0.6.13"
    );
    // The schema check can fail: a not_affected statement without its reason.
    let mut broken = doc.clone();
    broken["statements"][1]
        .as_object_mut()
        .unwrap()
        .remove("impact_statement");
    let bad = dir.path().join("broken.openvex.json");
    std::fs::write(&bad, broken.to_string()).unwrap();
    assert!(!validator("validate_openvex.py", &bad, &[]).status.success());

    // SPDX has no vulnerabilities section: refused, not dropped silently.
    let mut c = bin();
    c.current_dir(f.path())
        .args(["sbom", "--format", "spdx", "--with-vulnerabilities"]);
    let (_, err) = run(&mut c, 2);
    assert!(
        err.starts_with("error: --with-vulnerabilities writes CycloneDX"),
        "{err}"
    );
}

/// Every string in a JSON document, keys included.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                strings(x, out);
            }
        }
        _ => {}
    }
}

/// Issue 25: whatever a Cargo.toml holds, every document is valid for the
/// validators of others, and what had to go is a note naming the package. The
/// packages here hold: SPDX ids that collide once normalised (`a_b`, `a-b` and
/// `a-b` 1.0.0-2, where a counter once wrote `-2`), a LicenseRef with its text in
/// the license-file and one without, an author whose email is not one, a
/// repository with a space, a `javascript:` homepage, a documentation URL with a
/// password, an IP-address homepage SPDX tools refuse, control and bidi characters,
/// a description past its cap, build metadata in a version, a license that is not
/// an SPDX expression.
#[test]
fn every_document_is_valid_whatever_the_metadata_holds() {
    let f = Fixture::new(
        "hostile",
        &format!(
            "authors = [\"Ann <not an email>\", \"Bob \\u001b[31mRed\\u0007 <bob@example.org>\"]\n\
description = \"Hostile\\u0000 \\u001b[2J \\u202e reversed {}\"\n\
repository = \"https://github.com/example/my repo\"\n\
homepage = \"javascript:alert(1)\"\n\
documentation = \"https://user:hunter2@docs.example.org/hostile\"\n\n\
[dependencies]\n\
ab_under = {{ package = \"a_b\", path = \"crates/a_under\" }}\n\
ab_dash = {{ package = \"a-b\", path = \"crates/a_dash\" }}\n\
ab_pre = {{ package = \"a-b\", path = \"crates/a_pre\" }}\n\
lr = {{ path = \"crates/lr\" }}\n\
gone = {{ path = \"crates/gone\" }}\n\
badlic = {{ path = \"crates/badlic\" }}\n",
            "x".repeat(5000)
        ),
    );
    let dep = |dir: &str, keys: &str| {
        f.write(
            &format!("crates/{dir}/Cargo.toml"),
            &format!("[package]\n{keys}\nedition = \"2021\"\n"),
        );
        f.write(&format!("crates/{dir}/src/lib.rs"), "");
    };
    dep(
        "a_under",
        "name = \"a_b\"\nversion = \"1.0.0\"\nlicense = \"MIT\"\nauthors = [\"Under <u@example.org>\"]",
    );
    dep(
        "a_dash",
        "name = \"a-b\"\nversion = \"1.0.0\"\nlicense = \"MIT\"\nauthors = [\"Dash <d@example.org>\"]",
    );
    dep(
        "a_pre",
        "name = \"a-b\"\nversion = \"1.0.0-2\"\nlicense = \"MIT\"\nauthors = [\"Pre <p@example.org>\"]",
    );
    dep(
        "lr",
        "name = \"lr\"\nversion = \"0.2.0+build.7\"\nlicense = \"LicenseRef-Custom OR MIT\"\n\
license-file = \"LICENSE.custom\"\nauthors = [\"Carol (the dev) <carol@example.org>\"]\n\
homepage = \"http://127.0.0.1/lr\"\ndescription = \"ok \\u2066isolate\"",
    );
    f.write(
        "crates/lr/LICENSE.custom",
        "Custom licence, version 1\r\n\u{c}Do what you like.\n",
    );
    dep(
        "gone",
        "name = \"gone\"\nversion = \"1.0.0\"\nlicense = \"LicenseRef-Gone\"\n\
repository = \"https://github.com/example/gone\"",
    );
    dep(
        "badlic",
        "name = \"badlic\"\nversion = \"1.0.0\"\nlicense = \"MIT OR\"\nauthors = [\"B <b@example.org>\"]",
    );
    let f = f.lock();
    let dir = tempfile::TempDir::new().unwrap();
    let sbom = |args: &[&str]| {
        let mut c = bin();
        c.current_dir(f.path())
            .env("SOURCE_DATE_EPOCH", "1767225600")
            .arg("sbom")
            .args(args);
        run(&mut c, 0)
    };
    // No trace of what had to go, nor a character that could rewrite a terminal.
    let clean = |what: &str, text: &str| {
        for gone in [
            "javascript:",
            "not an email",
            "hunter2",
            "\\u001b",
            "\\u0000",
        ] {
            assert!(!text.contains(gone), "{what} holds {gone}:\n{text}");
        }
        let mut all = Vec::new();
        strings(&serde_json::from_str(text).unwrap(), &mut all);
        for s in &all {
            assert!(
                !s.chars()
                    .any(|c| (c.is_control() && !matches!(c, '\n' | '\t')) || c == '\u{202e}'),
                "{what}: {s:?}"
            );
            assert!(s.len() <= 4096, "{what}: a string of {} bytes", s.len());
        }
        all
    };

    let mut stderr = String::new();
    for v in ["1.5", "1.6", "1.7"] {
        let (text, err) = sbom(&["--spec-version", v]);
        assert_eq!(
            text,
            sbom(&["--spec-version", v]).0,
            "CycloneDX {v} differs"
        );
        let file = dir.path().join(format!("hostile-{v}.cdx.json"));
        std::fs::write(&file, &text).unwrap();
        let out = validator("validate_cyclonedx.py", &file, &[v]);
        assert!(
            out.status.success(),
            "CycloneDX {v}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let all = clean(v, &text);
        assert!(all.contains(&"https://github.com/example/my%20repo".to_string()));
        // CycloneDX takes the IP-address homepage SPDX tools refuse.
        assert!(all.contains(&"http://127.0.0.1/lr".to_string()), "{v}");
        let doc: Value = serde_json::from_str(&text).unwrap();
        let lr = components(&doc)
            .into_iter()
            .find(|c| c["name"] == "lr")
            .unwrap();
        assert_eq!(lr["licenses"][0]["expression"], "LicenseRef-Custom OR MIT");
        assert_eq!(lr["purl"], "pkg:cargo/lr@0.2.0%2Bbuild.7");
        let root = &doc["metadata"]["component"];
        assert!(root["description"].as_str().unwrap().ends_with('…'));
        if v != "1.5" {
            assert_eq!(root["authors"][0], serde_json::json!({ "name": "Ann" }));
            assert_eq!(root["authors"][1]["email"], "bob@example.org");
        }
        stderr = err;
    }

    let (text, err) = sbom(&["--format", "spdx"]);
    assert_eq!(text, sbom(&["--format", "spdx"]).0, "SPDX differs");
    let spdx = dir.path().join("hostile.spdx.json");
    std::fs::write(&spdx, &text).unwrap();
    let out = Command::new(venv_bin("pyspdxtools"))
        .arg("-i")
        .arg(&spdx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyspdxtools: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(venv_bin("ntia-checker"))
        .args(["-c", "ntia"])
        .arg(&spdx)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && report.contains("Conformant: True"),
        "{report}"
    );
    clean("SPDX", &text);
    assert!(!text.contains("127.0.0.1"), "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let packages = doc["packages"].as_array().unwrap();
    let ids: Vec<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert_eq!(ids.len(), 7, "{ids:?}");
    let package = |name: &str, version: &str| {
        packages
            .iter()
            .find(|p| p["name"] == name && p["versionInfo"] == version)
            .unwrap_or_else(|| panic!("{name} {version}"))
    };
    assert_eq!(
        package("lr", "0.2.0+build.7")["licenseDeclared"],
        "LicenseRef-Custom OR MIT"
    );
    assert_eq!(
        package("lr", "0.2.0+build.7")["supplier"],
        "Person: Carol the dev (carol@example.org)"
    );
    assert_eq!(package("gone", "1.0.0")["licenseDeclared"], "NOASSERTION");
    assert_eq!(package("badlic", "1.0.0")["licenseDeclared"], "NOASSERTION");
    assert_eq!(package("hostile", "0.1.0")["supplier"], "Person: Ann");
    let extracted = doc["hasExtractedLicensingInfos"].as_array().unwrap();
    assert_eq!(extracted.len(), 1, "{extracted:?}");
    assert_eq!(extracted[0]["licenseId"], "LicenseRef-Custom");
    assert_eq!(
        extracted[0]["extractedText"],
        "Custom licence, version 1\n Do what you like."
    );

    // Each note names its package; none echoes the password.
    for (notes, expected) in [
        (
            &stderr,
            &[
                "note: package `hostile 0.1.0`: the email `not an email` of its author `Ann` is not an email address; left out",
                "note: package `hostile 0.1.0`: its homepage `javascript:alert(1)` is not a web or git URL",
                "note: package `hostile 0.1.0`: its documentation `https://docs.example.org/hostile` carries credentials",
                "note: package `hostile 0.1.0`: its description is longer than 4096 bytes and was cut",
                "note: package `hostile 0.1.0`: control or bidirectional-override characters in its description",
                "note: package `lr 0.2.0+build.7`: control or bidirectional-override characters in its description",
                "note: package `badlic 1.0.0`: its license `MIT OR` is not an SPDX license expression; left out",
            ][..],
        ),
        (
            &err,
            &[
                "note: package `hostile 0.1.0`: the email `not an email`",
                "note: package `gone 1.0.0`: the SPDX document declares its license `LicenseRef-Gone` as NOASSERTION: LicenseRef-Gone has no license-file",
                "note: package `lr 0.2.0+build.7`: its homepage `http://127.0.0.1/lr` is left out of the SPDX document",
            ][..],
        ),
    ] {
        for e in expected {
            assert!(notes.contains(e), "missing {e:?} in:\n{notes}");
        }
        assert!(!notes.contains("hunter2"), "{notes}");
    }
    // CycloneDX keeps what only SPDX refuses: no note about it there.
    assert!(!stderr.contains("SPDX document"), "{stderr}");
}

/// The first two shapes, end to end: a version-less path dependency on a
/// pre-release crate (whose `*` requirement no pre-release matches) and two renamed
/// dependencies on one package name, a registry `smallvec` and a local one. Every
/// package is in the SBOM, the advisory attaches to the registry crate only (a
/// local crate that shares a name is another crate), and the audit says the
/// vulnerable crate is in the default build.
#[test]
fn prerelease_and_renamed_dependencies_are_in_the_sbom_the_vex_and_the_reach_line() {
    let f = Fixture::new(
        "shapes",
        "[dependencies]\npre = { path = \"pre\" }\nsv_reg = { package = \"smallvec\", version = \"=1.4.1\" }\nsv_local = { package = \"smallvec\", path = \"sv\" }\n",
    );
    f.write(
        "pre/Cargo.toml",
        "[package]\nname = \"pre\"\nversion = \"0.2.0-alpha.1\"\nedition = \"2021\"\nlicense = \"MIT\"\nauthors = [\"P <p@example.org>\"]\n\n[dependencies]\nitoa = \"=1.0.11\"\n",
    );
    f.write("pre/src/lib.rs", "");
    f.write(
        "sv/Cargo.toml",
        "[package]\nname = \"smallvec\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense = \"MIT\"\nauthors = [\"S <s@example.org>\"]\n",
    );
    f.write("sv/src/lib.rs", "");
    let f = f.lock();
    let mut c = bin();
    c.current_dir(f.path())
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args([
            "sbom",
            "--offline",
            "--with-vulnerabilities",
            "--advisory-db",
        ])
        .arg(advisory_db());
    let doc: Value = serde_json::from_str(&run(&mut c, 0).0).unwrap();
    let mut listed: Vec<String> = components(&doc)
        .iter()
        .map(|c| c["purl"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "pkg:cargo/itoa@1.0.11",
            "pkg:cargo/pre@0.2.0-alpha.1",
            "pkg:cargo/smallvec@1.0.0",
            "pkg:cargo/smallvec@1.4.1"
        ]
    );
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    let v = vulns
        .iter()
        .find(|v| v["id"] == "RUSTSEC-2021-0003")
        .expect("the registry smallvec 1.4.1 is affected");
    let affects: Vec<&str> = v["affects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ref"].as_str().unwrap())
        .collect();
    assert_eq!(affects, ["pkg:cargo/smallvec@1.4.1"], "{v}");

    let (out, _) = run(f.audit().args(["--format", "json"]), 1);
    let report = json(&out);
    let sv = findings(&report, "advisories")
        .into_iter()
        .find(|x| x["id"] == "RUSTSEC-2021-0003")
        .expect("the audit finds it");
    assert_eq!(sv["reach"], "in the default build", "{sv}");
}
