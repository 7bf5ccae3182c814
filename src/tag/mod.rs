//! `cargo secure-release tag`: a signed annotated release tag, gated by the audit.
//! The command is a plan: read the workspace and config, check every gate (name,
//! message, existing tag, clean tree, signing format, audit) before anything is
//! signed, then sign and write the object and ref together (see `git::create_tag`).

use crate::config::Config;
use crate::error::{escape, Failure};
use crate::gate::Session;
use crate::git::{self, Repo};
use crate::options::{CacheUse, Fix, TagOptions};
use crate::release::claims::{self, Claims};
use crate::release::object::{self, Ident};
use crate::report::{tag::TagReport, AuditReport};
use crate::shell::Shell;
use crate::sig::policy::Trusted;
use crate::sig::sign;
use crate::workspace::Workspace;
use anyhow::Result;

pub fn run(opts: &TagOptions, shell: &Shell) -> Result<TagReport> {
    let progress = shell.progress();
    progress.step(crate::workspace::READING);
    let manifest =
        crate::workspace::resolve_manifest_path(opts.check.manifest.manifest_path.as_deref())?;
    // A release decision is made cold: the gate's audit and the workspace the tag
    // attests read no findings cache and no metadata record (a stale one would sign
    // a verdict a cold run would not give); they leave fresh ones for `audit`.
    let mut check = opts.check.clone();
    // The release is the commit: a Cargo.lock it lacks is not made up here.
    check.manifest.locked = true;
    if check.cache.reads() {
        check.cache = CacheUse::WriteOnly;
    }
    // Down to rustc's and cargo's answers: nothing read from a record.
    crate::cache::set_use(check.cache);
    // With the gate, the audit's session reads the workspace and settings it judges.
    let loaded = match opts.no_audit {
        true => {
            let ws =
                Workspace::load_recording(&check.manifest, manifest, check.cache.writes(), |_| {})?;
            let (config, _) = Config::load(&ws.root_manifest())?;
            Loaded::Bare(ws, config)
        }
        false => Loaded::Gate(Session::open(&check, manifest, &progress)?),
    };
    let (ws, config) = loaded.parts();
    let pkg = released_package(ws, &opts.check.manifest.packages)?;
    let (pkg_name, version) = (pkg.name.to_string(), pkg.version.to_string());
    let pkg_dir = pkg
        .manifest_path
        .parent()
        .map(|d| d.as_std_path().to_path_buf());
    let name = tag_name(opts, config, &pkg_name, &version)?;
    if let Some(m) = &opts.message {
        check_message(m)?;
    }

    let repo = Repo::discover(&ws.root)?;
    if repo.tag_exists(&name) {
        return Err(git::already_exists(&name).into());
    }
    if !opts.allow_dirty {
        require_clean(&repo)?;
    }
    let key_opts = &opts.key;
    let format = sign::format(key_opts, &repo)?;
    let head = repo.head_commit()?;
    let tagger = tagger(&repo)?;
    // The policy as committed in the commit being tagged: what `verify` will read.
    let policy = match repo.path_in_repo(&ws.root) {
        Some(dir) => Trusted::at(&repo, "HEAD", "HEAD", &dir)?,
        None => None,
    };
    let key = match opts.dry_run {
        true => None,
        false => {
            let key = sign::load(key_opts, &repo, format)?;
            if let Some(trusted) = &policy {
                key.check_policy(trusted, &tagger)?;
            }
            Some(key)
        }
    };

    let (report, ws) = match loaded {
        Loaded::Bare(ws, _) => (None, ws),
        Loaded::Gate(session) => {
            progress.step("Auditing the release");
            let (report, ws) = session.run(Fix::No, &Default::default(), &progress, shell)?;
            if report.has_errors() {
                progress.finish();
                let mut err = Vec::new();
                crate::output::human::render(&report, &mut err, false, 0)?;
                shell.err(&String::from_utf8_lossy(&err));
                return Err(Failure::new(format!("the release audit has error findings; tag `{name}` was not created"))
                    .help("fix the findings above, or pass --no-audit to tag anyway (the tag message will say so)")
                    .refusal()
                    .into());
            }
            (Some(report), ws)
        }
    };

    let (sha256, platform) = crate::bom::release_digest(&ws, &pkg_name, head.time, None)?;
    let sbom = claims::Sbom {
        sha256,
        platform: Some(platform),
    };
    let manifest_in_repo = pkg_dir
        .and_then(|d| repo.path_in_repo(&d))
        .filter(|d| !d.chars().any(char::is_control))
        .map(|d| match d.is_empty() {
            true => "Cargo.toml".to_string(),
            false => format!("{d}/Cargo.toml"),
        });
    let claims = Claims {
        package: manifest_in_repo.map(|manifest| claims::Package {
            name: pkg_name.clone(),
            version: version.clone(),
            manifest,
        }),
        sbom: Some(sbom),
        ..Default::default()
    };
    let message = message(opts, (&pkg_name, &version), claims, report.as_ref(), &ws)?;
    let payload = object::payload(&head.id, "commit", &name, &tagger, &message);
    progress.finish();
    let mut report = TagReport {
        tag: name.clone(),
        package: pkg_name,
        version,
        object: None,
        payload,
        signature: Vec::new(),
        policy: None,
        verify_with: Vec::new(),
    };
    if opts.dry_run {
        return Ok(report);
    }

    let Some(key) = key else {
        return Err(anyhow::anyhow!(
            "no key was loaded for a tag that is not a dry run"
        ));
    };
    let signed = key.sign(key_opts, report.payload.as_bytes(), &name, policy.as_ref())?;
    let oid = repo.create_tag(
        &name,
        format!("{}{}", report.payload, signed.armored).as_bytes(),
    )?;
    report.object = Some(oid);
    report.signature = signed.lines;
    report.policy = policy.map(|t| t.policy.files().join(", "));
    report.verify_with = signed.verify_hint;
    Ok(report)
}

