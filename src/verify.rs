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
        // The tagged tree's own workflows, not those of wherever it was extracted.
        workflows: crate::options::WorkflowSource::Dir(tmp.path().to_path_buf()),
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

/// `verify --artifact FILE…`: each file against `SHA256SUMS` and its signature, and
/// against the provenance's subjects; the provenance's commit against the tag it
/// names; that tag by the rules of `verify`. Offline: git objects and local files.
pub fn run_artifacts(opts: &VerifyOptions, shell: &Shell) -> Result<VerifyReport> {
    use crate::attestation::{self, dsse, provenance, sums};
    use crate::error::Failure;
    use crate::report::verify::{ArtifactCheck, Signature};
    let start = opts.repo.clone().unwrap_or_else(|| ".".into());
    let repo = Repo::discover(&start)?;
    let shown = |p: &std::path::Path| escape(&p.display().to_string());
    let first = &opts.artifacts[0];
    let sums_path = match &opts.sums {
        Some(p) => p.clone(),
        None => first
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(attestation::SUMS),
    };
    let sums_dir = sums_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .to_path_buf();
    let sums_text = crate::fsutil::read_text(&sums_path, crate::fsutil::TEXT_LIMIT, "SHA256SUMS")?;
    let env_path = opts
        .attestation
        .clone()
        .unwrap_or_else(|| sums_dir.join(attestation::PROVENANCE));
    let env_text =
        crate::fsutil::read_text(&env_path, crate::fsutil::TEXT_LIMIT, "provenance file")?;

    let mut checks: Vec<ArtifactCheck> = Vec::new();
    let bad_report = |tag: &str, checks: Vec<ArtifactCheck>| VerifyReport {
        tag: tag.to_string(),
        signature: Signature::Bad {
            reason: String::new(),
        },
        notes: Vec::new(),
        claims: Vec::new(),
        audit: None,
        artifacts: checks,
        bundle: None,
    };
    let check =
        |claim: &'static str, file: &std::path::Path, holds: bool, message: String| ArtifactCheck {
            claim,
            file: file.display().to_string(),
            holds,
            message,
        };
    // The provenance: one envelope of our SLSA statement (its signature is judged
    // once the keys are known, from the tag it names).
    let statement = env_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(dsse::Envelope::parse)
        .find_map(|e| {
            let e = e.ok()?;
            let payload = e.payload_bytes().ok()?;
            let read = provenance::read(&payload).ok()?;
            Some((e, payload, read))
        });
    let Some((envelope, payload, read)) = statement else {
        let tag = opts.tag.clone();
        checks.push(check(
            "provenance",
            &env_path,
            false,
            format!(
                "{} holds no DSSE envelope of this tool's SLSA provenance statement",
                shown(&env_path)
            ),
        ));
        let mut r = bad_report(&tag, checks);
        r.signature = Signature::Bad {
            reason: format!(
                "the release files' provenance ({}) cannot be read",
                shown(&env_path)
            ),
        };
        return Ok(r);
    };
    if !opts.tag.is_empty() && opts.tag != read.tag {
        return Err(Failure::new(format!(
            "{} is the provenance of `{}`, not of `{}`",
            shown(&env_path),
            escape(&read.tag),
            escape(&opts.tag)
        ))
        .help("name the release's own provenance with --attestation, or leave TAG out")
        .refusal()
        .into());
    }
    let mut tag_opts = opts.clone();
    tag_opts.tag = read.tag.clone();
    let checked = crate::trust::check_tag(&repo, &tag_opts)?;
    let mut report = checked.report;
    if !report.good() {
        return Ok(report);
    }
    let push = |report: &mut VerifyReport, c: ArtifactCheck| -> bool {
        let holds = c.holds;
        report.artifacts.push(c);
        holds
    };

    // The provenance's commit is the tag's.
    let tagged = repo
        .resolve_commit(&format!("refs/tags/{}", read.tag))
        .unwrap_or_default();
    let same = tagged == read.commit;
    let msg = match same {
        true => format!(
            "{} names commit {} of tag `{}`",
            shown(&env_path),
            escape(&read.commit),
            escape(&read.tag)
        ),
        false => format!(
            "{} names commit {} as the source of `{}`, but the tag is on commit {tagged}",
            shown(&env_path),
            escape(&read.commit),
            escape(&read.tag)
        ),
    };
    if !push(&mut report, check("commit", &env_path, same, msg)) {
        return Ok(report);
    }

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // SHA256SUMS's signature, by the keys that judged the tag, in the file namespace.
    let (sig_path, sig) = [attestation::SUMS_SSH_SIG, attestation::SUMS_OPENPGP_SIG]
        .iter()
        .map(|n| sums_dir.join(n))
        .find(|p| p.exists())
        .map(|p| {
            let bytes = crate::fsutil::read_bounded(&p, crate::fsutil::KEY_LIMIT, "signature");
            (p, bytes)
        })
        .unwrap_or_else(|| (sums_dir.join(attestation::SUMS_SSH_SIG), Ok(Vec::new())));
    let sig = sig?;
    let verdict = match sig.is_empty() {
        true => Err(format!(
            "{} has no signature beside it ({} or {})",
            shown(&sums_path),
            attestation::SUMS_SSH_SIG,
            attestation::SUMS_OPENPGP_SIG
        )),
        false => {
            match crate::sig::check::check_file(&checked.keys, sums_text.as_bytes(), &sig, now) {
                crate::sig::check::Verdict::Good(signer) => Ok(format!(
                    "{} is signed by {} ({})",
                    shown(&sums_path),
                    signer.fingerprint(),
                    shown(&sig_path)
                )),
                crate::sig::check::Verdict::Bad(why) => Err(format!("{}: {why}", shown(&sig_path))),
                crate::sig::check::Verdict::NoKeys(format) => Err(format!(
                    "{} is signed with {}, and the keys that judge `{}` hold no such key",
                    shown(&sig_path),
                    format.name(),
                    escape(&read.tag)
                )),
            }
        }
    };
    let (holds, msg) = match verdict {
        Ok(m) => (true, m),
        Err(m) => (false, m),
    };
    if !push(&mut report, check("sums-signature", &sig_path, holds, msg)) {
        return Ok(report);
    }

    // The provenance's signature: by a key those keys allow to sign files.
    let signer = dsse_signer(&checked.keys, &envelope, &payload, now);
    let (holds, msg) = match (envelope.payload_type == dsse::IN_TOTO, signer) {
        (false, _) => (
            false,
            format!(
                "{}: the envelope's payload type is `{}`, not in-toto's",
                shown(&env_path),
                escape(&envelope.payload_type)
            ),
        ),
        (true, Some(who)) => (true, format!("{} is signed by {who}", shown(&env_path))),
        (true, None) => (
            false,
            format!(
                "{}: no key that may sign files for `{}` made its signature: the provenance was changed or signed by another key",
                shown(&env_path),
                escape(&read.tag)
            ),
        ),
    };
    if !push(&mut report, check("provenance", &env_path, holds, msg)) {
        return Ok(report);
    }

    // Each file: in SHA256SUMS and in the provenance's subjects, by name and digest.
    let listed = match sums::parse(&sums_text) {
        Ok(l) => l,
        Err(why) => {
            push(
                &mut report,
                check(
                    "sums",
                    &sums_path,
                    false,
                    format!("{}: {why}", shown(&sums_path)),
                ),
            );
            return Ok(report);
        }
    };
    let base = crate::fsutil::resolved_dir(&sums_dir)?;
    let mut named: Vec<(std::path::PathBuf, String, String)> = Vec::new();
    for file in &opts.artifacts {
        let (sha256, _) = crate::fsutil::sha256_file(file, "release file")?;
        let full = std::fs::canonicalize(file)
            .map_err(|e| Failure::new(format!("could not resolve {}: {e}", shown(file))))?;
        let name = crate::fsutil::relative_path(&full, &base).unwrap_or_default();
        let (holds, msg) = match listed.iter().find(|l| l.entry.name == name) {
            None => (
                false,
                format!(
                    "{} is not listed in {} (as `{}`)",
                    shown(file),
                    shown(&sums_path),
                    escape(&name)
                ),
            ),
            Some(l) if l.entry.sha256 != sha256 => (
                false,
                format!(
                    "{}: its SHA-256 is {sha256}, but line {} of {} says {}: the file is not the one released",
                    shown(file),
                    l.line,
                    shown(&sums_path),
                    l.entry.sha256
                ),
            ),
            Some(l) => (
                true,
                format!(
                    "{} matches line {} of {} ({sha256})",
                    shown(file),
                    l.line,
                    shown(&sums_path)
                ),
            ),
        };
        if !push(&mut report, check("sums", file, holds, msg)) {
            return Ok(report);
        }
        let subject = read.subjects.iter().find(|s| s.name == name);
        let (holds, msg) = match subject {
            Some(s) if s.sha256 == sha256 => (
                true,
                format!("{} is a subject of {}", shown(file), shown(&env_path)),
            ),
            Some(s) => (
                false,
                format!(
                    "{}: the provenance's subject `{}` has SHA-256 {}, not {sha256}",
                    shown(file),
                    escape(&name),
                    escape(&s.sha256)
                ),
            ),
            None => (
                false,
                format!("{} is not a subject of {}", shown(file), shown(&env_path)),
            ),
        };
        if !push(&mut report, check("subject", file, holds, msg)) {
            return Ok(report);
        }
        named.push((file.clone(), name, sha256));
    }
    let lists = match binaries_against_sboms(&env_text, &env_path, &checked.keys, now, &named)? {
        Ok(lists) => lists,
        Err(bad) => {
            report.artifacts.extend(bad);
            return Ok(report);
        }
    };
    if opts.audit && lists.is_empty() {
        report.notes.push(
            "--audit: no binary among the files embeds a dependency list (cargo auditable's): nothing was audited".into(),
        );
    }
    if opts.audit && report.good() && !lists.is_empty() {
        let check = crate::options::CheckOptions::for_release(
            repo.workdir().as_deref(),
            opts.offline,
            opts.advisory_db.clone(),
        );
        let progress = shell.progress();
        progress.step("Auditing the release binaries' packages");
        let audit = crate::gate::release::audit_lists(&check, &lists.checked_lists)?;
        progress.finish();
        report.audit = Some(TaggedAudit {
            report: audit,
            sbom: None,
        });
    }
    report.artifacts.extend(lists.checks);
    report.notes.extend(lists.notes);
    Ok(report)
}

