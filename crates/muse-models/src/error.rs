//! Errors of the model zoo.

use std::path::PathBuf;

/// What can go wrong when building, running, saving or loading a classifier.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value is out of range.
    #[error("invalid model config: `{field}` {reason}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// An architecture name that the zoo does not know.
    #[error("unknown architecture `{name}`; known: {known}")]
    UnknownArch {
        /// The name given.
        name: String,
        /// Every accepted name, comma separated.
        known: String,
    },
    /// An input batch whose shape the network cannot take.
    #[error("input of shape {dims:?} does not fit the model: {reason}")]
    BadInput {
        /// The shape given.
        dims: Vec<usize>,
        /// What is wrong with it.
        reason: String,
    },
    /// An I/O failure around a weights file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Burn could not write or read a weights file (corrupt, truncated, or of another model).
    #[error("{path}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: burn::store::RecordError,
    },
    /// A foreign weights file that cannot be read (empty, truncated, not a weights file) or
    /// that holds something besides tensors and plain values; nothing was loaded.
    #[error("{path}: {}", problems.join("\n  "))]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, one line per problem.
        problems: Vec<String>,
    },
    /// A foreign weights file (PyTorch, safetensors) does not fit the model: every missing,
    /// unexpected or mis-shaped tensor is listed; nothing was loaded.
    #[error("{path} does not fit the model:\n  {}", problems.join("\n  "))]
    Weights {
        /// The file.
        path: PathBuf,
        /// One line per problem, each naming the key (and both shapes for a mismatch).
        problems: Vec<String>,
    },
}

impl From<muse_weights::WeightsError> for ModelError {
    fn from(e: muse_weights::WeightsError) -> Self {
        use muse_weights::WeightsError as W;
        match e {
            W::Io { path, source } => Self::Io { path, source },
            W::BadFile { path, problems } => Self::BadFile { path, problems },
            W::Mismatch { path, problems } => Self::Weights { path, problems },
        }
    }
}
