//! # muse-engine
//!
//! Training loops of MUSE-rs. Today: supervised training of a teacher on real data
//! ([`train_supervised`]) and evaluation at native resolution ([`evaluate`]), both reporting to
//! an [`Observer`] instead of printing. Algorithm 1 of the MUSE paper (the distillation loop)
//! is the next piece of this crate.

mod error;
mod evaluate;
mod observer;
mod supervised;

pub use error::EngineError;
pub use evaluate::{Accuracy, evaluate, top_k_hits};
pub use observer::{Observer, Silent};
pub use supervised::{SupervisedConfig, cosine_lr, train_supervised};
