//! The claims a release tag makes about what it released, in its message's
//! trailer: written by `tag` and read back by `verify` (and, next, the artifact
//! attestations) through this one type, so the two can never disagree on a key or
//! a value's shape.
//!
//! The trailer is the message's last paragraph, as git's `interpret-trailers` reads
//! it. A claim is only believed where a reader would look for it: one of our keys
//! anywhere else in the message, a key given twice, or a line of the trailer that
//! is not one of our claims makes the whole trailer unreadable (`verify` says BAD),
//! never "the first line that matches wins".

use std::fmt::Write as _;

/// Every key a release trailer may hold, in the order `tag` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    ReleasedWith,
    Package,
    CargoLockSha256,
    SbomSha256,
    /// One line per advisory database the audit read.
    AdvisoryDb,
    Audit,
}

impl Key {
    pub const ALL: [Key; 6] = [
        Key::ReleasedWith,
        Key::Package,
        Key::CargoLockSha256,
        Key::SbomSha256,
        Key::AdvisoryDb,
        Key::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Key::ReleasedWith => "Released-with",
            Key::Package => "Package",
            Key::CargoLockSha256 => "Cargo-lock-sha256",
            Key::SbomSha256 => "Sbom-sha256",
            Key::AdvisoryDb => "Advisory-db",
            Key::Audit => "Audit",
        }
    }

    fn repeatable(self) -> bool {
        self == Key::AdvisoryDb
    }

    /// The key a line starts with, as git matches trailer keys (case-insensitively,
    /// spaces allowed before the colon).
    fn of_line(line: &str) -> Option<(Key, &str)> {
        let (key, value) = line.split_once(':')?;
        let key = key.trim_end();
        let found = Key::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(key))?;
        Some((found, value.trim()))
    }
}

/// `Package: NAME VERSION MANIFEST`: the released package and its manifest,
/// relative to the top of the repository (the manifest may hold spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub manifest: String,
}

/// `Sbom-sha256: HASH (CycloneDX, TRIPLE)`: the SHA-256 of the release's default
/// CycloneDX SBOM for a platform. Tags made before the platform was written have
/// the hash alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sbom {
    pub sha256: String,
    pub platform: Option<String>,
}

/// Between the hash and the platform in the `Sbom-sha256` value.
const SBOM_PLATFORM: &str = " (CycloneDX, ";

impl Sbom {
    fn render(&self) -> String {
        match &self.platform {
            Some(p) => format!("{}{SBOM_PLATFORM}{p})", self.sha256),
            None => self.sha256.clone(),
        }
    }

    fn parse(value: &str) -> Sbom {
        match value.split_once(SBOM_PLATFORM) {
            Some((hash, rest)) => Sbom {
                sha256: hash.to_string(),
                platform: rest.strip_suffix(')').map(str::to_string),
            },
            None => Sbom {
                sha256: value.to_string(),
                platform: None,
            },
        }
    }
}

/// What a release tag claims. Read back, each claim carries the 1-based line of the
/// tag object it was read from (`line`), for messages that point at it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claims {
    /// `NAME VERSION` of the tool that made the tag.
    pub released_with: Option<String>,
    pub package: Option<Package>,
    pub cargo_lock_sha256: Option<String>,
    pub sbom: Option<Sbom>,
    pub advisory_dbs: Vec<String>,
    pub audit: Option<String>,
    /// Where each claim was read (filled by `parse`; empty for claims to write).
    pub lines: Vec<(Key, usize)>,
}

/// Why a trailer cannot be believed; `line` is 1-based in the text parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub line: usize,
    pub why: String,
}

