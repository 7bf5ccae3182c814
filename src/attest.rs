//! `cargo secure-release attest`: the files users download, tied to the signed tag
//! they were built from. A plan: find the release tag (at HEAD, or `--tag`), hash
//! the files, check every gate (the tag verifies by `verify`'s rules under the
//! signer policy, the key is allowed by that policy to sign files, nothing would be
//! overwritten), and only then unlock the key, sign and write every file at once.
//! A refusal writes nothing.

use crate::attestation::{self, sums};
use crate::error::{escape, Failure};
use crate::git::{Repo, Tag};
use crate::options::{AttestOptions, SignFormat, VerifyOptions};
use crate::report::attest::{AttestReport, AttestedFile};
use crate::shell::Shell;
use crate::sig::policy::Trusted;
use crate::sig::sign;
use anyhow::Result;
use std::path::{Path, PathBuf};

pub fn run(opts: &AttestOptions, shell: &Shell) -> Result<AttestReport> {
    if opts.files.is_empty() && !opts.artifacts {
        return Err(Failure::new("no files to attest")
            .help("name the release's archives and binaries: `cargo secure-release attest dist/*.tar.gz`")
            .into());
    }
    let start = opts.repo.clone().unwrap_or_else(|| ".".into());
    let repo = Repo::discover(&start)?;
    let tag = match &opts.tag {
        Some(t) => t.clone(),
        None => tag_at_head(&repo)?,
    };
    let shown_tag = escape(&tag);
    let out_dir = opts.output_dir.clone().unwrap_or_else(|| ".".into());

    // The files first: a missing one is a usage error before any verdict.
    let progress = shell.progress();
    progress.step("Hashing the release files");
    let paths = release_paths(opts, &repo)?;
    let files = hash_files(&paths, &out_dir, opts.minisign)?;
    progress.finish();

    // The tag verifies, by `verify`'s rules, under the signer policy.
    let checked = crate::trust::check_tag(
        &repo,
        &VerifyOptions {
            tag: tag.clone(),
            trust_root: opts.trust_root.clone(),
            ..Default::default()
        },
    )?;
    if !checked.report.good() {
        let why = match &checked.report.signature {
            crate::report::verify::Signature::Bad { reason } => reason.clone(),
            crate::report::verify::Signature::Good(_) => checked
                .report
                .claims
                .iter()
                .find(|c| !c.holds)
                .map(|c| c.message.clone())
                .unwrap_or_default(),
        };
        return Err(Failure::new(format!(
            "tag `{shown_tag}` does not verify: {why}; nothing was written"
        ))
        .help(format!(
            "see `cargo secure-release verify {shown_tag}`; only a release whose tag verifies is attested"
        ))
        .refusal()
        .into());
    }
    let Some(trusted) = checked.trusted else {
        return Err(Failure::new(format!(
            "tag `{shown_tag}` verifies, but not by a signer policy: attest signs with a key the policy allows, and there is none"
        ))
        .help(format!(
            "commit a signer policy ({}) and tag the release again",
            crate::sig::policy::table_at(&repo, "HEAD")
        ))
        .into());
    };
    let commit = repo
        .resolve_commit(&format!("refs/tags/{tag}"))
        .ok_or_else(|| Failure::new(format!("tag `{shown_tag}` does not point at a commit")))?;
    let mut notes: Vec<String> = vec![format!(
        "tag {shown_tag} verifies ({})",
        match &checked.report.signature {
            crate::report::verify::Signature::Good(s) => format!(
                "{} signature by {}",
                s.format,
                s.identity.as_deref().unwrap_or(&s.fingerprint)
            ),
            crate::report::verify::Signature::Bad { .. } => String::new(),
        }
    )];
    notes.extend(checked.report.notes.iter().cloned());
    // The tagged Cargo.lock, read once: the binaries' gate and the provenance's digest.
    let tagged_lock = repo.file_at_tag(&tag, "Cargo.lock")?;
    // Every binary, alone or in an archive, passes the artifact checks.
    let sboms = binary_gate(
        opts,
        &repo,
        &tag,
        &commit,
        tagged_lock.as_deref(),
        &files,
        &mut notes,
    )?;

    let format = match opts.key.format {
        Some(f) => f,
        None => policy_format(&trusted, &opts.key, &repo)?,
    };
    let sig_name = match format {
        SignFormat::Ssh => attestation::SUMS_SSH_SIG,
        SignFormat::OpenPgp => attestation::SUMS_OPENPGP_SIG,
    };
    let entries: Vec<sums::Entry> = files.iter().map(|f| f.entry.clone()).collect();
    let sums_text = sums::render(&entries);
    // The key is loaded and judged before anything is written; it is unlocked last.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let key = match opts.dry_run {
        true => None,
        false => Some(sign::load(&opts.key, &repo, format)?),
    };
    let principal = match &key {
        Some(k) => k.check_file_policy(&trusted, now)?,
        None => None,
    };
    // DSSE needs an Ed25519 or ECDSA P-256 key (a dry run, with no key, assumes it),
    // minisign an Ed25519 one: the key's plain public key, found once.
    let plain = key.as_ref().map(|k| k.plain_public(opts.key.agent));
    let provenance = plain.as_ref().is_none_or(Option::is_some);
    if !provenance {
        notes.push(format!(
            "no {}: DSSE envelopes are signed with an Ed25519 or ECDSA P-256 key (an OpenPGP Ed25519 key from its file, not through --agent), and the release key is not one",
            attestation::PROVENANCE
        ));
    }
    let minisign_key = match (&key, opts.minisign) {
        (_, false) => None,
        (None, true) => Some(None),
        (Some(k), true) => match plain.flatten().as_ref().and_then(|p| p.ed25519()) {
            Some(pk) => Some(Some(pk.0)),
            None => {
                return Err(Failure::new(format!(
                    "--minisign signs with an Ed25519 key, and the release key is {}; nothing was written",
                    k.describe()
                ))
                .help("sign with an Ed25519 key the signer policy allows (SSH, or OpenPGP from its key file), or leave out --minisign")
                .refusal()
                .into())
            }
        },
    };
    let mut names = vec![attestation::SUMS.to_string(), sig_name.to_string()];
    if provenance {
        names.push(attestation::PROVENANCE.to_string());
        names.push(attestation::SIGSTORE_BUNDLE.to_string());
    }
    if minisign_key.is_some() {
        names.extend(
            files
                .iter()
                .map(|f| format!("{}{}", f.entry.name, attestation::minisign::SUFFIX)),
        );
    }
    let outputs: Vec<PathBuf> = names.iter().map(|name| out_dir.join(name)).collect();
    for (f, out) in files
        .iter()
        .flat_map(|f| outputs.iter().map(move |o| (f, o)))
    {
        if same_file(&f.path, out) {
            return Err(Failure::new(format!(
                "{} is one of the files attest writes; it cannot be attested",
                escape(&f.path.display().to_string())
            ))
            .help("leave the previous attestation files out of the list")
            .into());
        }
    }
    if !opts.force {
        if let Some(existing) = outputs
            .iter()
            .find(|p| std::fs::symlink_metadata(p).is_ok())
        {
            return Err(Failure::new(format!(
                "{} exists; nothing was written",
                escape(&existing.display().to_string())
            ))
            .help("pass --force to replace the release's attestation files, or --output-dir DIR")
            .into());
        }
    }
    let statement = provenance.then(|| {
        attestation::provenance::statement(&build(
            opts,
            &repo,
            &tag,
            &commit,
            &checked.claims,
            tagged_lock.as_deref(),
            entries.clone(),
        ))
    });
    let mut report = AttestReport {
        tag: tag.clone(),
        commit,
        files: files
            .iter()
            .map(|f| AttestedFile {
                name: f.entry.name.clone(),
                sha256: f.entry.sha256.clone(),
                size: f.size,
            })
            .collect(),
        written: outputs.iter().map(|p| p.display().to_string()).collect(),
        dry_run: opts.dry_run,
        sums: sums_text.clone(),
        signer: None,
        notes,
        check_with: Vec::new(),
        minisign_public_key: minisign_key
            .flatten()
            .map(|pk| attestation::minisign::public_key(&pk)),
    };
    let Some(key) = key else {
        return Ok(report);
    };

    let mut unlocked = key.unlock(&opts.key)?;
    // The plain signatures first: an OpenPGP key makes its one detached signature last.
    let mut signed_later = Vec::new();
    if let Some(statement) = statement {
        use attestation::dsse;
        let payload = serde_json::to_vec(&statement)?;
        let (keyid, sig) = sign_plain(&mut unlocked, &dsse::pae(dsse::IN_TOTO, &payload))?;
        let envelope = dsse::Envelope::new(dsse::IN_TOTO, &payload, &keyid, &sig);
        let mut lines = format!("{}\n", envelope.to_line());
        for sbom in &sboms {
            let payload = serde_json::to_vec(sbom)?;
            let (keyid, sig) = sign_plain(&mut unlocked, &dsse::pae(dsse::IN_TOTO, &payload))?;
            let line = dsse::Envelope::new(dsse::IN_TOTO, &payload, &keyid, &sig).to_line();
            lines.push_str(&line);
            lines.push('\n');
        }
        signed_later.push(lines);
        signed_later.push(attestation::bundle::render(&envelope, &keyid));
    }
    if let Some(Some(pk)) = minisign_key {
        use attestation::minisign;
        // The signing time: SOURCE_DATE_EPOCH when set, so a rebuild signs the same.
        let timestamp = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|e| e.parse().ok())
            .unwrap_or(now);
        for f in &files {
            let prehash = f.prehash.as_deref().unwrap_or_default();
            let comment = minisign::trusted_comment(&f.entry.name, timestamp);
            let sig = ed25519(sign_plain(&mut unlocked, prehash)?.1)?;
            let global =
                ed25519(sign_plain(&mut unlocked, &minisign::global_message(&sig, &comment))?.1)?;
            signed_later.push(minisign::render(&pk, &sig, &comment, &global));
        }
    }
    let signature = unlocked.sign_file(sums_text.as_bytes())?;
    // In the order of `outputs`: SHA256SUMS, its signature, then the rest.
    let contents: Vec<String> = [sums_text, signature]
        .into_iter()
        .chain(signed_later)
        .collect();
    anyhow::ensure!(
        contents.len() == outputs.len(),
        "attest made {} files for {} names",
        contents.len(),
        outputs.len()
    );
    let writes: Vec<(PathBuf, String)> = outputs.into_iter().zip(contents).collect();
    crate::fsutil::write_all_or_none(&writes)?;
    report.signer = Some(key.describe());
    report.check_with = check_hints(&report, &trusted, format, principal.as_deref());
    Ok(report)
}

