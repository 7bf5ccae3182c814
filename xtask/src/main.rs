//! The project's own dev automation: `cargo xtask ci`.

use std::process::{Command, ExitCode};

mod bench;
mod bench_tag;

const USAGE: &str = "usage: cargo xtask <ci|fmt|lint|test|bench|bench-tag>
  ci         what CI runs: fmt check, clippy -D warnings, the test suite
  fmt        cargo fmt --check
  lint       cargo clippy --workspace --all-targets -- -D warnings
  test       cargo test --workspace
  bench      audit speed on xtask/bench-workspace vs cargo metadata and cargo deny check
  bench-tag  median time to create a signed tag: ours vs `git tag -s` with gpg";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let bench: Option<fn() -> Result<(), String>> = match task.as_str() {
        "bench" => Some(bench::run),
        "bench-tag" => Some(bench_tag::run),
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
        "ci" => &[FMT, LINT, TEST],
        "fmt" => &[FMT],
        "lint" => &[LINT],
        "test" => &[TEST],
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
const TEST: &[&str] = &["test", "--workspace"];
