//! `sbom`'s summary through the shell: its notes, then the document on stdout or
//! a status line naming the file it was written to.

use crate::report::sbom::SbomSummary;
use crate::shell::Shell;

pub fn render(s: &SbomSummary, shell: &Shell) {
    for note in &s.notes {
        shell.status(&format!("note: {note}"));
    }
    match &s.written_to {
        Some(path) => shell.status(&format!(
            "wrote {path} ({} {}{})",
            s.count,
            s.noun,
            super::plural(s.count)
        )),
        None => shell.out(&s.document),
    }
}
