//! Package metadata made fit to write. A Cargo.toml, ours or a dependency's, may hold
//! anything: control characters, a megabyte of description, `Ann <not an email>`, a
//! `javascript:` homepage, a URL with a password in it. Every document we write must
//! stay valid for its schema and for the validators of others whatever it holds, and
//! say the same bytes for the same input; what had to be changed or left out is told
//! to the user as a note naming the package (`notes`), never silently.

use super::{Bom, Format};
use crate::error::escape;
use std::path::Path;

/// Caps, in UTF-8 bytes, for what we echo from a Cargo.toml. None binds a real
/// package; each bounds what one hostile package can make of a document (and of
/// the SPDX ids and purls built from its name and version).
/// crates.io takes names of at most 64 characters; 256 leaves room for local ones.
pub const NAME_CAP: usize = 256;
/// Below CycloneDX 1.6's 1024 for `version`, with room for a long pre-release tag.
pub const VERSION_CAP: usize = 256;
/// A few paragraphs: crates.io shows descriptions as one line, and thousands of
/// packages times this stay a document of a few megabytes.
pub const DESCRIPTION_CAP: usize = 4096;
/// One `Name <email>`: 254 is the longest email RFC 5321 lets through.
pub const AUTHOR_CAP: usize = 512;
/// Crates with more authors list a team instead; more is an attempt to bloat the
/// document, not credit.
pub const AUTHORS_MAX: usize = 64;
/// The longest URL browsers and servers commonly take. A longer URL is left out,
/// never cut: a cut URL points somewhere else.
pub const URL_CAP: usize = 2048;
/// The longest license expressions on crates.io are a few hundred bytes.
pub const LICENSE_CAP: usize = 1024;
/// A license-file name, as CycloneDX echoes it.
pub const FILE_NAME_CAP: usize = 256;
/// The license text an SPDX document carries for a `LicenseRef-…`: the longest
/// real license texts are tens of kilobytes.
pub const LICENSE_TEXT_LIMIT: u64 = 1 << 20;
/// How much of a dropped value a note echoes.
const SHOWN_CAP: usize = 80;

/// An author as `Name <email>` splits it; the email only when it is one (CycloneDX
/// checks `idn-email`, SPDX parses `Person: name (email)`), the name never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub email: Option<String>,
}

impl std::fmt::Display for Author {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.email {
            Some(e) if *e != self.name => write!(f, "{} <{e}>", self.name),
            _ => f.write_str(&self.name),
        }
    }
}

/// The text behind a license expression's `LicenseRef-…`, which an SPDX document
/// must carry as `hasExtractedLicensingInfos` (CycloneDX's `expression` needs none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefText {
    /// The expression names no `LicenseRef-…`.
    None,
    /// The one `LicenseRef-…` it names (`LicenseRef-` included), and the text of the
    /// package's license-file.
    Found { id: String, text: String },
    /// Why its `LicenseRef-…` have no text here.
    Missing(String),
}

/// What cleaning one text changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changes {
    /// Control, bidirectional-override or non-characters replaced by U+FFFD.
    pub replaced: bool,
    /// Longer than its cap, cut (at a character, with `…`).
    pub cut: bool,
}

