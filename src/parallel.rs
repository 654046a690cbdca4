//! Worker threads: one way to build the rayon pool a command runs in. Results never
//! depend on the number of threads (every parallel loop in redqueen collects in a fixed
//! order), so this only changes the speed.

use crate::error::{Error, Result};

/// Most worker threads a command accepts (a request beyond this is a typo, and each
/// thread reserves stack memory).
pub const MAX_THREADS: usize = 1024;

/// A pool of `threads` workers (0: one per core).
///
/// # Errors
/// [`Error::Param`] naming `threads` above [`MAX_THREADS`] or if the pool cannot start.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    if threads > MAX_THREADS {
        return Err(Error::param(
            "threads",
            format!("{threads} is more than the limit {MAX_THREADS} (0 means one per core)"),
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::param("threads", format!("cannot start {threads} threads: {e}")))
}

/// Runs `f` inside a pool of `threads` workers (0: one per core).
///
/// # Errors
/// As [`pool`], or `f`'s own error.
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    pool(threads)?.install(f)
}
