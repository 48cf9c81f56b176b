//! Named run configs: the paper's Table 6 (CIFAR, Imagenette/Imagewoof, ImageNet) and small
//! CPU-sized ones for Fashion-MNIST and digits (METHOD.md §6).
//!
//! Student steps per epoch are a plain count per preset (Table 6's "S scaled by d_r" column is
//! ambiguous; docs/method.md gives the decision). The `nayer` mode of `cifar10`/`cifar100`
//! is NAYER's published scripts; `muse`/`muse-s` keep Table 6's `I`, `g` and `E` there.
//! The teacher's weights are left empty: the caller (the CLI's `--teacher`) sets them.

use muse_losses::CamTarget;
use muse_models::Arch;

use crate::config::{
    AugmentSettings, DistillConfig, GenerationSettings, Method, ModelSpec, StudentSettings,
};
use crate::error::EngineError;
use crate::generation::GeneratorLossWeights;
use crate::label_embedding::LabelEmbeddingSource;
use crate::schedule::{LrSchedule, StudentOptimizer};

/// A preset's name and what it is for.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "fashion-mnist",
        "WRN-16-1 → WRN-16-1 on Fashion-MNIST, 28 px native, generation at 20 and 28 px, 2%, 20 epochs; the embedded default (~9 min on 2 cores)",
    ),
    (
        "fashion-mnist-64",
        "64 px Fashion-MNIST (or fashion-mnist-scenes), ImageNet-style ResNet-18×0.25 teacher → ResNet-8×0.5 student; generation at 32 and 48 px, equal pixels per loop for every method, 30 epochs",
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
    /// MUSE resolutions and synthetic batch sizes; MUSE-S uses the first, NAYER the native
    /// resolution with `nayer_batch`.
    resolutions: Vec<usize>,
    batch_sizes: Vec<usize>,
    /// MUSE-S's synthetic batch at `resolutions[0]`.
    muse_s_batch: usize,
    /// NAYER's synthetic batch at the native resolution.
    nayer_batch: usize,
    /// Generation iterations `I` per epoch after the warm-up.
    iterations: usize,
    /// ... and during the warm-up epochs (NAYER's `gwp_loops`).
    warmup_iterations: usize,
    /// Generator steps `g` per iteration.
    steps: usize,
    epochs: usize,
    warmup_epochs: usize,
    /// Student steps `S` per epoch: a plain count (METHOD.md §5, docs/method.md).
    student_steps: usize,
    student_batch: usize,
    optimizer: StudentOptimizer,
    /// NAYER's full generator re-initialisation period `g_life` (0: never).
    reinit_every: usize,
    ngf: usize,
    flip: bool,
    /// The teacher's last BatchNorms left out of L_BN (`generation.bn_skip_last`).
    bn_skip_last: usize,
    /// Table 6's `(I, g, E)` for `muse`/`muse-s` where the paper's differ from the above.
    paper: Option<(usize, usize, usize)>,
}

/// NAYER's CIFAR scripts (`run/nayer_200.sh`): student batch 512 with SGD lr 0.2, synthetic
/// batch 400, 20 warm-up epochs of 10 generation loops, then 2 loops of `g` steps per epoch,
/// 400 student steps per epoch (`kd_steps`), `g_life` 10, 220 epochs.
fn cifar(k: usize) -> Shape {
    Shape {
        teacher: (Arch::ResNet34Cifar, 1.0),
        student: (Arch::ResNet18Cifar, 1.0),
        num_classes: k,
        channels: 3,
        native: 32,
        train_size: 50_000,
        resolutions: vec![28, 32],
        batch_sizes: vec![130, 100],
        muse_s_batch: 130,
        nayer_batch: 400,
        iterations: 2,
        warmup_iterations: 10,
        steps: if k == 100 { 40 } else { 30 },
        epochs: 220,
        warmup_epochs: 20,
        student_steps: 400,
        student_batch: 512,
        optimizer: StudentOptimizer::nayer_sgd(0.2),
        reinit_every: 10,
        ngf: 64,
        flip: true,
        bn_skip_last: 0,
        paper: Some((20, 40, 400)),
    }
}

