//! What `sbom` produced: the document, where it went, and what it counts. The
//! document itself is the output; `output::sbom` says the rest through the shell.

#[derive(Debug, Clone)]
pub struct SbomSummary {
    /// The document (CycloneDX, SPDX or OpenVEX JSON).
    pub document: String,
    /// `--output FILE`, as messages show it; None when the document goes to stdout.
    pub written_to: Option<String>,
    /// How many entries the document holds, and what they are (`component`, `statement`).
    pub count: usize,
    pub noun: &'static str,
    /// Where the advisories or the lockfile came from, when the user should know.
    pub notes: Vec<String>,
}
