//! The cargo subprocess: one `cargo metadata` per command, and its errors turned
//! into one line that names the file, plus the fix.

use crate::error::{escape, Failure};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `metadata` answered.
pub struct Metadata {
    /// cargo's JSON document, complete; cargo itself may still be exiting (`finish`).
    pub json: Vec<u8>,
    /// The Cargo.lock this run created because there was none (see `metadata`).
    pub created_lockfile: Option<PathBuf>,
    /// cargo, exiting.
    pub exit: Exit,
}

/// A `cargo metadata` that has printed its document and may still be exiting; None
/// once it has exited (it printed no whole document, so its exit was awaited then).
pub struct Exit(Option<Running>);

impl Exit {
    /// Waits for cargo to exit: its JSON counts only if it succeeded. Cargo frees its
    /// resolver after printing (~20 ms on 1,000 packages), so a caller parses the
    /// document first and finishes after. Returns what cargo printed after the
    /// document, which cargo leaves empty.
    pub fn finish(self, manifest_path: &Path) -> Result<Vec<u8>> {
        let Some(running) = self.0 else {
            return Ok(Vec::new());
        };
        running
            .wait()
            .map_err(|stderr| metadata_failure(manifest_path, &stderr).into())
    }
}

/// `cargo metadata` JSON with all features of the workspace members enabled, so the
/// graph covers every package that can end up in Cargo.lock. Always `--locked`: the
/// audit never rewrites the project's lockfile. A missing one is created first with
/// `cargo generate-lockfile`, as `cargo build` (and cargo-audit) would, unless
/// `create_lockfile` is false (`--locked`, `--frozen`, `tag`).
pub fn metadata(
    manifest_path: &Path,
    offline: bool,
    frozen: bool,
    create_lockfile: bool,
) -> Result<Metadata> {
    check_lockfiles(manifest_path)?;
    match run_metadata(manifest_path, offline, frozen, &[]) {
        Err(stderr) if create_lockfile => {
            let Some(lock) = missing_lockfile(&stderr) else {
                return Err(metadata_failure(manifest_path, &stderr).into());
            };
            generate_lockfile(manifest_path, offline)?;
            let (json, exit) = run_metadata(manifest_path, offline, frozen, &[])
                .map_err(|stderr| metadata_failure(manifest_path, &stderr))?;
            Ok(Metadata {
                json,
                created_lockfile: Some(lock),
                exit,
            })
        }
        Err(stderr) => Err(metadata_failure(manifest_path, &stderr).into()),
        Ok((json, exit)) => Ok(Metadata {
            json,
            created_lockfile: None,
            exit,
        }),
    }
}

/// The lockfile cargo says it would have to create: cargo's own words name it, so
/// no guess about where the workspace root is.
fn missing_lockfile(stderr: &str) -> Option<PathBuf> {
    let rest = stderr.split("cannot create the lock file ").nth(1)?;
    let path = rest.split(" because --locked was passed").next()?;
    (!path.contains('\n')).then(|| PathBuf::from(path))
}

/// `$CARGO` (set when cargo runs us as a subcommand), else `cargo` on PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// cargo's `error: …` line without its prefix, or `fallback` when there is none.
fn first_error<'a>(stderr: &'a str, fallback: &'a str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or(fallback)
        .trim_start_matches("error: ")
}

fn generate_lockfile(manifest_path: &Path, offline: bool) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["generate-lockfile", "--quiet", "--manifest-path"])
        .arg(manifest_path);
    if offline {
        cmd.arg("--offline");
    }
    let out = cmd
        .output()
        .context("could not run `cargo generate-lockfile`: is cargo on PATH?")?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = first_error(&stderr, "cargo generate-lockfile failed");
    Err(Failure::new(format!(
        "no Cargo.lock next to the workspace manifest {}, and `cargo generate-lockfile` failed: {}",
        escape(&manifest_path.display().to_string()),
        escape(first)
    ))
    .help(match offline {
        true => "run `cargo generate-lockfile` once with the network (or `cargo fetch`), commit Cargo.lock, then audit again",
        false => "fix what cargo reports below, run `cargo generate-lockfile` and commit Cargo.lock",
    })
    .detail(stderr.trim_end().to_string())
    .into())
}

