//! `audit --artifact` on real binaries built here by cargo: each hardening defect made
//! for real with RUSTFLAGS, checked against Debian's `checksec`; embedded dependency
//! data from `cargo auditable`, checked against `cargo audit bin`.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A hardened binary crate; `rest` is appended to Cargo.toml.
fn project(name: &str, rest: &str) -> Fixture {
    unlocked(name, rest).lock()
}

fn unlocked(name: &str, rest: &str) -> Fixture {
    let f = Fixture::new(name, &format!("{rest}\n{HARDENED}"));
    f.write("src/main.rs", "fn main() { println!(\"hi\"); }\n");
    f
}

/// `cargo build --release` (or `cargo auditable build --release`) with `rustflags`
/// into a private target dir; returns the binary.
fn build(
    f: &Fixture,
    name: &str,
    rustflags: &str,
    auditable: bool,
    env: &[(&str, &str)],
) -> PathBuf {
    let target = f.path().join("target");
    let mut c = Command::new("cargo");
    if auditable {
        c.arg("auditable");
    }
    c.args(["build", "--release", "--quiet"])
        .current_dir(f.path())
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", rustflags)
        .envs(env.iter().copied());
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("release").join(name)
}

fn artifact_codes(f: &Fixture, bin: &Path, code: i32) -> (Vec<String>, serde_json::Value) {
    let (out, _) = run(
        f.audit().args(["--format", "json", "--artifact"]).arg(bin),
        code,
    );
    let report = json(&out);
    let mut codes: Vec<String> = findings(&report, "artifact")
        .iter()
        .filter(|f| f["code"] != "no-audit-data")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    (codes, report)
}

/// Debian's checksec on the same file, as our codes.
fn checksec(bin: &Path) -> Vec<String> {
    let out = Command::new("checksec")
        .arg(format!("--file={}", bin.display()))
        .args(["--output=json"])
        .output()
        .expect("checksec (Debian package checksec; `cargo xtask test` installs it)");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checksec JSON: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let r = v.as_object().unwrap().values().next().unwrap();
    let mut codes = Vec::new();
    if r["pie"] == "no" {
        codes.push("not-pie");
    }
    if r["nx"] == "no" {
        codes.push("exec-stack");
    }
    if r["relro"] == "no" {
        codes.push("no-relro");
    }
    if r["relro"] == "partial" {
        codes.push("lazy-binding");
    }
    if r["rpath"] == "yes" || r["runpath"] == "yes" {
        codes.push("rpath");
    }
    let mut codes: Vec<String> = codes.into_iter().map(String::from).collect();
    codes.sort();
    codes
}

#[test]
fn each_elf_defect_is_found_and_checksec_agrees() {
    let f = project("hard", "");
    let cases: [(&str, &[&str]); 6] = [
        ("", &[]),
        ("-C relocation-model=static", &["not-pie"]),
        ("-C link-arg=-Wl,-z,execstack", &["exec-stack"]),
        ("-C link-arg=-Wl,-z,norelro", &["no-relro"]),
        ("-C link-arg=-Wl,-z,lazy", &["lazy-binding"]),
        ("-C link-arg=-Wl,-rpath,/opt/x", &["rpath"]),
    ];
    for (flags, want) in cases {
        let bin = build(&f, "hard", flags, false, &[]);
        let (ours, _) = artifact_codes(&f, &bin, if want.is_empty() { 0 } else { 1 });
        assert_eq!(ours, want, "RUSTFLAGS={flags:?}");
        assert_eq!(
            checksec(&bin),
            ours,
            "checksec disagrees for RUSTFLAGS={flags:?}"
        );
    }
    // Built with strip = "none" while the released profile strips symbols.
    let bin = build(
        &f,
        "hard",
        "",
        false,
        &[("CARGO_PROFILE_RELEASE_STRIP", "none")],
    );
    let (ours, _) = artifact_codes(&f, &bin, 1);
    assert_eq!(ours, ["not-stripped"]);
}

