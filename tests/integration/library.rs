//! The library without the binary and without cargo: the audit's steps on a
//! committed `cargo metadata` JSON fixture (as cargo-deny's own tests do), and the
//! typed config's errors. Paths in the fixture are `{ROOT}` and `{REGISTRY}`.

use crate::common::*;
use cargo_secure_release::config::Config;
use cargo_secure_release::error::Failure;
use cargo_secure_release::gate::Session;
use cargo_secure_release::options::{CheckOptions, Fix, ManifestOptions};
use cargo_secure_release::report::{AuditReport, Check, Code, Severity};
use cargo_secure_release::shell::Shell;
use cargo_secure_release::workspace::Workspace;
use std::path::Path;
use tempfile::TempDir;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/library/deps");

/// The fixture project in a temp dir, with its metadata JSON pointed at it.
fn project() -> (TempDir, Vec<u8>) {
    let dir = TempDir::new().unwrap();
    copy_dir(Path::new(FIXTURE), dir.path());
    let json = std::fs::read_to_string(dir.path().join("metadata.json")).unwrap();
    std::fs::remove_file(dir.path().join("metadata.json")).unwrap();
    let json = json
        .replace("{ROOT}", dir.path().to_str().unwrap())
        .replace("{REGISTRY}", "/nonexistent/registry");
    (dir, json.into_bytes())
}

fn audit_fixture(dir: &Path, json: &[u8]) -> AuditReport {
    let manifest = dir.join("Cargo.toml");
    let opts = CheckOptions {
        manifest: ManifestOptions {
            manifest_path: Some(manifest.clone()),
            offline: true,
            ..Default::default()
        },
        advisory_db: Some(advisory_db().to_path_buf()),
        cache: cargo_secure_release::options::CacheUse::Off,
        ..Default::default()
    };
    let shell = Shell::new(true, 0, Default::default());
    let ws = Workspace::from_json(
        json.into(),
        manifest.clone(),
        cargo_secure_release::workspace::Hash::Beside,
    )
    .unwrap();
    let progress = shell.progress();
    let session = Session::on(&opts, ws).unwrap();
    session
        .run(Fix::No, &Default::default(), &progress, &shell)
        .unwrap()
        .0
}

#[test]
fn checks_run_on_committed_metadata_without_cargo() {
    let (dir, json) = project();
    let report = audit_fixture(dir.path(), &json);
    let codes: Vec<(Check, &str, Severity, Option<&str>)> = report
        .findings
        .iter()
        .map(|f| (f.check, f.code.as_str(), f.severity, f.package.as_deref()))
        .collect();
    // time 0.1.43 is ignored in deny.toml: still listed, as a note that carries its ignore.
    let time = report
        .findings
        .iter()
        .find(|f| f.id.as_deref() == Some("RUSTSEC-2020-0071"))
        .expect("the time advisory");
    assert_eq!(time.severity, Severity::Note);
    assert_eq!(time.ignored.as_ref().unwrap().reason, "not reachable");
    assert_eq!(time.ignored.as_ref().unwrap().severity, Severity::Error);
    assert!(
        codes.contains(&(Check::Bans, "banned", Severity::Error, Some("itoa"))),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(Check::Licenses, "rejected", Severity::Error, Some("proj2"))),
        "{codes:?}"
    );
    // The hardened profile passes: no profile finding at all.
    assert!(!codes.iter().any(|c| c.0 == Check::Profile), "{codes:?}");
    assert!(report.has_errors());
}

#[test]
fn every_code_round_trips_through_its_string() {
    for code in Code::ours() {
        assert_eq!(Code::parse(code.as_str()), Some(code));
        assert!(!code.description().is_empty());
        assert!(code.help_url().starts_with("https://"));
    }
    let banned = Code::parse("banned").unwrap();
    assert_eq!(banned.as_str(), "banned");
    assert!(banned.help_url().ends_with("/bans/diags.html#banned"));
    assert_eq!(Code::parse("no-such-code"), None);
}

fn config_error(extra: &str) -> String {
    let (dir, _) = project();
    let manifest = dir.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n{extra}")).unwrap();
    let err = Config::load(&manifest).err().expect("a config error");
    let f = err.downcast_ref::<Failure>().expect("a Failure");
    // The first line names the manifest; compare from its file name on.
    let msg = f.message.clone();
    msg[msg.rfind("Cargo.toml").unwrap()..].to_string()
}

#[test]
fn config_errors_name_the_line() {
    // The fixture's Cargo.toml has 14 lines; the appended table starts at line 16.
    assert_eq!(
        config_error("[package.metadata.secure-release]\nignores = []\n"),
        "Cargo.toml:17: unknown key `ignores` (did you mean `ignore`?)"
    );
    assert_eq!(
        config_error("[package.metadata.secure-release.profile]\nhardening = [\"panik\"]\n"),
        "Cargo.toml:17: `hardening` entry \"panik\" is not a hardening key (did you mean `panic`?)"
    );
}