/// Who, among the keys that may sign release files, made one of a DSSE envelope's
/// signatures over its PAE (the provenance's and the SBOM statements' signer): an
/// SSH key allowed the `file` namespace and not revoked (named by its fingerprint
/// and allowed-signers line), or a signing key of an OpenPGP certificate of the
/// policy (or `--signer`), valid now. None when no such key made any of them.
fn dsse_signer(
    keys: &crate::sig::check::Keys,
    envelope: &crate::attestation::dsse::Envelope,
    payload: &[u8],
    now: i64,
) -> Option<String> {
    let pae = crate::attestation::dsse::pae(&envelope.payload_type, payload);
    let sigs = envelope.signature_bytes();
    let made_one = |key: &ssh_key::public::KeyData| {
        sigs.iter()
            .any(|s| crate::sig::ssh::verify_plain(key, &pae, s))
    };
    if let Some(allowed) = &keys.ssh {
        let found = allowed.entries.iter().find(|e| {
            allowed
                .authorize_in(&e.key, None, crate::sig::ssh::FILE_NAMESPACE, now)
                .is_ok()
                && crate::sig::ssh::allowed::revocation(&keys.revoked, &e.key).is_none()
                && made_one(&e.key)
        });
        if let Some(e) = found {
            return Some(format!(
                "{} ({}:{})",
                e.key.fingerprint(ssh_key::HashAlg::Sha256),
                escape(&allowed.origin),
                e.line
            ));
        }
    }
    crate::sig::openpgp::plain_signers(&keys.openpgp)
        .into_iter()
        .find(|(cert, key, plain)| keys.openpgp_admits(cert, key) && made_one(plain))
        .map(|(cert, key, _)| format!("OpenPGP key {key} of certificate {cert}"))
}

