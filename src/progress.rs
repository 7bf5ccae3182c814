//! Progress on stderr for long steps: shown only on a terminal, never with `-q`.
//! With `-vv`, each step's duration is printed, terminal or not.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Progress {
    bar: ProgressBar,
    timings: bool,
    current: RefCell<Option<(&'static str, Instant)>>,
}

impl Progress {
    pub fn new(quiet: bool, verbose: u8) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        if visible {
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        Self {
            bar,
            timings: verbose >= 2 && !quiet,
            current: RefCell::new(None),
        }
    }

    pub fn step(&self, msg: &'static str) {
        self.end_step();
        *self.current.borrow_mut() = Some((msg, Instant::now()));
        self.bar.set_message(msg);
    }

    fn end_step(&self) {
        if let Some((msg, start)) = self.current.borrow_mut().take() {
            if self.timings {
                self.bar
                    .suspend(|| eprintln!("timing: {msg}: {} ms", start.elapsed().as_millis()));
            }
        }
    }

    pub fn finish(&self) {
        self.end_step();
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
