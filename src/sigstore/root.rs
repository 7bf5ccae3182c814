//! Trusted roots: Sigstore's `trusted_root.json`, GitHub's `gh attestation
//! trusted-root` output (JSON Lines, one root a line), and the public-good root
//! embedded at build time (`assets/sigstore/`, refreshed by `cargo xtask
//! sigstore-root`).

use sigstore_verify::trust_root::TrustedRoot;

/// One trusted root and how messages name it.
pub struct Root {
    pub trusted: TrustedRoot,
    pub origin: String,
}

impl Root {
    /// A root without a transparency log (GitHub's own instance, for private
    /// repositories): its signing times come from its timestamp authority alone.
    pub fn has_tlog(&self) -> bool {
        !self.trusted.tlogs.is_empty()
    }

    pub fn has_ct_logs(&self) -> bool {
        !self.trusted.ctlogs.is_empty()
    }
}

const EMBEDDED: &str = include_str!("../../assets/sigstore/trusted_root.json");
const SOURCE: &str = include_str!("../../assets/sigstore/SOURCE");

/// Where the embedded root came from, as its SOURCE note says: `(package, date)`.
pub fn embedded_source() -> (String, String) {
    let field = |key: &str| {
        SOURCE
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    (field("package:"), field("taken:"))
}

/// The public-good root this binary was built with (the unit test below holds
/// that it parses; `Err` would be a broken build).
pub fn embedded() -> Result<Root, String> {
    let (package, date) = embedded_source();
    let trusted = TrustedRoot::from_json(EMBEDDED)
        .map_err(|e| format!("the embedded trusted root does not parse: {e}"))?;
    Ok(Root {
        trusted,
        origin: format!("the embedded Sigstore public-good root ({package}, taken {date})"),
    })
}

/// Parses a trusted-root file: one JSON document, or JSON Lines of several.
/// `Err` is a sentence naming the line at fault.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Root>, String> {
    let whole = text.trim_start_matches('\u{feff}');
    if let Ok(trusted) = TrustedRoot::from_json(whole) {
        return Ok(vec![Root {
            trusted,
            origin: origin.to_string(),
        }]);
    }
    let lines: Vec<(usize, &str)> = whole
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    // A single document spread over lines: its own error is the useful one.
    if lines.len() <= 1
        || !lines[0].1.trim_start().starts_with('{')
        || !lines[0].1.trim_end().ends_with('}')
    {
        return Err(match TrustedRoot::from_json(whole) {
            Err(e) => format!("not a Sigstore trusted root: {}", plain(&e.to_string())),
            Ok(_) => "not a Sigstore trusted root".into(),
        });
    }
    lines
        .into_iter()
        .map(|(n, line)| match TrustedRoot::from_json(line) {
            Ok(trusted) => Ok(Root {
                trusted,
                origin: format!("{origin} line {n}"),
            }),
            Err(e) => Err(format!(
                "line {n} is not a Sigstore trusted root: {}",
                plain(&e.to_string())
            )),
        })
        .collect()
}

/// The crate's error without its own prefix.
fn plain(e: &str) -> String {
    e.trim_start_matches("failed to parse JSON: ").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_root_parses_and_has_the_public_good_services() {
        let root = super::TrustedRoot::from_json(super::EMBEDDED).unwrap();
        assert!(!root.tlogs.is_empty());
        assert!(!root.certificate_authorities.is_empty());
        assert!(!root.ctlogs.is_empty());
        let (package, date) = super::embedded_source();
        assert!(package.contains("sigstore"), "{package}");
        assert_eq!(date.len(), 10, "{date}");
    }
}
