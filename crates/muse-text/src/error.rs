//! Errors of the text encoder.

use std::path::PathBuf;

/// Why a text model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// A file the model needs could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No model directory was given and none was found at the usual places.
    #[error(
        "no all-MiniLM-L6-v2 model found (looked in: {searched}); fetch it with \
         `bash scripts/fetch_text_model.sh` or set MUSE_TEXT_MODEL to a directory holding \
         config.json, vocab.txt and model.safetensors"
    )]
    NotFound {
        /// The places looked at, comma-separated.
        searched: String,
    },
    /// `config.json` is malformed or describes a model this encoder does not implement.
    #[error("bad model config {path}: {reason}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `vocab.txt` lacks a token the tokenizer needs, or is empty.
    #[error("bad vocabulary {path}: {reason}")]
    Vocab {
        /// The vocabulary file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The weights file does not match the architecture.
    #[error("{reason}")]
    Weights {
        /// The safetensors file.
        path: PathBuf,
        /// Every missing, unexpected or mis-shaped tensor, named.
        reason: String,
    },
    /// The input cannot be encoded (for example an empty list of texts).
    #[error("invalid input: {0}")]
    Input(String),
}
