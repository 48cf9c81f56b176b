//! Errors of the training loops.

/// What can stop a training or evaluation run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A configuration value is out of range; names the field.
    #[error("invalid config: `{field}` {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// Several configuration fields are invalid; each entry names one.
    #[error("invalid config: {}", .0.join("; "))]
    InvalidConfigs(Vec<String>),
    /// The model and the data disagree (channels, classes, size).
    #[error("model and data do not fit: {0}")]
    Mismatch(String),
    /// A loss became NaN or infinite.
    #[error("{loss} loss is {value} at epoch {epoch}, step {step}")]
    NonFinite {
        /// Which loss.
        loss: &'static str,
        /// Its value.
        value: f32,
        /// Epoch (0-based).
        epoch: usize,
        /// Step within the epoch (0-based).
        step: usize,
    },
    /// A model produced a NaN or infinite output: its accuracy is undefined, never a score.
    #[error(
        "the model's {what} hold a non-finite value ({value}) for sample {sample}: its weights or input are broken"
    )]
    NonFiniteOutput {
        /// Which output (logits).
        what: &'static str,
        /// The value.
        value: f32,
        /// Index of the sample in the evaluated data.
        sample: usize,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file of ours (pool, checkpoint) is damaged.
    #[error("{path}: {what}")]
    Corrupt {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        what: String,
    },
    /// From the data crate.
    #[error(transparent)]
    Data(#[from] muse_data::DataError),
    /// From the model crate.
    #[error(transparent)]
    Model(#[from] muse_models::ModelError),
    /// From the generator crate.
    #[error(transparent)]
    Generator(#[from] muse_generator::GeneratorError),
    /// From the losses crate.
    #[error(transparent)]
    Loss(#[from] muse_losses::LossError),
}
