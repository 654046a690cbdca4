//! The library's error type. Every variant carries enough context (a key, a value,
//! a file) for the user to fix the input without reading the source.

use std::path::PathBuf;

/// Errors raised by redqueen's library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter given on the command line or in a study file is invalid.
    #[error("parameter `{key}`: {reason}")]
    Param {
        /// The key as the user wrote it.
        key: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A point or vector has the wrong number of coordinates.
    #[error("{what} has {got} coordinates, expected {expected}")]
    Dimension {
        /// What was being read.
        what: String,
        /// How many coordinates were given.
        got: usize,
        /// How many the game needs.
        expected: usize,
    },
    /// A numerical routine failed (no convergence, singular matrix, non-finite value).
    #[error("numerical failure in {routine}: {reason}")]
    Numerical {
        /// The routine that failed.
        routine: String,
        /// What went wrong, with the numbers.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A signal stopped the work; what was written is marked as interrupted.
    #[error("interrupted by {}: {what}", signal.name())]
    Interrupted {
        /// The signal.
        signal: crate::interrupt::Signal,
        /// What was stopped and what was left on disk.
        what: String,
    },
    /// A study or configuration file is malformed.
    #[error("{path}: {reason}")]
    Config {
        /// The study file.
        path: PathBuf,
        /// The key and the reason.
        reason: String,
    },
}

impl Error {
    /// Shorthand for [`Error::Param`].
    pub fn param(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Param {
            key: key.into(),
            reason: reason.into(),
        }
    }
    /// Shorthand for [`Error::Numerical`].
    pub fn numerical(routine: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Numerical {
            routine: routine.into(),
            reason: reason.into(),
        }
    }
    /// Shorthand for [`Error::Config`]: a file and the key with the reason.
    pub fn config(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        Error::Config {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
    /// Shorthand for [`Error::File`] from an I/O or other error.
    pub fn file(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        Error::File {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

impl Error {
    /// The process exit status for this error: 128 + the signal number for an
    /// interruption, 2 otherwise.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Interrupted { signal, .. } => signal.exit_code(),
            _ => 2,
        }
    }
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;
