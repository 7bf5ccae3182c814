//! `cargo xtask bench-tag`: creating a signed release tag with our in-process
//! signers versus `git tag -s` driving gpg (OpenPGP) or ssh-keygen (SSH), in the
//! same repository with the same keys.
//! Interleaved runs, medians printed. Two rows skip the audit (`--no-audit`) so that
//! tagging and signing alone are compared; the third keeps the release gate, whose
//! audit is cold by design (a release decision reads no cache), and the gate's cost
//! is the difference between the first and the third. Both of ours still run cargo
//! metadata: the workspace a tag attests is never taken from a record.

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
    // Hardened, so the gate's audit passes.
    std::fs::write(
        repo.join("Cargo.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n\n\
         [profile.release]\nlto = \"fat\"\ncodegen-units = 1\nstrip = true\npanic = \"abort\"\n",
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

    let key_str = key.to_str().ok_or("temp path is not UTF-8")?;
    let db = root.join("../shared/advisory-db");
    let db_str = db.to_str().ok_or("advisory-db path is not UTF-8")?;
    // (ours with these arguments, git with these) per row, timed in turn each round.
    let rows: [(&[&str], Vec<String>); 3] = [
        (&["--no-audit", "--key", key_str], vec![]),
        (
            &["--no-audit", "--format", "ssh", "--key", ssh_key_str],
            vec![
                "-c".into(),
                "gpg.format=ssh".into(),
                "-c".into(),
                format!("user.signingkey={ssh_key_str}"),
            ],
        ),
        (
            &["--offline", "--advisory-db", db_str, "--key", key_str],
            vec![],
        ),
    ];
    let mut ours = vec![Vec::new(); rows.len()];
    let mut theirs = vec![Vec::new(); rows.len()];
    // Round 0 warms up: gpg-agent, the page cache, our records (cargo metadata's answer,
    // rustc's, the findings).
    for i in 0..=RUNS {
        for (r, (our_args, git_config)) in rows.iter().enumerate() {
            let t = Instant::now();
            check(
                Command::new(&bin)
                    .args(["tag", "-q", "--tag-prefix"])
                    .arg(format!("ours-{r}-{i}-v"))
                    .args(*our_args)
                    .current_dir(&repo),
            )?;
            let took = t.elapsed();
            if i > 0 {
                ours[r].push(took);
            }
            let t = Instant::now();
            let name = format!("git-{r}-{i}");
            let mut args: Vec<&str> = git_config.iter().map(String::as_str).collect();
            args.extend(["tag", "-s", &name, "-m", "Release bench 1.0.0"]);
            git(&args)?;
            if i > 0 {
                theirs[r].push(t.elapsed());
            }
        }
    }
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", &gnupg)
        .status();
    let _ = std::fs::remove_dir_all(&tmp);
    println!("signed tag creation, median of {RUNS} interleaved runs after one warm-up round");
    println!("| command | median |");
    println!("|---|---|");
    let labels = [
        (
            "cargo secure-release tag --no-audit --key FILE",
            "git tag -s (gpg)",
        ),
        (
            "cargo secure-release tag --no-audit --format ssh --key FILE",
            "git tag -s (gpg.format=ssh, ssh-keygen)",
        ),
        (
            "cargo secure-release tag --key FILE (release gate on: a cold audit)",
            "git tag -s (gpg)",
        ),
    ];
    let mut medians = Vec::new();
    for (r, (ours_label, git_label)) in labels.iter().enumerate() {
        medians.push(median(&mut ours[r]));
        for (label, samples) in [(ours_label, &mut ours[r]), (git_label, &mut theirs[r])] {
            println!(
                "| {label} | {:.1} ms |",
                median(samples).as_secs_f64() * 1e3
            );
        }
    }
    println!(
        "the release gate's cost (gated row less the first row): {:.1} ms",
        (medians[2].as_secs_f64() - medians[0].as_secs_f64()) * 1e3
    );
    Ok(())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}
