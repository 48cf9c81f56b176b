//! # muse-engine
//!
//! Training loops of MUSE-rs: supervised training of a teacher on real data
//! ([`train_supervised`]), evaluation at native resolution ([`evaluate`]), and the building
//! blocks of Algorithm 1 of the MUSE paper: label embeddings ([`LabelEmbeddings`]), one
//! generation iteration ([`generation_iteration`]), one student step ([`student_step`]), the
//! `u8` synthetic pool with its data-ratio budget ([`SyntheticPool`]) and the student's
//! learning-rate schedule ([`warmup_cosine`]), tied together epoch by epoch by [`Distiller`], which writes checkpoints and resumes from
//! them ([`Distiller::save_checkpoint`], [`Distiller::resume`]).

mod atomic;
mod card;
mod checkpoint;
mod config;
mod distill;
mod error;
mod evaluate;
mod generation;
mod label_embedding;
mod observer;
mod pictures;
mod pool;
mod presets;
mod readback;
mod schedule;
mod snapshot;
mod student;
mod supervised;
#[cfg(test)]
mod test_nets;

pub use atomic::write_atomic;
pub use card::ModelCard;
pub use checkpoint::latest_checkpoint;
pub use config::{
    AugmentSettings, DistillConfig, GenerationSettings, Method, ModelSpec, StudentSettings,
};
pub use distill::{Distiller, EpochMetrics, balanced_labels};
pub use error::EngineError;
pub use evaluate::{Accuracy, bn_distance, evaluate, top_k_hits};
pub use generation::{
    Generated, GenerationContext, GeneratorLossWeights, GeneratorLosses, generation_iteration,
};
pub use label_embedding::{LabelEmbeddingSource, LabelEmbeddings};
pub use observer::{Observer, Silent};
pub use pictures::{Images, colormap, grid, normalized_maps, save_png};
pub use pool::{Shard, SyntheticPool, pool_capacities, quantize};
pub use presets::{PRESETS, default_method, default_ratio, preset};
pub use schedule::{LrSchedule, StudentOptimizer, warmup_cosine};
pub use student::{StudentContext, StudentLosses, student_step};
pub use supervised::{SupervisedConfig, cosine_lr, train_supervised};
