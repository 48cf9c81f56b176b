//! # muse
//!
//! One dependency for all of MUSE-rs, the Rust library for data-free knowledge distillation.
//! The package is `muse-dfkd` on crates.io (`muse` was taken); the library is imported as
//! `muse`. Each module re-exports one crate:
//!
//! - [`models`]: the classifier zoo with distillation taps, PyTorch weights (`muse-models`);
//! - [`data`]: real data sets, batching and augmentation (`muse-data`);
//! - [`losses`]: the MUSE and NAYER losses (`muse-losses`);
//! - [`generator`]: the MUSE generator, one per resolution (`muse-generator`);
//! - [`engine`]: Algorithm 1 (`Distiller`), presets, checkpoints, evaluation (`muse-engine`);
//! - [`text`]: class-name embeddings with all-MiniLM-L6-v2 in pure Rust (`muse-text`);
//! - [`weights`]: strict PyTorch/safetensors weights loading into any Burn module
//!   (`muse-weights`);
//! - [`device`]: the device of the backend a cargo feature chose (`muse-device`).
//!
//! Like every library crate here it enables no backend: a binary picks one with a feature
//! (`flex`, the pure-Rust CPU backend; `wgpu`; `cuda`; `ndarray`, deprecated in Burn 0.22).
//!
//! # Example
//!
//! Distil a teacher with the `tiny` preset (a 12 px, 3-class stand-in that runs in a second)
//! for a few epochs, watching progress through an [`engine::Observer`]. The teacher here is a
//! random network saved to a file; yours is a `.bpk` of `muse train-teacher` or a PyTorch
//! `.pth`/`.safetensors` state dict, and a real run evaluates on held-out data each epoch
//! (`run_epoch(Some((&data, &normalization)), ..)`).
//!
//! ```
//! use muse::data::Normalization;
//! use muse::engine::{Distiller, Method, Observer, preset};
//!
//! /// Counts the steps of every phase the engine reports.
//! #[derive(Default)]
//! struct Steps(Vec<(String, usize)>);
//!
//! impl Observer for Steps {
//!     fn phase_started(&mut self, name: &str, _steps: usize) {
//!         self.0.push((name.to_string(), 0));
//!     }
//!     fn step(&mut self, _loss: Option<f32>) {
//!         if let Some(last) = self.0.last_mut() {
//!             last.1 += 1;
//!         }
//!     }
//! }
//!
//! # fn main() -> Result<(), muse::engine::EngineError> {
//! let device = muse::device::autodiff_device();
//! let mut config = preset("tiny", Method::Muse, 0.1)?;
//! // Stands in for your trained teacher's weights file.
//! let weights = std::env::temp_dir().join("muse-doc-example-teacher.bpk");
//! muse::models::save_model(&config.teacher_network(&device)?, &weights)?;
//! config.teacher.weights = Some(weights);
//! let teacher = config.load_teacher(&device)?;
//! let student = config.student_network(&device)?;
//! let mut distiller =
//!     Distiller::new(config.clone(), teacher, student, Normalization::identity(1), &device)?;
//! let mut observer = Steps::default();
//! for _ in 0..config.epochs {
//!     let metrics = distiller.run_epoch(None, &mut observer)?;
//!     assert!(metrics.student.kl.is_finite());
//! }
//! assert_eq!(distiller.epoch(), config.epochs);
//! assert!(observer.0.iter().any(|(phase, steps)| phase.contains("student") && *steps > 0));
//! # Ok(())
//! # }
//! ```

/// The Burn version every crate here is built on, for users who need its tensor types.
pub use burn;
pub use muse_data as data;
pub use muse_device as device;
pub use muse_engine as engine;
pub use muse_generator as generator;
pub use muse_losses as losses;
pub use muse_models as models;
pub use muse_text as text;
pub use muse_weights as weights;
