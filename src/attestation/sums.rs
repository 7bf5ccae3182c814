//! `SHA256SUMS` as `sha256sum` writes it and `sha256sum -c` / `shasum -a 256 -c`
//! read it: one line per file, `HEX␠␠NAME`, here sorted by name. Names that the
//! coreutils format would have to escape (a backslash, a newline, any control
//! character) are refused rather than escaped: not every checker reads the escape.

use crate::error::escape;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the directory `SHA256SUMS` is in, `/`-separated.
    pub name: String,
    /// Lowercase hex.
    pub sha256: String,
}

/// Why a name cannot be a line of `SHA256SUMS`, as a sentence; None when it can.
pub fn unlistable(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if name.chars().any(|c| c.is_control() || c == '\\') {
        return Some(format!(
            "`{}` has a backslash or a control character, which sha256sum would escape",
            escape(name)
        ));
    }
    None
}

/// The file's text: the entries sorted by name (byte order), one line each.
pub fn render(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    sorted
        .iter()
        .map(|e| format!("{}  {}\n", e.sha256, e.name))
        .collect()
}

/// One parsed line, with its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub line: usize,
    pub entry: Entry,
}

/// Reads a `SHA256SUMS`: `HEX␠␠NAME` or `HEX␠*NAME` (binary mode), blank lines
/// skipped. A line that does not read, or a name listed twice, is an error naming
/// the line.
pub fn parse(text: &str) -> Result<Vec<Line>, String> {
    let mut out: Vec<Line> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let (hex, rest) = raw.split_at_checked(64).unwrap_or((raw, ""));
        let name = rest.strip_prefix("  ").or_else(|| rest.strip_prefix(" *"));
        let ok_hex = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        let Some(name) = name.filter(|n| ok_hex && !n.is_empty()) else {
            return Err(format!(
                "line {n} is not `SHA-256 (64 hex digits), two spaces, file name`"
            ));
        };
        if let Some(first) = out.iter().find(|l| l.entry.name == name) {
            return Err(format!(
                "line {n} lists `{}` again (first on line {})",
                escape(name),
                first.line
            ));
        }
        out.push(Line {
            line: n,
            entry: Entry {
                name: name.to_string(),
                sha256: hex.to_ascii_lowercase(),
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_and_reads_back() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let text = render(&[
            Entry {
                name: "z.tar.gz".into(),
                sha256: a.clone(),
            },
            Entry {
                name: "B.zip".into(),
                sha256: b.clone(),
            },
        ]);
        assert_eq!(text, format!("{b}  B.zip\n{a}  z.tar.gz\n"));
        let back = parse(&text).unwrap();
        assert_eq!(back[0].entry.name, "B.zip");
        assert_eq!(back[1].line, 2);
        let binary = parse(&format!("{a} *x\n")).unwrap();
        assert_eq!(binary[0].entry.name, "x");
    }

    #[test]
    fn bad_lines_and_names_are_named() {
        assert!(parse("abc  x\n").unwrap_err().starts_with("line 1 is not"));
        let a = "a".repeat(64);
        let e = parse(&format!("{a}  x\n\n{a}  x\n")).unwrap_err();
        assert_eq!(e, "line 3 lists `x` again (first on line 1)");
        assert!(unlistable("a\\b").is_some());
        assert!(unlistable("a\nb").is_some());
        assert!(unlistable("dir/app v1.tar.gz").is_none());
    }
}
