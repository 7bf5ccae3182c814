//! `cargo xtask bench-verify`: how long `verify --bundle` takes on the Sigstore
//! conformance suite's happy paths (a message signature with a Rekor v1 entry, a
//! DSSE envelope, a Rekor v2 entry with an RFC 3161 timestamp), the whole command
//! through the release build, interleaved with sigstore-python's `sigstore verify
//! identity --offline` on the same bundle when that is installed (the venv of
//! `cargo xtask test`; `pip install sigstore` there to compare). Target: 50 ms.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const RUNS: usize = 21;
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const CASES: [&str; 3] = [
    "happy-path-v0.3",
    "happy-path-intoto-in-dsse-v3",
    "rekor2-happy-path",
];

pub fn run() -> Result<(), String> {
    let root = crate::workspace_root()?;
    let bin = match std::env::var_os("CSR_BENCH_BINARY") {
        Some(p) => PathBuf::from(p),
        None => crate::release_binary(&root)?,
    };
    let cases = root.join("../shared/sigstore-conformance/test/assets/bundle-verify");
    if !cases.is_dir() {
        return Err(format!(
            "the conformance suite is missing at {}",
            cases.display()
        ));
    }
    let reference = crate::tools::venv_bin()
        .ok()
        .map(|b| b.join("sigstore"))
        .filter(|p| p.exists());
    println!(
        "release binary: {}, median of {RUNS} runs after one warm-up, interleaved{}",
        bin.display(),
        match &reference {
            Some(_) => " with sigstore-python",
            None => " (sigstore-python not installed in the test venv: no reference column)",
        }
    );
    println!("| case | `verify --bundle` | sigstore-python `verify identity --offline` | ratio |");
    println!("|---|---|---|---|");
    for case in CASES {
        let dir = cases.join(case);
        let artifact = match dir.join("artifact").exists() {
            true => dir.join("artifact"),
            false => cases.join("a.txt"),
        };
        let root_file = Some(dir.join("trusted_root.json")).filter(|p| p.exists());
        let ours = || {
            let mut c = Command::new(&bin);
            c.args(["verify", "-q", "--format", "json", "--artifact"])
                .arg(&artifact)
                .arg("--bundle")
                .arg(dir.join("bundle.sigstore.json"))
                .args(["--identity", IDENTITY, "--issuer", ISSUER]);
            if let Some(r) = &root_file {
                c.arg("--trusted-root").arg(r);
            }
            c
        };
        // sigstore-python takes a custom root only inside a client trust config: the
        // reference runs on the public-good cases.
        let theirs = reference.as_ref().filter(|_| root_file.is_none()).map(|r| {
            let r = r.clone();
            let dir = dir.clone();
            let artifact = artifact.clone();
            move || {
                let mut c = Command::new(&r);
                c.args(["verify", "identity", "--offline", "--bundle"])
                    .arg(dir.join("bundle.sigstore.json"))
                    .args(["--cert-identity", IDENTITY, "--cert-oidc-issuer", ISSUER])
                    .arg(&artifact);
                c
            }
        });
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..=RUNS {
            let t = time(ours(), case)?;
            let u = match &theirs {
                Some(f) => Some(time(f(), case)?),
                None => None,
            };
            if i > 0 {
                a.push(t);
                b.extend(u);
            }
        }
        let ms = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2].as_secs_f64() * 1e3
        };
        let ours_ms = ms(&mut a);
        match b.is_empty() {
            true => println!("| {case} | {ours_ms:.1} ms | – | – |"),
            false => {
                let theirs_ms = ms(&mut b);
                println!(
                    "| {case} | {ours_ms:.1} ms | {theirs_ms:.1} ms | {:.2} |",
                    ours_ms / theirs_ms
                )
            }
        }
    }
    Ok(())
}

/// One run that must succeed (exit 0: the bundle verifies).
fn time(mut cmd: Command, case: &str) -> Result<Duration, String> {
    crate::time_ok(&mut cmd).map_err(|e| format!("{case}: {e}"))
}
