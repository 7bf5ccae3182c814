//! The project's own dev automation: `cargo xtask ci`.

use std::process::{Command, ExitCode};

mod bench;
mod bench_artifact;
mod bench_attest;
mod bench_tag;
mod bench_verify;
mod bench_workflows;
mod ci;
mod scale;
mod sigstore_root;
mod snapshot;
mod tools;

const USAGE: &str =
    "usage: cargo xtask <ci|fmt|lint|test|man|bench|bench-tag|bench-artifact|bench-attest|bench-verify|advisory-snapshot|sigstore-root>
  ci         everything CI runs (.ci/run and ci.yml call it): fmt check, clippy
             -D warnings, `cargo xtask test`, clippy with gpg-agent, then dogfood: this
             project's release binary audited with --artifacts, its SBOMs validated,
             its own audit and `init --check`
  fmt        cargo fmt --check
  lint       cargo clippy --workspace --all-targets -- -D warnings
  test       install what the tests need (outside the clone, only when missing), then
             cargo test --workspace and the gpg-agent feature's tag and attest tests
  bench [bench] [large] [scale] [workflows]
             audit speed vs cargo metadata and cargo deny check: on xtask/bench-workspace,
             on xtask/bench-workspace-large, and on generated workspaces of 500-3,000
             path crates; the workflow check on 50 workflow files vs zizmor --offline
             (all four when none is named)
  bench-tag  median time to create a signed tag: ours vs `git tag -s` with gpg
  bench-artifact  median time to inspect this project's release binary (audit --artifact)
  bench-attest  median time of `attest` of a 15 MB file vs sha256sum plus
             ssh-keygen -Y sign on it (target 1.5x), and of `verify --artifact` (100 ms)
  bench-verify  median time of `verify --bundle` on the Sigstore conformance suite's
             happy paths (target 50 ms), beside sigstore-python's when installed
  man        one man page per command into $CARGO_TARGET_DIR/man (default target/man)
  advisory-snapshot [DIR]
             refresh the advisory database the binary embeds (assets/) from a RustSec
             checkout (default ../shared/advisory-db)
  sigstore-root [FILE]
             refresh the Sigstore public-good trusted root the binary embeds
             (assets/sigstore/) from the sigstore wheel on PyPI (pip), or from FILE:
             a sigstore wheel or a trusted_root.json";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    if task == "scale-workspace" {
        // For looking into the scale rows by hand: `cargo xtask scale-workspace DIR N`.
        let args: Vec<String> = std::env::args().skip(2).collect();
        let (Some(dir), Some(Ok(n))) = (args.first(), args.get(1).map(|n| n.parse())) else {
            eprintln!("usage: cargo xtask scale-workspace DIR CRATES");
            return ExitCode::from(2);
        };
        return match bench::scale_workspace(std::path::Path::new(dir), n) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask scale-workspace: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let bench: Option<fn() -> Result<(), String>> = match task.as_str() {
        "bench" => Some(bench::run),
        "bench-tag" => Some(bench_tag::run),
        "bench-artifact" => Some(bench_artifact::run),
        "bench-attest" => Some(bench_attest::run),
        "bench-verify" => Some(bench_verify::run),
        "test" => Some(test),
        "ci" => Some(ci::run_all),
        "man" => Some(man),
        "advisory-snapshot" => Some(snapshot::run),
        "sigstore-root" => Some(sigstore_root::run),
        _ => None,
    };
    if let Some(bench) = bench {
        return match bench() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask {task}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let steps: &[&[&str]] = match task.as_str() {
        "fmt" => &[FMT],
        "lint" => &[LINT],
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    for step in steps {
        eprintln!("xtask: cargo {}", step.join(" "));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        match Command::new(cargo).args(*step).status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("xtask: `cargo {}` failed ({s})", step.join(" "));
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("xtask: could not run cargo: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The README's test command: the tools, then the whole suite, then the tag tests
/// again with the opt-in gpg-agent signer.
pub(crate) fn test() -> Result<(), String> {
    let root = workspace_root()?;
    let shared = std::env::var_os("CSR_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    if !shared.join("advisory-db/crates").is_dir() {
        return Err(format!(
            "the tests need the RustSec snapshot at {}/advisory-db (or set CSR_SHARED_DIR)",
            shared.display()
        ));
    }
    let started = std::time::Instant::now();
    eprintln!(
        "xtask: checking the tools the tests need (installed outside the clone, only when missing)"
    );
    let mut installed = Vec::new();
    let env = tools::ensure(&mut installed)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "xtask: building and running the test suite (the first build compiles about 400 crates: \
         15-20 minutes on 2 cores)"
    );
    let mut ran = Vec::new();
    for args in [
        &["test", "--workspace"][..],
        &[
            "test",
            "-p",
            "cargo-secure-release",
            "--features",
            "gpg-agent",
            "--test",
            "integration",
            "--",
            "tag::",
            "attest::through_gpg_agent",
        ][..],
    ] {
        eprintln!("xtask: cargo {}", args.join(" "));
        let status = Command::new(&cargo)
            .args(args)
            .current_dir(&root)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| format!("could not run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("`cargo {}` failed ({status})", args.join(" ")));
        }
        ran.push(format!("cargo {}", args.join(" ")));
    }
    let installed = match installed.is_empty() {
        true => "nothing installed (every tool was there)".to_string(),
        false => format!("installed {}", installed.join("; ")),
    };
    eprintln!(
        "xtask: test passed in {:.1} min: {installed}; ran {}",
        started.elapsed().as_secs_f64() / 60.0,
        ran.join(", then ")
    );
    Ok(())
}

/// Writes the man pages (clap_mangen, from the library's command-line definition).
fn man() -> Result<(), String> {
    let root = workspace_root()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = target.join("man");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let pages = cargo_secure_release::cli::man_pages().map_err(|e| e.to_string())?;
    for (name, roff) in pages {
        let path = dir.join(&name);
        std::fs::write(&path, roff).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("xtask: wrote {}", path.display());
    }
    Ok(())
}

/// The repository's root (xtask's parent directory).
pub(crate) fn workspace_root() -> Result<std::path::PathBuf, String> {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .ok_or_else(|| "no workspace root".to_string())
}

/// Builds cargo-secure-release in release mode and returns the binary's path.
pub(crate) fn release_binary(root: &std::path::Path) -> Result<std::path::PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("xtask: building cargo-secure-release (release)");
    check(
        Command::new(&cargo)
            .args(["build", "--release", "--bin", "cargo-secure-release"])
            .current_dir(root),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release/cargo-secure-release"))
}

/// The wall time of one run of a command that must succeed; its output is the error.
pub(crate) fn time_ok(cmd: &mut Command) -> Result<std::time::Duration, String> {
    let start = std::time::Instant::now();
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    let took = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(took)
}

/// The median of a bench row's samples, in milliseconds.
pub(crate) fn median_ms(samples: &mut [std::time::Duration]) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e3
}

/// Runs a command that must succeed; its stderr is the error.
pub(crate) fn check(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

const FMT: &[&str] = &["fmt", "--all", "--check"];
const LINT: &[&str] = &[
    "clippy",
    "--workspace",
    "--all-targets",
    "--",
    "-D",
    "warnings",
];
