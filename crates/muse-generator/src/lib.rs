//! # muse-generator
//!
//! MUSE's generator (paper Table 5, NAYER's `NLGenerator`; METHOD.md §2): label embeddings
//! through BatchNorm1d and re-initialisable noisy layers, a linear map to a `h/4 × w/4` feature
//! map, two nearest-upsample + 3×3 conv blocks and a Sigmoid output in `[0, 1]`, with
//! hand-written spectral normalisation ([`SnConv2d`], Burn has none). [`GeneratorSet`] holds one
//! generator and batch size per resolution for multi-resolution generation (paper Eq. 7).

mod error;
mod generator;
mod set;
mod spectral;

pub use error::GeneratorError;
pub use generator::{Generator, GeneratorConfig};
pub use set::{GeneratorSet, GeneratorSetConfig};
pub use spectral::SnConv2d;
