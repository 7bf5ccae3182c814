//! `cargo secure-release tag`: a signed annotated release tag, gated by the audit.

pub mod object;

use crate::audit::{self, AuditReport, Fix};
use crate::cli::{GlobalArgs, TagArgs};
use crate::error::Failure;
use crate::progress::Progress;
use crate::signer::{self, PassphraseSource};
use crate::workspace::Workspace;
use anyhow::{Context, Result};
use object::Ident;
use sha2::Digest;

pub fn run(args: &TagArgs, global: &GlobalArgs) -> Result<u8> {
    let progress = Progress::new(global.quiet, global.verbose);
    progress.step("Reading the workspace (cargo metadata)");
    let manifest =
        crate::workspace::resolve_manifest_path(args.check.manifest.manifest_path.as_deref())?;
    let pre = match args.no_audit {
        true => None,
        false => Some(audit::prefetch::Prefetch::start(&args.check, &manifest)?),
    };
    let ws = Workspace::load_resolved(&args.check.manifest, manifest)?;
    let pkg = released_package(&ws, &args.check.manifest.packages)?;
    let version = pkg.version.to_string();
    let name = match &args.name {
        Some(n) => {
            if !n.ends_with(&version) {
                return Err(Failure::new(format!(
                    "tag name `{n}` does not match version {version} of {} in {}",
                    pkg.name, pkg.manifest_path
                ))
                .help(format!(
                    "bump the version in Cargo.toml, or tag `{}{version}`",
                    args.tag_prefix
                ))
                .refusal()
                .into());
            }
            n.clone()
        }
        None => format!("{}{version}", args.tag_prefix),
    };
    let refname = format!("refs/tags/{name}");
    if !git2::Reference::is_valid_name(&refname) {
        return Err(
            Failure::new(format!("`{name}` is not a valid git tag name"))
                .help("use a name like v1.2.3")
                .into(),
        );
    }

    let repo = git2::Repository::discover(&ws.root).map_err(|e| {
        Failure::new(format!(
            "{} is not inside a git repository: {}",
            ws.root.display(),
            e.message()
        ))
        .help("run `git init` and commit the project first")
    })?;
    if repo.find_reference(&refname).is_ok() {
        return Err(Failure::new(format!("tag `{name}` already exists; nothing was changed"))
            .help("tags are never overwritten: bump the version, or delete the tag yourself if it was never published")
            .refusal()
            .into());
    }
    if !args.allow_dirty {
        let dirty = dirty_paths(&repo)?;
        if !dirty.is_empty() {
            let shown: Vec<_> = dirty.iter().take(5).cloned().collect();
            return Err(Failure::new(format!(
                "the work tree has uncommitted changes ({}{}); nothing was tagged",
                shown.join(", "),
                if dirty.len() > 5 { ", …" } else { "" }
            ))
            .help("commit or stash them, or pass --allow-dirty")
            .refusal()
            .into());
        }
    }
    let config = repo.config().context("could not read git config")?;
    if let Ok(format) = config.get_string("gpg.format") {
        if format != "openpgp" {
            return Err(Failure::new(format!(
                "git config gpg.format is `{format}`; this tool signs with OpenPGP only"
            ))
            .help("unset gpg.format (or set it to openpgp) for this repository")
            .into());
        }
    }
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|e| {
        Failure::new(format!(
            "the repository has no commit to tag: {}",
            e.message()
        ))
        .help("commit first")
    })?;

    let report = match pre {
        None => None,
        Some(pre) => {
            progress.step("Auditing the release");
            let report = audit::audit(&ws, &args.check, pre, Fix::No, &progress)?;
            if report.has_errors() {
                progress.finish();
                let mut err = Vec::new();
                crate::output::human::render(&report, &mut err, false, 0)?;
                eprint!("{}", String::from_utf8_lossy(&err));
                return Err(Failure::new(format!("the release audit has error findings; tag `{name}` was not created"))
                .help("fix the findings above, or pass --no-audit to tag anyway (the tag message will say so)")
                .refusal()
                .into());
            }
            Some(report)
        }
    };

    let tagger = tagger(&config)?;
    let message = message(args, &pkg.name, &version, report.as_ref(), &ws)?;
    let payload = object::payload(&head.id().to_string(), "commit", &name, &tagger, &message);
    progress.finish();
    if args.dry_run {
        print!("{payload}");
        return Ok(0);
    }

    let key_path = args.key.as_deref().ok_or_else(|| {
        Failure::new("no signing key: pass --key FILE with your secret key (or, with --agent, your public certificate)")
            .help("export it with `gpg --export-secret-keys --armor KEYID > release.asc`")
    })?;
    let certs = signer::read_certs(key_path)?;
    let selector = args
        .signing_key
        .clone()
        .or_else(|| config.get_string("user.signingkey").ok());
    let cert = signer::select(&certs, selector.as_deref())?;
    let pass = match (&args.passphrase_file, &args.passphrase_env) {
        (Some(f), _) => Some(PassphraseSource::File(f)),
        (None, Some(v)) => Some(PassphraseSource::Env(v)),
        (None, None) => None,
    };
    let mut key = if args.agent {
        agent_key(cert, selector.as_deref(), pass)?
    } else {
        signer::signing_key(
            cert,
            selector.as_deref(),
            pass.unwrap_or(PassphraseSource::Prompt),
        )?
    };
    let signature = key.sign_detached_armored(payload.as_bytes())?;
    let tag_object = format!("{payload}{signature}");

    let oid = repo
        .odb()
        .and_then(|odb| odb.write(git2::ObjectType::Tag, tag_object.as_bytes()))
        .context("could not write the tag object")?;
    // force = false: if someone created the tag meanwhile, this fails instead of overwriting.
    repo.reference(&refname, oid, false, "cargo secure-release tag")
        .map_err(|e| {
            Failure::new(format!("could not create {refname}: {}", e.message()))
                .help("nothing was overwritten")
        })?;

    let who = key.userid.clone().unwrap_or_default();
    println!(
        "Created signed tag {name} ({oid}) for {} {version}",
        pkg.name
    );
    println!("  signed by {who} {}", key.cert_fingerprint);
    if key.key_fingerprint != key.cert_fingerprint {
        println!("  signing subkey {}", key.key_fingerprint);
    }
    println!("  verify with: git verify-tag {name}");
    println!("           or: cargo secure-release verify {name} --cert <public key file>");
    Ok(0)
}

