//! What `tag` made: the tag, the package it releases, the object it signed, who
//! signed it and how to verify it. `output::tag` renders it for people and as JSON
//! (`schema/tag.schema.json`).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TagReport {
    pub tag: String,
    pub package: String,
    pub version: String,
    /// The tag object's id; None with `--dry-run`, which writes nothing.
    pub object: Option<String>,
    /// The unsigned tag object: what was signed (or would be, with `--dry-run`).
    pub payload: String,
    /// About the signature: who signed, with which key.
    pub signature: Vec<String>,
    /// The signer policy's files that allowed the key, as committed in HEAD.
    pub policy: Option<String>,
    /// Commands that verify the tag.
    pub verify_with: Vec<String>,
}
