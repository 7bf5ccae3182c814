//! Work the audit may start on another core as soon as its inputs exist, or run on
//! the caller's thread when first needed: started early only when it will very
//! likely be needed (cargo had to run, so the findings cache most likely misses).

use crate::error::Failure;
use anyhow::Result;
use std::thread::JoinHandle;

pub struct Pending<T>(Inner<T>);

enum Inner<T> {
    Running(&'static str, JoinHandle<Result<T>>),
    Later(Box<dyn FnOnce() -> Result<T> + Send>),
}

impl<T: Send + 'static> Pending<T> {
    /// `what` names the work in the error shown if it panics.
    pub fn start(
        now: bool,
        what: &'static str,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Self {
        match now {
            true => Pending(Inner::Running(what, std::thread::spawn(work))),
            false => Pending(Inner::Later(Box::new(work))),
        }
    }

    pub fn get(self) -> Result<T> {
        match self.0 {
            Inner::Running(what, h) => h.join().map_err(|_| {
                Failure::new(format!("{what} failed unexpectedly"))
                    .help("re-run with -vv and report it")
            })?,
            Inner::Later(work) => work(),
        }
    }
}
