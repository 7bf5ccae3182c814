//! GitHub Actions workflow commands: one annotation per finding.

use crate::report::AuditReport;
use crate::report::Severity;
use std::io::Write;

/// Workflow-command data escaping (`%`, CR, LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property escaping additionally covers `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &AuditReport, out: &mut impl Write) -> std::io::Result<()> {
    for f in &report.findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(loc) = &f.location {
            props.push(format!("file={}", escape_property(&loc.file)));
            if let Some(l) = loc.line {
                props.push(format!("line={l}"));
            }
            if let Some(c) = loc.column {
                props.push(format!("col={c}"));
            }
        }
        let title =
            f.id.clone()
                .unwrap_or_else(|| format!("{}/{}", f.check, f.code));
        props.push(format!("title={}", escape_property(&title)));
        let mut msg = match (&f.package, &f.version) {
            (Some(p), Some(v)) => format!("{p} {v}: {}", f.message),
            _ => f.message.clone(),
        };
        if let Some(h) = &f.help {
            msg.push_str(&format!("\nhelp: {h}"));
        }
        if let Some(ig) = &f.ignored {
            msg.push_str(&format!("\nignored: {} ({})", ig.reason, ig.source));
        }
        writeln!(out, "::{cmd} {}::{}", props.join(","), escape_data(&msg))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_workflow_command_syntax() {
        assert_eq!(super::escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(super::escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
