//! Reading a step's scalars back from the device in one transfer (each separate read is a
//! device synchronisation on GPU backends).

use burn::tensor::Tensor;

use crate::error::EngineError;

/// The values of `parts` concatenated, read from the device at once; `what` names them in the
/// error.
///
/// # Shapes
/// - `parts`: each `[n_i]`; output: `Σ n_i` values in order
pub(crate) fn read_values(parts: Vec<Tensor<1>>, what: &str) -> Result<Vec<f32>, EngineError> {
    Tensor::cat(parts, 0)
        .detach()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| EngineError::Mismatch(format!("{what}: {e:?}")))
}
