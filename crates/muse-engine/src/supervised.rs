//! Supervised training on real data: how users (and the examples) make a teacher.
//!
//! AdamW with cosine learning-rate decay per step, random crop with padding or a random resized
//! crop (and optionally horizontal flip) on every batch, optionally multi-scale inputs, cross
//! entropy on normalised inputs.

use burn::config::Config;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};
use muse_data::{
    ImageDataset, Normalization, batch_indices, random_crop_flip, random_resized_crop,
};
use muse_losses::cross_entropy;
use muse_models::Classifier;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::EngineError;
use crate::observer::Observer;

/// Hyper-parameters of [`train_supervised`].
#[derive(Config, Debug)]
pub struct SupervisedConfig {
    /// Passes over the training set.
    #[config(default = 5)]
    pub epochs: usize,
    /// Samples per step.
    #[config(default = 128)]
    pub batch_size: usize,
    /// Peak learning rate (decays to 0 with a cosine over all steps).
    #[config(default = 2e-3)]
    pub lr: f64,
    /// AdamW's decoupled weight decay.
    #[config(default = 5e-4)]
    pub weight_decay: f32,
    /// Zero padding of the random crop (0 turns cropping off).
    #[config(default = 2)]
    pub crop_padding: usize,
    /// Random horizontal flips.
    #[config(default = false)]
    pub flip: bool,
    /// ImageNet-style scale augmentation: a random resized crop (torchvision's
    /// `RandomResizedCrop`) covering between this fraction of the image and all of it, resized
    /// back to the data's side, instead of the padded crop. `None`: padded crops.
    #[config(default = "None")]
    pub resized_crop_min_scale: Option<f64>,
    /// Multi-scale training: with probability ½ a batch is resampled (bilinear) to a random
    /// side between this and the data's side (a multiple of 4) and fed at that side, so the
    /// classifier also recognises lower-resolution inputs, which MUSE's low-resolution
    /// generation assumes of a teacher. `None`: every batch at the data's side.
    #[config(default = "None")]
    pub min_side: Option<usize>,
    /// Seed of the shuffling and augmentation.
    #[config(default = 0)]
    pub seed: u64,
}

impl SupervisedConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |field, reason: &str| {
            Err(EngineError::InvalidConfig {
                field,
                reason: reason.into(),
            })
        };
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self
            .resized_crop_min_scale
            .is_some_and(|m| !(m.is_finite() && m > 0.0 && m <= 1.0))
        {
            return bad("resized_crop_min_scale", "must be in (0, 1]");
        }
        if self.min_side.is_some_and(|m| m < 4) {
            return bad("min_side", "must be at least 4");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", "must be positive and finite");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight_decay", "must be non-negative and finite");
        }
        Ok(())
    }
}

