//! Pull threads run at a lower CPU priority than the async workers.
//!
//! A saturated primary spends its cores reading and encoding pulls; the calls a satellite makes
//! between pulls (`count`, acknowledgements, `user`) cost microseconds but would wait behind
//! them for a core. With the pull threads niced, the scheduler runs a woken async worker first,
//! so those calls stay fast, and pulls still get every cycle nobody else wants.

use std::cell::Cell;

/// The nice value of pull threads (the async workers and the writer keep 0).
pub const PULL_NICENESS: i32 = 10;

thread_local! {
    static LOWERED: Cell<bool> = const { Cell::new(false) };
}

/// Lowers the priority of the calling thread to [`PULL_NICENESS`] (or leaves it lower), once. Failing
/// to (a platform without per-thread priorities) costs latency, not correctness, so it is
/// only logged.
pub fn lower_current_thread() {
    if LOWERED.replace(true) {
        return;
    }
    let thread = rustix::thread::gettid();
    // Never raise a priority an operator lowered for the whole process.
    let current = rustix::process::getpriority_process(Some(thread)).unwrap_or(0);
    if let Err(error) = rustix::process::setpriority_process(Some(thread), PULL_NICENESS.max(current)) {
        tracing::debug!("could not lower the priority of a pull thread: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_the_calling_thread() {
        let before = rustix::process::getpriority_process(None).unwrap();
        let inside = std::thread::spawn(|| {
            lower_current_thread();
            lower_current_thread();
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(inside, PULL_NICENESS.max(before));
        assert_eq!(
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap(),
            before
        );
    }
}
