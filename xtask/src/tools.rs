//! `cargo xtask test`: install what the tests need, outside the clone and only when
//! missing, then run them. Nothing is skipped silently: a tool that cannot be
//! installed is an error that names it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Commands the tests run, with the Debian package that provides each.
const SYSTEM: &[(&str, &str)] = &[
    ("git", "git"),
    ("gpg", "gnupg"),
    ("gpgconf", "gnupg"),
    ("ssh-keygen", "openssh-client"),
    ("mkfifo", "coreutils"),
    // The opt-in gpg-agent feature compiles Cap'n Proto schemas.
    ("capnp", "capnproto"),
    ("node", "nodejs"),
    ("npm", "npm"),
    // The man page test renders each page with `man -l`.
    ("man", "man-db"),
    // The artifact tests compare with Debian's checksec.
    ("checksec", "checksec"),
    // The SBOM validators are Python packages, in a venv of their own.
    ("python3", "python3"),
    // attest's SHA256SUMS, checked as users check it.
    ("sha256sum", "coreutils"),
    ("shasum", "perl"),
    ("tar", "tar"),
    // attest --minisign's signatures, checked as cargo-binstall's users check them.
    ("minisign", "minisign"),
];

/// PyPI packages the SBOM tests run, and a command each provides.
const PYTHON_TOOLS: &[(&str, &str)] = &[
    ("cyclonedx-python-lib[json-validation]", "python"),
    // tests/validators/validate_openvex.py: the OpenVEX schema, checked by jsonschema.
    ("jsonschema", "python"),
    ("spdx-tools", "pyspdxtools"),
    ("ntia-conformance-checker", "ntia-checker"),
    // tests/validators/validate_dsse.py: attest's DSSE envelopes and statements.
    ("in-toto==3.1.0", "in-toto-run"),
    ("securesystemslib[crypto]", "python"),
    ("in-toto-attestation==0.9.3", "python"),
    // tests/integration/workflows_zizmor.rs: the workflow check against zizmor (--offline).
    ("zizmor==1.32.0", "zizmor"),
];

/// The bin directory of the validators' venv (made by `ensure`).
pub fn venv_bin() -> Result<PathBuf, String> {
    Ok(cache_root()?.join("venv").join("bin"))
}

/// A venv under the cache dir with the SBOM validators; returns its path.
fn python_tools(installed: &mut Vec<String>) -> Result<PathBuf, String> {
    let venv = cache_root()?.join("venv");
    let bin = venv.join("bin");
    let validator_ok = || {
        Command::new(bin.join("python"))
            .args([
                "-c",
                "import cyclonedx.validation.json, jsonschema, in_toto, securesystemslib.dsse, in_toto_attestation, cryptography",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing = !validator_ok() || PYTHON_TOOLS.iter().any(|(_, cmd)| !bin.join(cmd).exists());
    if !missing {
        return Ok(venv);
    }
    let names: Vec<&str> = PYTHON_TOOLS.iter().map(|(p, _)| *p).collect();
    announce(
        installed,
        &format!("the SBOM validators {}", names.join(", ")),
        &format!("pip, from PyPI, into the venv {}", venv.display()),
    );
    if !bin.join("python").exists() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            // Debian splits venv out of python3.
            if on_path("apt-get") && is_root() {
                run(Command::new("apt-get")
                    .args(["install", "-y", "-qq", "python3-venv"])
                    .env("DEBIAN_FRONTEND", "noninteractive"))?;
            }
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
        }
    }
    run(Command::new(bin.join("pip"))
        .args(["install", "-q", "--disable-pip-version-check"])
        .args(PYTHON_TOOLS.iter().map(|(pkg, _)| *pkg)))?;
    if validator_ok() && PYTHON_TOOLS.iter().all(|(_, cmd)| bin.join(cmd).exists()) {
        Ok(venv)
    } else {
        Err(format!(
            "the SBOM validators did not install into {}",
            venv.display()
        ))
    }
}

/// Cargo subcommands the tests run, installed with `cargo install --locked`.
const CARGO_TOOLS: &[(&str, &str)] = &[
    ("cargo-auditable", "cargo-auditable"),
    ("cargo-audit", "cargo-audit"),
];

/// Installs the missing cargo subcommands into cargo's own bin directory.
fn cargo_tools(installed: &mut Vec<String>) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for (cmd, krate) in CARGO_TOOLS {
        if on_path(cmd) {
            continue;
        }
        announce(
            installed,
            krate,
            "cargo install --locked, from crates.io, into cargo's bin directory (~/.cargo/bin); a few minutes",
        );
        // Not into the clone's target dir: a build cache of its own.
        run(Command::new(&cargo)
            .args(["install", "--locked", krate])
            .env_remove("CARGO_TARGET_DIR"))?;
        if !on_path(cmd) {
            return Err(format!(
                "`cargo install {krate}` succeeded but {cmd} is not on PATH (add cargo's bin directory, ~/.cargo/bin)"
            ));
        }
    }
    Ok(())
}

pub fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let p = d.join(cmd);
            p.is_file()
                && std::fs::metadata(&p).is_ok_and(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.permissions().mode() & 0o111 != 0
                })
        })
    })
}