impl Claims {
    /// The trailer paragraph, every line `Key: value` (no leading blank line).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |k: Key, v: &str| {
            let _ = writeln!(out, "{}: {v}", k.as_str());
        };
        if let Some(v) = &self.released_with {
            line(Key::ReleasedWith, v);
        }
        if let Some(p) = &self.package {
            line(
                Key::Package,
                &format!("{} {} {}", p.name, p.version, p.manifest),
            );
        }
        if let Some(v) = &self.cargo_lock_sha256 {
            line(Key::CargoLockSha256, v);
        }
        if let Some(s) = &self.sbom {
            line(Key::SbomSha256, &s.render());
        }
        for db in &self.advisory_dbs {
            line(Key::AdvisoryDb, db);
        }
        if let Some(v) = &self.audit {
            line(Key::Audit, v);
        }
        out
    }

    /// The claims of a tag object (header, blank line, message) or of a bare
    /// message. No claim at all when the last paragraph holds none of our keys and
    /// no other line does either (a tag made by git alone).
    pub fn parse(object: &str) -> Result<Claims, Unreadable> {
        let lines: Vec<&str> = object.lines().collect();
        // The message starts after the header's blank line, when there is a header.
        let body_start = match lines.first() {
            Some(l) if l.starts_with("object ") => lines
                .iter()
                .position(|l| l.is_empty())
                .map_or(lines.len(), |i| i + 1),
            _ => 0,
        };
        let end = lines
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .map_or(body_start, |i| i + 1)
            .max(body_start);
        let trailer_start = lines[body_start..end]
            .iter()
            .rposition(|l| l.trim().is_empty())
            .map_or(body_start, |i| body_start + i + 1);
        // Only a paragraph after the subject can be a trailer.
        let trailer_start = match trailer_start == body_start {
            true => end,
            false => trailer_start,
        };
        let ours_in_trailer = lines[trailer_start..end]
            .iter()
            .any(|l| Key::of_line(l).is_some());
        for (i, l) in lines[body_start..trailer_start].iter().enumerate() {
            if let Some((k, _)) = Key::of_line(l) {
                return Err(Unreadable {
                    line: body_start + i + 1,
                    why: format!(
                        "`{}:` appears above the tag's trailer (its last paragraph), where no claim is read",
                        k.as_str()
                    ),
                });
            }
        }
        let mut claims = Claims::default();
        if !ours_in_trailer {
            return Ok(claims);
        }
        for (i, l) in lines[trailer_start..end].iter().enumerate() {
            let line = trailer_start + i + 1;
            let Some((key, value)) = Key::of_line(l) else {
                return Err(Unreadable {
                    line,
                    why: "the trailer has a line that is not one of the claims this tool reads"
                        .into(),
                });
            };
            if !key.repeatable() && claims.lines.iter().any(|(k, _)| *k == key) {
                return Err(Unreadable {
                    line,
                    why: format!("`{}:` is claimed twice", key.as_str()),
                });
            }
            claims.lines.push((key, line));
            let value = value.to_string();
            match key {
                Key::ReleasedWith => claims.released_with = Some(value),
                Key::Package => {
                    let mut parts = value.splitn(3, ' ');
                    let (Some(name), Some(version), Some(manifest)) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        return Err(Unreadable {
                            line,
                            why: "`Package:` does not read NAME VERSION MANIFEST".into(),
                        });
                    };
                    claims.package = Some(Package {
                        name: name.into(),
                        version: version.into(),
                        manifest: manifest.into(),
                    });
                }
                Key::CargoLockSha256 => claims.cargo_lock_sha256 = Some(value),
                Key::SbomSha256 => claims.sbom = Some(Sbom::parse(&value)),
                Key::AdvisoryDb => claims.advisory_dbs.push(value),
                Key::Audit => claims.audit = Some(value),
            }
        }
        Ok(claims)
    }

    /// The line a claim was read from (the first, for a repeatable key).
    pub fn line(&self, key: Key) -> Option<usize> {
        self.lines.iter().find(|(k, _)| *k == key).map(|(_, l)| *l)
    }
}

