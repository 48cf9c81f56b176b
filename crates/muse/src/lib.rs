//! # muse
//!
//! One dependency for all of MUSE-rs, the Rust library for data-free knowledge distillation.
//! Each module re-exports one crate:
//!
//! - [`models`]: the classifier zoo with distillation taps (`muse-models`);
//! - [`data`]: real data sets, batching and augmentation (`muse-data`);
//! - [`losses`]: the MUSE and NAYER losses (`muse-losses`);
//! - [`generator`]: the MUSE generator, one per resolution (`muse-generator`);
//! - [`engine`]: training loops and evaluation (`muse-engine`).

/// The Burn version every crate here is built on, for users who need its tensor types.
pub use burn;
pub use muse_data as data;
pub use muse_engine as engine;
pub use muse_generator as generator;
pub use muse_losses as losses;
pub use muse_models as models;
pub use muse_text as text;
