//! Turns panics inside third-party code we call (cargo-deny's advisory parser) into
//! errors, and every other panic into a one-line internal error instead of a backtrace.

use std::sync::atomic::{AtomicUsize, Ordering};

static GUARDED: AtomicUsize = AtomicUsize::new(0);

/// Installed once from `main`: a panic outside `catch` prints one line, no backtrace.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        if GUARDED.load(Ordering::SeqCst) > 0 {
            return;
        }
        let msg = payload_message(info.payload());
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::shell::internal_error(&msg, &loc);
    }));
}

/// Runs `f`, returning the panic message as an error if it panics.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    GUARDED.fetch_add(1, Ordering::SeqCst);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.fetch_sub(1, Ordering::SeqCst);
    r.map_err(|p| payload_message(p.as_ref()))
}

fn payload_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