fn shape(name: &str) -> Option<Shape> {
    let nette = Shape {
        teacher: (Arch::ResNet34, 1.0),
        student: (Arch::ResNet18, 1.0),
        num_classes: 10,
        channels: 3,
        native: 224,
        train_size: 9_469,
        resolutions: vec![96, 112],
        batch_sizes: vec![50, 40],
        muse_s_batch: 50,
        nayer_batch: 50,
        iterations: 5,
        warmup_iterations: 5,
        steps: 100,
        epochs: 100,
        warmup_epochs: 10,
        // Table 6's 50·d_r at the paper's 5%.
        student_steps: 250,
        student_batch: 128,
        optimizer: StudentOptimizer::nayer_sgd(0.1),
        reinit_every: 10,
        ngf: 64,
        flip: true,
        bn_skip_last: 0,
        paper: None,
    };
    Some(match name {
        // Tuned on the embedded WRN-16-1 teacher (docs/results.md, "Strong students"): the
        // ten-minute default of the README's main command.
        "fashion-mnist" => Shape {
            teacher: (Arch::Wrn16x1, 1.0),
            student: (Arch::Wrn16x1, 1.0),
            num_classes: 10,
            channels: 1,
            native: 28,
            train_size: 60_000,
            resolutions: vec![20, 28],
            batch_sizes: vec![100, 50],
            muse_s_batch: 100,
            nayer_batch: 100,
            iterations: 2,
            warmup_iterations: 3,
            steps: 30,
            epochs: 20,
            warmup_epochs: 2,
            student_steps: 50,
            student_batch: 128,
            optimizer: StudentOptimizer::nayer_sgd(0.1),
            reinit_every: 10,
            ngf: 64,
            flip: true,
            bn_skip_last: 0,
            paper: None,
        },
        "fashion-mnist-64" => Shape {
            teacher: (Arch::ResNet18, 0.25),
            student: (Arch::ResNet8, 0.5),
            num_classes: 10,
            channels: 1,
            native: 64,
            train_size: 60_000,
            resolutions: vec![32, 48],
            // Equal pixels per generation loop for every method (the paper's Table 6 sizes
            // batches by side the same way): 64 × 64² = 256 × 32² = 128 × 32² + 57 × 48², so
            // every method fills its pixel budget at the same epoch (docs/results.md, setting (c)).
            batch_sizes: vec![128, 57],
            muse_s_batch: 256,
            nayer_batch: 64,
            iterations: 1,
            warmup_iterations: 2,
            steps: 30,
            // The pool is full by epoch 8; the rest trains the student on it to the end of
            // the cosine (16 epochs left every method still rising).
            epochs: 30,
            warmup_epochs: 2,
            student_steps: 50,
            student_batch: 128,
            optimizer: StudentOptimizer::nayer_sgd(0.1),
            reinit_every: 10,
            ngf: 32,
            flip: true,
            // Layer 4's five BatchNorms (1×1 / 2×2 maps at 32 / 64 px) out of L_BN: +7.1 for
            // muse-s at 32 px over two seeds, +1.9 for nayer at 64 px (docs/results.md).
            bn_skip_last: 5,
            paper: None,
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
            muse_s_batch: 100,
            nayer_batch: 100,
            iterations: 2,
            warmup_iterations: 2,
            steps: 20,
            epochs: 20,
            warmup_epochs: 2,
            student_steps: 20,
            student_batch: 64,
            optimizer: StudentOptimizer::nayer_sgd(0.1),
            reinit_every: 10,
            ngf: 16,
            flip: false,
            bn_skip_last: 0,
            paper: None,
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
            muse_s_batch: 200,
            nayer_batch: 200,
            iterations: 20,
            warmup_iterations: 20,
            steps: 100,
            epochs: 400,
            warmup_epochs: 20,
            // Table 6's 200·d_r at the paper's 5%.
            student_steps: 1000,
            student_batch: 256,
            optimizer: StudentOptimizer::nayer_sgd(0.2),
            reinit_every: 10,
            ngf: 64,
            flip: true,
            bn_skip_last: 0,
            paper: None,
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
            muse_s_batch: 6,
            nayer_batch: 6,
            iterations: 2,
            warmup_iterations: 3,
            steps: 2,
            epochs: 3,
            warmup_epochs: 1,
            student_steps: 3,
            student_batch: 8,
            optimizer: StudentOptimizer::nayer_sgd(0.05),
            // Exercised by the resume tests: a re-initialisation at epoch 2.
            reinit_every: 2,
            ngf: 16,
            flip: false,
            bn_skip_last: 0,
            paper: None,
        },
        _ => return None,
    })
}

