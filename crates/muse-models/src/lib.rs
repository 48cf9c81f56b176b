//! # muse-models
//!
//! The classifier zoo of MUSE-rs. Every model implements [`Classifier`], whose one forward
//! returns the logits, the penultimate embedding, the last feature map, the classifier weight
//! and the statistics of every BatchNorm2d input ([`Taps`]), which is everything the MUSE and
//! NAYER losses need (METHOD.md §3). [`Classifier::frozen`] gives the teacher's mode:
//! BatchNorm uses running statistics, no parameter receives gradients, yet gradients still flow
//! to the input, so a generator can be trained through the teacher.
//!
//! ```no_run
//! use muse_models::{Arch, BnStats, Classifier, ClassifierConfig};
//! # fn demo(device: &burn::tensor::Device) -> Result<(), muse_models::ModelError> {
//! let teacher = ClassifierConfig::new(Arch::ResNet34Cifar, 10).init(device)?.frozen();
//! let x = burn::tensor::Tensor::<4>::zeros([8, 3, 32, 32], device);
//! let taps = teacher.forward_taps(x, BnStats::Record);
//! assert_eq!(taps.logits.dims(), [8, 10]);
//! # Ok(()) }
//! ```

mod arch;
mod classifier;
mod config_check;
mod error;
mod io;
mod layers;
mod lenet;
mod materialize;
mod mobilenetv2;
mod pytorch;
mod resnet;
mod resnet_blocks;
mod taps;
mod vgg;
mod wrn;
mod zoo_init;

pub use arch::{AnyClassifier, Arch, ClassifierConfig};
pub use classifier::Classifier;
pub use error::ModelError;
pub use io::{load_model, save_model, tmp_path};
pub use layers::ConvBn;
pub use lenet::{LeNet5, LeNet5Config};
pub use materialize::{materialize, sync_running_stats};
pub use mobilenetv2::{InvertedResidual, MobileNetV2, MobileNetV2Config};
pub use muse_weights::{
    ForeignFormat, KeyRule, WRAPPER_RULES, WeightsError, load_foreign, load_foreign_named,
    non_finite_tensors,
};
pub use pytorch::{
    ModuleName, Naming, export_safetensors, load_classifier, load_pytorch, module_names, naming,
};
pub use resnet::{ResNet, ResNetConfig, ResNetDepth, Stage, Stem};
pub use resnet_blocks::{BasicBlock, Bottleneck, ResBlock};
pub use taps::{BnStats, BnTap, TapRecorder, Taps, bn_forward, bn_relu_forward};
pub use vgg::{Vgg, VggBlock, VggConfig};
pub use wrn::{WideResNet, WideResNetConfig, WrnBlock, WrnGroup, WrnVariant};
