//! Validation helpers shared by the model configs.

use crate::error::ModelError;

pub(crate) fn positive(field: &'static str, value: usize) -> Result<(), ModelError> {
    if value == 0 {
        return Err(ModelError::InvalidConfig {
            field,
            reason: "must be at least 1".into(),
        });
    }
    Ok(())
}

pub(crate) fn multiplier(field: &'static str, value: f64) -> Result<(), ModelError> {
    if !(value.is_finite() && value > 0.0 && value <= 16.0) {
        return Err(ModelError::InvalidConfig {
            field,
            reason: format!("must be a finite number in (0, 16], got {value}"),
        });
    }
    Ok(())
}

/// The checks every family config shares.
pub(crate) fn common(
    num_classes: usize,
    in_channels: usize,
    width_mult: f64,
) -> Result<(), ModelError> {
    positive("num_classes", num_classes)?;
    positive("in_channels", in_channels)?;
    multiplier("width_mult", width_mult)
}