/// What the provenance says about the build: the options, the toolchain on this
/// machine, the environment the release workflow runs in.
fn build(
    opts: &AttestOptions,
    repo: &Repo,
    tag: &str,
    commit: &str,
    claims: &Option<crate::release::claims::Claims>,
    tagged_lock: Option<&[u8]>,
    subjects: Vec<sums::Entry>,
) -> attestation::provenance::Build {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let rustc = crate::fingerprint::rustc_version_verbose();
    let host = rustc.as_deref().and_then(|v| {
        v.lines()
            .find_map(|l| l.strip_prefix("host: "))
            .map(str::to_string)
    });
    let rustflags = env("CARGO_ENCODED_RUSTFLAGS")
        .map(|f| f.split('\u{1f}').collect::<Vec<_>>().join(" "))
        .or_else(|| env("RUSTFLAGS"));
    let on_github = env("GITHUB_ACTIONS").as_deref() == Some("true");
    let server = env("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
    let builder_id = match (on_github, env("GITHUB_WORKFLOW_REF")) {
        (true, Some(workflow)) => format!("{server}/{workflow}"),
        _ => attestation::provenance::local_builder(),
    };
    let invocation_id = match (on_github, env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")) {
        (true, Some(r), Some(id)) => Some(format!(
            "{server}/{r}/actions/runs/{id}/attempts/{}",
            env("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into())
        )),
        _ => None,
    };
    attestation::provenance::Build {
        subjects,
        repository: repo.config_string("remote.origin.url"),
        tag: tag.to_string(),
        commit: commit.to_string(),
        package: claims
            .as_ref()
            .and_then(|c| c.package.as_ref())
            .map(|p| (p.name.clone(), p.version.clone())),
        target: opts.target.clone().or(host).unwrap_or_default(),
        profile: opts.profile.clone().unwrap_or_else(|| "release".into()),
        features: opts.features.clone(),
        rustc,
        cargo: crate::fingerprint::cargo_version().map(|v| format!("cargo {v}")),
        rustflags,
        source_date_epoch: env("SOURCE_DATE_EPOCH").and_then(|e| e.parse().ok()),
        cargo_lock: tagged_lock.map(crate::digest::sha256_hex),
        builder_id,
        invocation_id,
    }
}

/// The files named, and with `--artifacts` the workspace's built bin targets.
fn release_paths(opts: &AttestOptions, repo: &Repo) -> Result<Vec<PathBuf>> {
    let mut paths = opts.files.clone();
    if opts.artifacts {
        let manifest = crate::options::ManifestOptions {
            manifest_path: repo.workdir().map(|w| w.join("Cargo.toml")),
            offline: opts.offline,
            ..Default::default()
        };
        let profile = opts.profile.as_deref().unwrap_or("release");
        paths.extend(crate::gate::release::built_binaries(
            &manifest,
            profile,
            opts.target.as_deref(),
        )?);
    }
    Ok(paths)
}

/// The gate on the release's binaries (each file that is one, each one inside an
/// archive): the artifact checks of `audit --artifact` with no error, every
/// package of its embedded list in the tagged Cargo.lock. A refusal names each
/// error. Returns the SBOM statement of each binary that embeds its list.
fn binary_gate(
    opts: &AttestOptions,
    repo: &Repo,
    tag: &str,
    commit: &str,
    tagged_lock: Option<&[u8]>,
    files: &[Hashed],
    notes: &mut Vec<String>,
) -> Result<Vec<serde_json::Value>> {
    use crate::gate::release::{self, Judge, ReleaseFile};
    let release_files: Vec<ReleaseFile<'_>> = files
        .iter()
        .map(|f| ReleaseFile {
            path: &f.path,
            name: &f.entry.name,
            sha256: &f.entry.sha256,
        })
        .collect();
    let found = release::find(&release_files)?;
    notes.extend(found.unopened_notes());
    if found.binaries.is_empty() {
        return Ok(Vec::new());
    }
    let shown_tag = escape(tag);
    let lock = tagged_lock.ok_or_else(|| {
        Failure::new(format!(
            "tag `{shown_tag}` has no Cargo.lock: its binaries' embedded dependency lists cannot be checked against it; nothing was written"
        ))
        .help("commit Cargo.lock and tag the release again")
        .refusal()
    })?;
    let lockfile = crate::lockfile::Lockfile::parse(&String::from_utf8_lossy(lock));
    let workdir = repo.workdir();
    let check = crate::options::CheckOptions::for_release(
        workdir.as_deref(),
        opts.offline,
        opts.advisory_db.clone(),
    );
    let judged = release::judge(
        &found,
        &Judge {
            check: &check,
            tagged_manifest: repo
                .file_at_tag(tag, "Cargo.toml")?
                .map(|m| String::from_utf8_lossy(&m).into_owned()),
            tagged_lock: &lockfile,
            tagged_lock_sha256: crate::digest::sha256_hex(lock),
            tag,
            profile: opts.profile.as_deref().unwrap_or("release"),
            leaks: workdir
                .iter()
                .map(|w| w.display().to_string().trim_end_matches('/').to_string())
                .collect(),
        },
    )?;
    use crate::report::Severity;
    let errors: Vec<String> = judged
        .report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(refusal_line)
        .collect();
    if !errors.is_empty() {
        return Err(Failure::new(format!(
            "{} error{} in the release's binaries: attest judges them as `audit --artifact` does, with the Cargo.lock of `{shown_tag}`; nothing was written",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
        ))
        .help("rebuild the binaries from the tagged commit with `cargo auditable build --release --locked`; `cargo secure-release audit --artifact FILE` explains each finding")
        .detail(errors.join("\n"))
        .refusal()
        .into());
    }
    for f in judged
        .report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        notes.push(format!("warning: {}: {}", f.code.as_str(), f.message));
    }
    // The documents' time: SOURCE_DATE_EPOCH, else the tagged commit's, never now.
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|e| e.trim().parse().ok())
        .or_else(|| repo.commit_time(commit))
        .unwrap_or(0);
    let mut statements = Vec::new();
    for (b, list) in found.binaries.iter().zip(&judged.lists) {
        let shown = escape(&b.shown);
        let Some(packages) = list else {
            notes.push(format!(
                "{shown} passes the artifact checks; it embeds no dependency list, so it has no SBOM statement"
            ));
            continue;
        };
        let doc = crate::bom::binary::cyclonedx(packages, &lockfile, epoch)?;
        let bom: serde_json::Value = serde_json::from_str(&doc)?;
        let subject = sums::Entry {
            name: b.subject.clone(),
            sha256: b.sha256.clone(),
        };
        statements.push(attestation::sbom_statement::statement(&subject, bom));
        notes.push(format!(
            "{shown} passes the artifact checks; its {} embedded packages are in the Cargo.lock of {shown_tag} (SBOM statement `{}`)",
            packages.len(),
            escape(&b.subject)
        ));
    }
    Ok(statements)
}

