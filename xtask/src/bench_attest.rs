//! `cargo xtask bench-attest`: `attest` of a 15 MiB release binary against what a
//! release manager would otherwise run by hand, `sha256sum` on it plus `ssh-keygen
//! -Y sign` of it (target: ≤ 1.5× their sum), and `verify --artifact` of it
//! (target: ≤ 100 ms). In a real git repository with a signed tag and a committed
//! signer policy, an Ed25519 key made by ssh-keygen; interleaved runs, medians.
//! The binary is real: a hardened crate holding 15 MiB of incompressible data,
//! built by `cargo auditable build --release`, so `attest` runs its whole gate on
//! it (the header checks, the advisories of its embedded list, the list against
//! the tagged Cargo.lock) and writes its SBOM statement. Our `attest` does more
//! than the pair: it verifies the tag under the policy, gates the binary, writes
//! the provenance, the SBOM statement and the Sigstore bundle, and signs them.

use crate::check;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const RUNS: usize = 15;
const SIZE: usize = 15 * 1024 * 1024;

pub fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // CSR_BENCH_BINARY: an already-built release binary (a release build takes minutes).
    let bin = match std::env::var_os("CSR_BENCH_BINARY") {
        Some(p) => std::path::PathBuf::from(p),
        None => crate::release_binary(&root)?,
    };
    let tmp = std::env::temp_dir().join(format!("csr-bench-attest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let (repo, keys) = (tmp.join("repo"), tmp.join("keys"));
    let io = |e: std::io::Error| e.to_string();
    std::fs::create_dir_all(repo.join("src")).map_err(io)?;
    std::fs::create_dir_all(repo.join(".github")).map_err(io)?;
    std::fs::create_dir_all(repo.join("dist")).map_err(io)?;
    std::fs::create_dir_all(&keys).map_err(io)?;
    std::fs::write(
        repo.join("Cargo.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n\
         [profile.release]\nlto = \"fat\"\ncodegen-units = 1\nstrip = true\npanic = \"abort\"\n\n\
         [package.metadata.secure-release.signers]\nssh = \".github/allowed_signers\"\n",
    )
    .map_err(io)?;
    // 15 MiB that do not compress (an xorshift stream), as a binary's bytes do not,
    // compiled into the binary (read at run time, so the linker keeps them).
    let mut bytes = Vec::with_capacity(SIZE);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while bytes.len() < SIZE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(repo.join("src/data.bin"), &bytes).map_err(io)?;
    std::fs::write(
        repo.join("src/main.rs"),
        "static DATA: &[u8] = include_bytes!(\"data.bin\");\n\
         fn main() {\n    let i = std::env::args().count();\n    println!(\"{}\", DATA[i % DATA.len()]);\n}\n",
    )
    .map_err(io)?;
    std::fs::write(repo.join(".gitignore"), "/dist/\n/target/\n").map_err(io)?;
    check(
        Command::new(&cargo)
            .args(["generate-lockfile", "--offline"])
            .current_dir(&repo),
    )?;
    let key = keys.join("release");
    check(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"])
            .arg(&key),
    )?;
    let public = std::fs::read_to_string(keys.join("release.pub")).map_err(io)?;
    std::fs::write(
        repo.join(".github/allowed_signers"),
        format!("bench@example.org namespaces=\"git,file\" {public}"),
    )
    .map_err(io)?;
    let git = |args: &[&str]| check(Command::new("git").args(args).current_dir(&repo));
    git(&["init", "-q", "-b", "main"])?;
    git(&["config", "user.name", "Bench"])?;
    git(&["config", "user.email", "bench@example.org"])?;
    git(&["add", "-A"])?;
    git(&["commit", "-qm", "release 1.0.0"])?;
    check(
        Command::new(&bin)
            .args(["tag", "--no-audit", "--format", "ssh", "--key"])
            .arg(&key)
            .current_dir(&repo)
            .env_remove("SSH_AUTH_SOCK"),
    )?;
    eprintln!("xtask: cargo auditable build --release of the 15 MiB bench binary");
    check(
        Command::new(&cargo)
            .args([
                "auditable",
                "build",
                "--release",
                "--locked",
                "--offline",
                "--quiet",
            ])
            .current_dir(&repo)
            .env("CARGO_TARGET_DIR", repo.join("target")),
    )
    .map_err(|e| format!("{e}\n(cargo-auditable is installed by `cargo xtask test`)"))?;
    let file = repo.join("dist/bench");
    std::fs::copy(repo.join("target/release/bench"), &file).map_err(io)?;
    let size = std::fs::metadata(&file).map_err(io)?.len();
    let db = root.join("../shared/advisory-db");
    if !db.join("crates").is_dir() {
        return Err("the RustSec snapshot at ../shared/advisory-db is missing".into());
    }
    let ssh_sig = repo.join("dist/by-hand.sig");

    let time = crate::time_ok;
    let (mut attest, mut verify, mut sha, mut sign) = (vec![], vec![], vec![], vec![]);
    for i in 0..=RUNS {
        let a = time(
            Command::new(&bin)
                .args([
                    "attest",
                    "-q",
                    "--force",
                    "--output-dir",
                    "dist",
                    "--offline",
                ])
                .arg("--advisory-db")
                .arg(&db)
                .arg("--key")
                .arg(&key)
                .arg(&file)
                .current_dir(&repo)
                .env_remove("SSH_AUTH_SOCK"),
        )?;
        let v = time(
            Command::new(&bin)
                .args(["verify", "-q", "--artifact"])
                .arg(&file)
                .current_dir(&repo),
        )?;
        let s = time(Command::new("sha256sum").arg(&file))?;
        let _ = std::fs::remove_file(&ssh_sig);
        let k = time(
            Command::new("ssh-keygen")
                .args(["-q", "-Y", "sign", "-n", "file", "-f"])
                .arg(&key)
                .arg(&file)
                .env_remove("SSH_AUTH_SOCK"),
        )?;
        let _ = std::fs::rename(format!("{}.sig", file.display()), &ssh_sig);
        if i > 0 {
            attest.push(a);
            verify.push(v);
            sha.push(s);
            sign.push(k);
        }
    }
    let median = |v: &mut Vec<Duration>| crate::median_ms(v);
    let (a, v, s, k) = (
        median(&mut attest),
        median(&mut verify),
        median(&mut sha),
        median(&mut sign),
    );
    println!(
        "a {:.1} MB release binary (cargo auditable, hardened), signed with an Ed25519 key; medians of {RUNS} interleaved runs after one warm-up",
        size as f64 / 1e6
    );
    println!("| what | median | target |");
    println!("|---|---|---|");
    println!("| `sha256sum FILE` | {s:.1} ms | |");
    println!("| `ssh-keygen -Y sign -n file FILE` | {k:.1} ms | |");
    println!(
        "| `cargo secure-release attest FILE` | {a:.1} ms | {:.2}x the pair: ≤ 1.5x {} |",
        a / (s + k),
        if a <= 1.5 * (s + k) { "met" } else { "NOT met" }
    );
    println!(
        "| `cargo secure-release verify --artifact FILE` | {v:.1} ms | ≤ 100 ms {} |",
        if v <= 100.0 { "met" } else { "NOT met" }
    );
    // The gate ran and the binary got its SBOM statement: two envelopes, the SLSA
    // statement's and the binary's.
    let envelopes = std::fs::read_to_string(repo.join("dist/provenance.intoto.jsonl"))
        .map_err(io)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let _ = std::fs::remove_dir_all(&tmp);
    if envelopes != 2 {
        return Err(format!(
            "the provenance holds {envelopes} envelopes, not the SLSA statement and the binary's SBOM statement"
        ));
    }
    Ok(())
}