/// `~/.cache/cargo-secure-release`: where tools and build caches live, outside the clone.
pub fn cache_root() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    Ok(Path::new(&home).join(".cache/cargo-secure-release"))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let line = shell_line(cmd);
    eprintln!("xtask: $ {line}");
    let status = cmd.status().map_err(|e| format!("`{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})"))
    }
}

/// A command as one would type it (for the log, not for a shell to run).
pub fn shell_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Says what is about to be installed, how and where, before doing it; and keeps it
/// for the summary.
fn announce(installed: &mut Vec<String>, what: &str, how_where: &str) {
    eprintln!("xtask: installing {what} ({how_where})");
    installed.push(what.to_string());
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs the missing system commands with apt-get (Debian), or says which are missing.
fn system_tools(installed: &mut Vec<String>) -> Result<(), String> {
    let mut missing: Vec<&str> = SYSTEM
        .iter()
        .filter(|(cmd, _)| !on_path(cmd))
        .map(|(_, pkg)| *pkg)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    if !(on_path("apt-get") && is_root()) {
        return Err(format!(
            "the tests need these packages, which are missing: {} (install them, then run again)",
            missing.join(", ")
        ));
    }
    announce(
        installed,
        &format!("the Debian packages {}", missing.join(", ")),
        "apt-get as root, system-wide",
    );
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    let still: Vec<&str> = SYSTEM
        .iter()
        .filter(|(cmd, _)| !on_path(cmd))
        .map(|(cmd, _)| *cmd)
        .collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("still missing after apt-get: {}", still.join(", ")))
    }
}

/// An npm package's command, installed into the cache dir `name` when missing.
fn npm_tool(
    installed: &mut Vec<String>,
    name: &str,
    package: &str,
    command: &str,
) -> Result<PathBuf, String> {
    let bin = format!("node_modules/.bin/{command}");
    Ok(npm_install(installed, name, package, &bin)?.join(bin))
}

/// Installs an npm package into the cache dir `name` unless `marker` (a path in it)
/// exists; returns the directory.
fn npm_install(
    installed: &mut Vec<String>,
    name: &str,
    package: &str,
    marker: &str,
) -> Result<PathBuf, String> {
    let dir = cache_root()?.join(name);
    let marker = dir.join(marker);
    if !marker.exists() {
        announce(
            installed,
            package,
            &format!("npm, from the npm registry, into {}", dir.display()),
        );
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(package))?;
    }
    if marker.exists() {
        Ok(dir)
    } else {
        Err(format!(
            "npm installed {package} but {} is missing",
            marker.display()
        ))
    }
}

/// The tool, if it answers `arg` with success.
fn runs(bin: PathBuf, arg: &str) -> Result<PathBuf, String> {
    let ok = Command::new(&bin)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(bin)
    } else {
        Err(format!("{} does not run (`{arg}` failed)", bin.display()))
    }
}

/// `@action-validator/cli`, which checks action.yml and the workflows.
fn action_validator(installed: &mut Vec<String>) -> Result<PathBuf, String> {
    let bin = npm_tool(
        installed,
        "action-validator",
        "@action-validator/cli",
        "action-validator",
    )?;
    runs(bin, "--help")
}

/// Microsoft's SARIF validator from npm, in the cache dir; returns its path.
fn sarif_multitool(installed: &mut Vec<String>) -> Result<PathBuf, String> {
    let dir = cache_root()?.join("sarif");
    let bin = npm_tool(
        installed,
        "sarif",
        "@microsoft/sarif-multitool",
        "sarif-multitool",
    )?;
    // npm may skip the package's postinstall (chmod u+x of the .NET binary).
    let modules = dir.join("node_modules/@microsoft");
    if let Ok(rd) = std::fs::read_dir(&modules) {
        for e in rd.flatten() {
            let exe = e.path().join("Sarif.Multitool");
            if exe.exists() {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755));
            }
        }
    }
    runs(bin, "--version")
}

/// sigstore-js's verifier (`@sigstore/verify`, which brings `@sigstore/bundle`), for
/// tests/validators/verify_sigstore_bundle.js; returns the directory holding
/// node_modules.
fn sigstore_js(installed: &mut Vec<String>) -> Result<PathBuf, String> {
    npm_install(
        installed,
        "sigstore-js",
        "@sigstore/verify@4.1.3",
        "node_modules/@sigstore/verify/package.json",
    )
}

/// Everything the tests need; returns the environment the test run gets. What it
/// installs is added to `installed`.
pub fn ensure(installed: &mut Vec<String>) -> Result<Vec<(String, PathBuf)>, String> {
    system_tools(installed)?;
    cargo_tools(installed)?;
    let sarif = sarif_multitool(installed)?;
    let validator = action_validator(installed)?;
    let venv = python_tools(installed)?;
    let sigstore = sigstore_js(installed)?;
    Ok(vec![
        ("SARIF_MULTITOOL".into(), sarif),
        ("ACTION_VALIDATOR".into(), validator),
        ("CSR_VENV".into(), venv),
        ("SIGSTORE_JS".into(), sigstore),
    ])
}
