//! The JSON contract (`schema: 1`).

use crate::report::AuditReport;
use crate::report::Summary;
use anyhow::Result;
use serde_json::json;
use std::io::Write;

/// The `tool` object every JSON document of ours opens with.
pub fn tool() -> serde_json::Value {
    json!({
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
    })
}

pub fn to_value(report: &AuditReport) -> serde_json::Value {
    json!({
        "schema": 1,
        "tool": tool(),
        "workspace_root": report.workspace_root.display().to_string(),
        "advisory_db": report.databases.first(),
        "advisory_dbs": report.databases,
        "findings": report.findings,
        "summary": Summary::of(&report.findings),
    })
}

pub fn render(report: &AuditReport, out: &mut impl Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)?;
    Ok(())
}
