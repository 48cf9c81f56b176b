//! Errors of the weights loader. Every variant names the file.

use std::path::PathBuf;

/// What can go wrong when loading a weights file into a module.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file cannot be read as weights (empty, truncated, not a weights file), or holds
    /// something besides tensors and plain values; nothing was loaded.
    #[error("{path}: {}", problems.join("\n  "))]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, one line per problem.
        problems: Vec<String>,
    },
    /// The file's tensors do not fit the module: every missing, unexpected or mis-shaped
    /// tensor is listed; nothing was loaded.
    #[error("{path} does not fit the model:\n  {}", problems.join("\n  "))]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// One line per problem, each naming the key (and both shapes for a mismatch).
        problems: Vec<String>,
    },
}