/// The workspace a tag is made from: read by the gate's session, or alone with
/// `--no-audit`.
// One value per run, moved once: its size is no cost.
#[allow(clippy::large_enum_variant)]
enum Loaded {
    Gate(Session),
    Bare(Workspace, Config),
}

impl Loaded {
    fn parts(&self) -> (&Workspace, &Config) {
        match self {
            Loaded::Gate(s) => (s.workspace(), s.config()),
            Loaded::Bare(ws, config) => (ws, config),
        }
    }
}

/// The release tag's name: `--tag-prefix` + version, else the policy's `tag-name`
/// pattern, else `v{version}`. An explicit name must be exactly that name: a tag
/// that merely ends with the version (`v10.1.0` for 0.1.0) is not this release.
fn tag_name(opts: &TagOptions, config: &Config, pkg: &str, version: &str) -> Result<String> {
    let (expected, rule) = match (&opts.tag_prefix, &config.tag_name) {
        (Some(prefix), _) => (
            format!("{prefix}{version}"),
            format!("--tag-prefix `{}`", escape(prefix)),
        ),
        (None, Some(pattern)) => (
            pattern.replace("{name}", pkg).replace("{version}", version),
            format!("the `tag-name` pattern `{}` in Cargo.toml", escape(pattern)),
        ),
        (None, None) => (
            format!("v{version}"),
            "the default pattern `v{version}`".into(),
        ),
    };
    if let Some(given) = &opts.name {
        if *given != expected {
            let shown: String = given.chars().take(80).collect();
            let cut = if given.chars().count() > 80 {
                "…"
            } else {
                ""
            };
            return Err(Failure::new(format!(
                "tag name `{}{cut}` does not match version {version} of {pkg}: its release tag is `{expected}` ({rule}); nothing was tagged",
                escape(&shown)
            ))
            .help(format!(
                "run without a name to tag `{expected}`, or bump the version in Cargo.toml"
            ))
            .refusal()
            .into());
        }
    }
    if expected.len() > 200 || !git::valid_tag_name(&expected) {
        return Err(Failure::new(format!(
            "`{}` (from {rule}) is not a valid git tag name",
            escape(&expected)
        ))
        .help("tag names follow `git check-ref-format`: no spaces, `..`, `~^:?*[\\`, leading `-` or trailing `.lock`; e.g. v1.2.3")
        .into());
    }
    Ok(expected)
}