/// One error of the binaries' gate: its code (and advisory id), its message, and
/// for an advisory the package and the binary, which its message does not name.
fn refusal_line(f: &crate::report::Finding) -> String {
    let id = f.id.as_deref().map(|i| format!(" {i}")).unwrap_or_default();
    let whose = match (&f.package, &f.version, &f.location) {
        (Some(p), Some(v), Some(l)) if !f.message.contains(&l.file) => {
            format!(" ({p} {v} in {})", l.file)
        }
        _ => String::new(),
    };
    format!("{}{id}: {}{whose}", f.code.as_str(), f.message)
}

/// A plain signature (DSSE's, minisign's) by the unlocked key, with its keyid.
fn sign_plain(key: &mut sign::Unlocked<'_>, data: &[u8]) -> Result<(String, Vec<u8>)> {
    key.sign_plain(data)?
        .ok_or_else(|| anyhow::anyhow!("the release key made no plain signature"))
}

fn ed25519(sig: Vec<u8>) -> Result<[u8; 64]> {
    sig.try_into()
        .map_err(|_| anyhow::anyhow!("the release key's signature is not an Ed25519 one"))
}

/// One file to attest: where it is, its line in `SHA256SUMS`, its size, and with
/// `--minisign` its BLAKE2b-512 (what minisign signs), taken in the same read.
struct Hashed {
    path: PathBuf,
    entry: sums::Entry,
    size: u64,
    prehash: Option<Vec<u8>>,
}

