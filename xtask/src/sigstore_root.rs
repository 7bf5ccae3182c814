//! `cargo xtask sigstore-root [FILE]`: refreshes the Sigstore public-good trusted
//! root the binary embeds (`assets/sigstore/trusted_root.json` and its `SOURCE`
//! note) from sigstore-python's package on PyPI, which ships the root in its wheel:
//! the newest release through pip, or FILE (a sigstore wheel, or a
//! trusted_root.json fetched another way). GitHub, where Sigstore's TUF repository
//! is mirrored, is not needed.

use std::path::{Path, PathBuf};
use std::process::Command;

const MEMBER: &str = "sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json";

pub fn run() -> Result<(), String> {
    let root = crate::workspace_root()?;
    let tmp = std::env::temp_dir().join(format!("xtask-sigstore-root-{}", std::process::id()));
    let given = std::env::args().nth(2).map(PathBuf::from);
    let result = refresh(&root, given, &tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn refresh(root: &Path, given: Option<PathBuf>, tmp: &Path) -> Result<(), String> {
    let from = match given {
        Some(p) => p,
        None => download(tmp)?,
    };
    let name = from
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: no file name", from.display()))?
        .to_string();
    let (json, package, file) = match name.ends_with(".whl") {
        true => {
            let version = name
                .strip_prefix("sigstore-")
                .and_then(|r| r.split('-').next())
                .ok_or_else(|| {
                    format!("{name} is not a sigstore wheel (sigstore-VERSION-….whl)")
                })?;
            (
                unzip_member(&from, MEMBER)?,
                format!("sigstore {version} from PyPI"),
                format!("{name}, member {MEMBER}"),
            )
        }
        false => (
            std::fs::read(&from).map_err(|e| format!("{}: {e}", from.display()))?,
            format!("{name}, given to cargo xtask sigstore-root"),
            name.clone(),
        ),
    };
    let text = String::from_utf8(json).map_err(|_| format!("{name}: the root is not UTF-8"))?;
    let roots = cargo_secure_release::sigstore::root::parse(&text, &name)?;
    let [one] = roots.as_slice() else {
        return Err(format!(
            "{name} holds {} roots; the embedded one is one",
            roots.len()
        ));
    };
    let t = &one.trusted;
    if t.tlogs.is_empty() || t.certificate_authorities.is_empty() || t.ctlogs.is_empty() {
        return Err(format!(
            "{name} lacks a transparency log, a certificate authority or a CT log: not the public-good root"
        ));
    }
    let digest = |b: &[u8]| cargo_secure_release::digest::sha256_hex(b);
    let source_digest = std::fs::read(&from)
        .map(|b| digest(&b))
        .map_err(|e| format!("{}: {e}", from.display()))?;
    let dest = root.join("assets/sigstore");
    let old = std::fs::read(dest.join("trusted_root.json")).unwrap_or_default();
    let taken = today()?;
    let note = format!(
        "The Sigstore public-good trusted root that `verify --bundle` trusts without
--trusted-root (compiled into the binary by src/sigstore/root.rs).

package: {package}
file: {file}
wheel-sha256: {source_digest}
trusted_root-sha256: {}
taken: {taken}

sigstore-python ships this copy of the trusted_root.json target of Sigstore's TUF
repository (tuf-repo-cdn.sigstore.dev) in its package, beside the TUF root it
bootstraps from. Refresh with `cargo xtask sigstore-root` (downloads the newest
sigstore wheel with pip) or `cargo xtask sigstore-root FILE` (a wheel or a
trusted_root.json you fetched yourself), then review the diff: a new key here is a
new key every user of this binary trusts.
",
        digest(text.as_bytes())
    );
    std::fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    std::fs::write(dest.join("trusted_root.json"), &text).map_err(|e| e.to_string())?;
    std::fs::write(dest.join("SOURCE"), note).map_err(|e| e.to_string())?;
    eprintln!(
        "xtask: wrote {} from {package} ({})",
        dest.join("trusted_root.json").display(),
        match old == text.as_bytes() {
            true => "unchanged",
            false => "changed: review the diff",
        }
    );
    Ok(())
}

/// The newest sigstore wheel, by pip (PyPI's own client), without its dependencies.
fn download(tmp: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(tmp).map_err(|e| e.to_string())?;
    eprintln!(
        "xtask: pip download sigstore (the wheel only) into {}",
        tmp.display()
    );
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "sigstore",
            "--no-deps",
            "--only-binary=:all:",
            "-q",
            "-d",
        ])
        .arg(tmp)
        .status()
        .map_err(|e| format!("could not run python3 -m pip: {e}"))?;
    if !status.success() {
        return Err("pip download sigstore failed (see above)".into());
    }
    std::fs::read_dir(tmp)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| "pip downloaded no wheel".to_string())
}

/// One member of a zip archive (a wheel), by Python's zipfile: no zip crate here.
fn unzip_member(archive: &Path, member: &str) -> Result<Vec<u8>, String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))",
        ])
        .arg(archive)
        .arg(member)
        .output()
        .map_err(|e| format!("could not run python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{} has no {member}: {}",
            archive.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

fn today() -> Result<String, String> {
    let out = Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .map_err(|e| format!("could not run date: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
