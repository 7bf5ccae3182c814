//! Human output: grouped by check, one line per finding plus its help, a summary line.

use crate::report::AuditReport;
use crate::report::{Check, Code, Finding, Severity, Summary};
use anyhow::Result;
use std::io::Write;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Note => "1;36",
        };
        self.paint(code, s.as_str())
    }
}

pub fn render(report: &AuditReport, out: &mut impl Write, color: bool, verbose: u8) -> Result<()> {
    let st = Style { color };
    for db in &report.databases {
        let mut line = format!(
            "advisory database: {} ({} advisories",
            db.path, db.advisories
        );
        if let Some(c) = &db.commit {
            line.push_str(&format!(", commit {}", &c[..c.len().min(12)]));
        }
        if let Some(n) = &db.newest_advisory {
            line.push_str(&format!(", newest {n}"));
        }
        line.push(')');
        writeln!(out, "{}", st.paint("2", &line))?;
    }
    for check in Check::ALL {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| {
                f.check == check
                    && (verbose > 0 || f.severity > Severity::Note || f.code == Code::NoConfig)
            })
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(out, "\n{}", st.paint("1", check.as_str()))?;
        for f in group {
            write_finding(&st, out, f)?;
        }
    }
    summary(report, out, color)
}

/// The closing verdict line.
pub fn summary(report: &AuditReport, out: &mut impl Write, color: bool) -> Result<()> {
    let st = Style { color };
    let s = Summary::of(&report.findings);
    let verdict = if s.errors > 0 {
        st.paint("1;31", "release blocked")
    } else {
        st.paint("1;32", "ok to release")
    };
    writeln!(
        out,
        "\n{verdict}: {} error{}, {} warning{}, {} note{}",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.notes,
        plural(s.notes)
    )?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn write_finding(st: &Style, out: &mut impl Write, f: &Finding) -> Result<()> {
    let mut subject = String::new();
    if let (Some(p), Some(v)) = (&f.package, &f.version) {
        subject = format!("{p} {v}: ");
    }
    let id = f.id.as_deref().map(|i| format!("{i} ")).unwrap_or_default();
    writeln!(
        out,
        "  {}[{}] {}{}{}",
        st.severity(f.severity),
        f.code,
        st.paint("1", &subject),
        id,
        f.message
    )?;
    if let Some(loc) = &f.location {
        match loc.line {
            Some(l) => writeln!(out, "      --> {}:{l}", loc.file)?,
            None => writeln!(out, "      --> {}", loc.file)?,
        }
    }
    if let Some(r) = &f.reach {
        writeln!(out, "      reached: {r}")?;
    }
    if let Some(h) = &f.help {
        writeln!(out, "      {} {h}", st.paint("1;34", "help:"))?;
    }
    if let Some(ig) = &f.ignored {
        let until = ig
            .until
            .as_ref()
            .map(|u| format!(" until {u}"))
            .unwrap_or_default();
        writeln!(out, "      ignored{until} ({}): {}", ig.source, ig.reason)?;
    }
    if let Some(u) = &f.url {
        writeln!(out, "      see {u}")?;
    }
    Ok(())
}