/// The data ratio a preset is tuned and measured at (a fraction): 2% for `fashion-mnist` (its
/// ten-minute default), 5% elsewhere (the paper's Imagenette setting).
pub fn default_ratio(name: &str) -> f64 {
    match name {
        "fashion-mnist" => 0.02,
        "tiny" => 0.1,
        _ => 0.05,
    }
}

/// The method a preset runs when none is named: chosen by measurement per preset.
///
/// `fashion-mnist` defaults to `nayer`: at 28 px the low-resolution premise of MUSE gives it
/// nothing to gain, and at this preset's budget `nayer` led `muse` on both measured seeds of the
/// full test set (86.14 / 85.23 against 84.89 / 84.04, WRN-16-1 teacher at 93.34%) and on the
/// README's slice (88.20 against 87.00), in the same wall time (docs/results.md, session 9).
/// `fashion-mnist-64` defaults to `muse-s` (32 px): on `fashion-mnist-scenes` at 1% it led
/// `muse` (32 + 48 px) and `nayer` (64 px) on every seed, at equal pixel budget and in less
/// wall time (docs/results.md, setting (c), session 10).
/// Every other preset defaults to `muse`, the paper's method.
pub fn default_method(name: &str) -> Method {
    match name {
        "fashion-mnist" => Method::Nayer,
        "fashion-mnist-64" => Method::MuseS,
        _ => Method::Muse,
    }
}

