//! `cargo xtask ci`: everything CI runs, in one place, so `.ci/run` and
//! `.github/workflows/ci.yml` (which both call it) cannot drift apart: the format
//! and lint checks, the README's test command (`cargo xtask test`), clippy with the
//! opt-in gpg-agent feature, then the dogfood steps, where this project's own
//! binary audits, describes and documents this project.

use std::path::Path;
use std::process::Command;

/// One step: a program and its arguments, as CI prints it.
fn run(root: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let shown = format!("{program} {}", args.join(" "));
    eprintln!("== {shown}");
    let program = match program {
        "cargo" => std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        other => other.into(),
    };
    let status = Command::new(program)
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| format!("could not run `{shown}`: {e}"))?;
    match status.success() {
        true => Ok(()),
        false => Err(format!("`{shown}` failed ({status})")),
    }
}

pub fn run_all() -> Result<(), String> {
    let root = crate::workspace_root()?;
    let root = root.as_path();
    run(root, "cargo", crate::FMT)?;
    run(root, "cargo", crate::LINT)?;
    // The README's test command: installs what the tests need, when missing.
    eprintln!("== cargo xtask test");
    crate::test()?;
    // The opt-in gpg-agent signer (capnproto was installed by the test command).
    run(
        root,
        "cargo",
        &[
            "clippy",
            "-p",
            "cargo-secure-release",
            "--all-targets",
            "--features",
            "gpg-agent",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    dogfood(root)
}

/// The project's own release binary, built as releases are (cargo-auditable was
/// installed by the test command), must pass its own checks; its SBOMs must pass the
/// validators the test command installed; its SECURITY.md must still be true.
fn dogfood(root: &Path) -> Result<(), String> {
    let db = "../shared/advisory-db";
    let ours = |args: &[&str]| {
        let mut all = vec!["run", "--quiet", "--"];
        all.extend_from_slice(args);
        run(root, "cargo", &all)
    };
    run(
        root,
        "cargo",
        &[
            "auditable",
            "build",
            "--release",
            "--locked",
            "--bin",
            "cargo-secure-release",
        ],
    )?;
    ours(&[
        "audit",
        "--advisory-db",
        db,
        "-p",
        "cargo-secure-release",
        "--artifacts",
    ])?;

    let dir = std::env::temp_dir().join(format!("secure-release-ci-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = |name: &str| dir.join(name).display().to_string();
    let (cdx, spdx, vex_cdx, openvex) = (
        out("sbom.cdx.json"),
        out("sbom.spdx.json"),
        out("sbom-vex.cdx.json"),
        out("release.openvex.json"),
    );
    ours(&["sbom", "-p", "cargo-secure-release", "--output", &cdx])?;
    ours(&[
        "sbom",
        "-p",
        "cargo-secure-release",
        "--format",
        "spdx",
        "--output",
        &spdx,
    ])?;
    // Our own ignore (RUSTSEC-2023-0071, rsa) becomes a VEX statement in both forms.
    let vex = [
        "-p",
        "cargo-secure-release",
        "--offline",
        "--advisory-db",
        db,
    ];
    ours(
        &[
            &["sbom"][..],
            &vex,
            &["--with-vulnerabilities", "--output", &vex_cdx],
        ]
        .concat(),
    )?;
    ours(
        &[
            &["sbom"][..],
            &vex,
            &["--format", "openvex", "--output", &openvex],
        ]
        .concat(),
    )?;
    let venv = crate::tools::venv_bin()?;
    let tool = |name: &str| venv.join(name).display().to_string();
    let python = tool("python");
    run(
        root,
        &python,
        &["tests/validators/validate_cyclonedx.py", &cdx, "1.7"],
    )?;
    run(
        root,
        &python,
        &["tests/validators/validate_cyclonedx.py", &vex_cdx, "1.7"],
    )?;
    run(
        root,
        &python,
        &["tests/validators/validate_openvex.py", &openvex],
    )?;
    run(root, &tool("pyspdxtools"), &["-i", &spdx])?;
    run(root, &tool("ntia-checker"), &["-c", "ntia", &spdx])?;

    let _ = std::fs::remove_dir_all(&dir);

    ours(&["audit", "--advisory-db", db])?;
    ours(&["init", "--check"])
}