/// The section headers of a little-endian ELF64 file: (name, type, offset, size).
fn elf64_sections(d: &[u8]) -> Vec<(String, u32, usize, usize)> {
    let u16_at = |o: usize| u16::from_le_bytes(d[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(d[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    (0..shnum)
        .map(|i| {
            let h = header(i);
            let at = strtab + u32_at(h) as usize;
            let end = at + d[at..].iter().position(|b| *b == 0).unwrap();
            let name = String::from_utf8_lossy(&d[at..end]).into_owned();
            (name, u32_at(h + 4), u64_at(h + 0x18), u64_at(h + 0x20))
        })
        .collect()
}

/// A lazily bound, unstripped binary doctored to look hardened: `DT_FLAGS =
/// BIND_NOW` written after the dynamic table's `DT_NULL` (where the loader never
/// reads it), and `.symtab` and `.debug_*` renamed. checksec still says partial
/// RELRO; we say what the loader and `readelf` see, not what the names claim.
#[test]
fn a_doctored_elf_is_judged_by_what_the_loader_reads() {
    let f = project("doctor", "");
    let bin = build(
        &f,
        "doctor",
        "-C link-arg=-Wl,-z,lazy -C debuginfo=2",
        false,
        &[("CARGO_PROFILE_RELEASE_STRIP", "none")],
    );
    // Debug info carries the build's paths: path-leak too, before and after.
    let (honest, _) = artifact_codes(&f, &bin, 1);
    assert_eq!(honest, ["lazy-binding", "not-stripped", "path-leak"]);

    let mut d = std::fs::read(&bin).unwrap();
    let sections = elf64_sections(&d);
    let (_, _, dynamic, size) = sections.iter().find(|s| s.0 == ".dynamic").unwrap().clone();
    // The last real entry becomes DT_NULL, and the old DT_NULL slot DT_FLAGS BIND_NOW.
    let entries = size / 16;
    let last = dynamic + (entries - 1) * 16;
    assert_eq!(
        &d[last..last + 16],
        &[0u8; 16],
        "the table ends with DT_NULL"
    );
    d[last - 16..last].copy_from_slice(&[0u8; 16]);
    d[last..last + 8].copy_from_slice(&30u64.to_le_bytes()); // DT_FLAGS
    d[last + 8..last + 16].copy_from_slice(&8u64.to_le_bytes()); // DF_BIND_NOW
                                                                 // Rename the symbol table and every debug section in the section-name table.
    let (_, _, strtab, strsize) = sections
        .iter()
        .find(|s| s.0 == ".shstrtab")
        .unwrap()
        .clone();
    let names = &mut d[strtab..strtab + strsize];
    for (from, to) in [
        (&b".symtab\0"[..], &b".s_mtab\0"[..]),
        (b".debug_", b".xebug_"),
    ] {
        while let Some(i) = names.windows(from.len()).position(|w| w == from) {
            names[i..i + to.len()].copy_from_slice(to);
        }
    }
    let doctored = f.path().join("doctored");
    std::fs::write(&doctored, &d).unwrap();
    let renamed = elf64_sections(&d);
    assert!(renamed
        .iter()
        .all(|s| s.0 != ".symtab" && !s.0.starts_with(".debug")));
    assert!(
        renamed.iter().any(|s| s.1 == 2),
        "an SHT_SYMTAB section is still there"
    );

    // The oracle: checksec reads the table as the loader does.
    assert_eq!(checksec(&doctored), ["lazy-binding"]);
    let (ours, _) = artifact_codes(&f, &doctored, 1);
    assert_eq!(ours, ["lazy-binding", "not-stripped", "path-leak"]);

    // A `.dynamic` section header pointed elsewhere than PT_DYNAMIC: tools reading
    // sections and the loader would read two tables. Exit 2, naming the file.
    let mut d = std::fs::read(&bin).unwrap();
    let shoff = u64::from_le_bytes(d[0x28..0x30].try_into().unwrap()) as usize;
    let shentsize = u16::from_le_bytes(d[0x3a..0x3c].try_into().unwrap()) as usize;
    let index = elf64_sections(&d)
        .iter()
        .position(|s| s.0 == ".dynamic")
        .unwrap();
    let at = shoff + index * shentsize + 0x18;
    let moved = u64::from_le_bytes(d[at..at + 8].try_into().unwrap()) + 16;
    d[at..at + 8].copy_from_slice(&moved.to_le_bytes());
    let two_tables = f.path().join("two-tables");
    std::fs::write(&two_tables, &d).unwrap();
    let (_, err) = run(f.audit().arg("--artifact").arg(&two_tables), 2);
    assert!(
        err.starts_with("error: artifact ")
            && err.contains("two-tables is inconsistent: its dynamic section and its PT_DYNAMIC program header describe different tables"),
        "{err}"
    );
}

#[test]
fn a_panic_in_a_path_dependency_leaks_the_build_path() {
    // Outside the workspace, cargo hands rustc the dependency's absolute path, and the
    // panic location keeps it.
    let outside = tempfile::TempDir::new().unwrap();
    let helper = outside.path().join("helper");
    std::fs::create_dir_all(helper.join("src")).unwrap();
    std::fs::write(
        helper.join("Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\npublish = false\n",
    )
    .unwrap();
    std::fs::write(
        helper.join("src/lib.rs"),
        "pub fn check(n: usize) { if n == 7 { panic!(\"seven\") } }\n",
    )
    .unwrap();
    let f = unlocked(
        "leaky",
        &format!(
            "[dependencies]\nhelper = {{ path = \"{}\" }}\n",
            helper.display()
        ),
    );
    f.write(
        "src/main.rs",
        "fn main() { helper::check(std::env::args().count()); }\n",
    );
    let f = f.lock();
    let bin = build(&f, "leaky", "", false, &[]);
    let (out, _) = run(
        f.audit().args(["--format", "json", "--artifact"]).arg(&bin),
        0,
    );
    let report = json(&out);
    let leak = findings(&report, "artifact")
        .into_iter()
        .find(|x| x["code"] == "path-leak")
        .expect("a path-leak finding");
    assert_eq!(leak["severity"], "warning");
    let root = outside.path().canonicalize().unwrap();
    assert!(
        leak["message"]
            .as_str()
            .unwrap()
            .contains(root.to_str().unwrap()),
        "{leak}"
    );
    assert!(leak["help"]
        .as_str()
        .unwrap()
        .contains("--remap-path-prefix"));
    // Remapped, the leak is gone.
    let remap = format!("--remap-path-prefix={}=.", root.display());
    let bin = build(&f, "leaky", &remap, false, &[]);
    let (codes, _) = artifact_codes(&f, &bin, 0);
    assert!(!codes.contains(&"path-leak".to_string()), "{codes:?}");
}

#[test]
fn embedded_dependencies_are_audited_like_cargo_audit_bin() {
    let f = project("aud", "[dependencies]\ntime = \"=0.1.43\"\n");
    let plain = build(&f, "aud", "", false, &[]);
    let (out, _) = run(
        f.audit()
            .args(["--format", "json", "--artifact"])
            .arg(&plain),
        1,
    );
    let report = json(&out);
    let no_data: Vec<_> = findings(&report, "artifact")
        .into_iter()
        .filter(|x| x["code"] == "no-audit-data")
        .collect();
    assert_eq!(no_data.len(), 1);
    assert_eq!(no_data[0]["severity"], "warning");
    assert!(no_data[0]["help"]
        .as_str()
        .unwrap()
        .contains("cargo auditable build --release"));

    let bin = build(&f, "aud", "", true, &[]);
    let (out, _) = run(
        f.audit().args(["--format", "json", "--artifact"]).arg(&bin),
        1,
    );
    let report = json(&out);
    let art = findings(&report, "artifact");
    let mut ours: Vec<&str> = art
        .iter()
        .filter(|x| x["code"] == "vulnerability")
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    ours.sort();
    assert!(ours.contains(&"RUSTSEC-2020-0071"), "{art:?}");
    let time = art.iter().find(|x| x["id"] == "RUSTSEC-2020-0071").unwrap();
    assert_eq!(time["reach"], "in artifact aud");
    assert!(!art
        .iter()
        .any(|x| x["code"] == "no-audit-data" || x["code"] == "lockfile-mismatch"));

    // cargo audit bin, on a git copy of the same snapshot (it wants a git checkout).
    let db = tempfile::TempDir::new().unwrap();
    copy_dir(advisory_db(), db.path());
    git(db.path(), &["init", "-q", "-b", "main"]);
    git(db.path(), &["add", "-A"]);
    git(db.path(), &["commit", "-qm", "snapshot"]);
    let out = Command::new("cargo")
        .args(["audit", "--json", "--no-fetch", "--stale", "--db"])
        .arg(db.path())
        .arg("bin")
        .arg(&bin)
        .output()
        .expect("cargo audit (`cargo xtask test` installs it)");
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cargo audit JSON: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut theirs: Vec<&str> = theirs["vulnerabilities"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["advisory"]["id"].as_str().unwrap())
        .collect();
    theirs.sort();
    assert_eq!(ours, theirs, "vulnerability ids: ours vs cargo audit bin");

    // Built from another lockfile: time 0.1.44 is not in this Cargo.lock.
    let other = project("aud", "[dependencies]\ntime = \"=0.1.44\"\n");
    let foreign = build(&other, "aud", "", true, &[]);
    let (out, _) = run(
        f.audit()
            .args(["--format", "json", "--artifact"])
            .arg(&foreign),
        1,
    );
    let report = json(&out);
    assert!(
        findings(&report, "artifact")
            .iter()
            .any(|x| x["code"] == "lockfile-mismatch"
                && x["package"] == "time"
                && x["version"] == "0.1.44"),
        "{report}"
    );
    // The binary's root is not this workspace's package (another name): its list
    // cannot be compared with this build, which is said, not passed over.
    let stranger = project("stranger", "[dependencies]\ntime = \"=0.1.43\"\n");
    let strange = build(&stranger, "stranger", "", true, &[]);
    let (out, _) = run(
        f.audit()
            .args(["--format", "json", "--artifact"])
            .arg(&strange),
        1,
    );
    let report = json(&out);
    assert!(
        findings(&report, "artifact")
            .iter()
            .any(|x| x["code"] == "lockfile-mismatch"
                && x["severity"] == "warning"
                && x["message"]
                    .as_str()
                    .unwrap()
                    .contains("root (stranger 0.1.0) is not one package of this workspace")),
        "{report}"
    );

    // The other way round: a dependency added since the build is compiled by this
    // commit's release build, and the binary's list leaves it out.
    f.write(
        "Cargo.toml",
        &f.read("Cargo.toml").replace(
            "time = \"=0.1.43\"",
            "time = \"=0.1.43\"\nitoa = \"=1.0.11\"",
        ),
    );
    f.relock();
    let (out, _) = run(
        f.audit().args(["--format", "json", "--artifact"]).arg(&bin),
        1,
    );
    let report = json(&out);
    let short: Vec<_> = findings(&report, "artifact")
        .into_iter()
        .filter(|x| x["code"] == "lockfile-mismatch")
        .collect();
    assert_eq!(short.len(), 1, "{report}");
    assert_eq!(short[0]["severity"], "warning");
    assert!(
        short[0]["message"].as_str().unwrap().contains(
            "does not list itoa 1.0.11, which this commit's release build of `aud` compiles"
        ),
        "{report}"
    );
}

#[test]
fn artifacts_finds_the_built_bins_and_names_missing_ones() {
    let f = project("found", "");
    let (out, _) = run(f.audit().args(["--format", "json", "--artifacts"]), 1);
    let report = json(&out);
    let missing = findings(&report, "artifact");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["code"], "no-artifact");
    assert!(missing[0]["help"]
        .as_str()
        .unwrap()
        .contains("cargo auditable build --release"));
    // Built where cargo metadata says the target dir is.
    let out = Command::new("cargo")
        .args(["build", "--release", "--quiet"])
        .current_dir(f.path())
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(out.status.success());
    let (out, _) = run(f.audit().args(["--format", "json", "--artifacts"]), 0);
    let report = json(&out);
    let codes: Vec<_> = findings(&report, "artifact")
        .iter()
        .map(|x| x["code"].clone())
        .collect();
    assert_eq!(codes, [serde_json::json!("no-audit-data")]);
}

#[test]
fn an_artifact_alone_outside_a_workspace() {
    let f = project("alone", "");
    let bin = build(&f, "alone", "-C link-arg=-Wl,-z,execstack", false, &[]);
    let empty = tempfile::TempDir::new().unwrap();
    let mut c = bin_cmd();
    c.current_dir(empty.path())
        .args(["audit", "--format", "json", "--advisory-db"])
        .arg(advisory_db())
        .arg("--artifact")
        .arg(&bin);
    let (out, _) = run(&mut c, 1);
    let report = json(&out);
    let codes: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].clone())
        .collect();
    assert!(
        codes.contains(&serde_json::json!("exec-stack")),
        "{codes:?}"
    );
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["check"] == "artifact"));
    // A policy may accept a finding with a reason.
    let g = project(
        "accepting",
        "[package.metadata.secure-release.artifact]\naccept.exec-stack = { reason = \"JIT needs it\" }\n",
    );
    let (out, _) = run(
        g.audit().args(["--format", "json", "--artifact"]).arg(&bin),
        0,
    );
    let report = json(&out);
    let accepted = findings(&report, "artifact")
        .into_iter()
        .find(|x| x["code"] == "exec-stack")
        .unwrap()
        .clone();
    assert_eq!(accepted["severity"], "note");
    assert_eq!(accepted["ignored"]["reason"], "JIT needs it");
}

