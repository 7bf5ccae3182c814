//! `cargo xtask bench workflows`: the audit's workflow check on 50 workflow files
//! (the real projects' fixtures, then the rule fixtures) beside `zizmor --offline`
//! on the same files, interleaved, medians after one warm-up round.
//!
//! Ours is the check's own step, as the release binary times it (`-vv` prints each
//! step's wall time): the rest of `audit` (cargo metadata, the advisory database) is
//! not the workflow check. zizmor's is its whole process, which is all it does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 15;
const FILES: usize = 50;
/// The target for the check on 50 files.
const TARGET_MS: f64 = 20.0;

pub fn run(root: &Path) -> Result<(), String> {
    let ours = match std::env::var_os("CSR_BENCH_BINARY") {
        Some(p) => PathBuf::from(p),
        None => crate::release_binary(root)?,
    };
    // CSR_VENV: another venv holding zizmor, as the tests accept.
    let bin = match std::env::var_os("CSR_VENV") {
        Some(v) => PathBuf::from(v).join("bin"),
        None => crate::tools::venv_bin()?,
    };
    let zizmor = bin.join("zizmor");
    if !zizmor.exists() {
        return Err(format!(
            "{} is missing: `cargo xtask test` installs it",
            zizmor.display()
        ));
    }
    let db = root.join("../shared/advisory-db");
    if !db.join("crates").is_dir() {
        return Err(format!("no advisory database at {}", db.display()));
    }
    let tmp = std::env::temp_dir().join(format!("csr-bench-workflows-{}", std::process::id()));
    let dir = tmp.join("repo");
    let wf = dir.join(".github/workflows");
    std::fs::create_dir_all(&wf).map_err(|e| e.to_string())?;
    let n = collect(root, &wf)?;
    // A workspace with no dependency: the audit around the check stays small.
    let ws = tmp.join("ws");
    std::fs::create_dir_all(ws.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        ws.join("Cargo.toml"),
        "[package]\nname = \"bench-wf\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[profile.release]\nlto = \"fat\"\ncodegen-units = 1\nstrip = true\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(ws.join("src/main.rs"), "fn main() {}\n").map_err(|e| e.to_string())?;
    std::fs::write(
        ws.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"bench-wf\"\nversion = \"0.1.0\"\n",
    )
    .map_err(|e| e.to_string())?;

    let mut check = Vec::new();
    let mut audit = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..=RUNS {
        let start = Instant::now();
        let out = Command::new(&ours)
            .args([
                "audit",
                "-vv",
                "--offline",
                "--no-cache",
                "--format",
                "json",
                "--advisory-db",
            ])
            .arg(&db)
            .arg("--workflows")
            .arg(&dir)
            .current_dir(&ws)
            .output()
            .map_err(|e| e.to_string())?;
        let whole = start.elapsed();
        if !matches!(out.status.code(), Some(0 | 1)) {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let step = err
            .lines()
            .find_map(|l| l.strip_prefix("timing: Checking the workflows: "))
            .and_then(|v| v.trim_end_matches(" ms").parse::<f64>().ok())
            .ok_or_else(|| format!("no timing line for the workflow check in: {err}"))?;
        let start = Instant::now();
        let out = Command::new(&zizmor)
            .args(["--offline", "--no-config", "--format", "json", "repo"])
            .current_dir(&tmp)
            .output()
            .map_err(|e| e.to_string())?;
        let z = start.elapsed();
        if out.stdout.first() != Some(&b'[') {
            return Err(format!("zizmor: {}", String::from_utf8_lossy(&out.stderr)));
        }
        if round > 0 {
            check.push(Duration::from_secs_f64(step / 1e3));
            audit.push(whole);
            theirs.push(z);
        }
    }
    let median = |v: &mut Vec<Duration>| crate::median_ms(v);
    let (c, a, z) = (median(&mut check), median(&mut audit), median(&mut theirs));
    println!("\nworkflow check on {n} workflow files, median of {RUNS} interleaved runs (after one warm-up round)");
    println!("| what | median wall time |");
    println!("|---|---|");
    println!("| our workflow check (the audit's step: read, parse, judge) | {c:.1} ms |");
    println!("| `cargo secure-release audit --workflows DIR` (whole command, a crate without dependencies) | {a:.1} ms |");
    println!("| `zizmor --offline` (whole process) | {z:.1} ms |");
    println!(
        "\nour check / zizmor: {:.2}; target for the check: <= {TARGET_MS} ms: {}",
        c / z,
        if c <= TARGET_MS { "met" } else { "NOT met" }
    );
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// Copies the first 50 fixture workflows (by path) into `wf`, named after their
/// project so none collide; returns how many.
fn collect(root: &Path, wf: &Path) -> Result<usize, String> {
    let mut files = Vec::new();
    let base = root.join("tests/fixtures/workflows");
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| e.to_string())? {
            let p = e.map_err(|e| e.to_string())?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.parent().is_some_and(|d| d.ends_with(".github/workflows"))
                && p.extension().is_some_and(|x| x == "yml" || x == "yaml")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.len() < FILES {
        return Err(format!("only {} fixture workflows", files.len()));
    }
    for p in files.iter().take(FILES) {
        let rel = p
            .strip_prefix(&base)
            .unwrap()
            .to_string_lossy()
            .replace(['/', '\\'], "_");
        std::fs::copy(p, wf.join(rel)).map_err(|e| e.to_string())?;
    }
    Ok(FILES)
}
