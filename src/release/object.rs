//! Annotated tag objects, byte for byte as git writes them, and git's split of a
//! signed tag into payload and signature.

use crate::error::Failure;
use anyhow::Result;

/// `Name <email> <unix-seconds> <+hhmm>`, git's identity line format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub email: String,
    pub seconds: i64,
    /// Offset from UTC in minutes.
    pub offset_minutes: i32,
}

impl Ident {
    pub fn render(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.abs();
        format!(
            "{} <{}> {} {sign}{:02}{:02}",
            self.name,
            self.email,
            self.seconds,
            m / 60,
            m % 60
        )
    }
}

/// The unsigned tag object: what the signature covers.
pub fn payload(
    target: &str,
    target_type: &str,
    name: &str,
    tagger: &Ident,
    message: &str,
) -> String {
    let mut msg = message.trim_end().to_string();
    msg.push('\n');
    format!(
        "object {target}\ntype {target_type}\ntag {name}\ntagger {}\n\n{msg}",
        tagger.render()
    )
}

/// The name a tag object gives itself (its header's `tag` line).
pub fn name_of(object: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(object);
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("tag "))
        .map(str::to_string)
}

/// The tagger's email and date (unix seconds) from a tag object's header.
pub fn tagger_of(object: &[u8]) -> Option<(String, i64)> {
    ident_of(object, "tagger ")
}

/// The committer's email and date (unix seconds) from a commit object's header.
pub fn committer_of(object: &[u8]) -> Option<(String, i64)> {
    ident_of(object, "committer ")
}

/// An identity line of an object's header (`tagger `, `committer `): email and date.
fn ident_of(object: &[u8], field: &str) -> Option<(String, i64)> {
    let text = String::from_utf8_lossy(object);
    let line = text
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(field))?;
    let open = line.rfind('<')?;
    let close = line.rfind('>')?;
    let email = line.get(open + 1..close)?.to_string();
    let mut rest = line.get(close + 1..)?.split_whitespace();
    let seconds = rest.next()?.parse().ok()?;
    Some((email, seconds))
}

/// git's `crud`: characters trimmed from both ends of an identity part.
fn crud(c: char) -> bool {
    c <= ' ' || matches!(c, ',' | ':' | ';' | '<' | '>' | '"' | '\\' | '\'')
}

/// An identity part cleaned as git's `strbuf_addstr_without_crud` cleans it: crud
/// trimmed from both ends, and every newline, `<` and `>` inside removed, so the
/// tagger line always parses (`git fsck` rejects anything else).
pub fn without_crud(s: &str) -> String {
    s.trim_matches(crud)
        .chars()
        .filter(|c| !matches!(c, '\n' | '<' | '>'))
        .collect()
}

/// Parses GIT_COMMITTER_DATE the ways this tool supports: git's internal
/// `<seconds> <+hhmm>` (optionally `@`-prefixed), RFC 3339 and RFC 2822.
pub fn parse_git_date(s: &str) -> Result<(i64, i32)> {
    let t = s.trim();
    let internal = t.strip_prefix('@').unwrap_or(t);
    if let Some((secs, tz)) = internal.split_once(' ') {
        if let (Ok(secs), Some(off)) = (secs.parse::<i64>(), parse_offset(tz)) {
            return Ok((secs, off));
        }
    }
    if let Ok(secs) = internal.parse::<i64>() {
        return Ok((secs, 0));
    }
    if let Ok(z) = jiff::fmt::rfc2822::parse(t) {
        return Ok((z.timestamp().as_second(), z.offset().seconds() / 60));
    }
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        let off = if t.ends_with('Z') || t.ends_with('z') {
            0
        } else {
            parse_offset(&t[t.len().saturating_sub(6)..].replace(':', "")).unwrap_or(0)
        };
        return Ok((ts.as_second(), off));
    }
    Err(Failure::new(format!(
        "GIT_COMMITTER_DATE=`{s}` is not a date this tool understands"
    ))
    .help("use git's internal format `<unix-seconds> +0000`, RFC 3339 or RFC 2822, or unset it")
    .into())
}

fn parse_offset(tz: &str) -> Option<i32> {
    let (sign, digits) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    Some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident() -> Ident {
        Ident {
            name: "A U Thor".into(),
            email: "author@example.com".into(),
            seconds: 1_112_911_993,
            offset_minutes: -420,
        }
    }

    #[test]
    fn payload_is_git_format() {
        let p = payload(
            "0123456789abcdef0123456789abcdef01234567",
            "commit",
            "v1.0.0",
            &ident(),
            "Release x 1.0.0\n\n\n",
        );
        assert_eq!(
            p,
            "object 0123456789abcdef0123456789abcdef01234567\ntype commit\ntag v1.0.0\ntagger A U Thor <author@example.com> 1112911993 -0700\n\nRelease x 1.0.0\n"
        );
    }

    #[test]
    fn tagger_is_read_back() {
        let p = payload("0123", "commit", "v1", &ident(), "msg");
        assert_eq!(
            tagger_of(p.as_bytes()),
            Some(("author@example.com".to_string(), 1_112_911_993))
        );
        assert_eq!(
            tagger_of(b"object x\ntype commit\n\ntagger a <b> 1 +0000\n"),
            None
        );
    }

    #[test]
    fn identities_are_cleaned_as_git_does() {
        assert_eq!(without_crud("  A U Thor. "), "A U Thor.");
        assert_eq!(
            without_crud("Eve\ntagger Mallory <m@x>"),
            "Evetagger Mallory m@x"
        );
        assert_eq!(without_crud("<a@b.example>"), "a@b.example");
        assert_eq!(without_crud("<>"), "");
    }

    #[test]
    fn git_dates() {
        assert_eq!(
            parse_git_date("1112911993 -0700").unwrap(),
            (1_112_911_993, -420)
        );
        assert_eq!(
            parse_git_date("@1112911993 +0530").unwrap(),
            (1_112_911_993, 330)
        );
        assert_eq!(
            parse_git_date("2005-04-07T22:13:13+02:00").unwrap(),
            (1_112_904_793, 120)
        );
        assert_eq!(
            parse_git_date("Thu, 07 Apr 2005 22:13:13 +0200").unwrap(),
            (1_112_904_793, 120)
        );
        assert!(parse_git_date("yesterday").is_err());
    }
}
