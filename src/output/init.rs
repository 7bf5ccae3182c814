//! `init`'s report through the shell: a dry run's texts and diffs on stdout, what
//! was written as status lines, `--check`'s verdict on stdout.

use crate::report::init::InitReport;
use crate::shell::Shell;

pub fn render(r: &InitReport, shell: &Shell) {
    if let Some(c) = &r.check {
        let shown = &c.path;
        if !c.exists {
            shell.out(&format!(
                "{shown} does not exist: run `cargo secure-release init` to write it\n"
            ));
            return;
        }
        if let Some(diff) = &c.diff {
            shell.out(diff);
            shell.out(&format!(
                "{shown} is out of date with the project: re-run `cargo secure-release init --force`\n"
            ));
        }
        if !c.scorecard_missing.is_empty() {
            shell.out(&format!(
                "{shown} would not get full marks on OpenSSF Scorecard's Security-Policy check: {}\n",
                c.scorecard_missing.join("; ")
            ));
        }
        if r.ok() && !shell.quiet {
            shell.out(&format!("{shown} is up to date\n"));
        }
        return;
    }
    for f in &r.files {
        match r.dry_run {
            true => shell.out(&f.preview),
            false => shell.status(&f.said),
        }
    }
    for note in &r.notes {
        shell.status(note);
    }
}