/// The binaries' checks that held, and their embedded lists for `--audit`.
#[derive(Default)]
struct Lists {
    checks: Vec<crate::report::verify::ArtifactCheck>,
    /// The archives whose binaries were not looked at.
    notes: Vec<String>,
    checked_lists: Vec<(String, Vec<crate::artifact::EmbeddedPackage>)>,
}

impl Lists {
    fn is_empty(&self) -> bool {
        self.checked_lists.is_empty()
    }
}

/// Each binary among the files and inside their archives: its embedded
/// dependency list is, package for package, the SBOM statement about it (a
/// statement signed as the provenance is). Err: the checks up to the first that
/// does not hold.
fn binaries_against_sboms(
    env_text: &str,
    env_path: &std::path::Path,
    keys: &crate::sig::check::Keys,
    now: i64,
    named: &[(std::path::PathBuf, String, String)],
) -> Result<std::result::Result<Lists, Vec<crate::report::verify::ArtifactCheck>>> {
    use crate::attestation::{dsse, sbom_statement};
    use crate::report::verify::ArtifactCheck;
    let shown_env = escape(&env_path.display().to_string());
    let mut out = Lists::default();
    let check = |file: &std::path::Path, holds: bool, message: String| ArtifactCheck {
        claim: "sbom",
        file: file.display().to_string(),
        holds,
        message,
    };
    let mut statements = Vec::new();
    for (n, line) in env_text.lines().enumerate() {
        let Ok(envelope) = dsse::Envelope::parse(line) else {
            continue;
        };
        let Ok(payload) = envelope.payload_bytes() else {
            continue;
        };
        let Some(read) = sbom_statement::read(&payload) else {
            continue;
        };
        let bad = match (read, dsse_signer(keys, &envelope, &payload, now)) {
            (Err(why), _) => format!("{shown_env} line {}: {why}", n + 1),
            (Ok(_), None) => format!(
                "{shown_env} line {}: no key that may sign files made the SBOM statement's signature: it was changed or signed by another key",
                n + 1
            ),
            (Ok(read), Some(_)) => {
                statements.push(read);
                continue;
            }
        };
        out.checks.push(check(env_path, false, bad));
        return Ok(Err(out.checks));
    }
    let files: Vec<crate::gate::release::ReleaseFile<'_>> = named
        .iter()
        .map(|(path, name, sha256)| crate::gate::release::ReleaseFile { path, name, sha256 })
        .collect();
    let found = crate::gate::release::find(&files)?;
    out.notes = found.unopened_notes();
    for b in &found.binaries {
        let shown = escape(&b.shown);
        let subject = escape(&b.subject);
        let list = crate::artifact::embedded_list(&b.path, &b.shown)?;
        let statement = statements.iter().find(|s| s.subject.name == b.subject);
        let file = std::path::Path::new(&b.shown);
        let (holds, message) = match (&list, statement) {
            (None, None) => (
                true,
                format!("{shown} embeds no dependency list, and {shown_env} has no SBOM statement about `{subject}`: nothing to compare"),
            ),
            (None, Some(_)) => (
                false,
                format!("{shown} embeds no dependency list, but {shown_env} has an SBOM statement about `{subject}`: the binary is not the one attested"),
            ),
            (Some(_), None) => (
                false,
                format!("{shown} embeds a dependency list, but {shown_env} has no SBOM statement about `{subject}`"),
            ),
            (Some(_), Some(s)) if s.subject.sha256 != b.sha256 => (
                false,
                format!(
                    "{shown}: the SBOM statement about `{subject}` is of SHA-256 {}, not this binary's {}",
                    escape(&s.subject.sha256),
                    b.sha256
                ),
            ),
            (Some(list), Some(s)) => {
                let mut ours: Vec<(String, String)> = list
                    .iter()
                    .map(|p| (p.name.clone(), p.version.clone()))
                    .collect();
                ours.sort();
                match differences(&ours, &s.packages) {
                    None => (
                        true,
                        format!(
                            "{shown}'s embedded dependency list is the {} packages of the SBOM statement about `{subject}`",
                            ours.len()
                        ),
                    ),
                    Some(why) => (
                        false,
                        format!("{shown}: its embedded dependency list is not the SBOM statement's about `{subject}`: {why}"),
                    ),
                }
            }
        };
        out.checks.push(check(file, holds, message));
        if !holds {
            return Ok(Err(out.checks));
        }
        if let Some(list) = list {
            out.checked_lists.push((b.shown.clone(), list));
        }
    }
    Ok(Ok(out))
}

