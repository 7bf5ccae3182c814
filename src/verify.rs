//! `cargo secure-release verify`: check a tag's signature (OpenPGP with sequoia, SSH
//! with the allowed-signers rules of `ssh-keygen -Y verify`) against keys the
//! verifier names or the repository's signer policy, then check the claims the
//! tag's trailer makes against the tagged tree (the rules live in `trust`, which
//! `attest` and `verify --artifact` share); `--audit` audits the tagged tree.

use crate::error::escape;
use crate::git::Repo;
use crate::options::VerifyOptions;
use crate::release::claims::{Claims, Key};
use crate::report::verify::{TaggedAudit, VerifyReport};
use crate::shell::Shell;
use crate::trust::Claim;
use anyhow::Result;

pub fn run(opts: &VerifyOptions, shell: &Shell) -> Result<VerifyReport> {
    let start = opts.repo.clone().unwrap_or_else(|| ".".into());
    let repo = Repo::discover(&start)?;
    let checked = crate::trust::check_tag(&repo, opts)?;
    let mut report = checked.report;
    if !report.good() {
        return Ok(report);
    }
    if let (true, Some(claims)) = (opts.audit, &checked.claims) {
        report.audit = Some(audit_tagged(&repo, opts, claims, shell)?);
    }
    Ok(report)
}

/// The audit of the release as tagged: its tree extracted from git objects into a
/// temporary directory, the package the tag names selected, and today's database.
fn audit_tagged(
    repo: &Repo,
    opts: &VerifyOptions,
    claims: &Claims,
    shell: &Shell,
) -> Result<TaggedAudit> {
    use crate::options::{CheckOptions, Fix, ManifestOptions};
    /// Far above any source tree a crate is released from.
    const TREE_LIMIT: u64 = 1 << 30;
    let tmp = tempfile::Builder::new()
        .prefix("secure-release-verify-")
        .tempdir()?;
    repo.extract_tree(&format!("refs/tags/{}", opts.tag), tmp.path(), TREE_LIMIT)?;
    // The claim was checked before: here it only says which package to audit.
    let (manifest, package) = match &claims.package {
        Some(p) => (p.manifest.as_str(), Some(p.name.clone())),
        None => ("Cargo.toml", None),
    };
    let check = CheckOptions {
        manifest: ManifestOptions {
            manifest_path: Some(tmp.path().join(manifest)),
            packages: package.into_iter().collect(),
            offline: opts.offline,
            frozen: false,
            // The tagged tree is audited as it was committed.
            locked: true,
        },
        advisory_db: opts.advisory_db.clone(),
        // The tree lives in a fresh directory each time: nothing to reuse.
        cache: crate::options::CacheUse::Off,
        ..Default::default()
    };
    let progress = shell.progress();
    progress.step(crate::workspace::READING);
    let manifest =
        crate::workspace::resolve_manifest_path(check.manifest.manifest_path.as_deref())?;
    let session = crate::gate::Session::open(&check, manifest, &progress)?;
    let (report, ws) = session.run(Fix::No, &Default::default(), &progress, shell)?;
    progress.finish();
    let sbom = match check.manifest.packages.first() {
        Some(package) => check_sbom_claim(repo, opts, claims, &ws, package)?,
        None => Claim::Absent,
    };
    Ok(TaggedAudit {
        report,
        sbom: sbom.checked(Key::SbomSha256),
    })
}

/// `Sbom-sha256: HASH (CycloneDX, TRIPLE)` recomputed from the extracted tree for that
/// platform, dated by the tagged commit. Only a tag made by this version of the tool
/// can be held to it: another version may write the document differently.
fn check_sbom_claim(
    repo: &Repo,
    opts: &VerifyOptions,
    claims: &Claims,
    ws: &crate::workspace::Workspace,
    package: &str,
) -> Result<Claim> {
    let (Some(sbom), Some(line)) = (&claims.sbom, claims.line(Key::SbomSha256)) else {
        return Ok(Claim::Absent);
    };
    let ours = format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    let maker = claims.released_with.as_deref();
    let (Some(triple), true) = (&sbom.platform, maker == Some(ours.as_str())) else {
        return Ok(Claim::Holds(format!(
            "Sbom-sha256 (line {line}) not recomputed: the tag was made by {}, without its platform or by another version than {ours}",
            escape(maker.unwrap_or("another tool"))
        )));
    };
    let Some(epoch) = repo.commit_time(&format!("refs/tags/{}", opts.tag)) else {
        return Ok(Claim::Absent);
    };
    // The platform is part of the signed claim: one rustc does not know is a claim
    // that cannot hold, not a failure to run.
    let Ok(platform) = crate::platform::Platform::of(Some(triple)) else {
        return Ok(Claim::Broken(format!(
            "line {line} names the platform `{}`, which rustc does not know: the SBOM claim cannot be recomputed",
            escape(triple)
        )));
    };
    let (actual, _) = crate::bom::release_digest(ws, package, epoch, Some(platform))?;
    Ok(if actual == sbom.sha256 {
        Claim::Holds(format!(
            "Sbom-sha256 (line {line}) matches the SBOM of the tagged tree for {}",
            escape(triple)
        ))
    } else {
        Claim::Broken(format!(
            "line {line} says Sbom-sha256 {}, but the tagged tree's SBOM for {} hashes to {actual}",
            escape(&sbom.sha256),
            escape(triple)
        ))
    })
}