/// `raw` as a document may carry it: control characters that could rewrite a
/// terminal (an escape sequence, a NUL) and the bidirectional overrides that make
/// text read other than it is become U+FFFD; whitespace controls become a space
/// (or stay a line break or tab where `lines` allows them, CRLF read as LF); then
/// cut to `cap` bytes and trimmed. The same input gives the same output.
pub fn text(raw: &str, cap: usize, lines: bool) -> (String, Changes) {
    let mut changes = Changes::default();
    let mut out = String::with_capacity(raw.len().min(cap.saturating_add(4)));
    let mut chars = raw.chars().peekable();
    let mut stopped = false;
    while let Some(c) = chars.next() {
        let keep = match c {
            '\r' if lines => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
                continue;
            }
            '\n' | '\t' if lines => c,
            c if c.is_control() && c.is_whitespace() => ' ',
            c if c.is_control() || is_bidi_control(c) || is_noncharacter(c) => {
                changes.replaced = true;
                char::REPLACEMENT_CHARACTER
            }
            c => c,
        };
        out.push(keep);
        // Never more than the cap and a character: the rest would be cut anyway.
        if out.len() > cap {
            // Cut only when something but blanks follows.
            stopped = chars.any(|c| !c.is_whitespace());
            break;
        }
    }
    let trimmed = out.trim();
    if trimmed.len() <= cap && !stopped {
        return (trimmed.to_string(), changes);
    }
    changes.cut = true;
    let mut end = cap.saturating_sub('…'.len_utf8()).min(trimmed.len());
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = trimmed[..end].trim_end().to_string();
    cut.push('…');
    (cut, changes)
}

/// The embeddings, overrides and isolates of Unicode's bidirectional algorithm, the
/// "Trojan Source" characters (CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Unicode's non-characters, which XML (and so SPDX's RDF and CycloneDX's XML forms
/// of the same document) cannot hold.
fn is_noncharacter(c: char) -> bool {
    matches!(c, '\u{FDD0}'..='\u{FDEF}') || (c as u32) & 0xFFFE == 0xFFFE
}

/// Whether `s` is an email address: `local@domain`, the local part RFC 5322's
/// dot-atom (or non-ASCII, RFC 6531), the domain dot-separated labels of letters,
/// digits and inner hyphens. Stricter than the validators (JSON Schema's `idn-email`
/// asks for an `@`), and never a parenthesis, which would break SPDX's
/// `Person: name (email)`.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || "!#$%&'*+/=?^_`{|}~-.".contains(c)
                || (!c.is_ascii() && c.is_alphanumeric())
        });
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    s.len() <= 254 && local_ok && domain_ok
}

/// Why a URL cannot be written, or the URL as the URL standard serialises it (a
/// space or non-ASCII percent-encoded): web and git schemes only (never
/// `javascript:`, `data:` or `file:`), no password anywhere and no user name on
/// http(s), where it is a token (`https://TOKEN@host/…`); at most `URL_CAP` bytes.
pub fn url(raw: &str) -> Result<String, &'static str> {
    if raw.len() > URL_CAP {
        return Err("is longer than 2048 bytes");
    }
    let u = url::Url::parse(raw.trim()).map_err(|_| "is not a URL")?;
    if !matches!(u.scheme(), "https" | "http" | "git" | "ssh") {
        return Err("is not a web or git URL (https, http, git or ssh)");
    }
    if u.password().is_some()
        || (matches!(u.scheme(), "https" | "http") && !u.username().is_empty())
    {
        return Err(CREDENTIALS);
    }
    let s = u.to_string();
    if s.len() > URL_CAP {
        return Err("is longer than 2048 bytes");
    }
    if s.chars().any(char::is_control) {
        return Err("is not a URL");
    }
    Ok(s)
}

const CREDENTIALS: &str = "carries credentials (not shown here)";

/// `raw` shortened and escaped, as a note echoes a value it left out.
pub fn shown(raw: &str) -> String {
    let mut end = raw.len().min(SHOWN_CAP);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    let more = if end < raw.len() { "…" } else { "" };
    format!("{}{more}", escape(&raw[..end]))
}

/// The notes about one package, gathered while its fields are cleaned.
#[derive(Debug, Default)]
pub struct Log {
    notes: Vec<String>,
}

impl Log {
    /// A note about the package (its name is added by `finish`).
    pub fn note(&mut self, what: String) {
        self.notes.push(what);
    }

    /// `text`, with a note of what it changed in the package's `field`.
    pub fn text(&mut self, field: &str, raw: &str, cap: usize, lines: bool) -> String {
        let (s, changes) = text(raw, cap, lines);
        if changes.replaced {
            self.note(format!(
                "control or bidirectional-override characters in its {field} were replaced by U+FFFD"
            ));
        }
        if changes.cut {
            self.note(format!(
                "its {field} is longer than {cap} bytes and was cut"
            ));
        }
        s
    }