/// The config of preset `name` for `method` at data ratio `ratio` (a fraction, 0.05 = 5%).
///
/// The recipe is NAYER's for every method (SGD student with a cosine to 2e-4, warm-up epochs
/// of generation only, full generator re-initialisation every `g_life` epochs); `nayer` is
/// NAYER exactly (no spectral norm, α_adv 1.33, native resolution), `muse`/`muse-s` add the
/// paper's spectral norm, α_adv 1.3, low resolutions, CAM and embedding diversity.
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
        Method::MuseS => (vec![s.resolutions[0]], vec![s.muse_s_batch]),
        Method::Nayer => (vec![s.native], vec![s.nayer_batch]),
    };
    let nayer = method == Method::Nayer;
    let (iterations, steps, epochs) = match s.paper {
        Some(paper) if !nayer => paper,
        _ => (s.iterations, s.steps, s.epochs),
    };
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
        epochs,
        warmup_epochs: s.warmup_epochs,
        generation: GenerationSettings {
            batch_sizes,
            resolutions,
            iterations,
            warmup_iterations: Some(s.warmup_iterations),
            steps,
            lr: 4e-3,
            spectral_norm: !nayer,
            ngf: s.ngf,
            reinit_every: s.reinit_every,
            bn_momentum: 0.9,
            bn_skip_last: s.bn_skip_last,
            cam_target: CamTarget::Full(1.0),
            // L_AED off (α_aed = 0, paper: 5): with the paper's radii rule and MiniLM class
            // names it is exactly 0 in every epoch of every run, and with the student-quantile
            // rule it acts but weighs 1e-5 of the generator loss and moves nothing
            // (docs/method.md, "ED radii"). L_ED on the student side stays (α_ed = 10).
            weights: GeneratorLossWeights::new()
                .with_adv(if nayer { 1.33 } else { 1.3 })
                .with_aed(0.0),
        },
        student_training: StudentSettings {
            steps: s.student_steps,
            batch_size: s.student_batch,
            optimizer: s.optimizer,
            schedule: LrSchedule::Cosine { floor: 2e-4 },
            tau: 20.0,
            alpha_ed: 10.0,
        },
        augment: AugmentSettings {
            crop_fraction: 0.125,
            flip: s.flip,
        },
        label_embedding: LabelEmbeddingSource::ClassCenter,
        radii: None,
        radii_rule: muse_losses::RadiiRule::default(),
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
    fn the_64_px_preset_gives_every_method_the_same_pixels_per_loop_and_the_same_bn_terms() {
        let pixels = |m: Method| {
            let g = preset("fashion-mnist-64", m, 0.01).unwrap().generation;
            assert_eq!(g.bn_skip_last, 5, "{m:?}: layer 4 out of L_BN");
            g.resolutions
                .iter()
                .zip(&g.batch_sizes)
                .map(|(r, b)| r * r * b)
                .sum::<usize>() as f64
        };
        let nayer = pixels(Method::Nayer);
        assert_eq!(nayer, (64 * 64 * 64) as f64);
        assert_eq!(pixels(Method::MuseS), nayer);
        // 57 × 48² rounds 56.9 images: within one image of equal.
        assert!((pixels(Method::Muse) - nayer).abs() <= (48 * 48) as f64);
        // Other presets keep every BatchNorm.
        let c = preset("fashion-mnist", Method::Muse, 0.02).unwrap();
        assert_eq!(c.generation.bn_skip_last, 0);
        assert_eq!(
            preset("fashion-mnist", Method::MuseS, 0.02)
                .unwrap()
                .generation
                .batch_sizes,
            vec![c.generation.batch_sizes[0]]
        );
    }

    #[test]
    fn table_6_resolutions_and_nayer_scripts() {
        let c = preset("cifar10", Method::Muse, 0.1).unwrap();
        assert_eq!(c.generation.resolutions, vec![28, 32]);
        assert_eq!(c.generation.batch_sizes, vec![130, 100]);
        assert!(c.generation.spectral_norm);
        assert_eq!(c.generation.weights.adv, 1.3);
        // NAYER's run/nayer_200.sh, CIFAR-10 resnet34 → resnet18.
        let n = preset("cifar10", Method::Nayer, 0.1).unwrap();
        assert_eq!(n.generation.resolutions, vec![32]);
        assert_eq!(n.generation.batch_sizes, vec![400]);
        assert!(!n.generation.spectral_norm);
        assert_eq!(n.generation.weights.adv, 1.33);
        assert_eq!(
            (n.generation.iterations, n.generation.warmup_iterations),
            (2, Some(10))
        );
        assert_eq!((n.generation.steps, n.generation.reinit_every), (30, 10));
        assert_eq!((n.epochs, n.warmup_epochs), (220, 20));
        assert_eq!(
            (n.student_training.steps, n.student_training.batch_size),
            (400, 512)
        );
        assert_eq!(n.student_training.optimizer.lr(), 0.2);
        assert_eq!(
            preset("cifar100", Method::Nayer, 0.1)
                .unwrap()
                .generation
                .steps,
            40
        );
        // Student steps are a plain count, whatever the ratio.
        let a = preset("fashion-mnist", Method::Nayer, 0.01).unwrap();
        let b = preset("fashion-mnist", Method::Nayer, 0.05).unwrap();
        assert_eq!(a.student_training.steps, b.student_training.steps);
        let s = preset("imagenet", Method::MuseS, 0.01).unwrap();
        assert_eq!(s.generation.resolutions, vec![112]);
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
