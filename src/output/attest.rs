//! `attest`'s report: for people (what was attested, the files written and the
//! commands that check them; with `--dry-run`, `SHA256SUMS` as it would be) and
//! as JSON.

use crate::error::escape;
use crate::report::attest::AttestReport;
use anyhow::Result;
use serde_json::json;
use std::io::Write;

pub fn human(r: &AttestReport, out: &mut Vec<u8>) -> Result<()> {
    let n = r.files.len();
    let what = format!("{n} file{}", super::plural(n));
    let tag = escape(&r.tag);
    match r.dry_run {
        true => writeln!(
            out,
            "Would attest {what} of {tag} (commit {}); nothing was written",
            r.commit
        )?,
        false => writeln!(out, "Attested {what} of {tag} (commit {})", r.commit)?,
    }
    for note in &r.notes {
        writeln!(out, "  {}", escape(note))?;
    }
    if let Some(s) = &r.signer {
        writeln!(out, "  signed with {}", escape(s))?;
    }
    let verb = if r.dry_run { "would write" } else { "wrote" };
    writeln!(
        out,
        "  {verb} {}",
        r.written
            .iter()
            .map(|w| escape(w))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if r.dry_run {
        writeln!(out, "--- SHA256SUMS")?;
        for line in r.sums.lines() {
            writeln!(out, "{}", escape(line))?;
        }
        return Ok(());
    }
    let mut hints = r.check_with.iter();
    if let Some(first) = hints.next() {
        writeln!(out, "  check with: {}", escape(first))?;
    }
    for more in hints {
        writeln!(out, "          or: {}", escape(more))?;
    }
    if let Some(pk) = &r.minisign_public_key {
        // What cargo-binstall needs to check the .sig files: the lines for Cargo.toml.
        writeln!(
            out,
            "  cargo-binstall checks the .sig files with, in Cargo.toml:"
        )?;
        for line in crate::attestation::minisign::binstall_lines(pk).lines() {
            writeln!(out, "    {}", escape(line))?;
        }
    }
    Ok(())
}

pub fn json(r: &AttestReport, out: &mut Vec<u8>) -> Result<()> {
    let v = json!({
        "schema": 1,
        "tool": super::json::tool(),
        "tag": r.tag,
        "commit": r.commit,
        "dry_run": r.dry_run,
        "files": r.files,
        "written": r.written,
        "sums": r.sums,
        "signer": r.signer,
        "notes": r.notes,
        "check_with": r.check_with,
        "minisign_public_key": r.minisign_public_key,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}
