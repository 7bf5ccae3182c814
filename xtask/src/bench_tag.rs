//! `cargo xtask bench-tag`: creating a signed release tag with our in-process
//! signers versus `git tag -s` driving gpg (OpenPGP) or ssh-keygen (SSH), in the
//! same repository with the same keys.
//! Interleaved runs, medians printed. The audit is skipped (`--no-audit`) so that only
//! tagging and signing are compared.

use crate::check;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

pub fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let bin = crate::release_binary(&root)?;

    let tmp = std::env::temp_dir().join(format!("csr-bench-tag-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let (repo, gnupg) = (tmp.join("repo"), tmp.join("gnupg"));
    std::fs::create_dir_all(repo.join("src")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&gnupg).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| e.to_string())?;
    }
    std::fs::write(
        repo.join("Cargo.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(repo.join("src/main.rs"), "fn main() {}\n").map_err(|e| e.to_string())?;
    check(
        Command::new(&cargo)
            .args(["generate-lockfile", "--offline"])
            .current_dir(&repo),
    )?;
    let git = |args: &[&str]| {
        check(
            Command::new("git")
                .args(args)
                .current_dir(&repo)
                .env("GNUPGHOME", &gnupg),
        )
    };
    git(&["init", "-q", "-b", "main"])?;
    git(&["config", "user.name", "Bench"])?;
    git(&["config", "user.email", "bench@example.org"])?;
    git(&["add", "-A"])?;
    git(&["commit", "-qm", "bench"])?;
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .arg("--batch")
            .args(args)
            .env("GNUPGHOME", &gnupg)
            .output()
            .map_err(|e| e.to_string())
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        "Bench <bench@example.org>",
        "ed25519",
        "sign",
        "never",
    ])?;
    let key = tmp.join("key.asc");
    let secret = gpg(&["--armor", "--export-secret-keys", "bench@example.org"])?.stdout;
    std::fs::write(&key, secret).map_err(|e| e.to_string())?;
    let ssh_key = tmp.join("id_ed25519");
    check(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"])
            .arg(&ssh_key),
    )?;
    let ssh_key_str = ssh_key.to_str().ok_or("temp path is not UTF-8")?;

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut ours_ssh, mut theirs_ssh) = (Vec::new(), Vec::new());
    for i in 0..RUNS {
        let t = Instant::now();
        check(
            Command::new(&bin)
                .args([
                    "tag",
                    "-q",
                    "--no-audit",
                    "--tag-prefix",
                    &format!("ours-{i}-v"),
                    "--key",
                ])
                .arg(&key)
                .current_dir(&repo),
        )?;
        ours.push(t.elapsed());
        let t = Instant::now();
        git(&[
            "tag",
            "-s",
            &format!("gpg-{i}"),
            "-m",
            "Release bench 1.0.0",
        ])?;
        theirs.push(t.elapsed());
        let t = Instant::now();
        check(
            Command::new(&bin)
                .args([
                    "tag",
                    "-q",
                    "--no-audit",
                    "--format",
                    "ssh",
                    "--tag-prefix",
                    &format!("ours-ssh-{i}-v"),
                    "--key",
                    ssh_key_str,
                ])
                .current_dir(&repo),
        )?;
        ours_ssh.push(t.elapsed());
        let t = Instant::now();
        git(&[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={ssh_key_str}"),
            "tag",
            "-s",
            &format!("ssh-{i}"),
            "-m",
            "Release bench 1.0.0",
        ])?;
        theirs_ssh.push(t.elapsed());
    }
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", &gnupg)
        .status();
    let _ = std::fs::remove_dir_all(&tmp);
    let (o, g) = (median(&mut ours), median(&mut theirs));
    let (os, gs) = (median(&mut ours_ssh), median(&mut theirs_ssh));
    println!("signed tag creation, median of {RUNS} interleaved runs");
    println!("| command | median |");
    println!("|---|---|");
    println!(
        "| cargo secure-release tag --no-audit --key FILE | {:.1} ms |",
        o.as_secs_f64() * 1e3
    );
    println!("| git tag -s (gpg) | {:.1} ms |", g.as_secs_f64() * 1e3);
    println!(
        "| cargo secure-release tag --no-audit --format ssh --key FILE | {:.1} ms |",
        os.as_secs_f64() * 1e3
    );
    println!(
        "| git tag -s (gpg.format=ssh, ssh-keygen) | {:.1} ms |",
        gs.as_secs_f64() * 1e3
    );
    Ok(())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}
