//! The one place besides `output` that writes to the terminal: results on stdout,
//! status lines on stderr (silent with `-q`), progress for long steps (only on a
//! terminal), and the no-echo passphrase prompt.

use crate::options::ColorChoice;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, Default)]
pub struct Shell {
    pub quiet: bool,
    pub verbose: u8,
    pub color: ColorChoice,
}

impl Shell {
    pub fn new(quiet: bool, verbose: u8, color: ColorChoice) -> Shell {
        Shell {
            quiet,
            verbose,
            color,
        }
    }

    /// A result line on stdout: what the command was asked for, shown even with `-q`.
    pub fn out(&self, text: &str) {
        self.out_bytes(text.as_bytes());
    }

    /// Bytes on stdout (a completion script, a rendered report). A failed write is
    /// remembered for the exit code (`write_failure`), never ignored.
    pub fn out_bytes(&self, bytes: &[u8]) {
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(bytes).and_then(|_| out.flush()) {
            record_failure(Stream::Stdout, e);
        }
    }

    /// A status line on stderr, silenced by `-q`.
    pub fn status(&self, text: &str) {
        if !self.quiet {
            to_stderr(&format!("{text}\n"));
        }
    }

    /// Text on stderr that must be seen even with `-q` (why a command refused).
    pub fn err(&self, text: &str) {
        to_stderr(text);
    }

    pub fn progress(&self) -> Progress {
        Progress::new(self.quiet, self.verbose, self.stderr_color())
    }

    pub fn stdout_color(&self) -> bool {
        use_color(self.color, std::io::stdout().is_terminal())
    }

    pub fn stderr_color(&self) -> bool {
        use_color(self.color, std::io::stderr().is_terminal())
    }
}

/// Reads a secret without echo from the terminal; None when there is no terminal.
pub fn prompt_secret(prompt: &str) -> Option<std::io::Result<String>> {
    std::io::stdin()
        .is_terminal()
        .then(|| rpassword::prompt_password(prompt))
}

pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// The last word on a panic outside a guarded call: one line, no backtrace.
pub fn internal_error(msg: &str, location: &str) {
    // Called from the panic hook: `eprintln!` would panic again on a full stderr.
    to_stderr(&format!(
        "error: internal error: {msg}{location}\n  help: this is a bug in cargo-secure-release; please report it with the command you ran\n"
    ));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// The first failed write to stdout or stderr in this process: the streams are the
/// process's, so is the record. `main` turns it into exit 2.
static WRITE_FAILURE: std::sync::Mutex<Option<(Stream, std::io::ErrorKind, String)>> =
    std::sync::Mutex::new(None);

pub fn record_failure(stream: Stream, e: std::io::Error) {
    let mut slot = WRITE_FAILURE.lock().unwrap_or_else(|p| p.into_inner());
    if slot.is_none() {
        *slot = Some((stream, e.kind(), e.to_string()));
    }
}

/// The first write to stdout or stderr that failed, if any: the stream, the kind
/// (a closed pipe is told apart) and the system's message.
pub fn write_failure() -> Option<(Stream, std::io::ErrorKind, String)> {
    WRITE_FAILURE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// Writes to stderr without ever panicking (`eprint!` panics when stderr fails).
pub fn to_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    if let Err(e) = err.write_all(text.as_bytes()).and_then(|_| err.flush()) {
        record_failure(Stream::Stderr, e);
    }
}

pub struct Progress {
    bar: ProgressBar,
    timings: bool,
    current: RefCell<Option<(&'static str, Instant)>>,
    finished: std::cell::Cell<bool>,
}

impl Progress {
    /// `color` is the stderr choice (`--color`, NO_COLOR): `never` means no colour
    /// anywhere, the spinner included.
    pub fn new(quiet: bool, verbose: u8, color: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template(template(color))
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        if visible {
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        Self {
            bar,
            timings: verbose >= 2 && !quiet,
            current: RefCell::new(None),
            finished: std::cell::Cell::new(false),
        }
    }

    pub fn step(&self, msg: &'static str) {
        self.end_step();
        *self.current.borrow_mut() = Some((msg, Instant::now()));
        self.bar.set_message(msg);
    }

    /// Runs `f` (which prints to stderr) with the spinner out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Renames the running step once it is known what it did (its time keeps running).
    pub fn relabel(&self, msg: &'static str) {
        if let Some((m, _)) = self.current.borrow_mut().as_mut() {
            *m = msg;
        }
        self.bar.set_message(msg);
    }

    fn end_step(&self) {
        if let Some((msg, start)) = self.current.borrow_mut().take() {
            if self.timings {
                self.bar.suspend(|| {
                    to_stderr(&format!(
                        "timing: {msg}: {:.1} ms\n",
                        start.elapsed().as_secs_f64() * 1e3
                    ))
                });
            }
        }
    }

    pub fn finish(&self) {
        self.end_step();
        if self.timings && !self.finished.replace(true) {
            if let Some(kib) = peak_rss_kib() {
                to_stderr(&format!(
                    "timing: peak memory of this process: {} MiB\n",
                    kib / 1024
                ));
            }
        }
        self.bar.finish_and_clear();
    }
}

/// The spinner's line, styled only when colour is wanted.
fn template(color: bool) -> &'static str {
    match color {
        true => "{spinner:.cyan} {msg} {elapsed:.dim}",
        false => "{spinner} {msg} {elapsed}",
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// This process's peak resident set (its children, such as cargo, not included): the
/// benchmark compares it with cargo-deny's.
fn peak_rss_kib() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getrusage fills the zeroed struct it is given and reads nothing else.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            // Linux reports ru_maxrss in KiB.
            return u64::try_from(usage.ru_maxrss).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_never_leaves_the_spinner_unstyled() {
        let shell = Shell::new(false, 0, ColorChoice::Never);
        assert!(!shell.stderr_color());
        assert!(
            !template(shell.stderr_color()).contains(":."),
            "no style directive"
        );
        assert!(template(true).contains("{spinner:.cyan}"));
        // The plain template is one indicatif accepts.
        assert!(ProgressStyle::with_template(template(false)).is_ok());
    }
}
