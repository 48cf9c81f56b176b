//! Tiny networks shared by the engine's tests: a 3-class grey-scale LeNet-5 teacher and a
//! quarter-width ResNet-8 student, and a run config that fits them (12 px native).

use burn::tensor::Device;
use muse_models::{AnyClassifier, Arch, ClassifierConfig};

use crate::config::{DistillConfig, Method};

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

/// The `tiny` preset (3 classes, 1 channel, 12 px native, 3 epochs) with the resolutions and
/// batch sizes a test asks for, and the student settings the engine tests were written for (AdamW without warm-up, no warm-up iterations of their own, no generator re-initialisation).
pub(crate) fn tiny_config(
    method: Method,
    resolutions: Vec<usize>,
    batches: Vec<usize>,
) -> DistillConfig {
    let mut c = crate::presets::preset("tiny", method, 0.1).expect("the tiny preset exists");
    c.teacher.weights = Some("unused".into());
    c.generation.resolutions = resolutions;
    c.generation.batch_sizes = batches;
    c.generation.warmup_iterations = None;
    c.generation.reinit_every = 0;
    c.student_training.batch_size = 8;
    c.student_training.optimizer = crate::StudentOptimizer::AdamW {
        lr: 1e-3,
        weight_decay: 1e-4,
    };
    c.student_training.schedule = crate::LrSchedule::WarmupCosine {
        warmup_fraction: 0.0,
    };
    c.student_training.tau = 4.0;
    c.seed = 7;
    c
}