/// What differs between two sorted package lists, as a sentence; None when equal.
fn differences(embedded: &[(String, String)], sbom: &[(String, String)]) -> Option<String> {
    let name = |p: &&(String, String)| format!("{} {}", escape(&p.0), escape(&p.1));
    let only = |a: &[(String, String)], b: &[(String, String)]| -> Vec<String> {
        a.iter()
            .filter(|p| !b.contains(p))
            .take(5)
            .map(|p| name(&p))
            .collect()
    };
    let (extra, missing) = (only(embedded, sbom), only(sbom, embedded));
    if embedded == sbom {
        return None;
    }
    let mut parts = Vec::new();
    if !extra.is_empty() {
        parts.push(format!(
            "it embeds {}, which the statement does not list",
            extra.join(", ")
        ));
    }
    if !missing.is_empty() {
        parts.push(format!(
            "the statement lists {}, which it does not embed",
            missing.join(", ")
        ));
    }
    if parts.is_empty() {
        parts.push("the same packages, listed a different number of times".into());
    }
    Some(parts.join("; "))
}

/// `verify --artifact FILE --bundle BUNDLE`: a Sigstore bundle over FILE, judged by
/// `sigstore` against the trusted roots named (or the embedded public-good root)
/// and the signer the command line requires. Offline: local files only.
pub fn run_bundle(opts: &crate::options::BundleOptions, shell: &Shell) -> Result<VerifyReport> {
    use crate::error::Failure;
    use crate::fsutil::{read_text, TEXT_LIMIT};
    use crate::report::verify::Signature;
    use crate::sigstore::{self, Artifact, Names};
    let shown = |p: &std::path::Path| escape(&p.display().to_string());
    let bundle_name = opts.bundle.display().to_string();
    let text = read_text(&opts.bundle, TEXT_LIMIT, "Sigstore bundle")?;
    let bundles = sigstore::parse_bundles(&text).map_err(|why| {
        Failure::new(format!("{}: {why}", shown(&opts.bundle)))
            .help("pass the bundle itself (`*.sigstore.json`, or the JSON Lines `gh attestation download` writes)")
    })?;
    let roots = match &opts.trusted_root {
        Some(path) => {
            let text = read_text(path, TEXT_LIMIT, "trusted root")?;
            sigstore::root::parse(&text, &path.display().to_string()).map_err(|why| {
                Failure::new(format!("{}: {why}", shown(path))).help(
                    "pass Sigstore's trusted_root.json, or the output of `gh attestation trusted-root`",
                )
            })?
        }
        None => vec![sigstore::root::embedded().map_err(Failure::new)?],
    };
    if shell.verbose > 0 {
        for root in &roots {
            shell.status(&format!("trusted root: {}", escape(&root.origin)));
        }
    }
    let expected = expected_signer(opts)?;
    let [artifact_path] = opts.artifacts.as_slice() else {
        return Err(Failure::new(format!(
            "verify --bundle judges one artifact, and {} were given",
            opts.artifacts.len()
        ))
        .help("run it once per file, each with its own bundle")
        .into());
    };
    let digest = artifact_path
        .to_str()
        .filter(|_| !artifact_path.exists())
        .and_then(|s| s.strip_prefix("sha256:"))
        .and_then(crate::digest::from_hex);
    let path = artifact_path.clone();
    let open = move || -> std::io::Result<Box<dyn std::io::Read>> {
        Ok(Box::new(crate::fsutil::open_regular(&path)?))
    };
    let artifact = match digest {
        Some(d) => Artifact::Sha256(d),
        None => Artifact::Open(&open),
    };
    let artifact_name = artifact_path.display().to_string();
    let names = Names {
        bundle: &bundle_name,
        artifact: &artifact_name,
    };
    let judged = sigstore::verify(&bundles, &artifact, &roots, &expected, &names).map_err(|e| {
        Failure::new(format!(
            "could not read the artifact {}: {}",
            shown(artifact_path),
            escape(&e)
        ))
    })?;
    Ok(VerifyReport {
        tag: String::new(),
        signature: match judged.verdict {
            crate::sig::check::Verdict::Good(signer) => Signature::Good(signer.reported()),
            crate::sig::check::Verdict::Bad(reason) => Signature::Bad { reason },
            crate::sig::check::Verdict::NoKeys(_) => Signature::Bad {
                reason: format!("{}: no key to judge it", shown(&opts.bundle)),
            },
        },
        notes: judged.notes,
        claims: Vec::new(),
        audit: None,
        artifacts: judged.checks,
        bundle: Some(bundle_name),
    })
}