/// A message line that git would take for the start of the signature would make
/// `git verify-tag` check the wrong bytes: refuse it.
fn check_message(message: &str) -> Result<()> {
    if let Some((line, text)) = git::signature_line(message) {
        return Err(Failure::new(format!(
            "the tag message's line {line} starts a signature block (`{}`); nothing was tagged",
            escape(text.trim_end())
        ))
        .help("reword or indent that line: git would split the signature there")
        .refusal()
        .into());
    }
    if let Some((line, text)) = claims::claim_line(message) {
        return Err(Failure::new(format!(
            "the tag message's line {line} (`{}`) reads as one of the tag's claims; nothing was tagged",
            escape(text.trim_end())
        ))
        .help("reword that line: the claims are the trailer this tool writes, and `verify` rejects a tag that repeats one")
        .refusal()
        .into());
    }
    Ok(())
}

fn require_clean(repo: &Repo) -> Result<()> {
    let dirty = repo.dirty_paths()?;
    if dirty.is_empty() {
        return Ok(());
    }
    let shown: Vec<_> = dirty.iter().take(5).map(|p| escape(p)).collect();
    Err(Failure::new(format!(
        "the work tree has uncommitted changes ({}{}); nothing was tagged",
        shown.join(", "),
        if dirty.len() > 5 { ", …" } else { "" }
    ))
    .help("commit or stash them, or pass --allow-dirty")
    .refusal()
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

/// The tagger, as git would write it: GIT_COMMITTER_* first, then user.name and
/// user.email, cleaned the way git cleans identities.
fn tagger(repo: &Repo) -> Result<Ident> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let name = env("GIT_COMMITTER_NAME").or_else(|| repo.config_string("user.name"));
    let email = env("GIT_COMMITTER_EMAIL").or_else(|| repo.config_string("user.email"));
    let (Some(name), Some(email)) = (name, email) else {
        return Err(Failure::new("no tagger identity: git's user.name and user.email are not set")
            .help("run `git config user.name \"Your Name\"` and `git config user.email you@example.com`")
            .into());
    };
    let (name, email) = (object::without_crud(&name), object::without_crud(&email));
    if name.is_empty() || email.is_empty() {
        return Err(Failure::new(
            "the tagger name or email is empty once cleaned as git cleans identities",
        )
        .help("set GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL (or user.name/user.email) to a real name and address")
        .into());
    }
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
    args: &TagOptions,
    (pkg, version): (&str, &str),
    mut claims: Claims,
    report: Option<&AuditReport>,
    ws: &Workspace,
) -> Result<String> {
    let mut m = args
        .message
        .clone()
        .unwrap_or_else(|| format!("Release {pkg} {version}"));
    m = m.trim_end().to_string();
    let lock_hash = match report.and_then(|r| r.lockfile_sha256.clone()) {
        Some(audited) => audited,
        None => crate::digest::sha256_hex(
            &ws.read_lockfile("commit Cargo.lock: the tag attests its hash")?,
        ),
    };
    claims.released_with = Some(format!(
        "{} {}",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    ));
    claims.cargo_lock_sha256 = Some(lock_hash);
    match report {
        Some(r) => {
            for db in &r.databases {
                let id = db
                    .commit
                    .clone()
                    .map(|c| format!("commit {c}"))
                    .unwrap_or_else(|| "snapshot".into());
                let newest = db.newest_advisory.as_deref().unwrap_or("unknown");
                claims.advisory_dbs.push(format!(
                    "{id}, newest advisory {newest}, {} advisories",
                    db.advisories
                ));
            }
            let s = crate::report::Summary::of(&r.findings);
            let plural = |n: usize, w: &str| format!("{n} {w}{}", crate::output::plural(n));
            claims.audit = Some(format!(
                "{}, {}",
                plural(s.errors, "error"),
                plural(s.warnings, "warning")
            ));
        }
        None => claims.audit = Some("skipped (--no-audit)".into()),
    }
    m.push_str("\n\n");
    m.push_str(&claims.render());
    Ok(m)
}
