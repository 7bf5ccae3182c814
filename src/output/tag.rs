//! `tag`'s report: for people (what was created and how to verify it; with
//! `--dry-run`, the tag object that would be signed) and as JSON
//! (`schema/tag.schema.json`).

use crate::error::escape;
use crate::report::tag::TagReport;
use anyhow::Result;
use serde_json::json;
use std::io::Write;

pub fn human(r: &TagReport, out: &mut Vec<u8>) -> Result<()> {
    let Some(object) = &r.object else {
        out.write_all(r.payload.as_bytes())?;
        return Ok(());
    };
    writeln!(
        out,
        "Created signed tag {} ({object}) for {} {}",
        escape(&r.tag),
        escape(&r.package),
        escape(&r.version)
    )?;
    for line in &r.signature {
        writeln!(out, "  {}", escape(line))?;
    }
    if let Some(files) = &r.policy {
        writeln!(
            out,
            "  allowed by the signer policy ({}) as committed in HEAD",
            escape(files)
        )?;
    }
    let mut hints = r.verify_with.iter();
    if let Some(first) = hints.next() {
        writeln!(out, "  verify with: {}", escape(first))?;
    }
    for more in hints {
        writeln!(out, "           or: {}", escape(more))?;
    }
    Ok(())
}

pub fn json(r: &TagReport, out: &mut Vec<u8>) -> Result<()> {
    let v = json!({
        "schema": 1,
        "tool": super::json::tool(),
        "created": r.object.is_some(),
        "tag": r.tag,
        "package": r.package,
        "version": r.version,
        "object": r.object,
        "payload": r.payload,
        "signature": r.signature,
        "policy": r.policy,
        "verify_with": r.verify_with,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}