/// `cargo metadata` with `--features` beyond `--all-features`: a dependency's feature
/// named on the command line (`dep/feat`) can pull in packages that no member's
/// feature does, which the all-features resolve leaves out. The lockfile exists by
/// now (the first `metadata` made it) and is never rewritten.
pub fn metadata_with_features(
    manifest_path: &Path,
    offline: bool,
    frozen: bool,
    features: &[String],
) -> Result<Metadata> {
    let (json, exit) = run_metadata(manifest_path, offline, frozen, features)
        .map_err(|stderr| metadata_failure(manifest_path, &stderr))?;
    Ok(Metadata {
        json,
        created_lockfile: None,
        exit,
    })
}

/// The most `cargo metadata` may print: a 1,000-package workspace prints ~5 MiB.
const METADATA_LIMIT: usize = 1 << 30;
/// The most of cargo's stderr kept for its error message.
const STDERR_LIMIT: u64 = 16 << 20;

/// One `cargo metadata` run: its JSON document as soon as it is complete, with cargo
/// still exiting, or cargo's stderr when it failed before printing one.
fn run_metadata(
    manifest_path: &Path,
    offline: bool,
    frozen: bool,
    features: &[String],
) -> Result<(Vec<u8>, Exit), String> {
    let mut cmd = cargo();
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--all-features",
        "--locked",
    ])
    .arg("--manifest-path")
    .arg(manifest_path);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    if offline {
        cmd.arg("--offline");
    }
    if frozen {
        cmd.arg("--frozen");
    }
    let mut running = Running::spawn(cmd)
        .map_err(|e| format!("error: could not run `cargo metadata` ({e}): is cargo on PATH?"))?;
    let json = running.document()?;
    // Ended without a whole document: cargo's exit says why, now.
    if !json.ends_with(b"\n") {
        let rest = running.wait()?;
        return Ok(([json, rest].concat(), Exit(None)));
    }
    Ok((json, Exit(Some(running))))
}

/// A `cargo metadata` that is printing its answer, or has and may still be exiting.
struct Running {
    child: std::process::Child,
    stdout: std::process::ChildStdout,
    stderr: std::thread::JoinHandle<Vec<u8>>,
    /// Bytes of stdout after the document's end, read with it.
    rest: Vec<u8>,
}

impl Running {
    fn spawn(mut cmd: Command) -> std::io::Result<Self> {
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(stdout), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
            unreachable!("both were piped");
        };
        // Drained beside stdout, or a cargo with much to warn about would block on a
        // full stderr pipe while this waits on stdout; drained to its end past the
        // part kept, for the same reason.
        let stderr = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::io::Read::read_to_end(
                &mut std::io::Read::take(&mut err, STDERR_LIMIT),
                &mut buf,
            );
            let _ = std::io::copy(&mut err, &mut std::io::sink());
            buf
        });
        Ok(Running {
            child,
            stdout,
            stderr,
            rest: Vec::new(),
        })
    }

    /// stdout up to and including its first newline, or all of it if there is none.
    /// `--format-version 1` is one line of compact JSON (a newline inside a string is
    /// written `\n`), so its first newline ends the document: it can be parsed while
    /// cargo tears down. Whatever follows is kept for `wait`, which judges it.
    fn document(&mut self) -> Result<Vec<u8>, String> {
        let Running { stdout, rest, .. } = self;
        let mut json = Vec::with_capacity(1 << 20);
        let mut chunk = vec![0u8; 256 << 10];
        loop {
            let n = match std::io::Read::read(stdout, &mut chunk) {
                Ok(0) => return Ok(json),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(format!(
                        "error: could not read `cargo metadata` output: {e}"
                    ))
                }
            };
            let got = &chunk[..n];
            if json.len() + n > METADATA_LIMIT {
                return Err(format!(
                    "error: `cargo metadata` printed more than {METADATA_LIMIT} bytes"
                ));
            }
            if let Some(end) = got.iter().position(|&b| b == b'\n') {
                json.extend_from_slice(&got[..=end]);
                rest.extend_from_slice(&got[end + 1..]);
                return Ok(json);
            }
            json.extend_from_slice(got);
        }
    }

    /// cargo's exit: what it printed after the document when it succeeded, its
    /// stderr when it did not.
    fn wait(self) -> Result<Vec<u8>, String> {
        let Running {
            mut child,
            mut stdout,
            stderr,
            mut rest,
        } = self;
        let cannot =
            |e: std::io::Error| format!("error: could not read `cargo metadata`'s answer: {e}");
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut stdout, METADATA_LIMIT as u64),
            &mut rest,
        )
        .map_err(cannot)?;
        if rest.len() >= METADATA_LIMIT {
            // Unread output would keep cargo blocked on the pipe: end it instead.
            drop(stdout);
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "error: `cargo metadata` printed more than {METADATA_LIMIT} bytes"
            ));
        }
        let status = child.wait().map_err(cannot)?;
        match status.success() {
            true => Ok(rest),
            false => Err(String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned()),
        }
    }
}

