//! Errors of the generator crate.

/// What can go wrong building or running a generator.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// A configuration value is out of range.
    #[error("invalid generator config: `{field}` {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// Label embeddings of the wrong shape.
    #[error("label embeddings of shape {dims:?}: {reason}")]
    BadInput {
        /// The shape given.
        dims: Vec<usize>,
        /// What was expected.
        reason: String,
    },
}
