//! Distillation taps: what a classifier hands to the losses besides its logits.
//!
//! Burn has no forward hooks, so every model of the zoo threads a [`TapRecorder`] through its
//! forward pass and every `BatchNorm2d` reports the statistics of its input through
//! [`bn_forward`] (METHOD.md §3).

use burn::nn::BatchNorm;
use burn::tensor::Tensor;
use muse_kernels::{Activation, batch_norm_act, channel_moments};

/// Statistics of one `BatchNorm2d` layer for one forward pass.
///
/// `batch_mean` and `batch_var` are computed from the layer's *input* and stay in the autodiff
/// graph, so a loss on them (DeepInversion's BN loss) sends gradients back to whatever produced
/// the input. The running statistics are the layer's stored state, detached.
#[derive(Debug, Clone)]
pub struct BnTap {
    /// Per-channel mean of the layer input over batch and space. `[channels]`
    pub batch_mean: Tensor<1>,
    /// Per-channel biased variance (divides by `N·H·W`) of the layer input. `[channels]`
    pub batch_var: Tensor<1>,
    /// The layer's running mean. `[channels]`
    pub running_mean: Tensor<1>,
    /// The layer's running variance. `[channels]`
    pub running_var: Tensor<1>,
}

/// Whether a forward pass records BatchNorm input statistics.
///
/// Recording costs two extra reductions per BatchNorm layer, so forwards that do not feed the
/// BN-statistics loss (student training, evaluation) skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BnStats {
    /// Do not compute BatchNorm input statistics.
    #[default]
    Skip,
    /// Compute and return the statistics of every BatchNorm2d input, in forward order.
    Record,
}

/// Collects [`BnTap`]s during one forward pass.
#[derive(Debug, Default)]
pub struct TapRecorder {
    mode: BnStats,
    bn: Vec<BnTap>,
}

impl TapRecorder {
    /// A recorder in the given mode.
    pub fn new(mode: BnStats) -> Self {
        Self {
            mode,
            bn: Vec::new(),
        }
    }

    /// The BatchNorm taps recorded so far, in forward order.
    pub fn into_bn(self) -> Vec<BnTap> {
        self.bn
    }
}

/// Everything one forward pass of a [`Classifier`](crate::Classifier) gives a distillation
/// engine.
#[derive(Debug, Clone)]
pub struct Taps {
    /// Class scores. `[batch, num_classes]`
    pub logits: Tensor<2>,
    /// The penultimate embedding: the last feature map after global average pooling.
    /// `[batch, embedding_dim]`
    pub embedding: Tensor<2>,
    /// The last feature map before global pooling (CAM's `A`). `[batch, embedding_dim, h', w']`
    pub feature_map: Tensor<4>,
    /// The classifier weight in PyTorch orientation (CAM's `w`). `[num_classes, embedding_dim]`
    pub classifier_weight: Tensor<2>,
    /// One entry per BatchNorm2d in forward order; empty unless [`BnStats::Record`] was asked.
    pub bn: Vec<BnTap>,
}

/// Applies `bn` to `x`, recording the statistics of `x` when the recorder asks for them.
///
/// Normalisation follows the layer's state: batch statistics when it is training on an autodiff
/// device, running statistics when it is frozen or on a plain device.
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - output: same as `x`
pub fn bn_forward(bn: &BatchNorm, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
    bn_act_forward(bn, x, Activation::Identity, rec)
}

/// `relu(bn_forward(bn, x, rec))`, the ReLU fused into the batch norm's passes.
///
/// # Shapes
/// - `x`: `[batch, channels, height, width]`
/// - output: same as `x`
pub fn bn_relu_forward(bn: &BatchNorm, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
    bn_act_forward(bn, x, Activation::Relu, rec)
}

fn bn_act_forward(
    bn: &BatchNorm,
    x: Tensor<4>,
    act: Activation,
    rec: &mut TapRecorder,
) -> Tensor<4> {
    if rec.mode == BnStats::Record {
        let (mean, var) = channel_moments(x.clone());
        rec.bn.push(BnTap {
            batch_mean: mean,
            batch_var: var,
            running_mean: bn.running_mean.value().detach(),
            running_var: bn.running_var.value().detach(),
        });
    }
    batch_norm_act(bn, x, act)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::BatchNormConfig;
    use burn::tensor::TensorData;

    fn values(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn records_batch_mean_and_biased_variance_of_the_input() {
        let device = muse_device::device();
        // Two samples, two channels, 1×2 pixels.
        // channel 0 sees 1, 2, 3, 6 -> mean 3, biased var (4+1+0+9)/4 = 3.5
        // channel 1 sees 0, 0, 4, 4 -> mean 2, biased var (4+4+4+4)/4 = 4
        let x = Tensor::<4>::from_data(
            TensorData::new(
                vec![1.0f32, 2.0, 0.0, 0.0, 3.0, 6.0, 4.0, 4.0],
                [2, 2, 1, 2],
            ),
            &device,
        );
        let bn = BatchNormConfig::new(2).init(&device);
        let mut rec = TapRecorder::new(BnStats::Record);
        let out = bn_forward(&bn, x, &mut rec);
        assert_eq!(out.dims(), [2, 2, 1, 2]);
        let taps = rec.into_bn();
        assert_eq!(taps.len(), 1);
        assert_eq!(values(taps[0].batch_mean.clone()), vec![3.0, 2.0]);
        assert_eq!(values(taps[0].batch_var.clone()), vec![3.5, 4.0]);
        assert_eq!(values(taps[0].running_mean.clone()), vec![0.0, 0.0]);
        assert_eq!(values(taps[0].running_var.clone()), vec![1.0, 1.0]);
    }

    #[test]
    fn skip_mode_records_nothing() {
        let device = muse_device::device();
        let bn = BatchNormConfig::new(3).init(&device);
        let mut rec = TapRecorder::new(BnStats::Skip);
        bn_forward(&bn, Tensor::<4>::ones([2, 3, 4, 4], &device), &mut rec);
        assert!(rec.into_bn().is_empty());
    }
}
