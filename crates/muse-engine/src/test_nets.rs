//! Tiny networks shared by the engine's tests: a 3-class grey-scale LeNet-5 teacher and a
//! quarter-width ResNet-8 student.

use burn::tensor::Device;
use muse_models::{AnyClassifier, Arch, ClassifierConfig};

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
