//! Scheduling of the helper threads that overlap the critical path.

/// Lowers the calling thread's priority, so that work on the critical path (cargo,
/// the checks) wins the CPU and this thread runs in what is left over.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread (who = 0) only changes its nice value.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}
