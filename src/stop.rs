//! The process's stop request: SIGTERM (Kubernetes, `kill`), SIGUSR1 (Slurm's
//! `--signal`) and Ctrl-C set it; training checks it between batches and scoring between
//! chunks (an AnoGAN latent search between its steps), and the work in progress ends with
//! [`Stopped`]. What a stop means for a run (back in the queue, resumed from its last
//! epoch-end checkpoint) is the runner's business, not this module's. A second Ctrl-C
//! ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// The work in progress was stopped on request (a signal).
#[derive(Debug, thiserror::Error)]
#[error("stopped on request (a signal)")]
pub struct Stopped;

/// Whether a stop was asked for.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Asks every job of this process to stop (what the signals do).
pub fn request() {
    STOP.store(true, Ordering::SeqCst);
}

/// Err([`Stopped`]) once a stop was asked for: called between batches and scoring chunks.
pub fn check() -> anyhow::Result<()> {
    if requested() {
        Err(Stopped.into())
    } else {
        Ok(())
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe work here: an atomic swap, and `_exit`.
    if STOP.swap(true, Ordering::SeqCst) && signal == libc::SIGINT {
        // SAFETY: `_exit` is async-signal-safe; a second Ctrl-C means "now".
        unsafe { libc::_exit(130) };
    }
}

/// Routes SIGTERM, SIGUSR1 and SIGINT to [`request`]. Call before threads start.
pub fn install() {
    for signal in [libc::SIGTERM, libc::SIGUSR1, libc::SIGINT] {
        // SAFETY: installs a handler that only touches an atomic (and `_exit`s).
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}
