//! `cargo xtask bench [bench] [large] [scale]`: the audit against bare `cargo metadata`
//! and `cargo deny check`, interleaved runs, medians and peak RSS (via /usr/bin/time
//! when present), on
//! - `bench`: xtask/bench-workspace, 672 real registry packages;
//! - `large`: xtask/bench-workspace-large, 1,050 real registry packages, some with
//!   advisories reached only through features or dev-dependencies;
//! - `scale`: generated workspaces of 500 to 3,000 path crates over the first one's
//!   registry graph (see scale.rs), for how the cost grows with size.
//!
//! With no part named, all three run.

use crate::check;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 7;
const SCALE_RUNS: usize = 3;
const SCALE_SIZES: &[usize] = &[500, 1000, 2000, 3000];

/// What our audit asks cargo (and what cargo-deny gets handed, for its own memory row).
const METADATA: [&str; 6] = [
    "metadata",
    "--format-version",
    "1",
    "--all-features",
    "--locked",
    "--offline",
];

const DENY_TOML: &str = r#"[licenses]
allow = ["MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause",
         "ISC", "0BSD", "Unicode-3.0", "Zlib", "MPL-2.0", "CC0-1.0", "Unlicense", "BSL-1.0", "CDLA-Permissive-2.0"]
"#;

/// What every row needs: the programs, the advisory snapshot and the two configs.
struct Tools {
    cargo: OsString,
    ours: PathBuf,
    db: PathBuf,
    /// deny.toml for our audit.
    deny: PathBuf,
    /// The same for cargo-deny, with its database where it wants it.
    deny_cfg: PathBuf,
    tmp: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Row {
    Metadata,
    Warm,
    Cold,
    Deny,
    Sbom,
    SbomCold,
}

impl Row {
    fn label(self) -> &'static str {
        match self {
            Row::Metadata => "cargo metadata",
            Row::Warm => "cargo secure-release audit (warm: inputs unchanged, no cargo)",
            Row::Cold => "cargo secure-release audit (cold: empty cache)",
            Row::Deny => "cargo deny check",
            Row::Sbom => "cargo secure-release sbom (warm: inputs unchanged, no cargo)",
            Row::SbomCold => "cargo secure-release sbom (cold: empty cache)",
        }
    }
}

/// Median wall time and the largest peak RSS seen (KiB) of one row; for the cold
/// audit also our own process's peak and the reach step, as `-vv` reports them.
#[derive(Default)]
struct Stats {
    median: Duration,
    rss: Option<u64>,
    own_rss_mib: Option<u64>,
    reach_ms: Option<u64>,
}

pub fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    for a in &args {
        if !["bench", "large", "scale", "workflows"].contains(&a.as_str()) {
            return Err(format!(
                "unknown part `{a}` (bench, large, scale, workflows)"
            ));
        }
    }
    let wants = |part: &str| args.is_empty() || args.iter().any(|a| a == part);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    if wants("workflows") {
        crate::bench_workflows::run(&root)?;
        if args.iter().all(|a| a == "workflows") && !args.is_empty() {
            return Ok(());
        }
    }
    let t = Tools::setup(&root)?;
    let all = [Row::Metadata, Row::Warm, Row::Cold, Row::Deny, Row::Sbom];
    if wants("bench") {
        let ws = root.join("xtask/bench-workspace");
        let s = measure(&t, &ws, &all, RUNS)?;
        print_table(
            &format!("benchmark workspace: {}", describe(&ws)?),
            &all,
            &s,
        );
        print_ratios(&s, &all, 0.15, 0.40, None);
    }
    if wants("large") {
        let ws = root.join("xtask/bench-workspace-large");
        let rows = [
            Row::Metadata,
            Row::Warm,
            Row::Cold,
            Row::Deny,
            Row::Sbom,
            Row::SbomCold,
        ];
        let s = measure(&t, &ws, &rows, RUNS)?;
        print_table(&format!("large workspace: {}", describe(&ws)?), &rows, &s);
        print_ratios(&s, &rows, 0.15, 0.40, Some(1.25));
        let at = |r: Row| &s[rows.iter().position(|x| *x == r).unwrap()];
        let meta = ms(at(Row::Metadata).median);
        println!(
            "sbom warm: ours / cargo metadata = {:.2} (target <= 0.15)",
            ms(at(Row::Sbom).median) / meta
        );
        println!(
            "sbom cold: ours / cargo metadata = {:.2} (target <= 1.15)",
            ms(at(Row::SbomCold).median) / meta
        );
    }
    if wants("scale") {
        scale(&t)?;
    }
    let _ = std::fs::remove_dir_all(&t.tmp);
    Ok(())
}

