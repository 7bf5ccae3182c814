//! `cargo xtask bench-artifact`: how long the release binary takes to inspect a
//! release binary (itself: header checks, path-leak scan, the embedded dependency list
//! matched against the advisory database) as the whole `audit --artifact` command.
//! Timed through the release build: xtask itself is a debug build.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

pub fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_path_buf();
    // CSR_BENCH_BINARY: an already-built release binary (a release build takes minutes).
    let bin = match std::env::var_os("CSR_BENCH_BINARY") {
        Some(p) => std::path::PathBuf::from(p),
        None => crate::release_binary(&root)?,
    };
    let size = std::fs::metadata(&bin).map_err(|e| e.to_string())?.len();
    if !root.join("../shared/advisory-db/crates").is_dir() {
        return Err("the RustSec snapshot at ../shared/advisory-db is missing".into());
    }
    let mut cli = Vec::new();
    let empty = std::env::temp_dir();
    for i in 0..=RUNS {
        let start = Instant::now();
        let out = Command::new(&bin)
            .args([
                "audit",
                "-q",
                "--format",
                "json",
                "--offline",
                "--advisory-db",
            ])
            .arg(root.join("../shared/advisory-db"))
            .arg("--artifact")
            .arg(&bin)
            .current_dir(&empty)
            .output()
            .map_err(|e| e.to_string())?;
        let c = start.elapsed();
        if !matches!(out.status.code(), Some(0 | 1)) {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if i > 0 {
            cli.push(c);
        }
    }
    let median = |v: &mut Vec<Duration>| crate::median_ms(v);
    println!(
        "release binary: {} ({:.1} MB), median of {RUNS} runs after one warm-up",
        bin.display(),
        size as f64 / 1e6
    );
    println!("| what | median |");
    println!("|---|---|");
    println!(
        "| `cargo secure-release audit --artifact BIN` (outside a workspace) | {:.1} ms |",
        median(&mut cli)
    );
    Ok(())
}
