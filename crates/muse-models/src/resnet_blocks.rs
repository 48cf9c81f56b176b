//! Residual blocks shared by the CIFAR and ImageNet ResNets. The shortcut projection is a 1×1
//! strided [`ConvBn`] (`shortcut` in the DFKD CIFAR zoo, `downsample` in torchvision).

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use muse_kernels::conv2d_module;

use crate::layers::{ConvBn, bn, conv};
use crate::taps::{TapRecorder, bn_forward, bn_relu_forward};

fn shortcut(projection: &Option<ConvBn>, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
    match projection {
        Some(p) => p.forward(x, rec),
        None => x,
    }
}

/// Two 3×3 convolutions with a residual connection (ResNet-18/34 and the CIFAR ResNets).
#[derive(Module, Debug)]
pub struct BasicBlock {
    /// First 3×3 convolution (carries the stride).
    pub conv1: Conv2d,
    /// BatchNorm after `conv1`.
    pub bn1: BatchNorm,
    /// Second 3×3 convolution.
    pub conv2: Conv2d,
    /// BatchNorm after `conv2`.
    pub bn2: BatchNorm,
    /// Projection when the shape changes.
    pub shortcut: Option<ConvBn>,
}

impl BasicBlock {
    /// Channel expansion of the block's output over its width.
    pub const EXPANSION: usize = 1;

    pub(crate) fn new(c_in: usize, width: usize, stride: usize, device: &Device) -> Self {
        let c_out = width * Self::EXPANSION;
        Self {
            conv1: conv([c_in, width], 3, stride, 1, 1, device),
            bn1: bn(width, device),
            conv2: conv([width, c_out], 3, 1, 1, 1, device),
            bn2: bn(c_out, device),
            shortcut: (stride != 1 || c_in != c_out)
                .then(|| ConvBn::new([c_in, c_out], 1, stride, 0, 1, device)),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, c_in, h, w]`
    /// - output: `[batch, width, h/stride, w/stride]`
    pub fn forward(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let out = bn_relu_forward(&self.bn1, conv2d_module(&self.conv1, x.clone()), rec);
        let out = bn_forward(&self.bn2, conv2d_module(&self.conv2, out), rec);
        relu(out + shortcut(&self.shortcut, x, rec))
    }
}

/// 1×1 → 3×3 (strided, torchvision v1.5) → 1×1 ×4 bottleneck (ResNet-50).
#[derive(Module, Debug)]
pub struct Bottleneck {
    /// 1×1 reduction.
    pub conv1: Conv2d,
    /// BatchNorm after `conv1`.
    pub bn1: BatchNorm,
    /// 3×3 convolution (carries the stride).
    pub conv2: Conv2d,
    /// BatchNorm after `conv2`.
    pub bn2: BatchNorm,
    /// 1×1 expansion.
    pub conv3: Conv2d,
    /// BatchNorm after `conv3`.
    pub bn3: BatchNorm,
    /// Projection when the shape changes.
    pub shortcut: Option<ConvBn>,
}

impl Bottleneck {
    /// Channel expansion of the block's output over its width.
    pub const EXPANSION: usize = 4;

    pub(crate) fn new(c_in: usize, width: usize, stride: usize, device: &Device) -> Self {
        let c_out = width * Self::EXPANSION;
        Self {
            conv1: conv([c_in, width], 1, 1, 0, 1, device),
            bn1: bn(width, device),
            conv2: conv([width, width], 3, stride, 1, 1, device),
            bn2: bn(width, device),
            conv3: conv([width, c_out], 1, 1, 0, 1, device),
            bn3: bn(c_out, device),
            shortcut: (stride != 1 || c_in != c_out)
                .then(|| ConvBn::new([c_in, c_out], 1, stride, 0, 1, device)),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, c_in, h, w]`
    /// - output: `[batch, 4·width, h/stride, w/stride]`
    pub fn forward(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        let out = bn_relu_forward(&self.bn1, conv2d_module(&self.conv1, x.clone()), rec);
        let out = bn_relu_forward(&self.bn2, conv2d_module(&self.conv2, out), rec);
        let out = bn_forward(&self.bn3, conv2d_module(&self.conv3, out), rec);
        relu(out + shortcut(&self.shortcut, x, rec))
    }
}

/// Either residual block.
#[derive(Module, Debug)]
pub enum ResBlock {
    /// Two 3×3 convolutions.
    Basic(BasicBlock),
    /// 1×1 / 3×3 / 1×1 bottleneck.
    Bottleneck(Bottleneck),
}

impl ResBlock {
    /// # Shapes
    /// - `x`: `[batch, c_in, h, w]`
    /// - output: `[batch, c_out, h/stride, w/stride]`
    pub fn forward(&self, x: Tensor<4>, rec: &mut TapRecorder) -> Tensor<4> {
        match self {
            Self::Basic(b) => b.forward(x, rec),
            Self::Bottleneck(b) => b.forward(x, rec),
        }
    }
}