/// Each file's digest and its name relative to the output directory; a name
/// `SHA256SUMS` cannot hold, or two files under one name, is an error naming them.
fn hash_files(paths: &[PathBuf], out_dir: &Path, minisign: bool) -> Result<Vec<Hashed>> {
    use sha2::Digest;
    let base = crate::fsutil::resolved_dir(out_dir)?;
    let mut out: Vec<Hashed> = Vec::new();
    for path in paths {
        let shown = escape(&path.display().to_string());
        let mut sha = sha2::Sha256::new();
        let mut blake = minisign.then(attestation::minisign::Prehash::new);
        let size = crate::fsutil::read_in_pieces(path, "release file", |piece| {
            sha.update(piece);
            if let Some(b) = blake.as_mut() {
                b.update(piece);
            }
        })?;
        let sha256 = crate::digest::hex(&sha.finalize());
        let prehash = blake.map(attestation::minisign::Prehash::finish);
        let full = std::fs::canonicalize(path)
            .map_err(|e| Failure::new(format!("could not resolve {shown}: {e}")))?;
        let name = crate::fsutil::relative_path(&full, &base).ok_or_else(|| {
            Failure::new(format!(
                "{shown} has no name relative to the output directory {}",
                escape(&out_dir.display().to_string())
            ))
            .help("pass --output-dir on the same file system tree as the files")
        })?;
        if let Some(why) = sums::unlistable(&name) {
            return Err(
                Failure::new(format!("{shown} cannot be listed in SHA256SUMS: {why}"))
                    .help("rename the file")
                    .into(),
            );
        }
        match out.iter().find(|h| h.entry.name == name) {
            Some(h) if h.entry.sha256 == sha256 => continue,
            Some(h) => {
                return Err(Failure::new(format!(
                    "{shown} and {} are both named `{}` in SHA256SUMS",
                    escape(&h.path.display().to_string()),
                    escape(&name)
                ))
                .into())
            }
            None => out.push(Hashed {
                path: path.clone(),
                entry: sums::Entry { name, sha256 },
                size,
                prehash,
            }),
        }
    }
    Ok(out)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The release tag at HEAD: the one annotated tag that points at HEAD's commit.
fn tag_at_head(repo: &Repo) -> Result<String> {
    let head = repo.head_commit()?;
    let mut at_head: Vec<String> = repo
        .tag_names()
        .into_iter()
        .filter(|n| repo.resolve_commit(&format!("refs/tags/{n}")).as_deref() == Some(&head.id))
        .filter(|n| !matches!(repo.read_tag(n), Ok(Some(Tag::Lightweight)) | Ok(None)))
        .collect();
    at_head.sort();
    match at_head.len() {
        1 => Ok(at_head.remove(0)),
        0 => Err(Failure::new(format!(
            "HEAD ({}) has no release tag",
            head.id.get(..12).unwrap_or(&head.id)
        ))
        .help("tag the release first (`cargo secure-release tag`), or name it with --tag TAG")
        .into()),
        _ => Err(Failure::new(format!(
            "HEAD has {} annotated tags ({}): which release is this?",
            at_head.len(),
            at_head
                .iter()
                .map(|t| escape(t))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .help("name it with --tag TAG")
        .into()),
    }
}

/// The signature format of the signer policy: the one it lists keys for; with
/// both, as for tags (`--format`, else git's `gpg.format`).
fn policy_format(
    trusted: &Trusted,
    key: &crate::options::KeyOptions,
    repo: &Repo,
) -> Result<SignFormat> {
    match (&trusted.ssh, &trusted.openpgp) {
        (Some(_), None) => Ok(SignFormat::Ssh),
        (None, Some(_)) => Ok(SignFormat::OpenPgp),
        _ => sign::format(key, repo),
    }
}

/// Our command and the stock tools' that check the files written.
fn check_hints(
    r: &AttestReport,
    trusted: &Trusted,
    format: SignFormat,
    principal: Option<&str>,
) -> Vec<String> {
    let first = r.files.first().map(|f| f.name.as_str()).unwrap_or("FILE");
    let mut hints = vec![
        format!("cargo secure-release verify --artifact {first}"),
        "sha256sum -c SHA256SUMS".to_string(),
    ];
    match format {
        SignFormat::Ssh => {
            let file = trusted
                .policy
                .ssh
                .as_ref()
                .map(|(f, _)| f.clone())
                .unwrap_or_else(|| "<allowed signers>".into());
            hints.push(format!(
                "ssh-keygen -Y verify -n file -f {file} -I {} -s SHA256SUMS.sig < SHA256SUMS",
                principal.unwrap_or("<principal>")
            ));
        }
        SignFormat::OpenPgp => hints.push("gpg --verify SHA256SUMS.asc SHA256SUMS".to_string()),
    }
    if let Some(pk) = &r.minisign_public_key {
        hints.push(format!(
            "minisign -V -P {pk} -m {first} -x {first}{}",
            attestation::minisign::SUFFIX
        ));
    }
    hints
}
