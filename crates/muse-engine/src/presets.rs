//! Named run configs: the paper's Table 6 (CIFAR, Imagenette/Imagewoof, ImageNet) and small
//! CPU-sized ones for Fashion-MNIST and digits (METHOD.md §6).
//!
//! Table 6 gives the student steps per epoch as a multiple of the data ratio in percent
//! (`S = 2·d_r` for CIFAR, so 20 steps at 10%); [`preset`] computes `S` from the ratio it is
//! given. The teacher's weights are left empty: the caller (the CLI's `--teacher`) sets them.

use muse_losses::CamTarget;
use muse_models::Arch;

use crate::config::{
    AugmentSettings, DistillConfig, GenerationSettings, Method, ModelSpec, StudentSettings,
};
use crate::error::EngineError;
use crate::generation::GeneratorLossWeights;
use crate::label_embedding::LabelEmbeddingSource;

/// A preset's name and what it is for.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "fashion-mnist",
        "LeNet-5 → ResNet-8×0.5 on Fashion-MNIST, 28 px native, generation at 20 and 28 px; the embedded default (~5 min on 2 cores)",
    ),
    (
        "fashion-mnist-64",
        "Fashion-MNIST upsampled to 64 px, ImageNet-style ResNet-18×0.25 teacher → ResNet-8×0.5 student; generation at 32 and 48 px",
    ),
    (
        "digits",
        "scikit-learn digits (8 px): LeNet-5 → ResNet-8×0.25, generation at 4 and 8 px",
    ),
    (
        "cifar10",
        "Table 6 CIFAR-10: ResNet-34 → ResNet-18 (CIFAR stems), 28 and 32 px, batches 130/100, I 20, g 40, 400 epochs",
    ),
    ("cifar100", "Table 6 CIFAR-100: as cifar10 with 100 classes"),
    (
        "imagenette",
        "Table 6 Imagenette: ResNet-34 → ResNet-18 (ImageNet stems), 96 and 112 px of 224, batches 50/40, I 5, g 100, 100 epochs",
    ),
    ("imagewoof", "Table 6 Imagewoof: as imagenette"),
    (
        "imagenet",
        "Table 6 ImageNet-1k: ResNet-50 → ResNet-18, 112 and 128 px of 224, batches 200/150, I 20, g 100, 400 epochs",
    ),
    (
        "tiny",
        "a few seconds' smoke run: 3-class grey 12 px LeNet-5 → ResNet-8×0.25 (tests and CI)",
    ),
];

/// Everything that differs between presets.
struct Shape {
    teacher: (Arch, f64),
    student: (Arch, f64),
    num_classes: usize,
    channels: usize,
    native: usize,
    train_size: usize,
    /// MUSE resolutions and batch sizes; MUSE-S uses the first, NAYER the native resolution
    /// with the first batch size.
    resolutions: Vec<usize>,
    batch_sizes: Vec<usize>,
    iterations: usize,
    steps: usize,
    epochs: usize,
    /// Student steps per percent of data ratio.
    student_steps_per_percent: f64,
    ngf: usize,
    flip: bool,
}

fn shape(name: &str) -> Option<Shape> {
    let cifar = |k| Shape {
        teacher: (Arch::ResNet34Cifar, 1.0),
        student: (Arch::ResNet18Cifar, 1.0),
        num_classes: k,
        channels: 3,
        native: 32,
        train_size: 50_000,
        resolutions: vec![28, 32],
        batch_sizes: vec![130, 100],
        iterations: 20,
        steps: 40,
        epochs: 400,
        student_steps_per_percent: 2.0,
        ngf: 64,
        flip: true,
    };
    let nette = Shape {
        teacher: (Arch::ResNet34, 1.0),
        student: (Arch::ResNet18, 1.0),
        num_classes: 10,
        channels: 3,
        native: 224,
        train_size: 9_469,
        resolutions: vec![96, 112],
        batch_sizes: vec![50, 40],
        iterations: 5,
        steps: 100,
        epochs: 100,
        student_steps_per_percent: 50.0,
        ngf: 64,
        flip: true,
    };
    Some(match name {
        "fashion-mnist" => Shape {
            teacher: (Arch::LeNet5, 1.0),
            student: (Arch::ResNet8, 0.5),
            num_classes: 10,
            channels: 1,
            native: 28,
            train_size: 60_000,
            resolutions: vec![20, 28],
            batch_sizes: vec![100, 50],
            iterations: 2,
            steps: 20,
            epochs: 10,
            student_steps_per_percent: 10.0,
            ngf: 32,
            flip: false,
        },
        "fashion-mnist-64" => Shape {
            teacher: (Arch::ResNet18, 0.25),
            student: (Arch::ResNet8, 0.5),
            num_classes: 10,
            channels: 1,
            native: 64,
            train_size: 60_000,
            resolutions: vec![32, 48],
            batch_sizes: vec![64, 36],
            iterations: 2,
            steps: 20,
            epochs: 12,
            student_steps_per_percent: 10.0,
            ngf: 32,
            flip: false,
        },
        "digits" => Shape {
            teacher: (Arch::LeNet5, 1.0),
            student: (Arch::ResNet8, 0.25),
            num_classes: 10,
            channels: 1,
            native: 8,
            train_size: 1_437,
            resolutions: vec![4, 8],
            batch_sizes: vec![100, 50],
            iterations: 2,
            steps: 20,
            epochs: 20,
            student_steps_per_percent: 2.0,
            ngf: 16,
            flip: false,
        },
        "cifar10" => cifar(10),
        "cifar100" => cifar(100),
        "imagenette" | "imagewoof" => nette,
        "imagenet" => Shape {
            teacher: (Arch::ResNet50, 1.0),
            student: (Arch::ResNet18, 1.0),
            num_classes: 1000,
            channels: 3,
            native: 224,
            train_size: 1_281_167,
            resolutions: vec![112, 128],
            batch_sizes: vec![200, 150],
            iterations: 20,
            steps: 100,
            epochs: 400,
            student_steps_per_percent: 200.0,
            ngf: 64,
            flip: true,
        },
        "tiny" => Shape {
            teacher: (Arch::LeNet5, 1.0),
            student: (Arch::ResNet8, 0.25),
            num_classes: 3,
            channels: 1,
            native: 12,
            train_size: 300,
            resolutions: vec![8, 12],
            batch_sizes: vec![6, 6],
            iterations: 2,
            steps: 2,
            epochs: 3,
            student_steps_per_percent: 0.3,
            ngf: 16,
            flip: false,
        },
        _ => return None,
    })
}

