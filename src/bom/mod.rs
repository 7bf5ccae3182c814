//! The SBOM engine: CycloneDX (1.7, 1.6, 1.5), SPDX 2.3 and OpenVEX JSON of exactly
//! what the release build compiles (see `graph`), reproducible: the same commit
//! gives the same bytes. Used by `sbom` and by `tag` and `verify`, which hash it.

pub mod binary;
pub mod clean;
pub mod cyclonedx;
pub mod spdx;
pub mod vulns;

use crate::error::{escape, Failure};
use crate::lockfile::Lockfile;
use crate::platform::{Build, Platform};
use crate::unify::{Features, Use};
use crate::workspace::Workspace;
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    CycloneDx,
    Spdx,
    /// The project's decisions about the advisories affecting the build (OpenVEX 0.2).
    OpenVex,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::CycloneDx, Format::Spdx, Format::OpenVex];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CycloneDx => "cyclonedx",
            Format::Spdx => "spdx",
            Format::OpenVex => "openvex",
        }
    }

    pub fn help(self) -> Option<&'static str> {
        match self {
            Format::OpenVex => Some(
                "OpenVEX 0.2: a statement per advisory affecting the build, ignores as not_affected",
            ),
            Format::CycloneDx | Format::Spdx => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CdxVersion {
    V1_5,
    V1_6,
    #[default]
    V1_7,
}

impl CdxVersion {
    /// Newest first, as `--help` lists them.
    pub const ALL: [CdxVersion; 3] = [CdxVersion::V1_7, CdxVersion::V1_6, CdxVersion::V1_5];

    pub fn help(self) -> Option<&'static str> {
        None
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CdxVersion::V1_5 => "1.5",
            CdxVersion::V1_6 => "1.6",
            CdxVersion::V1_7 => "1.7",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SbomOptions {
    pub manifest: crate::options::ManifestOptions,
    pub format: Format,
    pub spec_version: CdxVersion,
    pub features: Features,
    pub target: Option<String>,
    pub no_build_deps: bool,
    pub output: Option<PathBuf>,
    /// The document's timestamp, over SOURCE_DATE_EPOCH and the HEAD commit's time.
    pub epoch: Option<i64>,
    /// CycloneDX `vulnerabilities` with VEX analysis from the project's ignores.
    pub vulnerabilities: bool,
    /// A local advisory database directory (else deny.toml's databases).
    pub advisory_db: Option<PathBuf>,
}

/// One package in the SBOM, in the terms both formats share. Every text is cleaned
/// (`clean`): no control characters, capped; every URL a `document_url`.
#[derive(Debug, Clone)]
pub struct Component {
    pub bom_ref: String,
    pub name: String,
    pub version: String,
    pub purl: String,
    /// SHA-256 of the `.crate` file, from Cargo.lock.
    pub sha256: Option<String>,
    pub license: License,
    /// The text of the `LicenseRef-…` the license names, which SPDX must carry.
    pub license_ref: clean::RefText,
    pub description: Option<String>,
    pub authors: Vec<clean::Author>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub documentation: Option<String>,
    /// crates.io's download URL for crates.io packages.
    pub download: Option<String>,
    /// From crates.io: the only packages RustSec's advisories are about (a path,
    /// git or other registry crate that shares a name is another crate).
    pub crates_io: bool,
    pub build_time: bool,
    /// What cleaning changed or left out of the package's metadata, each note
    /// naming the package (`clean::notes` tells the user).
    pub cleaned: Vec<String>,
}

/// Who supplies a component: its first author, else the owner of its repository
/// (`https://HOST/OWNER/REPO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supplier {
    Person { name: String, email: Option<String> },
    Organization { name: String, url: String },
}

impl Component {
    pub fn supplier(&self) -> Option<Supplier> {
        if let Some(a) = self.authors.first() {
            // Cleaned: a name never empty, an email only when it is one.
            return Some(Supplier::Person {
                name: a.name.clone(),
                email: a.email.clone(),
            });
        }
        let repo = url::Url::parse(self.repository.as_deref()?).ok()?;
        let owner = repo.path_segments()?.find(|s| !s.is_empty())?.to_string();
        let host = repo.host_str()?;
        Some(Supplier::Organization {
            url: document_url(&format!("{}://{host}/{owner}", repo.scheme()))?,
            name: owner,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// A valid SPDX expression (canonicalised: `MIT/Apache-2.0` becomes `MIT OR Apache-2.0`).
    Expression(String),
    /// `license-file = "…"`: the file's name.
    File(String),
    None,
}

pub struct Bom {
    pub roots: Vec<Component>,
    /// Every other compiled package, sorted by bom-ref.
    pub components: Vec<Component>,
    /// bom-ref → the bom-refs it depends on, both sorted.
    pub dependencies: BTreeMap<String, Vec<String>>,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// The platform the release is built for (not written into the document).
    pub target: String,
    /// With `--with-vulnerabilities` or `--format openvex`.
    pub vulnerabilities: Vec<vulns::Vuln>,
    /// Where the advisories came from, when the user should know (not written into
    /// the document): the embedded snapshot stood in, and why.
    pub notes: Vec<String>,
}

/// The SBOM of `ws` as `opts` asks (also what `tag` hashes into its trailer), for
/// the platforms `cargo build` would build for here.
pub fn generate(ws: &Workspace, opts: &SbomOptions) -> Result<(String, Bom)> {
    generate_for(ws, opts, Build::here(opts.target.as_deref())?)
}

/// A URL a document may carry (a package's repository, homepage, documentation,
/// download): web and git schemes only (never `javascript:` or `data:`), no
/// credentials, written as the URL standard serialises it (a space or non-ASCII
/// percent-encoded); None when it is not such a URL (`clean::url` says why).
pub fn document_url(raw: &str) -> Option<String> {
    clean::url(raw).ok()
}

/// The SHA-256 of the default CycloneDX SBOM of the released `package` for a
/// platform (this machine's, or `platform`, already described by rustc), dated
/// `epoch` (the tagged commit's time), and that platform: what a release tag claims,
/// so `verify --audit` can recompute it anywhere.
pub fn release_digest(
    ws: &Workspace,
    package: &str,
    epoch: i64,
    platform: Option<Platform>,
) -> Result<(String, String)> {
    let triple = platform.as_ref().map(|p| p.triple.clone());
    let opts = SbomOptions {
        manifest: crate::options::ManifestOptions {
            packages: vec![package.to_string()],
            ..Default::default()
        },
        target: triple,
        epoch: Some(epoch),
        ..Default::default()
    };
    // The claim is recomputed on other machines: it describes the build for the
    // platform alone (host and target the same, no rustflags from this machine).
    let target = match platform {
        Some(p) => p,
        None => Platform::of(None)?,
    };
    let build = Build {
        host: target.clone(),
        target,
    };
    let (text, bom) = generate_for(ws, &opts, build)?;
    Ok((crate::digest::sha256_hex(text.as_bytes()), bom.target))
}

/// Refuses the `--features` cargo would refuse, before anything else is asked.
pub fn check_features(ws: &Workspace, opts: &SbomOptions) -> Result<()> {
    let selected = ws.build_members(&opts.manifest.packages)?;
    crate::unify::Index::new(&ws.metadata, ws.resolver()?)
        .requested(&selected, ws.current_member(), &opts.features)
        .map(|_| ())
}

/// As `generate`, with the platforms already asked of rustc.
pub fn generate_for(ws: &Workspace, opts: &SbomOptions, build: Build) -> Result<(String, Bom)> {
    if opts.vulnerabilities && opts.format != Format::CycloneDx {
        return Err(Failure::new(
            "--with-vulnerabilities writes CycloneDX `vulnerabilities`; SPDX 2.3 has no place for them",
        )
        .help("use --format cyclonedx, or --format openvex for the VEX statements alone")
        .into());
    }
    let selected = ws.build_members(&opts.manifest.packages)?;
    let index = crate::unify::Index::new(&ws.metadata, ws.resolver()?);
    let graph = index.build(
        &selected,
        ws.current_member(),
        &opts.features,
        &build.target,
        &build.host,
    )?;
    let target = build.target;
    let lock = Lockfile::read(&ws.lockfile_path())?;
    let stamp = match opts.epoch {
        Some(secs) => format_time(secs)?,
        None => timestamp(ws)?,
    };
    let mut bom = assemble(&graph, &lock, opts.no_build_deps, stamp);
    bom.target = target.triple.clone();
    if opts.vulnerabilities || opts.format == Format::OpenVex {
        (bom.vulnerabilities, bom.notes) = vulns::find(ws, &bom, opts)?;
    }
    let text = match opts.format {
        Format::CycloneDx => cyclonedx::render(&bom, opts.spec_version),
        Format::Spdx => spdx::render(&bom),
        Format::OpenVex => vulns::openvex(&bom, &bom.vulnerabilities)?,
    };
    Ok((text, bom))
}

fn assemble(
    graph: &crate::unify::Graph<'_>,
    lock: &Lockfile,
    no_build: bool,
    timestamp: String,
) -> Bom {
    let mut refs: BTreeMap<&cargo_metadata::PackageId, String> = BTreeMap::new();
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    let mut roots = Vec::new();
    let mut components = Vec::new();
    // Each package's Cargo.lock checksum, by (name, version, source): the first entry
    // of each, as a scan in order finds it (a thousand packages, a thousand entries).
    let mut checksums: HashMap<(&str, &str, Option<&str>), Option<&str>> = HashMap::new();
    for l in &lock.packages {
        checksums
            .entry((&l.name, &l.version, l.source.as_deref()))
            .or_insert(l.checksum.as_deref());
    }
    let wanted: Vec<(&cargo_metadata::PackageId, &cargo_metadata::Package, Use)> = graph
        .packages
        .iter()
        .filter(|(_, (_, used))| !(no_build && *used == Use::Build))
        .map(|(id, (pkg, used))| (*id, *pkg, *used))
        .collect();
    // Cleaning a thousand packages' metadata (SPDX expressions, URLs) is most of the
    // work here, the same for each and independent: on every core.
    let built = crate::threads::map_ordered(&wanted, |(_, pkg, used)| {
        component(pkg, &checksums, *used == Use::Build)
    });
    for ((id, _, _), mut c) in wanted.iter().zip(built) {
        // bom-refs must be unique: a path crate may share a registry crate's purl.
        let n = taken.entry(c.bom_ref.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            c.bom_ref = format!("{}#{n}", c.bom_ref);
        }
        refs.insert(id, c.bom_ref.clone());
        if graph.roots.iter().any(|r| r.id == **id) {
            roots.push(c);
        } else {
            components.push(c);
        }
    }
    let mut dependencies: BTreeMap<String, Vec<String>> =
        refs.values().map(|r| (r.clone(), Vec::new())).collect();
    for (from, to, _) in &graph.edges {
        if let (Some(f), Some(t)) = (refs.get(from), refs.get(to)) {
            dependencies.entry(f.clone()).or_default().push(t.clone());
        }
    }
    for deps in dependencies.values_mut() {
        deps.sort();
        deps.dedup();
    }
    roots.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    components.sort_by(|a, b| a.bom_ref.cmp(&b.bom_ref));
    Bom {
        roots,
        components,
        dependencies,
        timestamp,
        target: String::new(),
        vulnerabilities: Vec::new(),
        notes: Vec::new(),
    }
}

/// The package as the documents write it: every field from its Cargo.toml cleaned
/// (`clean`), what was changed or left out noted in `cleaned`.
fn component(
    p: &cargo_metadata::Package,
    checksums: &HashMap<(&str, &str, Option<&str>), Option<&str>>,
    build_time: bool,
) -> Component {
    let raw_name = p.name.to_string();
    let raw_version = p.version.to_string();
    let mut log = clean::Log::default();
    // The purl and SPDX id are built from these: cleaned and capped first.
    let name = log.text("name", &raw_name, clean::NAME_CAP, false);
    let version = log.text("version", &raw_version, clean::VERSION_CAP, false);
    let source = p.source.as_ref().map(|s| s.repr.clone());
    let crates_io = source.as_deref().is_some_and(|s| {
        s == "registry+https://github.com/rust-lang/crates.io-index"
            || s == "sparse+https://index.crates.io/"
    });
    let purl = purl(&name, &version, source.as_deref(), crates_io);
    let sha256 = checksums
        .get(&(raw_name.as_str(), raw_version.as_str(), source.as_deref()))
        .copied()
        .flatten()
        .map(str::to_string);
    let file_name = |log: &mut clean::Log, file: &cargo_metadata::camino::Utf8Path| {
        let name = file.file_name().unwrap_or(file.as_str());
        License::File(log.text("license-file name", name, clean::FILE_NAME_CAP, false))
    };
    let license = match (&p.license, &p.license_file) {
        (Some(expr), file) => match clean::license_expression(expr) {
            Ok(canon) => License::Expression(canon),
            Err(why) => {
                log.note(format!(
                    "its license `{}` {why}; left out",
                    clean::shown(expr)
                ));
                match file {
                    Some(f) => file_name(&mut log, f),
                    None => License::None,
                }
            }
        },
        (None, Some(file)) => file_name(&mut log, file),
        (None, None) => License::None,
    };
    let license_ref = match &license {
        License::Expression(e) => clean::ref_text(
            e,
            p.manifest_path.as_std_path(),
            p.license_file.as_deref().map(|f| f.as_std_path()),
        ),
        _ => clean::RefText::None,
    };
    let description = p
        .description
        .as_deref()
        .map(|d| log.text("description", d, clean::DESCRIPTION_CAP, true))
        .filter(|d| !d.is_empty());
    let authors = log.authors(&p.authors);
    let repository = log.url("repository", p.repository.as_deref());
    let homepage = log.url("homepage", p.homepage.as_deref());
    let documentation = log.url("documentation", p.documentation.as_deref());
    let download = crates_io
        .then(|| format!("https://crates.io/api/v1/crates/{name}/{version}/download"))
        .and_then(|u| log.url("download URL", Some(&u)));
    Component {
        bom_ref: purl.clone(),
        cleaned: log.finish(&name, &version),
        download,
        crates_io,
        name,
        version,
        purl,
        sha256,
        license,
        license_ref,
        description,
        authors,
        repository,
        homepage,
        documentation,
        build_time,
    }
}

/// `pkg:cargo/NAME@VERSION`, with `repository_url` for another registry and
/// `vcs_url=git+URL@REV` for git sources; percent-encoded per the purl spec.
pub fn purl(name: &str, version: &str, source: Option<&str>, crates_io: bool) -> String {
    let mut p = format!("pkg:cargo/{}@{}", encode(name), encode(version));
    match source {
        Some(_) if crates_io => {}
        Some(s) if s.starts_with("git+") => {
            // git+URL?query#COMMIT
            let (url, commit) = s.split_once('#').unwrap_or((s, ""));
            let url = url.split('?').next().unwrap_or(url);
            let vcs = if commit.is_empty() {
                url.to_string()
            } else {
                format!("{url}@{commit}")
            };
            p.push_str(&format!("?vcs_url={}", encode(&vcs)));
        }
        Some(s) => {
            let url = s
                .strip_prefix("registry+")
                .or_else(|| s.strip_prefix("sparse+"))
                .unwrap_or(s);
            p.push_str(&format!("?repository_url={}", encode(url)));
        }
        None => {}
    }
    p
}

/// Percent-encodes all but the purl spec's unreserved characters and `:` and `/`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `SOURCE_DATE_EPOCH`, else the HEAD commit's time, else now: RFC 3339 UTC.
fn timestamp(ws: &Workspace) -> Result<String> {
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => v.trim().parse::<i64>().map_err(|_| {
            Failure::new(format!(
                "SOURCE_DATE_EPOCH=`{}` is not a number of seconds",
                escape(&v)
            ))
            .help("set it to a Unix time, e.g. `SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`")
        })?,
        _ => match crate::git::Repo::find(&ws.root).and_then(|r| r.head_commit().ok()) {
            Some(c) => c.time,
            None => jiff::Timestamp::now().as_second(),
        },
    };
    format_time(secs)
}

fn format_time(secs: i64) -> Result<String> {
    let ts = jiff::Timestamp::from_second(secs)
        .map_err(|e| Failure::new(format!("the SBOM time {secs} is out of range: {e}")))?;
    Ok(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A UUID v5 of the document's content (minus its own serial number), so the same
/// build gives the same serial.
pub fn content_uuid(content: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, content.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn document_urls_are_web_urls_written_encoded() {
        use super::document_url;
        assert_eq!(
            document_url("https://github.com/o/my repo").as_deref(),
            Some("https://github.com/o/my%20repo")
        );
        assert_eq!(
            document_url("https://é.example/ü").as_deref(),
            Some("https://xn--9ca.example/%C3%BC")
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "not a url",
            "",
        ] {
            assert_eq!(document_url(bad), None, "{bad}");
        }
    }

    use super::*;

    #[test]
    fn purls_follow_the_spec() {
        let cio = "registry+https://github.com/rust-lang/crates.io-index";
        assert_eq!(
            purl("time", "0.1.43", Some(cio), true),
            "pkg:cargo/time@0.1.43"
        );
        assert_eq!(
            purl("x", "1.0.0+build.1", Some(cio), true),
            "pkg:cargo/x@1.0.0%2Bbuild.1"
        );
        assert_eq!(
            purl(
                "x",
                "1.0.0",
                Some("git+https://example.org/x.git?rev=abc#0123abcd"),
                false
            ),
            "pkg:cargo/x@1.0.0?vcs_url=git%2Bhttps://example.org/x.git%400123abcd"
        );
        assert_eq!(
            purl(
                "x",
                "1.0.0",
                Some("sparse+https://reg.example/index/"),
                false
            ),
            "pkg:cargo/x@1.0.0?repository_url=https://reg.example/index/"
        );
        assert_eq!(purl("x", "1.0.0", None, false), "pkg:cargo/x@1.0.0");
    }
}