    /// `url`, with a note when the package's `field` is left out.
    pub fn url(&mut self, field: &str, raw: Option<&str>) -> Option<String> {
        let raw = raw?;
        match url(raw) {
            Ok(u) => Some(u),
            Err(why) => {
                // A note goes to terminals and CI logs: never the secret itself.
                let echoed = match url::Url::parse(raw.trim()) {
                    Ok(mut u) if why == CREDENTIALS => {
                        let _ = u.set_password(None);
                        let _ = u.set_username("");
                        u.to_string()
                    }
                    _ => raw.to_string(),
                };
                self.note(format!("its {field} `{}` {why}; left out", shown(&echoed)));
                None
            }
        }
    }

    /// The package's authors, each cleaned and split (`author`), at most `AUTHORS_MAX`.
    pub fn authors(&mut self, raw: &[String]) -> Vec<Author> {
        if raw.len() > AUTHORS_MAX {
            self.note(format!(
                "it lists {} authors; the first {AUTHORS_MAX} are written",
                raw.len()
            ));
        }
        raw.iter()
            .take(AUTHORS_MAX)
            .filter_map(|a| self.author(a))
            .collect()
    }

    /// `Name <email>`, `Name` or `email` as an `Author`: an email that is not one is
    /// left out with a note; None when nothing is left.
    pub fn author(&mut self, raw: &str) -> Option<Author> {
        let (s, changes) = text(raw, AUTHOR_CAP, false);
        let (mut name, email) = match s.split_once('<') {
            Some((before, rest)) => {
                let (email, after) = rest.split_once('>').unwrap_or((rest, ""));
                let name = format!("{} {}", before.trim(), after.trim());
                (name.trim().to_string(), Some(email.trim().to_string()))
            }
            None if is_email(s.trim()) => (String::new(), Some(s.trim().to_string())),
            None => (s.trim().to_string(), None),
        };
        let email = match email.filter(|e| !e.is_empty()) {
            Some(e) if is_email(&e) => Some(e),
            Some(e) => {
                self.note(format!(
                    "the email `{}` of its author `{}` is not an email address; left out",
                    shown(&e),
                    shown(&name)
                ));
                None
            }
            None => None,
        };
        if changes.replaced {
            self.note(format!(
                "control or bidirectional-override characters in its author `{}` were replaced by U+FFFD",
                shown(&name)
            ));
        }
        if changes.cut {
            self.note(format!(
                "its author `{}` is longer than {AUTHOR_CAP} bytes and was cut",
                shown(&name)
            ));
        }
        if name.is_empty() {
            name = email.clone()?;
        }
        Some(Author { name, email })
    }

    /// The notes, each naming the package.
    pub fn finish(self, name: &str, version: &str) -> Vec<String> {
        self.notes
            .into_iter()
            .map(|n| format!("package `{} {}`: {n}", escape(name), escape(version)))
            .collect()
    }
}

/// A Cargo `license` as an SPDX expression a document may carry: canonical (`MIT/
/// Apache-2.0` is `MIT OR Apache-2.0`) and one the SPDX grammar parses (canonicalising
/// alone reads tokens: `MIT OR` would pass it); else why not.
pub fn license_expression(raw: &str) -> Result<String, &'static str> {
    if raw.len() > LICENSE_CAP {
        return Err("is longer than 1024 bytes");
    }
    let canon = match ::spdx::Expression::canonicalize(raw) {
        Ok(Some(canon)) => canon,
        Ok(None) => raw.trim().to_string(),
        Err(_) => return Err("is not an SPDX license expression"),
    };
    match ::spdx::Expression::parse_mode(&canon, ::spdx::ParseMode::LAX) {
        Ok(_) => Ok(canon),
        Err(_) => Err("is not an SPDX license expression"),
    }
}