/// Cargo reads the Cargo.lock of the manifest's directory or of a parent workspace,
/// whatever it is: refuse one that is not a regular file of sane size before cargo
/// does (a link to `/dev/zero` drives cargo to gigabytes).
fn check_lockfiles(manifest_path: &Path) -> Result<()> {
    for dir in manifest_path.parent().into_iter().flat_map(Path::ancestors) {
        let lock = dir.join("Cargo.lock");
        if std::fs::symlink_metadata(&lock).is_err() {
            continue;
        }
        let meta = std::fs::metadata(&lock);
        let ok = meta
            .as_ref()
            .is_ok_and(|m| m.is_file() && m.len() <= crate::fsutil::LOCKFILE_LIMIT);
        if !ok {
            let what = match &meta {
                Err(e) => format!("cannot be read ({e})"),
                Ok(m) if m.is_file() => format!(
                    "is {} bytes, more than the {} a lockfile may be",
                    m.len(),
                    crate::fsutil::LOCKFILE_LIMIT
                ),
                Ok(_) => "is not a regular file".to_string(),
            };
            return Err(Failure::new(format!(
                "{} {what}; cargo was not run",
                escape(&lock.display().to_string())
            ))
            .help("replace it with the project's real Cargo.lock (`cargo generate-lockfile`)")
            .into());
        }
    }
    Ok(())
}

/// Turns cargo's error text into one line that names the file, plus the fix.
fn metadata_failure(manifest: &Path, stderr: &str) -> Failure {
    let cargo_lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let first = first_error(stderr, "cargo metadata failed");
    let detail = cargo_lines.join("\n");
    // cargo's own lines here only talk about the `--locked` we passed, which the user
    // never typed: the line and help below are the whole story.
    if stderr.contains("needs to be updated but --")
        || stderr.contains("because --locked was passed")
        || stderr.contains("because --frozen was passed")
    {
        let lock = manifest_dir_lock(manifest);
        let missing = lock.as_ref().is_none_or(|l| !l.exists());
        if missing {
            return Failure::new(format!(
                "no Cargo.lock next to the workspace manifest {}",
                escape(&manifest.display().to_string())
            ))
            .help("run `cargo generate-lockfile` and commit Cargo.lock: a release ships the versions it pins");
        }
        return Failure::new(format!(
            "Cargo.lock is out of date with {}",
            escape(&manifest.display().to_string())
        ))
        .help("run `cargo update --workspace` (or `cargo check`) and commit Cargo.lock; the audit never rewrites it");
    }
    // cargo points at manifest errors as ` --> Cargo.toml:LINE:COL`, relative to the manifest's directory.
    let pointer = cargo_lines.iter().find_map(|l| {
        let rest = l.trim_start().strip_prefix("--> ")?;
        let mut parts = rest.rsplitn(3, ':');
        let _col = parts.next()?;
        let line = parts.next()?.parse::<usize>().ok()?;
        let file = parts.next()?;
        Some((file.to_string(), line))
    });
    // Config files: "could not parse TOML configuration in `PATH`" then "TOML parse error at line N".
    let toml_error = cargo_lines.iter().enumerate().find_map(|(i, l)| {
        let n = l.trim().strip_prefix("TOML parse error at line ")?;
        let line: usize = n.split(',').next()?.trim().parse().ok()?;
        let path = cargo_lines[..i].iter().rev().find_map(|p| {
            let start = p.find('`')? + 1;
            let end = start + p[start..].find('`')?;
            Some(p[start..end].to_string())
        })?;
        let reason = cargo_lines
            .last()
            .map(|r| r.trim().to_string())
            .unwrap_or_default();
        Some((path, line, reason))
    });
    if let Some((path, line, reason)) = toml_error {
        return Failure::new(format!("{path}:{line}: invalid TOML: {reason}"))
            .help("fix the TOML at that line")
            .detail(detail);
    }
    match pointer {
        Some((file, line)) => {
            let path = manifest
                .parent()
                .map_or_else(|| PathBuf::from(&file), |d| d.join(&file));
            Failure::new(format!("{}:{line}: {first}", path.display()))
                .help("fix the manifest at that line (https://doc.rust-lang.org/cargo/reference/manifest.html)")
                .detail(detail)
        }
        None => Failure::new(format!(
            "`cargo metadata` failed for {}: {first}",
            escape(&manifest.display().to_string())
        ))
        .help("fix the problem cargo reports below, then run the audit again")
        .detail(detail),
    }
}

