//! Errors of the losses: inputs whose shapes do not fit together.

/// A loss was given tensors that do not fit together.
#[derive(Debug, thiserror::Error)]
pub enum LossError {
    /// Two inputs disagree in shape.
    #[error("{loss}: {what}: expected {expected:?}, got {got:?}")]
    Shape {
        /// The loss.
        loss: &'static str,
        /// Which input.
        what: &'static str,
        /// The shape required.
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A parameter out of range (temperature, radius, ...).
    #[error("{loss}: {what}")]
    Parameter {
        /// The loss.
        loss: &'static str,
        /// What is wrong.
        what: String,
    },
}

pub(crate) fn same_shape(
    loss: &'static str,
    what: &'static str,
    expected: &[usize],
    got: &[usize],
) -> Result<(), LossError> {
    if expected != got {
        return Err(LossError::Shape {
            loss,
            what,
            expected: expected.to_vec(),
            got: got.to_vec(),
        });
    }
    Ok(())
}
