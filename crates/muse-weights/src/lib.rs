//! # muse-weights
//!
//! Loading weights written by other frameworks (PyTorch `.pt`/`.pth`, safetensors) into any
//! Burn module, as strictly as weights from strangers deserve: every tensor's shape is checked
//! against the module from the file's header before any data is read, nothing in a pickle is
//! imported or run (an object other than a tensor or a plain value is refused by name), and a
//! missing, unexpected or mis-shaped tensor is an error naming it in the file's own names and
//! layout. [`non_finite_tensors`] finds weights holding NaN or infinity.
//!
//! The model zoo (`muse-models`) and the text encoder (`muse-text`) both load through it.

mod error;
mod finite;
mod foreign;

pub use error::WeightsError;
pub use finite::non_finite_tensors;
pub use foreign::{ForeignFormat, KeyRule, WRAPPER_RULES, load_foreign, load_foreign_named};