impl Tools {
    fn setup(root: &Path) -> Result<Tools, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let db = root.join("../shared/advisory-db");
        if !db.join("crates").is_dir() {
            return Err(format!("no advisory database at {}", db.display()));
        }
        let ours = crate::release_binary(root)?;
        if Command::new(&cargo)
            .args(["deny", "--version"])
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            eprintln!("xtask bench: installing cargo-deny 0.20.2");
            check(Command::new(&cargo).args(["install", "--locked", "cargo-deny@0.20.2"]))?;
        }
        for ws in ["xtask/bench-workspace", "xtask/bench-workspace-large"] {
            eprintln!("xtask bench: fetching the crates of {ws}");
            check(
                Command::new(&cargo)
                    .args(["fetch", "--locked"])
                    .current_dir(root.join(ws)),
            )?;
        }
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
        Ok(Tools {
            cargo,
            ours,
            db,
            deny,
            deny_cfg,
            tmp,
        })
    }

    /// The command line of one row on `ws`; `cache` is the cache directory of our rows.
    fn command(&self, row: Row, ws: &Path, cache: &Path) -> Command {
        let time = Path::new("/usr/bin/time");
        let mut c = if time.exists() {
            let mut c = Command::new(time);
            c.args(["-f", "csr-rss %M"]);
            c
        } else {
            Command::new("env")
        };
        c.current_dir(ws);
        match row {
            Row::Metadata => {
                c.arg(&self.cargo).args(METADATA);
            }
            Row::Warm | Row::Cold => {
                // -vv: the timings (reach step, our own peak memory) on stderr.
                c.env("CARGO_SECURE_RELEASE_CACHE_DIR", cache)
                    .arg(&self.ours)
                    .args([
                        "audit",
                        "-vv",
                        "--format",
                        "json",
                        "--offline",
                        "--advisory-db",
                    ])
                    .arg(&self.db)
                    .arg("--config")
                    .arg(&self.deny);
            }
            Row::Deny => {
                c.arg(&self.cargo)
                    .args([
                        "deny",
                        "--offline",
                        "--log-level",
                        "error",
                        "--manifest-path",
                    ])
                    .arg(ws.join("Cargo.toml"))
                    .arg("--config")
                    .arg(&self.deny_cfg)
                    .arg("check");
            }
            Row::Sbom | Row::SbomCold => {
                c.env("CARGO_SECURE_RELEASE_CACHE_DIR", cache)
                    .arg(&self.ours)
                    .args(["sbom", "-q", "--offline"]);
            }
        }
        c
    }
}

