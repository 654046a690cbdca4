//! SIGINT and SIGTERM end a run cleanly: the runner finishes the step it is in, the
//! command writes what it has, marked as interrupted (never as finished), and the process
//! exits with 128 + the signal number (130 or 143). A second signal ends the process at
//! once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};

/// The signal that asked the process to stop (0: none).
static SIGNAL: AtomicUsize = AtomicUsize::new(0);
/// Set by the first signal; a second one then exits immediately.
static ARMED: AtomicBool = AtomicBool::new(false);

/// A signal that asks a run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    #[serde(rename = "SIGINT")]
    Int,
    /// SIGTERM (e.g. a batch scheduler's time limit).
    #[serde(rename = "SIGTERM")]
    Term,
}

impl Signal {
    /// The signal's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
    /// The exit status of a process it stopped: 128 + signal number.
    #[must_use]
    pub fn exit_code(self) -> i32 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
        }
    }
}

/// Installs the handlers (the binary does this once, at start).
///
/// # Errors
/// [`Error::Param`] if the handlers cannot be installed.
pub fn install() -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM] {
        let fail = |e: std::io::Error| Error::param("signals", e.to_string());
        // Registered first, so it runs first: exits only if a signal came before.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, &ARMED).map_err(fail)?;
        signal_hook::flag::register(sig, &ARMED).map_err(fail)?;
        signal_hook::flag::register_usize(sig, &SIGNAL, sig as usize).map_err(fail)?;
    }
    Ok(())
}

/// The signal received so far, if any (cheap: one atomic load, checked every step).
#[must_use]
pub fn requested() -> Option<Signal> {
    match SIGNAL.load(Ordering::Relaxed) {
        0 => None,
        15 => Some(Signal::Term),
        _ => Some(Signal::Int),
    }
}

/// Simulates a signal (for tests of the code paths that handle one).
#[doc(hidden)]
pub fn request_for_test(signal: Option<Signal>) {
    let v = match signal {
        None => 0,
        Some(Signal::Int) => 2,
        Some(Signal::Term) => 15,
    };
    SIGNAL.store(v, Ordering::Relaxed);
}

/// [`Error::Interrupted`] if a signal was received.
///
/// # Errors
/// As described.
pub fn check(what: &str) -> Result<()> {
    match requested() {
        Some(signal) => Err(Error::Interrupted {
            signal,
            what: what.to_string(),
        }),
        None => Ok(()),
    }
}
