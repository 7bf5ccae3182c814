//! The project's own dev automation: `cargo xtask ci`.

use std::process::{Command, ExitCode};

mod bench_tag;

const USAGE: &str = "usage: cargo xtask <ci|fmt|lint|test|bench-tag>
  ci         what CI runs: fmt check, clippy -D warnings, the test suite
  fmt        cargo fmt --check
  lint       cargo clippy --workspace --all-targets -- -D warnings
  test       cargo test --workspace
  bench-tag  median time to create a signed tag: ours vs `git tag -s` with gpg";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    if task == "bench-tag" {
        return match bench_tag::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask bench-tag: {e}");
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