#[cfg(feature = "gpg-agent")]
fn agent_key(
    cert: &sequoia_openpgp::Cert,
    selector: Option<&str>,
    pass: Option<PassphraseSource<'_>>,
) -> Result<signer::SigningKey> {
    signer::agent_signing_key(cert, selector, pass)
}

#[cfg(not(feature = "gpg-agent"))]
fn agent_key(
    _: &sequoia_openpgp::Cert,
    _: Option<&str>,
    _: Option<PassphraseSource<'_>>,
) -> Result<signer::SigningKey> {
    Err(Failure::new("--agent needs the gpg-agent feature, which this binary was built without")
        .help("reinstall with `cargo install --locked --features gpg-agent cargo-secure-release` (needs the capnp compiler), or pass --key with a secret key file")
        .into())
}

/// The package being released: `-p NAME`, else the root package, else the only member.
fn released_package<'w>(
    ws: &'w Workspace,
    specs: &[String],
) -> Result<&'w cargo_metadata::Package> {
    if specs.len() > 1 {
        return Err(Failure::new("a tag releases one package: pass a single -p").into());
    }
    if !specs.is_empty() {
        return Ok(ws.selected_members(specs)?[0]);
    }
    if let Some(root) = ws.metadata.root_package() {
        return Ok(root);
    }
    match ws.metadata.workspace_packages().as_slice() {
        [one] => Ok(one),
        many => Err(Failure::new(format!(
            "the workspace has {} packages; say which one this release is for",
            many.len()
        ))
        .help("pass -p NAME (and --tag-prefix NAME-v for per-crate tags)")
        .into()),
    }
}

fn dirty_paths(repo: &git2::Repository) -> Result<Vec<String>> {
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .include_ignored(false)
        .recurse_untracked_dirs(false);
    let statuses = repo
        .statuses(Some(&mut opts))
        .context("could not read git status")?;
    Ok(statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .filter_map(|s| s.path().ok().map(str::to_string))
        .collect())
}

/// The tagger, as git would write it: GIT_COMMITTER_* first, then user.name/user.email.
fn tagger(config: &git2::Config) -> Result<Ident> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let name = env("GIT_COMMITTER_NAME").or_else(|| config.get_string("user.name").ok());
    let email = env("GIT_COMMITTER_EMAIL").or_else(|| config.get_string("user.email").ok());
    let (Some(name), Some(email)) = (name, email) else {
        return Err(Failure::new("no tagger identity: git's user.name and user.email are not set")
            .help("run `git config user.name \"Your Name\"` and `git config user.email you@example.com`")
            .into());
    };
    let (seconds, offset_minutes) = match env("GIT_COMMITTER_DATE") {
        Some(d) => object::parse_git_date(&d)?,
        None => {
            let now = jiff::Zoned::now();
            (now.timestamp().as_second(), now.offset().seconds() / 60)
        }
    };
    Ok(Ident {
        name,
        email,
        seconds,
        offset_minutes,
    })
}

/// The tag message with its attestation trailer.
fn message(
    args: &TagArgs,
    pkg: &str,
    version: &str,
    report: Option<&AuditReport>,
    ws: &Workspace,
) -> Result<String> {
    let mut m = args
        .message
        .clone()
        .unwrap_or_else(|| format!("Release {pkg} {version}"));
    m = m.trim_end().to_string();
    let lock = std::fs::read(ws.lockfile_path()).map_err(|e| {
        Failure::new(format!(
            "could not read {}: {e}",
            ws.lockfile_path().display()
        ))
        .help("commit Cargo.lock: the tag attests its hash")
    })?;
    let lock_hash = hex(&sha2::Sha256::digest(&lock));
    m.push_str("\n\n");
    m.push_str(&format!(
        "Released-with: {} {}\n",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    ));
    m.push_str(&format!("Cargo-lock-sha256: {lock_hash}\n"));
    match report {
        Some(r) => {
            for db in &r.databases {
                let id = db
                    .commit
                    .clone()
                    .map(|c| format!("commit {c}"))
                    .unwrap_or_else(|| "snapshot".into());
                let newest = db.newest_advisory.as_deref().unwrap_or("unknown");
                m.push_str(&format!(
                    "Advisory-db: {id}, newest advisory {newest}, {} advisories\n",
                    db.advisories
                ));
            }
            let s = crate::findings::Summary::of(&r.findings);
            let plural = |n: usize, w: &str| {
                if n == 1 {
                    format!("{n} {w}")
                } else {
                    format!("{n} {w}s")
                }
            };
            m.push_str(&format!(
                "Audit: {}, {}\n",
                plural(s.errors, "error"),
                plural(s.warnings, "warning")
            ));
        }
        None => m.push_str("Audit: skipped (--no-audit)\n"),
    }
    Ok(m)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