/// The first line of a message that a reader of the trailer would take for a
/// claim: `tag` refuses such a message rather than write a tag `verify` rejects.
pub fn claim_line(message: &str) -> Option<(usize, &str)> {
    message
        .lines()
        .enumerate()
        .find(|(_, l)| Key::of_line(l).is_some())
        .map(|(i, l)| (i + 1, l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written() -> Claims {
        Claims {
            released_with: Some("cargo-secure-release 0.1.0".into()),
            package: Some(Package {
                name: "demo".into(),
                version: "1.2.0".into(),
                manifest: "crates/my demo/Cargo.toml".into(),
            }),
            cargo_lock_sha256: Some("ab".repeat(32)),
            sbom: Some(Sbom {
                sha256: "cd".repeat(32),
                platform: Some("x86_64-unknown-linux-gnu".into()),
            }),
            advisory_dbs: vec!["snapshot, newest advisory 2026-08-20, 1205 advisories".into()],
            audit: Some("0 errors, 1 warning".into()),
            lines: Vec::new(),
        }
    }

    fn object(message: &str) -> String {
        format!("object 0123\ntype commit\ntag v1.2.0\ntagger A <a@b> 1 +0000\n\n{message}")
    }

    #[test]
    fn what_is_written_is_read_back_with_its_lines() {
        let c = written();
        let text = object(&format!("Release demo 1.2.0\n\n{}", c.render()));
        let back = Claims::parse(&text).unwrap();
        assert_eq!(back.package, c.package);
        assert_eq!(back.sbom, c.sbom);
        assert_eq!(back.cargo_lock_sha256, c.cargo_lock_sha256);
        assert_eq!(back.advisory_dbs, c.advisory_dbs);
        assert_eq!(back.audit, c.audit);
        assert_eq!(back.released_with, c.released_with);
        assert_eq!(back.line(Key::ReleasedWith), Some(8));
        assert_eq!(back.line(Key::Audit), Some(13));
    }

    #[test]
    fn a_plain_git_tag_claims_nothing() {
        for msg in ["v1\n", "Release\n\nSigned-off-by: A <a@b>\n", ""] {
            assert_eq!(
                Claims::parse(&object(msg)).unwrap(),
                Claims::default(),
                "{msg:?}"
            );
        }
    }

    #[test]
    fn a_second_or_misplaced_or_unknown_line_makes_the_trailer_unreadable() {
        let good = written().render();
        let lock = format!("Cargo-lock-sha256: {}", "ee".repeat(32));
        let cases = [
            // A second, false hash after the true one.
            format!("Release\n\n{good}{lock}\n"),
            // A true hash in the body, a false one in the trailer: the body is no trailer.
            format!("Release\n\n{lock}\n\n{good}"),
            // A claim that is not ours in our trailer.
            format!("Release\n\n{good}Signed-off-by: A <a@b>\n"),
            // Case and spacing as git matches keys.
            format!("Release\n\n{good}package : x 1 Cargo.toml\n"),
            format!("Release\n\n{good}  continued\n"),
        ];
        for msg in &cases {
            assert!(Claims::parse(&object(msg)).is_err(), "accepted: {msg}");
        }
        let e = Claims::parse(&object(&cases[0])).unwrap_err();
        assert!(e.why.contains("twice"), "{e:?}");
        assert_eq!(e.line, 14);
    }

    #[test]
    fn the_sbom_claim_without_a_platform_is_still_read() {
        let text = object(&format!("R\n\nSbom-sha256: {}\n", "ab".repeat(32)));
        let c = Claims::parse(&text).unwrap();
        assert_eq!(c.sbom.unwrap().platform, None);
    }

    #[test]
    fn claim_lines_in_a_message_are_found() {
        assert_eq!(
            claim_line("Hello\n\nAudit: fine\n"),
            Some((3, "Audit: fine"))
        );
        assert_eq!(claim_line("Audition: yes\nPackages 3\n"), None);
    }
}