/// The `LicenseRef-…` text of a package whose license expression is `expr`: its
/// license-file's, read when the expression names exactly one `LicenseRef-…` (one
/// file cannot be the text of two) and the file is in the package's directory (a
/// dependency's `license-file = "/home/me/.ssh/id_ed25519"` must not end up in a
/// published document), a UTF-8 regular file of at most `LICENSE_TEXT_LIMIT` bytes.
pub fn ref_text(expr: &str, manifest_path: &Path, license_file: Option<&Path>) -> RefText {
    let Ok(parsed) = ::spdx::Expression::parse_mode(expr, ::spdx::ParseMode::LAX) else {
        return RefText::None;
    };
    let mut local = std::collections::BTreeSet::new();
    let mut foreign = false;
    for r in parsed.requirements() {
        if let ::spdx::LicenseItem::Other(lr) = &r.req.license {
            match lr.doc_ref {
                Some(_) => foreign = true,
                None => {
                    local.insert(format!("LicenseRef-{}", lr.lic_ref));
                }
            }
        }
        if let Some(::spdx::AdditionItem::Other(_)) = &r.req.addition {
            foreign = true;
        }
    }
    if foreign {
        return RefText::Missing(
            "it names a DocumentRef-… or AdditionRef-…, which SPDX 2.3 documents cannot resolve"
                .into(),
        );
    }
    let id = match local.len() {
        0 => return RefText::None,
        1 => local.into_iter().next().unwrap_or_default(),
        n => {
            return RefText::Missing(format!(
                "it names {n} LicenseRef-… and a package has one license-file: which text is whose cannot be told"
            ))
        }
    };
    let Some(file) = license_file else {
        return RefText::Missing(format!("{id} has no license-file to take its text from"));
    };
    let Some(dir) = manifest_path.parent() else {
        return RefText::Missing(format!("{id}: the package has no directory"));
    };
    let path = dir.join(file);
    let shown_file = shown(&file.display().to_string());
    let inside = match (path.canonicalize(), dir.canonicalize()) {
        (Ok(p), Ok(d)) => p.starts_with(d),
        _ => {
            return RefText::Missing(format!(
                "its license-file `{shown_file}` (the text of {id}) does not exist"
            ))
        }
    };
    if !inside {
        return RefText::Missing(format!(
            "its license-file `{shown_file}` (the text of {id}) is outside the package's directory, so it is not read"
        ));
    }
    match crate::fsutil::read_text(&path, LICENSE_TEXT_LIMIT, "license file") {
        Ok(raw) => {
            // Never cut: a cut license is another license. The read is bounded.
            let (text, _) = text(&raw, usize::MAX, true);
            if text.is_empty() {
                RefText::Missing(format!(
                    "its license-file `{shown_file}` (the text of {id}) is empty"
                ))
            } else {
                RefText::Found { id, text }
            }
        }
        Err(e) => RefText::Missing(format!(
            "its license-file `{shown_file}` (the text of {id}) could not be read: {}",
            escape(&e.to_string())
        )),
    }
}

