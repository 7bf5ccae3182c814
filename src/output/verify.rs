//! `verify`'s report for people (the lines `git verify-tag` users expect: a
//! verdict, then indented details) and as JSON (`schema/verify.schema.json`).

use crate::error::escape;
use crate::report::verify::{ClaimCheck, Signature, VerifyReport};
use anyhow::Result;
use serde_json::json;
use std::io::Write;

pub fn human(r: &VerifyReport, out: &mut Vec<u8>) -> Result<()> {
    if let Some(bundle) = &r.bundle {
        return human_bundle(r, bundle, out);
    }
    let tag = escape(&r.tag);
    let s = match &r.signature {
        Signature::Bad { reason } => {
            writeln!(out, "BAD: {reason}")?;
            for note in &r.notes {
                writeln!(out, "  {note}")?;
            }
            return Ok(());
        }
        Signature::Good(s) => s,
    };
    let identity = escape(s.identity.as_deref().unwrap_or("(no user id)"));
    match (s.format, &s.algorithm, &s.allowed_by) {
        ("ssh", Some(algorithm), Some(allowed_by)) => {
            writeln!(
                out,
                "Good \"git\" signature on tag `{tag}` for {identity} with {algorithm} key {}",
                s.fingerprint
            )?;
            writeln!(out, "  allowed by {allowed_by}")?;
        }
        _ => {
            writeln!(out, "Good signature on tag `{tag}` from {identity}")?;
            writeln!(out, "  certificate {}", s.fingerprint)?;
            if let Some(k) = &s.signing_key {
                writeln!(out, "  signing key {k}")?;
            }
        }
    }
    for note in &r.notes {
        writeln!(out, "  {note}")?;
    }
    for c in &r.claims {
        claim(out, &tag, c)?;
    }
    for a in &r.artifacts {
        match a.holds {
            true => writeln!(out, "  {}", a.message)?,
            false => writeln!(out, "BAD: {}", a.message)?,
        }
    }
    if let Some(a) = &r.audit {
        super::human::render(&a.report, out, false, 0)?;
        if let Some(c) = &a.sbom {
            claim(out, &tag, c)?;
        }
        // With --artifact, what was audited is the binaries' embedded packages.
        match (a.clean(), r.artifacts.is_empty()) {
            (true, true) => writeln!(
                out,
                "  the tagged tree passes the audit with today's advisory database"
            )?,
            (false, true) => writeln!(
                out,
                "BAD: tag `{tag}`: the tagged tree has error findings with today's advisory database (above)"
            )?,
            (true, false) => writeln!(
                out,
                "  the release binaries' embedded packages pass the audit with today's advisory database"
            )?,
            (false, false) => writeln!(
                out,
                "BAD: the release binaries' embedded packages have error findings with today's advisory database (above)"
            )?,
        }
    }
    Ok(())
}

/// A Sigstore bundle's verdict: the signer, then each check, the failed one as BAD.
fn human_bundle(r: &VerifyReport, bundle: &str, out: &mut Vec<u8>) -> Result<()> {
    let bundle = escape(bundle);
    match &r.signature {
        Signature::Good(s) => {
            let who = match (&s.identity, &s.issuer, &s.allowed_by) {
                (Some(id), Some(issuer), _) => {
                    format!("{} (issuer {})", escape(id), escape(issuer))
                }
                (Some(id), None, _) => format!("{} (no OIDC issuer)", escape(id)),
                (None, _, Some(key)) => {
                    format!("the key {} (SHA-256 {})", escape(key), s.fingerprint)
                }
                (None, _, None) => "(no identity)".to_string(),
            };
            writeln!(out, "Good Sigstore signature in {bundle} by {who}")?;
            if s.allowed_by.is_none() {
                writeln!(out, "  certificate SHA-256 {}", s.fingerprint)?;
            }
        }
        Signature::Bad { reason } => writeln!(out, "BAD: {reason}")?,
    }
    // Notes and check messages are sentences whose values were escaped when made.
    for note in &r.notes {
        writeln!(out, "  {note}")?;
    }
    if matches!(r.signature, Signature::Good(_)) {
        for a in &r.artifacts {
            writeln!(out, "  {}: {}", a.claim, a.message)?;
        }
    }
    Ok(())
}

fn claim(out: &mut impl Write, tag: &str, c: &ClaimCheck) -> Result<()> {
    match c.holds {
        true => writeln!(out, "  {}", c.message)?,
        false => writeln!(out, "BAD: tag `{tag}`: {}", c.message)?,
    }
    Ok(())
}

pub fn to_value(r: &VerifyReport) -> serde_json::Value {
    json!({
        "schema": 1,
        "tool": super::json::tool(),
        "tag": r.tag,
        "good": r.good(),
        "signature": r.signature,
        "notes": r.notes,
        "claims": r.claims,
        "audit": r.audit.as_ref().map(|a| json!({
            "clean": a.clean(),
            "sbom": a.sbom,
            "report": super::json::to_value(&a.report),
        })),
        "artifacts": r.artifacts,
        "bundle": r.bundle,
    })
}

pub fn json(r: &VerifyReport, out: &mut Vec<u8>) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(r))?;
    writeln!(out)?;
    Ok(())
}