/// One warm-up round (page cache, our warm cache), then `runs` interleaved rounds.
fn measure(t: &Tools, ws: &Path, rows: &[Row], runs: usize) -> Result<Vec<Stats>, String> {
    let warm_cache = t.tmp.join(format!("warm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&warm_cache);
    let mut samples: Vec<Vec<(Duration, Option<u64>, String)>> = vec![Vec::new(); rows.len()];
    let mut cold = 0;
    for round in 0..=runs {
        for (i, &row) in rows.iter().enumerate() {
            let cache = match row {
                Row::Cold | Row::SbomCold => {
                    // A new, empty cache directory every run.
                    cold += 1;
                    t.tmp.join(format!("cold-{cold}"))
                }
                _ => warm_cache.clone(),
            };
            let r = timed(t.command(row, ws, &cache), row == Row::Deny)?;
            if round > 0 {
                samples[i].push(r);
            }
        }
    }
    Ok(samples
        .into_iter()
        .map(|mut s| {
            s.sort_by_key(|x| x.0);
            let mid = &s[s.len() / 2];
            // Step timings print to 0.1 ms: read as a decimal, kept whole.
            let timing = |label: &str, unit: &str| -> Option<u64> {
                mid.2.lines().find_map(|l| {
                    let v: f64 = l
                        .strip_prefix("timing: ")?
                        .strip_prefix(label)?
                        .strip_suffix(unit)?
                        .trim()
                        .parse()
                        .ok()?;
                    Some(v.round() as u64)
                })
            };
            Stats {
                median: mid.0,
                rss: s.iter().filter_map(|x| x.1).max(),
                own_rss_mib: timing("peak memory of this process:", "MiB"),
                reach_ms: timing("Classifying how vulnerable packages are reached:", "ms"),
            }
        })
        .collect())
}

/// Runs the command; exit codes 0 and 1 are results. Returns the wall time, the peak
/// RSS /usr/bin/time saw (the process or its largest descendant) and stderr.
fn timed(mut c: Command, is_deny: bool) -> Result<(Duration, Option<u64>, String), String> {
    let start = Instant::now();
    let out = c.output().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
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
    Ok((elapsed, rss, stderr))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{} MiB", k / 1024))
        .unwrap_or_else(|| "n/a".into())
}

fn print_table(title: &str, rows: &[Row], stats: &[Stats]) {
    println!("\n{title}, median of {RUNS} interleaved runs (after one warm-up round)");
    println!("| command | median wall time | peak RSS |");
    println!("|---|---|---|");
    for (row, s) in rows.iter().zip(stats) {
        println!(
            "| {} | {:.0} ms | {} |",
            row.label(),
            ms(s.median),
            mib(s.rss)
        );
    }
}

fn print_ratios(
    stats: &[Stats],
    rows: &[Row],
    warm_target: f64,
    cold_target: f64,
    cold_vs_metadata: Option<f64>,
) {
    let at = |r: Row| &stats[rows.iter().position(|x| *x == r).unwrap()];
    let (meta, warm, cold, deny) = (
        at(Row::Metadata),
        at(Row::Warm),
        at(Row::Cold),
        at(Row::Deny),
    );
    println!(
        "warm: ours / cargo metadata = {:.2} (target <= {warm_target})",
        ms(warm.median) / ms(meta.median)
    );
    println!(
        "cold: ours / cargo deny check = {:.2} (target <= {cold_target})",
        ms(cold.median) / ms(deny.median)
    );
    if let Some(target) = cold_vs_metadata {
        println!(
            "cold: ours / cargo metadata = {:.2} (target <= {target})",
            ms(cold.median) / ms(meta.median)
        );
    }
    if let Some(r) = cold.reach_ms {
        println!("cold: reach classification step = {r} ms (target <= 50)");
    }
    if let Some(own) = cold.own_rss_mib {
        println!(
            "cold: peak memory of our own process = {own} MiB (cargo metadata's: {})",
            mib(meta.rss)
        );
    }
}

/// The scale curve: generated workspaces of growing size, cold audit against cargo
/// metadata and cargo-deny.
fn scale(t: &Tools) -> Result<(), String> {
    let rows = [Row::Metadata, Row::Cold, Row::Deny];
    let mut lines = Vec::new();
    for &n in SCALE_SIZES {
        let dir = t.tmp.join(format!("scale-{n}"));
        eprintln!("xtask bench: generating a workspace of {n} path crates");
        scale_workspace(&dir, n)?;
        let s = measure(t, &dir, &rows, SCALE_RUNS)?;
        let deny_own = deny_own_rss(t, &dir)?;
        lines.push(format!(
            "| {n} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.2} | {:.2} | {} | {} | {} | {} | {} |",
            count_packages(&dir)?,
            ms(s[0].median),
            ms(s[1].median),
            ms(s[2].median),
            ms(s[1].median) / ms(s[0].median),
            ms(s[1].median) / ms(s[2].median),
            mib(s[0].rss),
            mib(s[1].rss),
            s[1].own_rss_mib
                .map(|m| format!("{m} MiB"))
                .unwrap_or_else(|| "n/a".into()),
            mib(s[2].rss),
            mib(deny_own),
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "\ngenerated workspaces (path crates over the benchmark workspace's registry graph), median of {SCALE_RUNS} interleaved runs"
    );
    println!("| path crates | packages | cargo metadata | audit (cold) | cargo deny check | audit / metadata | audit / deny | peak RSS: metadata | audit (with cargo) | audit (own process) | cargo deny (with cargo) | cargo deny (own process) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for l in lines {
        println!("{l}");
    }
    println!("targets at 3,000 crates: audit / metadata <= 1.5; audit's peak memory <= cargo deny check's");
    Ok(())
}

/// cargo-deny's own peak memory, without the cargo it runs: the same graph handed to it
/// as JSON (`--metadata-path`), as our audit's own process holds it.
fn deny_own_rss(t: &Tools, ws: &Path) -> Result<Option<u64>, String> {
    let json = t.tmp.join("scale-metadata.json");
    let out = Command::new(&t.cargo)
        .args(METADATA)
        .current_dir(ws)
        .output()
        .map_err(|e| e.to_string())?;
    std::fs::write(&json, &out.stdout).map_err(|e| e.to_string())?;
    let mut c = t.command(Row::Deny, ws, &t.tmp);
    // `check` stays last: the option goes before it.
    let mut args: Vec<OsString> = c.get_args().map(OsString::from).collect();
    let check = args.pop();
    args.push("--metadata-path".into());
    args.push(json.into_os_string());
    args.extend(check);
    let program = c.get_program().to_os_string();
    c = Command::new(program);
    c.args(args).current_dir(ws);
    Ok(timed(c, true)?.1)
}

fn describe(ws: &Path) -> Result<String, String> {
    Ok(format!("{} packages", count_packages(ws)?))
}

fn count_packages(ws: &Path) -> Result<usize, String> {
    Ok(std::fs::read_to_string(ws.join("Cargo.lock"))
        .map_err(|e| e.to_string())?
        .matches("[[package]]")
        .count())
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

/// The generated workspace of `crates` path crates over the benchmark workspace's
/// registry graph, written into `dir`.
pub fn scale_workspace(dir: &Path, crates: usize) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let bench = root.join("xtask/bench-workspace");
    let manifest = std::fs::read_to_string(bench.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let deps = manifest
        .find("[dependencies]")
        .map(|i| &manifest[i..])
        .ok_or("xtask/bench-workspace/Cargo.toml has no [dependencies]")?;
    crate::scale::generate(dir, crates, deps, &bench.join("Cargo.lock"))
}