/// The config of preset `name` for `method` at data ratio `ratio` (a fraction, 0.05 = 5%).
pub fn preset(name: &str, method: Method, ratio: f64) -> Result<DistillConfig, EngineError> {
    let s = shape(name).ok_or_else(|| EngineError::InvalidConfig {
        field: "preset",
        reason: format!(
            "unknown preset `{name}`; known: {}",
            PRESETS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    let (resolutions, batch_sizes) = match method {
        Method::Muse => (s.resolutions.clone(), s.batch_sizes.clone()),
        Method::MuseS => (vec![s.resolutions[0]], vec![s.batch_sizes[0]]),
        Method::Nayer => (vec![s.native], vec![s.batch_sizes[0]]),
    };
    let steps = ((ratio * 100.0 * s.student_steps_per_percent).round() as usize).max(1);
    let config = DistillConfig {
        method,
        teacher: ModelSpec {
            arch: s.teacher.0,
            width_mult: s.teacher.1,
            weights: None,
        },
        student: ModelSpec {
            arch: s.student.0,
            width_mult: s.student.1,
            weights: None,
        },
        num_classes: s.num_classes,
        channels: s.channels,
        native_resolution: s.native,
        train_size: s.train_size,
        data_ratio: ratio,
        epochs: s.epochs,
        warmup_epochs: (s.epochs / 10).max(1),
        generation: GenerationSettings {
            batch_sizes: batch_sizes.clone(),
            resolutions,
            iterations: s.iterations,
            steps: s.steps,
            lr: 4e-3,
            spectral_norm: true,
            ngf: s.ngf,
            bn_momentum: 0.9,
            cam_target: CamTarget::Full(1.0),
            weights: GeneratorLossWeights::new(),
        },
        student_training: StudentSettings {
            steps,
            batch_size: batch_sizes[0],
            lr: 1e-3,
            weight_decay: 1e-4,
            warmup_fraction: 0.1,
            tau: 20.0,
            alpha_ed: 10.0,
        },
        augment: AugmentSettings {
            crop_fraction: 0.125,
            flip: s.flip,
        },
        label_embedding: LabelEmbeddingSource::ClassCenter,
        radii: None,
        seed: 0,
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_validates_once_a_teacher_is_set_for_every_method() {
        for (name, _) in PRESETS {
            for method in [Method::Muse, Method::MuseS, Method::Nayer] {
                let mut c = preset(name, method, 0.05).unwrap();
                c.teacher.weights = Some("teacher.bpk".into());
                c.validate()
                    .unwrap_or_else(|e| panic!("{name} {method:?}: {e}"));
            }
        }
    }

    #[test]
    fn table_6_values_and_student_steps_from_the_ratio() {
        let c = preset("cifar10", Method::Muse, 0.1).unwrap();
        assert_eq!(c.generation.resolutions, vec![28, 32]);
        assert_eq!(c.generation.batch_sizes, vec![130, 100]);
        assert_eq!((c.generation.iterations, c.generation.steps), (20, 40));
        assert_eq!(c.student_training.steps, 20, "S = 2·d_r at d_r = 10%");
        let s = preset("imagenet", Method::MuseS, 0.01).unwrap();
        assert_eq!(s.generation.resolutions, vec![112]);
        assert_eq!(s.student_training.steps, 200);
        let n = preset("fashion-mnist", Method::Nayer, 0.05).unwrap();
        assert_eq!(n.generation.resolutions, vec![28]);
        assert!(matches!(
            preset("mnist-xl", Method::Muse, 0.05),
            Err(EngineError::InvalidConfig {
                field: "preset",
                ..
            })
        ));
    }
}
