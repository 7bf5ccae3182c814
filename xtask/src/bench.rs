//! `cargo xtask bench`: the audit on the committed 600+-package workspace
//! (xtask/bench-workspace) against bare `cargo metadata` and `cargo deny check`,
//! interleaved runs, medians and peak RSS (via /usr/bin/time when present).

use crate::check;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 7;

/// One run: wall time and peak RSS in KiB (when measurable).
type Sample = (Duration, Option<u64>);

const DENY_TOML: &str = r#"[licenses]
allow = ["MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause",
         "ISC", "0BSD", "Unicode-3.0", "Zlib", "MPL-2.0", "CC0-1.0", "Unlicense", "BSL-1.0", "CDLA-Permissive-2.0"]
"#;

pub fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let ws = root.join("xtask/bench-workspace");
    let db = root.join("../shared/advisory-db");
    if !db.join("crates").is_dir() {
        return Err(format!("no advisory database at {}", db.display()));
    }
    let ours = crate::release_binary(&root)?;
    if Command::new(&cargo)
        .args(["deny", "--version"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("xtask bench: installing cargo-deny 0.20.2");
        check(Command::new(&cargo).args(["install", "--locked", "cargo-deny@0.20.2"]))?;
    }
    eprintln!("xtask bench: fetching the workspace's crates");
    check(
        Command::new(&cargo)
            .args(["fetch", "--locked"])
            .current_dir(&ws),
    )?;
    let tmp = std::env::temp_dir().join(format!("csr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let deny = tmp.join("deny.toml");
    std::fs::write(&deny, DENY_TOML).map_err(|e| e.to_string())?;
    // cargo-deny wants its DB as a git checkout in its cache layout (db-path/<name>-<hash
    // of the URL>) and accepts only URLs with a host: a committed copy where it caches RustSec.
    let deny_db_root = tmp.join("dbs");
    let deny_db = deny_db_root.join("advisory-db-3157b0e258782691");
    copy_dir(&db, &deny_db)?;
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-qm",
            "snapshot",
        ],
    ] {
        check(Command::new("git").args(args).current_dir(&deny_db))?;
    }
    let deny_cfg = tmp.join("deny-bench.toml");
    std::fs::write(
        &deny_cfg,
        format!(
            "{DENY_TOML}\n[advisories]\ndb-path = \"{}\"\nmaximum-db-staleness = \"P3650D\"\n",
            deny_db_root.display()
        ),
    )
    .map_err(|e| e.to_string())?;

    let metadata = |c: &mut Command| {
        c.arg(&cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--all-features",
                "--locked",
                "--offline",
            ])
            .current_dir(&ws);
    };
    let warm_cache = tmp.join("cache-warm");
    let cold_root = tmp.join("cache-cold");
    let cold_n = std::cell::Cell::new(0);
    let ours_audit = |c: &mut Command, cache: &Path| {
        c.env("CARGO_SECURE_RELEASE_CACHE_DIR", cache)
            .arg(&ours)
            .args([
                "audit",
                "-q",
                "--format",
                "json",
                "--offline",
                "--advisory-db",
            ])
            .arg(&db)
            .arg("--config")
            .arg(&deny)
            .current_dir(&ws);
    };
    // Cold: a new, empty cache directory every run.
    let ours_cold = |c: &mut Command| {
        cold_n.set(cold_n.get() + 1);
        ours_audit(c, &cold_root.join(cold_n.get().to_string()));
    };
    let ours_cmd = |c: &mut Command| ours_audit(c, &warm_cache);
    let deny_cmd = |c: &mut Command| {
        c.arg(&cargo)
            .args([
                "deny",
                "--offline",
                "--log-level",
                "error",
                "--manifest-path",
            ])
            .arg(ws.join("Cargo.toml"))
            .arg("--config")
            .arg(&deny_cfg)
            .arg("check");
    };
    let sbom_cmd = |c: &mut Command| {
        c.arg(&ours)
            .args(["sbom", "-q", "--offline"])
            .current_dir(&ws);
    };
    let mut samples: Vec<(&str, Vec<Sample>)> = vec![
        ("cargo metadata", vec![]),
        (
            "cargo secure-release audit (warm: inputs unchanged, no cargo)",
            vec![],
        ),
        ("cargo secure-release audit (cold: empty cache)", vec![]),
        ("cargo deny check", vec![]),
        ("cargo secure-release sbom", vec![]),
    ];
    for i in 0..RUNS + 1 {
        for (n, build) in [
            &metadata as &dyn Fn(&mut Command),
            &ours_cmd,
            &ours_cold,
            &deny_cmd,
            &sbom_cmd,
        ]
        .into_iter()
        .enumerate()
        {
            let r = timed(build, n == 3)?;
            if i > 0 {
                samples[n].1.push(r); // the first round only warms the page cache
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let packages = std::fs::read_to_string(ws.join("Cargo.lock"))
        .map_err(|e| e.to_string())?
        .matches("[[package]]")
        .count();
    println!("benchmark workspace: {packages} packages, median of {RUNS} interleaved runs (after one warm-up round)");
    println!("| command | median wall time | peak RSS |");
    println!("|---|---|---|");
    let mut med = Vec::new();
    for (name, s) in &mut samples {
        s.sort_by_key(|x| x.0);
        let d = s[s.len() / 2].0;
        let peak = s.iter().filter_map(|x| x.1).max();
        med.push(d);
        println!(
            "| {name} | {:.0} ms | {} |",
            d.as_secs_f64() * 1e3,
            peak.map(|k| format!("{} MiB", k / 1024))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    println!(
        "warm: ours / cargo metadata = {:.2} (target <= 0.25)",
        med[1].as_secs_f64() / med[0].as_secs_f64()
    );
    println!(
        "cold: ours / cargo deny check = {:.2} (target <= 0.5)",
        med[2].as_secs_f64() / med[3].as_secs_f64()
    );
    println!(
        "sbom: ours / cargo metadata = {:.2} (target <= 1.2)",
        med[4].as_secs_f64() / med[0].as_secs_f64()
    );
    Ok(())
}

/// Runs the command (under /usr/bin/time for peak RSS when available); exit codes 0 and 1 are results.
fn timed(build: &dyn Fn(&mut Command), is_deny: bool) -> Result<Sample, String> {
    let time = Path::new("/usr/bin/time");
    let mut c = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "csr-rss %M"]);
        c
    } else {
        Command::new("env")
    };
    build(&mut c);
    let start = Instant::now();
    let out = c.output().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Findings are results: ours exits 1, cargo-deny exits with a bitmask of the
    // failing checks (1 advisories, 2 bans, 4 licenses, 8 sources). Usage errors are not.
    match out.status.code() {
        Some(0..=1) => {}
        Some(3..=15) if is_deny => {}
        Some(2) if is_deny && !stderr.contains("error: ") => {}
        _ => return Err(format!("{c:?} failed: {stderr}")),
    }
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("csr-rss ")?.trim().parse().ok());
    Ok((elapsed, rss))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for e in std::fs::read_dir(from).map_err(|e| e.to_string())? {
        let e = e.map_err(|e| e.to_string())?;
        let dest = to.join(e.file_name());
        if e.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), &dest).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