/// Best guess at where Cargo.lock lives, for the error message only: the nearest
/// ancestor whose Cargo.toml declares `[workspace]`, else the manifest's own directory.
fn manifest_dir_lock(manifest: &Path) -> Option<PathBuf> {
    let dir = manifest.parent()?;
    for d in dir.ancestors() {
        let m = d.join("Cargo.toml");
        if let Ok(text) = crate::fsutil::read_text(&m, crate::fsutil::TEXT_LIMIT, "manifest") {
            if text.lines().any(|l| l.trim() == "[workspace]") {
                return Some(d.join("Cargo.lock"));
            }
        }
    }
    Some(dir.join("Cargo.lock"))
}

/// `$CARGO_HOME`, else `~/.cargo`.
pub fn home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real process speaking through the pipes as cargo does.
    fn sh(script: &str) -> Running {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        Running::spawn(cmd).unwrap()
    }

    #[test]
    fn the_document_ends_at_its_newline_and_what_follows_is_kept_for_the_exit() {
        // The sleep: the document is handed over while the process still runs.
        let mut e = sh(r#"printf '{"a":"x\\ny"}\n'; sleep 0.2; printf 'more'"#);
        assert_eq!(e.document().unwrap(), b"{\"a\":\"x\\ny\"}\n");
        assert_eq!(e.wait().unwrap(), b"more");
    }

    #[test]
    fn a_failure_after_the_document_is_a_failure() {
        let mut e = sh(r#"printf '{}\n'; echo 'error: late' >&2; exit 3"#);
        assert_eq!(e.document().unwrap(), b"{}\n");
        assert_eq!(e.wait().unwrap_err().trim(), "error: late");
    }

    #[test]
    fn output_without_a_newline_is_read_to_its_end() {
        let mut e = sh(r#"printf '{"a":1}'"#);
        assert_eq!(e.document().unwrap(), b"{\"a\":1}");
        assert!(e.wait().unwrap().is_empty());
    }

    #[test]
    fn much_on_stderr_does_not_block_the_document() {
        // 1 MiB of warnings: more than a pipe holds, written before the document.
        let mut e = sh(r#"head -c 1048576 /dev/zero | tr '\0' w >&2; printf '{}\n'"#);
        assert_eq!(e.document().unwrap(), b"{}\n");
        assert!(e.wait().unwrap().is_empty());
    }

    #[test]
    fn stderr_past_what_is_kept_is_drained_so_cargo_can_finish() {
        // 17 MiB of warnings, then the document only if every byte was written: a
        // closed pipe would kill the writer (SIGPIPE) and fail the `&&`.
        let mut e = sh(r#"head -c 17825792 /dev/zero | tr '\0' w >&2 && printf '{}\n'"#);
        assert_eq!(e.document().unwrap(), b"{}\n");
        assert!(e.wait().unwrap().is_empty());
        // What is kept for an error message is bounded.
        let mut e = sh(r#"head -c 17825792 /dev/zero | tr '\0' w >&2; exit 1"#);
        assert!(e.document().unwrap().is_empty());
        assert_eq!(e.wait().unwrap_err().len() as u64, STDERR_LIMIT);
    }
}
