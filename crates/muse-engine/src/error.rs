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
    /// From the data crate.
    #[error(transparent)]
    Data(#[from] muse_data::DataError),
    /// From the model crate.
    #[error(transparent)]
    Model(#[from] muse_models::ModelError),
    /// From the losses crate.
    #[error(transparent)]
    Loss(#[from] muse_losses::LossError),
}