/// Cosine decay from `peak` at step 0 to 0 after `total` steps.
pub fn cosine_lr(peak: f64, step: usize, total: usize) -> f64 {
    let t = step as f64 / total.max(1) as f64;
    peak * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

/// Trains `model` (on an autodiff `device`) on `train`, returning it with the mean loss of
/// every epoch. Stops with [`EngineError::NonFinite`] if the loss diverges.
pub fn train_supervised<M: Classifier>(
    mut model: M,
    train: &ImageDataset,
    normalization: &Normalization,
    config: &SupervisedConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<(M, Vec<f32>), EngineError> {
    config.validate()?;
    normalization.validate()?;
    crate::evaluate::check_fits(&model, train)?;
    let mut optim = AdamWConfig::new()
        .with_epsilon(1e-8)
        .with_weight_decay(config.weight_decay)
        .init();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let steps_per_epoch = train.len().div_ceil(config.batch_size);
    let total = steps_per_epoch * config.epochs;
    let mut epoch_losses = Vec::with_capacity(config.epochs);
    for epoch in 0..config.epochs {
        let batches = batch_indices(
            train.len(),
            config.batch_size,
            Some(config.seed.wrapping_add(epoch as u64)),
            false,
        );
        observer.phase_started(
            &format!("epoch {}/{}", epoch + 1, config.epochs),
            batches.len(),
        );
        let mut sum = 0.0f64;
        for (step, idx) in batches.iter().enumerate() {
            let (x, y) = train.batch(idx, device)?;
            let x = match config.resized_crop_min_scale {
                Some(min_scale) => random_crop_flip(
                    random_resized_crop(x, min_scale, &mut rng),
                    0,
                    config.flip,
                    &mut rng,
                ),
                None => random_crop_flip(x, config.crop_padding, config.flip, &mut rng),
            };
            let x = match config.min_side {
                Some(min) => random_rescale(x, min, &mut rng),
                None => x,
            };
            let logits = model.forward(normalization.apply(x)?);
            let loss = cross_entropy(logits, y)?;
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(EngineError::NonFinite {
                    loss: "cross-entropy",
                    value,
                    epoch,
                    step,
                });
            }
            sum += value as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let lr = cosine_lr(config.lr, epoch * steps_per_epoch + step, total);
            model = optim.step(lr, model, grads);
            observer.step(Some(value));
        }
        observer.phase_finished();
        epoch_losses.push((sum / batches.len() as f64) as f32);
    }
    Ok((model, epoch_losses))
}

/// With probability ½, `x` resampled to a random side in `[min, side]` (multiples of 4).
///
/// # Shapes
/// - `x`: `[batch, c, side, side]` → `[batch, c, s, s]`
fn random_rescale(x: Tensor<4>, min: usize, rng: &mut impl Rng) -> Tensor<4> {
    let side = x.dims()[2];
    if min >= side || rng.random_bool(0.5) {
        return x;
    }
    let (lo, hi) = (min.div_ceil(4), side / 4);
    if lo > hi {
        return x;
    }
    let s = 4 * rng.random_range(lo..=hi);
    if s == side {
        return x;
    }
    interpolate(
        x,
        InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(false)
            .with_output_size([s, s]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_rescale_picks_multiples_of_four_in_range_or_keeps_the_batch() {
        let device = muse_device::device();
        let x = Tensor::<4>::ones([2, 1, 16, 16], &device);
        let mut rng = StdRng::seed_from_u64(3);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..60 {
            let y = random_rescale(x.clone(), 8, &mut rng);
            let [b, c, h, w] = y.dims();
            assert_eq!((b, c, h), (2, 1, w));
            seen.insert(h);
            // Bilinear resampling of a constant image is the constant.
            let v: f32 = y.mean().into_scalar();
            assert!((v - 1.0).abs() < 1e-5);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![8, 12, 16]);
        // No multiple of 4 in [29, 30]: the batch is kept, nothing panics.
        let odd = Tensor::<4>::ones([1, 1, 30, 30], &device);
        for _ in 0..10 {
            assert_eq!(
                random_rescale(odd.clone(), 29, &mut rng).dims(),
                [1, 1, 30, 30]
            );
        }
        assert!(
            SupervisedConfig::new()
                .with_min_side(Some(2))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn resized_crop_scales_outside_zero_to_one_are_named() {
        for bad in [0.0, -0.5, 1.5, f64::NAN] {
            let err = SupervisedConfig::new()
                .with_resized_crop_min_scale(Some(bad))
                .validate()
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    EngineError::InvalidConfig {
                        field: "resized_crop_min_scale",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
        for good in [0.08, 1.0] {
            let config = SupervisedConfig::new().with_resized_crop_min_scale(Some(good));
            assert!(config.validate().is_ok());
        }
    }
    use crate::evaluate::evaluate;
    use crate::observer::Silent;
    use muse_models::{Arch, ClassifierConfig};

    /// Two classes that differ in brightness: left half bright vs right half bright.
    fn toy(n: usize) -> ImageDataset {
        let mut px = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let label = i % 2;
            for _r in 0..8 {
                for col in 0..8 {
                    let bright = (col < 4) == (label == 0);
                    px.push(if bright { 220 } else { 30 } + (i % 7) as u8);
                }
            }
            labels.push(label);
        }
        ImageDataset::new(
            px,
            labels,
            [1, 8, 8],
            vec!["l".into(), "r".into()],
            "toy".into(),
        )
        .unwrap()
    }

    #[test]
    fn learns_a_separable_toy_problem_and_the_loss_falls() {
        let device = muse_device::autodiff_device();
        let model = ClassifierConfig::new(Arch::LeNet5, 2)
            .with_in_channels(1)
            .init(&device)
            .unwrap();
        let data = toy(64);
        let norm = Normalization::identity(1);
        let cfg = SupervisedConfig::new()
            .with_epochs(10)
            .with_batch_size(16)
            .with_lr(5e-3)
            .with_crop_padding(0);
        let (model, losses) =
            train_supervised(model, &data, &norm, &cfg, &device, &mut Silent).unwrap();
        assert!(losses[9] < losses[0] * 0.5, "{losses:?}");
        let acc = evaluate(&model, &data, &norm, 32, &device, &mut Silent).unwrap();
        // Eval mode uses running statistics, which lag after 40 steps: allow a few misses.
        assert!(acc.top1 >= 0.9, "top-1 {}", acc.top1);
    }

    #[test]
    fn invalid_configs_and_mismatched_data_are_named() {
        let device = muse_device::autodiff_device();
        let model = || {
            ClassifierConfig::new(Arch::LeNet5, 3)
                .with_in_channels(1)
                .init(&device)
                .unwrap()
        };
        let norm = Normalization::identity(1);
        let err = train_supervised(
            model(),
            &toy(4),
            &norm,
            &SupervisedConfig::new(),
            &device,
            &mut Silent,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("3 classes") && err.contains("2"), "{err}");
        let cfg = SupervisedConfig::new().with_lr(-1.0);
        let err = train_supervised(model(), &toy(4), &norm, &cfg, &device, &mut Silent)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`lr`"), "{err}");
    }

    #[test]
    fn cosine_schedule_by_hand() {
        assert_eq!(cosine_lr(1.0, 0, 10), 1.0);
        assert!((cosine_lr(1.0, 5, 10) - 0.5).abs() < 1e-12);
        assert!(cosine_lr(1.0, 10, 10).abs() < 1e-12);
    }
}
