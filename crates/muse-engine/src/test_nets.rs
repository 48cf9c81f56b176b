//! Tiny networks shared by the engine's tests: a 3-class grey-scale LeNet-5 teacher and a
//! quarter-width ResNet-8 student, and a run config that fits them (12 px native).

use burn::tensor::Device;
use muse_losses::CamTarget;
use muse_models::{AnyClassifier, Arch, ClassifierConfig};

use crate::config::{
    AugmentSettings, DistillConfig, GenerationSettings, Method, ModelSpec, StudentSettings,
};
use crate::generation::GeneratorLossWeights;
use crate::label_embedding::LabelEmbeddingSource;

pub(crate) fn tiny_teacher(device: &Device) -> AnyClassifier {
    ClassifierConfig::new(Arch::LeNet5, 3)
        .with_in_channels(1)
        .init(device)
        .unwrap()
}

pub(crate) fn tiny_student(device: &Device) -> AnyClassifier {
    ClassifierConfig::new(Arch::ResNet8, 3)
        .with_in_channels(1)
        .with_width_mult(0.25)
        .init(device)
        .unwrap()
}

/// A valid config for the tiny networks: 3 classes, 1 channel, 12 px native, 3 epochs.
pub(crate) fn tiny_config(
    method: Method,
    resolutions: Vec<usize>,
    batches: Vec<usize>,
) -> DistillConfig {
    DistillConfig {
        method,
        teacher: ModelSpec {
            arch: Arch::LeNet5,
            width_mult: 1.0,
            weights: Some("unused".into()),
        },
        student: ModelSpec {
            arch: Arch::ResNet8,
            width_mult: 0.25,
            weights: None,
        },
        num_classes: 3,
        channels: 1,
        native_resolution: 12,
        train_size: 300,
        data_ratio: 0.1,
        epochs: 3,
        warmup_epochs: 1,
        generation: GenerationSettings {
            resolutions,
            batch_sizes: batches,
            iterations: 2,
            steps: 2,
            lr: 4e-3,
            spectral_norm: true,
            ngf: 16,
            bn_momentum: 0.9,
            cam_target: CamTarget::Full(1.0),
            weights: GeneratorLossWeights::new(),
        },
        student_training: StudentSettings {
            steps: 3,
            batch_size: 8,
            lr: 1e-3,
            weight_decay: 1e-4,
            warmup_fraction: 0.0,
            tau: 4.0,
            alpha_ed: 10.0,
        },
        augment: AugmentSettings {
            crop_fraction: 0.125,
            flip: false,
        },
        label_embedding: LabelEmbeddingSource::ClassCenter,
        radii: None,
        seed: 7,
    }
}
