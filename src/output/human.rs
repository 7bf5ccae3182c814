//! Human output: grouped by check, one line per finding plus its help, a summary line.
//! Every value from outside (a path, a package, a message, a reason from a config
//! file) goes through `error::escape` (`e`): a newline or ESC in an ignore reason or
//! an advisory title cannot start a forged `error:` line, a `::error` workflow
//! command or a terminal escape.

use super::plural;
use crate::error::escape as e;
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
            e(&db.path),
            db.advisories
        );
        if let Some(c) = &db.commit {
            line.push_str(&format!(", commit {}", e(c.get(..12).unwrap_or(c))));
        }
        if let Some(n) = &db.newest_advisory {
            line.push_str(&format!(", newest {}", e(n)));
        }
        line.push(')');
        writeln!(out, "{}", st.paint("2", &line))?;
    }
    let shown =
        |f: &Finding| verbose > 0 || f.severity > Severity::Note || f.code == Code::NoConfig;
    for check in Check::ALL {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.check == check && shown(f))
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(out, "\n{}", st.paint("1", check.as_str()))?;
        for f in group {
            write_finding(&st, out, f)?;
        }
    }
    let hidden = report.findings.iter().filter(|f| !shown(f)).count();
    summary(report, out, color, hidden)
}

/// The closing verdict line; `hidden` notes were counted but not shown, and the line
/// says how to see them.
pub fn summary(
    report: &AuditReport,
    out: &mut impl Write,
    color: bool,
    hidden: usize,
) -> Result<()> {
    let st = Style { color };
    let s = Summary::of(&report.findings);
    let verdict = if s.errors > 0 {
        st.paint("1;31", "release blocked")
    } else {
        st.paint("1;32", "ok to release")
    };
    write!(
        out,
        "\n{verdict}: {} error{}, {} warning{}, {} note{}",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.notes,
        plural(s.notes)
    )?;
    match hidden {
        0 => writeln!(out)?,
        n if n == s.notes => writeln!(out, " (run with -v to see them)")?,
        n => writeln!(out, " ({n} shown with -v)")?,
    }
    Ok(())
}

fn write_finding(st: &Style, out: &mut impl Write, f: &Finding) -> Result<()> {
    let mut subject = String::new();
    if let (Some(p), Some(v)) = (&f.package, &f.version) {
        subject = format!("{} {}: ", e(p), e(v));
    }
    let id =
        f.id.as_deref()
            .map(|i| format!("{} ", e(i)))
            .unwrap_or_default();
    writeln!(
        out,
        "  {}[{}] {}{}{}",
        st.severity(f.severity),
        f.code,
        st.paint("1", &subject),
        id,
        e(&f.message)
    )?;
    if let Some(loc) = &f.location {
        match (loc.line, loc.column) {
            (Some(l), Some(c)) => writeln!(out, "      --> {}:{l}:{c}", e(&loc.file))?,
            (Some(l), None) => writeln!(out, "      --> {}:{l}", e(&loc.file))?,
            (None, _) => writeln!(out, "      --> {}", e(&loc.file))?,
        }
    }
    if let Some(r) = &f.reach {
        writeln!(out, "      reached: {}", e(r))?;
    }
    if let Some(h) = &f.help {
        writeln!(out, "      {} {}", st.paint("1;34", "help:"), e(h))?;
    }
    if let Some(ig) = &f.ignored {
        let until = ig
            .until
            .as_ref()
            .map(|u| format!(" until {}", e(&u.to_string())))
            .unwrap_or_default();
        writeln!(
            out,
            "      ignored{until} ({}): {}",
            e(&ig.source),
            e(&ig.reason)
        )?;
    }
    if let Some(u) = &f.url {
        writeln!(out, "      see {}", e(u))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Finding;

    fn report(findings: Vec<Finding>) -> AuditReport {
        AuditReport {
            findings,
            databases: Vec::new(),
            workspace_root: "/ws".into(),
            lockfile_sha256: None,
        }
    }

    fn rendered(r: &AuditReport, verbose: u8) -> String {
        let mut out = Vec::new();
        render(r, &mut out, false, verbose).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn note(code: Code) -> Finding {
        Finding::new(Check::Advisories, code, Severity::Note, "a note")
    }

    #[test]
    fn hidden_notes_are_counted_and_the_summary_says_how_to_see_them() {
        let r = report(vec![note(Code::IgnoreUnused), note(Code::IgnoreUnused)]);
        let quiet = rendered(&r, 0);
        assert!(!quiet.contains("a note"), "{quiet}");
        assert!(
            quiet.ends_with(
                "ok to release: 0 errors, 0 warnings, 2 notes (run with -v to see them)\n"
            ),
            "{quiet}"
        );
        let loud = rendered(&r, 1);
        assert_eq!(loud.matches("a note").count(), 2, "{loud}");
        assert!(loud.ends_with(", 2 notes\n"), "{loud}");
    }

    #[test]
    fn values_with_control_characters_cannot_forge_lines() {
        let mut f = Finding::new(
            Check::Advisories,
            Code::IgnoreUnused,
            Severity::Warning,
            "title\n::error file=x::forged\u{1b}[31m",
        )
        .with_help("help\nerror: forged")
        .with_location("a\nb.toml", Some(3));
        f.package = Some("p\r".into());
        f.version = Some("1\n".into());
        f.reach = Some("in the default build\nerror: forged".into());
        let out = rendered(&report(vec![f]), 0);
        for line in out.lines() {
            assert!(!line.starts_with("::"), "{out}");
            assert!(!line.starts_with("error"), "{out}");
            assert!(!line.contains('\u{1b}'), "{out}");
        }
        assert!(
            out.contains("title\\n::error file=x::forged\\u{1b}[31m"),
            "{out}"
        );
    }

    #[test]
    fn a_shown_no_config_note_is_not_counted_as_hidden() {
        let r = report(vec![note(Code::NoConfig), note(Code::IgnoreUnused)]);
        let out = rendered(&r, 0);
        assert!(out.contains("a note"), "{out}");
        assert!(out.ends_with(", 2 notes (1 shown with -v)\n"), "{out}");
        let all_shown = rendered(&report(vec![note(Code::NoConfig)]), 0);
        assert!(all_shown.ends_with(", 1 note\n"), "{all_shown}");
    }
}
