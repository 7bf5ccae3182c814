//! Errors that stop a command (exit code 2). Findings are not errors: they are results.

use std::fmt;

/// A failure the user can act on: a one-line message that names the file, then the fix.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub help: Option<String>,
    /// Longer text from a tool we ran (cargo's own error), shown after the help.
    pub detail: Option<String>,
    pub code: u8,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: None,
            detail: None,
            code: 2,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Exit code 1: the command ran and refused (e.g. a tag blocked by the audit).
    pub fn refusal(mut self) -> Self {
        self.code = 1;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Renders any error as: `error: <first line>`, its causes, `help: …`, then detail.
pub fn render(err: &anyhow::Error) -> (String, u8) {
    let mut out = String::new();
    // Every message is one line: a value echoed in it (a path, a name) cannot add an
    // `error:` line of its own, whatever it contains.
    if let Some(f) = err.downcast_ref::<Failure>() {
        out.push_str(&format!("error: {}\n", escape(&f.message)));
        for cause in err.chain().skip(1) {
            out.push_str(&format!("  caused by: {}\n", escape(&cause.to_string())));
        }
        if let Some(h) = &f.help {
            out.push_str(&format!("  help: {}\n", escape(h)));
        }
        if let Some(d) = &f.detail {
            for line in d.lines() {
                out.push_str(&format!("  | {}\n", escape(line)));
            }
        }
        return (out, f.code);
    }
    let mut chain = err.chain();
    if let Some(first) = chain.next() {
        out.push_str(&format!("error: {}\n", escape(&first.to_string())));
    }
    for cause in chain {
        out.push_str(&format!("  caused by: {}\n", escape(&cause.to_string())));
    }
    (out, 2)
}

/// A value echoed in a message: control characters (a newline that could forge an
/// `error:` line, an escape sequence) are shown escaped; everything else as is.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
