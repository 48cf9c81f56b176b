//! Small constructors shared by every family of the zoo.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use muse_kernels::conv2d_module;

use crate::taps::{TapRecorder, bn_forward};

/// A convolution (bias-free unless built by `biased`) followed by a BatchNorm, no activation.
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution.
    pub conv: Conv2d,
    /// Its BatchNorm.
    pub bn: BatchNorm,
}

impl ConvBn {
    /// `channels = [in, out]`, square `kernel`, `stride`, symmetric `padding`, `groups`.
    pub(crate) fn new(
        channels: [usize; 2],
        kernel: usize,
        stride: usize,
        padding: usize,
        groups: usize,
        device: &Device,
    ) -> Self {
        Self {
            conv: conv(channels, kernel, stride, padding, groups, device),
            bn: bn(channels[1], device),
        }
    }

    /// As [`ConvBn::new`], with a bias on the convolution (the DFKD zoo's VGG has one).
    pub(crate) fn biased(channels: [usize; 2], device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new(channels, [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            bn: bn(channels[1], device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, in, h, w]`
    /// - output: `[batch, out, h', w']`
    pub fn forward(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        bn_forward(&self.bn, conv2d_module(&self.conv, x), rec)
    }
}

/// A bias-free square convolution, as every architecture here uses before a BatchNorm.
pub(crate) fn conv(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    padding: usize,
    groups: usize,
    device: &Device,
) -> Conv2d {
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_groups(groups)
        .with_bias(false)
        .init(device)
}

/// A BatchNorm2d with PyTorch's defaults (eps 1e-5, momentum 0.1).
pub(crate) fn bn(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// The classifier on top of global pooling.
pub(crate) fn head(embedding_dim: usize, num_classes: usize, device: &Device) -> Linear {
    LinearConfig::new(embedding_dim, num_classes).init(device)
}

/// A square max-pool.
pub(crate) fn max_pool(kernel: usize, stride: usize, padding: usize, ceil: bool) -> MaxPool2d {
    MaxPool2dConfig::new([kernel, kernel])
        .with_strides([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_ceil_mode(ceil)
        .init()
}

/// `min(max(x, 0), 6)`, MobileNetV2's activation.
pub(crate) fn relu6(x: Tensor<4>) -> Tensor<4> {
    x.clamp(0.0, 6.0)
}

/// Rounds `v` to the nearest multiple of `divisor`, never going below 90% of `v`
/// (torchvision's `_make_divisible`).
pub(crate) fn make_divisible(v: f64, divisor: usize) -> usize {
    let d = divisor as f64;
    let mut new_v = ((v + d / 2.0) / d).floor() * d;
    new_v = new_v.max(d);
    if new_v < 0.9 * v {
        new_v += d;
    }
    new_v as usize
}

/// Scales a channel count by a width multiplier, keeping at least one channel.
pub(crate) fn scaled(channels: usize, mult: f64) -> usize {
    ((channels as f64 * mult).round() as usize).max(1)
}