/// What the user should know about the cleaning of `bom` written as `format`: the
/// notes of every package (both document formats carry the same cleaned fields),
/// and what only SPDX leaves out. OpenVEX carries no package metadata but authors.
pub fn notes(bom: &Bom, format: Format) -> Vec<String> {
    let all = || bom.roots.iter().chain(&bom.components);
    match format {
        Format::CycloneDx => all().flat_map(|c| c.cleaned.iter().cloned()).collect(),
        Format::Spdx => all()
            .flat_map(|c| c.cleaned.iter().cloned())
            .chain(super::spdx::notes(bom))
            .collect(),
        Format::OpenVex => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_replaced_whitespace_kept() {
        let (s, ch) = text("a\u{1b}[31mred\u{0}\u{7f} \u{202e}x\u{85}", 100, false);
        assert_eq!(s, "a\u{FFFD}[31mred\u{FFFD}\u{FFFD} \u{FFFD}x");
        assert!(ch.replaced && !ch.cut);
        // Whitespace controls: a space on one line; kept (CRLF as LF) where lines may be.
        assert_eq!(text("a\tb\nc", 100, false).0, "a b c");
        assert_eq!(text("a\r\nb\rc\td", 100, true).0, "a\nb\nc\td");
        assert_eq!(
            text("  plain  ", 100, false),
            ("plain".into(), Changes::default())
        );
        assert_eq!(text("\u{FFFE}\u{FDD0}", 100, false).0, "\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let (s, ch) = text(&"é".repeat(100), 11, false);
        assert!(ch.cut && !ch.replaced);
        assert!(s.len() <= 11, "{s}");
        assert_eq!(s, "éééé…");
        // A huge input is not copied whole.
        let (s, ch) = text(&"x".repeat(10 << 20), DESCRIPTION_CAP, true);
        assert!(ch.cut);
        assert_eq!(s.len(), DESCRIPTION_CAP);
        // Exactly the cap is not cut.
        assert_eq!(text("abc", 3, false), ("abc".into(), Changes::default()));
        assert_eq!(
            text("abc    ", 3, false),
            ("abc".into(), Changes::default())
        );
        // Blanks at the cap do not hide what follows them.
        assert!(text(&format!("{}  tail", "a".repeat(20)), 21, false).1.cut);
    }

    #[test]
    fn emails_are_checked_strictly() {
        for good in [
            "ann@example.org",
            "a.b+tag@sub.example.co.uk",
            "ü@bücher.example",
            "root@localhost",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "not an email",
            "@example.org",
            "ann@",
            "ann@@example.org",
            "a..b@example.org",
            ".a@example.org",
            "ann@-example.org",
            "ann@example..org",
            "ann (x)@example.org",
            "ann@exa mple.org",
            "ann@example.org)",
            "",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(!is_email(&format!("{}@example.org", "a".repeat(65))));
    }

    #[test]
    fn authors_keep_their_name_and_only_a_real_email() {
        let mut log = Log::default();
        assert_eq!(
            log.author("Ann <not an email>"),
            Some(Author {
                name: "Ann".into(),
                email: None
            })
        );
        assert_eq!(
            log.author(" Bob <bob@example.org> "),
            Some(Author {
                name: "Bob".into(),
                email: Some("bob@example.org".into())
            })
        );
        let only_email = log.author("carol@example.org").unwrap();
        assert_eq!(only_email.name, "carol@example.org");
        assert_eq!(only_email.to_string(), "carol@example.org");
        assert_eq!(log.author("<>"), None);
        assert_eq!(
            log.author("Dee\u{1b}[2J <dee@example.org")
                .map(|a| a.to_string()),
            Some("Dee\u{FFFD}[2J <dee@example.org>".into())
        );
        let notes = log.finish("p", "1.0.0");
        assert_eq!(notes.len(), 2, "{notes:#?}");
        assert_eq!(
            notes[0],
            "package `p 1.0.0`: the email `not an email` of its author `Ann` is not an email address; left out"
        );
        assert!(notes[1].contains("author `Dee\u{FFFD}[2J`"), "{}", notes[1]);
    }

    #[test]
    fn too_many_authors_are_capped_with_a_note() {
        let mut log = Log::default();
        let many: Vec<String> = (0..100).map(|i| format!("A{i}")).collect();
        assert_eq!(log.authors(&many).len(), AUTHORS_MAX);
        assert_eq!(
            log.finish("p", "1"),
            ["package `p 1`: it lists 100 authors; the first 64 are written"]
        );
    }

    #[test]
    fn urls_are_web_urls_without_credentials() {
        assert_eq!(
            url("https://github.com/o/my repo").as_deref(),
            Ok("https://github.com/o/my%20repo")
        );
        assert_eq!(
            url("ssh://git@github.com/o/r").as_deref(),
            Ok("ssh://git@github.com/o/r")
        );
        assert_eq!(
            url("javascript:alert(1)"),
            Err("is not a web or git URL (https, http, git or ssh)")
        );
        assert_eq!(url("https://u:pw@example.org/"), Err(CREDENTIALS));
        assert_eq!(url("https://ghp_token@github.com/o/r"), Err(CREDENTIALS));
        assert_eq!(url("git://u:pw@example.org/r"), Err(CREDENTIALS));
        assert_eq!(url("no"), Err("is not a URL"));
        let long = format!("https://example.org/{}", "a".repeat(URL_CAP));
        assert_eq!(url(&long), Err("is longer than 2048 bytes"));
        // Percent-encoding may make a URL under the cap longer than it.
        let grows = format!("https://example.org/{}x", " ".repeat(URL_CAP - 40));
        assert_eq!(url(&grows), Err("is longer than 2048 bytes"));
        let mut log = Log::default();
        assert_eq!(log.url("homepage", Some("javascript:alert(1)")), None);
        assert_eq!(log.url("homepage", None), None);
        assert_eq!(
            log.url("repository", Some("https://me:hunter2@example.org/r")),
            None
        );
        assert_eq!(
            log.finish("p", "1"),
            [
                "package `p 1`: its homepage `javascript:alert(1)` is not a web or git URL (https, http, git or ssh); left out",
                "package `p 1`: its repository `https://example.org/r` carries credentials (not shown here); left out",
            ]
        );
    }

    #[test]
    fn notes_echo_values_short_and_escaped() {
        assert_eq!(shown("a\u{1b}b"), "a\\u{1b}b");
        let long = shown(&"é".repeat(100));
        assert!(long.ends_with('…') && long.len() <= SHOWN_CAP + 3, "{long}");
    }

    #[test]
    fn license_expressions_must_parse() {
        assert_eq!(
            license_expression("MIT/Apache-2.0").as_deref(),
            Ok("MIT OR Apache-2.0")
        );
        assert_eq!(
            license_expression("LicenseRef-Custom OR MIT").as_deref(),
            Ok("LicenseRef-Custom OR MIT")
        );
        for bad in [
            "MIT OR",
            "(MIT",
            "Proprietary",
            "MIT AND AND Apache-2.0",
            "",
        ] {
            assert!(license_expression(bad).is_err(), "{bad}");
        }
        assert!(license_expression(&"MIT OR ".repeat(200)).is_err());
    }

    #[test]
    fn a_license_ref_takes_its_text_from_the_license_file_inside_the_package() {
        let dir = tempfile::TempDir::new().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let manifest = pkg.join("Cargo.toml");
        std::fs::write(pkg.join("LICENSE"), "Custom terms\r\n\u{c}page 2\n").unwrap();
        std::fs::write(dir.path().join("SECRET"), "not a license").unwrap();
        std::fs::write(pkg.join("EMPTY"), " \n").unwrap();
        assert_eq!(
            ref_text("MIT", &manifest, Some(Path::new("LICENSE"))),
            RefText::None
        );
        assert_eq!(
            ref_text(
                "LicenseRef-Custom OR MIT",
                &manifest,
                Some(Path::new("LICENSE"))
            ),
            RefText::Found {
                id: "LicenseRef-Custom".into(),
                text: "Custom terms\n page 2".into()
            }
        );
        let missing =
            |expr: &str, file: Option<&str>| match ref_text(expr, &manifest, file.map(Path::new)) {
                RefText::Missing(why) => why,
                other => panic!("{other:?}"),
            };
        assert!(missing("LicenseRef-A", None).contains("has no license-file"));
        assert!(missing("LicenseRef-A", Some("../SECRET")).contains("outside the package"));
        assert!(missing("LicenseRef-A", Some("NOPE")).contains("does not exist"));
        assert!(missing("LicenseRef-A", Some("EMPTY")).contains("is empty"));
        assert!(missing("LicenseRef-A OR LicenseRef-B", Some("LICENSE")).contains("names 2"));
        assert!(missing("DocumentRef-d:LicenseRef-A", Some("LICENSE")).contains("DocumentRef"));
    }
}