fn bin_cmd() -> assert_cmd::Command {
    bin()
}

/// A corrupt embedded dependency list is an error that names the file, never a panic.
#[test]
fn a_corrupt_dep_v0_section_is_a_clear_error() {
    use object::{Object, ObjectSection};
    let f = project("corrupt", "[dependencies]\nitoa = \"1\"\n");
    let bin = build(&f, "corrupt", "", true, &[]);
    let mut bytes = std::fs::read(&bin).unwrap();
    let (start, len) = {
        let file = object::File::parse(&*bytes).unwrap();
        let section = file
            .section_by_name(".dep-v0")
            .expect("cargo auditable wrote .dep-v0");
        let (start, len) = section.file_range().unwrap();
        (start as usize, len as usize)
    };
    // Keep zlib's two-byte header, scramble the stream.
    for (i, b) in bytes[start + 2..start + len].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0x5a;
    }
    let broken = f.path().join("broken-bin");
    std::fs::write(&broken, &bytes).unwrap();
    let (_, err) = run(f.audit().arg("--artifact").arg(&broken), 2);
    assert!(
        err.starts_with("error: the embedded dependency list (cargo auditable's .dep-v0) of broken-bin is unreadable"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// A compressed bomb in `.dep-v0` (20 MB of JSON-to-be from a few KB) stops at the
/// 8 MiB limit with a clear error; memory stays bounded.
#[test]
fn a_dep_v0_bomb_stops_at_the_limit() {
    let f = unlocked("bomb", "");
    // zlib of 20,000,000 bytes, made by Python's zlib (not by code of ours).
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zlib; open(sys.argv[1], 'wb').write(zlib.compress(b'[' * 20_000_000, 9))",
        ])
        .arg(f.path().join("src/bomb.zz"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    f.write(
        "src/main.rs",
        "#[used]\n#[link_section = \".dep-v0\"]\nstatic DEP: [u8; include_bytes!(\"bomb.zz\").len()] = *include_bytes!(\"bomb.zz\");\nfn main() {}\n",
    );
    let f = f.lock();
    let bin = build(&f, "bomb", "", false, &[]);
    let (_, err) = run(f.audit().arg("--artifact").arg(&bin), 2);
    assert!(
        err.starts_with("error: the embedded dependency list (cargo auditable's .dep-v0) of target/release/bomb is unreadable: Audit data size is over the specified limit"),
        "{err}"
    );
}
