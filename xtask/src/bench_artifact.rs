//! `cargo xtask bench-artifact`: how long inspecting a release binary takes, in
//! process (header checks, path-leak scan, embedded dependency list) and as the
//! whole `audit --artifact` command outside a workspace.

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
    let expect = cargo_secure_release::artifact::Expect {
        strip: "symbols",
        leaks: vec![root.display().to_string()],
    };
    let mut inproc = Vec::new();
    let mut cli = Vec::new();
    let empty = std::env::temp_dir();
    for i in 0..=RUNS {
        let start = Instant::now();
        let found = cargo_secure_release::artifact::inspect(&bin, "bin", &expect)
            .map_err(|e| e.to_string())?;
        let t = start.elapsed();
        std::hint::black_box(found.findings.len());
        let start = Instant::now();
        let out = Command::new(&bin)
            .args(["audit", "-q", "--format", "json", "--artifact"])
            .arg(&bin)
            .current_dir(&empty)
            .output()
            .map_err(|e| e.to_string())?;
        let c = start.elapsed();
        if !matches!(out.status.code(), Some(0 | 1)) {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if i > 0 {
            inproc.push(t);
            cli.push(c);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    println!(
        "release binary: {} ({:.1} MB), median of {RUNS} runs after one warm-up",
        bin.display(),
        size as f64 / 1e6
    );
    println!("| what | median |");
    println!("|---|---|");
    println!(
        "| artifact::inspect (in process) | {:.1} ms |",
        median(&mut inproc)
    );
    println!(
        "| `cargo secure-release audit --artifact BIN` (outside a workspace) | {:.1} ms |",
        median(&mut cli)
    );
    Ok(())
}