/// Who must have signed, from the command line: refused (exit 2) when it names
/// nobody, a repository not as `OWNER/REPO`, or a key that is not a PEM public key.
fn expected_signer(opts: &crate::options::BundleOptions) -> Result<crate::sigstore::Expected> {
    use crate::error::Failure;
    use crate::options::BundleSigner;
    use crate::sigstore::Expected;
    let who = "name who must have signed: --identity SAN --issuer URL, --repo OWNER/REPO, or --key PUBKEY.pem";
    Ok(match &opts.signer {
        None => {
            return Err(
                Failure::new("verify --bundle needs the signer it must find")
                    .help(who)
                    .into(),
            )
        }
        Some(BundleSigner::Identity { san, issuer }) => Expected::Identity {
            san: san.clone(),
            issuer: issuer.clone(),
        },
        Some(BundleSigner::Github {
            repo,
            workflow,
            git_ref,
        }) => {
            let name_ok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            };
            match repo.split_once('/') {
                Some((owner, name)) if name_ok(owner) && name_ok(name) => {}
                _ => {
                    return Err(Failure::new(format!(
                        "--repo `{}`: with --bundle, name the GitHub repository as OWNER/REPO",
                        escape(repo)
                    ))
                    .help("e.g. --repo rust-lang/cargo")
                    .into())
                }
            }
            Expected::Github {
                repo: repo.clone(),
                workflow: workflow.clone(),
                git_ref: git_ref.clone(),
            }
        }
        Some(BundleSigner::Key { path, ignore_tlog }) => {
            let pem = crate::fsutil::read_text(path, crate::fsutil::KEY_LIMIT, "public key")?;
            let key = crate::sigstore::parse_key(&pem).map_err(|why| {
                Failure::new(format!("{}: {why}", escape(&path.display().to_string())))
                    .help("pass the public key in PEM (`-----BEGIN PUBLIC KEY-----`), as `cosign generate-key-pair` writes it")
            })?;
            Expected::Key {
                key,
                origin: path.display().to_string(),
                ignore_tlog: *ignore_tlog,
            }
        }
    })
}
